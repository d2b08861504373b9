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
pub struct StateDir {
    pub root: PathBuf,
    /// Set for a machine's own state directory (`/var/lib/particle` of a sysroot): its
    /// repository is the sysroot's, and its transactions end in a deployment.
    pub machine: Option<Machine>,
}

impl StateDir {
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
pub fn variants(state: &StateDir) -> Result<Vec<String>> {
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
pub fn declare_variant(state: &StateDir, name: &str) -> Result<()> {
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
pub fn lock(state: &StateDir) -> Result<journal::Lock> {
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
        .hint(crate::READ_ONLY_HINT),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_particle_did_not_make_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = StateDir::open(dir.path()).expect_err("not a state directory");
        assert_eq!(e.kind(), ErrorKind::NotAStateDir);
        assert!(e.message().ends_with("is not a particle state directory"));
        assert!(e.hint_text().is_some_and(|h| h.contains("particle init")));
        let e = StateDir::open(&dir.path().join("missing")).expect_err("missing");
        assert!(e.message().ends_with("does not exist"));
    }

    #[test]
    fn create_is_idempotent_and_declared_variants_are_kept_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("state");
        let s = StateDir::create(&root).expect("create");
        StateDir::create(&root).expect("again");
        let s2 = StateDir::open(&root).expect("open");
        assert_eq!(s2.machine, None, "a build host's state directory");
        assert_eq!(s.repo(), root.join("ostree/repo"));
        assert!(variants(&s).expect("variants").is_empty());
        declare_variant(&s, "base").expect("declare");
        declare_variant(&s, "apex").expect("declare");
        declare_variant(&s, "base").expect("declare again");
        assert_eq!(variants(&s).expect("variants"), ["base", "apex"]);
    }

    #[test]
    fn a_second_writer_is_refused_while_the_lock_is_held() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = StateDir::create(dir.path()).expect("create");
        let held = lock(&s).expect("lock");
        let e = lock(&s).expect_err("held");
        assert_eq!(e.kind(), ErrorKind::Locked);
        drop(held);
        lock(&s).expect("free again");
    }

    #[test]
    fn a_machine_marker_outside_a_sysroot_is_refused_unless_booted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("state");
        StateDir::create(&root).expect("create");
        std::fs::write(root.join(MACHINE_FILE), "stateroot=particle-os\n").expect("marker");
        if !machine::booted_system() {
            let e = StateDir::open(&root).expect_err("not in a sysroot");
            assert_eq!(e.kind(), ErrorKind::NoSysroot);
        }
        std::fs::write(root.join(MACHINE_FILE), "nothing\n").expect("marker");
        let e = StateDir::open(&root).expect_err("no stateroot");
        assert_eq!(e.kind(), ErrorKind::NotAStateDir);

        // Where a sysroot's stateroot keeps it: the sysroot is found from the path.
        let sysroot = dir.path().join("sysroot");
        let inside = state_dir_of(&sysroot, "particle-os");
        StateDir::create(&inside).expect("create");
        std::fs::write(inside.join(MACHINE_FILE), "stateroot=particle-os\n").expect("marker");
        let m = StateDir::open(&inside)
            .expect("open")
            .machine
            .expect("a machine");
        assert_eq!(
            (m.sysroot, m.stateroot.as_str(), m.booted),
            (
                std::fs::canonicalize(&sysroot).expect("sysroot"),
                "particle-os",
                false
            )
        );
    }
}
