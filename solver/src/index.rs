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
    compare_versions, ArchQualifier, ArchivedRelationRecord, MultiArch, Op, Package, Priority,
    Relation, TableView, Universe,
};

/// A relation read in place from either source (an owned package or a table record): the
/// solver's hot paths look at thousands of relations per request and need no owned copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Rel<'a> {
    pub(crate) name: &'a str,
    pub(crate) arch: Qual<'a>,
    pub(crate) constraint: Option<(Op, &'a str)>,
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
        }
    }
}

impl<'a> Rel<'a> {
    /// A table record, read as [`TableView::relation`] reads it.
    fn of_record(table: &TableView<'a>, r: &'a ArchivedRelationRecord) -> Self {
        Rel {
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
    Table(TableView<'u>, std::slice::Iter<'u, ArchivedRelationRecord>),
}

impl<'u> Iterator for Rels<'u> {
    type Item = Rel<'u>;
    fn next(&mut self) -> Option<Rel<'u>> {
        match self {
            Rels::Owned(it) => it.next().map(Rel::from),
            Rels::Table(t, it) => it.next().map(|r| Rel::of_record(t, r)),
        }
    }
}

/// Architectures the solver considers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The native architecture (`amd64`); `Architecture: all` packages count as native.
    pub arch: String,
    /// Foreign architectures enabled as with `dpkg --add-architecture`.
    pub foreign_archs: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            arch: "amd64".to_owned(),
            foreign_archs: Vec::new(),
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

/// Name, Provides and negative-relation lookups over the considered packages.
pub(crate) struct Index<'u> {
    source: Source<'u>,
    /// Per package: name, version, architecture, … (see [`Head`]), for the lookups that
    /// every candidate goes through.
    names: Vec<&'u str>,
    versions: Vec<&'u str>,
    archs: Vec<&'u str>,
    multi_archs: Vec<MultiArch>,
    priorities: Vec<Priority>,
    essential: Vec<bool>,
    pub(crate) native: String,
    considered: Vec<bool>,
    by_name: HashMap<&'u str, Candidates>,
    providers: HashMap<&'u str, Vec<(Pkg, Option<&'u str>)>>,
    /// Target name -> (package, is Breaks, index in that field) for every Conflicts/Breaks.
    neg_by_name: HashMap<&'u str, Vec<(Pkg, bool, u32)>>,
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
            if index.considered[i] {
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

    /// The index over a package table read in place.
    pub(crate) fn from_table(table: TableView<'u>, options: &Options) -> Self {
        let heads = table.packages.iter().map(|p| Head {
            name: table.str(&p.name),
            version: table.str(&p.version),
            arch: table.str(&p.arch),
            multi_arch: store::multi_arch_of(p.multi_arch),
            priority: store::priority_of(p.priority),
            essential: p.flags & 1 != 0,
        });
        let owned = (0..table.len()).map(|_| OnceCell::new()).collect();
        let mut index = Self::empty(Source::Table { table, owned }, heads, options);
        for (i, p) in table.packages.iter().enumerate() {
            if index.considered[i] {
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
        let mut index = Index {
            source,
            names: Vec::with_capacity(n),
            versions: Vec::with_capacity(n),
            archs: Vec::with_capacity(n),
            multi_archs: Vec::with_capacity(n),
            priorities: Vec::with_capacity(n),
            essential: Vec::with_capacity(n),
            native: options.arch.clone(),
            considered: Vec::with_capacity(n),
            by_name: HashMap::with_capacity_and_hasher(n, Default::default()),
            // Sized from bookworm: ~1 provided name per 6 packages, ~1 Conflicts/Breaks
            // target per 5.
            providers: HashMap::with_capacity_and_hasher(n / 6, Default::default()),
            neg_by_name: HashMap::with_capacity_and_hasher(n / 5, Default::default()),
            base: Vec::new(),
        };
        for (i, h) in heads.enumerate() {
            let considered = h.arch == "all"
                || h.arch == options.arch
                || options.foreign_archs.iter().any(|a| a == h.arch);
            if considered {
                index
                    .by_name
                    .entry(h.name)
                    .and_modify(|c| c.push(i as Pkg))
                    .or_insert(Candidates::One(i as Pkg));
            }
            let native = h.arch == "all" || h.arch == options.arch;
            if considered && native && (h.essential || h.priority == Priority::Required) {
                index.base.push(i as Pkg);
            }
            index.considered.push(considered);
            index.names.push(h.name);
            index.versions.push(h.version);
            index.archs.push(h.arch);
            index.multi_archs.push(h.multi_arch);
            index.priorities.push(h.priority);
            index.essential.push(h.essential);
        }
        index
    }

    /// Records a considered package's Provides, Conflicts and Breaks (by target name).
    fn add_relations(
        &mut self,
        id: Pkg,
        provides: impl Iterator<Item = (&'u str, Option<&'u str>)>,
        conflicts: impl Iterator<Item = &'u str>,
        breaks: impl Iterator<Item = &'u str>,
    ) {
        for (name, version) in provides {
            self.providers.entry(name).or_default().push((id, version));
        }
        for (k, name) in conflicts.enumerate() {
            self.neg_by_name
                .entry(name)
                .or_default()
                .push((id, false, k as u32));
        }
        for (k, name) in breaks.enumerate() {
            self.neg_by_name
                .entry(name)
                .or_default()
                .push((id, true, k as u32));
        }
    }

    /// Puts every candidate list in preference order.
    fn sort(&mut self) {
        let mut by_name = std::mem::take(&mut self.by_name);
        for list in by_name.values_mut() {
            if let Candidates::Many(list) = list {
                list.sort_by(|&a, &b| self.prefer(a, b));
            }
        }
        self.by_name = by_name;
        let mut providers = std::mem::take(&mut self.providers);
        for list in providers.values_mut() {
            list.sort_by(|&(a, _), &(b, _)| {
                self.priorities[a as usize]
                    .cmp(&self.priorities[b as usize])
                    .then_with(|| self.names[a as usize].cmp(self.names[b as usize]))
                    .then_with(|| self.prefer(a, b))
            });
            list.dedup();
        }
        self.providers = providers;
    }

    /// Candidate order among packages of one name: newest version first, native before foreign,
    /// then universe order.
    fn prefer(&self, a: Pkg, b: Pkg) -> Ordering {
        let (a_, b_) = (a as usize, b as usize);
        compare_versions(self.versions[b_], self.versions[a_])
            .then_with(|| (self.eff_arch(a) != self.native).cmp(&(self.eff_arch(b) != self.native)))
            .then_with(|| self.archs[a_].cmp(self.archs[b_]))
            .then_with(|| a.cmp(&b))
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
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
                Rels::Table(*table, table.relation_slice(group).iter())
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
                Rels::Table(*table, table.relation_slice(&rec.relations[i]).iter())
            }
        }
    }

    /// The architecture field of `p` (`all` stays `all`; see [`Index::eff_arch`]).
    pub(crate) fn arch(&self, p: Pkg) -> &'u str {
        self.archs[p as usize]
    }

    /// The name of `p` (without converting it).
    pub(crate) fn name(&self, p: Pkg) -> &'u str {
        self.names[p as usize]
    }

    /// The version of `p` (without converting it).
    pub(crate) fn version(&self, p: Pkg) -> &'u str {
        self.versions[p as usize]
    }

    pub(crate) fn considered(&self, p: Pkg) -> bool {
        self.considered[p as usize]
    }

    /// The architecture a package installs as (`all` counts as native).
    pub(crate) fn eff_arch(&self, p: Pkg) -> &str {
        let a = self.archs[p as usize];
        if a == "all" {
            &self.native
        } else {
            a
        }
    }

    /// All considered packages called `name`, best candidate first.
    pub(crate) fn named(&self, name: &str) -> &[Pkg] {
        self.by_name.get(name).map_or(&[], Candidates::as_slice)
    }

    /// Whether `name` is provided by some considered package.
    pub(crate) fn is_provided(&self, name: &str) -> bool {
        self.providers.contains_key(name)
    }

    /// Two packages that dpkg cannot have installed together because they are instances of
    /// one name (Multi-Arch: same instances of different architectures may coexist).
    pub(crate) fn same_slot(&self, a: Pkg, b: Pkg) -> bool {
        let same = |p: Pkg| self.multi_archs[p as usize] == MultiArch::Same;
        a != b
            && self.name(a) == self.name(b)
            && !(same(a) && same(b) && self.eff_arch(a) != self.eff_arch(b))
    }

    fn pos_arch_ok(&self, r: &Rel<'_>, c: Pkg, from_arch: &str) -> bool {
        let ma = self.multi_archs[c as usize];
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
        for &c in self.named(r.name) {
            if r.version_ok(self.version(c)) && self.pos_arch_ok(r, c, from_arch) {
                out.push(c);
            }
        }
        if let Some(list) = self.providers.get(r.name) {
            for &(c, pv) in list {
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
        for &c in self.named(r.name) {
            if c != owner && among(c) && r.version_ok(self.version(c)) && self.neg_arch_ok(r, c) {
                out.push(c);
            }
        }
        if let Some(list) = self.providers.get(r.name) {
            for &(c, pv) in list {
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
        let names = std::iter::once(self.name(target))
            .chain(self.rels(target, List::Provides).map(|r| r.name));
        for name in names {
            for &(owner, brk, k) in self.neg_by_name.get(name).map_or(&[][..], Vec::as_slice) {
                if !among(owner) {
                    continue;
                }
                let list = if brk { List::Breaks } else { List::Conflicts };
                let r = self
                    .rels(owner, list)
                    .nth(k as usize)
                    .expect("neg_by_name indexes the owner's relations");
                if self.hits_one(r, owner, target) && !out.contains(&(owner, brk, k)) {
                    out.push((owner, brk, k));
                }
            }
        }
    }

    /// The names that every installation must contain, sorted: `Essential: yes` packages, plus
    /// `Priority: required` ones when `with_required`.
    pub(crate) fn base_names(&self, with_required: bool) -> Vec<&'u str> {
        let mut names: Vec<&str> = self
            .base
            .iter()
            .map(|&p| p as usize)
            .filter(|&i| {
                self.essential[i] || (with_required && self.priorities[i] == Priority::Required)
            })
            .map(|i| self.names[i])
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
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
