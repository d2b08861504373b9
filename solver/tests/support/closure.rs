//! An independent closure checker: does a set of packages satisfy every Depends/Pre-Depends,
//! violate no Conflicts/Breaks, hold one instance per name, and contain the base set?
//! Deliberately written from Debian policy without reusing any of the solver's code.

#![allow(dead_code, unreachable_pub)]

use store::{ArchQualifier, MultiArch, Package, Relation, Universe};

pub struct Check<'a> {
    pub native: &'a str,
    /// Also require the `Priority: required` names (apt-like solves); distcheck only requires
    /// `Essential: yes`.
    pub with_required: bool,
}

fn arch_of<'a>(p: &'a Package, native: &'a str) -> &'a str {
    if p.arch == "all" {
        native
    } else {
        &p.arch
    }
}

fn version_ok(r: &Relation, v: Option<&str>) -> bool {
    match (&r.constraint, v) {
        (None, _) => true,
        (Some(c), Some(v)) => c.op.holds(v, &c.version),
        (Some(_), None) => false,
    }
}

/// Whether `t` satisfies positive relation `r` written in a package of architecture `from`.
fn satisfies(r: &Relation, t: &Package, from: &str, native: &str) -> bool {
    let ta = arch_of(t, native);
    let arch_ok = match &r.arch {
        ArchQualifier::None => t.multi_arch == MultiArch::Foreign || ta == from,
        ArchQualifier::Any => {
            matches!(t.multi_arch, MultiArch::Allowed | MultiArch::Foreign) || ta == from
        }
        ArchQualifier::Native => ta == native,
        ArchQualifier::Named(a) => ta == a,
    };
    if !arch_ok {
        return false;
    }
    if t.name == r.name && version_ok(r, Some(&t.version)) {
        return true;
    }
    t.provides.iter().any(|p| {
        p.name == r.name && version_ok(r, p.constraint.as_ref().map(|c| c.version.as_str()))
    })
}

/// Whether conflict/break relation `r` (of some other package) hits `t`.
fn hits(r: &Relation, t: &Package, native: &str) -> bool {
    let arch_ok = match &r.arch {
        ArchQualifier::None | ArchQualifier::Any => true,
        ArchQualifier::Native => arch_of(t, native) == native,
        ArchQualifier::Named(a) => arch_of(t, native) == a,
    };
    arch_ok
        && ((t.name == r.name && version_ok(r, Some(&t.version)))
            || t.provides.iter().any(|p| {
                p.name == r.name && version_ok(r, p.constraint.as_ref().map(|c| c.version.as_str()))
            }))
}

impl Check<'_> {
    /// Checks `set` (indices into `universe.packages`); returns every violation found.
    pub fn violations(&self, universe: &Universe, set: &[usize]) -> Vec<String> {
        let pk = |i: usize| &universe.packages[i];
        let mut out = Vec::new();
        for &i in set {
            let p = pk(i);
            let from = arch_of(p, self.native);
            for dep in p.pre_depends.iter().chain(&p.depends) {
                let ok = dep
                    .alternatives
                    .iter()
                    .any(|r| set.iter().any(|&j| satisfies(r, pk(j), from, self.native)));
                if !ok {
                    out.push(format!("{} {}: unsatisfied {dep}", p.name, p.version));
                }
            }
            for r in p.conflicts.iter().chain(&p.breaks) {
                for &j in set {
                    if j != i && hits(r, pk(j), self.native) {
                        out.push(format!(
                            "{} {}: {r} hits {} {}",
                            p.name,
                            p.version,
                            pk(j).name,
                            pk(j).version
                        ));
                    }
                }
            }
            for &j in set {
                let q = pk(j);
                let coexist = p.multi_arch == MultiArch::Same
                    && q.multi_arch == MultiArch::Same
                    && arch_of(p, self.native) != arch_of(q, self.native);
                if j > i && q.name == p.name && !coexist {
                    out.push(format!(
                        "two instances of {}: {} and {}",
                        p.name, p.version, q.version
                    ));
                }
            }
        }
        let mut base: Vec<&str> = universe
            .packages
            .iter()
            .filter(|p| arch_of(p, self.native) == self.native)
            .filter(|p| {
                p.essential || (self.with_required && p.priority == store::Priority::Required)
            })
            .map(|p| p.name.as_str())
            .collect();
        base.sort_unstable();
        base.dedup();
        for name in base {
            if !set.iter().any(|&j| pk(j).name == name) {
                out.push(format!("base package {name} missing"));
            }
        }
        out
    }

    /// Maps (name, version, arch) triples to universe indices; None if one is unknown.
    pub fn resolve(
        universe: &Universe,
        triples: &[(String, String, String)],
    ) -> Option<Vec<usize>> {
        triples
            .iter()
            .map(|(n, v, a)| {
                universe
                    .packages
                    .iter()
                    .position(|p| &p.name == n && &p.version == v && &p.arch == a)
            })
            .collect()
    }
}

/// Recommends entries of the packages in `set`: (satisfied by the set, not satisfied).
pub fn recommends_counts(universe: &Universe, set: &[usize], native: &str) -> (usize, usize) {
    let pk = |i: usize| &universe.packages[i];
    let (mut yes, mut no) = (0, 0);
    for &i in set {
        let p = pk(i);
        let from = arch_of(p, native);
        for dep in &p.recommends {
            if dep
                .alternatives
                .iter()
                .any(|r| set.iter().any(|&j| satisfies(r, pk(j), from, native)))
            {
                yes += 1;
            } else {
                no += 1;
            }
        }
    }
    (yes, no)
}
