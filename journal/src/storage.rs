//! The narrow storage trait the journal writes through, the real file backend, and a
//! fault-injecting in-memory backend for crash tests.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// An append-only byte log. `append` may be buffered; only `sync` makes bytes durable.
pub trait Storage {
    /// The whole current content (what a reader after a crash would see, plus unsynced bytes).
    fn read_all(&mut self) -> io::Result<Vec<u8>>;
    /// Appends `bytes` at the end. Not durable until [`Storage::sync`] returns.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes every appended byte durable.
    fn sync(&mut self) -> io::Result<()>;
    /// Cuts the log to `len` bytes (dropping a torn tail) and makes that durable.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
    /// A name for error messages (the file path).
    fn describe(&self) -> String;
}

/// The real backend: one append-only file, `fdatasync` after each append.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    file: File,
}

/// The file name of the record log inside the journal directory.
pub(crate) const RECORDS_FILE: &str = "records";

impl FileStorage {
    /// Opens (creating if needed) `dir/records`. A newly created file and directory entry are
    /// made durable (fsync of the file and of `dir`) before this returns.
    pub fn open(dir: &Path) -> io::Result<FileStorage> {
        fs::create_dir_all(dir)?;
        let path = dir.join(RECORDS_FILE);
        let (file, created) = match OpenOptions::new().read(true).append(true).open(&path) {
            Ok(f) => (f, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let f = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .open(&path)?;
                (f, true)
            }
            Err(e) => return Err(e),
        };
        if created {
            file.sync_all()?;
            File::open(dir)?.sync_all()?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                // The journal directory itself may have just been created.
                File::open(parent)?.sync_all()?;
            }
        }
        Ok(FileStorage { path, file })
    }

    /// The records file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Storage for FileStorage {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        let mut f = File::open(&self.path)?;
        f.read_to_end(&mut buf)?;
        Ok(buf)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        // One write call per record: with O_APPEND the kernel places it at the end.
        self.file.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        // fdatasync also flushes the file size, which is all an append changes.
        self.file.sync_data()
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)?;
        self.file.sync_all()
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// A fault to inject into [`FaultyStorage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next `sync` fails (and the pending bytes stay pending).
    SyncError,
    /// The next `append` fails after writing nothing.
    AppendError,
}

#[derive(Debug, Default)]
struct FaultyState {
    /// Bytes a crash can no longer lose.
    durable: Vec<u8>,
    /// Appended but not yet synced: a crash keeps an arbitrary part of these.
    pending: Vec<u8>,
    faults: Vec<Fault>,
}

/// An in-memory backend that models a disk with a volatile cache, for crash tests.
///
/// Clones share the same "disk", so a test can keep a handle, let a journal write through
/// another, then [`FaultyStorage::crash`] and reopen.
#[derive(Debug, Clone, Default)]
pub struct FaultyStorage {
    state: Arc<Mutex<FaultyState>>,
}

/// What survives of the unsynced bytes when [`FaultyStorage::crash`] happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashKeep {
    /// The first `n` pending bytes reached the disk (a write cut short).
    Prefix(usize),
    /// All pending bytes' space was allocated but the 512-byte sectors from the first sector
    /// boundary at or after pending byte `from` were never written: they read as zeros.
    ZeroFrom(usize),
}

impl FaultyStorage {
    /// An empty disk.
    pub fn new() -> FaultyStorage {
        FaultyStorage::default()
    }

    /// A disk that already holds `bytes`, all durable.
    pub fn with_content(bytes: Vec<u8>) -> FaultyStorage {
        let s = FaultyStorage::default();
        s.lock().durable = bytes;
        s
    }

    fn lock(&self) -> MutexGuard<'_, FaultyState> {
        // A panic while holding this lock only happens in a failing test; keep its data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a fault for the next matching operation.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// How many bytes are appended but not synced.
    pub fn pending_len(&self) -> usize {
        self.lock().pending.len()
    }

    /// The durable bytes.
    pub fn durable(&self) -> Vec<u8> {
        self.lock().durable.clone()
    }

    /// Simulates power loss: what survives is the durable bytes plus part of the pending ones.
    /// Returns a fresh disk holding the survivor image (this one is left unchanged).
    pub fn crash(&self, keep: CrashKeep) -> FaultyStorage {
        let st = self.lock();
        let mut image = st.durable.clone();
        match keep {
            CrashKeep::Prefix(n) => image.extend_from_slice(&st.pending[..n.min(st.pending.len())]),
            CrashKeep::ZeroFrom(from) => {
                let total = st.durable.len() + st.pending.len();
                let zero_at = (st.durable.len() + from).div_ceil(512) * 512;
                image.extend_from_slice(&st.pending);
                if zero_at < total {
                    image[zero_at..].fill(0);
                }
            }
        }
        FaultyStorage::with_content(image)
    }

    fn take_fault(&self, f: Fault) -> bool {
        let mut st = self.lock();
        match st.faults.iter().position(|x| *x == f) {
            Some(i) => {
                st.faults.remove(i);
                true
            }
            None => false,
        }
    }
}

impl Storage for FaultyStorage {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let st = self.lock();
        let mut all = st.durable.clone();
        all.extend_from_slice(&st.pending);
        Ok(all)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.take_fault(Fault::AppendError) {
            return Err(io::Error::other("injected append failure"));
        }
        let mut st = self.lock();
        st.pending.extend_from_slice(bytes);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.take_fault(Fault::SyncError) {
            return Err(io::Error::other("injected fsync failure"));
        }
        let mut st = self.lock();
        let pending = std::mem::take(&mut st.pending);
        st.durable.extend_from_slice(&pending);
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut st = self.lock();
        let mut all = std::mem::take(&mut st.durable);
        all.extend_from_slice(&std::mem::take(&mut st.pending));
        all.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        st.durable = all;
        Ok(())
    }

    fn describe(&self) -> String {
        "<fault-injecting memory storage>".to_string()
    }
}
