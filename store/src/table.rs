//! The package table: a parsed index as a few flat arrays over one interned string blob.
//!
//! Why: the owned [`Universe`] allocates ~40 strings and vectors per package (2.5 million for
//! bookworm main), which dominates both parsing and reading a snapshot back (rkyv validates every
//! one of them). The table allocates per index, not per relation: every string (names, versions,
//! architectures, file names) is interned once into `strings`, a package's relation fields are
//! ranges into one `relations` array, and dependency entries (alternative groups) are ranges into
//! `groups`. Its rkyv form is what the store snapshots (`docs/format/snapshot.md`): validating
//! it is a pass over plain fixed-size records, and it converts to the owned model on demand.
//!
//! Spans and ranges are `u32` offsets; an index whose table would exceed 4 GiB of strings or
//! 4 billion records is refused (`IndexError::TooLarge`), far beyond any Debian archive.

use crate::index::{
    for_each_stanza, Field, IndexError, Stanza, DEPENDENCY_FIELDS, RELATION_FIELDS,
};
use crate::model::{
    ArchQualifier, Constraint, Dependency, MultiArch, Op, Package, Priority, Relation, Universe,
};
use crate::names::ArchivedNameDirectory;
use crate::relation::{check_no_alternatives, entries, parse_relation_ref, QualifierRef};
use crate::Sha256;

/// A range of a table array or of its string blob: `start .. start + len`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

impl ArchivedSpan {
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        let start = self.start.to_native() as usize;
        start..start + self.len.to_native() as usize
    }
}

/// [`ArchQualifier`] without its string, as stored in [`RelationRecord::qualifier`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum Qualifier {
    #[default]
    None = 0,
    Any = 1,
    Native = 2,
    /// The architecture is [`RelationRecord::qualifier_arch`].
    Named = 3,
}

/// One relation: `name[:arch] [(op version)]`. Only integers, so that validating an archived
/// table does not visit each record (see `docs/format/snapshot.md`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct RelationRecord {
    pub name: Span,
    /// The architecture of a `Named` qualifier (empty otherwise).
    pub qualifier_arch: Span,
    /// The constraint's version (empty without a constraint).
    pub version: Span,
    /// A [`Qualifier`].
    pub qualifier: u8,
    /// 0 without a constraint, else 1 + the [`Op`] (`<<`, `<=`, `=`, `>=`, `>>`).
    pub op: u8,
}

/// One package; its relation fields are ranges of the table's `groups` and `relations`.
#[derive(Debug, Clone, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct PackageRecord {
    pub name: Span,
    pub version: Span,
    pub arch: Span,
    pub section: Span,
    pub source: Span,
    pub filename: Span,
    /// [`MultiArch`]: 0 no, 1 same, 2 foreign, 3 allowed.
    pub multi_arch: u8,
    /// [`Priority`]: 0 required, 1 important, 2 standard, 3 optional, 4 extra.
    pub priority: u8,
    /// Bit 0: Essential; bit 1: Protected.
    pub flags: u8,
    pub installed_size: u64,
    pub size: u64,
    pub sha256: [u8; 32],
    /// Depends, Pre-Depends, Recommends, Suggests, Enhances: ranges of `groups`.
    pub dependencies: [Span; 5],
    /// Conflicts, Breaks, Replaces, Provides: ranges of `relations`.
    pub relations: [Span; 4],
}

/// Parsed indices as flat, interned arrays (see the module documentation).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct PackageTable {
    /// Every string the records name (UTF-8; bytes so that validation does not re-check it).
    pub strings: Vec<u8>,
    pub packages: Vec<PackageRecord>,
    pub relations: Vec<RelationRecord>,
    /// Dependency entries: each a range of `relations`, its alternatives.
    pub groups: Vec<Span>,
}

/// Builds a table from index texts.
///
/// Strings are deduplicated through a small direct-mapped cache of recently stored strings,
/// not a complete map: a full interning map over bookworm's ~900,000 relation strings costs a
/// cache miss per lookup and made the parse slower than allocating owned strings, while the
/// cache (32 KiB) stays in the CPU cache, catches the names and versions that recur most
/// (`libc6`, `2.34`, `amd64`, `python3`, …) and stores a rare string again now and then, which
/// costs a few bytes and changes nothing else.
struct Builder<'t> {
    table: &'t mut PackageTable,
    recent: Vec<(u64, Span)>,
}

/// log2 of the entries of [`Builder::recent`].
const RECENT_BITS: u32 = 11;
const RECENT: usize = 1 << RECENT_BITS;

impl Builder<'_> {
    /// The span of `s`: an earlier copy if the cache remembers one, else a new one.
    fn intern(&mut self, s: &str) -> Result<Span, IndexError> {
        let hash = word_hash(s.as_bytes());
        let slot = &mut self.recent[(hash >> (64 - RECENT_BITS)) as usize];
        if slot.0 == hash && self.table.strings.get(slot.1.range()) == Some(s.as_bytes()) {
            return Ok(slot.1);
        }
        let span = append(&mut self.table.strings, s)?;
        *slot = (hash, span);
        Ok(span)
    }

    /// Stores `s` without looking for an earlier copy: for strings that are (nearly) unique,
    /// such as file names and package versions.
    fn append(&mut self, s: &str) -> Result<Span, IndexError> {
        append(&mut self.table.strings, s)
    }

    /// Parses and interns one relation of field `f`.
    fn relation(
        &mut self,
        st: &Stanza<'_>,
        f: Field,
        text: &str,
    ) -> Result<RelationRecord, IndexError> {
        let r = parse_relation_ref(text).map_err(|e| st.relation_error(f, e))?;
        let (qualifier, qualifier_arch) = match r.arch {
            QualifierRef::None => (Qualifier::None, Span::default()),
            QualifierRef::Any => (Qualifier::Any, Span::default()),
            QualifierRef::Native => (Qualifier::Native, Span::default()),
            QualifierRef::Named(a) => (Qualifier::Named, self.intern(a)?),
        };
        let (op, version) = match r.constraint {
            Some((op, v)) => (op_code(op), self.intern(v)?),
            None => (0, Span::default()),
        };
        Ok(RelationRecord {
            name: self.intern(r.name)?,
            qualifier_arch,
            version,
            qualifier: qualifier as u8,
            op,
        })
    }

    /// Appends the entries of a dependency field; returns their range of `groups`.
    fn dependencies(&mut self, st: &Stanza<'_>, f: Field) -> Result<Span, IndexError> {
        let start = to_u32(self.table.groups.len())?;
        if let Some(text) = st.relation_text(f) {
            for entry in entries(text) {
                let first = to_u32(self.table.relations.len())?;
                for alternative in entry.split('|') {
                    let r = self.relation(st, f, alternative)?;
                    self.table.relations.push(r);
                }
                let len = to_u32(self.table.relations.len())? - first;
                self.table.groups.push(Span { start: first, len });
            }
        }
        let len = to_u32(self.table.groups.len())? - start;
        Ok(Span { start, len })
    }

    /// Appends the entries of a field without alternatives; returns their range of `relations`.
    fn relations(&mut self, st: &Stanza<'_>, f: Field) -> Result<Span, IndexError> {
        let start = to_u32(self.table.relations.len())?;
        if let Some(text) = st.relation_text(f) {
            for entry in entries(text) {
                check_no_alternatives(entry).map_err(|e| st.relation_error(f, e))?;
                let r = self.relation(st, f, entry)?;
                self.table.relations.push(r);
            }
        }
        let len = to_u32(self.table.relations.len())? - start;
        Ok(Span { start, len })
    }

    fn package(&mut self, st: &Stanza<'_>) -> Result<PackageRecord, IndexError> {
        let mut dependencies = [Span::default(); 5];
        for (slot, f) in dependencies.iter_mut().zip(DEPENDENCY_FIELDS) {
            *slot = self.dependencies(st, f)?;
        }
        let mut relations = [Span::default(); 4];
        for (slot, f) in relations.iter_mut().zip(RELATION_FIELDS) {
            *slot = self.relations(st, f)?;
        }
        let (installed_size, size) = st.sizes()?;
        Ok(PackageRecord {
            name: self.append(st.name)?,
            version: self.append(st.version)?,
            arch: self.intern(st.arch)?,
            section: self.intern(st.section)?,
            source: self.intern(st.source)?,
            filename: self.append(st.filename)?,
            multi_arch: multi_arch_code(st.multi_arch),
            priority: priority_code(st.priority),
            flags: u8::from(st.essential) | u8::from(st.protected) << 1,
            installed_size,
            size,
            sha256: st.sha256.0,
            dependencies,
            relations,
        })
    }
}

/// Appends `s` to the string blob.
fn append(strings: &mut Vec<u8>, s: &str) -> Result<Span, IndexError> {
    let span = Span {
        start: to_u32(strings.len())?,
        len: to_u32(s.len())?,
    };
    to_u32(strings.len() + s.len())?;
    strings.extend_from_slice(s.as_bytes());
    Ok(span)
}

/// A hash for the dedup cache that reads eight bytes at a time (the strings are short and come
/// from verified indices, so it needs to be fast, not hardened). The slot is taken from its top
/// bits, which a multiplication mixes best.
fn word_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        h = (h ^ w).wrapping_mul(K).rotate_left(31);
    }
    let rest = words.remainder();
    let mut tail = [0u8; 8];
    tail[..rest.len()].copy_from_slice(rest);
    (h ^ u64::from_le_bytes(tail)).wrapping_mul(K)
}

fn to_u32(n: usize) -> Result<u32, IndexError> {
    u32::try_from(n).map_err(|_| IndexError::TooLarge {
        limit: u64::from(u32::MAX),
    })
}

impl PackageTable {
    /// Parses the text of a `Packages` index into a new table.
    pub fn parse(text: &str) -> Result<Self, IndexError> {
        let mut table = PackageTable::default();
        table.add_index(text)?;
        Ok(table)
    }

    /// Parses the text of a `Packages` index and appends its packages; returns how many.
    /// Accepts and refuses exactly what [`crate::parse_packages`] does, and reports the same
    /// first error.
    ///
    /// A large index is cut at empty lines into [`PARSE_CHUNKS`] pieces that are parsed on
    /// their own threads and appended in order (a stanza never spans an empty line, so the
    /// packages are the same; only which recurring strings get deduplicated differs). The cut
    /// depends on the text alone, so the table is the same on every machine.
    pub fn add_index(&mut self, text: &str) -> Result<usize, IndexError> {
        let before = self.packages.len();
        let chunks = chunks(text);
        self.reserve_for(text.len());
        let (first, rest) = chunks.split_first().expect("at least one chunk");
        std::thread::scope(|scope| {
            let others: Vec<_> = rest
                .iter()
                .map(|&(offset, chunk)| {
                    scope.spawn(move || {
                        let mut table = PackageTable::default();
                        table.reserve_for(chunk.len());
                        table
                            .add_chunk(chunk)
                            .map(|()| table)
                            .map_err(|e| (offset, e))
                    })
                })
                .collect();
            self.add_chunk(first.1)?;
            for other in others {
                let table = other
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    .map_err(|(offset, e)| e.shifted(line_count(&text[..offset])))?;
                self.append(&table)?;
            }
            Ok(self.packages.len() - before)
        })
    }

    /// Reserves room for the table of `len` bytes of index text. Sized from bookworm main:
    /// ~790 bytes of text per package, ~11 relations and ~4 dependency entries per package, a
    /// tenth of the text in distinct strings.
    fn reserve_for(&mut self, len: usize) {
        let estimate = len / 790;
        self.packages.reserve(estimate);
        self.relations.reserve(estimate * 11);
        self.groups.reserve(estimate * 4);
        self.strings.reserve(len / 10);
    }

    /// Parses `text` (whole stanzas) into this table.
    fn add_chunk(&mut self, text: &str) -> Result<(), IndexError> {
        let empty = Span {
            start: 0,
            len: u32::MAX,
        };
        let mut builder = Builder {
            table: self,
            recent: vec![(0, empty); RECENT],
        };
        for_each_stanza(text, |stanza| {
            let record = builder.package(&stanza)?;
            builder.table.packages.push(record);
            Ok(())
        })
    }

    /// Appends the packages of `other`, moving its spans past this table's arrays.
    fn append(&mut self, other: &PackageTable) -> Result<(), IndexError> {
        let strings = to_u32(self.strings.len())?;
        let relations = to_u32(self.relations.len())?;
        let groups = to_u32(self.groups.len())?;
        to_u32(self.strings.len() + other.strings.len())?;
        to_u32(self.relations.len() + other.relations.len())?;
        to_u32(self.groups.len() + other.groups.len())?;
        to_u32(self.packages.len() + other.packages.len())?;
        // Empty spans stay `0..0`, as the parse writes them.
        let moved = |s: Span, by: u32| {
            if s.len == 0 {
                s
            } else {
                Span {
                    start: s.start + by,
                    len: s.len,
                }
            }
        };
        self.strings.extend_from_slice(&other.strings);
        self.relations
            .extend(other.relations.iter().map(|r| RelationRecord {
                name: moved(r.name, strings),
                qualifier_arch: moved(r.qualifier_arch, strings),
                version: moved(r.version, strings),
                ..*r
            }));
        self.groups
            .extend(other.groups.iter().map(|&g| moved(g, relations)));
        self.packages.extend(other.packages.iter().map(|p| {
            let mut p = p.clone();
            for s in [
                &mut p.name,
                &mut p.version,
                &mut p.arch,
                &mut p.section,
                &mut p.source,
                &mut p.filename,
            ] {
                *s = moved(*s, strings);
            }
            for d in &mut p.dependencies {
                *d = moved(*d, groups);
            }
            for r in &mut p.relations {
                *r = moved(*r, relations);
            }
            p
        }));
        Ok(())
    }
}

/// How many pieces [`PackageTable::add_index`] cuts a large index into: the machines particle
/// is built on have two cores. A constant, not the machine's core count, so that the table
/// (and so the snapshot's bytes) does not depend on the machine.
pub(crate) const PARSE_CHUNKS: usize = 2;

/// Below this many bytes an index is parsed in one piece (a thread costs more than it saves).
const CHUNK_MIN: usize = 1 << 20;

/// `text` cut at empty lines into at most [`PARSE_CHUNKS`] pieces of similar size, each with
/// its byte offset.
fn chunks(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::with_capacity(PARSE_CHUNKS);
    let mut start = 0;
    if text.len() >= CHUNK_MIN {
        for k in 1..PARSE_CHUNKS {
            let aim = (text.len() / PARSE_CHUNKS * k).max(start);
            // Cut after the "\n\n" that ends a stanza (continuation lines never are empty).
            let Some(cut) = memchr::memmem::find(&text.as_bytes()[aim..], b"\n\n") else {
                break;
            };
            let end = aim + cut + 2;
            out.push((start, &text[start..end]));
            start = end;
        }
    }
    out.push((start, &text[start..]));
    out
}

/// The number of lines before a chunk: added to the line numbers of its errors.
fn line_count(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}

impl ArchivedPackageTable {
    /// How many packages the table holds.
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    /// Whether the table holds no package.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// Checks what rkyv's validation cannot know: that every span lies within its array, and
    /// within the string blob on UTF-8 boundaries. Done when a snapshot is written and by
    /// `store verify`; reading does not depend on it (every lookup is bounds-checked and a bad
    /// span reads as empty), it only makes sure no lookup falls back.
    pub fn check_spans(&self) -> Result<(), String> {
        let string_ok = |s: &ArchivedSpan| self.text(s).is_some();
        let within = |s: &ArchivedSpan, len: usize| s.range().end <= len;
        for (i, p) in self.packages.iter().enumerate() {
            let texts = [
                &p.name,
                &p.version,
                &p.arch,
                &p.section,
                &p.source,
                &p.filename,
            ];
            if !texts.into_iter().all(string_ok)
                || !p.dependencies.iter().all(|d| within(d, self.groups.len()))
                || !p.relations.iter().all(|r| within(r, self.relations.len()))
            {
                return Err(format!("package record {i} points outside the table"));
            }
        }
        if !self.groups.iter().all(|g| within(g, self.relations.len())) {
            return Err("a dependency entry points outside the relations".into());
        }
        for (i, r) in self.relations.iter().enumerate() {
            if ![&r.name, &r.qualifier_arch, &r.version]
                .into_iter()
                .all(string_ok)
            {
                return Err(format!("relation record {i} points outside the strings"));
            }
        }
        Ok(())
    }

    fn text(&self, s: &ArchivedSpan) -> Option<&str> {
        std::str::from_utf8(self.strings.get(s.range())?).ok()
    }

    /// The text of a span (empty if it is not within the blob, which [`Self::check_spans`]
    /// rules out for a snapshot particle wrote).
    pub fn str(&self, s: &ArchivedSpan) -> &str {
        self.text(s).unwrap_or("")
    }

    /// The table with its string blob checked as UTF-8 once, for reading many strings:
    /// [`TableView::str`] then only slices. Fails if the blob is not UTF-8.
    pub fn view(&self) -> Result<TableView<'_>, String> {
        let strings = std::str::from_utf8(&self.strings)
            .map_err(|e| format!("the string blob is not UTF-8 ({e})"))?;
        Ok(TableView {
            table: self,
            strings,
            names: None,
        })
    }
}

/// An archived package table whose strings are known to be UTF-8 (see
/// [`ArchivedPackageTable::view`]); it converts records to the owned model.
#[derive(Clone, Copy)]
pub struct TableView<'a> {
    table: &'a ArchivedPackageTable,
    strings: &'a str,
    /// The table's name directory, when its snapshot has one.
    names: Option<&'a ArchivedNameDirectory>,
}

impl std::fmt::Debug for TableView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableView")
            .field("packages", &self.table.len())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for TableView<'_> {
    type Target = ArchivedPackageTable;
    fn deref(&self) -> &ArchivedPackageTable {
        self.table
    }
}

impl<'a> TableView<'a> {
    /// The archived table.
    pub fn table(&self) -> &'a ArchivedPackageTable {
        self.table
    }

    /// The view with `names` as its name directory (which must have been built from this
    /// table: a directory of another table gives wrong lookups, though never an out-of-bounds
    /// read).
    pub fn with_names(self, names: &'a ArchivedNameDirectory) -> Self {
        TableView {
            names: Some(names),
            ..self
        }
    }

    /// The name directory, if the view has one (see [`crate::NameDirectory`]).
    pub fn names(&self) -> Option<&'a ArchivedNameDirectory> {
        self.names
    }

    /// The text of a span (empty if it is not within the blob on character boundaries, which
    /// [`ArchivedPackageTable::check_spans`] rules out for a snapshot particle wrote).
    pub fn str(&self, s: &ArchivedSpan) -> &'a str {
        self.strings.get(s.range()).unwrap_or("")
    }

    /// The relations of a range of `relations` (empty if out of bounds).
    pub fn relation_slice(&self, s: &ArchivedSpan) -> &'a [ArchivedRelationRecord] {
        self.table.relations.get(s.range()).unwrap_or(&[])
    }

    /// The dependency entries of a range of `groups` (empty if out of bounds).
    pub fn group_slice(&self, s: &ArchivedSpan) -> &'a [ArchivedSpan] {
        self.table.groups.get(s.range()).unwrap_or(&[])
    }

    /// An owned [`Relation`].
    pub fn relation(&self, r: &ArchivedRelationRecord) -> Relation {
        Relation {
            name: self.str(&r.name).to_owned(),
            arch: match r.qualifier {
                1 => ArchQualifier::Any,
                2 => ArchQualifier::Native,
                3 => ArchQualifier::Named(self.str(&r.qualifier_arch).to_owned()),
                _ => ArchQualifier::None,
            },
            constraint: op_of(r.op).map(|op| Constraint {
                op,
                version: self.str(&r.version).to_owned(),
            }),
        }
    }

    fn relations(&self, s: &ArchivedSpan) -> Vec<Relation> {
        self.relation_slice(s)
            .iter()
            .map(|r| self.relation(r))
            .collect()
    }

    fn dependencies(&self, s: &ArchivedSpan) -> Vec<Dependency> {
        self.group_slice(s)
            .iter()
            .map(|g| Dependency {
                alternatives: self.relations(g),
            })
            .collect()
    }

    /// Package `i` as an owned [`Package`] (`None` past the end).
    pub fn package(&self, i: usize) -> Option<Package> {
        let p = self.table.packages.get(i)?;
        let [depends, pre_depends, recommends, suggests, enhances] =
            p.dependencies.each_ref().map(|d| self.dependencies(d));
        let [conflicts, breaks, replaces, provides] =
            p.relations.each_ref().map(|r| self.relations(r));
        Some(Package {
            name: self.str(&p.name).to_owned(),
            version: self.str(&p.version).to_owned(),
            arch: self.str(&p.arch).to_owned(),
            multi_arch: multi_arch_of(p.multi_arch),
            essential: p.flags & 1 != 0,
            protected: p.flags & 2 != 0,
            priority: priority_of(p.priority),
            section: self.str(&p.section).to_owned(),
            source: self.str(&p.source).to_owned(),
            depends,
            pre_depends,
            recommends,
            suggests,
            enhances,
            conflicts,
            breaks,
            replaces,
            provides,
            installed_size: p.installed_size.to_native(),
            size: p.size.to_native(),
            sha256: Sha256(p.sha256),
            filename: self.str(&p.filename).to_owned(),
        })
    }

    /// Every package, owned.
    pub fn to_universe(&self) -> Universe {
        Universe {
            packages: (0..self.table.len())
                .filter_map(|i| self.package(i))
                .collect(),
        }
    }
}

/// [`RelationRecord::op`] of a constraint.
fn op_code(op: Op) -> u8 {
    match op {
        Op::Lt => 1,
        Op::Le => 2,
        Op::Eq => 3,
        Op::Ge => 4,
        Op::Gt => 5,
    }
}

/// The constraint operator of [`RelationRecord::op`] (none for 0 or an unknown code).
pub fn op_of(code: u8) -> Option<Op> {
    match code {
        1 => Some(Op::Lt),
        2 => Some(Op::Le),
        3 => Some(Op::Eq),
        4 => Some(Op::Ge),
        5 => Some(Op::Gt),
        _ => None,
    }
}

/// The code of [`PackageRecord::multi_arch`] (explicit: the format must not follow the
/// order the model's enum happens to be declared in).
fn multi_arch_code(m: MultiArch) -> u8 {
    match m {
        MultiArch::No => 0,
        MultiArch::Same => 1,
        MultiArch::Foreign => 2,
        MultiArch::Allowed => 3,
    }
}

/// The code of [`PackageRecord::priority`].
fn priority_code(p: Priority) -> u8 {
    match p {
        Priority::Required => 0,
        Priority::Important => 1,
        Priority::Standard => 2,
        Priority::Optional => 3,
        Priority::Extra => 4,
    }
}

/// [`PackageRecord::multi_arch`] (an unknown code reads as `no`).
pub fn multi_arch_of(code: u8) -> MultiArch {
    match code {
        1 => MultiArch::Same,
        2 => MultiArch::Foreign,
        3 => MultiArch::Allowed,
        _ => MultiArch::No,
    }
}

/// [`PackageRecord::priority`] (an unknown code reads as `optional`).
pub fn priority_of(code: u8) -> Priority {
    match code {
        0 => Priority::Required,
        1 => Priority::Important,
        2 => Priority::Standard,
        4 => Priority::Extra,
        _ => Priority::Optional,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nDepends: libc6 (>= 2.34), default-mta | mail-transport-agent, python3:any (<< 3.12), foo:amd64\nConflicts: hello-traditional\nInstalled-Size: 280\nSize: 53100\nSHA256: 0000000000000000000000000000000000000000000000000000000000000001\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\n\nPackage: base-files\nEssential: yes\nPriority: required\nVersion: 12.4+deb12u15\nArchitecture: amd64\nMulti-Arch: foreign\nProvides: base (= 1), libc6-i386:x32\nSource: base-files-src (1)\nRecommends: a | b:native\n";

    fn archived(t: &PackageTable) -> rkyv::util::AlignedVec {
        rkyv::to_bytes::<rkyv::rancor::Error>(t).expect("serialize")
    }

    #[test]
    fn converts_back_to_what_the_owned_parser_gives() {
        let table = PackageTable::parse(TWO).expect("valid");
        let bytes = archived(&table);
        let a = rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&bytes).expect("valid");
        a.check_spans().expect("in bounds");
        let view = a.view().expect("UTF-8");
        assert_eq!(
            view.to_universe(),
            crate::parse_packages(TWO).expect("valid")
        );
        // Deduplicated: both packages' `amd64` is the same span, also used by `foo:amd64`.
        assert_eq!(table.packages[0].arch, table.packages[1].arch);
        assert!(table
            .relations
            .iter()
            .any(|r| r.qualifier_arch == table.packages[0].arch));
    }

    #[test]
    fn refuses_what_the_owned_parser_refuses() {
        for bad in [
            TWO.replace("Depends: libc6 (>= 2.34)", "Depends: libc6 (>= 2.34"),
            TWO.replace("Conflicts: hello-traditional", "Conflicts: a | b"),
            TWO.replace("Version: 12.4+deb12u15\n", ""),
            TWO.replace("Size: 53100", "Size: big"),
        ] {
            let owned = crate::parse_packages(&bad)
                .expect_err("invalid")
                .to_string();
            let table = PackageTable::parse(&bad).expect_err("invalid").to_string();
            assert_eq!(owned, table);
        }
    }

    /// `TWO` renamed and repeated until the index is large enough to be parsed in pieces.
    fn large() -> String {
        let mut text = String::new();
        for i in 0.. {
            if text.len() > 2 * CHUNK_MIN {
                break;
            }
            text += &TWO
                .replace("Package: hello", &format!("Package: hello{i}"))
                .replace("pool/main/h", &format!("pool/{i}"));
            text += "\n";
        }
        text
    }

    #[test]
    fn a_large_index_parsed_in_pieces_is_the_same_index() {
        let text = large();
        assert_eq!(chunks(&text).len(), PARSE_CHUNKS);
        let joined: String = chunks(&text).into_iter().map(|(_, c)| c).collect();
        assert_eq!(joined, text);
        let table = PackageTable::parse(&text).expect("valid");
        let bytes = archived(&table);
        let a = rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&bytes).expect("valid");
        a.check_spans().expect("in bounds");
        let owned = crate::parse_packages(&text).expect("valid");
        assert!(a.view().expect("UTF-8").to_universe() == owned);
        // Appended to a table that already holds packages, too.
        let mut two = PackageTable::parse(TWO).expect("valid");
        assert_eq!(two.add_index(&text).expect("valid"), owned.packages.len());
        let bytes = archived(&two);
        let a = rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&bytes).expect("valid");
        a.check_spans().expect("in bounds");
        let back = a.view().expect("UTF-8").to_universe();
        assert!(back.packages[2..] == owned.packages[..]);
    }

    #[test]
    fn errors_in_a_later_piece_name_the_line_in_the_whole_index() {
        let text = large();
        let (second, _) = chunks(&text)[1];
        let late = text.rfind("Size: 53100").expect("a late stanza");
        assert!(late > second);
        let early = text.find("Size: 53100").expect("an early stanza");
        let bad_late = format!("{}Size: big{}", &text[..late], &text[late + 11..]);
        let bad_both = format!(
            "{}Size: huge{}",
            &bad_late[..early],
            &bad_late[early + 11..]
        );
        for bad in [bad_late, bad_both] {
            let owned = crate::parse_packages(&bad)
                .expect_err("invalid")
                .to_string();
            let table = PackageTable::parse(&bad).expect_err("invalid").to_string();
            assert_eq!(owned, table);
        }
        let syntax = format!("{}\n continuation without a field\n", &text[..second]);
        let syntax = syntax + &text[second..];
        let owned = crate::parse_packages(&syntax)
            .expect_err("invalid")
            .to_string();
        assert_eq!(
            PackageTable::parse(&syntax)
                .expect_err("invalid")
                .to_string(),
            owned
        );
    }

    #[test]
    fn spans_outside_the_table_are_caught() {
        let mut table = PackageTable::parse(TWO).expect("valid");
        table.relations[0].name.start = 1 << 30;
        let bytes = archived(&table);
        let a = rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&bytes).expect("valid");
        assert!(a.check_spans().is_err());
    }
}
