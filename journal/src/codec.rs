//! The on-disk format, versions 1 and 2 (specified byte by byte in `docs/format/journal.md`).
//!
//! Pure: `encode_*` build bytes, [`decode_record`] parses one record body, [`scan`] parses a whole
//! journal file image and classifies its end (clean, torn tail, corrupt). No I/O here.

use std::collections::BTreeMap;

use store::{Blake3, Sha256};

use crate::model::{
    Actor, Change, CommitId, NewRecord, PackageEntry, PackageSpec, Profile, Provenance, Record,
    RecordState, Request, State, StoredDiff, TxnId, Value,
};
use crate::query::{Changed, Diff, Direction, IndexChange, ProfileChange};

/// The file header: magic, format version, flags.
pub(crate) const FILE_MAGIC: [u8; 8] = *b"PTCLJRNL";
/// The format version of new journal files. Readers accept exactly the versions they know:
/// 1 (every body version 1) and 2 (bodies of version 1 or 2). A file keeps its version: a
/// version 1 journal is appended to in body version 1, so older particle binaries still read it.
pub const FORMAT_VERSION: u32 = 2;
/// The first format version, still read and appended to.
pub const FORMAT_VERSION_1: u32 = 1;
pub(crate) const FILE_HEADER_LEN: usize = 16;
/// Each frame starts with this.
pub(crate) const FRAME_MAGIC: [u8; 4] = *b"PJRC";
pub(crate) const FRAME_HEADER_LEN: usize = 12;
/// The trailer: the 32-byte id, then [`FRAME_END`].
pub(crate) const FRAME_TRAILER_LEN: usize = 36;
/// Ends every frame: a frame without it was never completely written.
pub(crate) const FRAME_END: [u8; 4] = *b"PEND";
/// The largest record body accepted (64 MiB): far above any real package set.
pub(crate) const MAX_BODY_LEN: u32 = 64 << 20;
/// The record body holding the whole state (the only one in a version 1 file).
pub(crate) const BODY_WHOLE: u8 = 1;
/// The record body holding the change from the state before it (version 2 files).
const BODY_CHANGE: u8 = 2;
/// Deepest nesting accepted in a hardware [`Value`].
const MAX_VALUE_DEPTH: u32 = 64;

/// The 16-byte header every journal file of format `version` starts with.
pub(crate) fn file_header(version: u32) -> [u8; FILE_HEADER_LEN] {
    let mut h = [0u8; FILE_HEADER_LEN];
    h[..8].copy_from_slice(&FILE_MAGIC);
    h[8..12].copy_from_slice(&version.to_le_bytes());
    h
}

/// Why a record body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record body ends early at byte {at} (needed {needed} more)")]
    Truncated { at: usize, needed: usize },
    #[error("unknown record body version {0}")]
    UnknownVersion(u8),
    #[error("the record is made from record {from_seq}, which is not before it")]
    UnknownBase { from_seq: u64 },
    #[error("unknown request tag {tag} at byte {at}")]
    UnknownRequest { tag: u8, at: usize },
    #[error("unknown value tag {tag} at byte {at}")]
    UnknownValue { tag: u8, at: usize },
    #[error("invalid boolean byte {value} at byte {at}")]
    BadBool { value: u8, at: usize },
    #[error("string at byte {at} is not UTF-8")]
    NotUtf8 { at: usize },
    #[error("{what} at byte {at} is not in strictly increasing order")]
    NotCanonical { what: &'static str, at: usize },
    #[error("hardware value nested deeper than {MAX_VALUE_DEPTH} at byte {at}")]
    TooDeep { at: usize },
    #[error("{extra} trailing bytes after the record body")]
    TrailingBytes { extra: usize },
}

// ---------------------------------------------------------------------------------------------
// Encoding

struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes32(&mut self, v: &[u8; 32]) {
        self.0.extend_from_slice(v);
    }
    fn len(&mut self, n: usize) {
        self.u32(
            u32::try_from(n).expect("collections and strings in a record are far below 4 GiB"),
        );
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn strs(&mut self, v: &[String]) {
        self.len(v.len());
        for s in v {
            self.str(s);
        }
    }
    fn str_map(&mut self, m: &BTreeMap<String, String>) {
        self.len(m.len());
        for (k, v) in m {
            self.str(k);
            self.str(v);
        }
    }
    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.u8(0),
            Value::Bool(false) => self.u8(1),
            Value::Bool(true) => self.u8(2),
            Value::Int(i) => {
                self.u8(3);
                self.i64(*i);
            }
            Value::Str(s) => {
                self.u8(4);
                self.str(s);
            }
            Value::List(items) => {
                self.u8(5);
                self.len(items.len());
                for i in items {
                    self.value(i);
                }
            }
            Value::Map(m) => {
                self.u8(6);
                self.len(m.len());
                for (k, v) in m {
                    self.str(k);
                    self.value(v);
                }
            }
        }
    }
    fn opt_str(&mut self, v: Option<&String>) {
        match v {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn package(&mut self, p: &PackageEntry) {
        self.str(&p.name);
        self.str(&p.version);
        self.str(&p.arch);
        self.bytes32(&p.sha256.0);
    }
    fn packages(&mut self, v: &[PackageEntry]) {
        self.len(v.len());
        for p in v {
            self.package(p);
        }
    }
    fn state(&mut self, st: &State) {
        self.len(st.indices.len());
        for (name, sha) in &st.indices {
            self.str(name);
            self.bytes32(&sha.0);
        }
        self.packages(&st.packages);
        self.strs(&st.profile.kargs);
        self.str_map(&st.profile.initramfs);
        self.str_map(&st.profile.sysctl);
        self.value(&st.profile.hardware);
    }
    fn diff(&mut self, d: &Diff) {
        self.packages(&d.removed);
        self.packages(&d.added);
        self.len(d.changed.len());
        for c in &d.changed {
            self.str(&c.name);
            self.str(&c.arch);
            self.str(&c.from);
            self.bytes32(&c.from_sha256.0);
            self.str(&c.to);
            self.bytes32(&c.to_sha256.0);
        }
        let kargs = d.profile.iter().find_map(|c| match c {
            ProfileChange::Kargs { from, to, .. } => Some((from, to)),
            _ => None,
        });
        match kargs {
            None => self.u8(0),
            Some((from, to)) => {
                self.u8(1);
                self.strs(from);
                self.strs(to);
            }
        }
        for initramfs in [true, false] {
            let keyed: Vec<_> = d
                .profile
                .iter()
                .filter_map(|c| match c {
                    ProfileChange::Initramfs { key, from, to } if initramfs => {
                        Some((key, from, to))
                    }
                    ProfileChange::Sysctl { key, from, to } if !initramfs => Some((key, from, to)),
                    _ => None,
                })
                .collect();
            self.len(keyed.len());
            for (key, from, to) in keyed {
                self.str(key);
                self.opt_str(from.as_ref());
                self.opt_str(to.as_ref());
            }
        }
        let hardware = d.profile.iter().find_map(|c| match c {
            ProfileChange::Hardware { from, to } => Some((from, to)),
            _ => None,
        });
        match hardware {
            None => self.u8(0),
            Some((from, to)) => {
                self.u8(1);
                self.value(from);
                self.value(to);
            }
        }
        self.len(d.indices.len());
        for ch in &d.indices {
            self.str(&ch.source);
            for sha in [&ch.from, &ch.to] {
                match sha {
                    None => self.u8(0),
                    Some(s) => {
                        self.u8(1);
                        self.bytes32(&s.0);
                    }
                }
            }
        }
    }
    fn request(&mut self, r: &Request) {
        match r {
            Request::Install {
                packages,
                no_recommends,
            } => {
                self.u8(1);
                self.len(packages.len());
                for p in packages {
                    self.str(&p.name);
                    match &p.version {
                        None => self.u8(0),
                        Some(v) => {
                            self.u8(1);
                            self.str(v);
                        }
                    }
                }
                self.u8(u8::from(*no_recommends));
            }
            Request::Remove { packages } => {
                self.u8(2);
                self.strs(packages);
            }
            Request::Upgrade => self.u8(3),
            Request::Rollback { to_seq, to } => {
                self.u8(4);
                self.u64(*to_seq);
                self.bytes32(&to.0 .0);
            }
            Request::Kargs { append, delete } => {
                self.u8(5);
                self.strs(append);
                self.strs(delete);
            }
            Request::Initramfs { set } => {
                self.u8(6);
                self.str_map(set);
            }
            Request::Sysctl { set } => {
                self.u8(7);
                self.str_map(set);
            }
            Request::Hardware { source } => {
                self.u8(8);
                self.str(source);
            }
            Request::VariantCreate {
                parent,
                parent_seq,
                parent_txn,
            } => {
                self.u8(9);
                self.str(parent);
                self.u64(*parent_seq);
                self.bytes32(&parent_txn.0 .0);
            }
            Request::Rebase {
                parent,
                parent_seq,
                parent_txn,
            } => {
                self.u8(10);
                self.str(parent);
                self.u64(*parent_seq);
                self.bytes32(&parent_txn.0 .0);
            }
            Request::Apply { file, definition } => {
                self.u8(11);
                self.str(file);
                self.str(definition);
            }
            Request::Origin { from, seq, txn } => {
                self.u8(12);
                self.str(from);
                self.u64(*seq);
                self.bytes32(&txn.0 .0);
            }
        }
    }
}

/// The fields of a record besides its chain position and state.
pub(crate) struct Parts<'a> {
    pub(crate) time: i64,
    pub(crate) actor: &'a Actor,
    pub(crate) reason: &'a str,
    pub(crate) variant: &'a str,
    pub(crate) request: &'a Request,
    pub(crate) commit: &'a CommitId,
    pub(crate) base: Option<&'a Provenance>,
}

impl<'a> Parts<'a> {
    pub(crate) fn of_new(r: &'a NewRecord) -> Parts<'a> {
        Parts {
            time: r.time,
            actor: &r.actor,
            reason: &r.reason,
            variant: &r.variant,
            request: &r.request,
            commit: &r.commit,
            base: r.base.as_ref(),
        }
    }

    fn of(r: &'a Record) -> Parts<'a> {
        Parts {
            time: r.time,
            actor: &r.actor,
            reason: &r.reason,
            variant: &r.variant,
            request: &r.request,
            commit: &r.commit,
            base: r.base.as_ref(),
        }
    }
}

/// How a body stores its state.
pub(crate) enum Stored<'a> {
    /// Body version 1: the whole state.
    Whole(&'a State),
    /// Body version 2: the change from record `from_seq`'s state (0: the empty state), and the
    /// whole state too at a checkpoint.
    Change {
        from_seq: u64,
        diff: &'a Diff,
        checkpoint: Option<&'a State>,
    },
}

/// The canonical body of a record with the given chain position. Its BLAKE3 is the record id.
///
/// Package sets and lists must already be sorted by (name, arch) without duplicates and maps are
/// `BTreeMap`s, so the encoding is canonical; [`crate::Journal::append`] checks this.
pub(crate) fn encode_body(seq: u64, prev: &TxnId, r: &Parts<'_>, stored: &Stored<'_>) -> Vec<u8> {
    let mut e = Enc(Vec::with_capacity(match stored {
        Stored::Whole(st) => 256 + st.packages.len() * 80,
        Stored::Change { .. } => 512,
    }));
    e.u8(match stored {
        Stored::Whole(_) => BODY_WHOLE,
        Stored::Change { .. } => BODY_CHANGE,
    });
    e.bytes32(&prev.0 .0);
    e.u64(seq);
    e.i64(r.time);
    e.str(&r.actor.user);
    e.str(&r.actor.host);
    e.str(r.reason);
    e.str(r.variant);
    e.request(r.request);
    match stored {
        Stored::Whole(st) => e.state(st),
        Stored::Change {
            from_seq,
            diff,
            checkpoint,
        } => {
            e.u64(*from_seq);
            e.diff(diff);
            match checkpoint {
                None => e.u8(0),
                Some(st) => {
                    e.u8(1);
                    e.state(st);
                }
            }
        }
    }
    e.bytes32(&r.commit.0 .0);
    match &r.base {
        None => e.u8(0),
        Some(b) => {
            e.u8(1);
            e.str(&b.variant);
            e.u64(b.seq);
            e.bytes32(&b.txn.0 .0);
        }
    }
    e.0
}

/// The canonical body of an existing record (what its id is the hash of).
pub fn encode_record(r: &Record) -> Vec<u8> {
    let stored = match r.state.change() {
        None => Stored::Whole(&r.state),
        Some(c) => Stored::Change {
            from_seq: c.from_seq,
            diff: c.diff.get(),
            checkpoint: c.checkpoint.then(|| &*r.state),
        },
    };
    encode_body(r.seq, &r.prev, &Parts::of(r), &stored)
}

/// A whole frame around `body`: header, body, id (BLAKE3 of the body).
pub(crate) fn encode_frame(body: &[u8], id: &TxnId) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("record bodies are bounded by MAX_BODY_LEN");
    let mut f = Vec::with_capacity(FRAME_HEADER_LEN + body.len() + FRAME_TRAILER_LEN);
    f.extend_from_slice(&FRAME_MAGIC);
    f.extend_from_slice(&len.to_le_bytes());
    f.extend_from_slice(&(!len).to_le_bytes());
    f.extend_from_slice(body);
    f.extend_from_slice(&id.0 .0);
    f.extend_from_slice(&FRAME_END);
    f
}

// ---------------------------------------------------------------------------------------------
// Decoding

#[derive(Clone)]
struct Dec<'a> {
    buf: &'a [u8],
    at: usize,
    /// Reading a body checked already (at open): strings are not checked for UTF-8 again.
    checked: bool,
}

impl<'a> Dec<'a> {
    fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec {
            buf,
            at: 0,
            checked: false,
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let rest = self.buf.len() - self.at;
        if rest < n {
            return Err(DecodeError::Truncated {
                at: self.at,
                needed: n - rest,
            });
        }
        let s = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Result<bool, DecodeError> {
        let at = self.at;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::BadBool { value, at }),
        }
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn bytes32(&mut self) -> Result<[u8; 32], DecodeError> {
        self.array()
    }
    /// A count of items each at least `min_item` bytes long; rejects counts the rest cannot hold,
    /// so a hostile count never makes us allocate.
    fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        let rest = self.buf.len() - self.at;
        let needed = n.saturating_mul(min_item);
        if needed > rest {
            return Err(DecodeError::Truncated {
                at: self.at,
                needed: needed - rest,
            });
        }
        Ok(n)
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        let at = self.at;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::NotUtf8 { at })
    }
    fn strs(&mut self) -> Result<Vec<String>, DecodeError> {
        let n = self.count(4)?;
        (0..n).map(|_| self.str()).collect()
    }
    fn str_map(&mut self, what: &'static str) -> Result<BTreeMap<String, String>, DecodeError> {
        let n = self.count(8)?;
        let mut m = BTreeMap::new();
        let mut last: Option<String> = None;
        for _ in 0..n {
            let at = self.at;
            let k = self.str()?;
            if last.as_ref().is_some_and(|l| *l >= k) {
                return Err(DecodeError::NotCanonical { what, at });
            }
            let v = self.str()?;
            last = Some(k.clone());
            m.insert(k, v);
        }
        Ok(m)
    }
    fn value(&mut self, depth: u32) -> Result<Value, DecodeError> {
        let at = self.at;
        if depth > MAX_VALUE_DEPTH {
            return Err(DecodeError::TooDeep { at });
        }
        Ok(match self.u8()? {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Int(self.i64()?),
            4 => Value::Str(self.str()?),
            5 => {
                let n = self.count(1)?;
                let items = (0..n)
                    .map(|_| self.value(depth + 1))
                    .collect::<Result<_, _>>()?;
                Value::List(items)
            }
            6 => {
                let n = self.count(5)?;
                let mut m = BTreeMap::new();
                let mut last: Option<String> = None;
                for _ in 0..n {
                    let at = self.at;
                    let k = self.str()?;
                    if last.as_ref().is_some_and(|l| *l >= k) {
                        return Err(DecodeError::NotCanonical {
                            what: "hardware map key",
                            at,
                        });
                    }
                    let v = self.value(depth + 1)?;
                    last = Some(k.clone());
                    m.insert(k, v);
                }
                Value::Map(m)
            }
            tag => return Err(DecodeError::UnknownValue { tag, at }),
        })
    }
    fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        Ok(if self.bool()? {
            Some(self.str()?)
        } else {
            None
        })
    }
    fn sha(&mut self) -> Result<Sha256, DecodeError> {
        Ok(Sha256(self.bytes32()?))
    }
    fn opt_sha(&mut self) -> Result<Option<Sha256>, DecodeError> {
        Ok(if self.bool()? {
            Some(self.sha()?)
        } else {
            None
        })
    }
    /// A list of items, each with a key that must be strictly greater than the one before.
    fn sorted<T, K: PartialOrd>(
        &mut self,
        min_item: usize,
        what: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<T, DecodeError>,
        key: impl Fn(&T) -> K,
    ) -> Result<Vec<T>, DecodeError> {
        let n = self.count(min_item)?;
        let mut out: Vec<T> = Vec::with_capacity(n);
        for _ in 0..n {
            let at = self.at;
            let x = item(self)?;
            if out.last().is_some_and(|l| key(l) >= key(&x)) {
                return Err(DecodeError::NotCanonical { what, at });
            }
            out.push(x);
        }
        Ok(out)
    }
    fn packages(&mut self) -> Result<Vec<PackageEntry>, DecodeError> {
        self.sorted(
            44,
            "package (name, arch)",
            |d| {
                Ok(PackageEntry {
                    name: d.str()?,
                    version: d.str()?,
                    arch: d.str()?,
                    sha256: d.sha()?,
                })
            },
            |p| (p.name.clone(), p.arch.clone()),
        )
    }
    fn state(&mut self) -> Result<State, DecodeError> {
        let indices = self
            .sorted(
                36,
                "index source name",
                |d| Ok((d.str()?, d.sha()?)),
                |x| x.0.clone(),
            )?
            .into_iter()
            .collect();
        let packages = self.packages()?;
        Ok(State {
            indices,
            packages,
            profile: Profile {
                kargs: self.strs()?,
                initramfs: self.str_map("initramfs key")?,
                sysctl: self.str_map("sysctl key")?,
                hardware: self.value(0)?,
            },
        })
    }
    fn diff(&mut self) -> Result<Diff, DecodeError> {
        let removed = self.packages()?;
        let added = self.packages()?;
        let changed = self.sorted(
            80,
            "changed package (name, arch)",
            |d| {
                let (name, arch) = (d.str()?, d.str()?);
                let (from, from_sha256) = (d.str()?, d.sha()?);
                let (to, to_sha256) = (d.str()?, d.sha()?);
                let direction = Direction::of(&from, &to);
                Ok(Changed {
                    name,
                    arch,
                    from,
                    to,
                    direction,
                    from_sha256,
                    to_sha256,
                })
            },
            |c| (c.name.clone(), c.arch.clone()),
        )?;
        let mut profile = Vec::new();
        if self.bool()? {
            let (from, to) = (self.strs()?, self.strs()?);
            profile.push(ProfileChange::Kargs {
                added: crate::query::list_minus(&to, &from),
                removed: crate::query::list_minus(&from, &to),
                from,
                to,
            });
        }
        for (what, initramfs) in [("initramfs change key", true), ("sysctl change key", false)] {
            let keyed = self.sorted(
                6,
                what,
                |d| Ok((d.str()?, d.opt_str()?, d.opt_str()?)),
                |x| x.0.clone(),
            )?;
            profile.extend(keyed.into_iter().map(|(key, from, to)| match initramfs {
                true => ProfileChange::Initramfs { key, from, to },
                false => ProfileChange::Sysctl { key, from, to },
            }));
        }
        if self.bool()? {
            profile.push(ProfileChange::Hardware {
                from: self.value(0)?,
                to: self.value(0)?,
            });
        }
        let indices = self.sorted(
            6,
            "index change source",
            |d| {
                Ok(IndexChange {
                    source: d.str()?,
                    from: d.opt_sha()?,
                    to: d.opt_sha()?,
                })
            },
            |c| c.source.clone(),
        )?;
        Ok(Diff {
            added,
            removed,
            changed,
            profile,
            indices,
        })
    }
    /// A string, borrowed (checked as [`Self::str`] does, without allocating).
    fn str_ref(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.u32()? as usize;
        let at = self.at;
        let b = self.take(n)?;
        std::str::from_utf8(b).map_err(|_| DecodeError::NotUtf8 { at })
    }
    /// A string's bytes, checked for UTF-8 unless the body was checked before.
    fn text(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        let at = self.at;
        let b = self.take(n)?;
        // Most strings (names, versions) are ASCII: checked a word at a time, inline.
        match self.checked || b.is_ascii() || std::str::from_utf8(b).is_ok() {
            true => Ok(b),
            false => Err(DecodeError::NotUtf8 { at }),
        }
    }
    fn skip_opt_str(&mut self) -> Result<(), DecodeError> {
        if self.bool()? {
            self.text()?;
        }
        Ok(())
    }
    fn skip_opt_sha(&mut self) -> Result<(), DecodeError> {
        if self.bool()? {
            self.take(32)?;
        }
        Ok(())
    }
    /// [`Self::sorted`] without building the items: `item` checks one and returns its key.
    fn skip_sorted<K: PartialOrd>(
        &mut self,
        min_item: usize,
        what: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<K, DecodeError>,
    ) -> Result<(), DecodeError> {
        let n = self.count(min_item)?;
        let mut last: Option<K> = None;
        for _ in 0..n {
            let at = self.at;
            let key = item(self)?;
            // A body checked before is in order: only its lengths are read.
            if !self.checked && last.as_ref().is_some_and(|l| *l >= key) {
                return Err(DecodeError::NotCanonical { what, at });
            }
            last = Some(key);
        }
        Ok(())
    }
    /// Checks a whole state as [`Self::state`] reads it, without building it.
    fn skip_state(&mut self) -> Result<(), DecodeError> {
        self.skip_sorted(36, "index source name", |d| {
            let k = d.text()?;
            d.take(32)?;
            Ok(k)
        })?;
        self.skip_packages("package (name, arch)")?;
        for _ in 0..self.count(4)? {
            self.text()?;
        }
        for what in ["initramfs key", "sysctl key"] {
            self.skip_sorted(8, what, |d| {
                let k = d.text()?;
                d.text()?;
                Ok(k)
            })?;
        }
        self.skip_value(0)
    }
    fn skip_packages(&mut self, what: &'static str) -> Result<(), DecodeError> {
        self.skip_sorted(44, what, |d| {
            let name = d.text()?;
            d.text()?;
            let arch = d.text()?;
            d.take(32)?;
            Ok((name, arch))
        })
    }
    fn skip_value(&mut self, depth: u32) -> Result<(), DecodeError> {
        let at = self.at;
        if depth > MAX_VALUE_DEPTH {
            return Err(DecodeError::TooDeep { at });
        }
        match self.u8()? {
            0..=2 => {}
            3 => {
                self.take(8)?;
            }
            4 => {
                self.text()?;
            }
            5 => {
                for _ in 0..self.count(1)? {
                    self.skip_value(depth + 1)?;
                }
            }
            6 => self.skip_sorted(5, "hardware map key", |d| {
                let k = d.text()?;
                d.skip_value(depth + 1)?;
                Ok(k)
            })?,
            tag => return Err(DecodeError::UnknownValue { tag, at }),
        }
        Ok(())
    }
    /// Checks that a change is there in canonical form, exactly as [`Self::diff`] would read it,
    /// without building it.
    fn skip_diff(&mut self) -> Result<(), DecodeError> {
        self.skip_packages("package (name, arch)")?;
        self.skip_packages("package (name, arch)")?;
        self.skip_sorted(80, "changed package (name, arch)", |d| {
            let (name, arch) = (d.text()?, d.text()?);
            d.text()?;
            d.take(32)?;
            d.text()?;
            d.take(32)?;
            Ok((name, arch))
        })?;
        self.skip_diff_settings()
    }
    /// The part of [`Self::skip_diff`] after the packages: profile settings and indices.
    fn skip_diff_settings(&mut self) -> Result<(), DecodeError> {
        if self.bool()? {
            for _ in 0..2 {
                for _ in 0..self.count(4)? {
                    self.text()?;
                }
            }
        }
        for what in ["initramfs change key", "sysctl change key"] {
            self.skip_sorted(6, what, |d| {
                let k = d.text()?;
                d.skip_opt_str()?;
                d.skip_opt_str()?;
                Ok(k)
            })?;
        }
        if self.bool()? {
            self.skip_value(0)?;
            self.skip_value(0)?;
        }
        self.skip_sorted(6, "index change source", |d| {
            let k = d.text()?;
            d.skip_opt_sha()?;
            d.skip_opt_sha()?;
            Ok(k)
        })
    }
    /// Checks a request as [`Self::request`] reads it, without building it.
    fn skip_request(&mut self) -> Result<(), DecodeError> {
        let at = self.at;
        let strs = |d: &mut Self| -> Result<(), DecodeError> {
            for _ in 0..d.count(4)? {
                d.text()?;
            }
            Ok(())
        };
        let str_map = |d: &mut Self, what| {
            d.skip_sorted(8, what, |d| {
                let k = d.text()?;
                d.text()?;
                Ok(k)
            })
        };
        match self.u8()? {
            1 => {
                for _ in 0..self.count(5)? {
                    self.text()?;
                    self.skip_opt_str()?;
                }
                self.bool()?;
            }
            2 => strs(self)?,
            3 => {}
            4 => {
                self.take(8 + 32)?;
            }
            5 => {
                strs(self)?;
                strs(self)?;
            }
            6 => str_map(self, "initramfs request key")?,
            7 => str_map(self, "sysctl request key")?,
            8 => {
                self.text()?;
            }
            9 | 10 | 12 => {
                self.text()?;
                self.take(8 + 32)?;
            }
            11 => {
                self.text()?;
                self.text()?;
            }
            tag => return Err(DecodeError::UnknownRequest { tag, at }),
        }
        Ok(())
    }
    fn request(&mut self) -> Result<Request, DecodeError> {
        let at = self.at;
        Ok(match self.u8()? {
            1 => {
                let n = self.count(5)?;
                let mut packages = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = self.str()?;
                    let version = if self.bool()? {
                        Some(self.str()?)
                    } else {
                        None
                    };
                    packages.push(PackageSpec { name, version });
                }
                Request::Install {
                    packages,
                    no_recommends: self.bool()?,
                }
            }
            2 => Request::Remove {
                packages: self.strs()?,
            },
            3 => Request::Upgrade,
            4 => Request::Rollback {
                to_seq: self.u64()?,
                to: TxnId(Blake3(self.bytes32()?)),
            },
            5 => Request::Kargs {
                append: self.strs()?,
                delete: self.strs()?,
            },
            6 => Request::Initramfs {
                set: self.str_map("initramfs request key")?,
            },
            7 => Request::Sysctl {
                set: self.str_map("sysctl request key")?,
            },
            8 => Request::Hardware {
                source: self.str()?,
            },
            9 => Request::VariantCreate {
                parent: self.str()?,
                parent_seq: self.u64()?,
                parent_txn: TxnId(Blake3(self.bytes32()?)),
            },
            10 => Request::Rebase {
                parent: self.str()?,
                parent_seq: self.u64()?,
                parent_txn: TxnId(Blake3(self.bytes32()?)),
            },
            11 => Request::Apply {
                file: self.str()?,
                definition: self.str()?,
            },
            12 => Request::Origin {
                from: self.str()?,
                seq: self.u64()?,
                txn: TxnId(Blake3(self.bytes32()?)),
            },
            tag => return Err(DecodeError::UnknownRequest { tag, at }),
        })
    }
}

/// Decodes one canonical record body; the id is computed as BLAKE3 of `body`. `before` are the
/// records before it (seq 1, 2, ...): a body version 2 record is made from one of them.
///
/// Rejects anything that is not the canonical encoding of some record (unsorted sets, duplicate
/// keys, trailing bytes), so `encode_record(&decode_record(b, before)?) == b` always holds.
pub fn decode_record(body: &[u8], before: &[Record]) -> Result<Record, DecodeError> {
    Decoded::parse(body, TxnId(Blake3::of(body)))?.link(|s| {
        let r = before.get(s as usize - 1).filter(|r| r.seq == s)?;
        Some(r.state.clone())
    })
}

/// Decodes a body that [`scan`] has checked, whose id is `id`, linked to the state `state_of`
/// gives for the record it is made from.
pub(crate) fn decode_checked(
    body: &[u8],
    id: TxnId,
    state_of: impl FnOnce(u64) -> Option<RecordState>,
) -> Result<Record, DecodeError> {
    Decoded::parse(body, id)?.link(state_of)
}

/// A checked body version 2 change, read in place (for `txn log`, without building the
/// record). Its strings are not checked for UTF-8 again, except the variant's name.
pub(crate) struct ChangeBody<'a> {
    pub(crate) time: i64,
    pub(crate) user: &'a [u8],
    pub(crate) host: &'a [u8],
    pub(crate) reason: &'a [u8],
    pub(crate) variant: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) from_seq: u64,
    /// The encoded change (for [`decode_diff`]).
    pub(crate) change: &'a [u8],
    /// Its package lists.
    pub(crate) reader: ChangeReader<'a>,
    pub(crate) commit: CommitId,
    /// The provenance: variant, seq, id.
    pub(crate) base: Option<(&'a str, u64, TxnId)>,
}

/// Reads a body version 2 checked at open (`None`: another body version).
pub(crate) fn read_change(body: &[u8]) -> Result<Option<ChangeBody<'_>>, DecodeError> {
    let mut d = Dec {
        checked: true,
        ..Dec::new(body)
    };
    if d.u8()? != BODY_CHANGE {
        return Ok(None);
    }
    d.take(32 + 8)?;
    let time = d.i64()?;
    let (user, host, reason, variant) = (d.text()?, d.text()?, d.text()?, d.str_ref()?);
    let at = d.at;
    let kind = match d.u8()? {
        1 => "install",
        2 => "remove",
        3 => "upgrade",
        4 => "rollback",
        5 => "kargs",
        6 => "initramfs",
        7 => "sysctl",
        8 => "hardware",
        9 => "variant-create",
        10 => "rebase",
        11 => "apply",
        12 => "origin",
        tag => return Err(DecodeError::UnknownRequest { tag, at }),
    };
    d.at = at;
    d.skip_request()?;
    let from_seq = d.u64()?;
    let start = d.at;
    let reader = ChangeReader::read(&mut d)?;
    let change = &body[start..d.at];
    if d.bool()? {
        // A checkpoint: the whole state, which the log does not show.
        d.skip_state()?;
    }
    let commit = CommitId(Sha256(d.bytes32()?));
    let base = match d.bool()? {
        true => Some((d.str_ref()?, d.u64()?, TxnId(Blake3(d.bytes32()?)))),
        false => None,
    };
    Ok(Some(ChangeBody {
        time,
        user,
        host,
        reason,
        variant,
        kind,
        from_seq,
        change,
        reader,
        commit,
        base,
    }))
}

/// The package lists of an encoded change, read in place: removed, added, changed.
#[derive(Clone)]
pub(crate) struct ChangeReader<'a> {
    /// Packages, each `[name, version, arch, ""]`.
    pub(crate) removed: ListIn<'a>,
    pub(crate) added: ListIn<'a>,
    /// Changed packages, each `[name, arch, from version, to version]`.
    pub(crate) changed: ListIn<'a>,
    /// Whether profile settings or pinned indices changed too (read with [`decode_diff`]).
    pub(crate) more: bool,
}

/// The fields of a package in a change: name, version, arch (strings), the .deb's SHA-256.
const PACKAGE_FIELDS: &[bool] = &[true, true, true, false];
/// The fields of a changed package: name, arch, from version, from SHA-256, to version, to
/// SHA-256.
const CHANGED_FIELDS: &[bool] = &[true, true, true, false, true, false];

impl<'a> ChangeReader<'a> {
    /// Reads past a change [`Dec::skip_diff`] has checked, keeping where its lists are (the
    /// strings are checked again only when the lists are read).
    fn read(d: &mut Dec<'a>) -> Result<ChangeReader<'a>, DecodeError> {
        let removed = ListIn::read(d, PACKAGE_FIELDS)?;
        let added = ListIn::read(d, PACKAGE_FIELDS)?;
        let changed = ListIn::read(d, CHANGED_FIELDS)?;
        // What follows is empty exactly when it is: no kargs, two empty lists, no hardware, no
        // indices.
        const NOTHING_MORE: [u8; 14] = [0; 14];
        let more = d.buf.get(d.at..d.at + 14) != Some(&NOTHING_MORE[..]);
        match more {
            true => d.skip_diff_settings()?,
            false => d.at += 14,
        }
        Ok(ChangeReader {
            removed,
            added,
            changed,
            more,
        })
    }
}

/// The items of an encoded list, each its strings in order (up to four; the rest empty), its
/// SHA-256 fields skipped.
#[derive(Clone)]
pub(crate) struct ListIn<'a> {
    items: Dec<'a>,
    /// Each item's fields: `true` a string, `false` a SHA-256.
    fields: &'static [bool],
}

impl<'a> ListIn<'a> {
    /// Reads past a list (`u32` count, then the items) by lengths alone.
    fn read(d: &mut Dec<'a>, fields: &'static [bool]) -> Result<ListIn<'a>, DecodeError> {
        let n = d.u32()?;
        let start = d.at;
        for _ in 0..n {
            for &string in fields {
                let len = if string { d.u32()? as usize } else { 32 };
                d.take(len)?;
            }
        }
        let items = Dec {
            buf: &d.buf[start..d.at],
            at: 0,
            checked: d.checked,
        };
        Ok(ListIn { items, fields })
    }
}

impl<'a> Iterator for ListIn<'a> {
    type Item = [&'a [u8]; 4];
    fn next(&mut self) -> Option<Self::Item> {
        if self.items.at >= self.items.buf.len() {
            return None;
        }
        let mut out: [&[u8]; 4] = [b""; 4];
        let mut k = 0;
        for &string in self.fields {
            let field = match string {
                true => self.items.text().map(|s| {
                    out[k] = s;
                    k += 1;
                }),
                false => self.items.take(32).map(|_| ()),
            };
            field.expect("the change was checked");
        }
        Some(out)
    }
}

/// What opening needs of a body version 2 record, read by [`check_change`] without building
/// anything.
pub(crate) struct ChangeHead<'a> {
    pub(crate) variant: &'a str,
    /// The record whose state the change applies to, if building this one needs it (not for a
    /// checkpoint, which holds its whole state): 0 if none.
    pub(crate) needs: u64,
}

/// Checks that `body` is a canonical body version 2 record, exactly as [`Decoded::parse`]
/// would read it, without allocating. `Ok(None)`: body version 1, which must be decoded.
pub(crate) fn check_change(body: &[u8]) -> Result<Option<ChangeHead<'_>>, DecodeError> {
    let mut d = Dec::new(body);
    if d.u8()? != BODY_CHANGE {
        return Ok(None);
    }
    d.take(32)?;
    let seq = d.u64()?;
    d.take(8)?;
    for _ in 0..3 {
        d.str_ref()?;
    }
    let variant = d.str_ref()?;
    d.skip_request()?;
    let from_seq = d.u64()?;
    if from_seq >= seq {
        return Err(DecodeError::UnknownBase { from_seq });
    }
    d.skip_diff()?;
    let checkpoint = d.bool()?;
    if checkpoint {
        d.skip_state()?;
    }
    d.take(32)?;
    if d.bool()? {
        d.str_ref()?;
        d.take(8 + 32)?;
    }
    if d.at != body.len() {
        return Err(DecodeError::TrailingBytes {
            extra: body.len() - d.at,
        });
    }
    let needs = if checkpoint { 0 } else { from_seq };
    Ok(Some(ChangeHead { variant, needs }))
}

/// The variant a record body (either version) names, read without decoding the rest.
pub(crate) fn variant_of(body: &[u8]) -> Result<&str, DecodeError> {
    let mut d = Dec::new(body);
    d.take(1 + 32 + 8 + 8)?;
    for _ in 0..3 {
        d.str_ref()?;
    }
    d.str_ref()
}

/// Decodes a change [`Dec::skip_diff`] has checked.
pub(crate) fn decode_diff(bytes: &[u8]) -> Result<Diff, DecodeError> {
    let mut d = Dec::new(bytes);
    let diff = d.diff()?;
    match d.at == bytes.len() {
        true => Ok(diff),
        false => Err(DecodeError::TrailingBytes {
            extra: bytes.len() - d.at,
        }),
    }
}

/// A decoded body whose state may still name the record it was made from by number.
pub(crate) struct Decoded {
    record: Record,
    /// Body version 2: the change and the number of the record it applies to.
    change: Option<(u64, StoredDiff, Option<State>)>,
}

impl Decoded {
    /// Decodes `body`, whose BLAKE3 is `id` (the caller has checked or computed it).
    pub(crate) fn parse(body: &[u8], id: TxnId) -> Result<Decoded, DecodeError> {
        let mut d = Dec::new(body);
        let version = d.u8()?;
        if version != BODY_WHOLE && version != BODY_CHANGE {
            return Err(DecodeError::UnknownVersion(version));
        }
        let prev = TxnId(Blake3(d.bytes32()?));
        let seq = d.u64()?;
        let time = d.i64()?;
        let actor = Actor {
            user: d.str()?,
            host: d.str()?,
        };
        let reason = d.str()?;
        let variant = d.str()?;
        let request = d.request()?;
        let (state, change) = if version == BODY_WHOLE {
            (d.state()?, None)
        } else {
            let from_seq = d.u64()?;
            if from_seq >= seq {
                return Err(DecodeError::UnknownBase { from_seq });
            }
            let start = d.at;
            d.skip_diff()?;
            let diff = StoredDiff::encoded(body[start..d.at].into());
            let whole = if d.bool()? { Some(d.state()?) } else { None };
            (State::default(), Some((from_seq, diff, whole)))
        };
        let commit = CommitId(Sha256(d.bytes32()?));
        let base = if d.bool()? {
            Some(Provenance {
                variant: d.str()?,
                seq: d.u64()?,
                txn: TxnId(Blake3(d.bytes32()?)),
            })
        } else {
            None
        };
        if d.at != body.len() {
            return Err(DecodeError::TrailingBytes {
                extra: body.len() - d.at,
            });
        }
        let record = Record {
            seq,
            id,
            prev,
            time,
            actor,
            reason,
            variant,
            request,
            state: RecordState::whole(state),
            commit,
            base,
        };
        Ok(Decoded { record, change })
    }

    /// The variant the record belongs to.
    pub(crate) fn variant(&self) -> &str {
        &self.record.variant
    }

    /// The record, its change linked to the state of the record it was made from, which
    /// `state_of(seq)` gives. A checkpoint needs none (it holds its whole state).
    pub(crate) fn link(
        self,
        state_of: impl FnOnce(u64) -> Option<RecordState>,
    ) -> Result<Record, DecodeError> {
        let mut record = self.record;
        let Some((from_seq, diff, whole)) = self.change else {
            return Ok(record);
        };
        let from = match (from_seq, &whole) {
            (0, _) | (_, Some(_)) => None,
            (s, None) => Some(state_of(s).ok_or(DecodeError::UnknownBase { from_seq })?),
        };
        let checkpoint = whole.is_some();
        let depth = match checkpoint {
            true => 0,
            false => from.as_ref().map_or(0, RecordState::depth) + 1,
        };
        let change = Change {
            from_seq,
            from,
            diff,
            checkpoint,
            depth,
        };
        record.state = RecordState::changed(change, whole);
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Request;
    use crate::scan::{scan, BadRecord, Problem, ScanEnd};

    fn encode_whole(seq: u64, prev: &TxnId, r: &NewRecord) -> Vec<u8> {
        encode_body(seq, prev, &Parts::of_new(r), &Stored::Whole(&r.state))
    }

    fn sample(seq: u64, prev: TxnId) -> (Vec<u8>, NewRecord) {
        let r = NewRecord {
            time: -5,
            actor: Actor {
                user: "ü".into(),
                host: "h".into(),
            },
            reason: String::new(),
            variant: "base".into(),
            request: Request::Install {
                packages: vec![PackageSpec {
                    name: "a".into(),
                    version: Some("1:2.0~rc1-3".into()),
                }],
                no_recommends: true,
            },
            state: State {
                indices: BTreeMap::from([("main".into(), Sha256::of(b"x"))]),
                packages: vec![
                    PackageEntry {
                        name: "a".into(),
                        version: "1".into(),
                        arch: "amd64".into(),
                        sha256: Sha256::of(b"a"),
                    },
                    PackageEntry {
                        name: "a".into(),
                        version: "1".into(),
                        arch: "i386".into(),
                        sha256: Sha256::of(b"b"),
                    },
                ],
                profile: Profile {
                    kargs: vec!["ro".into(), "ro".into()],
                    initramfs: BTreeMap::new(),
                    sysctl: BTreeMap::from([("k".into(), "v".into())]),
                    hardware: Value::List(vec![Value::Int(i64::MIN), Value::Map(BTreeMap::new())]),
                },
            },
            commit: CommitId(Sha256::of(b"c")),
            base: Some(Provenance {
                variant: "p".into(),
                seq: 9,
                txn: TxnId(Blake3::of(b"t")),
            }),
        };
        (encode_whole(seq, &prev, &r), r)
    }

    #[test]
    fn body_roundtrips_and_id_is_blake3_of_body() {
        let prev = TxnId(Blake3::of(b"prev"));
        let (body, new) = sample(7, prev);
        let r = decode_record(&body, &[]).expect("decodes");
        assert_eq!((r.seq, r.prev, r.id), (7, prev, TxnId(Blake3::of(&body))));
        assert_eq!(
            (&*r.state, &r.request, &r.base, r.time),
            (&new.state, &new.request, &new.base, new.time)
        );
        assert_eq!(encode_record(&r), body);
    }

    #[test]
    fn apply_request_roundtrips_and_older_tags_are_unchanged() {
        let prev = TxnId(Blake3::of(b"prev"));
        let (_, mut new) = sample(3, prev);
        new.request = Request::Apply {
            file: "euclase.toml".into(),
            definition: r#"{"name":"euclase","parent":"base"}"#.into(),
        };
        let body = encode_whole(3, &prev, &new);
        let r = decode_record(&body, &[]).expect("decodes");
        assert_eq!(r.request, new.request);
        assert_eq!(encode_record(&r), body);
        // Tag 13 is still unknown: readers refuse it by name instead of guessing.
        let at = body
            .windows(13)
            .position(|w| w[0] == 11 && w[1..5] == 12u32.to_le_bytes())
            .expect("the apply tag followed by the file name's length");
        let mut unknown = body.clone();
        unknown[at] = 13;
        assert!(matches!(
            decode_record(&unknown, &[]),
            Err(DecodeError::UnknownRequest { tag: 13, .. })
        ));
    }

    #[test]
    fn origin_request_roundtrips() {
        let prev = TxnId(Blake3::of(b"prev"));
        let (_, mut new) = sample(1, prev);
        new.request = Request::Origin {
            from: "/var/lib/particle-build".into(),
            seq: 41,
            txn: TxnId(Blake3::of(b"build host record")),
        };
        let body = encode_whole(1, &prev, &new);
        let r = decode_record(&body, &[]).expect("decodes");
        assert_eq!(r.request, new.request);
        assert_eq!(r.kind(), "origin");
        assert_eq!(encode_record(&r), body);
    }

    #[test]
    fn every_truncation_of_a_body_is_rejected() {
        let (body, _) = sample(1, TxnId::GENESIS);
        for n in 0..body.len() {
            assert!(
                decode_record(&body[..n], &[]).is_err(),
                "prefix of {n} bytes decoded"
            );
        }
        let mut long = body.clone();
        long.push(0);
        assert_eq!(
            decode_record(&long, &[]),
            Err(DecodeError::TrailingBytes { extra: 1 })
        );
    }

    #[test]
    fn non_canonical_bodies_are_rejected() {
        let (_, mut new) = sample(1, TxnId::GENESIS);
        new.state.packages.swap(0, 1);
        let body = encode_whole(1, &TxnId::GENESIS, &new);
        assert!(matches!(
            decode_record(&body, &[]),
            Err(DecodeError::NotCanonical { .. })
        ));
        let mut bad_version = encode_whole(1, &TxnId::GENESIS, &sample(1, TxnId::GENESIS).1);
        bad_version[0] = 3;
        assert_eq!(
            decode_record(&bad_version, &[]),
            Err(DecodeError::UnknownVersion(3))
        );
    }

    #[test]
    fn deep_values_are_refused_not_overflowing_the_stack() {
        let mut deep = Vec::new();
        for _ in 0..10_000 {
            deep.extend_from_slice(&[5, 1, 0, 0, 0]);
        }
        deep.push(0);
        let mut d = Dec::new(&deep);
        assert!(matches!(d.value(0), Err(DecodeError::TooDeep { .. })));
    }

    fn journal_of(n: u64) -> Vec<u8> {
        let mut file = file_header(FORMAT_VERSION).to_vec();
        let mut prev = TxnId::GENESIS;
        for seq in 1..=n {
            let (body, _) = sample(seq, prev);
            prev = TxnId(Blake3::of(&body));
            file.extend_from_slice(&encode_frame(&body, &prev));
        }
        file
    }

    #[test]
    fn scan_classifies_ends() {
        let file = journal_of(3);
        let s = scan(&file);
        assert_eq!(
            (s.records.len(), s.valid_len, &s.end),
            (3, file.len() as u64, &ScanEnd::Clean)
        );
        assert_eq!(scan(&[]).end, ScanEnd::Clean);
        assert_eq!(scan(&file[..5]).end, ScanEnd::Torn { offset: 0, len: 5 });
        let two = scan(&journal_of(2)).valid_len as usize;
        for cut in two + 1..file.len() {
            let s = scan(&file[..cut]);
            assert!(
                matches!(s.end, ScanEnd::Torn { offset, .. } if offset == two as u64),
                "cut {cut}: {:?}",
                s.end
            );
            assert_eq!(s.records.len(), 2);
            // The good prefix re-scans cleanly to the same records (the fuzz target's property).
            let again = scan(&file[..s.valid_len as usize]);
            assert_eq!((again.records, again.end), (s.records, ScanEnd::Clean));
        }
        // Zeros after the data are preallocated free space.
        let mut zeros = file.clone();
        zeros.extend_from_slice(&[0; 700]);
        let z = scan(&zeros);
        assert_eq!(
            (z.records.len(), z.valid_len, z.end),
            (3, file.len() as u64, ScanEnd::Clean)
        );
        // A write cut short inside the preallocated space: a frame prefix, then zeros.
        let mut cut = journal_of(2);
        cut.extend_from_slice(&file[two..two + 100]);
        cut.extend_from_slice(&[0; 2000]);
        assert_eq!(
            scan(&cut).end,
            ScanEnd::Torn {
                offset: two as u64,
                len: 100
            }
        );
        // Garbage after free space is not a crash.
        let mut junk = zeros.clone();
        junk.push(1);
        assert!(matches!(
            scan(&junk).end,
            ScanEnd::Corrupt(BadRecord { position: 4, .. })
        ));
        let mut future = file.clone();
        future[8] = 3;
        assert!(matches!(
            scan(&future).end,
            ScanEnd::Corrupt(BadRecord {
                position: 0,
                problem: Problem::UnsupportedVersion { version: 3 },
                ..
            })
        ));
    }

    #[test]
    fn hostile_counts_do_not_allocate() {
        // A body claiming 4 billion packages right after the header fields must fail fast.
        let mut body = vec![BODY_WHOLE];
        body.extend_from_slice(&[0; 32 + 16]);
        for _ in 0..4 {
            body.extend_from_slice(&0u32.to_le_bytes()); // user, host, reason, variant
        }
        body.push(3); // upgrade
        body.extend_from_slice(&0u32.to_le_bytes()); // no indices
        body.extend_from_slice(&u32::MAX.to_le_bytes()); // packages
        assert!(matches!(
            decode_record(&body, &[]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    /// What the fuzz target `journal_record` checks, on mutated real journals: no panic, decoded
    /// bodies are canonical, and the good prefix re-scans cleanly to the same records.
    fn fuzz_properties(data: &[u8]) {
        if let Ok(r) = decode_record(data, &[]) {
            assert_eq!(encode_record(&r), data);
        }
        let s = scan(data);
        let valid = s.valid_len as usize;
        assert!(valid <= data.len());
        // Every record read is canonical, its stored change included (decoded here).
        for (r, &at) in s.records.iter().zip(&s.offsets) {
            let body = encode_record(r);
            let at = at as usize + FRAME_HEADER_LEN;
            assert_eq!(&data[at..at + body.len()], &body[..]);
        }
        let again = scan(&data[..valid]);
        assert_eq!((again.records, again.end), (s.records, ScanEnd::Clean));
    }

    /// A format 2 journal: a first record, then changes of every kind from it.
    fn journal_v2() -> Vec<u8> {
        let disk = crate::FaultyStorage::new();
        let (mut j, _) = crate::Journal::open_with(disk.clone()).expect("open");
        let (_, mut new) = sample(1, TxnId::GENESIS);
        new.base = None;
        j.append(new.clone()).expect("first");
        new.state.packages[0].version = "2".into();
        new.state.packages.pop();
        new.state.packages.push(PackageEntry {
            name: "b".into(),
            version: "0.1".into(),
            arch: "all".into(),
            sha256: Sha256::of(b"b"),
        });
        new.state.profile.kargs.push("quiet".into());
        new.state.profile.sysctl.insert("a".into(), "1".into());
        new.state
            .profile
            .initramfs
            .insert("m".into(), "most".into());
        new.state.profile.hardware = Value::Bool(true);
        new.state.indices.insert("other".into(), Sha256::of(b"y"));
        j.append(new.clone()).expect("second");
        new.state.profile.sysctl.clear();
        j.append(new).expect("third");
        let bytes = disk.durable();
        bytes[..scan(&bytes).valid_len as usize].to_vec()
    }

    proptest::proptest! {
        #[test]
        fn mutated_journals_keep_the_fuzz_properties(
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>(), 0u8..4), 1..6),
        ) {
            let mut data = if edits.len() % 2 == 0 { journal_of(3) } else { journal_v2() };
            data.extend_from_slice(&[0; 64]);
            for (at, byte, op) in edits {
                let at = at % (data.len() + 1);
                match op {
                    0 if at < data.len() => data[at] = byte,
                    1 => data.insert(at, byte),
                    2 if at < data.len() => {
                        data.remove(at);
                    }
                    _ => data.truncate(at),
                }
            }
            fuzz_properties(&data);
            // And each frame body on its own, as the decoder sees it.
            let mut at = FILE_HEADER_LEN;
            while at + FRAME_HEADER_LEN <= data.len() {
                let len = u32::from_le_bytes(data[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
                let end = (at + FRAME_HEADER_LEN + len).min(data.len());
                fuzz_properties(&data[at + FRAME_HEADER_LEN..end]);
                at = end + FRAME_TRAILER_LEN;
            }
        }
    }
}
