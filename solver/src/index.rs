//! The universe, indexed for relation lookups: which packages a relation can mean, under Debian's
//! Provides, version and Multi-Arch rules. Everything here is deterministic: every list is sorted
//! by a total order that does not depend on hash iteration.

use std::cmp::Ordering;
use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A word-at-a-time multiplicative hash (rustc's FxHash), for the name, Provides and
/// Conflicts lookups and the per-request relation cache. Package names are short and
/// trusted-shape (from a verified archive), so SipHash's DoS resistance is not needed; Fx
/// hashes a name in a few words where FNV-1a (used before) took one multiply per byte: the
/// index builds ~13 % faster. Map iteration order never reaches the output (every list is
/// sorted).
#[derive(Default)]
pub(crate) struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.add(i as u64);
    }
}

/// A hash map with [`Fx`].
pub(crate) type FxMap<K, V> = StdHashMap<K, V, BuildHasherDefault<Fx>>;
type HashMap<K, V> = FxMap<K, V>;
use std::cell::OnceCell;
use store::{
    compare_versions, ArchQualifier, ArchivedNameDirectory, ArchivedRelationRecord, MultiArch, Op,
    Package, Priority, Relation, TableView, Universe,
};

/// A relation read in place from either source (an owned package or a table record): the
/// solver's hot paths look at thousands of relations per request and need no owned copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Rel<'a> {
    pub(crate) name: &'a str,
    pub(crate) arch: Qual<'a>,
    pub(crate) constraint: Option<(Op, &'a str)>,
    /// Where `name` is in the table's name directory, when the relation was read from a table
    /// that has one.
    pub(crate) entry: Entry,
}

/// Where a name is in a table's name directory (`store::NameDirectory`), as far as known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Entry {
    /// Not known: the name is looked up by its text (an owned relation, a request, or a table
    /// without a directory).
    Unknown,
    /// The directory has no entry for the name: no package is called so, provides it or
    /// conflicts with it.
    Absent,
    /// Entry `e`.
    At(u32),
}

impl Entry {
    /// An entry as the directory reports it (`None`: no entry).
    fn of(e: Option<usize>) -> Self {
        e.map_or(Entry::Absent, |e| Entry::At(e as u32))
    }
}

/// [`ArchQualifier`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Qual<'a> {
    None,
    Any,
    Native,
    Named(&'a str),
}

impl<'a> From<&'a Relation> for Rel<'a> {
    fn from(r: &'a Relation) -> Self {
        Rel {
            name: &r.name,
            arch: match &r.arch {
                ArchQualifier::None => Qual::None,
                ArchQualifier::Any => Qual::Any,
                ArchQualifier::Native => Qual::Native,
                ArchQualifier::Named(a) => Qual::Named(a),
            },
            constraint: r.constraint.as_ref().map(|c| (c.op, c.version.as_str())),
            entry: Entry::Unknown,
        }
    }
}

impl<'a> Rel<'a> {
    /// Record `i` of the table's relations, read as [`TableView::relation`] reads it.
    fn of_record(table: &TableView<'a>, r: &'a ArchivedRelationRecord, i: usize) -> Self {
        Rel {
            entry: table
                .names()
                .map_or(Entry::Unknown, |d| Entry::of(d.relation_entry(i))),
            name: table.str(&r.name),
            arch: match r.qualifier {
                1 => Qual::Any,
                2 => Qual::Native,
                3 => Qual::Named(table.str(&r.qualifier_arch)),
                _ => Qual::None,
            },
            constraint: store::op_of(r.op).map(|op| (op, table.str(&r.version))),
        }
    }

    /// Whether version `v` satisfies the constraint (if any).
    fn version_ok(&self, v: &str) -> bool {
        self.constraint.is_none_or(|(op, c)| op.holds(v, c))
    }
}

impl Rel<'_> {
    /// Gives `put` the pieces of the relation as [`Relation`]'s `Display` writes it
    /// (`name:arch (op version)`): a reason's text is built from them without the
    /// formatting machinery, which cost ~1,000 instructions per relation.
    fn pieces<E>(&self, mut put: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
        put(self.name)?;
        match self.arch {
            Qual::None => {}
            Qual::Any => put(":any")?,
            Qual::Native => put(":native")?,
            Qual::Named(a) => {
                put(":")?;
                put(a)?;
            }
        }
        if let Some((op, v)) = self.constraint {
            put(" (")?;
            put(op.as_str())?;
            put(" ")?;
            put(v)?;
            put(")")?;
        }
        Ok(())
    }
}

/// Written as [`Relation`]'s `Display` writes it.
impl std::fmt::Display for Rel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pieces(|s| f.write_str(s))
    }
}

/// A dependency field of a package (entries of alternatives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    PreDepends,
    Depends,
    Recommends,
}

/// A relation list of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    Conflicts,
    Breaks,
    Provides,
}

/// Relations of one source, read in place.
pub(crate) enum Rels<'u> {
    Owned(std::slice::Iter<'u, Relation>),
    /// Records of the table's relations, and the index of the next one.
    Table(
        TableView<'u>,
        std::slice::Iter<'u, ArchivedRelationRecord>,
        usize,
    ),
}

impl<'u> Rels<'u> {
    /// The relations of range `span` of the table's relations.
    fn table(table: TableView<'u>, span: &store::ArchivedSpan) -> Self {
        let records = table.relation_slice(span);
        Rels::Table(table, records.iter(), span.start.to_native() as usize)
    }
}

impl<'u> Iterator for Rels<'u> {
    type Item = Rel<'u>;
    fn next(&mut self) -> Option<Rel<'u>> {
        match self {
            Rels::Owned(it) => it.next().map(Rel::from),
            Rels::Table(t, it, i) => {
                let r = Rel::of_record(t, it.next()?, *i);
                *i += 1;
                Some(r)
            }
        }
    }
}

/// Architectures the solver considers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The native architecture (default: [`store::native_architecture`], `amd64` here);
    /// `Architecture: all` packages count as native.
    pub arch: String,
    /// Foreign architectures enabled as with `dpkg --add-architecture`.
    pub foreign_archs: Vec<String>,
    /// apt's pin priority of each package, in universe order ([`crate::policy`]); a package
    /// past the end has [`crate::policy::DEFAULT_PRIORITY`]. Candidates are ordered by it
    /// first (then newest version first); a package of priority 0 or less is never chosen.
    pub pins: Vec<i16>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            arch: store::native_architecture().to_owned(),
            foreign_archs: Vec::new(),
            pins: Vec::new(),
        }
    }
}

/// Index of a package in `Universe::packages`.
pub(crate) type Pkg = u32;

/// Where the index reads packages from.
enum Source<'u> {
    /// An owned universe.
    Owned(&'u [Package]),
    /// A package table read in place (a store snapshot). A package is converted to the owned
    /// model the first time the solver looks at its relations: a request reaches a few thousand
    /// of the archive's packages, and converting all 63,000 would cost more than solving.
    Table {
        table: TableView<'u>,
        /// Boxed: an empty cell is then 8 bytes, not a `Package`'s ~400.
        owned: Vec<OnceCell<Box<Package>>>,
    },
}

/// The packages of one name. Almost every name has one, so it is kept inline: building the
/// index then allocates nothing per package.
enum Candidates {
    One(Pkg),
    Many(Vec<Pkg>),
}

impl Candidates {
    fn push(&mut self, p: Pkg) {
        match self {
            Candidates::One(first) => *self = Candidates::Many(vec![*first, p]),
            Candidates::Many(list) => list.push(p),
        }
    }

    fn as_slice(&self) -> &[Pkg] {
        match self {
            Candidates::One(p) => std::slice::from_ref(p),
            Candidates::Many(list) => list,
        }
    }
}

/// What the index reads of every package, borrowed from the source without converting it.
struct Head<'u> {
    name: &'u str,
    version: &'u str,
    arch: &'u str,
    multi_arch: MultiArch,
    priority: Priority,
    essential: bool,
}

/// A provider of a name: the package and the version it provides the name at, if any.
type Provider<'u> = (Pkg, Option<&'u str>);

/// The lookups by name, over the considered packages, each list in preference order.
enum Lookups<'u> {
    /// Built when the index is made: for an owned universe, or a table without a name
    /// directory (a snapshot written before snapshots had one).
    Built {
        by_name: HashMap<&'u str, Candidates>,
        providers: HashMap<&'u str, Vec<Provider<'u>>>,
        /// Target name -> (package, is Breaks, index in that field) for every Conflicts/Breaks.
        neg_by_name: HashMap<&'u str, Vec<(Pkg, bool, u32)>>,
    },
    /// Read from the snapshot's name directory, which lists every package in table order: a
    /// name's candidates and providers are filtered to the considered packages and put in
    /// preference order the first time the solver asks (a request reaches a few thousand of
    /// the archive's ~75,000 names), and kept per directory entry.
    Stored {
        dir: &'u ArchivedNameDirectory,
        named: Vec<OnceCell<Box<[Pkg]>>>,
        providers: Vec<OnceCell<Box<[Provider<'u>]>>>,
    },
}

impl Lookups<'_> {
    /// Empty built lookups, with room for an archive of `n` packages.
    fn built(n: usize) -> Self {
        Lookups::Built {
            by_name: HashMap::with_capacity_and_hasher(n, Default::default()),
            // Sized from bookworm: ~1 provided name per 6 packages, ~1 Conflicts/Breaks
            // target per 5.
            providers: HashMap::with_capacity_and_hasher(n / 6, Default::default()),
            neg_by_name: HashMap::with_capacity_and_hasher(n / 5, Default::default()),
        }
    }
}

/// Per package: name, version, architecture, … (see [`Head`]), for the lookups that every
/// candidate goes through.
enum Heads<'u> {
    /// Copied into arrays, when building the lookups passes over every package anyway.
    Arrays(Arrays<'u>),
    /// Read from the table's records on each access: with a name directory, a request looks at
    /// a few thousand of the archive's packages, and copying all 63,440 cost more than that.
    Table(TableView<'u>),
}

/// [`Heads::Arrays`].
#[derive(Default)]
struct Arrays<'u> {
    names: Vec<&'u str>,
    versions: Vec<&'u str>,
    archs: Vec<&'u str>,
    multi_archs: Vec<MultiArch>,
    priorities: Vec<Priority>,
    essential: Vec<bool>,
    considered: Vec<bool>,
}

/// Name, Provides and negative-relation lookups over the considered packages.
pub(crate) struct Index<'u> {
    source: Source<'u>,
    heads: Heads<'u>,
    pub(crate) native: String,
    foreign: Vec<String>,
    /// [`Options::pins`].
    pins: Vec<i16>,
    lookups: Lookups<'u>,
    /// Considered native packages that are `Essential: yes` or `Priority: required`, in
    /// universe order (for [`Index::base_names`], without a pass over every package per solve).
    base: Vec<Pkg>,
}

impl<'u> Index<'u> {
    pub(crate) fn new(universe: &'u Universe, options: &Options) -> Self {
        let pkgs = &universe.packages[..];
        let heads = pkgs.iter().map(|p| Head {
            name: &p.name,
            version: &p.version,
            arch: &p.arch,
            multi_arch: p.multi_arch,
            priority: p.priority,
            essential: p.essential,
        });
        let mut index = Self::empty(Source::Owned(pkgs), heads, options);
        for (i, p) in pkgs.iter().enumerate() {
            if index.considered(i as Pkg) {
                let provides = p.provides.iter().map(|r| {
                    (
                        r.name.as_str(),
                        r.constraint.as_ref().map(|c| c.version.as_str()),
                    )
                });
                let conflicts = p.conflicts.iter().map(|r| r.name.as_str());
                let breaks = p.breaks.iter().map(|r| r.name.as_str());
                index.add_relations(i as Pkg, provides, conflicts, breaks);
            }
        }
        index.sort();
        index
    }

    /// The index over a package table read in place: its lookups come from the table's name
    /// directory when it has one, and are built otherwise.
    pub(crate) fn from_table(table: TableView<'u>, options: &Options) -> Self {
        let owned = (0..table.len()).map(|_| OnceCell::new()).collect();
        let source = Source::Table { table, owned };
        if let Some(dir) = table.names() {
            let mut index = Index {
                source,
                heads: Heads::Table(table),
                native: options.arch.clone(),
                foreign: options.foreign_archs.clone(),
                pins: options.pins.clone(),
                lookups: Lookups::Stored {
                    dir,
                    named: (0..dir.len()).map(|_| OnceCell::new()).collect(),
                    providers: (0..dir.len()).map(|_| OnceCell::new()).collect(),
                },
                base: Vec::new(),
            };
            index.base = dir
                .base()
                .filter(|&p| index.considered(p) && index.eff_arch(p) == index.native)
                .collect();
            return index;
        }
        let heads = table.packages.iter().map(|p| Head {
            name: table.str(&p.name),
            version: table.str(&p.version),
            arch: table.str(&p.arch),
            multi_arch: store::multi_arch_of(p.multi_arch),
            priority: store::priority_of(p.priority),
            essential: p.flags & 1 != 0,
        });
        let mut index = Self::empty(source, heads, options);
        for (i, p) in table.packages.iter().enumerate() {
            if index.considered(i as Pkg) {
                let [conflicts, breaks, _replaces, provides] = &p.relations;
                let provides = table.relation_slice(provides).iter().map(|r| {
                    let version = store::op_of(r.op).map(|_| table.str(&r.version));
                    (table.str(&r.name), version)
                });
                let names = |s| table.relation_slice(s).iter().map(|r| table.str(&r.name));
                index.add_relations(i as Pkg, provides, names(conflicts), names(breaks));
            }
        }
        index.sort();
        index
    }

    /// The per-package arrays and the name lookup; the relation lookups are empty.
    fn empty(
        source: Source<'u>,
        heads: impl ExactSizeIterator<Item = Head<'u>>,
        options: &Options,
    ) -> Self {
        let n = heads.len();
        let mut a = Arrays {
            names: Vec::with_capacity(n),
            versions: Vec::with_capacity(n),
            archs: Vec::with_capacity(n),
            multi_archs: Vec::with_capacity(n),
            priorities: Vec::with_capacity(n),
            essential: Vec::with_capacity(n),
            considered: Vec::with_capacity(n),
        };
        let mut lookups = Lookups::built(n);
        let Lookups::Built { by_name, .. } = &mut lookups else {
            unreachable!("built above")
        };
        let mut base = Vec::new();
        for (i, h) in heads.enumerate() {
            let considered = considered(h.arch, &options.arch, &options.foreign_archs)
                && pin_of(&options.pins, i as Pkg) > 0;
            if considered {
                by_name
                    .entry(h.name)
                    .and_modify(|c| c.push(i as Pkg))
                    .or_insert(Candidates::One(i as Pkg));
            }
            let native = h.arch == "all" || h.arch == options.arch;
            if considered && native && (h.essential || h.priority == Priority::Required) {
                base.push(i as Pkg);
            }
            a.considered.push(considered);
            a.names.push(h.name);
            a.versions.push(h.version);
            a.archs.push(h.arch);
            a.multi_archs.push(h.multi_arch);
            a.priorities.push(h.priority);
            a.essential.push(h.essential);
        }
        Index {
            source,
            heads: Heads::Arrays(a),
            native: options.arch.clone(),
            foreign: options.foreign_archs.clone(),
            pins: options.pins.clone(),
            lookups,
            base,
        }
    }

    /// Records a considered package's Provides, Conflicts and Breaks (by target name) in built
    /// lookups.
    fn add_relations(
        &mut self,
        id: Pkg,
        provides: impl Iterator<Item = (&'u str, Option<&'u str>)>,
        conflicts: impl Iterator<Item = &'u str>,
        breaks: impl Iterator<Item = &'u str>,
    ) {
        let Lookups::Built {
            providers,
            neg_by_name,
            ..
        } = &mut self.lookups
        else {
            unreachable!("relations are recorded only while building lookups")
        };
        for (name, version) in provides {
            providers.entry(name).or_default().push((id, version));
        }
        for (k, name) in conflicts.enumerate() {
            neg_by_name
                .entry(name)
                .or_default()
                .push((id, false, k as u32));
        }
        for (k, name) in breaks.enumerate() {
            neg_by_name
                .entry(name)
                .or_default()
                .push((id, true, k as u32));
        }
    }

    /// Puts every candidate and provider list of built lookups in preference order.
    fn sort(&mut self) {
        let mut lookups = std::mem::replace(&mut self.lookups, Lookups::built(0));
        if let Lookups::Built {
            by_name, providers, ..
        } = &mut lookups
        {
            for list in by_name.values_mut() {
                if let Candidates::Many(list) = list {
                    self.sort_candidates(list);
                }
            }
            for list in providers.values_mut() {
                self.sort_providers(list);
            }
        }
        self.lookups = lookups;
    }

    /// Candidates of one name, best first.
    fn sort_candidates(&self, list: &mut [Pkg]) {
        list.sort_by(|&a, &b| self.prefer(a, b));
    }

    /// Providers of one name in the order the solver tries them: by Priority, then name, then
    /// as candidates of one name; each (package, version) once.
    fn sort_providers(&self, list: &mut Vec<Provider<'u>>) {
        list.sort_by(|&(a, _), &(b, _)| {
            self.priority(a)
                .cmp(&self.priority(b))
                .then_with(|| self.name(a).cmp(self.name(b)))
                .then_with(|| self.prefer(a, b))
        });
        list.dedup();
    }

    /// Candidate order among packages of one name: highest pin priority first (apt's
    /// candidate), then newest version, native before foreign, then universe order (of one
    /// name, version and architecture listed by several sources, the first source's).
    fn prefer(&self, a: Pkg, b: Pkg) -> Ordering {
        self.pin(b)
            .cmp(&self.pin(a))
            .then_with(|| compare_versions(self.version(b), self.version(a)))
            .then_with(|| (self.eff_arch(a) != self.native).cmp(&(self.eff_arch(b) != self.native)))
            .then_with(|| self.arch(a).cmp(self.arch(b)))
            .then_with(|| a.cmp(&b))
    }

    pub(crate) fn len(&self) -> usize {
        match &self.heads {
            Heads::Arrays(a) => a.names.len(),
            Heads::Table(t) => t.len(),
        }
    }

    /// The SHA256 of package `p`'s .deb, as its index lists it.
    pub(crate) fn sha256(&self, p: Pkg) -> store::Sha256 {
        match &self.source {
            Source::Owned(pkgs) => pkgs[p as usize].sha256,
            Source::Table { table, .. } => store::Sha256(table.packages[p as usize].sha256),
        }
    }

    /// Package `p`, owned (converted from the table on first use).
    pub(crate) fn pkg(&self, p: Pkg) -> &Package {
        match &self.source {
            Source::Owned(pkgs) => &pkgs[p as usize],
            Source::Table { table, owned } => owned[p as usize].get_or_init(|| {
                Box::new(
                    table
                        .package(p as usize)
                        .expect("package ids index the table"),
                )
            }),
        }
    }

    /// How many entries field `field` of `p` has (without converting it).
    pub(crate) fn entry_count(&self, p: Pkg, field: Field) -> usize {
        match &self.source {
            Source::Owned(pkgs) => owned_field(&pkgs[p as usize], field).len(),
            Source::Table { table, .. } => {
                let rec = &table.packages[p as usize];
                table
                    .group_slice(&rec.dependencies[table_field(field)])
                    .len()
            }
        }
    }

    /// The alternatives of entry `k` of field `field` of `p`, read in place.
    pub(crate) fn entry(&self, p: Pkg, field: Field, k: usize) -> Rels<'u> {
        match &self.source {
            Source::Owned(pkgs) => {
                Rels::Owned(owned_field(&pkgs[p as usize], field)[k].alternatives.iter())
            }
            Source::Table { table, .. } => {
                let rec = &table.packages[p as usize];
                let group = &table.group_slice(&rec.dependencies[table_field(field)])[k];
                Rels::table(*table, group)
            }
        }
    }

    /// Entry `k` of field `field` of `p` as written in the index (`a (>= 1) | b`).
    pub(crate) fn entry_text(&self, p: Pkg, field: Field, k: usize) -> String {
        // Measured first, so that the text is allocated once.
        let mut len = 0;
        for (i, r) in self.entry(p, field, k).enumerate() {
            len += if i > 0 { " | ".len() } else { 0 };
            let Ok(()) = r.pieces::<std::convert::Infallible>(|s| {
                len += s.len();
                Ok(())
            });
        }
        let mut out = String::with_capacity(len);
        for (i, r) in self.entry(p, field, k).enumerate() {
            if i > 0 {
                out.push_str(" | ");
            }
            let Ok(()) = r.pieces::<std::convert::Infallible>(|s| {
                out.push_str(s);
                Ok(())
            });
        }
        out
    }

    /// The relations of list `list` of `p`, read in place.
    pub(crate) fn rels(&self, p: Pkg, list: List) -> Rels<'u> {
        match &self.source {
            Source::Owned(pkgs) => {
                let pkg = &pkgs[p as usize];
                let l = match list {
                    List::Conflicts => &pkg.conflicts,
                    List::Breaks => &pkg.breaks,
                    List::Provides => &pkg.provides,
                };
                Rels::Owned(l.iter())
            }
            Source::Table { table, .. } => {
                let rec = &table.packages[p as usize];
                let i = match list {
                    List::Conflicts => 0,
                    List::Breaks => 1,
                    List::Provides => 3,
                };
                Rels::table(*table, &rec.relations[i])
            }
        }
    }

    /// The architecture field of `p` (`all` stays `all`; see [`Index::eff_arch`]).
    pub(crate) fn arch(&self, p: Pkg) -> &'u str {
        match &self.heads {
            Heads::Arrays(a) => a.archs[p as usize],
            Heads::Table(t) => t.str(&t.packages[p as usize].arch),
        }
    }

    /// The name of `p` (without converting it).
    pub(crate) fn name(&self, p: Pkg) -> &'u str {
        match &self.heads {
            Heads::Arrays(a) => a.names[p as usize],
            Heads::Table(t) => t.str(&t.packages[p as usize].name),
        }
    }

    /// The version of `p` (without converting it).
    pub(crate) fn version(&self, p: Pkg) -> &'u str {
        match &self.heads {
            Heads::Arrays(a) => a.versions[p as usize],
            Heads::Table(t) => t.str(&t.packages[p as usize].version),
        }
    }

    fn multi_arch(&self, p: Pkg) -> MultiArch {
        match &self.heads {
            Heads::Arrays(a) => a.multi_archs[p as usize],
            Heads::Table(t) => store::multi_arch_of(t.packages[p as usize].multi_arch),
        }
    }

    fn priority(&self, p: Pkg) -> Priority {
        match &self.heads {
            Heads::Arrays(a) => a.priorities[p as usize],
            Heads::Table(t) => store::priority_of(t.packages[p as usize].priority),
        }
    }

    fn essential(&self, p: Pkg) -> bool {
        match &self.heads {
            Heads::Arrays(a) => a.essential[p as usize],
            Heads::Table(t) => t.packages[p as usize].flags & 1 != 0,
        }
    }

    /// Whether the solver considers `p` (its architecture is native, `all` or an enabled
    /// foreign one). False for an index past the end, which only a damaged name directory
    /// gives: every package the solver reaches through the directory is checked here first.
    pub(crate) fn considered(&self, p: Pkg) -> bool {
        match &self.heads {
            Heads::Arrays(a) => a.considered[p as usize],
            Heads::Table(t) => t.packages.get(p as usize).is_some_and(|r| {
                considered(t.str(&r.arch), &self.native, &self.foreign) && self.pin(p) > 0
            }),
        }
    }

    /// The package's pin priority ([`Options::pins`]).
    pub(crate) fn pin(&self, p: Pkg) -> i16 {
        pin_of(&self.pins, p)
    }

    /// The architecture a package installs as (`all` counts as native).
    pub(crate) fn eff_arch(&self, p: Pkg) -> &str {
        let a = self.arch(p);
        if a == "all" {
            &self.native
        } else {
            a
        }
    }

    /// All considered packages called `name`, best candidate first.
    pub(crate) fn named(&self, name: &str) -> &[Pkg] {
        self.candidates(name, Entry::Unknown)
    }

    /// All considered packages called as `p` is (`p` among them if considered), best first.
    pub(crate) fn same_name(&self, p: Pkg) -> &[Pkg] {
        self.candidates(self.name(p), self.package_entry(p))
    }

    /// The entry of `p`'s name in the name directory, if there is one.
    fn package_entry(&self, p: Pkg) -> Entry {
        match &self.lookups {
            Lookups::Stored { dir, .. } => Entry::of(dir.package_entry(p as usize)),
            Lookups::Built { .. } => Entry::Unknown,
        }
    }

    /// [`Self::named`], with the name's directory entry if known.
    fn candidates(&self, name: &str, entry: Entry) -> &[Pkg] {
        match &self.lookups {
            Lookups::Built { by_name, .. } => by_name.get(name).map_or(&[], Candidates::as_slice),
            Lookups::Stored { dir, named, .. } => {
                let Some(e) = self.find(dir, name, entry) else {
                    return &[];
                };
                named[e].get_or_init(|| {
                    let mut list: Vec<Pkg> =
                        dir.packages(e).filter(|&p| self.considered(p)).collect();
                    self.sort_candidates(&mut list);
                    list.into_boxed_slice()
                })
            }
        }
    }

    /// The considered packages that provide `name` (whose directory entry is `entry`, if
    /// known), in the order the solver tries them.
    fn providers(&self, name: &str, entry: Entry) -> &[Provider<'u>] {
        match &self.lookups {
            Lookups::Built { providers, .. } => providers.get(name).map_or(&[], Vec::as_slice),
            Lookups::Stored { dir, providers, .. } => {
                let Some(e) = self.find(dir, name, entry) else {
                    return &[];
                };
                providers[e].get_or_init(|| {
                    let Source::Table { table, .. } = &self.source else {
                        unreachable!("a name directory comes with its table")
                    };
                    let mut list: Vec<Provider<'u>> = dir
                        .provides(e)
                        .filter(|&(p, _)| self.considered(p))
                        .map(|(p, r)| {
                            let r = table.relations.get(r as usize);
                            let version = r
                                .filter(|r| store::op_of(r.op).is_some())
                                .map(|r| table.str(&r.version));
                            (p, version)
                        })
                        .collect();
                    self.sort_providers(&mut list);
                    list.into_boxed_slice()
                })
            }
        }
    }

    /// The entry of `name` in the table's name directory: `entry` when known (a relation read
    /// from the table, a package's own name), else looked up by the name's text.
    fn find(&self, dir: &ArchivedNameDirectory, name: &str, entry: Entry) -> Option<usize> {
        match entry {
            Entry::At(e) => Some(e as usize),
            Entry::Absent => None,
            Entry::Unknown => {
                let Source::Table { table, .. } = &self.source else {
                    unreachable!("a name directory comes with its table")
                };
                dir.find(table, name)
            }
        }
    }

    /// Calls `f` with (owner, is Breaks, index in the field) for every Conflicts/Breaks that
    /// names `name` (whose directory entry is `entry`, if known) of a considered package for
    /// which `among` holds.
    fn negatives(
        &self,
        name: &str,
        entry: Entry,
        among: impl Fn(Pkg) -> bool,
        mut f: impl FnMut(Pkg, bool, u32),
    ) {
        match &self.lookups {
            Lookups::Built { neg_by_name, .. } => {
                for &(owner, brk, k) in neg_by_name.get(name).map_or(&[][..], Vec::as_slice) {
                    if among(owner) {
                        f(owner, brk, k);
                    }
                }
            }
            Lookups::Stored { dir, .. } => {
                if let Some(e) = self.find(dir, name, entry) {
                    for (owner, brk, k) in dir.negatives(e) {
                        // `considered` first: it also rules out a package index past the end
                        // (a damaged directory), which `among` may not expect.
                        if self.considered(owner) && among(owner) {
                            f(owner, brk, k);
                        }
                    }
                }
            }
        }
    }

    /// Whether `name` is provided by some considered package.
    pub(crate) fn is_provided(&self, name: &str) -> bool {
        !self.providers(name, Entry::Unknown).is_empty()
    }

    /// Two packages that dpkg cannot have installed together because they are instances of
    /// one name (Multi-Arch: same instances of different architectures may coexist).
    pub(crate) fn same_slot(&self, a: Pkg, b: Pkg) -> bool {
        let same = |p: Pkg| self.multi_arch(p) == MultiArch::Same;
        a != b
            && self.name(a) == self.name(b)
            && !(same(a) && same(b) && self.eff_arch(a) != self.eff_arch(b))
    }

    fn pos_arch_ok(&self, r: &Rel<'_>, c: Pkg, from_arch: &str) -> bool {
        let ma = self.multi_arch(c);
        match r.arch {
            Qual::None => ma == MultiArch::Foreign || self.eff_arch(c) == from_arch,
            Qual::Any => {
                matches!(ma, MultiArch::Allowed | MultiArch::Foreign)
                    || self.eff_arch(c) == from_arch
            }
            Qual::Native => self.eff_arch(c) == self.native,
            Qual::Named(a) => self.eff_arch(c) == a,
        }
    }

    fn neg_arch_ok(&self, r: &Rel<'_>, c: Pkg) -> bool {
        match r.arch {
            Qual::None | Qual::Any => true,
            Qual::Native => self.eff_arch(c) == self.native,
            Qual::Named(a) => self.eff_arch(c) == a,
        }
    }

    /// Appends the packages that satisfy `r` for a package of architecture `from_arch`, in
    /// preference order: real packages of that name (newest first), then providers. A versioned
    /// relation is satisfied only by versioned Provides whose version matches.
    pub(crate) fn satisfiers(&self, r: Rel<'_>, from_arch: &str, out: &mut Vec<Pkg>) {
        let r = &r;
        let start = out.len();
        for &c in self.candidates(r.name, r.entry) {
            if r.version_ok(self.version(c)) && self.pos_arch_ok(r, c, from_arch) {
                out.push(c);
            }
        }
        for &(c, pv) in self.providers(r.name, r.entry) {
            let ok = match (r.constraint, pv) {
                (None, _) => true,
                (Some(_), Some(v)) => r.version_ok(v),
                (Some(_), None) => false,
            };
            if ok && self.pos_arch_ok(r, c, from_arch) && !out[start..].contains(&c) {
                out.push(c);
            }
        }
    }

    /// Appends the packages other than `owner` that `owner`'s Conflicts/Breaks entry `r` hits,
    /// of those for which `among` holds (checked before any version is compared).
    pub(crate) fn hits(
        &self,
        r: Rel<'_>,
        owner: Pkg,
        among: impl Fn(Pkg) -> bool,
        out: &mut Vec<Pkg>,
    ) {
        let r = &r;
        for &c in self.candidates(r.name, r.entry) {
            if c != owner && among(c) && r.version_ok(self.version(c)) && self.neg_arch_ok(r, c) {
                out.push(c);
            }
        }
        for &(c, pv) in self.providers(r.name, r.entry) {
            if !among(c) {
                continue;
            }
            let ok = match (r.constraint, pv) {
                (None, _) => true,
                (Some(_), Some(v)) => r.version_ok(v),
                (Some(_), None) => false,
            };
            if c != owner && ok && self.neg_arch_ok(r, c) && !out.contains(&c) {
                out.push(c);
            }
        }
    }

    /// Whether Conflicts/Breaks entry `r` of `owner` hits `target`.
    pub(crate) fn hits_one(&self, r: Rel<'_>, owner: Pkg, target: Pkg) -> bool {
        if owner == target || !self.neg_arch_ok(&r, target) {
            return false;
        }
        if self.name(target) == r.name && r.version_ok(self.version(target)) {
            return true;
        }
        self.rels(target, List::Provides).any(|p| {
            p.name == r.name
                && match (r.constraint, p.constraint) {
                    (None, _) => true,
                    (Some(_), Some((_, v))) => r.version_ok(v),
                    (Some(_), None) => false,
                }
        })
    }

    /// Negative relations of other packages that name `target` (by its name or a name it
    /// provides) and hit it: (owner, is Breaks, index in the field).
    /// Only owners for which `among` holds are checked (the encoding needs only those whose
    /// clauses are encoded, a few of the many that name a common package).
    pub(crate) fn hit_by(
        &self,
        target: Pkg,
        among: impl Fn(Pkg) -> bool,
        out: &mut Vec<(Pkg, bool, u32)>,
    ) {
        let names = std::iter::once((self.name(target), self.package_entry(target)))
            .chain(self.rels(target, List::Provides).map(|r| (r.name, r.entry)));
        for (name, entry) in names {
            self.negatives(name, entry, &among, |owner, brk, k| {
                let list = if brk { List::Breaks } else { List::Conflicts };
                // Always there for built lookups; a damaged name directory may point past the
                // owner's relations, which then hits nothing.
                let Some(r) = self.rels(owner, list).nth(k as usize) else {
                    return;
                };
                if self.hits_one(r, owner, target) && !out.contains(&(owner, brk, k)) {
                    out.push((owner, brk, k));
                }
            });
        }
    }

    /// The names that every installation must contain, sorted: `Essential: yes` packages, plus
    /// `Priority: required` ones when `with_required`.
    pub(crate) fn base_names(&self, with_required: bool) -> Vec<&'u str> {
        let mut names: Vec<&str> = self
            .base
            .iter()
            .copied()
            .filter(|&p| {
                self.essential(p) || (with_required && self.priority(p) == Priority::Required)
            })
            .map(|p| self.name(p))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Package `p`'s pin priority in `pins`.
fn pin_of(pins: &[i16], p: Pkg) -> i16 {
    pins.get(p as usize)
        .copied()
        .unwrap_or(crate::policy::DEFAULT_PRIORITY)
}

/// Whether the solver considers packages of architecture `arch`.
fn considered(arch: &str, native: &str, foreign: &[String]) -> bool {
    arch == "all" || arch == native || foreign.iter().any(|a| a == arch)
}

/// Field `field` of an owned package.
fn owned_field(p: &Package, field: Field) -> &[store::Dependency] {
    match field {
        Field::PreDepends => &p.pre_depends,
        Field::Depends => &p.depends,
        Field::Recommends => &p.recommends,
    }
}

/// Index of field `field` in [`store::PackageRecord::dependencies`].
fn table_field(field: Field) -> usize {
    match field {
        Field::Depends => 0,
        Field::PreDepends => 1,
        Field::Recommends => 2,
    }
}
