//! The state directory: `<root>/{ostree/repo, journal, store}` and its process-wide lock.

use crate::error::CliError;
use engine::ErrorKind;
use std::path::{Path, PathBuf};

/// The marker that says a directory is particle's.
const MARKER: &str = "particle-state";

/// An opened state directory.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) root: PathBuf,
    /// Set for a machine's own state directory (`/var/lib/particle` of a sysroot): its
    /// repository is the sysroot's, and its transactions end in a deployment.
    pub(crate) machine: Option<crate::machine_state::Machine>,
}

impl State {
    pub(crate) fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }

    /// The OSTree repository commits are written to: `<root>/ostree/repo` on a build host, the
    /// sysroot's own `ostree/repo` on a machine.
    pub(crate) fn repo(&self) -> PathBuf {
        match &self.machine {
            Some(m) => m.repo(),
            None => self.root.join("ostree/repo"),
        }
    }

    /// Opens `root`, which must have been made by `particle init`.
    pub(crate) fn open(root: &Path) -> Result<Self, CliError> {
        if !root.join(MARKER).exists() {
            let what = if root.exists() {
                "is not a particle state directory"
            } else {
                "does not exist"
            };
            return Err(CliError::new(
                ErrorKind::NotAStateDir,
                format!("{} {what}", root.display()),
            )
            .hint("create it with `particle init`, or pass --root / set PARTICLE_ROOT"));
        }
        Ok(Self {
            root: root.to_owned(),
            machine: crate::machine_state::detect(root)?,
        })
    }

    /// Creates the state directory layout (idempotent).
    pub(crate) fn create(root: &Path) -> Result<Self, CliError> {
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
pub(crate) fn variants(state: &State) -> Result<Vec<String>, CliError> {
    let path = state.root.join("variants");
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(t
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(CliError::new(
            ErrorKind::Io,
            format!("could not read {}: {e}", path.display()),
        )),
    }
}

/// Declares a variant (idempotent).
pub(crate) fn declare_variant(state: &State, name: &str) -> Result<(), CliError> {
    let mut v = variants(state)?;
    if v.iter().any(|n| n == name) {
        return Ok(());
    }
    v.push(name.to_owned());
    // Temp file beside it, fsync, rename, fsync the directory (the rename is durable too).
    let path = state.root.join("variants");
    store::write_atomic(&path, (v.join("\n") + "\n").as_bytes()).map_err(|e| {
        crate::error::classify(
            ErrorKind::Io,
            format!("could not write {}: {e}", path.display()),
            &e,
        )
    })
}

/// Takes the process-wide writer lock (the journal's `flock` on `<root>/lock`); fails at once,
/// with kind `locked`, if another particle process holds it.
pub(crate) fn lock(state: &State) -> Result<journal::Lock, CliError> {
    journal::Lock::acquire(&state.root).map_err(|e| match e {
        journal::LockError::Held { .. } => CliError::new(
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
pub(crate) const READ_ONLY_HINT: &str =
    "remount it read-write, or work on a copy with --root (reading commands work on it as it is)";

/// An I/O failure on the state directory as one line: read-only file systems and missing
/// permissions get their own kinds and hints, because they are the user's to fix.
pub(crate) fn io_error(root: &Path, path: &Path, action: &str, e: &std::io::Error) -> CliError {
    match e.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => CliError::new(
            ErrorKind::ReadOnly,
            format!(
                "{} is on a read-only file system: could not {action} {}",
                root.display(),
                path.display()
            ),
        )
        .hint(READ_ONLY_HINT),
        std::io::ErrorKind::PermissionDenied => CliError::new(
            ErrorKind::Permission,
            format!("could not {action} {}: permission denied", path.display()),
        )
        .hint("run as a user who may write to the state directory (e.g. with sudo)"),
        _ => CliError::new(
            ErrorKind::Io,
            format!("could not {action} {}: {e}", path.display()),
        ),
    }
}
