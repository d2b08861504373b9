//! Turning an unsatisfiable core (original clauses) into one readable sentence.

use crate::index::{Index, Pkg};
use crate::problem::{Info, Problem};
use crate::sat::{Cid, Lit, Sat, Val};

/// Shrinks `core` to a minimal unsatisfiable subset (each clause needed) by deletion, when it
/// is small enough for that to be cheap; `assumed` literals are held fixed.
pub(crate) fn minimize(
    clauses: &dyn Fn(Cid) -> Vec<Lit>,
    core: &[Cid],
    assumed: &[Lit],
) -> Vec<Cid> {
    if core.len() > 150 {
        return core.to_vec();
    }
    let mut keep: Vec<Cid> = core.to_vec();
    let mut i = keep.len();
    while i > 0 {
        i -= 1;
        let trial: Vec<Vec<Lit>> = keep
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != i)
            .map(|(_, &c)| clauses(c))
            .chain(assumed.iter().map(|&l| vec![l]))
            .collect();
        if !satisfiable(&trial) {
            keep.remove(i);
        }
    }
    keep
}

/// Whether a small clause set has a model (complete CDCL over compacted variables).
pub(crate) fn satisfiable(clauses: &[Vec<Lit>]) -> bool {
    let mut vars: Vec<u32> = clauses.iter().flatten().map(|l| l.var()).collect();
    vars.sort_unstable();
    vars.dedup();
    let map = |l: Lit| {
        let v = vars
            .binary_search(&l.var())
            .expect("variable collected above") as u32;
        if l.is_neg() {
            Lit::neg(v)
        } else {
            Lit::pos(v)
        }
    };
    let mut sat = Sat::new(vars.len());
    for c in clauses {
        sat.add_clause(&c.iter().map(|&l| map(l)).collect::<Vec<_>>());
    }
    loop {
        if let Some(c) = sat.propagate() {
            if sat.level() == 0 {
                return false;
            }
            sat.learn(c);
            continue;
        }
        match (0..vars.len() as u32).find(|&v| sat.value(Lit::pos(v)) == Val::Unset) {
            Some(v) => sat.decide(Lit::neg(v)),
            None => return true,
        }
    }
}

fn pv(index: &Index<'_>, p: Pkg) -> String {
    let pkg = index.pkg(p);
    if pkg.arch == "all" || pkg.arch == index.native {
        format!("{} {}", pkg.name, pkg.version)
    } else {
        format!("{}:{} {}", pkg.name, pkg.arch, pkg.version)
    }
}

/// Packages a fact is about (to order facts along dependency chains).
fn mentions(pb: &Problem<'_, '_>, info: &Info, clause: &[Lit]) -> Vec<Pkg> {
    match info {
        Info::Neg { pkg, other, .. } => vec![*pkg, *other],
        Info::OneOf(a, b) => vec![*a, *b],
        _ => clause.iter().map(|l| pb.pkg(l.var())).collect(),
    }
}

fn render(index: &Index<'_>, info: &Info, clause: &[Lit]) -> Option<String> {
    Some(match info {
        Info::Install(_) | Info::Learnt => return None,
        Info::Essential(n) => format!("{n} is essential"),
        Info::Required(n) => format!("{n} is required (Priority: required)"),
        Info::Remove(n) => format!("{n} is to be removed"),
        Info::Dep { pkg, pre, k } => {
            let p = index.pkg(*pkg);
            let dep = if *pre {
                &p.pre_depends[*k as usize]
            } else {
                &p.depends[*k as usize]
            };
            let verb = if *pre { "pre-depends on" } else { "depends on" };
            let mut s = format!("{} {verb} {dep}", pv(index, *pkg));
            if clause.len() == 1 {
                s.push_str(", which no available package satisfies");
                let mut avail: Vec<String> = Vec::new();
                for alt in &dep.alternatives {
                    for &c in index.named(&alt.name) {
                        avail.push(pv(index, c));
                    }
                }
                if !avail.is_empty() {
                    s.push_str(&format!(" (available: {})", avail.join(", ")));
                }
            }
            s
        }
        Info::Neg {
            pkg,
            other,
            breaks,
            k,
        } => {
            let p = index.pkg(*pkg);
            let rel = if *breaks {
                &p.breaks[*k as usize]
            } else {
                &p.conflicts[*k as usize]
            };
            let verb = if *breaks { "breaks" } else { "conflicts with" };
            let o = index.pkg(*other);
            if o.name == rel.name {
                if rel.constraint.is_some() {
                    format!(
                        "{} {verb} {rel} (matching {})",
                        pv(index, *pkg),
                        pv(index, *other)
                    )
                } else {
                    format!("{} {verb} {rel}", pv(index, *pkg))
                }
            } else {
                format!(
                    "{} {verb} {rel} (provided by {})",
                    pv(index, *pkg),
                    pv(index, *other)
                )
            }
        }
        Info::OneOf(a, b) => format!(
            "only one of {} and {} can be installed",
            pv(index, *a),
            pv(index, *b)
        ),
    })
}

/// One sentence naming the relations in `core`, ordered along dependency chains from `start`.
pub(crate) fn explain(
    index: &Index<'_>,
    pb: &Problem<'_, '_>,
    core: &[Cid],
    start: &[Pkg],
) -> String {
    let (info, sat) = (&pb.info, &pb.sat);
    let mut reached: Vec<Pkg> = start.to_vec();
    let mut used = vec![false; core.len()];
    let mut parts = Vec::new();
    loop {
        let next = core.iter().enumerate().position(|(i, &c)| {
            !used[i] && {
                let inf = &info[c as usize];
                let first = match inf {
                    Info::Dep { pkg, .. } => vec![*pkg],
                    other => mentions(pb, other, sat.clause(c)),
                };
                matches!(inf, Info::Dep { .. } | Info::Neg { .. } | Info::OneOf(..))
                    && first.iter().any(|p| reached.contains(p))
            }
        });
        let i = match next {
            Some(i) => i,
            None => match used.iter().position(|u| !u) {
                Some(i) => i,
                None => break,
            },
        };
        used[i] = true;
        let c = core[i];
        reached.extend(mentions(pb, &info[c as usize], sat.clause(c)));
        if let Some(s) = render(index, &info[c as usize], sat.clause(c)) {
            parts.push(s);
        }
    }
    if parts.is_empty() {
        "no installable candidate".to_owned()
    } else {
        parts.join("; ")
    }
}
