//! A small CDCL SAT engine: two watched literals, first-UIP clause learning with non-chronological
//! backjumping, assumptions as the lowest decision levels, and (for explanations) the set of
//! original clauses every learnt clause was derived from, so that an unsatisfiable request can
//! be explained by the original relations that make it so.
//!
//! Branching is not done here: the caller decides (see `problem.rs`), which lets the solver follow
//! Debian's dependency order the way apt and libsolv do. Original clauses can be added at any
//! time, also during a search: the caller encodes a package when it installs it.

/// A literal: variable `v` as `2v` (installed) or `2v+1` (not installed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Lit(u32);

impl Lit {
    pub(crate) fn pos(v: u32) -> Lit {
        Lit(v << 1)
    }
    pub(crate) fn neg(v: u32) -> Lit {
        Lit((v << 1) | 1)
    }
    pub(crate) fn var(self) -> u32 {
        self.0 >> 1
    }
    pub(crate) fn is_neg(self) -> bool {
        self.0 & 1 == 1
    }
    pub(crate) fn not(self) -> Lit {
        Lit(self.0 ^ 1)
    }
}

/// Clause index.
pub(crate) type Cid = u32;
const NONE: Cid = u32::MAX;

/// Value of a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Val {
    True,
    False,
    Unset,
}

pub(crate) struct Sat {
    val: Vec<i8>,
    level: Vec<u32>,
    reason: Vec<Cid>,
    trail: Vec<Lit>,
    lim: Vec<usize>,
    qhead: usize,
    /// Every clause's literals, one after another in `lits` (start, length): one allocation
    /// for all clauses rather than one each.
    clauses: Vec<(u32, u32)>,
    lits: Vec<Lit>,
    /// Per clause: `NONE` for an original clause, else its place in `learnt_origin`. Original
    /// clauses may follow learnt ones: the solver encodes a package's relations when it first
    /// installs or tries the package, which can be after conflicts.
    learnt_index: Vec<u32>,
    learnt_origin: Vec<Box<[Cid]>>,
    /// Per literal, its watch list: a run of `watches`, one allocation for all lists rather
    /// than one each (~20,000 per request, each allocated, grown and freed).
    watch_lists: Vec<Run>,
    watches: Vec<Cid>,
    /// Original clauses from this one on are not in the watch lists yet: they are added in
    /// bulk before the next propagation, each list given its place at its size (instead of
    /// growing one push at a time while the encoding adds ~30,000 clauses). Nothing reads or
    /// changes the lists in between, so they end up exactly as with one push per clause.
    unwatched: usize,
    units: Vec<Cid>,
    units_done: usize,
    /// Unit clauses added after propagation began: they hold at the level they were added at,
    /// not at level 0, so every propagation asserts them again (a backtrack can undo them).
    late_units: Vec<Cid>,
    /// Scratch space for reordering a late clause's literals.
    part: Vec<Lit>,
    /// Propagation has begun: clauses added from now on are watched one at a time, by what
    /// the assignment makes of them (see [`Sat::watch_late_clauses`]).
    started: bool,
    empty: Option<Cid>,
    seen: Vec<bool>,
    /// Incremented on every backtrack, so branchers know when to rescan.
    pub(crate) epoch: u64,
    pub(crate) conflicts: u64,
}

impl Sat {
    pub(crate) fn new(vars: usize) -> Self {
        Sat {
            val: vec![0; vars],
            level: vec![0; vars],
            reason: vec![NONE; vars],
            trail: Vec::new(),
            lim: Vec::new(),
            qhead: 0,
            clauses: Vec::new(),
            lits: Vec::new(),
            learnt_index: Vec::new(),
            learnt_origin: Vec::new(),
            watch_lists: vec![Run::default(); vars * 2],
            watches: Vec::new(),
            unwatched: 0,
            units: Vec::new(),
            units_done: 0,
            late_units: Vec::new(),
            part: Vec::new(),
            started: false,
            empty: None,
            seen: vec![false; vars],
            epoch: 0,
            conflicts: 0,
        }
    }

    /// No variables yet, with room for `vars` variables and `clauses` clauses of `lits`
    /// literals in all.
    pub(crate) fn with_capacity(vars: usize, clauses: usize, lits: usize) -> Self {
        let mut sat = Sat::new(0);
        sat.val.reserve(vars);
        sat.level.reserve(vars);
        sat.reason.reserve(vars);
        sat.seen.reserve(vars);
        sat.watch_lists.reserve(vars * 2);
        sat.clauses.reserve(clauses);
        sat.lits.reserve(lits);
        sat
    }

    /// Adds a variable (numbered after the others).
    pub(crate) fn add_var(&mut self) {
        self.val.push(0);
        self.level.push(0);
        self.reason.push(NONE);
        self.seen.push(false);
        self.watch_lists.extend([Run::default(); 2]);
    }

    /// Adds an original clause. Added during a search (a package's relations, encoded when it
    /// is first installed), it is watched by the current assignment at the next propagation:
    /// unit, it asserts its literal at the current level; false, it is a conflict, found
    /// after backtracking to the highest level among its literals.
    pub(crate) fn add_clause(&mut self, lits: &[Lit]) -> Cid {
        let id = self.clauses.len() as Cid;
        match lits.len() {
            0 => {
                self.empty.get_or_insert(id);
            }
            1 if self.started => self.late_units.push(id),
            1 => self.units.push(id),
            _ => {}
        }
        self.push_lits(lits);
        self.learnt_index.push(NONE);
        id
    }

    /// Makes room for `extra` more watches in list `s`: a list that is full moves to the end
    /// of the arena with `cap` places (its old place is left unused).
    fn make_room(&mut self, l: usize, extra: u32, cap: u32) {
        let run = &mut self.watch_lists[l];
        if run.len + extra <= run.cap {
            return;
        }
        let start = self.watches.len();
        let old = run.start as usize..(run.start + run.len) as usize;
        self.watches.extend_from_within(old);
        self.watches.resize(start + cap as usize, NONE);
        *run = Run {
            start: start as u32,
            len: run.len,
            cap,
        };
    }

    fn watch(&mut self, l: Lit, c: Cid) {
        let l = l.0 as usize;
        let cap = self.watch_lists[l].cap;
        self.make_room(l, 1, (cap * 2).max(4));
        let run = &mut self.watch_lists[l];
        self.watches[(run.start + run.len) as usize] = c;
        run.len += 1;
    }

    /// Puts the original clauses added since the last call in the watch lists, in order.
    /// Returns a clause that is false under the current assignment, if one was added.
    fn watch_new_clauses(&mut self) -> Option<Cid> {
        let new = self.unwatched..self.clauses.len();
        if new.is_empty() {
            return None;
        }
        self.unwatched = self.clauses.len();
        if self.started {
            return self.watch_late_clauses(new);
        }
        let mut counts = vec![0u32; self.watch_lists.len()];
        let mut total = 0;
        for c in new.clone() {
            let (start, len) = self.clauses[c];
            if len >= 2 {
                counts[self.lits[start as usize].0 as usize] += 1;
                counts[self.lits[start as usize + 1].0 as usize] += 1;
                total += 2;
            }
        }
        self.watches.reserve(total);
        // Lists that have no place yet (all of them, the first time) get theirs one after
        // another; the others move to the end if they are too small.
        let mut end = self.watches.len() as u32;
        for (run, &n) in self.watch_lists.iter_mut().zip(&counts) {
            if n > 0 && run.cap == 0 {
                *run = Run {
                    start: end,
                    len: 0,
                    cap: n,
                };
                end += n;
            }
        }
        self.watches.resize(end as usize, NONE);
        for (l, &n) in counts.iter().enumerate() {
            if n > 0 {
                let len = self.watch_lists[l].len;
                self.make_room(l, n, len + n);
            }
        }
        for c in new {
            let (start, len) = self.clauses[c];
            if len >= 2 {
                for k in 0..2 {
                    let run = &mut self.watch_lists[self.lits[start as usize + k].0 as usize];
                    self.watches[(run.start + run.len) as usize] = c as Cid;
                    run.len += 1;
                }
            }
        }
        None
    }

    /// Watches clauses added during a search: each watches two literals that are not false
    /// where it has them (moved to the front as propagation moves them, so the order of the
    /// others is kept), and one left with a single literal not false asserts it, at the
    /// current level.
    fn watch_late_clauses(&mut self, new: std::ops::Range<usize>) -> Option<Cid> {
        let mut conflict = None;
        for c in new {
            let (start, len) = self.clauses[c];
            let (start, len) = (start as usize, len as usize);
            if len < 2 {
                continue;
            }
            let is_false = |l: Lit| value_in(&self.val, l) == Val::False;
            if is_false(self.lits[start]) || is_false(self.lits[start + 1]) {
                // The literals not false first, in their order (the brancher takes a
                // dependency's first candidate not excluded), then the false ones.
                let lits = &mut self.lits[start..start + len];
                let mut part = std::mem::take(&mut self.part);
                part.clear();
                part.extend(lits.iter().filter(|&&l| !is_false(l)));
                part.extend(lits.iter().filter(|&&l| is_false(l)));
                lits.copy_from_slice(&part);
                self.part = part;
            }
            let (first, second) = (self.lits[start], self.lits[start + 1]);
            self.watch(first, c as Cid);
            self.watch(second, c as Cid);
            match (value_in(&self.val, first), value_in(&self.val, second)) {
                (Val::False, _) => {
                    conflict.get_or_insert(c as Cid);
                }
                (Val::Unset, Val::False) => self.enqueue(first, c as Cid),
                _ => {}
            }
        }
        conflict
    }

    fn push_lits(&mut self, lits: &[Lit]) {
        self.clauses
            .push((self.lits.len() as u32, lits.len() as u32));
        self.lits.extend_from_slice(lits);
    }

    /// The range of `lits` holding clause `c`.
    fn span(&self, c: Cid) -> std::ops::Range<usize> {
        let (start, len) = self.clauses[c as usize];
        start as usize..(start + len) as usize
    }

    pub(crate) fn clause(&self, c: Cid) -> &[Lit] {
        &self.lits[self.span(c)]
    }

    pub(crate) fn value(&self, l: Lit) -> Val {
        match (self.val[l.var() as usize], l.is_neg()) {
            (0, _) => Val::Unset,
            (1, false) | (-1, true) => Val::True,
            _ => Val::False,
        }
    }

    pub(crate) fn is_true(&self, v: u32) -> bool {
        self.val[v as usize] == 1
    }

    pub(crate) fn level(&self) -> usize {
        self.lim.len()
    }

    pub(crate) fn trail(&self) -> &[Lit] {
        &self.trail
    }

    fn enqueue(&mut self, l: Lit, reason: Cid) {
        let v = l.var() as usize;
        self.val[v] = if l.is_neg() { -1 } else { 1 };
        self.level[v] = self.lim.len() as u32;
        self.reason[v] = reason;
        self.trail.push(l);
    }

    pub(crate) fn decide(&mut self, l: Lit) {
        self.lim.push(self.trail.len());
        self.enqueue(l, NONE);
    }

    /// Opens a decision level without deciding anything (an assumption that already holds).
    pub(crate) fn empty_level(&mut self) {
        self.lim.push(self.trail.len());
    }

    pub(crate) fn backtrack(&mut self, level: usize) {
        if self.lim.len() <= level {
            return;
        }
        let start = self.lim[level];
        for &l in &self.trail[start..] {
            let v = l.var() as usize;
            self.val[v] = 0;
            self.reason[v] = NONE;
        }
        self.trail.truncate(start);
        self.lim.truncate(level);
        self.qhead = self.qhead.min(start);
        self.epoch += 1;
    }

    /// Propagates to a fixpoint; returns a falsified clause on conflict. Unit and empty
    /// clauses are enqueued at level 0 on the first call.
    pub(crate) fn propagate(&mut self) -> Option<Cid> {
        if let Some(c) = self.watch_new_clauses() {
            return Some(self.at_level_of(c));
        }
        self.started = true;
        if let Some(e) = self.empty {
            return Some(e);
        }
        while self.units_done < self.units.len() {
            let c = self.units[self.units_done];
            let l = self.clause(c)[0];
            match self.value(l) {
                Val::True => {}
                Val::False => return Some(c),
                Val::Unset => {
                    debug_assert_eq!(self.level(), 0, "units are enqueued at level 0");
                    self.enqueue(l, c);
                }
            }
            self.units_done += 1;
        }
        for i in 0..self.late_units.len() {
            let c = self.late_units[i];
            let l = self.clause(c)[0];
            match self.value(l) {
                Val::True => {}
                Val::False => return Some(self.at_level_of(c)),
                Val::Unset => self.enqueue(l, c),
            }
        }
        while self.qhead < self.trail.len() {
            let p = self.trail[self.qhead];
            self.qhead += 1;
            let false_lit = p.not();
            let Run { start, len, .. } = self.watch_lists[false_lit.0 as usize];
            let (start, len) = (start as usize, len as usize);
            let (mut i, mut j) = (0, 0);
            let mut conflict = None;
            while i < len {
                let cid = self.watches[start + i];
                i += 1;
                let span = self.span(cid);
                let c = &mut self.lits[span];
                if c[0] == false_lit {
                    c.swap(0, 1);
                }
                let first = c[0];
                let first_val = value_in(&self.val, first);
                if first_val == Val::True {
                    self.watches[start + j] = cid;
                    j += 1;
                    continue;
                }
                let mut moved = None;
                for k in 2..c.len() {
                    if value_in(&self.val, c[k]) != Val::False {
                        c.swap(1, k);
                        moved = Some(c[1]);
                        break;
                    }
                }
                // `w` is not false, so its list is another one than the list being walked:
                // moving that list does not move this one.
                if let Some(w) = moved {
                    self.watch(w, cid);
                    continue;
                }
                self.watches[start + j] = cid;
                j += 1;
                if first_val == Val::False {
                    conflict = Some(cid);
                    self.watches.copy_within(start + i..start + len, start + j);
                    j += len - i;
                    i = len;
                } else {
                    self.enqueue(first, cid);
                }
            }
            debug_assert_eq!(i, len);
            self.watch_lists[false_lit.0 as usize].len = j as u32;
            if conflict.is_some() {
                self.qhead = self.trail.len();
                return conflict;
            }
        }
        None
    }

    /// Backtracks to the highest level of the literals of `c`, a clause false under the
    /// assignment, so that conflict analysis finds one of them at the current level (a clause
    /// added during a search can be false from lower levels only).
    fn at_level_of(&mut self, c: Cid) -> Cid {
        let top = self
            .clause(c)
            .iter()
            .map(|l| self.level[l.var() as usize] as usize)
            .max()
            .unwrap_or(0);
        self.backtrack(top);
        c
    }

    fn origin_into(&self, c: Cid, out: &mut Vec<Cid>) {
        match self.learnt_index[c as usize] {
            NONE => out.push(c),
            i => out.extend_from_slice(&self.learnt_origin[i as usize]),
        }
    }

    /// Original clauses behind the assignment of `vars` (following reasons through all levels);
    /// also returns the decisions (assumptions) reached.
    fn reasons_core(&self, vars: &[u32], out: &mut Vec<Cid>) -> Vec<Lit> {
        let mut visited = vec![false; 0];
        visited.resize(self.val.len(), false);
        let mut stack: Vec<u32> = vars.to_vec();
        let mut decisions = Vec::new();
        while let Some(v) = stack.pop() {
            if std::mem::replace(&mut visited[v as usize], true) {
                continue;
            }
            let r = self.reason[v as usize];
            if r == NONE {
                let l = if self.val[v as usize] == 1 {
                    Lit::pos(v)
                } else {
                    Lit::neg(v)
                };
                decisions.push(l);
                continue;
            }
            self.origin_into(r, out);
            for &l in self.clause(r) {
                if l.var() != v && !visited[l.var() as usize] {
                    stack.push(l.var());
                }
            }
        }
        decisions
    }

    /// Learns from a conflict (above level 0), backjumps and asserts the learnt literal.
    /// Returns the level jumped to.
    pub(crate) fn learn(&mut self, confl: Cid) -> usize {
        let late = self.watch_new_clauses();
        debug_assert!(
            late.is_none(),
            "clauses are watched before the conflict is found"
        );
        self.conflicts += 1;
        let cur = self.level() as u32;
        let mut learnt = vec![Lit(0)];
        let mut origin = Vec::new();
        let mut zero_vars = Vec::new();
        let mut pathc = 0;
        let mut idx = self.trail.len();
        let mut cid = confl;
        let mut skip: Option<u32> = None;
        let p = loop {
            self.origin_into(cid, &mut origin);
            for k in self.span(cid) {
                let q = self.lits[k];
                let v = q.var();
                if Some(v) == skip || self.seen[v as usize] {
                    continue;
                }
                if self.level[v as usize] == 0 {
                    zero_vars.push(v);
                    continue;
                }
                self.seen[v as usize] = true;
                if self.level[v as usize] == cur {
                    pathc += 1;
                } else {
                    learnt.push(q);
                }
            }
            loop {
                idx -= 1;
                if self.seen[self.trail[idx].var() as usize] {
                    break;
                }
            }
            let p = self.trail[idx];
            self.seen[p.var() as usize] = false;
            pathc -= 1;
            if pathc == 0 {
                break p;
            }
            cid = self.reason[p.var() as usize];
            skip = Some(p.var());
        };
        learnt[0] = p.not();
        for l in &learnt[1..] {
            self.seen[l.var() as usize] = false;
        }
        if !zero_vars.is_empty() {
            zero_vars.sort_unstable();
            zero_vars.dedup();
            self.reasons_core(&zero_vars, &mut origin);
        }
        origin.sort_unstable();
        origin.dedup();
        let mut bj = 0;
        if learnt.len() > 1 {
            let mut best = 1;
            for k in 1..learnt.len() {
                if self.level[learnt[k].var() as usize] > self.level[learnt[best].var() as usize] {
                    best = k;
                }
            }
            learnt.swap(1, best);
            bj = self.level[learnt[1].var() as usize] as usize;
        }
        self.backtrack(bj);
        let id = self.clauses.len() as Cid;
        if learnt.len() > 1 {
            self.watch(learnt[0], id);
            self.watch(learnt[1], id);
        }
        let assert = learnt[0];
        self.push_lits(&learnt);
        // Watched above; the original clauses were all watched when learning began.
        self.unwatched = self.clauses.len();
        self.learnt_index.push(self.learnt_origin.len() as u32);
        self.learnt_origin.push(origin.into_boxed_slice());
        self.enqueue(assert, id);
        bj
    }

    /// The original clauses that make `confl` false, through every level (for a conflict at
    /// level 0, or to explain a failed assumption), and the decisions involved.
    pub(crate) fn conflict_core(&self, confl: Cid) -> (Vec<Cid>, Vec<Lit>) {
        let mut out = Vec::new();
        self.origin_into(confl, &mut out);
        let vars: Vec<u32> = self.clause(confl).iter().map(|l| l.var()).collect();
        let decisions = self.reasons_core(&vars, &mut out);
        out.sort_unstable();
        out.dedup();
        (out, decisions)
    }

    /// The original clauses that force the (false) literal `l` false.
    pub(crate) fn failed_core(&self, l: Lit) -> (Vec<Cid>, Vec<Lit>) {
        let mut out = Vec::new();
        let decisions = self.reasons_core(&[l.var()], &mut out);
        out.sort_unstable();
        out.dedup();
        (out, decisions)
    }
}

/// A watch list: `len` clauses at `start` in the arena, room for `cap`.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    start: u32,
    len: u32,
    cap: u32,
}

fn value_in(val: &[i8], l: Lit) -> Val {
    match (val[l.var() as usize], l.is_neg()) {
        (0, _) => Val::Unset,
        (1, false) | (-1, true) => Val::True,
        _ => Val::False,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain DPLL-by-CDCL over all variables, branching on the lowest unset variable (false first).
    fn solve(sat: &mut Sat, n: u32) -> bool {
        loop {
            if let Some(c) = sat.propagate() {
                if sat.level() == 0 {
                    return false;
                }
                sat.learn(c);
                continue;
            }
            match (0..n).find(|&v| sat.value(Lit::pos(v)) == Val::Unset) {
                Some(v) => sat.decide(Lit::neg(v)),
                None => return true,
            }
        }
    }

    #[test]
    fn pigeonhole_3_into_2_is_unsat_and_core_is_whole() {
        // p(i,h) = i*2+h
        let mut sat = Sat::new(6);
        for i in 0..3 {
            sat.add_clause(&[Lit::pos(i * 2), Lit::pos(i * 2 + 1)]);
        }
        for h in 0..2 {
            for i in 0..3 {
                for j in i + 1..3 {
                    sat.add_clause(&[Lit::neg(i * 2 + h), Lit::neg(j * 2 + h)]);
                }
            }
        }
        assert!(!solve(&mut sat, 6));
    }

    #[test]
    fn finds_models_that_satisfy_every_clause() {
        let clauses: Vec<Vec<Lit>> = vec![
            vec![Lit::pos(0), Lit::pos(1)],
            vec![Lit::neg(0), Lit::pos(2)],
            vec![Lit::neg(1), Lit::pos(2)],
            vec![Lit::neg(2), Lit::pos(3), Lit::neg(0)],
            vec![Lit::pos(0)],
        ];
        let mut sat = Sat::new(4);
        for c in &clauses {
            sat.add_clause(c);
        }
        assert!(solve(&mut sat, 4));
        for c in &clauses {
            assert!(c.iter().any(|&l| sat.value(l) == Val::True), "{c:?}");
        }
    }

    fn satisfies(sat: &Sat, clauses: &[Vec<Lit>]) -> bool {
        clauses
            .iter()
            .all(|c| c.iter().any(|&l| sat.value(l) == Val::True))
    }

    #[test]
    fn clauses_added_during_a_search_propagate_and_outlive_backtracking() {
        let mut sat = Sat::new(4);
        sat.add_clause(&[Lit::pos(0), Lit::pos(1)]);
        assert_eq!(sat.propagate(), None);
        sat.decide(Lit::pos(0));
        assert_eq!(sat.propagate(), None);
        // Unit under the assignment: asserted at the current level.
        sat.add_clause(&[Lit::neg(0), Lit::neg(2)]);
        sat.add_clause(&[Lit::neg(3)]);
        assert_eq!(sat.propagate(), None);
        assert_eq!(sat.value(Lit::pos(2)), Val::False);
        assert_eq!(sat.value(Lit::pos(3)), Val::False);
        // Undone by a backtrack, the late unit is asserted again; the late binary clause still
        // propagates from its other literal.
        sat.backtrack(0);
        assert_eq!(sat.value(Lit::pos(3)), Val::Unset);
        assert_eq!(sat.propagate(), None);
        assert_eq!(sat.value(Lit::pos(3)), Val::False);
        sat.decide(Lit::pos(2));
        assert_eq!(sat.propagate(), None);
        assert_eq!(sat.value(Lit::pos(0)), Val::False);
        assert_eq!(sat.value(Lit::pos(1)), Val::True);
    }

    #[test]
    fn a_late_unit_falsified_by_a_learnt_assertion_is_a_conflict() {
        let mut sat = Sat::new(2);
        sat.add_clause(&[Lit::pos(0), Lit::pos(1)]);
        assert_eq!(sat.propagate(), None);
        sat.decide(Lit::neg(0));
        assert_eq!(sat.propagate(), None);
        assert_eq!(sat.value(Lit::pos(1)), Val::True);
        // `¬x1` is false from level 1 only: the conflict is found and learning leaves
        // `x0` at level 0.
        sat.add_clause(&[Lit::neg(1)]);
        let c = sat.propagate().expect("the late unit is false");
        assert_eq!(sat.level(), 1);
        sat.learn(c);
        assert_eq!(sat.propagate(), None);
        assert_eq!(sat.value(Lit::pos(0)), Val::True);
        assert_eq!(sat.value(Lit::pos(1)), Val::False);
        assert!(solve(&mut sat, 2));
    }

    /// Random small formulas, half added up front and half during the search, whatever the
    /// assignment makes of them: the engine finds a model exactly when brute force does, and
    /// the model satisfies every clause.
    #[test]
    fn late_clauses_keep_the_search_complete_and_sound() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..400 {
            let n = 3 + next(6) as u32;
            let m = 2 + next(3 * u64::from(n)) as usize;
            let clauses: Vec<Vec<Lit>> = (0..m)
                .map(|_| {
                    let len = 1 + next(3) as usize;
                    let mut c: Vec<Lit> = Vec::new();
                    while c.len() < len {
                        let v = next(u64::from(n)) as u32;
                        if c.iter().all(|l| l.var() != v) {
                            c.push(if next(2) == 0 {
                                Lit::pos(v)
                            } else {
                                Lit::neg(v)
                            });
                        }
                    }
                    c
                })
                .collect();
            let brute = (0..1u32 << n).any(|bits| {
                clauses
                    .iter()
                    .all(|c| c.iter().any(|l| ((bits >> l.var()) & 1 == 1) != l.is_neg()))
            });
            let mut sat = Sat::new(n as usize);
            let half = m / 2;
            for c in &clauses[..half] {
                sat.add_clause(c);
            }
            let mut unsat = false;
            'late: for c in &clauses[half..] {
                // Some decisions first, as the Recommends pass has made when it encodes.
                loop {
                    if let Some(confl) = sat.propagate() {
                        if sat.level() == 0 {
                            unsat = true;
                            break 'late;
                        }
                        sat.learn(confl);
                        continue;
                    }
                    break;
                }
                if let Some(v) = (0..n).find(|&v| sat.value(Lit::pos(v)) == Val::Unset) {
                    sat.decide(if next(2) == 0 {
                        Lit::pos(v)
                    } else {
                        Lit::neg(v)
                    });
                    if sat.propagate().is_some() {
                        sat.backtrack(0);
                    }
                }
                // Unit, false or open under the assignment: the engine copes with each.
                sat.add_clause(c);
            }
            let found = !unsat && solve(&mut sat, n);
            assert_eq!(found, brute, "{clauses:?}");
            if found {
                assert!(satisfies(&sat, &clauses), "{clauses:?}");
            }
        }
    }
}
