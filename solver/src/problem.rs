//! The SAT encoding of a Debian installation problem and the dependency-ordered search.
//!
//! One variable per package the search reaches, numbered as they are reached. Clauses:
//! - `Depends`/`Pre-Depends`: `¬p ∨ c1 ∨ … ∨ cn` over every package satisfying any alternative,
//!   in the order apt would try them (alternatives in order, newest first, real before virtual);
//! - `Conflicts`/`Breaks`: `¬p ∨ ¬q` for each package `q ≠ p` the relation hits (directly or
//!   through Provides, versioned or not);
//! - one instance of a name: `¬a ∨ ¬b` for two versions (or non-`same` architectures) of a name;
//! - roots: `c1 ∨ … ∨ cn` for every requested, essential or required name; `¬x` for removals.
//!
//! A package's clauses are encoded when it is first installed in the search (or is a root
//! candidate, or is tried by the Recommends pass): every installed package is encoded before
//! the next decision, so a model satisfies every relation of what it installs, and a package
//! never installed needs no clause. The engine watches clauses added during the search by the
//! current assignment (see `Sat::add_clause`). Encoding everything the roots could reach up
//! front, through every alternative, provider and Recommends, was 2.7 times the packages a
//! task-gnome-desktop answer holds and half of the solve. Distcheck, which checks every
//! package over a shared base, still encodes up front.
//!
//! The search decides like apt: it walks installed packages in the order they were installed
//! and, for the first dependency not yet satisfied, installs its first candidate not yet
//! excluded; with nothing left to decide, every unset package is "not installed", which
//! satisfies all clauses (each non-root clause has a negative literal).

use crate::index::{Entry, Field, FxMap, Index, List, Pkg, Rel};
use crate::sat::{Cid, Lit, Sat, Val};
use std::hash::{Hash, Hasher};

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
    /// A learnt clause's place (learnt clauses are numbered with the original ones).
    Learnt,
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
    /// Per package: 1 + its variable, 0 for none. Only the packages a request reaches get a
    /// variable, so the solver's per-variable arrays are sized to those few thousand rather
    /// than to the universe's 63,000 packages (making, zeroing and freeing those cost ~4.5 M
    /// instructions of a 69 M solve).
    var_of: Vec<u32>,
    /// Per variable: its package and its place in the encoding.
    vars: Vec<Node>,
    /// Packages whose clauses need not be encoded (distcheck's conflict-free closure).
    free: Option<Vec<bool>>,
    /// Encode a package when it is first installed (or tried by the Recommends pass) rather
    /// than everything the roots can reach up front (distcheck, which checks one package at a
    /// time over a shared base, encodes up front).
    lazy: bool,
    /// How much of the trail was checked for installed packages still to encode, and in which
    /// epoch (a backtrack rewrites the trail).
    encoded_upto: (usize, u64),
    /// Root clauses, in request order.
    pub(crate) roots: Vec<Cid>,
    /// Per entry: its satisfiers, a range of `pool` (deduplicated, in preference order). An
    /// entry of one alternative (nearly all) is the range of that relation's satisfiers.
    entries: Vec<(u32, u32)>,
    pool: Vec<Pkg>,
    /// Satisfiers of each relation seen, for the architecture asked (a range of `pool`):
    /// thousands of packages depend on the same relations (`libc6 (>= 2.34)`), and each
    /// lookup compares versions or looks names up twice (packages, providers).
    known: FxMap<Known<'u, 'i>, (u32, u32)>,
    /// The satisfiers of each alternative of the entry being added (ranges of `pool`).
    alts: Vec<(u32, u32)>,
    with_recommends: bool,
    /// Depth-first walk of the brancher: (variable, next dependency).
    stack: Vec<(u32, u32)>,
    gen: u32,
    root_next: usize,
    cursor: usize,
    epoch: u64,
    scratch: Vec<Pkg>,
}

/// A variable's package and its place in the encoding.
#[derive(Clone, Copy)]
struct Node {
    pkg: Pkg,
    /// Its clauses are encoded or about to be.
    active: bool,
    /// Its clauses are encoded (a conflict clause is added when its second package is).
    done: bool,
    /// Its dependency clauses, in field order (Pre-Depends first): they are added one after
    /// another, so a range (first clause, count).
    deps: (Cid, u32),
    /// Its first entry in `entries` and how many it has (Pre-Depends, Depends, then
    /// Recommends when enabled), once it is encoded. The satisfiers of each entry are
    /// computed once, when the package is encoded; the Recommends pass and the reasons walk
    /// read them again.
    list: (u32, u32),
    /// Generation in which the brancher's walk reached it.
    mark: u32,
}

impl<'i, 'u> Problem<'i, 'u> {
    pub(crate) fn new(
        index: &'i Index<'u>,
        with_recommends: bool,
        free: Option<Vec<bool>>,
    ) -> Self {
        let n = index.len();
        // Sized for a large request, so that encoding it grows no array (one doubling at a
        // time, that copied ~2 MB per solve): task-gnome-desktop with Recommends reaches a
        // thirteenth of bookworm's packages, with six clauses and six entries each, most
        // clauses of two literals.
        let vars = n / 12;
        let clauses = vars * 7;
        Problem {
            index,
            lazy: free.is_none(),
            encoded_upto: (0, 0),
            sat: Sat::with_capacity(vars, clauses, clauses * 2),
            info: Vec::with_capacity(clauses),
            var_of: vec![0; n],
            vars: Vec::with_capacity(vars),
            free,
            roots: Vec::new(),
            entries: Vec::with_capacity(clauses),
            pool: Vec::with_capacity(clauses / 2),
            known: FxMap::with_capacity_and_hasher(16384, Default::default()),
            alts: Vec::new(),
            with_recommends,
            stack: Vec::new(),
            gen: 0,
            root_next: 0,
            cursor: 0,
            epoch: u64::MAX,
            scratch: Vec::new(),
        }
    }

    /// The variable of `p`, made if it has none yet.
    fn new_var(&mut self, p: Pkg) -> u32 {
        let slot = &mut self.var_of[p as usize];
        if *slot == 0 {
            self.vars.push(Node {
                pkg: p,
                active: false,
                done: false,
                deps: (0, 0),
                list: (0, 0),
                mark: 0,
            });
            *slot = self.vars.len() as u32;
            self.sat.add_var();
        }
        *slot - 1
    }

    /// The variable of `p`, if the request reached it.
    pub(crate) fn var(&self, p: Pkg) -> Option<u32> {
        self.var_of[p as usize].checked_sub(1)
    }

    /// The package of variable `v`.
    pub(crate) fn pkg(&self, v: u32) -> Pkg {
        self.vars[v as usize].pkg
    }

    /// How many variables there are.
    pub(crate) fn var_count(&self) -> usize {
        self.vars.len()
    }

    /// "`p` is installed", for a package the request reached.
    pub(crate) fn lit(&self, p: Pkg) -> Lit {
        Lit::pos(self.var(p).expect("the package was reached"))
    }

    /// Whether `p` is installed in the current assignment.
    pub(crate) fn is_true(&self, p: Pkg) -> bool {
        self.var(p).is_some_and(|v| self.sat.is_true(v))
    }

    /// Whether `p`'s clauses are encoded.
    fn is_done(&self, p: Pkg) -> bool {
        self.var(p).is_some_and(|v| self.vars[v as usize].done)
    }

    fn add(&mut self, lits: &[Lit], info: Info) -> Cid {
        let c = self.sat.add_clause(lits);
        self.info.resize(c as usize, Info::Learnt);
        self.info.push(info);
        c
    }

    /// Whether `p`'s relations are encoded (or being encoded).
    pub(crate) fn is_active(&self, p: Pkg) -> bool {
        self.var(p).is_some_and(|v| self.vars[v as usize].active)
    }

    /// The satisfiers of entry `k` of `p` (numbered over Pre-Depends, Depends, then
    /// Recommends), if they were computed when `p` was encoded.
    pub(crate) fn entry_cands(&self, p: Pkg, k: usize) -> Option<&[Pkg]> {
        let (first, count) = self.vars[self.var(p)? as usize].list;
        if k >= count as usize {
            return None;
        }
        let (a, b) = self.entries[first as usize + k];
        Some(&self.pool[a as usize..b as usize])
    }

    /// Adds entry `k` of `field` of `p`; returns the range of `pool` holding its satisfiers.
    fn push_entry(&mut self, p: Pkg, field: Field, k: usize) -> (usize, usize) {
        let index = self.index;
        let arch = index.eff_arch(p);
        let mut rels = index.entry(p, field, k);
        let (a, b) = match (rels.next(), rels.next()) {
            (None, _) => (self.pool.len() as u32, self.pool.len() as u32),
            (Some(alt), None) => self.satisfiers(alt, arch),
            (Some(first), Some(second)) => {
                let mut alts = std::mem::take(&mut self.alts);
                alts.clear();
                for alt in [first, second].into_iter().chain(rels) {
                    alts.push(self.satisfiers(alt, arch));
                }
                let start = self.pool.len();
                for &(a, b) in &alts {
                    self.pool.extend_from_within(a as usize..b as usize);
                }
                dedup_tail(&mut self.pool, start);
                self.alts = alts;
                (start as u32, self.pool.len() as u32)
            }
        };
        self.entries.push((a, b));
        (a as usize, b as usize)
    }

    /// The satisfiers of `alt` for architecture `arch` (a range of `pool`), computed the
    /// first time they are asked for.
    fn satisfiers(&mut self, alt: Rel<'u>, arch: &'i str) -> (u32, u32) {
        let (index, pool) = (self.index, &mut self.pool);
        *self.known.entry(Known(alt, arch)).or_insert_with(|| {
            let a = pool.len();
            index.satisfiers(alt, arch, pool);
            (a as u32, pool.len() as u32)
        })
    }

    fn is_free(&self, p: Pkg) -> bool {
        self.free.as_ref().is_some_and(|f| f[p as usize])
    }

    /// Adds a root clause: one of `cands` must be installed. Encodes what they can pull in.
    pub(crate) fn add_root(&mut self, cands: &[Pkg], info: Info) -> Cid {
        for &c in cands {
            self.activate(c);
        }
        let lits: Vec<Lit> = cands.iter().map(|&c| Lit::pos(self.new_var(c))).collect();
        let c = self.add(&lits, info);
        self.roots.push(c);
        c
    }

    /// Adds a unit clause `¬p`.
    pub(crate) fn add_ban(&mut self, p: Pkg, info: Info) -> Cid {
        let v = self.new_var(p);
        self.add(&[Lit::neg(v)], info)
    }

    /// Encodes `p`'s relations (its Recommends are listed, not followed) and, encoding up
    /// front, everything its dependencies can reach.
    pub(crate) fn activate(&mut self, p: Pkg) {
        if self.is_free(p) {
            return;
        }
        let v = self.new_var(p);
        if self.vars[v as usize].active {
            return;
        }
        let index = self.index;
        let mut stack = vec![(p, v)];
        self.vars[v as usize].active = true;
        let mut cands = std::mem::take(&mut self.scratch);
        let mut hits = Vec::new();
        let mut lits = Vec::new();
        while let Some((p, v)) = stack.pop() {
            self.vars[v as usize].done = true;
            let first = self.entries.len() as u32;
            let recommends = if self.with_recommends {
                index.entry_count(p, Field::Recommends)
            } else {
                0
            };
            let fields = [(true, Field::PreDepends), (false, Field::Depends)];
            let counts = fields.map(|(_, f)| index.entry_count(p, f));
            let count = counts[0] + counts[1] + recommends;
            self.vars[v as usize].list = (first, count as u32);
            for ((pre, field), n) in fields.into_iter().zip(counts) {
                for k in 0..n {
                    let (a, b) = self.push_entry(p, field, k);
                    let cands = &self.pool[a..b];
                    if cands.iter().any(|&c| self.is_free(c)) {
                        continue;
                    }
                    lits.clear();
                    lits.push(Lit::neg(v));
                    for i in a..b {
                        let c = self.pool[i];
                        let w = self.new_var(c);
                        lits.push(Lit::pos(w));
                        if !self.lazy && !self.vars[w as usize].active {
                            self.vars[w as usize].active = true;
                            stack.push((c, w));
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
                    let d = &mut self.vars[v as usize].deps;
                    if d.1 == 0 {
                        d.0 = cid;
                    }
                    debug_assert_eq!(d.0 + d.1, cid, "dependency clauses are consecutive");
                    d.1 += 1;
                }
            }
            // Recommends are only listed: the Recommends pass encodes a candidate when it
            // tries it (most of what Recommends could reach is never tried).
            for k in 0..recommends {
                self.push_entry(p, Field::Recommends, k);
            }
            // Conflicts between active packages: forward from p, and backward onto p.
            for (breaks, list) in [(false, List::Conflicts), (true, List::Breaks)] {
                for (k, r) in index.rels(p, list).enumerate() {
                    cands.clear();
                    index.hits(r, p, |q| self.is_done(q), &mut cands);
                    for &q in &cands {
                        if q != p {
                            let w = self.new_var(q);
                            self.add(
                                &[Lit::neg(v), Lit::neg(w)],
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
            index.hit_by(p, |q| self.is_done(q), &mut hits);
            for &(q, breaks, k) in &hits {
                if q != p {
                    let w = self.new_var(q);
                    self.add(
                        &[Lit::neg(w), Lit::neg(v)],
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
                if self.is_done(s) && index.same_slot(p, s) {
                    let w = self.new_var(s);
                    self.add(&[Lit::neg(v), Lit::neg(w)], Info::OneOf(p, s));
                }
            }
        }
        self.scratch = cands;
    }

    /// Encodes the installed packages not encoded yet (lazy encoding); whether there were any.
    fn encode_installed(&mut self) -> bool {
        let (mut at, epoch) = self.encoded_upto;
        if epoch != self.sat.epoch {
            at = 0;
        }
        let mut any = false;
        while at < self.sat.trail().len() {
            let l = self.sat.trail()[at];
            at += 1;
            if !l.is_neg() && !self.vars[l.var() as usize].active {
                let p = self.vars[l.var() as usize].pkg;
                self.activate(p);
                any = true;
            }
        }
        self.encoded_upto = (at, self.sat.epoch);
        any
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
                let (first, count) = self.vars[p as usize].deps;
                if k >= count {
                    self.stack.pop();
                    continue;
                }
                let c = sat.clause(first + k);
                top.1 += 1;
                if let Some(t) = c.iter().find(|&&l| sat.value(l) == Val::True) {
                    let q = t.var();
                    if q != p && self.vars[q as usize].mark != gen {
                        self.vars[q as usize].mark = gen;
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
                    if self.vars[q as usize].mark != gen {
                        self.vars[q as usize].mark = gen;
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
                if !l.is_neg() && self.vars[l.var() as usize].mark != gen {
                    self.vars[l.var() as usize].mark = gen;
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
            if self.lazy && self.encode_installed() {
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

/// A relation and the architecture it is looked up for: the key of
/// [`Problem::known`]. Hashed from the words of its name (or, read from a table with a name
/// directory, the name's entry, which stands for it) and version only: hashing every field byte
/// by byte (through the derived `Hash`) cost ~150 instructions a lookup, and the qualifier and
/// architecture, nearly always the same, are still compared.
#[derive(PartialEq, Eq)]
struct Known<'u, 'i>(Rel<'u>, &'i str);

impl Hash for Known<'_, '_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self.0.entry {
            Entry::At(e) => h.write_u32(e),
            Entry::Unknown | Entry::Absent => hash_words(self.0.name, h),
        }
        if let Some((op, v)) = self.0.constraint {
            op.hash(h);
            hash_words(v, h);
        }
    }
}

/// Feeds `s` to `h` eight bytes at a time, the last word padded with zeros and its length.
fn hash_words<H: Hasher>(s: &str, h: &mut H) {
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        h.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let last = chunks
        .remainder()
        .iter()
        .rev()
        .fold(0u64, |w, &b| (w << 8) | u64::from(b));
    h.write_u64(last ^ ((s.len() as u64) << 56));
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
