//! The name directory: for every name a package table mentions as a package, a Provides or a
//! Conflicts/Breaks target, the packages that carry it in that role.
//!
//! Why: every relation the solver follows is a lookup by name (which packages are called
//! `libc6`, which provide `mail-transport-agent`, whose Conflicts name `exim4`). Building those
//! maps over bookworm's 63,440 packages took 40 ms per `particle solve`, longer than the solve
//! itself, and they depend only on the archive. So `repo update` builds them once, beside the
//! table in the snapshot (`docs/format/snapshot.md`), as an open-addressing hash table over
//! plain integers that is read in place: a lookup hashes the name and compares a few strings.
//!
//! The directory holds every package whatever its architecture, in table order; which
//! architectures count and which candidate is preferred are the reader's business (the solver
//! filters and orders the few names a request reaches).
//!
//! It is a projection of the table: [`NameDirectory::build`] gives the same directory for the
//! same table, and `store verify` rebuilds it and compares.

use crate::table::{ArchivedSpan, Span, TableView};

/// The lookups of one name: ranges of the directory's arrays.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct NameEntry {
    /// The name (a span of the table's strings).
    pub name: Span,
    /// Range of [`NameDirectory::packages`]: the packages called so.
    pub packages: Span,
    /// Range of [`NameDirectory::provides`]: the Provides relations naming it.
    pub provides: Span,
    /// Range of [`NameDirectory::negatives`]: the Conflicts and Breaks relations naming it.
    pub negatives: Span,
}

/// A Provides relation: the providing package and the relation's index in the table's
/// `relations` (for its version).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct ProvideRef {
    pub package: u32,
    pub relation: u32,
}

/// A Conflicts or Breaks relation: its package, which field, and its index in that field.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct NegativeRef {
    pub package: u32,
    pub index: u32,
    /// 0 Conflicts, 1 Breaks.
    pub breaks: u8,
}

/// Name lookups over a package table (see the module documentation).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct NameDirectory {
    /// The hash table: per slot, 1 + the index of an entry, or 0 for an empty slot. A power of
    /// two, at least twice the entries; a name starts at the slot given by the top bits of its
    /// `name_hash` (below) and probes linearly.
    pub slots: Vec<u32>,
    /// One per distinct name, in order of first mention (package by package: its name, then its
    /// Provides, Conflicts and Breaks).
    pub entries: Vec<NameEntry>,
    /// Package indices, grouped by entry, each group in table order.
    pub packages: Vec<u32>,
    /// Provides, grouped by entry, each group in table order.
    pub provides: Vec<ProvideRef>,
    /// Conflicts and Breaks, grouped by entry, each group in table order (a package's
    /// Conflicts before its Breaks).
    pub negatives: Vec<NegativeRef>,
    /// The packages that are `Essential: yes` or `Priority: required`, in table order: every
    /// installation starts from them, and finding them otherwise reads every package record.
    pub base: Vec<u32>,
    /// Per package of the table: the entry of its name.
    pub package_names: Vec<u32>,
    /// Per relation of the table (every field's): the entry of its name, or `u32::MAX`
    /// (`NO_ENTRY`) for a name that is no package's, and no Provides or Conflicts/Breaks target
    /// (a Depends on a package missing from the archive). Readers following relations in place
    /// then find a name's lists without hashing it.
    pub relation_names: Vec<u32>,
}

/// In [`NameDirectory::relation_names`]: the name has no entry.
const NO_ENTRY: u32 = u32::MAX;

/// The hash of a name in the directory (FxHash's word step over the little-endian 8-byte words
/// of the name, the last one zero-padded, then the length). Part of the snapshot format: a
/// directory written with another hash would not be found.
fn name_hash(name: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let step = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut h = 0;
    let mut words = name.chunks_exact(8);
    for w in &mut words {
        h = step(h, u64::from_le_bytes(w.try_into().expect("eight bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(tail));
    }
    step(h, name.len() as u64)
}

/// The first slot of a name with hash `hash` in a table of `len` slots (a power of two).
fn first_slot(hash: u64, len: usize) -> usize {
    let bits = len.trailing_zeros();
    hash.checked_shr(64 - bits).unwrap_or(0) as usize
}

/// What [`NameDirectory::build`] gathers for one name before the arrays are laid out.
#[derive(Default)]
struct Gathered {
    packages: Vec<u32>,
    provides: Vec<ProvideRef>,
    negatives: Vec<NegativeRef>,
}

/// The distinct names of a table in order of first mention, each with what names it.
#[derive(Default)]
struct Gatherer<'t> {
    ids: std::collections::HashMap<&'t str, usize>,
    names: Vec<(Span, &'t str)>,
    lists: Vec<Gathered>,
    base: Vec<u32>,
}

impl<'t> Gatherer<'t> {
    /// The lists of the name at `span`, new if it is its first mention.
    fn entry(&mut self, table: &TableView<'t>, span: &ArchivedSpan) -> &mut Gathered {
        let text = table.str(span);
        let next = self.names.len();
        let id = *self.ids.entry(text).or_insert(next);
        if id == next {
            let span = Span {
                start: span.start.to_native(),
                len: span.len.to_native(),
            };
            self.names.push((span, text));
            self.lists.push(Gathered::default());
        }
        &mut self.lists[id]
    }
}

impl NameDirectory {
    /// The directory of a table. Deterministic: the same table gives the same directory.
    pub fn build(table: &TableView<'_>) -> Self {
        let mut g = Gatherer::default();
        for (i, p) in table.packages.iter().enumerate() {
            let package = i as u32;
            if p.flags & 1 != 0 || crate::priority_of(p.priority) == crate::Priority::Required {
                g.base.push(package);
            }
            g.entry(table, &p.name).packages.push(package);
            let [conflicts, breaks, _replaces, provides] = &p.relations;
            for (k, r) in table.relation_slice(provides).iter().enumerate() {
                let relation = provides.start.to_native() + k as u32;
                let item = ProvideRef { package, relation };
                g.entry(table, &r.name).provides.push(item);
            }
            for (field, breaks) in [(conflicts, 0), (breaks, 1)] {
                for (k, r) in table.relation_slice(field).iter().enumerate() {
                    let item = NegativeRef {
                        package,
                        index: k as u32,
                        breaks,
                    };
                    g.entry(table, &r.name).negatives.push(item);
                }
            }
        }
        let mut dir = NameDirectory {
            slots: vec![0; (g.names.len() * 2).next_power_of_two().max(16)],
            base: g.base,
            ..NameDirectory::default()
        };
        let mask = dir.slots.len() - 1;
        let range = |start: usize, end: usize| Span {
            start: start as u32,
            len: (end - start) as u32,
        };
        let entry_of =
            |span: &ArchivedSpan| g.ids.get(table.str(span)).map_or(NO_ENTRY, |&e| e as u32);
        dir.package_names = table.packages.iter().map(|p| entry_of(&p.name)).collect();
        dir.relation_names = table.relations.iter().map(|r| entry_of(&r.name)).collect();
        for (i, ((name, text), lists)) in g.names.into_iter().zip(g.lists).enumerate() {
            let (p, v, n) = (dir.packages.len(), dir.provides.len(), dir.negatives.len());
            dir.packages.extend(lists.packages);
            dir.provides.extend(lists.provides);
            dir.negatives.extend(lists.negatives);
            dir.entries.push(NameEntry {
                name,
                packages: range(p, dir.packages.len()),
                provides: range(v, dir.provides.len()),
                negatives: range(n, dir.negatives.len()),
            });
            let mut slot = first_slot(name_hash(text.as_bytes()), dir.slots.len());
            while dir.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            dir.slots[slot] = i as u32 + 1;
        }
        dir
    }
}

impl ArchivedNameDirectory {
    /// The index of the entry of `name`, if the table mentions it. Every step is bounds-checked
    /// and the probe visits each slot at most once, so a damaged directory gives wrong answers
    /// or none, never a hang or an out-of-bounds read.
    pub fn find(&self, table: &TableView<'_>, name: &str) -> Option<usize> {
        let len = self.slots.len();
        if !len.is_power_of_two() {
            return None;
        }
        let mut slot = first_slot(name_hash(name.as_bytes()), len);
        for _ in 0..len {
            let e = self.slots[slot].to_native() as usize;
            let entry = self.entries.get(e.checked_sub(1)?)?;
            if table.str(&entry.name) == name {
                return Some(e - 1);
            }
            slot = (slot + 1) & (len - 1);
        }
        None
    }

    /// The number of entries (distinct names).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the directory has no entry (an empty table).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The name of entry `e` (empty past the end).
    pub fn name<'t>(&self, table: &TableView<'t>, e: usize) -> &'t str {
        self.entries
            .get(e)
            .map_or("", |entry| table.str(&entry.name))
    }

    /// The packages called by entry `e`'s name, in table order.
    pub fn packages(&self, e: usize) -> impl Iterator<Item = u32> + '_ {
        let s = self.entries.get(e).map(|entry| &entry.packages);
        slice(&self.packages, s).iter().map(|p| p.to_native())
    }

    /// The Provides naming entry `e`'s name, in table order: (package, index in the table's
    /// relations).
    pub fn provides(&self, e: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let s = self.entries.get(e).map(|entry| &entry.provides);
        slice(&self.provides, s)
            .iter()
            .map(|r| (r.package.to_native(), r.relation.to_native()))
    }

    /// The Conflicts and Breaks naming entry `e`'s name, in table order: (package, is Breaks,
    /// index in that field).
    pub fn negatives(&self, e: usize) -> impl Iterator<Item = (u32, bool, u32)> + '_ {
        let s = self.entries.get(e).map(|entry| &entry.negatives);
        slice(&self.negatives, s)
            .iter()
            .map(|r| (r.package.to_native(), r.breaks != 0, r.index.to_native()))
    }

    /// The packages that are `Essential: yes` or `Priority: required`, in table order.
    pub fn base(&self) -> impl Iterator<Item = u32> + '_ {
        self.base.iter().map(|p| p.to_native())
    }

    /// The entry of the name of package `p` (`None` past the end).
    pub fn package_entry(&self, p: usize) -> Option<usize> {
        self.entry_at(self.package_names.get(p))
    }

    /// The entry of the name of relation `i` of the table (`None` if the name has none, or
    /// past the end).
    pub fn relation_entry(&self, i: usize) -> Option<usize> {
        self.entry_at(self.relation_names.get(i))
    }

    fn entry_at(&self, e: Option<&rkyv::Archived<u32>>) -> Option<usize> {
        let e = e?.to_native() as usize;
        (e < self.entries.len()).then_some(e)
    }

    /// Checks what rkyv's validation cannot know: every range lies within its array, every name
    /// within the table's strings, every package and relation index within the table, every
    /// slot names an entry. Done when a snapshot is written and by `store verify` (which also
    /// rebuilds the directory and compares); reading does not depend on it.
    pub fn check(&self, table: &TableView<'_>) -> Result<(), String> {
        let within = |s: &ArchivedSpan, len: usize| s.range().end <= len;
        if !self.slots.len().is_power_of_two() || self.slots.len() < self.entries.len() {
            return Err("the name directory's hash table has a bad size".into());
        }
        if self
            .slots
            .iter()
            .any(|s| s.to_native() as usize > self.entries.len())
        {
            return Err("a name directory slot points outside the entries".into());
        }
        for (i, e) in self.entries.iter().enumerate() {
            if !within(&e.name, table.strings.len())
                || !within(&e.packages, self.packages.len())
                || !within(&e.provides, self.provides.len())
                || !within(&e.negatives, self.negatives.len())
            {
                return Err(format!(
                    "name directory entry {i} points outside its arrays"
                ));
            }
        }
        let packages = table.packages.len();
        let relations = table.relations.len();
        if self.package_names.len() != packages || self.relation_names.len() != relations {
            return Err("the name directory does not cover every package and relation".into());
        }
        let entries = self.entries.len();
        let bad_entry = |e: &rkyv::Archived<u32>| {
            let e = e.to_native();
            e != NO_ENTRY && e as usize >= entries
        };
        if self
            .package_names
            .iter()
            .any(|e| e.to_native() as usize >= entries)
            || self.relation_names.iter().any(bad_entry)
        {
            return Err("the name directory names an entry it does not have".into());
        }
        if self
            .packages
            .iter()
            .any(|p| p.to_native() as usize >= packages)
            || self.provides.iter().any(|r| {
                r.package.to_native() as usize >= packages
                    || r.relation.to_native() as usize >= relations
            })
            || self
                .negatives
                .iter()
                .any(|r| r.package.to_native() as usize >= packages)
        {
            return Err("the name directory names a package or relation outside the table".into());
        }
        Ok(())
    }
}

/// The items of range `s` of `items` (empty without a range or out of bounds).
fn slice<'a, T>(items: &'a rkyv::vec::ArchivedVec<T>, s: Option<&ArchivedSpan>) -> &'a [T] {
    s.and_then(|s| items.get(s.range())).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{ArchivedPackageTable, PackageTable};

    const INDEX: &str = "Package: exim4\nVersion: 4.96-15\nArchitecture: amd64\nProvides: mail-transport-agent\nConflicts: mail-transport-agent, postfix\nBreaks: exim (<< 4)\n\nPackage: postfix\nVersion: 3.7.6-0+deb12u2\nArchitecture: amd64\nProvides: mail-transport-agent, default-mta (= 1)\nConflicts: mail-transport-agent\n\nPackage: libc6\nVersion: 2.36-9\nArchitecture: amd64\nMulti-Arch: same\nPriority: required\n\nPackage: libc6\nVersion: 2.36-9\nArchitecture: i386\nMulti-Arch: same\n";

    fn with_view<R>(index: &str, f: impl FnOnce(&TableView<'_>, &NameDirectory) -> R) -> R {
        let table = PackageTable::parse(index).expect("valid");
        let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&table).expect("encode");
        let archived =
            rkyv::access::<ArchivedPackageTable, rkyv::rancor::Error>(&bytes).expect("valid");
        let view = archived.view().expect("UTF-8");
        let dir = NameDirectory::build(&view);
        f(&view, &dir)
    }

    fn archived(dir: &NameDirectory) -> rkyv::util::AlignedVec {
        rkyv::to_bytes::<rkyv::rancor::Error>(dir).expect("encode")
    }

    #[test]
    fn every_role_of_a_name_is_found() {
        with_view(INDEX, |view, dir| {
            let bytes = archived(dir);
            let dir =
                rkyv::access::<ArchivedNameDirectory, rkyv::rancor::Error>(&bytes).expect("valid");
            dir.check(view).expect("in bounds");
            let mta = dir.find(view, "mail-transport-agent").expect("mentioned");
            assert_eq!(dir.name(view, mta), "mail-transport-agent");
            assert_eq!(dir.packages(mta).count(), 0, "no package is called so");
            let providers: Vec<_> = dir.provides(mta).collect();
            let relation = |p: usize, k: u32| view.packages[p].relations[3].start.to_native() + k;
            assert_eq!(providers, [(0, relation(0, 0)), (1, relation(1, 0))]);
            assert_eq!(
                dir.negatives(mta).collect::<Vec<_>>(),
                [(0, false, 0), (1, false, 0)]
            );
            let exim = dir.find(view, "exim").expect("a Breaks target");
            assert_eq!(dir.negatives(exim).collect::<Vec<_>>(), [(0, true, 0)]);
            let libc6 = dir.find(view, "libc6").expect("two packages");
            assert_eq!(dir.packages(libc6).collect::<Vec<_>>(), [2, 3]);
            let postfix = dir.find(view, "postfix").expect("a package");
            assert_eq!(dir.packages(postfix).collect::<Vec<_>>(), [1]);
            assert_eq!(dir.negatives(postfix).collect::<Vec<_>>(), [(0, false, 1)]);
            assert_eq!(dir.find(view, "sendmail"), None);
            assert_eq!(dir.base().collect::<Vec<_>>(), [2]);
            assert_eq!(dir.package_entry(3), Some(libc6));
            assert_eq!(dir.package_entry(4), None, "past the end");
            let exim_breaks = view.packages[0].relations[1].start.to_native() as usize;
            assert_eq!(dir.relation_entry(exim_breaks), Some(exim));
            assert_eq!(dir.find(view, ""), None);
        });
    }

    #[test]
    fn the_same_table_gives_the_same_directory() {
        let a = with_view(INDEX, |_, dir| archived(dir));
        let b = with_view(INDEX, |_, dir| archived(dir));
        assert_eq!(a.as_slice(), b.as_slice());
    }

    #[test]
    fn a_damaged_directory_answers_wrongly_but_never_hangs_or_reads_out_of_bounds() {
        with_view(INDEX, |view, dir| {
            // Every slot full and pointing at one entry: a probe must stop after one round.
            let mut full = dir.clone();
            full.slots.fill(1);
            // Ranges past their arrays and names outside the strings.
            let mut wild = dir.clone();
            for e in &mut wild.entries {
                e.name.start = u32::MAX - 1;
                e.packages.len = u32::MAX;
                e.provides.start = 7_000_000;
            }
            // A hash table whose size is not a power of two.
            let mut odd = dir.clone();
            odd.slots.push(0);
            for damaged in [full, wild, odd] {
                let bytes = archived(&damaged);
                let d = rkyv::access::<ArchivedNameDirectory, rkyv::rancor::Error>(&bytes)
                    .expect("structurally valid");
                assert!(d.check(view).is_err() || damaged.slots.iter().all(|&s| s == 1));
                for name in ["exim4", "mail-transport-agent", "nothing"] {
                    if let Some(e) = d.find(view, name) {
                        let _ = (d.packages(e).count(), d.provides(e).count());
                        let _ = d.negatives(e).count();
                    }
                }
            }
        });
    }

    #[test]
    fn names_that_share_a_first_slot_are_all_found() {
        // Enough names that a 16-slot table probes past collisions.
        let index: String = (0..40)
            .map(|i| format!("Package: p{i}\nVersion: 1\nArchitecture: all\n\n"))
            .collect();
        with_view(&index, |view, dir| {
            let bytes = archived(dir);
            let d =
                rkyv::access::<ArchivedNameDirectory, rkyv::rancor::Error>(&bytes).expect("valid");
            for i in 0..40 {
                let e = d.find(view, &format!("p{i}")).expect("every name");
                assert_eq!(d.packages(e).collect::<Vec<_>>(), [i]);
            }
        });
    }
}
