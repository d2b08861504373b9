//! journal: particle's source of truth, an append-only, hash-chained log of transactions.
//!
//! It owns:
//! - the record model ([`Record`], [`NewRecord`], [`Request`], [`State`]): one immutable record
//!   per transaction holding the variant's resulting state (a [`RecordState`]: stored as the
//!   change from the state before it, built whole on use) and the OSTree commit it became;
//! - the byte-exact encoding (`codec`, specified in `docs/format/journal.md`): framing with a
//!   length check and a BLAKE3 id per record, ids chained through `prev`; format 2 stores
//!   changes with a whole state every [`CHECKPOINT_EVERY`] records of a chain, format 1 (read
//!   and appended to as it is) whole states;
//! - storage (`storage`): a narrow [`Storage`] trait, the append-only [`FileStorage`]
//!   (`<root>/journal/records`, preallocated with zeros, one `pwrite` + `fdatasync` per append)
//!   and the fault-injecting [`FaultyStorage`];
//! - recovery ([`Journal::open`]): a torn tail is dropped and reported, a damaged record makes
//!   the journal read-only and is named by [`Journal::verify`];
//! - the opened records (`table`: [`Records`], the file mapped, every record checked at open and
//!   built on first use) and `txn log` read in place (`lines`: [`LogLine`],
//!   [`History::log_lines`]);
//! - the writer lock ([`Lock`]);
//! - pure queries ([`query`] via [`History`], and [`bisect_step`]): state at a transaction,
//!   lineage, log, diff, package history, rollback target, TXN references.
//!
//! It is not:
//! - an OSTree client: commits are opaque checksums; [`Journal::verify`] takes a callback for
//!   checking them;
//! - a solver or materializer: records hold resolved sets, produced elsewhere;
//! - a place for policy about refs: the CLI appends, then moves the ref, and reconciles on start.
//!
//! Typical use:
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use journal::{Journal, Lock, LogFilter};
//! let root = std::path::Path::new("/var/lib/particle");
//! let _lock = Lock::acquire(root)?; // every mutating command
//! let (journal, report) = Journal::open(&root.join("journal"))?;
//! if let Some(t) = &report.torn_tail { eprintln!("dropped an interrupted append ({} bytes)", t.len); }
//! let history = journal.history();
//! let log = history.log(&LogFilter { variant: Some("base".into()), ..Default::default() })?;
//! let a = history.resolve("1")?;
//! let b = history.resolve("2")?;
//! let diff = journal::diff(&a.state, &b.state);
//! # let _ = (log, diff); Ok(()) }
//! ```

mod bisect;
mod codec;
mod journal;
mod lines;
mod lock;
mod model;
pub mod query;
mod scan;
mod segment;
mod storage;
mod table;

pub use crate::bisect::{bisect_step, BisectError, BisectStep, Verdict};
pub use crate::codec::{
    decode_record, encode_record, DecodeError, FORMAT_VERSION, FORMAT_VERSION_1,
};
pub use crate::journal::{AppendError, Journal, OpenError, RecoveryReport, TornTail, Verified};
pub use crate::lines::{BaseRef, ChangedRef, LogLine, PackageRef, Text};
pub use crate::lock::{Lock, LockError};
pub use crate::model::{
    Actor, CommitId, NewRecord, PackageEntry, PackageSpec, Profile, Provenance, Record,
    RecordState, Request, State, TxnId, Value, CHECKPOINT_EVERY,
};
pub use crate::query::{
    diff, recorded_packages, CheckError, Diff, History, LogEntry, LogFilter, QueryError,
    ResolveError, TxnLog, TxnShow,
};
pub use crate::scan::{scan, scan_cut_at, BadRecord, Problem, Scan, ScanEnd};
pub use crate::segment::{read_segment, Anchor, Segment, SegmentError};
pub use crate::storage::{Contents, CrashKeep, Fault, FaultyStorage, FileStorage, Storage};
pub use crate::table::{Iter as RecordsIter, RecordTable, Records};
