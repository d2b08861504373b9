//! The process-wide writer lock: `flock(LOCK_EX | LOCK_NB)` on `<state dir>/lock`.
//!
//! The kernel releases a `flock` when the holding process exits, however it exits (including
//! `kill -9`), so a stale lock can never block the next writer.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

/// The lock file's name inside the state directory.
const LOCK_FILE: &str = "lock";

/// Held for the whole of a mutating command; released on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    // Kept open: closing the last descriptor releases the flock.
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it: fail at once rather than wait.
    #[error("another particle process holds the lock {path}; wait for it to finish and retry")]
    Held { path: PathBuf },
    #[error("could not take the lock {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl Lock {
    /// Takes the exclusive lock on `dir/lock` (creating `dir` and the file if needed), failing
    /// immediately with [`LockError::Held`] if another open file description holds it.
    pub fn acquire(dir: &Path) -> Result<Lock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(dir).map_err(io_err)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Lock { path, _file: file }),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(LockError::Held { path }),
            Err(e) => Err(io_err(e.into())),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_at_once_and_succeeds_after_release() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Lock::acquire(dir.path()).expect("first lock");
        let second = Lock::acquire(dir.path());
        assert!(matches!(second, Err(LockError::Held { .. })), "{second:?}");
        drop(first);
        let third = Lock::acquire(dir.path());
        assert!(third.is_ok(), "{third:?}");
    }
}
