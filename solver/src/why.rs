//! Why an installed package is there: the shortest dependency chain from a root (a package the
//! user asked for, an Essential or a required one) to it, over an installed set, following
//! Pre-Depends, Depends and Recommends of the installed versions.
//!
//! Version-aware, as dpkg is: a relation `name (op v)` is satisfied by an installed `name` whose
//! version satisfies it, or by an installed package that `Provides: name (= w)` with `w`
//! satisfying it; an unversioned Provides satisfies only unversioned relations. Pure: no I/O,
//! the caller says which packages are roots and in which order they count.

use std::collections::{HashMap, VecDeque};
use store::{Package, Relation};

/// The chain that explains one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhyChain {
    /// Which of the caller's roots the chain starts from (an index into `roots`).
    pub root: usize,
    /// Indices into the installed set, the root's package first, the explained package last.
    pub chain: Vec<usize>,
}

/// Whether `p` satisfies `r` (name or Provides, versions as dpkg compares them).
pub fn satisfies(p: &Package, r: &Relation) -> bool {
    if p.name == r.name {
        return r.constraint.as_ref().is_none_or(|c| c.matches(&p.version));
    }
    p.provides.iter().any(|pr| {
        pr.name == r.name
            && match (&r.constraint, &pr.constraint) {
                (None, _) => true,
                (Some(want), Some(have)) => have.op == store::Op::Eq && want.matches(&have.version),
                (Some(_), None) => false,
            }
    })
}

/// The shortest chain from any of `roots` (indices into `installed`; among chains of one
/// length, the earlier root's) to `target` (an index into `installed`). `installed[i]` is `None` for a package whose
/// metadata is unknown (it is then a dead end). `None`: nothing installed needs `target` (an
/// orphan). Deterministic: roots in the given order, relations in field order, the first
/// satisfying alternative, the lowest-indexed installed package that satisfies it.
pub fn why(installed: &[Option<&Package>], roots: &[usize], target: usize) -> Option<WhyChain> {
    // Names and provided names to the installed packages that might satisfy them.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in installed.iter().enumerate() {
        let Some(p) = p else { continue };
        by_name.entry(p.name.as_str()).or_default().push(i);
        for pr in &p.provides {
            by_name.entry(pr.name.as_str()).or_default().push(i);
        }
    }
    let n = installed.len();
    let (mut parent, mut origin) = (vec![None; n], vec![None; n]);
    let mut queue = VecDeque::new();
    for (k, &i) in roots.iter().enumerate() {
        if i < n && origin[i].is_none() {
            origin[i] = Some(k);
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        let Some(p) = installed[i] else { continue };
        for dep in p.pre_depends.iter().chain(&p.depends).chain(&p.recommends) {
            let hit = dep.alternatives.iter().find_map(|r| {
                by_name
                    .get(r.name.as_str())?
                    .iter()
                    .copied()
                    .find(|&j| installed[j].is_some_and(|q| satisfies(q, r)))
            });
            if let Some(j) = hit {
                if origin[j].is_none() {
                    origin[j] = origin[i];
                    parent[j] = Some(i);
                    queue.push_back(j);
                }
            }
        }
    }
    let root = origin.get(target).copied().flatten()?;
    let mut chain = vec![target];
    let mut cur = target;
    while let Some(p) = parent[cur] {
        chain.push(p);
        cur = p;
    }
    chain.reverse();
    Some(WhyChain { root, chain })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, depends: &str, provides: &str) -> Package {
        let mut text = format!("Package: {name}\nVersion: {version}\nArchitecture: amd64\n");
        if !depends.is_empty() {
            text.push_str(&format!("Depends: {depends}\n"));
        }
        if !provides.is_empty() {
            text.push_str(&format!("Provides: {provides}\n"));
        }
        let u = store::parse_packages(&text).expect("stanza parses");
        u.packages.into_iter().next().expect("one package")
    }

    /// `b` is installed, but in a version that does not satisfy `a`'s `b (>= 2)`: the chain
    /// goes through `c`, which provides `b (= 2.5)`, and never through `b`.
    #[test]
    fn a_name_match_with_the_wrong_version_does_not_count() {
        let a = pkg("a", "1", "b (>= 2)", "");
        let b = pkg("b", "1.0", "", "");
        let c = pkg("c", "3", "", "b (= 2.5)");
        let installed = [Some(&a), Some(&b), Some(&c)];
        assert_eq!(
            why(&installed, &[0], 2),
            Some(WhyChain {
                root: 0,
                chain: vec![0, 2]
            })
        );
        assert_eq!(
            why(&installed, &[0], 1),
            None,
            "nothing needs b 1.0: an orphan"
        );
        // The name-only matcher this replaces would have said a -> b.
    }

    #[test]
    fn unversioned_provides_satisfy_only_unversioned_relations() {
        let a = pkg("a", "1", "mail-transport-agent, x (>= 1)", "");
        let m = pkg("exim", "4", "", "mail-transport-agent, x");
        let installed = [Some(&a), Some(&m)];
        let chain = why(&installed, &[0], 1).expect("through mail-transport-agent");
        assert_eq!(chain.chain, [0, 1]);
        assert!(!satisfies(
            &m,
            &store::parse_relation("x (>= 1)").expect("relation")
        ));
        assert!(satisfies(
            &m,
            &store::parse_relation("x").expect("relation")
        ));
    }

    #[test]
    fn the_shortest_chain_wins_and_earlier_roots_break_ties() {
        let r1 = pkg("r1", "1", "m", "");
        let m = pkg("m", "1", "t", "");
        let r2 = pkg("r2", "1", "t", "");
        let t = pkg("t", "1", "", "");
        let installed = [Some(&r1), Some(&m), Some(&r2), Some(&t), None];
        // r2 -> t is shorter than r1 -> m -> t, whichever root comes first.
        for roots in [[0, 2], [2, 0]] {
            let found = why(&installed, &roots, 3).expect("reached");
            assert_eq!(found.chain, [2, 3]);
            assert_eq!(roots[found.root], 2);
        }
        // Two chains of one length: the earlier root's.
        let r3 = pkg("r3", "1", "t", "");
        let installed = [Some(&r2), Some(&r3), Some(&t)];
        assert_eq!(
            why(&installed, &[1, 0], 2).map(|c| c.chain),
            Some(vec![1, 2])
        );
        assert_eq!(
            why(&installed, &[0, 1], 2).map(|c| c.chain),
            Some(vec![0, 2])
        );
        let installed = [Some(&r1), Some(&m), Some(&r2), Some(&t), None];
        assert_eq!(why(&installed, &[0], 0).map(|c| c.chain), Some(vec![0]));
        assert_eq!(
            why(&installed, &[0], 4),
            None,
            "unknown metadata is a dead end"
        );
    }
}
