//! The universe, indexed for relation lookups: which packages a relation can mean, under Debian's
//! Provides, version and Multi-Arch rules. Everything here is deterministic: every list is sorted
//! by a total order that does not depend on hash iteration.

use std::cmp::Ordering;
use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: package names are short and trusted-shape; SipHash's DoS resistance is not needed for
/// an index built once from a verified archive, and FNV makes building it markedly faster. Map
/// iteration order never reaches the output (every list is sorted).
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<Fnv>>;
use store::{compare_versions, ArchQualifier, MultiArch, Package, Relation, Universe};

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

/// Name, Provides and negative-relation lookups over the considered packages.
pub(crate) struct Index<'u> {
    pub(crate) pkgs: &'u [Package],
    pub(crate) native: String,
    considered: Vec<bool>,
    by_name: HashMap<&'u str, Vec<Pkg>>,
    providers: HashMap<&'u str, Vec<(Pkg, Option<&'u str>)>>,
    /// Target name -> (package, is Breaks, index in that field) for every Conflicts/Breaks.
    neg_by_name: HashMap<&'u str, Vec<(Pkg, bool, u32)>>,
}

impl<'u> Index<'u> {
    pub(crate) fn new(universe: &'u Universe, options: &Options) -> Self {
        let pkgs = &universe.packages[..];
        let native = options.arch.clone();
        let considered: Vec<bool> = pkgs
            .iter()
            .map(|p| p.arch == "all" || p.arch == native || options.foreign_archs.contains(&p.arch))
            .collect();
        let mut by_name: HashMap<&str, Vec<Pkg>> = HashMap::default();
        let mut providers: HashMap<&str, Vec<(Pkg, Option<&str>)>> = HashMap::default();
        let mut neg_by_name: HashMap<&str, Vec<(Pkg, bool, u32)>> = HashMap::default();
        for (i, p) in pkgs.iter().enumerate() {
            if !considered[i] {
                continue;
            }
            let id = i as Pkg;
            by_name.entry(p.name.as_str()).or_default().push(id);
            for r in &p.provides {
                let v = r.constraint.as_ref().map(|c| c.version.as_str());
                providers.entry(r.name.as_str()).or_default().push((id, v));
            }
            for (k, r) in p.conflicts.iter().enumerate() {
                neg_by_name
                    .entry(r.name.as_str())
                    .or_default()
                    .push((id, false, k as u32));
            }
            for (k, r) in p.breaks.iter().enumerate() {
                neg_by_name
                    .entry(r.name.as_str())
                    .or_default()
                    .push((id, true, k as u32));
            }
        }
        let mut index = Index {
            pkgs,
            native,
            considered,
            by_name,
            providers,
            neg_by_name,
        };
        let mut by_name = std::mem::take(&mut index.by_name);
        for list in by_name.values_mut() {
            list.sort_by(|&a, &b| index.prefer(a, b));
        }
        index.by_name = by_name;
        let mut providers = std::mem::take(&mut index.providers);
        for list in providers.values_mut() {
            list.sort_by(|&(a, _), &(b, _)| {
                let (pa, pb) = (&pkgs[a as usize], &pkgs[b as usize]);
                pa.priority
                    .cmp(&pb.priority)
                    .then_with(|| pa.name.cmp(&pb.name))
                    .then_with(|| index.prefer(a, b))
            });
            list.dedup();
        }
        index.providers = providers;
        index
    }

    /// Candidate order among packages of one name: newest version first, native before foreign,
    /// then universe order.
    fn prefer(&self, a: Pkg, b: Pkg) -> Ordering {
        let (pa, pb) = (&self.pkgs[a as usize], &self.pkgs[b as usize]);
        compare_versions(&pb.version, &pa.version)
            .then_with(|| (self.eff_arch(a) != self.native).cmp(&(self.eff_arch(b) != self.native)))
            .then_with(|| pa.arch.cmp(&pb.arch))
            .then_with(|| a.cmp(&b))
    }

    pub(crate) fn len(&self) -> usize {
        self.pkgs.len()
    }

    pub(crate) fn pkg(&self, p: Pkg) -> &'u Package {
        &self.pkgs[p as usize]
    }

    pub(crate) fn considered(&self, p: Pkg) -> bool {
        self.considered[p as usize]
    }

    /// The architecture a package installs as (`all` counts as native).
    pub(crate) fn eff_arch(&self, p: Pkg) -> &str {
        let a = self.pkgs[p as usize].arch.as_str();
        if a == "all" {
            &self.native
        } else {
            a
        }
    }

    /// All considered packages called `name`, best candidate first.
    pub(crate) fn named(&self, name: &str) -> &[Pkg] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether `name` is provided by some considered package.
    pub(crate) fn is_provided(&self, name: &str) -> bool {
        self.providers.contains_key(name)
    }

    /// Two packages that dpkg cannot have installed together because they are instances of
    /// one name (Multi-Arch: same instances of different architectures may coexist).
    pub(crate) fn same_slot(&self, a: Pkg, b: Pkg) -> bool {
        let (pa, pb) = (self.pkg(a), self.pkg(b));
        a != b
            && pa.name == pb.name
            && !(pa.multi_arch == MultiArch::Same
                && pb.multi_arch == MultiArch::Same
                && self.eff_arch(a) != self.eff_arch(b))
    }

    fn pos_arch_ok(&self, r: &Relation, c: Pkg, from_arch: &str) -> bool {
        let ma = self.pkg(c).multi_arch;
        match &r.arch {
            ArchQualifier::None => ma == MultiArch::Foreign || self.eff_arch(c) == from_arch,
            ArchQualifier::Any => {
                matches!(ma, MultiArch::Allowed | MultiArch::Foreign)
                    || self.eff_arch(c) == from_arch
            }
            ArchQualifier::Native => self.eff_arch(c) == self.native,
            ArchQualifier::Named(a) => self.eff_arch(c) == a,
        }
    }

    fn neg_arch_ok(&self, r: &Relation, c: Pkg) -> bool {
        match &r.arch {
            ArchQualifier::None | ArchQualifier::Any => true,
            ArchQualifier::Native => self.eff_arch(c) == self.native,
            ArchQualifier::Named(a) => self.eff_arch(c) == a,
        }
    }

    /// Appends the packages that satisfy `r` for a package of architecture `from_arch`, in
    /// preference order: real packages of that name (newest first), then providers. A versioned
    /// relation is satisfied only by versioned Provides whose version matches.
    pub(crate) fn satisfiers(&self, r: &Relation, from_arch: &str, out: &mut Vec<Pkg>) {
        let start = out.len();
        for &c in self.named(&r.name) {
            let ok = r
                .constraint
                .as_ref()
                .is_none_or(|k| k.matches(&self.pkg(c).version));
            if ok && self.pos_arch_ok(r, c, from_arch) {
                out.push(c);
            }
        }
        if let Some(list) = self.providers.get(r.name.as_str()) {
            for &(c, pv) in list {
                let ok = match (&r.constraint, pv) {
                    (None, _) => true,
                    (Some(k), Some(v)) => k.matches(v),
                    (Some(_), None) => false,
                };
                if ok && self.pos_arch_ok(r, c, from_arch) && !out[start..].contains(&c) {
                    out.push(c);
                }
            }
        }
    }

    /// Appends the packages other than `owner` that `owner`'s Conflicts/Breaks entry `r` hits.
    pub(crate) fn hits(&self, r: &Relation, owner: Pkg, out: &mut Vec<Pkg>) {
        for &c in self.named(&r.name) {
            if c != owner
                && r.constraint
                    .as_ref()
                    .is_none_or(|k| k.matches(&self.pkg(c).version))
                && self.neg_arch_ok(r, c)
            {
                out.push(c);
            }
        }
        if let Some(list) = self.providers.get(r.name.as_str()) {
            for &(c, pv) in list {
                let ok = match (&r.constraint, pv) {
                    (None, _) => true,
                    (Some(k), Some(v)) => k.matches(v),
                    (Some(_), None) => false,
                };
                if c != owner && ok && self.neg_arch_ok(r, c) && !out.contains(&c) {
                    out.push(c);
                }
            }
        }
    }

    /// Whether Conflicts/Breaks entry `r` of `owner` hits `target`.
    pub(crate) fn hits_one(&self, r: &Relation, owner: Pkg, target: Pkg) -> bool {
        if owner == target || !self.neg_arch_ok(r, target) {
            return false;
        }
        let t = self.pkg(target);
        if t.name == r.name && r.constraint.as_ref().is_none_or(|k| k.matches(&t.version)) {
            return true;
        }
        t.provides.iter().any(|p| {
            p.name == r.name
                && match (&r.constraint, &p.constraint) {
                    (None, _) => true,
                    (Some(k), Some(v)) => k.matches(&v.version),
                    (Some(_), None) => false,
                }
        })
    }

    /// Negative relations of other packages that name `target` (by its name or a name it
    /// provides) and hit it: (owner, is Breaks, index in the field).
    pub(crate) fn hit_by(&self, target: Pkg, out: &mut Vec<(Pkg, bool, u32)>) {
        let t = self.pkg(target);
        let names =
            std::iter::once(t.name.as_str()).chain(t.provides.iter().map(|r| r.name.as_str()));
        for name in names {
            for &(owner, brk, k) in self.neg_by_name.get(name).map_or(&[][..], Vec::as_slice) {
                let p = self.pkg(owner);
                let r = if brk {
                    &p.breaks[k as usize]
                } else {
                    &p.conflicts[k as usize]
                };
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
            .pkgs
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                self.considered[*i]
                    && self.eff_arch(*i as Pkg) == self.native
                    && (p.essential || (with_required && p.priority == store::Priority::Required))
            })
            .map(|(_, p)| p.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}
