//! Installability of every package of a universe, together with the essential set (as
//! `dose-distcheck` checks by default).
//!
//! Most of an archive is trivially installable, so (as libsolv's `installcheck` does) a cheap
//! fixpoint first finds the *free* packages: no Conflicts or Breaks hit them or come from them,
//! their name has one instance, and every dependency has a free alternative or one that the
//! essential set forces in every solution. A free package is installable (its free closure plus
//! any solution for the essential set is a solution), and a dependency with a free alternative
//! is satisfied without consequences, so free packages are not even encoded. The remaining
//! packages are checked one by one by the CDCL search over one shared encoding, keeping what it
//! learns from one check to the next (learnt clauses only depend on the essential roots).

use crate::explain::{explain, minimize};
use crate::index::{Index, Options, Pkg};
use crate::problem::{dedup_keep_order, Info, Outcome, Problem};
use crate::sat::Cid;
use store::Universe;

/// A package that cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Broken {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// The relations that make it uninstallable, in one sentence.
    pub reason: String,
}

/// The result of [`distcheck`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DistcheckReport {
    /// Packages checked (those of the native architecture, `all`, and the foreign ones).
    pub total: usize,
    /// Uninstallable packages, in universe order.
    pub broken: Vec<Broken>,
}

/// Dependency candidates of every considered package, flattened.
struct Deps {
    /// For package p, its dependencies are `dep_start[p]..dep_start[p+1]`.
    dep_start: Vec<u32>,
    /// For dependency d, its candidates are `cand[cand_start[d]..cand_start[d+1]]`.
    cand_start: Vec<u32>,
    cand: Vec<Pkg>,
}

impl Deps {
    fn new(ix: &Index<'_>) -> Self {
        let mut dep_start = Vec::with_capacity(ix.len() + 1);
        let mut cand_start = vec![0];
        let mut cand = Vec::new();
        let mut tmp = Vec::new();
        for p in 0..ix.len() as Pkg {
            dep_start.push(cand_start.len() as u32 - 1);
            if !ix.considered(p) {
                continue;
            }
            let pkg = ix.pkg(p);
            for dep in pkg.pre_depends.iter().chain(&pkg.depends) {
                tmp.clear();
                for alt in &dep.alternatives {
                    ix.satisfiers(alt.into(), ix.eff_arch(p), &mut tmp);
                }
                dedup_keep_order(&mut tmp);
                cand.extend_from_slice(&tmp);
                cand_start.push(cand.len() as u32);
            }
        }
        dep_start.push(cand_start.len() as u32 - 1);
        Deps {
            dep_start,
            cand_start,
            cand,
        }
    }

    fn of(&self, p: Pkg) -> impl Iterator<Item = &[Pkg]> + '_ {
        let (a, b) = (self.dep_start[p as usize], self.dep_start[p as usize + 1]);
        (a..b).map(move |d| {
            &self.cand
                [self.cand_start[d as usize] as usize..self.cand_start[d as usize + 1] as usize]
        })
    }
}

/// Checks every considered package of `universe` for installability with the essential set.
pub fn distcheck(universe: &Universe, options: &Options) -> DistcheckReport {
    let ix = Index::new(universe, options);
    let n = ix.len();
    let deps = Deps::new(&ix);
    let essential = ix.base_names(false);
    let roots: Vec<Vec<Pkg>> = essential
        .iter()
        .map(|name| {
            ix.named(name)
                .iter()
                .copied()
                .filter(|&p| ix.eff_arch(p) == ix.native)
                .collect()
        })
        .collect();

    // The essential set alone: if it has no solution, nothing is installable.
    let mut base_pb = Problem::new(&ix, false, None);
    for (name, cands) in essential.iter().zip(&roots) {
        base_pb.add_root(cands, Info::Essential((*name).to_owned()));
    }
    if let Outcome::Unsat(core) = base_pb.search(&[], &[], None) {
        let lits = |c: Cid| base_pb.sat.clause(c).to_vec();
        let core = minimize(&lits, &core, &[]);
        let reason = format!(
            "the essential set is not installable: {}",
            explain(&ix, &base_pb, &core, &[])
        );
        let broken: Vec<Broken> = (0..n as Pkg)
            .filter(|&p| ix.considered(p))
            .map(|p| {
                let pkg = ix.pkg(p);
                Broken {
                    name: pkg.name.clone(),
                    version: pkg.version.clone(),
                    arch: pkg.arch.clone(),
                    reason: reason.clone(),
                }
            })
            .collect();
        return DistcheckReport {
            total: broken.len(),
            broken,
        };
    }
    drop(base_pb);

    // Packages every solution contains: single-candidate roots and their single-candidate deps.
    let mut forced = vec![false; n];
    let mut stack: Vec<Pkg> = roots
        .iter()
        .filter(|r| r.len() == 1)
        .map(|r| r[0])
        .collect();
    while let Some(p) = stack.pop() {
        if std::mem::replace(&mut forced[p as usize], true) {
            continue;
        }
        for c in deps.of(p) {
            if c.len() == 1 && !forced[c[0] as usize] {
                stack.push(c[0]);
            }
        }
    }

    // Free packages: conflict-free, and the greatest fixpoint of "every dependency has a free
    // or forced candidate".
    let mut free = vec![false; n];
    let mut hits = Vec::new();
    let mut hit_by = Vec::new();
    for p in 0..n as Pkg {
        if !ix.considered(p) {
            continue;
        }
        let pkg = ix.pkg(p);
        hits.clear();
        for r in pkg.conflicts.iter().chain(&pkg.breaks) {
            ix.hits(r.into(), p, |_| true, &mut hits);
        }
        hit_by.clear();
        ix.hit_by(p, |_| true, &mut hit_by);
        let alone = !ix.named(&pkg.name).iter().any(|&s| ix.same_slot(p, s));
        // Forced packages stay encoded, so that what they force holds in the encoding too.
        free[p as usize] = hits.is_empty() && hit_by.is_empty() && alone && !forced[p as usize];
    }
    loop {
        let mut changed = false;
        for p in 0..n as Pkg {
            if free[p as usize]
                && !deps
                    .of(p)
                    .all(|c| c.iter().any(|&c| free[c as usize] || forced[c as usize]))
            {
                free[p as usize] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let mut pb = Problem::new(&ix, false, Some(free.clone()));
    for (name, cands) in essential.iter().zip(&roots) {
        if cands.iter().any(|&c| free[c as usize]) {
            continue;
        }
        pb.add_root(cands, Info::Essential((*name).to_owned()));
    }
    for p in 0..n as Pkg {
        if ix.considered(p) {
            pb.activate(p);
        }
    }
    let mut report = DistcheckReport {
        total: 0,
        broken: Vec::new(),
    };
    for p in 0..n as Pkg {
        if !ix.considered(p) {
            continue;
        }
        report.total += 1;
        if free[p as usize] {
            continue;
        }
        pb.sat.backtrack(0);
        let l = pb.lit(p);
        if let Outcome::Unsat(core) = pb.search(&[l], &[], None) {
            let lits = |c: Cid| pb.sat.clause(c).to_vec();
            let core = minimize(&lits, &core, &[l]);
            let pkg = ix.pkg(p);
            report.broken.push(Broken {
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                arch: pkg.arch.clone(),
                reason: explain(&ix, &pb, &core, &[p]).to_string(),
            });
        }
    }
    report
}
