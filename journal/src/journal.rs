//! The journal: open with recovery, durable append, verify.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use serde::Serialize;
use store::Blake3;

use crate::codec::{self, MAX_BODY_LEN};
use crate::model::{
    Change, CommitId, NewRecord, Record, RecordState, State, StoredDiff, TxnId, CHECKPOINT_EVERY,
};
use crate::query::{CheckError, History, VariantIndex};
use crate::scan::{self, BadRecord, Problem, ScanEnd};
use crate::storage::{FileStorage, Storage};
use crate::table::{RecordTable, Records};

/// Free space is added to the file in steps of this many bytes.
const PREALLOCATE: u64 = 1 << 20;

/// An append-only, hash-chained log of transactions over a [`Storage`].
#[derive(Debug)]
pub struct Journal<S: Storage = FileStorage> {
    storage: S,
    /// The file's format version: new records are written in it.
    format: u32,
    records: RecordTable,
    index: VariantIndex,
    /// Byte offset of each record's frame (for naming bad records).
    offsets: Vec<u64>,
    /// Bytes of the good prefix (file header + committed frames).
    valid_len: u64,
    /// Set when bytes after `valid_len` (a torn tail) must be cut before the next append.
    needs_truncate: bool,
    corruption: Option<BadRecord>,
    /// Set after an append failed part way: the on-disk state is unknown until reopened.
    poisoned: bool,
}

/// A torn tail that recovery dropped: the remains of an append interrupted by a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TornTail {
    /// Byte offset where the incomplete frame starts.
    pub offset: u64,
    /// How many bytes it had.
    pub len: u64,
}

/// What opening found besides the good records.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RecoveryReport {
    /// Records read.
    pub records: u64,
    /// An interrupted append, dropped (cut from the file at the next append).
    pub torn_tail: Option<TornTail>,
    /// The first damaged record: the journal is read-only (only the records before it are
    /// visible) and [`Journal::verify`] names it.
    pub corruption: Option<BadRecord>,
}

impl RecoveryReport {
    /// Nothing to report.
    pub fn is_clean(&self) -> bool {
        self.torn_tail.is_none() && self.corruption.is_none()
    }
}

/// Opening failed: the journal could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("could not open the journal {path}")]
pub struct OpenError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Appending failed; nothing was appended unless the error says the outcome is unknown.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error(
        "the journal {path} is damaged at {bad}; refusing to append (run `particle txn verify`)"
    )]
    Corrupt { path: String, bad: Box<BadRecord> },
    #[error("the journal {path} had a failed write earlier; reopen it before appending")]
    Poisoned { path: String },
    #[error("refusing to append an invalid record to {path}: {reason}")]
    Invalid {
        path: String,
        reason: Box<CheckError>,
    },
    #[error("record is {len} bytes, more than the {MAX_BODY_LEN} a frame can hold")]
    TooLarge { len: usize },
    /// The write or fsync failed: the record may or may not be durable; reopen to find out.
    #[error("could not append to the journal {path} (the record may or may not be durable; reopen to find out)")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub records: u64,
    /// The head of the chain: whoever keeps this elsewhere can detect a truncation later.
    pub head: Option<TxnId>,
}

impl Journal<FileStorage> {
    /// Opens (creating if missing) the journal in directory `dir` (`<root>/journal`).
    ///
    /// Does not modify an existing file: a torn tail is dropped in memory and reported, and cut
    /// from the file only by the next append (which the caller does under [`crate::Lock`]).
    pub fn open(dir: &Path) -> Result<(Journal<FileStorage>, RecoveryReport), OpenError> {
        let storage = FileStorage::open(dir).map_err(|source| OpenError {
            path: dir.display().to_string(),
            source,
        })?;
        Journal::open_with(storage)
    }

    /// Opens the existing journal in `dir` for reading only: nothing is created or written (a
    /// torn tail is dropped in memory, as by [`Journal::open`]), so history can be read from a
    /// read-only file system or without write permission. Appending to it fails.
    pub fn open_read_only(dir: &Path) -> Result<(Journal<FileStorage>, RecoveryReport), OpenError> {
        let storage = FileStorage::open_read_only(dir).map_err(|source| OpenError {
            path: dir.display().to_string(),
            source,
        })?;
        Journal::open_with(storage)
    }
}

impl<S: Storage> Journal<S> {
    /// Opens a journal over any storage (tests use [`crate::FaultyStorage`]).
    pub fn open_with(mut storage: S) -> Result<(Journal<S>, RecoveryReport), OpenError> {
        let bytes = storage.contents().map_err(|source| OpenError {
            path: storage.describe(),
            source,
        })?;
        let scan = scan::scan_owned(bytes);
        let mut report = RecoveryReport {
            records: scan.records.len() as u64,
            ..RecoveryReport::default()
        };
        let mut needs_truncate = false;
        let mut corruption = None;
        match scan.end {
            ScanEnd::Clean => {}
            ScanEnd::Torn { offset, len } => {
                report.torn_tail = Some(TornTail { offset, len });
                needs_truncate = true;
            }
            ScanEnd::Corrupt(bad) => {
                report.corruption = Some(bad.clone());
                corruption = Some(bad);
            }
        }
        let journal = Journal {
            storage,
            format: scan.format,
            index: scan.index,
            offsets: scan.offsets,
            records: scan.records,
            valid_len: scan.valid_len,
            needs_truncate,
            corruption,
            poisoned: false,
        };
        Ok((journal, report))
    }

    /// Makes an empty journal write format `version` ([`codec::FORMAT_VERSION_1`] or
    /// [`codec::FORMAT_VERSION`]): how the compatibility tests make journals as older particle
    /// wrote them. A journal with records keeps its format.
    pub fn with_format(mut self, version: u32) -> Journal<S> {
        assert!(
            version == codec::FORMAT_VERSION || version == codec::FORMAT_VERSION_1,
            "unknown journal format {version}"
        );
        if self.valid_len == 0 {
            self.format = version;
        }
        self
    }

    /// The format version of the file (and of every record appended to it).
    pub fn format(&self) -> u32 {
        self.format
    }

    /// Bytes of the good prefix of the records file: its header and every committed frame. A
    /// copy of exactly these bytes is a complete journal, without the preallocated space (what
    /// `publish` ships).
    pub fn valid_len(&self) -> u64 {
        self.valid_len
    }

    /// The frames of records `first..=last` (a segment, see [`crate::read_segment`]) in
    /// `bytes`, this journal's file as read (at least its first [`Self::valid_len`] bytes);
    /// `None` when the journal has no such records.
    pub fn segment<'b>(&self, first: u64, last: u64, bytes: &'b [u8]) -> Option<&'b [u8]> {
        let valid = bytes.get(..usize::try_from(self.valid_len).ok()?)?;
        crate::segment::cut(valid, &self.offsets, first, last)
    }

    /// Every committed record, oldest first (seq 1, 2, ...), each built when first used.
    pub fn records(&self) -> Records<'_> {
        self.records.view()
    }

    /// An index for the queries in [`crate::query`].
    pub fn history(&self) -> History<'_> {
        History::with_index(self.records.view(), &self.index)
    }

    /// The latest record of `variant`.
    pub fn head(&self, variant: &str) -> Option<&Record> {
        self.history().head(variant)
    }

    /// The latest record of any variant.
    pub fn last(&self) -> Option<&Record> {
        self.records.view().last()
    }

    /// Whether [`Journal::append`] may write (no corruption found, no failed write).
    pub fn is_writable(&self) -> bool {
        self.corruption.is_none() && !self.poisoned
    }

    /// Appends one record durably: checks it against the history ([`History::check`]),
    /// writes header + body + id in one write, and returns after `fdatasync`.
    ///
    /// The package set is sorted by (name, arch) here; duplicates are refused.
    pub fn append(&mut self, mut new: NewRecord) -> Result<Record, AppendError> {
        let path = || self.storage.describe();
        if let Some(bad) = &self.corruption {
            return Err(AppendError::Corrupt {
                path: path(),
                bad: Box::new(bad.clone()),
            });
        }
        if self.poisoned {
            return Err(AppendError::Poisoned { path: path() });
        }
        new.state.packages.sort_by(|a, b| a.key().cmp(&b.key()));
        let seq = self.records.len() as u64 + 1;
        self.history()
            .check(seq, &new)
            .map_err(|reason| AppendError::Invalid {
                path: path(),
                reason: Box::new(reason),
            })?;
        let prev = self
            .records
            .len()
            .checked_sub(1)
            .and_then(|i| self.records.id(i));
        let prev = prev.unwrap_or(TxnId::GENESIS);
        // Format 2 stores the change from the state this one was made from, and the whole state
        // when the chain of changes since the last whole one grows to CHECKPOINT_EVERY.
        let change = (self.format != codec::FORMAT_VERSION_1).then(|| {
            let from = self
                .history()
                .predecessor_of(&new.variant, seq, new.base.as_ref())
                .map(|r| (r.seq, r.state.clone()));
            let empty = State::default();
            let from_state = from.as_ref().map(|(_, s)| s.get_or_build());
            let diff = crate::query::diff(from_state.as_deref().unwrap_or(&empty), &new.state);
            let depth = from.as_ref().map_or(0, |(_, s)| s.depth()) + 1;
            let checkpoint = depth >= CHECKPOINT_EVERY;
            Change {
                from_seq: from.as_ref().map_or(0, |(s, _)| *s),
                // A checkpoint holds its whole state: it needs no link to the one before.
                from: from.map(|(_, s)| s).filter(|_| !checkpoint),
                diff: StoredDiff::new(diff),
                checkpoint,
                depth: if checkpoint { 0 } else { depth },
            }
        });
        let stored = match &change {
            None => codec::Stored::Whole(&new.state),
            Some(c) => codec::Stored::Change {
                from_seq: c.from_seq,
                diff: c.diff.get(),
                checkpoint: c.checkpoint.then_some(&new.state),
            },
        };
        let body = codec::encode_body(seq, &prev, &codec::Parts::of_new(&new), &stored);
        if body.len() > MAX_BODY_LEN as usize {
            return Err(AppendError::TooLarge { len: body.len() });
        }
        let id = TxnId(Blake3::of(&body));
        let frame = codec::encode_frame(&body, &id);
        let mut bytes = Vec::with_capacity(frame.len() + codec::FILE_HEADER_LEN);
        if self.valid_len == 0 {
            bytes.extend_from_slice(&codec::file_header(self.format));
        }
        bytes.extend_from_slice(&frame);

        let result = (|| {
            if self.needs_truncate {
                self.storage.truncate(self.valid_len)?;
                self.needs_truncate = false;
            }
            let end = self.valid_len + bytes.len() as u64;
            if self.storage.size()? < end {
                // Preallocate (real zeros, durable) so the append itself changes no metadata.
                self.storage
                    .extend_zeroed(end.div_ceil(PREALLOCATE) * PREALLOCATE)?;
            }
            self.storage.write_at(self.valid_len, &bytes)?;
            self.storage.sync()
        })();
        if let Err(source) = result {
            // Linux may drop dirty pages after a failed fsync: what is on disk is unknown.
            self.poisoned = true;
            return Err(AppendError::Io {
                path: self.storage.describe(),
                source,
            });
        }
        self.offsets
            .push(self.valid_len + (bytes.len() - frame.len()) as u64);
        self.valid_len += bytes.len() as u64;
        let record = Record {
            seq,
            id,
            prev,
            time: new.time,
            actor: new.actor,
            reason: new.reason,
            variant: new.variant,
            request: new.request,
            // A record keeps its whole state only if it stores it: a long run of appends keeps
            // no more states in memory than the file holds.
            state: match change {
                None => RecordState::whole(new.state),
                Some(c) => {
                    let whole = c.checkpoint.then_some(new.state);
                    RecordState::changed(c, whole)
                }
            },
            commit: new.commit,
            base: new.base,
        };
        self.index.push(&record.variant, self.records.len());
        self.records.push(record.clone(), (0, 0));
        Ok(record)
    }

    /// Verifies the journal as read at open: the framing and hash chain (checked by the scan),
    /// the rules every record must satisfy against the ones before it, and each record's commit
    /// through `check_commit` (the CLI passes an OSTree lookup + fsck; the journal never touches
    /// OSTree). Returns the first bad record.
    pub fn verify(
        &self,
        mut check_commit: impl FnMut(&CommitId) -> Result<(), String>,
    ) -> Result<Verified, BadRecord> {
        verify_records(self.history(), &self.offsets, &mut check_commit)?;
        if let Some(bad) = &self.corruption {
            return Err(bad.clone());
        }
        Ok(Verified {
            records: self.records.len() as u64,
            head: self
                .records
                .len()
                .checked_sub(1)
                .and_then(|i| self.records.id(i)),
        })
    }
}

/// The semantic and commit part of [`Journal::verify`], over records whose chain is intact.
///
/// A format 2 record must be made from its predecessor, its change must apply exactly to that
/// state and be the one [`crate::diff`] gives, and a checkpoint must hold the state the change
/// gives. States are built forward, one per variant at a time, so verifying a long journal
/// keeps no more than that in memory.
fn verify_records(
    history: History<'_>,
    offsets: &[u64],
    check_commit: &mut dyn FnMut(&CommitId) -> Result<(), String>,
) -> Result<(), BadRecord> {
    let mut latest: HashMap<&str, (u64, State)> = HashMap::new();
    for (r, &offset) in history.records().iter().zip(offsets) {
        let bad = |problem| BadRecord {
            position: r.seq,
            seq: Some(r.seq),
            offset,
            problem,
        };
        let semantic = |message: String| bad(Problem::Semantic { message });
        let state = match r.state.change() {
            None => State::clone(&r.state),
            Some(c) => {
                let pred = history.predecessor(r).map_or(0, |p| p.seq);
                if c.from_seq != pred {
                    return Err(semantic(format!(
                        "the record is stored as a change from record {}, not from the record before it ({pred})",
                        c.from_seq
                    )));
                }
                let from_variant = history.record(c.from_seq).map(|f| f.variant.as_str());
                let built;
                let from: &State = match (c.from_seq, from_variant.and_then(|v| latest.get(v))) {
                    (0, _) => EMPTY.get_or_init(State::default),
                    (s, Some((at, st))) if *at == s => st,
                    _ => {
                        built = history
                            .record(c.from_seq)
                            .map(|f| f.state.get_or_build().into_owned())
                            .unwrap_or_default();
                        &built
                    }
                };
                let diff = c.diff.get();
                let state = diff
                    .apply_exactly(from)
                    .map_err(|m| semantic(format!("its change from record {}: {m}", c.from_seq)))?;
                if crate::query::diff(from, &state) != *diff {
                    return Err(semantic(format!(
                        "its change from record {} is not in canonical form",
                        c.from_seq
                    )));
                }
                if r.state.built().is_some_and(|whole| *whole != state) {
                    return Err(semantic(
                        "its whole state is not the state its change gives".to_string(),
                    ));
                }
                state
            }
        };
        history
            .check_record(r, &state)
            .map_err(|e| semantic(e.to_string()))?;
        check_commit(&r.commit).map_err(|message| {
            bad(Problem::Commit {
                commit: r.commit,
                message,
            })
        })?;
        latest.insert(&r.variant, (r.seq, state));
    }
    Ok(())
}

static EMPTY: std::sync::OnceLock<State> = std::sync::OnceLock::new();
