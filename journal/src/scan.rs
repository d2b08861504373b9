//! Opening a journal file: the header, then every frame, id, body and link checked; the good
//! records kept (built when first used, `table`); and how the file ends: clean, a torn tail
//! (a crash mid-append), or the first damaged record, named exactly.
//!
//! A long file is checked on several threads in one pass over its bytes. It is cut near equal
//! offsets, each cut moved to the first place that looks like a frame (a right header and end
//! marker, and another frame or the end of the data after it), and each thread walks and checks
//! the frames of its part: hash, chain, body. A cut is only a guess: the parts are joined in
//! order where each one ended exactly where the next began, with sequence numbers that go on.
//! Anything else (a part that met a bad frame, a cut inside a record) is walked again one frame
//! at a time from the last good frame, which names the first bad record as a single thread
//! would.

use store::Blake3;

use crate::codec::{
    check_change, file_header, ChangeHead, DecodeError, Decoded, BODY_WHOLE, FILE_HEADER_LEN,
    FILE_MAGIC, FORMAT_VERSION, FORMAT_VERSION_1, FRAME_END, FRAME_HEADER_LEN, FRAME_MAGIC,
    FRAME_TRAILER_LEN, MAX_BODY_LEN,
};
use crate::model::{CommitId, TxnId};
use crate::query::VariantIndex;
use crate::storage::Contents;
use crate::table::RecordTable;

/// Frames hashed together (see `Blake3::of_each`).
const BATCH: usize = 32;
/// How far ahead of the frame walk memory is asked for.
const PREFETCH_BYTES: usize = 4096;
/// Files with at least this many bytes of records are checked on several threads.
const PARALLEL_BYTES: usize = 1 << 20;
/// Sector size used to recognise never-written (zero) regions of a torn last frame.
const SECTOR: u64 = 512;
/// The shortest zero region taken as never written (see [`has_unwritten_sector`]).
const MIN_ZERO_RUN: u64 = 16;
/// The shortest frame: header, the fixed start of a body (version, prev, seq), trailer.
const MIN_FRAME: usize = FRAME_HEADER_LEN + 41 + FRAME_TRAILER_LEN;

// ---------------------------------------------------------------------------------------------
// What a scan finds

/// What is wrong with the first bad record (or the file header, at position 0).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    #[error("the file header is not a particle journal header")]
    BadFileHeader,
    #[error("journal format version {version} is not supported (this build reads version {FORMAT_VERSION})")]
    UnsupportedVersion { version: u32 },
    #[error("the frame header is damaged (bad magic or length check)")]
    BadFrameHeader,
    #[error("the frame's end marker is damaged")]
    BadFrameEnd,
    #[error("the stored id does not match the BLAKE3 of the record body (bytes changed)")]
    ChecksumMismatch,
    #[error("the record body does not decode: {message}")]
    Undecodable { message: String },
    #[error("sequence number {found} where {expected} was expected (record deleted, inserted or reordered)")]
    SeqMismatch { expected: u64, found: u64 },
    #[error("previous id {found} does not match the preceding record's id {expected} (record deleted, reordered or spliced in)")]
    PrevMismatch { expected: TxnId, found: TxnId },
    #[error("{message}")]
    Semantic { message: String },
    #[error("commit {commit} is not valid: {message}")]
    Commit { commit: CommitId, message: String },
}

/// The first bad record of a journal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("record {position} (byte offset {offset}{}): {problem}", .seq.map(|s| format!(", seq {s}")).unwrap_or_default())]
pub struct BadRecord {
    /// 1-based position in the file (the sequence number it should have); 0 = the file header.
    pub position: u64,
    /// The sequence number the record claims, when it could be read.
    pub seq: Option<u64>,
    /// Byte offset of the record's frame in the file.
    pub offset: u64,
    #[serde(flatten)]
    pub problem: Problem,
}

/// How a scanned file ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEnd {
    /// Every byte belongs to a committed record.
    Clean,
    /// The bytes from `offset` on are an incomplete append (a crash mid-write): safe to drop.
    Torn { offset: u64, len: u64 },
    /// A committed record is damaged: nothing after it can be trusted, and nothing may be appended.
    Corrupt(BadRecord),
}

/// The result of [`scan`]: the good prefix and how the file ends.
#[derive(Debug)]
pub struct Scan {
    /// The good records, each built when first used.
    pub records: RecordTable,
    /// Byte offset of each record's frame.
    pub offsets: Vec<u64>,
    /// Length of the good prefix in bytes (header + good frames); 0 if the file is empty.
    pub valid_len: u64,
    pub end: ScanEnd,
    /// The file's format version ([`FORMAT_VERSION`] for an empty file).
    pub format: u32,
    /// Each variant's records.
    pub(crate) index: VariantIndex,
}

fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// Whether a complete last frame with a bad checksum looks like never-written sectors rather
/// than changed bytes: power loss during a write can leave whole sectors unwritten (zeros), and a
/// sector write itself is atomic. A region counts if it is a whole aligned sector, or the part of
/// a sector inside the frame, and at least [`MIN_ZERO_RUN`] bytes long (so a few zero bytes that
/// happen to end a record never make damage look like a crash).
fn has_unwritten_sector(file: &[u8], start: usize) -> bool {
    let end = file.len() as u64;
    let mut s = (start as u64 / SECTOR) * SECTOR;
    while s < end {
        let e = (s + SECTOR).min(end);
        let from = s.max(start as u64);
        if e - from >= MIN_ZERO_RUN && all_zero(&file[from as usize..e as usize]) {
            return true;
        }
        s += SECTOR;
    }
    false
}

/// Parses a whole journal file image: header, then frames, checking framing, ids, every body
/// and the chain.
///
/// Zero bytes after the last frame are preallocated free space. The end of the data is
/// classified by the rules in `docs/format/journal.md`: a crash can only leave an incomplete or
/// partly written last frame (torn: dropped), anything else is corruption.
pub fn scan(file: &[u8]) -> Scan {
    scan_owned(Contents::Read(file.to_vec()))
}

/// [`scan`] of bytes the records keep: a record stored as a change is checked here and built
/// from them when first used ([`RecordTable`]).
pub(crate) fn scan_owned(file: Contents) -> Scan {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    scan_in_parts(file, threads, None)
}

/// [`scan`] with the parts cut at `cuts` (offsets, in order) instead of where frames are found,
/// so tests can make cuts that are not frame boundaries.
#[doc(hidden)]
pub fn scan_cut_at(file: &[u8], cuts: &[usize]) -> Scan {
    scan_in_parts(Contents::Read(file.to_vec()), cuts.len() + 1, Some(cuts))
}

fn scan_in_parts(file: Contents, threads: usize, cuts: Option<&[usize]>) -> Scan {
    let (format, data_end) = match scan_header(&file) {
        Ok((format, 0)) => return Scan::empty(format, ScanEnd::Clean),
        Ok(v) => v,
        Err(end) => return Scan::empty(FORMAT_VERSION, end),
    };
    let mut cuts = match cuts {
        Some(cuts) => cuts.to_vec(),
        None if threads < 2 || data_end < PARALLEL_BYTES => vec![],
        None => find_cuts(&file, data_end, threads),
    };
    // In order, each after room for a frame and before the end of the data.
    cuts.sort_unstable();
    cuts.dedup();
    cuts.retain(|&c| c >= FILE_HEADER_LEN + MIN_FRAME && c < data_end);
    let parts = walk_parts(&file, data_end, format, &cuts);
    // Join the parts while each begins where the one before it ended.
    let mut linked = Linked {
        seen: RecordTable::default(),
        offsets: vec![],
        index: VariantIndex::default(),
        prev: TxnId::GENESIS,
    };
    let mut at = FILE_HEADER_LEN;
    for part in parts {
        if part.start != at || part.first_seq != linked.offsets.len() as u64 + 1 {
            break;
        }
        at = part.end;
        let broken = part.broken;
        linked.append(part);
        if broken {
            break;
        }
    }
    // The rest one frame at a time: nothing, unless a part stopped at a bad frame or a cut was
    // not a frame boundary.
    let end = loop {
        if at >= data_end {
            break ScanEnd::Clean;
        }
        let position = linked.offsets.len() as u64 + 1;
        let frame_len = match frame_at(&file, at, data_end) {
            Ok(len) => len,
            Err(Stop::Torn) => {
                break ScanEnd::Torn {
                    offset: at as u64,
                    len: (data_end - at) as u64,
                }
            }
            Err(Stop::Corrupt(problem, seq)) => {
                break ScanEnd::Corrupt(BadRecord {
                    position,
                    seq,
                    offset: at as u64,
                    problem,
                })
            }
        };
        let hash = Blake3::of(body_of(&file, at, frame_len));
        let checked = check_frame(
            &file,
            at,
            frame_len,
            format,
            position,
            &linked.prev.0 .0,
            hash,
        );
        if let Err(end) = linked.link(&file, at, frame_len, data_end, checked) {
            break end;
        }
        at += frame_len;
    };
    let valid_len = at as u64;
    Scan {
        records: linked.seen.with_bytes(file),
        offsets: linked.offsets,
        valid_len,
        end,
        format,
        index: linked.index,
    }
}

impl Scan {
    /// The scan of a file with no records.
    fn empty(format: u32, end: ScanEnd) -> Scan {
        Scan {
            records: RecordTable::default(),
            offsets: vec![],
            valid_len: 0,
            end,
            format,
            index: VariantIndex::default(),
        }
    }
}

/// The file header: the format version and the end of the data (0: an empty journal), or why
/// the file is not one.
fn scan_header(file: &[u8]) -> Result<(u32, usize), ScanEnd> {
    let headers = [file_header(FORMAT_VERSION_1), file_header(FORMAT_VERSION)];
    // The end of the data: everything after it is zero (free space).
    let data_end = file.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if data_end == 0 {
        return Ok((FORMAT_VERSION, 0));
    }
    let bad_header = || BadRecord {
        position: 0,
        seq: None,
        offset: 0,
        problem: Problem::BadFileHeader,
    };
    let whole_header =
        file.len() >= FILE_HEADER_LEN && headers.iter().any(|h| file[..FILE_HEADER_LEN] == *h);
    if !whole_header && (data_end < FILE_HEADER_LEN || file.len() < FILE_HEADER_LEN) {
        // A crash while creating the file: a prefix of the header, then nothing or zeros.
        return Err(
            match headers.iter().any(|h| h.starts_with(&file[..data_end])) {
                true => ScanEnd::Torn {
                    offset: 0,
                    len: data_end as u64,
                },
                false => ScanEnd::Corrupt(bad_header()),
            },
        );
    }
    if file[..8] != FILE_MAGIC || file[12..16] != [0; 4] {
        return Err(ScanEnd::Corrupt(bad_header()));
    }
    let version = u32::from_le_bytes(file[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION && version != FORMAT_VERSION_1 {
        return Err(ScanEnd::Corrupt(BadRecord {
            problem: Problem::UnsupportedVersion { version },
            ..bad_header()
        }));
    }
    Ok((version, data_end))
}

/// The records linked so far by [`scan_owned`].
struct Linked {
    seen: RecordTable,
    offsets: Vec<u64>,
    index: VariantIndex,
    /// The id of the last record linked.
    prev: TxnId,
}

impl Linked {
    /// Adds the records of `part`, which continues the chain where these end.
    fn append(&mut self, part: Part<'_>) {
        let mut position = self.offsets.len();
        if self.offsets.is_empty() {
            self.seen = part.records;
            self.offsets = part.offsets;
        } else {
            self.seen.append(part.records);
            self.offsets.extend(part.offsets);
        }
        for (variant, n) in part.runs {
            self.index.push_run(variant, position, n);
            position += n;
        }
        if let Some(last) = part.last {
            self.prev = last;
        }
    }

    /// Links the checked frame at `at` after the records before it: the chain, then the body.
    /// `Err`: where the good records end.
    fn link(
        &mut self,
        file: &[u8],
        at: usize,
        frame_len: usize,
        data_end: usize,
        checked: Checked<'_>,
    ) -> Result<(), ScanEnd> {
        let position = self.offsets.len() as u64 + 1;
        let offset = at as u64;
        let bad = |problem, seq| {
            ScanEnd::Corrupt(BadRecord {
                position,
                seq,
                offset,
                problem,
            })
        };
        let (start, stop) = (at + FRAME_HEADER_LEN, at + frame_len - FRAME_TRAILER_LEN);
        let body = &file[start..stop];
        let seq = || {
            (body.len() >= 41)
                .then(|| u64::from_le_bytes(body[33..41].try_into().expect("8 bytes")))
        };
        let (id, linked, parsed) = match checked {
            None => {
                // Written to the end yet wrong: torn only if it is the last data and a whole
                // sector of it never reached the disk (power loss with out-of-order writeback).
                if data_end <= at + frame_len && has_unwritten_sector(&file[..at + frame_len], at) {
                    return Err(ScanEnd::Torn {
                        offset,
                        len: (data_end - at) as u64,
                    });
                }
                return Err(bad(Problem::ChecksumMismatch, seq()));
            }
            Some(c) => c,
        };
        // The chain first (seq and prev are at fixed offsets in every body version), so a
        // deleted or reordered record is named as such rather than as a change it cannot use.
        // The checker compared them already; only a break is looked at again, to name it.
        if let (false, Some(seq), Some(prev)) = (linked, seq(), body.get(1..33)) {
            if seq != position {
                let p = Problem::SeqMismatch {
                    expected: position,
                    found: seq,
                };
                return Err(bad(p, Some(seq)));
            }
            if prev != self.prev.0 .0 {
                let p = Problem::PrevMismatch {
                    expected: self.prev,
                    found: TxnId(Blake3(prev.try_into().expect("32 bytes"))),
                };
                return Err(bad(p, Some(seq)));
            }
        }
        let undecodable = |e: DecodeError| {
            bad(
                Problem::Undecodable {
                    message: e.to_string(),
                },
                None,
            )
        };
        match parsed.map_err(undecodable)? {
            Parsed::Built(decoded) => {
                // Only a whole state is built here, so nothing is looked up.
                let record = decoded.link(|_| None).map_err(undecodable)?;
                self.index.push(&record.variant, self.offsets.len());
                self.seen.push(record, (start, stop));
            }
            Parsed::Change(head) => {
                self.index.push(head.variant, self.offsets.len());
                self.seen.push_unbuilt((start, stop), id, head.needs);
            }
        }
        self.prev = id;
        self.offsets.push(offset);
        Ok(())
    }
}

/// Why a walk stopped at a frame that is not there whole.
enum Stop {
    /// An incomplete last frame.
    Torn,
    /// A frame that is not there whole and is not a crash's (named as the next record, with
    /// the sequence number it claims if that can be read).
    Corrupt(Problem, Option<u64>),
}

/// The length of the frame at `at` (before `data_end`) if its header and end marker are right,
/// else why a walk stops there. Reads only the header and the end marker.
fn frame_at(file: &[u8], at: usize, data_end: usize) -> Result<usize, Stop> {
    let rest = &file[at..];
    // Only zeros after `k` bytes of this frame: the frame is the last data in the file.
    let last_data_within = |k: usize| data_end <= at + k;
    if rest.len() < FRAME_HEADER_LEN {
        return Err(Stop::Torn);
    }
    let len = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    let check = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
    if rest[..4] != FRAME_MAGIC || check != !len || len > MAX_BODY_LEN {
        // A header cut short by a crash is a prefix of a header followed only by zeros.
        let cut = rest[..FRAME_HEADER_LEN]
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        if last_data_within(cut)
            && rest[..cut.min(4)] == FRAME_MAGIC[..cut.min(4)]
            && cut < FRAME_HEADER_LEN
        {
            return Err(Stop::Torn);
        }
        // The head of the last frame never reached the disk (power loss, out-of-order
        // writeback): a zero header, and the data ends with a frame end marker.
        let span = data_end - at;
        if rest[..FRAME_HEADER_LEN] == [0; FRAME_HEADER_LEN]
            && span >= FRAME_HEADER_LEN + FRAME_TRAILER_LEN
            && file[data_end - 4..data_end] == FRAME_END
        {
            return Err(Stop::Torn);
        }
        return Err(Stop::Corrupt(Problem::BadFrameHeader, None));
    }
    let frame_len = FRAME_HEADER_LEN + len as usize + FRAME_TRAILER_LEN;
    if rest.len() < frame_len {
        return Err(Stop::Torn);
    }
    if rest[frame_len - 4..frame_len] != FRAME_END {
        // No end marker: torn if the data stops inside this frame (a write cut short, the
        // rest still zeros); a frame that is all there but ends wrongly is damage.
        if !last_data_within(frame_len - 1) {
            return Err(Stop::Corrupt(
                Problem::BadFrameEnd,
                seq_of(&rest[..frame_len]),
            ));
        }
        return Err(Stop::Torn);
    }
    Ok(frame_len)
}

/// The sequence number a frame's body claims, if it is long enough to hold one.
fn seq_of(frame: &[u8]) -> Option<u64> {
    let at = FRAME_HEADER_LEN + 33;
    let seq = frame.get(at..at + 8)?;
    Some(u64::from_le_bytes(seq.try_into().expect("8 bytes")))
}

/// The id stored in the trailer of the frame that ends at `end`.
fn stored_id(file: &[u8], end: usize) -> &[u8] {
    &file[end - FRAME_TRAILER_LEN..end - 4]
}

/// What checking a frame found: `None` if the stored id is not the BLAKE3 of the body, else
/// the id, whether the body continues the chain (its seq, and the id of the record before it),
/// and the body, checked.
type Checked<'a> = Option<(TxnId, bool, Result<Parsed<'a>, DecodeError>)>;

/// A checked body: decoded (a whole state: body version 1 or a checkpoint), or a change that is
/// built when first used.
enum Parsed<'a> {
    Built(Box<Decoded>),
    Change(ChangeHead<'a>),
}

/// The body of the frame at `at`, `frame_len` long.
fn body_of(file: &[u8], at: usize, frame_len: usize) -> &[u8] {
    &file[at + FRAME_HEADER_LEN..at + frame_len - FRAME_TRAILER_LEN]
}

/// Checks the frame at `at` (`frame_len` long, its framing right, `id` the BLAKE3 of its body)
/// as record `seq`, after the record whose id is `prev`: its id, its place in the chain, its
/// body.
fn check_frame<'a>(
    file: &'a [u8],
    at: usize,
    frame_len: usize,
    format: u32,
    seq: u64,
    prev: &[u8],
    id: Blake3,
) -> Checked<'a> {
    let body = body_of(file, at, frame_len);
    if id.0 != stored_id(file, at + frame_len) {
        return None;
    }
    let id = TxnId(id);
    let linked = body.len() >= 41 && body[1..33] == *prev && body[33..41] == seq.to_le_bytes();
    let parsed = match body.first() {
        // A version 1 file holds whole states only, so older readers can read all of it.
        Some(&v) if v != BODY_WHOLE && format == FORMAT_VERSION_1 => {
            Err(DecodeError::UnknownVersion(v))
        }
        _ => match check_change(body) {
            Ok(Some(head)) => Ok(Parsed::Change(head)),
            Ok(None) => Decoded::parse(body, id).map(|d| Parsed::Built(Box::new(d))),
            Err(e) => Err(e),
        },
    };
    Some((id, linked, parsed))
}

/// Where to cut `file` into `parts` parts: for each cut, the first place at or after its share
/// of the bytes that looks like a frame boundary. Fewer cuts where none is found.
fn find_cuts(file: &[u8], data_end: usize, parts: usize) -> Vec<usize> {
    let span = data_end - FILE_HEADER_LEN;
    let mut cuts: Vec<usize> = Vec::with_capacity(parts - 1);
    for k in 1..parts {
        let from = (FILE_HEADER_LEN + span / parts * k).max(cuts.last().map_or(0, |&c| c + 1));
        match frame_near(file, from, data_end) {
            Some(c) => cuts.push(c),
            None => break,
        }
    }
    cuts
}

/// The first offset at or after `from` that looks like the start of a frame after another
/// one: its header and end marker are right, and another frame's magic or the end of the data
/// follows it. A guess the walk confirms (a body could hold such bytes).
fn frame_near(file: &[u8], from: usize, data_end: usize) -> Option<usize> {
    let mut at = from.max(FILE_HEADER_LEN + MIN_FRAME);
    while at + FRAME_HEADER_LEN <= data_end {
        let found = at
            + file[at..data_end]
                .windows(FRAME_MAGIC.len())
                .position(|w| w == FRAME_MAGIC)?;
        if let Ok(len) = frame_at(file, found, data_end) {
            let next = found + len;
            if next == data_end || file.get(next..next + 4) == Some(&FRAME_MAGIC[..]) {
                return Some(found);
            }
        }
        at = found + 1;
    }
    None
}

/// The good frames a walk found from `start`, checked and chained among themselves.
struct Part<'a> {
    start: usize,
    /// Where the walk stopped: the first frame at or past its limit, the end of the data, or
    /// (`broken`) a frame that is not good.
    end: usize,
    broken: bool,
    /// The seq of the first frame (the one it claims, for a part that starts at a cut).
    first_seq: u64,
    records: RecordTable,
    offsets: Vec<u64>,
    /// Each variant's records in a row: the name and how many.
    runs: Vec<(&'a str, usize)>,
    /// The id of the last record.
    last: Option<TxnId>,
}

/// Walks the parts between `cuts` (the first from the file header, the last to `data_end`),
/// each on its own thread.
fn walk_parts<'a>(file: &'a [u8], data_end: usize, format: u32, cuts: &[usize]) -> Vec<Part<'a>> {
    let starts: Vec<usize> = std::iter::once(FILE_HEADER_LEN)
        .chain(cuts.iter().copied())
        .collect();
    let limit = |k: usize| starts.get(k + 1).copied().unwrap_or(data_end);
    if starts.len() == 1 {
        return vec![walk_part(file, data_end, format, FILE_HEADER_LEN, data_end)];
    }
    std::thread::scope(|scope| {
        let later: Vec<_> = (1..starts.len())
            .map(|k| {
                let (start, limit) = (starts[k], limit(k));
                scope.spawn(move || walk_part(file, data_end, format, start, limit))
            })
            .collect();
        let first = walk_part(file, data_end, format, FILE_HEADER_LEN, limit(0));
        std::iter::once(first)
            .chain(
                later
                    .into_iter()
                    .map(|h| h.join().expect("a frame checker panicked")),
            )
            .collect()
    })
}

/// Walks and checks the frames from `start` until one starts at or past `limit`, or a frame is
/// not good. The first frame continues the chain of the record before it: seq 1 after the file
/// header, else the seq it claims after the id stored just before it (the walk from the start
/// confirms both when the parts are joined).
fn walk_part(file: &[u8], data_end: usize, format: u32, start: usize, limit: usize) -> Part<'_> {
    let (mut seq, mut prev): (u64, &[u8]) = match start {
        FILE_HEADER_LEN => (1, &TxnId::GENESIS.0 .0[..]),
        _ => (
            seq_of(&file[start..data_end]).unwrap_or(0),
            stored_id(file, start),
        ),
    };
    let mut part = Part {
        start,
        end: start,
        broken: false,
        first_seq: seq,
        records: RecordTable::default(),
        // Room for records of 256 bytes on average (a long journal of small changes averages
        // 450), so the lists are rarely grown.
        offsets: Vec::with_capacity(limit.saturating_sub(start) / 256),
        runs: vec![],
        last: None,
    };
    part.records.reserve(limit.saturating_sub(start) / 256);
    let mut at = start;
    // Memory up to here has been asked for (see `store::prefetch`).
    let mut fetched = start;
    let mut frames: Vec<(usize, usize)> = Vec::with_capacity(BATCH);
    let mut bodies: Vec<&[u8]> = Vec::with_capacity(BATCH);
    let mut hashes = Vec::with_capacity(BATCH);
    'walk: while at < limit && at < data_end {
        // The next frames by their headers, hashed together.
        frames.clear();
        let mut next = at;
        while frames.len() < BATCH && next < limit && next < data_end {
            let ahead = (next + PREFETCH_BYTES).min(data_end);
            if ahead > fetched {
                store::prefetch(&file[fetched..ahead]);
                fetched = ahead;
            }
            let Ok(frame_len) = frame_at(file, next, data_end) else {
                break;
            };
            frames.push((next, frame_len));
            next += frame_len;
        }
        if frames.is_empty() {
            part.broken = true;
            break;
        }
        bodies.clear();
        bodies.extend(frames.iter().map(|&(f, len)| body_of(file, f, len)));
        Blake3::of_each(&bodies, &mut hashes);
        // The frames follow each other from `at`.
        for (&(_, frame_len), &hash) in frames.iter().zip(&hashes) {
            let checked = check_frame(file, at, frame_len, format, seq, prev, hash);
            let Some((id, true, Ok(parsed))) = checked else {
                part.broken = true;
                break 'walk;
            };
            let body = (at + FRAME_HEADER_LEN, at + frame_len - FRAME_TRAILER_LEN);
            let variant = match parsed {
                Parsed::Change(head) => {
                    part.records.push_unbuilt(body, id, head.needs);
                    head.variant
                }
                Parsed::Built(decoded) => match decoded.link(|_| None) {
                    Ok(record) => {
                        part.records.push(record, body);
                        crate::codec::variant_of(&file[body.0..body.1])
                            .expect("a decoded body names its variant")
                    }
                    Err(_) => {
                        part.broken = true;
                        break 'walk;
                    }
                },
            };
            match part.runs.last_mut() {
                Some((v, n)) if *v == variant => *n += 1,
                _ => part.runs.push((variant, 1)),
            }
            part.offsets.push(at as u64);
            part.last = Some(id);
            prev = stored_id(file, at + frame_len);
            seq += 1;
            at += frame_len;
        }
    }
    part.end = at;
    part
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use store::Sha256;

    use super::*;
    use crate::model::{Actor, NewRecord, PackageEntry, Profile, Request, State, Value};
    use crate::{FaultyStorage, Journal};

    /// A journal of `n` records over three variants in runs of different lengths, each changing
    /// one of forty packages (a whole state every 256 of a variant), as its durable bytes.
    fn journal(n: u64) -> Vec<u8> {
        let disk = FaultyStorage::new();
        let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
        let mut states: BTreeMap<&str, State> = BTreeMap::new();
        for i in 0..n {
            let variant = ["base", "bosom", "euclase"][(i / (3 + i % 5)) as usize % 3];
            let state = states.entry(variant).or_insert_with(|| State {
                indices: BTreeMap::new(),
                packages: (0..40)
                    .map(|p| PackageEntry {
                        name: format!("lib{p:02}"),
                        version: "1.0-1".into(),
                        arch: "amd64".into(),
                        sha256: Sha256::of(format!("lib{p:02}").as_bytes()),
                    })
                    .collect(),
                profile: Profile {
                    kargs: vec![],
                    initramfs: BTreeMap::new(),
                    sysctl: BTreeMap::new(),
                    hardware: Value::Null,
                },
            });
            state.packages[(i % 40) as usize].version = format!("1.0-1+u{i}");
            j.append(NewRecord {
                time: i as i64,
                actor: Actor {
                    user: "root".into(),
                    host: "h".into(),
                },
                reason: String::new(),
                variant: variant.into(),
                request: Request::Upgrade,
                state: state.clone(),
                commit: CommitId(Sha256::of(&i.to_le_bytes())),
                base: None,
            })
            .expect("append");
        }
        disk.durable()
    }

    /// Everything a scan found, to compare.
    fn seen(s: &Scan) -> impl PartialEq + std::fmt::Debug + '_ {
        let ids: Vec<TxnId> = (0..s.records.len())
            .map(|i| s.records.id(i).expect("id"))
            .collect();
        (ids, &s.offsets, s.valid_len, &s.end, s.format, &s.index)
    }

    /// Cut anywhere (at a frame, inside one, at its first or last byte, several times), a scan
    /// on several threads finds what one thread finds, on a good journal and on damaged ones:
    /// the cut only decides who checks what.
    #[test]
    fn a_scan_cut_anywhere_finds_what_one_thread_finds() {
        let file = journal(3000);
        let single = scan_cut_at(&file, &[]);
        assert_eq!((single.records.len(), &single.end), (3000, &ScanEnd::Clean));
        let frames: Vec<usize> = single.offsets.iter().map(|&o| o as usize).collect();
        let data_end = single.valid_len as usize;
        // The cuts `find_cuts` makes are frame boundaries.
        let found = find_cuts(&file, data_end, 3);
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|c| frames.contains(c)), "{found:?}");
        let mid = frames[1500];
        let cuts: Vec<Vec<usize>> = vec![
            found.clone(),
            vec![mid],
            vec![mid + 1],
            vec![mid - 1],
            vec![frames[1], frames[2999]],
            vec![frames[700] + 13, mid, frames[2200] + 400],
            vec![mid, mid],
            vec![frames[2000], mid],
            vec![data_end - 1],
            vec![data_end + 10],
        ];
        let mut damaged = vec![file.clone()];
        // A flipped byte in the record at the middle cut, a record deleted after it, the tail
        // torn inside the last record.
        let mut flipped = file.clone();
        flipped[mid + 60] ^= 1;
        damaged.push(flipped);
        let mut deleted = file[..frames[1600]].to_vec();
        deleted.extend_from_slice(&file[frames[1601]..]);
        damaged.push(deleted);
        damaged.push(file[..data_end - 20].to_vec());
        for bytes in &damaged {
            let one = scan_cut_at(bytes, &[]);
            for c in &cuts {
                let parts = scan_cut_at(bytes, c);
                assert_eq!(seen(&parts), seen(&one), "cut at {c:?}");
            }
            assert_eq!(seen(&scan(bytes)), seen(&one));
        }
        assert!(matches!(
            scan(&damaged[1]).end,
            ScanEnd::Corrupt(BadRecord {
                position: 1501,
                problem: Problem::ChecksumMismatch,
                ..
            })
        ));
        assert!(matches!(
            scan(&damaged[2]).end,
            ScanEnd::Corrupt(BadRecord {
                position: 1601,
                problem: Problem::SeqMismatch { .. },
                ..
            })
        ));
        assert!(matches!(scan(&damaged[3]).end, ScanEnd::Torn { .. }));
    }
}
