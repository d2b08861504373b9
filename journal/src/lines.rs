//! `txn log` over a long journal: each entry read in place from the journal's bytes where the
//! record stores its change from its predecessor (format 2), so printing 100,000 entries builds
//! no record and allocates nothing per entry ([`History::log_lines`]); the others (a variant's
//! first record, format 1) come from the built record, as [`History::log`] gives them.

use std::borrow::Cow;

use crate::codec::{self, ChangeReader, ListIn};
use crate::model::{CommitId, PackageEntry, Provenance, TxnId};
use crate::query::{Changed, Diff, Direction, History, LogEntry, LogFilter, QueryError};

/// One entry of `txn log`: what [`LogEntry`] says, borrowed from the journal's bytes or from
/// the built record.
pub struct LogLine<'a> {
    pub seq: u64,
    pub id: TxnId,
    pub time: i64,
    pub user: Text<'a>,
    pub host: Text<'a>,
    pub reason: Text<'a>,
    pub kind: &'static str,
    pub variant: &'a str,
    pub commit: CommitId,
    /// For a child variant: the parent transaction its state is built on.
    pub base: Option<BaseRef<'a>>,
    changes: Changes<'a>,
}

/// A string of a record read in place: UTF-8, checked when the journal was opened and not
/// again when read (a long log copies its bytes to the output as they are).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    pub fn as_bytes(self) -> &'a [u8] {
        self.0
    }

    /// The string (checked again here).
    pub fn as_str(self) -> &'a str {
        std::str::from_utf8(self.0).expect("journal strings are checked at open")
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Text<'a> {
        Text(s.as_bytes())
    }
}

impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// [`Provenance`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseRef<'a> {
    pub variant: &'a str,
    pub seq: u64,
    pub txn: TxnId,
}

enum Changes<'a> {
    /// The record's stored change (from its predecessor), in place.
    Stored(&'a [u8], ChangeReader<'a>),
    Built(Cow<'a, Diff>),
}

/// A package as `txn log` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageRef<'a> {
    pub name: Text<'a>,
    pub version: Text<'a>,
    pub arch: Text<'a>,
}

/// A changed package as `txn log` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedRef<'a> {
    pub name: Text<'a>,
    pub arch: Text<'a>,
    pub from: Text<'a>,
    pub to: Text<'a>,
    pub direction: Direction,
}

impl<'a> From<&LogEntry<'a>> for LogLine<'a> {
    fn from(e: &LogEntry<'a>) -> LogLine<'a> {
        LogLine {
            seq: e.seq,
            id: e.id,
            time: e.time,
            user: e.actor.user.as_str().into(),
            host: e.actor.host.as_str().into(),
            reason: e.reason.into(),
            kind: e.kind,
            variant: e.variant,
            commit: e.commit,
            base: e.base.map(|b: &Provenance| BaseRef {
                variant: &b.variant,
                seq: b.seq,
                txn: b.txn,
            }),
            changes: Changes::Built(e.changes.clone()),
        }
    }
}

impl<'a> LogLine<'a> {
    /// Packages added.
    pub fn added(&self) -> impl Iterator<Item = PackageRef<'_>> {
        self.packages(|r| r.added.clone(), |d| &d.added)
    }

    /// Packages removed.
    pub fn removed(&self) -> impl Iterator<Item = PackageRef<'_>> {
        self.packages(|r| r.removed.clone(), |d| &d.removed)
    }

    fn packages<'s>(
        &'s self,
        stored: fn(&ChangeReader<'s>) -> ListIn<'s>,
        built: fn(&Diff) -> &Vec<PackageEntry>,
    ) -> Either<impl Iterator<Item = PackageRef<'s>>, impl Iterator<Item = PackageRef<'s>>> {
        match &self.changes {
            Changes::Stored(_, reader) => {
                Either::A(stored(reader).map(|[name, version, arch, _]| PackageRef {
                    name: Text(name),
                    version: Text(version),
                    arch: Text(arch),
                }))
            }
            Changes::Built(d) => Either::B(built(d).iter().map(|p| PackageRef {
                name: p.name.as_str().into(),
                version: p.version.as_str().into(),
                arch: p.arch.as_str().into(),
            })),
        }
    }

    /// Packages at another version or `.deb`.
    pub fn changed(&self) -> impl Iterator<Item = ChangedRef<'_>> {
        match &self.changes {
            Changes::Stored(_, reader) => Either::A(reader.changed.clone().map(
                |[name, arch, from, to]| ChangedRef {
                    name: Text(name),
                    arch: Text(arch),
                    from: Text(from),
                    to: Text(to),
                    direction: Direction::of_bytes(from, to),
                },
            )),
            Changes::Built(d) => Either::B(d.changed.iter().map(|c: &Changed| ChangedRef {
                name: c.name.as_str().into(),
                arch: c.arch.as_str().into(),
                from: c.from.as_str().into(),
                to: c.to.as_str().into(),
                direction: c.direction,
            })),
        }
    }

    /// The whole change when it has profile settings or pinned indices (which only the
    /// decoded [`Diff`] holds); `None` when it changes packages only.
    pub fn settings(&self) -> Option<Cow<'_, Diff>> {
        match &self.changes {
            Changes::Stored(bytes, reader) => reader
                .more
                .then(|| Cow::Owned(codec::decode_diff(bytes).expect("the change was checked"))),
            Changes::Built(d) => {
                (!d.profile.is_empty() || !d.indices.is_empty()).then(|| Cow::Borrowed(&**d))
            }
        }
    }
}

enum Either<A, B> {
    A(A),
    B(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either::A(a) => a.next(),
            Either::B(b) => b.next(),
        }
    }
}

impl<'a> History<'a> {
    /// [`History::log`], given to `f` one entry at a time: with no `package` and no `last`
    /// filter, an entry whose record stores its change from its predecessor (format 2) is read
    /// in place (no record built, nothing allocated), so printing a long history costs
    /// what reading its bytes does. The entries are the ones [`History::log`] gives, in order.
    pub fn log_lines<E>(
        &self,
        filter: &LogFilter,
        mut f: impl FnMut(LogLine<'_>) -> Result<(), E>,
    ) -> Result<Result<(), E>, QueryError> {
        let Some(selected) = self.log_positions(filter)? else {
            for e in self.log(filter)? {
                if let Err(e) = f(LogLine::from(&e)) {
                    return Ok(Err(e));
                }
            }
            return Ok(Ok(()));
        };
        for line in selected
            .into_iter()
            .filter_map(|i| self.log_line(i, filter))
        {
            if let Err(e) = f(line) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    /// The positions of the records `filter` may select, oldest first, to read one by one with
    /// [`Self::log_line`] (in any order, on several threads); `None` when the filter needs
    /// the whole entries first (`package`, `last`): then [`Self::log`] gives them.
    pub fn log_positions(&self, filter: &LogFilter) -> Result<Option<Vec<usize>>, QueryError> {
        if filter.package.is_some() || filter.last.is_some() {
            return Ok(None);
        }
        Ok(Some(match &filter.variant {
            Some(v) => self.lineage_positions(v, None)?,
            None => (0..self.records().len()).collect(),
        }))
    }

    /// The entry of the record at `position`, if its time is inside `filter`'s bounds (the
    /// other filters are [`Self::log_positions`]'s).
    pub fn log_line(&self, position: usize, filter: &LogFilter) -> Option<LogLine<'a>> {
        let line = match self.stored_line(position) {
            Some(line) => line,
            None => {
                let r = self.records().at(position);
                LogLine::from(&self.entry(r, self.changes_of(r)))
            }
        };
        filter.takes(line.time).then_some(line)
    }

    /// The entry of the record at `position` read in place, if it stores its change from its
    /// predecessor (the variant's record before it).
    fn stored_line(&self, position: usize) -> Option<LogLine<'a>> {
        let records = self.records();
        let body = records.table()?.body(position)?;
        let c = codec::read_change(body).expect("the body was checked at open")?;
        let seq = records.seq(position);
        // A variant's first record changes from its parent's: that takes the record.
        if self.own_before(c.variant, position)? != c.from_seq {
            return None;
        }
        Some(LogLine {
            seq,
            id: records.id(position),
            time: c.time,
            user: Text(c.user),
            host: Text(c.host),
            reason: Text(c.reason),
            kind: c.kind,
            variant: c.variant,
            commit: c.commit,
            base: c
                .base
                .map(|(variant, seq, txn)| BaseRef { variant, seq, txn }),
            changes: Changes::Stored(c.change, c.reader),
        })
    }
}
