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
    fn range(&self) -> std::ops::Range<usize> {
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
/// cache (256 KiB) stays in the CPU cache, catches the names and versions that recur most
/// (`libc6`, `2.34`, `amd64`, `python3`, …) and stores a rare string again now and then, which
/// costs a few bytes and changes nothing else.
struct Builder<'t> {
    table: &'t mut PackageTable,
    recent: Vec<(u64, Span)>,
}

/// Entries of [`Builder::recent`] (a power of two).
const RECENT: usize = 1 << 11;

impl Builder<'_> {
    /// The span of `s`: an earlier copy if the cache remembers one, else a new one.
    fn intern(&mut self, s: &str) -> Result<Span, IndexError> {
        let hash = fnv1a(s.as_bytes());
        let slot = &mut self.recent[hash as usize & (RECENT - 1)];
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

/// FNV-1a, for the dedup cache: the strings are short and come from verified indices.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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
    /// Accepts and refuses exactly what [`crate::parse_packages`] does.
    pub fn add_index(&mut self, text: &str) -> Result<usize, IndexError> {
        let before = self.packages.len();
        // Sized from bookworm main: ~790 bytes of index text per package, ~11 relations and
        // ~4 dependency entries per package, a tenth of the text in distinct strings.
        let estimate = text.len() / 790;
        self.packages.reserve(estimate);
        self.relations.reserve(estimate * 11);
        self.groups.reserve(estimate * 4);
        self.strings.reserve(text.len() / 10);
        let mut builder = Builder {
            table: self,
            recent: vec![
                (
                    0,
                    Span {
                        start: 0,
                        len: u32::MAX
                    }
                );
                RECENT
            ],
        };
        for_each_stanza(text, |stanza| {
            let record = builder.package(&stanza)?;
            builder.table.packages.push(record);
            Ok(())
        })?;
        Ok(self.packages.len() - before)
    }
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
        })
    }
}

/// An archived package table whose strings are known to be UTF-8 (see
/// [`ArchivedPackageTable::view`]); it converts records to the owned model.
#[derive(Clone, Copy)]
pub struct TableView<'a> {
    table: &'a ArchivedPackageTable,
    strings: &'a str,
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

    #[test]
    fn spans_outside_the_table_are_caught() {
        let mut table = PackageTable::parse(TWO).expect("valid");
        table.relations[0].name.start = 1 << 30;
        let bytes = archived(&table);
        let a = rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&bytes).expect("valid");
        assert!(a.check_spans().is_err());
    }
}
