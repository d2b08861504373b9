//! The state directory: `<root>/{ostree/repo, journal, store}`, its process-wide lock, the
//! variants declared in it, and whether it is a machine's own (`/var/lib/particle` of an OSTree
//! sysroot's stateroot, kept across deployments; its repository is the sysroot's
//! `ostree/repo`). See docs/architecture.md and docs/delivery.md, "A machine's journal".

use crate::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};

/// The marker that says a directory is particle's.
const MARKER: &str = "particle-state";

/// An opened state directory.
#[derive(Debug)]
pub struct State {
    pub root: PathBuf,
    /// Set for a machine's own state directory (`/var/lib/particle` of a sysroot): its
    /// repository is the sysroot's, and its transactions end in a deployment.
    pub machine: Option<Machine>,
}

impl State {
    pub fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }

    /// The OSTree repository commits are written to: `<root>/ostree/repo` on a build host, the
    /// sysroot's own `ostree/repo` on a machine.
    pub fn repo(&self) -> PathBuf {
        match &self.machine {
            Some(m) => m.repo(),
            None => self.root.join("ostree/repo"),
        }
    }

    /// Opens `root`, which must have been made by `particle init`.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.join(MARKER).exists() {
            let what = if root.exists() {
                "is not a particle state directory"
            } else {
                "does not exist"
            };
            return Err(Error::new(
                ErrorKind::NotAStateDir,
                format!("{} {what}", root.display()),
            )
            .hint("create it with `particle init`, or pass --root / set PARTICLE_ROOT"));
        }
        Ok(Self {
            root: root.to_owned(),
            machine: detect(root)?,
        })
    }

    /// Creates the state directory layout (idempotent).
    pub fn create(root: &Path) -> Result<Self> {
        let io = |what: &str, p: &Path, e: std::io::Error| io_error(root, p, what, &e);
        std::fs::create_dir_all(root).map_err(|e| io("create", root, e))?;
        let marker = root.join(MARKER);
        if !marker.exists() {
            std::fs::write(&marker, "particle state directory, format 1\n")
                .map_err(|e| io("write", &marker, e))?;
        }
        Ok(Self {
            root: root.to_owned(),
            machine: None,
        })
    }
}

/// The variants declared with `init` or `variant create` (the journal holds every variant that
/// has a transaction; this list only adds the ones that do not have one yet).
pub fn variants(state: &State) -> Result<Vec<String>> {
    let path = state.root.join("variants");
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(t
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("could not read {}: {e}", path.display()),
        )),
    }
}

/// Declares a variant (idempotent).
pub fn declare_variant(state: &State, name: &str) -> Result<()> {
    let mut v = variants(state)?;
    if v.iter().any(|n| n == name) {
        return Ok(());
    }
    v.push(name.to_owned());
    // Temp file beside it, fsync, rename, fsync the directory (the rename is durable too).
    let path = state.root.join("variants");
    store::write_atomic(&path, (v.join("\n") + "\n").as_bytes()).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("could not write {}: {e}", path.display()),
        )
        .with_source(e)
    })
}

/// Takes the process-wide writer lock (the journal's `flock` on `<root>/lock`); fails at once,
/// with kind `locked`, if another particle process holds it.
pub fn lock(state: &State) -> Result<journal::Lock> {
    journal::Lock::acquire(&state.root).map_err(|e| match e {
        journal::LockError::Held { .. } => Error::new(
            ErrorKind::Locked,
            format!(
                "{} is locked by another particle process",
                state.root.display()
            ),
        )
        .hint("wait for the other transaction to finish"),
        journal::LockError::Io { path, source } => io_error(&state.root, &path, "lock", &source),
    })
}

/// What to do about a read-only state directory.
pub const READ_ONLY_HINT: &str =
    "remount it read-write, or work on a copy with --root (reading commands work on it as it is)";

/// An I/O failure on the state directory as one line: read-only file systems and missing
/// permissions get their own kinds and hints, because they are the user's to fix.
pub fn io_error(root: &Path, path: &Path, action: &str, e: &std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => Error::new(
            ErrorKind::ReadOnly,
            format!(
                "{} is on a read-only file system: could not {action} {}",
                root.display(),
                path.display()
            ),
        )
        .hint(READ_ONLY_HINT),
        std::io::ErrorKind::PermissionDenied => Error::new(
            ErrorKind::Permission,
            format!("could not {action} {}: permission denied", path.display()),
        )
        .hint("run as a user who may write to the state directory (e.g. with sudo)"),
        _ => Error::new(
            ErrorKind::Io,
            format!("could not {action} {}: {e}", path.display()),
        ),
    }
}

/// The file that marks a state directory as a machine's: `stateroot=NAME`.
pub const MACHINE_FILE: &str = "machine";

/// Where a machine's state directory sits in its stateroot's `/var`.
const IN_VAR: &str = "lib/particle";

/// The sysroot a machine state directory belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub sysroot: PathBuf,
    pub stateroot: String,
    /// The sysroot is the running system: new deployments are staged, and ostree finalizes
    /// them at shutdown.
    pub booted: bool,
}

impl Machine {
    pub fn repo(&self) -> PathBuf {
        self.sysroot.join("ostree/repo")
    }
}

/// The directory of a deployment of `commit` in the machine's sysroot, if one has it.
pub fn deployment_of(m: &Machine, commit: &str) -> Option<PathBuf> {
    machine::deployments(&m.sysroot)
        .ok()?
        .into_iter()
        .find(|d| d.commit == commit && d.path.is_dir())
        .map(|d| d.path)
}

/// `<sysroot>/ostree/deploy/<stateroot>/var/lib/particle`.
pub fn state_dir_of(sysroot: &Path, stateroot: &str) -> PathBuf {
    sysroot
        .join("ostree/deploy")
        .join(stateroot)
        .join("var")
        .join(IN_VAR)
}

/// Whether `sysroot` is `/` of the OSTree system this process runs on.
pub fn is_running_root(sysroot: &Path) -> bool {
    machine::booted_system() && std::fs::canonicalize(sysroot).is_ok_and(|p| p == Path::new("/"))
}

/// The state directory `--sysroot DIR` acts on: that of the stateroot of DIR's default
/// deployment, or `/var/lib/particle` when DIR is `/` of the running system.
pub fn root_for(sysroot: &Path) -> Result<PathBuf> {
    if is_running_root(sysroot) {
        return Ok(PathBuf::from("/var").join(IN_VAR));
    }
    let list = machine::deployments(sysroot)?;
    let first = list.first().ok_or_else(|| {
        Error::new(
            ErrorKind::NoSysroot,
            format!("the sysroot {} has no deployment", sysroot.display()),
        )
        .hint("deploy a variant into it first: `particle deploy --sysroot DIR`")
    })?;
    Ok(state_dir_of(sysroot, &first.stateroot))
}

/// Reads the machine marker of `root`: `Some` for a machine state directory, with the sysroot
/// found from where the directory sits (offline) or `/` (on the running system).
pub fn detect(root: &Path) -> Result<Option<Machine>> {
    let path = root.join(MACHINE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(root, &path, "read", &e)),
    };
    let stateroot = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("stateroot="))
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotAStateDir,
                format!("{} names no stateroot", path.display()),
            )
        })?;
    let canonical =
        std::fs::canonicalize(root).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    let tail = Path::new("ostree/deploy")
        .join(&stateroot)
        .join("var")
        .join(IN_VAR);
    let prefix = canonical
        .ancestors()
        .nth(tail.components().count())
        .filter(|_| canonical.ends_with(&tail))
        .map(Path::to_path_buf);
    let running = machine::booted_system();
    let machine = match prefix {
        Some(p) if !(running && p == Path::new("/sysroot")) => Machine {
            sysroot: p,
            stateroot,
            booted: false,
        },
        _ if running => Machine {
            sysroot: PathBuf::from("/"),
            stateroot,
            booted: true,
        },
        _ => {
            return Err(Error::new(
                ErrorKind::NoSysroot,
                format!(
                    "{} is a machine's state directory, but it is not inside an OSTree sysroot and this system did not boot from one",
                    root.display()
                ),
            )
            .hint("pass the sysroot with --sysroot DIR"))
        }
    };
    Ok(Some(machine))
}
