//! Segments: the records after one transaction, cut from a journal to travel without the rest
//! (an offline bundle carries the records from the transaction a machine runs to the one it is
//! offered), and read back on a journal that holds none of them.
//!
//! A segment is the journal's frames, byte for byte, for a run of consecutive records: no file
//! header, no free space. It is read against an [`Anchor`], the record it continues as the
//! reader knows it (a machine records the id, sequence number and whole state of the
//! transaction it runs): the first frame's `prev` must be the anchor's id and its `seq` the
//! anchor's plus one, each next frame must link to the one before, and every id must be the
//! BLAKE3 of its body. Records of the anchor's variant get their states, each change applied
//! to the anchor's state or to a record before it in the segment; records of other variants
//! (their changes apply to states the reader does not have) are checked for framing, id, link
//! and canonical encoding only. Specified in `docs/format/journal.md`, "Segments".

use std::collections::HashMap;

use store::Blake3;

use crate::codec::{
    self, DecodeError, FRAME_END, FRAME_HEADER_LEN, FRAME_MAGIC, FRAME_TRAILER_LEN, MAX_BODY_LEN,
};
use crate::model::{Record, RecordState, State, TxnId};

/// The record a segment continues, as its reader has it.
#[derive(Debug, Clone, Copy)]
pub struct Anchor<'a> {
    pub seq: u64,
    pub id: TxnId,
    pub variant: &'a str,
    pub state: &'a State,
}

/// A segment read against its anchor.
#[derive(Debug)]
pub struct Segment {
    /// The records of the anchor's variant, oldest first, their states built on use.
    pub records: Vec<Record>,
    /// How many records the segment holds, of every variant.
    pub len: u64,
    /// The id of its last record (the anchor's when it is empty).
    pub head: TxnId,
}

/// Why a segment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("the frame at byte {offset} is damaged or cut short")]
    BadFrame { offset: usize },
    #[error("record {seq} (byte {offset}) does not have the id its body hashes to")]
    BadId { seq: u64, offset: usize },
    #[error("the record at byte {offset} does not follow record {after} ({}): it does not continue that chain", .prev.short(12))]
    NotLinked {
        offset: usize,
        after: u64,
        prev: TxnId,
    },
    #[error("record {seq} (byte {offset}) does not decode: {source}")]
    Decode {
        seq: u64,
        offset: usize,
        source: DecodeError,
    },
}

/// The frames of `bytes` (a whole journal file, as [`crate::Journal::valid_len`] bounds it) for
/// records `first..=last`, given each record's frame offset (`offsets[i]` for seq `i + 1`).
pub(crate) fn cut<'b>(bytes: &'b [u8], offsets: &[u64], first: u64, last: u64) -> Option<&'b [u8]> {
    let (first, last) = (usize::try_from(first).ok()?, usize::try_from(last).ok()?);
    if first == 0 || first > last || last > offsets.len() {
        return None;
    }
    let start = offsets[first - 1];
    let end = offsets.get(last).copied().unwrap_or(bytes.len() as u64);
    bytes.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

/// Reads `bytes` as the segment after `anchor` (see the module documentation). Like a whole
/// chain, a segment cut between two frames is a valid shorter one: the caller compares
/// [`Segment::head`] with the head it expects.
pub fn read_segment(bytes: &[u8], anchor: Anchor<'_>) -> Result<Segment, SegmentError> {
    let mut at = 0;
    let (mut seq, mut prev) = (anchor.seq, anchor.id);
    let mut records: Vec<Record> = Vec::new();
    // The states a later change of the anchor's variant may apply to, by seq.
    let mut states: HashMap<u64, RecordState> = HashMap::new();
    states.insert(anchor.seq, RecordState::whole(anchor.state.clone()));
    while at < bytes.len() {
        let (body, id, next) = frame(bytes, at)?;
        let linked =
            body.len() >= 41 && body[1..33] == prev.0 .0 && body[33..41] == (seq + 1).to_le_bytes();
        if !linked {
            return Err(SegmentError::NotLinked {
                offset: at,
                after: seq,
                prev,
            });
        }
        seq += 1;
        if Blake3::of(body) != id.0 {
            return Err(SegmentError::BadId { seq, offset: at });
        }
        let decode = |source| SegmentError::Decode {
            seq,
            offset: at,
            source,
        };
        let decoded = codec::Decoded::parse(body, id).map_err(decode)?;
        if decoded.variant() == anchor.variant {
            let r = decoded
                .link(|from| states.get(&from).cloned())
                .map_err(decode)?;
            states.insert(r.seq, r.state.clone());
            records.push(r);
        }
        prev = id;
        at = next;
    }
    Ok(Segment {
        records,
        len: seq - anchor.seq,
        head: prev,
    })
}

/// The body and id of the frame at `at`, and where the next one starts.
fn frame(bytes: &[u8], at: usize) -> Result<(&[u8], TxnId, usize), SegmentError> {
    let bad = SegmentError::BadFrame { offset: at };
    let rest = &bytes[at..];
    let header = rest.get(..FRAME_HEADER_LEN).ok_or(bad.clone())?;
    let len = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    let check = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
    if header[..4] != FRAME_MAGIC || check != !len || len > MAX_BODY_LEN {
        return Err(bad);
    }
    let body_end = FRAME_HEADER_LEN + len as usize;
    let end = body_end + FRAME_TRAILER_LEN;
    let frame = rest.get(..end).ok_or(bad.clone())?;
    if frame[end - 4..] != FRAME_END {
        return Err(bad);
    }
    let id: [u8; 32] = frame[body_end..body_end + 32].try_into().expect("32 bytes");
    Ok((
        &frame[FRAME_HEADER_LEN..body_end],
        TxnId(Blake3(id)),
        at + end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actor, CommitId, NewRecord, PackageEntry, Request};
    use crate::storage::FaultyStorage;
    use crate::{Journal, CHECKPOINT_EVERY};
    use store::Sha256;

    fn record(variant: &str, packages: &[(&str, &str)], n: u64) -> NewRecord {
        NewRecord {
            time: n as i64,
            actor: Actor {
                user: "u".into(),
                host: "h".into(),
            },
            reason: String::new(),
            variant: variant.into(),
            request: Request::Install {
                packages: Vec::new(),
                no_recommends: false,
            },
            state: State {
                packages: packages
                    .iter()
                    .map(|(name, version)| PackageEntry {
                        name: (*name).into(),
                        version: (*version).into(),
                        arch: "amd64".into(),
                        sha256: Sha256::of(format!("{name} {version}").as_bytes()),
                    })
                    .collect(),
                ..State::default()
            },
            commit: CommitId(Sha256::of(&n.to_le_bytes())),
            base: None,
        }
    }

    /// A journal of `n` records alternating between two root variants, each record changing
    /// one package of its variant, and its file's bytes.
    fn journal(format: u32, n: u64) -> (Journal<FaultyStorage>, Vec<u8>) {
        let disk = FaultyStorage::new();
        let (j, _) = Journal::open_with(disk.clone()).expect("open");
        let mut j = j.with_format(format);
        for i in 1..=n {
            let (variant, pkg) = if i % 3 == 0 { ("b", "y") } else { ("a", "x") };
            let version = i.to_string();
            j.append(record(variant, &[("base", "1"), (pkg, &version)], i))
                .expect("append");
        }
        let mut bytes = disk.durable();
        bytes.truncate(j.valid_len() as usize);
        (j, bytes)
    }

    fn anchor<'a>(j: &'a Journal<FaultyStorage>, seq: u64, state: &'a State) -> Anchor<'a> {
        let r = j.records().get(seq as usize - 1).expect("record");
        Anchor {
            seq,
            id: r.id,
            variant: "a",
            state,
        }
    }

    #[test]
    fn a_segment_gives_its_variants_records_whole_states_and_checks_the_rest() {
        for format in [codec::FORMAT_VERSION_1, codec::FORMAT_VERSION] {
            // Long enough that a checkpoint falls inside the segment.
            let n = CHECKPOINT_EVERY as u64 * 2 + 20;
            let (j, bytes) = journal(format, n);
            let (first, last) = (40, n - 3);
            let seg = j.segment(first + 1, last, &bytes).expect("cut");
            let state = State::clone(&j.records().get(first as usize - 1).expect("r").state);
            let s = read_segment(seg, anchor(&j, first, &state)).expect("read");
            assert_eq!(s.len, last - first);
            assert_eq!(s.head, j.records().get(last as usize - 1).expect("r").id);
            let want: Vec<&Record> = j
                .records()
                .iter()
                .filter(|r| r.seq > first && r.seq <= last && r.variant == "a")
                .collect();
            assert_eq!(s.records.len(), want.len());
            for (got, want) in s.records.iter().zip(&want) {
                assert_eq!(got.id, want.id);
                assert_eq!(*got.state, *want.state, "record {}", want.seq);
                assert_eq!(codec::encode_record(got), codec::encode_record(want));
            }
            // Empty: nothing after the anchor.
            let s = read_segment(&[], anchor(&j, first, &state)).expect("read");
            assert_eq!((s.len, s.head, s.records.len()), (0, want[0].prev, 0));
        }
    }

    #[test]
    fn a_segment_that_does_not_continue_the_anchor_is_refused() {
        let (j, bytes) = journal(codec::FORMAT_VERSION, 30);
        let seg = j.segment(11, 20, &bytes).expect("cut");
        let state = State::clone(&j.records().get(9).expect("r").state);
        // Another record as the anchor, or the right id at another position.
        let e = read_segment(seg, anchor(&j, 9, &state)).expect_err("not linked");
        assert!(
            matches!(e, SegmentError::NotLinked { offset: 0, .. }),
            "{e}"
        );
        let wrong_seq = Anchor {
            seq: 11,
            ..anchor(&j, 10, &state)
        };
        let e = read_segment(seg, wrong_seq).expect_err("not linked");
        assert!(matches!(e, SegmentError::NotLinked { .. }), "{e}");
        // A record left out in the middle breaks the chain where it was.
        let a = j.segment(11, 14, &bytes).expect("cut");
        let b = j.segment(16, 20, &bytes).expect("cut");
        let gap = [a, b].concat();
        let e = read_segment(&gap, anchor(&j, 10, &state)).expect_err("gap");
        assert_eq!(
            e,
            SegmentError::NotLinked {
                offset: a.len(),
                after: 14,
                prev: j.records().get(13).expect("r").id
            }
        );
    }

    #[test]
    fn every_flipped_byte_and_every_cut_is_refused() {
        let (j, bytes) = journal(codec::FORMAT_VERSION, 12);
        let seg = j.segment(6, 9, &bytes).expect("cut");
        let state = State::clone(&j.records().get(4).expect("r").state);
        let boundaries: Vec<usize> = (6..=9)
            .map(|last| j.segment(6, last, &bytes).expect("cut").len())
            .chain([0])
            .collect();
        for i in 0..seg.len() {
            let mut bad = seg.to_vec();
            bad[i] ^= 0x20;
            assert!(
                read_segment(&bad, anchor(&j, 5, &state)).is_err(),
                "byte {i} flipped"
            );
            // A cut between frames is a shorter segment (what the caller's expected head
            // tells apart); anywhere else it is refused.
            match read_segment(&seg[..i], anchor(&j, 5, &state)) {
                Ok(s) => assert!(s.len < 4 && boundaries.contains(&i), "cut at {i}"),
                Err(e) => assert!(!boundaries.contains(&i), "cut at {i}: {e}"),
            }
        }
    }

    #[test]
    fn a_change_from_a_state_the_reader_lacks_is_refused() {
        // Record 3 is variant b's first; as the anchor of a segment read for b, the records
        // of b after it change from it. Anchored at record 2 (a) but read as b's, record 3
        // is a root's first (from nothing) and 6 changes from 3: both readable; a segment
        // starting after 3 with anchor a's record 4 read as b's has record 6 changing from 3,
        // which the reader does not have.
        let (j, bytes) = journal(codec::FORMAT_VERSION, 8);
        let seg = j.segment(5, 8, &bytes).expect("cut");
        let state = State::default();
        let as_b = Anchor {
            variant: "b",
            ..anchor(&j, 4, &state)
        };
        let e = read_segment(seg, as_b).expect_err("unknown base");
        assert!(
            matches!(
                e,
                SegmentError::Decode {
                    seq: 6,
                    source: DecodeError::UnknownBase { from_seq: 3 },
                    ..
                }
            ),
            "{e}"
        );
    }
}
