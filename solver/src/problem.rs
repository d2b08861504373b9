//! The SAT encoding of a Debian installation problem and the dependency-ordered search.
//!
//! One variable per package (its index in the universe). Clauses:
//! - `Depends`/`Pre-Depends`: `¬p ∨ c1 ∨ … ∨ cn` over every package satisfying any alternative,
//!   in the order apt would try them (alternatives in order, newest first, real before virtual);
//! - `Conflicts`/`Breaks`: `¬p ∨ ¬q` for each package `q ≠ p` the relation hits (directly or
//!   through Provides, versioned or not);
//! - one instance of a name: `¬a ∨ ¬b` for two versions (or non-`same` architectures) of a name;
//! - roots: `c1 ∨ … ∨ cn` for every requested, essential or required name; `¬x` for removals.
//!
//! Only packages reachable from the roots are encoded: a package that no clause can force is
//! simply never installed. The search decides like apt: it walks installed packages in the order
//! they were installed and, for the first dependency not yet satisfied, installs its first
//! candidate not yet excluded; with nothing left to decide, every unset package is "not
//! installed", which satisfies all clauses (each non-root clause has a negative literal).

use crate::index::{Field, FxMap, Index, List, Pkg, Rel};
use crate::sat::{Cid, Lit, Sat, Val};

/// Why an original clause exists, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Info {
    /// A name the request installs.
    Install(String),
    /// An `Essential: yes` name.
    Essential(String),
    /// A `Priority: required` name.
    Required(String),
    /// A name the request removes.
    Remove(String),
    /// `Depends` (`pre` = Pre-Depends) entry `k` of `pkg`.
    Dep { pkg: Pkg, pre: bool, k: u32 },
    /// `Conflicts` (or `Breaks`) entry `k` of `pkg` hitting `other`.
    Neg {
        pkg: Pkg,
        other: Pkg,
        breaks: bool,
        k: u32,
    },
    /// Two instances of one name.
    OneOf(Pkg, Pkg),
}

/// Outcome of a search.
pub(crate) enum Outcome {
    /// A model; `rejected` tells whether a conflict undid the level given as floor.
    Sat { rejected: bool },
    /// Unsatisfiable: the original clauses involved.
    Unsat(Vec<Cid>),
}

pub(crate) struct Problem<'i, 'u> {
    pub(crate) index: &'i Index<'u>,
    pub(crate) sat: Sat,
    pub(crate) info: Vec<Info>,
    active: Vec<bool>,
    /// Packages whose clauses are encoded (a conflict clause is added when its second package is).
    done: Vec<bool>,
    /// Packages whose clauses need not be encoded (distcheck's conflict-free closure).
    free: Option<Vec<bool>>,
    /// Dependency clauses of each package, in field order (Pre-Depends first): they are added
    /// one after another, so a range (first clause, count).
    deps: Vec<(Cid, u32)>,
    /// Root clauses, in request order.
    pub(crate) roots: Vec<Cid>,
    /// Per package: its first entry in `entries` and how many it has (Pre-Depends, Depends,
    /// then Recommends when enabled), once the package is encoded. The satisfiers of each
    /// entry are computed once, when the package is encoded; the Recommends pass and the
    /// reasons walk read them again.
    lists: Vec<(u32, u32)>,
    /// Per entry: its satisfiers, a range of `pool` (deduplicated, in preference order).
    entries: Vec<(u32, u32)>,
    pool: Vec<Pkg>,
    /// Satisfiers of each versioned relation seen, for the architecture asked (a range of
    /// `known_pool`): thousands of packages depend on the same relations (`libc6 (>= 2.34)`),
    /// and each lookup compares versions.
    known: FxMap<(Rel<'u>, &'i str), (u32, u32)>,
    known_pool: Vec<Pkg>,
    with_recommends: bool,
    /// Depth-first walk of the brancher: (package, next dependency).
    stack: Vec<(Pkg, u32)>,
    mark: Vec<u32>,
    gen: u32,
    root_next: usize,
    cursor: usize,
    epoch: u64,
    scratch: Vec<Pkg>,
}

impl<'i, 'u> Problem<'i, 'u> {
    pub(crate) fn new(
        index: &'i Index<'u>,
        with_recommends: bool,
        free: Option<Vec<bool>>,
    ) -> Self {
        let n = index.len();
        Problem {
            index,
            sat: Sat::new(n),
            info: Vec::new(),
            active: vec![false; n],
            done: vec![false; n],
            free,
            deps: vec![(0, 0); n],
            roots: Vec::new(),
            lists: vec![(0, 0); n],
            entries: Vec::new(),
            pool: Vec::new(),
            known: FxMap::with_capacity_and_hasher(4096, Default::default()),
            known_pool: Vec::new(),
            with_recommends,
            stack: Vec::new(),
            mark: vec![0; n],
            gen: 0,
            root_next: 0,
            cursor: 0,
            epoch: u64::MAX,
            scratch: Vec::new(),
        }
    }

    fn add(&mut self, lits: &[Lit], info: Info) -> Cid {
        let c = self.sat.add_clause(lits);
        debug_assert_eq!(c as usize, self.info.len());
        self.info.push(info);
        c
    }

    /// The satisfiers of entry `k` of `p` (numbered over Pre-Depends, Depends, then
    /// Recommends), if they were computed when `p` was encoded.
    pub(crate) fn entry_cands(&self, p: Pkg, k: usize) -> Option<&[Pkg]> {
        let (first, count) = self.lists[p as usize];
        if k >= count as usize {
            return None;
        }
        let (a, b) = self.entries[first as usize + k];
        Some(&self.pool[a as usize..b as usize])
    }

    /// Appends the satisfiers of entry `k` of `field` of `p` to the pool as a new entry;
    /// returns its range.
    fn push_entry(&mut self, p: Pkg, field: Field, k: usize) -> (usize, usize) {
        let start = self.pool.len();
        let index = self.index;
        let arch = index.eff_arch(p);
        for alt in index.entry(p, field, k) {
            if alt.constraint.is_none() {
                // No versions to compare: looking the name up costs what the map would.
                index.satisfiers(alt, arch, &mut self.pool);
                continue;
            }
            let (a, b) = *self.known.entry((alt, arch)).or_insert_with(|| {
                let a = self.known_pool.len();
                index.satisfiers(alt, arch, &mut self.known_pool);
                (a as u32, self.known_pool.len() as u32)
            });
            self.pool
                .extend_from_slice(&self.known_pool[a as usize..b as usize]);
        }
        dedup_tail(&mut self.pool, start);
        let end = self.pool.len();
        self.entries.push((start as u32, end as u32));
        (start, end)
    }

    fn is_free(&self, p: Pkg) -> bool {
        self.free.as_ref().is_some_and(|f| f[p as usize])
    }

    /// Adds a root clause: one of `cands` must be installed. Encodes what they can pull in.
    pub(crate) fn add_root(&mut self, cands: &[Pkg], info: Info) -> Cid {
        for &c in cands {
            self.activate(c);
        }
        let lits: Vec<Lit> = cands.iter().map(|&c| Lit::pos(c)).collect();
        let c = self.add(&lits, info);
        self.roots.push(c);
        c
    }

    /// Adds a unit clause `¬p`.
    pub(crate) fn add_ban(&mut self, p: Pkg, info: Info) -> Cid {
        self.add(&[Lit::neg(p)], info)
    }

    /// Encodes `p` and everything its dependencies (and Recommends, when enabled) can reach.
    pub(crate) fn activate(&mut self, p: Pkg) {
        if self.active[p as usize] || self.is_free(p) {
            return;
        }
        let index = self.index;
        let mut stack = vec![p];
        self.active[p as usize] = true;
        let mut cands = std::mem::take(&mut self.scratch);
        let mut hits = Vec::new();
        let mut lits = Vec::new();
        while let Some(p) = stack.pop() {
            self.done[p as usize] = true;
            let first = self.entries.len() as u32;
            let recommends = if self.with_recommends {
                index.entry_count(p, Field::Recommends)
            } else {
                0
            };
            let fields = [(true, Field::PreDepends), (false, Field::Depends)];
            let counts = fields.map(|(_, f)| index.entry_count(p, f));
            let count = counts[0] + counts[1] + recommends;
            self.lists[p as usize] = (first, count as u32);
            for ((pre, field), n) in fields.into_iter().zip(counts) {
                for k in 0..n {
                    let (a, b) = self.push_entry(p, field, k);
                    let cands = &self.pool[a..b];
                    if cands.iter().any(|&c| self.is_free(c)) {
                        continue;
                    }
                    lits.clear();
                    lits.push(Lit::neg(p));
                    for i in a..b {
                        let c = self.pool[i];
                        lits.push(Lit::pos(c));
                        if !self.active[c as usize] {
                            self.active[c as usize] = true;
                            stack.push(c);
                        }
                    }
                    let cid = self.add(
                        &lits,
                        Info::Dep {
                            pkg: p,
                            pre,
                            k: k as u32,
                        },
                    );
                    let d = &mut self.deps[p as usize];
                    if d.1 == 0 {
                        d.0 = cid;
                    }
                    debug_assert_eq!(d.0 + d.1, cid, "dependency clauses are consecutive");
                    d.1 += 1;
                }
            }
            if self.with_recommends {
                for k in 0..recommends {
                    let (a, b) = self.push_entry(p, Field::Recommends, k);
                    for i in a..b {
                        let c = self.pool[i];
                        if !self.active[c as usize] && !self.is_free(c) {
                            self.active[c as usize] = true;
                            stack.push(c);
                        }
                    }
                }
            }
            // Conflicts between active packages: forward from p, and backward onto p.
            for (breaks, list) in [(false, List::Conflicts), (true, List::Breaks)] {
                for (k, r) in index.rels(p, list).enumerate() {
                    cands.clear();
                    index.hits(r, p, &mut cands);
                    for &q in &cands {
                        if self.done[q as usize] && q != p {
                            self.add(
                                &[Lit::neg(p), Lit::neg(q)],
                                Info::Neg {
                                    pkg: p,
                                    other: q,
                                    breaks,
                                    k: k as u32,
                                },
                            );
                        }
                    }
                }
            }
            hits.clear();
            index.hit_by(p, &mut hits);
            for &(q, breaks, k) in &hits {
                if self.done[q as usize] && q != p {
                    self.add(
                        &[Lit::neg(q), Lit::neg(p)],
                        Info::Neg {
                            pkg: q,
                            other: p,
                            breaks,
                            k,
                        },
                    );
                }
            }
            for &s in index.same_name(p) {
                if self.done[s as usize] && index.same_slot(p, s) {
                    self.add(&[Lit::neg(p), Lit::neg(s)], Info::OneOf(p, s));
                }
            }
        }
        self.scratch = cands;
    }

    /// The next decision, in apt's order: depth first from the roots (in request order), each
    /// installed package's dependencies in field order; the first dependency not yet satisfied
    /// gets its first candidate not yet excluded. Packages installed otherwise (kept ones) are
    /// walked afterwards, in installation order. Any backtrack restarts the walk.
    fn pick(&mut self) -> Option<Lit> {
        let sat = &self.sat;
        if self.epoch != sat.epoch {
            self.epoch = sat.epoch;
            self.gen += 1;
            self.stack.clear();
            self.root_next = 0;
            self.cursor = 0;
        }
        let gen = self.gen;
        'walk: loop {
            if let Some(top) = self.stack.last_mut() {
                let (p, k) = *top;
                let (first, count) = self.deps[p as usize];
                if k >= count {
                    self.stack.pop();
                    continue;
                }
                let c = sat.clause(first + k);
                top.1 += 1;
                if let Some(t) = c.iter().find(|&&l| sat.value(l) == Val::True) {
                    let q = t.var();
                    if q != p && self.mark[q as usize] != gen {
                        self.mark[q as usize] = gen;
                        self.stack.push((q, 0));
                    }
                    continue;
                }
                if let Some(&l) = c.iter().find(|&&l| sat.value(l) == Val::Unset) {
                    top.1 -= 1;
                    return Some(l);
                }
                continue;
            }
            while self.root_next < self.roots.len() {
                let c = sat.clause(self.roots[self.root_next]);
                if let Some(t) = c.iter().find(|&&l| sat.value(l) == Val::True) {
                    self.root_next += 1;
                    let q = t.var();
                    if self.mark[q as usize] != gen {
                        self.mark[q as usize] = gen;
                        self.stack.push((q, 0));
                        continue 'walk;
                    }
                    continue;
                }
                return c.iter().find(|&&l| sat.value(l) == Val::Unset).copied();
            }
            let trail = sat.trail();
            while self.cursor < trail.len() {
                let l = trail[self.cursor];
                self.cursor += 1;
                if !l.is_neg() && self.mark[l.var() as usize] != gen {
                    self.mark[l.var() as usize] = gen;
                    self.stack.push((l.var(), 0));
                    continue 'walk;
                }
            }
            return None;
        }
    }

    /// Searches for a model that satisfies every clause, with `hard` assumed (in the lowest
    /// levels) and `soft` assumed where possible. If `floor` is set and a conflict backjumps
    /// below it, the result says `rejected`.
    pub(crate) fn search(&mut self, hard: &[Lit], soft: &[Lit], floor: Option<usize>) -> Outcome {
        let mut rejected = false;
        loop {
            if let Some(c) = self.sat.propagate() {
                if self.sat.level() == 0 {
                    return Outcome::Unsat(self.sat.conflict_core(c).0);
                }
                let bj = self.sat.learn(c);
                if floor.is_some_and(|f| bj < f) {
                    rejected = true;
                }
                continue;
            }
            let level = self.sat.level();
            if level < hard.len() {
                let a = hard[level];
                match self.sat.value(a) {
                    Val::True => self.sat.empty_level(),
                    Val::False => return Outcome::Unsat(self.sat.failed_core(a).0),
                    Val::Unset => self.sat.decide(a),
                }
                continue;
            }
            if let Some(&s) = soft.iter().find(|&&s| self.sat.value(s) == Val::Unset) {
                self.sat.decide(s);
                continue;
            }
            match self.pick() {
                Some(l) => self.sat.decide(l),
                None => return Outcome::Sat { rejected },
            }
        }
    }
}

/// [`dedup_keep_order`] on `v[start..]`.
fn dedup_tail(v: &mut Vec<Pkg>, start: usize) {
    if v.len() - start < 2 {
        return;
    }
    let mut k = start;
    for i in start..v.len() {
        let x = v[i];
        if !v[start..k].contains(&x) {
            v[k] = x;
            k += 1;
        }
    }
    v.truncate(k);
}

pub(crate) fn dedup_keep_order(v: &mut Vec<Pkg>) {
    if v.len() < 2 {
        return;
    }
    let mut k = 0;
    for i in 0..v.len() {
        let x = v[i];
        if !v[..k].contains(&x) {
            v[k] = x;
            k += 1;
        }
    }
    v.truncate(k);
}
