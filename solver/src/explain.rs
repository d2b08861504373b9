//! Turning an unsatisfiable core (original clauses) into an [`Explanation`]: the relations
//! involved, as data, whose [`Display`](fmt::Display) is one readable sentence.

use crate::index::{Index, Pkg};
use crate::problem::{Info, Problem};
use crate::sat::{Cid, Lit, Sat, Val};
use crate::solve::parse_spec;
use std::fmt;

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

/// One version of one package of the universe, as an explanation names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVersion {
    /// The package name.
    pub name: String,
    /// The version.
    pub version: String,
    /// The `Architecture` field (`all` included).
    pub arch: String,
    /// Whether the architecture is shown: it is neither `all` nor the native one.
    pub foreign: bool,
}

/// `name version`, or `name:arch version` for a foreign architecture.
impl fmt::Display for PackageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.foreign {
            write!(f, "{}:{} {}", self.name, self.arch, self.version)
        } else {
            write!(f, "{} {}", self.name, self.version)
        }
    }
}

/// One relation or rule of a conflict: together, the steps of an [`Explanation`] cannot all
/// hold. Each one's [`Display`](fmt::Display) is the clause users read (quoted in each
/// variant's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `name` is `Essential: yes`, so every installation keeps it: "`name` is essential".
    Essential {
        /// The package name.
        name: String,
    },
    /// `name` is `Priority: required`, so every installation keeps it: "`name` is required
    /// (Priority: required)".
    Required {
        /// The package name.
        name: String,
    },
    /// The request removes `name`: "`spec` is to be removed".
    Removed {
        /// The package name.
        name: String,
        /// The package as the request wrote it (`name`, `name:arch` or `name=version`).
        spec: String,
    },
    /// `package` depends on `dependency`, which some packages satisfy (the steps that follow
    /// rule them out): "`package` depends on `dependency`" (or "pre-depends on").
    Depends {
        /// The depending package.
        package: PackageVersion,
        /// A `Pre-Depends` entry rather than a `Depends` one.
        pre_depends: bool,
        /// The entry, with its alternatives.
        dependency: store::Dependency,
    },
    /// `package` depends on `dependency`, which no package of the universe satisfies:
    /// "`package` depends on `dependency`, which no available package satisfies (available:
    /// `available`, comma-separated)", the parenthesis only when `available` is not empty.
    MissingDependency {
        /// The depending package.
        package: PackageVersion,
        /// A `Pre-Depends` entry rather than a `Depends` one.
        pre_depends: bool,
        /// The entry, with its alternatives.
        dependency: store::Dependency,
        /// The packages called as the alternatives are (none satisfies them: another version
        /// or architecture), alternative by alternative, best candidate first.
        available: Vec<PackageVersion>,
    },
    /// A `Conflicts` (or `Breaks`) entry of `package` hits `other`: "`package` conflicts with
    /// `relation`" (or "breaks"), followed by " (matching `other`)" when the relation names
    /// `other` with a version constraint, or " (provided by `other`)" when it names a name
    /// `other` provides (`other.name != relation.name`).
    Conflicts {
        /// The package with the relation.
        package: PackageVersion,
        /// A `Breaks` entry rather than a `Conflicts` one.
        breaks: bool,
        /// The entry.
        relation: store::Relation,
        /// The package it hits.
        other: PackageVersion,
    },
    /// Two versions (or architectures) of one name cannot be installed together: "only one of
    /// `first` and `second` can be installed".
    OneInstance {
        /// One instance.
        first: PackageVersion,
        /// The other.
        second: PackageVersion,
    },
}

impl Step {
    /// The package names the step mentions, in the order its text does (the names a missing
    /// dependency asks for included: they may name no package at all).
    pub fn packages(&self) -> Vec<&str> {
        match self {
            Step::Essential { name } | Step::Required { name } | Step::Removed { name, .. } => {
                vec![name]
            }
            Step::Depends { package, .. } => vec![&package.name],
            Step::MissingDependency {
                package,
                dependency,
                available,
                ..
            } => std::iter::once(package.name.as_str())
                .chain(dependency.alternatives.iter().map(|r| r.name.as_str()))
                .chain(available.iter().map(|p| p.name.as_str()))
                .collect(),
            Step::Conflicts { package, other, .. } => vec![&package.name, &other.name],
            Step::OneInstance { first, second } => vec![&first.name, &second.name],
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Essential { name } => write!(f, "{name} is essential"),
            Step::Required { name } => write!(f, "{name} is required (Priority: required)"),
            Step::Removed { spec, .. } => write!(f, "{spec} is to be removed"),
            Step::Depends {
                package,
                pre_depends,
                dependency,
            } => write!(f, "{package} {} {dependency}", depends_verb(*pre_depends)),
            Step::MissingDependency {
                package,
                pre_depends,
                dependency,
                available,
            } => {
                write!(
                    f,
                    "{package} {} {dependency}, which no available package satisfies",
                    depends_verb(*pre_depends)
                )?;
                if !available.is_empty() {
                    f.write_str(" (available: ")?;
                    for (i, p) in available.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{p}")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            Step::Conflicts {
                package,
                breaks,
                relation,
                other,
            } => {
                let verb = if *breaks { "breaks" } else { "conflicts with" };
                write!(f, "{package} {verb} {relation}")?;
                if other.name != relation.name {
                    write!(f, " (provided by {other})")
                } else if relation.constraint.is_some() {
                    write!(f, " (matching {other})")
                } else {
                    Ok(())
                }
            }
            Step::OneInstance { first, second } => {
                write!(f, "only one of {first} and {second} can be installed")
            }
        }
    }
}

fn depends_verb(pre_depends: bool) -> &'static str {
    if pre_depends {
        "pre-depends on"
    } else {
        "depends on"
    }
}

/// Why a request (or a package) cannot be installed: a minimal set of relations and rules
/// that cannot all hold, ordered along the dependency chains from what was asked.
///
/// Its [`Display`](fmt::Display) is the sentence users read: the steps joined by `"; "`, or
/// "no installable candidate" when there is no step (nothing but the request itself is in
/// the conflict).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Explanation {
    /// The steps, in the order the sentence gives them.
    pub steps: Vec<Step>,
}

impl Explanation {
    /// Every package name the explanation mentions, once each, in the order of first mention
    /// (see [`Step::packages`]).
    pub fn packages(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for name in self.steps.iter().flat_map(Step::packages) {
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("no installable candidate");
        }
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

fn pv(index: &Index<'_>, p: Pkg) -> PackageVersion {
    let pkg = index.pkg(p);
    PackageVersion {
        name: pkg.name.clone(),
        version: pkg.version.clone(),
        arch: pkg.arch.clone(),
        foreign: !(pkg.arch == "all" || pkg.arch == index.native),
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

fn step(index: &Index<'_>, info: &Info, clause: &[Lit]) -> Option<Step> {
    Some(match info {
        Info::Install(_) | Info::Learnt => return None,
        Info::Essential(n) => Step::Essential { name: n.clone() },
        Info::Required(n) => Step::Required { name: n.clone() },
        Info::Remove(n) => Step::Removed {
            name: parse_spec(n).name.to_owned(),
            spec: n.clone(),
        },
        Info::Dep { pkg, pre, k } => {
            let p = index.pkg(*pkg);
            let dependency = if *pre {
                &p.pre_depends[*k as usize]
            } else {
                &p.depends[*k as usize]
            }
            .clone();
            let package = pv(index, *pkg);
            if clause.len() == 1 {
                let available = dependency
                    .alternatives
                    .iter()
                    .flat_map(|alt| index.named(&alt.name).iter().map(|&c| pv(index, c)))
                    .collect();
                Step::MissingDependency {
                    package,
                    pre_depends: *pre,
                    dependency,
                    available,
                }
            } else {
                Step::Depends {
                    package,
                    pre_depends: *pre,
                    dependency,
                }
            }
        }
        Info::Neg {
            pkg,
            other,
            breaks,
            k,
        } => {
            let p = index.pkg(*pkg);
            let relation = if *breaks {
                &p.breaks[*k as usize]
            } else {
                &p.conflicts[*k as usize]
            };
            Step::Conflicts {
                package: pv(index, *pkg),
                breaks: *breaks,
                relation: relation.clone(),
                other: pv(index, *other),
            }
        }
        Info::OneOf(a, b) => Step::OneInstance {
            first: pv(index, *a),
            second: pv(index, *b),
        },
    })
}

/// The relations in `core`, ordered along dependency chains from `start`.
pub(crate) fn explain(
    index: &Index<'_>,
    pb: &Problem<'_, '_>,
    core: &[Cid],
    start: &[Pkg],
) -> Explanation {
    let (info, sat) = (&pb.info, &pb.sat);
    let mut reached: Vec<Pkg> = start.to_vec();
    let mut used = vec![false; core.len()];
    let mut steps = Vec::new();
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
        steps.extend(step(index, &info[c as usize], sat.clause(c)));
    }
    Explanation { steps }
}
