//! The state directory: `<root>/{ostree/repo, journal, store}` and its process-wide lock.

use crate::error::CliError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The marker that says a directory is particle's.
const MARKER: &str = "particle-state";

/// An opened state directory.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) root: PathBuf,
}

impl State {
    pub(crate) fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }

    /// Opens `root`, which must have been made by `particle init`.
    pub(crate) fn open(root: &Path) -> Result<Self, CliError> {
        if !root.join(MARKER).exists() {
            let what = if root.exists() {
                "is not a particle state directory"
            } else {
                "does not exist"
            };
            return Err(
                CliError::new("not_a_state_dir", format!("{} {what}", root.display()))
                    .hint("create it with `particle init`, or pass --root / set PARTICLE_ROOT"),
            );
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    /// Creates the state directory layout (idempotent).
    pub(crate) fn create(root: &Path) -> Result<Self, CliError> {
        let io = |what: &str, p: &Path, e: std::io::Error| {
            CliError::new("io", format!("could not {what} {}: {e}", p.display()))
        };
        std::fs::create_dir_all(root).map_err(|e| io("create", root, e))?;
        let marker = root.join(MARKER);
        if !marker.exists() {
            std::fs::write(&marker, "particle state directory, format 1\n")
                .map_err(|e| io("write", &marker, e))?;
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    /// Takes the process-wide lock for a mutating command; fails at once if another holds it.
    pub(crate) fn lock(&self) -> Result<StateLock, CliError> {
        let path = self.root.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                CliError::new(
                    "io",
                    format!("could not open lock file {}: {e}", path.display()),
                )
            })?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(StateLock { _file: file }),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(CliError::new(
                "locked",
                format!(
                    "{} is locked by another particle process",
                    self.root.display()
                ),
            )
            .hint("wait for the other transaction to finish")),
            Err(e) => Err(CliError::new(
                "io",
                format!("could not lock {}: {e}", path.display()),
            )),
        }
    }
}

/// Held for the duration of a mutating command.
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: File,
}
