//! The records of an opened journal, decoded when first used.
//!
//! Opening a journal checks every frame, id, body and link (`codec::scan`), but builds a
//! [`Record`] only for a body version 1 (format 1 files). A format 2 record (a change, or a
//! checkpoint) keeps only the place of its checked body in the file's bytes (mapped, not read)
//! and is built when something reads it, with the records its change needs before it, back to
//! the nearest one built or a checkpoint. So opening 100,000 records allocates a few dozen bytes
//! per record, and `txn log -n 20` builds twenty.

use std::sync::OnceLock;

use crate::codec;
use crate::model::{Record, TxnId};
use crate::storage::Contents;

/// Every record of a journal, oldest first, each built on first use.
#[derive(Default)]
pub struct RecordTable {
    /// The file as opened: the bodies of records not built yet.
    bytes: Contents,
    slots: Vec<Slot>,
}

struct Slot {
    /// The record's checked body in `bytes` (empty for a record appended in this process).
    body: (usize, usize),
    id: TxnId,
    /// For a record not built yet: the seq of the record whose state building it needs (its
    /// change applies to it; 0: none, for a whole state or a checkpoint).
    needs: u64,
    record: OnceLock<Box<Record>>,
}

impl std::fmt::Debug for RecordTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordTable")
            .field("records", &self.slots.len())
            .finish()
    }
}

impl RecordTable {
    /// The table over the file `bytes` its unbuilt records' bodies are in.
    pub(crate) fn with_bytes(self, bytes: Contents) -> RecordTable {
        RecordTable { bytes, ..self }
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
    }

    /// Moves the records of `other` (over the same bytes) after these.
    pub(crate) fn append(&mut self, mut other: RecordTable) {
        self.slots.append(&mut other.slots);
    }

    /// Adds a record that is built already, whose body is `bytes[body.0..body.1]` (empty for
    /// one appended in this process).
    pub(crate) fn push(&mut self, record: Record, body: (usize, usize)) {
        self.slots.push(Slot {
            body,
            id: record.id,
            needs: 0,
            record: OnceLock::from(Box::new(record)),
        });
    }

    /// Adds a record whose body `bytes[body.0..body.1]` `codec` has checked completely (body
    /// version 2), built when first used with the state of record `needs` (0: none), which must
    /// be in the table already.
    pub(crate) fn push_unbuilt(&mut self, body: (usize, usize), id: TxnId, needs: u64) {
        self.slots.push(Slot {
            body,
            id,
            needs,
            record: OnceLock::new(),
        });
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The id of the record at `position` (0-based), without building it.
    pub fn id(&self, position: usize) -> Option<TxnId> {
        self.slots.get(position).map(|s| s.id)
    }

    /// The checked body of the record at `position`, if it was read from the file.
    pub(crate) fn body(&self, position: usize) -> Option<&[u8]> {
        let s = self.slots.get(position)?;
        (s.body.1 > s.body.0).then(|| &self.bytes[s.body.0..s.body.1])
    }

    /// The record at `position` (0-based), built if it was not.
    pub fn get(&self, position: usize) -> Option<&Record> {
        let slot = self.slots.get(position)?;
        if let Some(r) = slot.record.get() {
            return Some(r);
        }
        // The records this one's change is made from that are not built yet, newest first; they
        // end at a built one (a whole state, a checkpoint, or one used before).
        let mut chain = vec![position];
        let mut at = position;
        loop {
            let from = self.slots[at].needs;
            if from == 0 {
                break;
            }
            at = from as usize - 1;
            if self.slots[at].record.get().is_some() {
                break;
            }
            chain.push(at);
        }
        for &p in chain.iter().rev() {
            self.slots[p].record.get_or_init(|| Box::new(self.build(p)));
        }
        slot.record.get().map(|r| &**r)
    }

    fn build(&self, position: usize) -> Record {
        let s = &self.slots[position];
        let body = &self.bytes[s.body.0..s.body.1];
        let from = |seq: u64| {
            let built = self.slots.get(seq as usize - 1)?.record.get()?;
            Some(built.state.clone())
        };
        codec::decode_checked(body, s.id, from)
            .unwrap_or_else(|e| panic!("record {} was checked at open: {e}", position + 1))
    }

    /// A borrowing view, for [`crate::History`].
    pub fn view(&self) -> Records<'_> {
        Records(Src::Table(self, self.slots.len()))
    }

    /// Every record, built.
    pub fn to_vec(&self) -> Vec<Record> {
        self.view().to_vec()
    }

    /// The records in order, each built as it is reached.
    pub fn iter(&self) -> Iter<'_> {
        self.view().iter()
    }

    pub fn last(&self) -> Option<&Record> {
        self.view().last()
    }
}

/// Equal when every record is (each is built to compare).
impl PartialEq for RecordTable {
    fn eq(&self, other: &RecordTable) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// The records a [`crate::History`] reads: a journal's (built on first use) or a slice. Cheap
/// to copy; indexes are 0-based positions, oldest first.
#[derive(Clone, Copy)]
pub struct Records<'a>(Src<'a>);

#[derive(Clone, Copy)]
enum Src<'a> {
    Slice(&'a [Record]),
    /// The table's first `n` records.
    Table(&'a RecordTable, usize),
}

impl<'a> From<&'a [Record]> for Records<'a> {
    fn from(records: &'a [Record]) -> Records<'a> {
        Records(Src::Slice(records))
    }
}

impl<'a> From<&'a Vec<Record>> for Records<'a> {
    fn from(records: &'a Vec<Record>) -> Records<'a> {
        Records(Src::Slice(records))
    }
}

impl<'a> From<&'a RecordTable> for Records<'a> {
    fn from(table: &'a RecordTable) -> Records<'a> {
        table.view()
    }
}

impl std::fmt::Debug for Records<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Records({})", self.len())
    }
}

impl<'a> Records<'a> {
    pub fn len(&self) -> usize {
        match self.0 {
            Src::Slice(s) => s.len(),
            Src::Table(_, n) => n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record at `position`.
    pub fn get(&self, position: usize) -> Option<&'a Record> {
        match self.0 {
            Src::Slice(s) => s.get(position),
            Src::Table(t, n) => t.get(position).filter(|_| position < n),
        }
    }

    /// The record at `position`, which must be there.
    pub fn at(&self, position: usize) -> &'a Record {
        self.get(position).expect("a position inside the records")
    }

    /// The seq of the record at `position`, without building it.
    pub fn seq(&self, position: usize) -> u64 {
        match self.0 {
            Src::Slice(s) => s[position].seq,
            // A journal's records are numbered 1, 2, ... (checked at open).
            Src::Table(_, n) => {
                assert!(position < n, "a position inside the records");
                position as u64 + 1
            }
        }
    }

    /// The id of the record at `position`, without building it.
    pub fn id(&self, position: usize) -> TxnId {
        match self.0 {
            Src::Slice(s) => s[position].id,
            Src::Table(t, n) => t.slots[..n][position].id,
        }
    }

    pub fn first(&self) -> Option<&'a Record> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&'a Record> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> Iter<'a> {
        Iter {
            records: *self,
            front: 0,
            back: self.len(),
        }
    }

    /// The records at positions `range`.
    pub fn range(&self, range: std::ops::Range<usize>) -> Iter<'a> {
        assert!(range.start <= range.end && range.end <= self.len());
        Iter {
            records: *self,
            front: range.start,
            back: range.end,
        }
    }

    pub fn to_vec(&self) -> Vec<Record> {
        self.iter().cloned().collect()
    }

    /// Whether the record at `position` is built (a slice's always are).
    pub fn is_built(&self, position: usize) -> bool {
        match self.0 {
            Src::Slice(_) => true,
            Src::Table(t, _) => t.slots[position].record.get().is_some(),
        }
    }

    /// The first `n` records (all if there are fewer).
    pub fn prefix(&self, n: usize) -> Records<'a> {
        Records(match self.0 {
            Src::Slice(s) => Src::Slice(&s[..n.min(s.len())]),
            Src::Table(t, len) => Src::Table(t, n.min(len)),
        })
    }

    /// The last record and the ones before it.
    pub fn split_last(&self) -> Option<(&'a Record, Records<'a>)> {
        let n = self.len().checked_sub(1)?;
        Some((self.at(n), self.prefix(n)))
    }

    /// The table behind these records, when they are a journal's.
    pub(crate) fn table(&self) -> Option<&'a RecordTable> {
        match self.0 {
            Src::Slice(_) => None,
            Src::Table(t, _) => Some(t),
        }
    }
}

impl<'a> IntoIterator for Records<'a> {
    type Item = &'a Record;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl std::ops::Index<usize> for Records<'_> {
    type Output = Record;
    fn index(&self, position: usize) -> &Record {
        self.at(position)
    }
}

/// The records of a [`Records`] in order, each built as it is reached.
#[derive(Clone)]
pub struct Iter<'a> {
    records: Records<'a>,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Record;
    fn next(&mut self) -> Option<&'a Record> {
        if self.front >= self.back {
            return None;
        }
        self.front += 1;
        self.records.get(self.front - 1)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.records.get(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a RecordTable {
    type Item = &'a Record;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl std::ops::Index<usize> for RecordTable {
    type Output = Record;
    fn index(&self, position: usize) -> &Record {
        self.get(position).expect("a position inside the records")
    }
}

/// Equal when the records are, in order (each is built to compare).
impl PartialEq for Records<'_> {
    fn eq(&self, other: &Records<'_>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl PartialEq<[Record]> for Records<'_> {
    fn eq(&self, other: &[Record]) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl PartialEq<Vec<Record>> for Records<'_> {
    fn eq(&self, other: &Vec<Record>) -> bool {
        *self == other[..]
    }
}
