//! The order in which packages are prepared: dependencies before dependents, `Pre-Depends`
//! edges followed before `Depends` ones, cycles broken where the depth-first walk meets them
//! (dpkg also breaks cycles by picking one member to go first). Pure.

use std::collections::HashMap;
use store::{Dependency, Package};

/// Indices of `pkgs` in configure order. Deterministic: roots are visited in name order.
pub(crate) fn configure_order(pkgs: &[&Package]) -> Vec<usize> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in pkgs.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    for (i, p) in pkgs.iter().enumerate() {
        for prov in &p.provides {
            by_name.entry(prov.name.as_str()).or_default().push(i);
        }
    }
    // The package satisfying a dependency: the first alternative present in the set.
    let target = |d: &Dependency| -> Option<usize> {
        d.alternatives.iter().find_map(|r| {
            by_name.get(r.name.as_str()).and_then(|c| {
                c.iter().copied().find(|&i| {
                    r.constraint
                        .as_ref()
                        .is_none_or(|k| pkgs[i].name != r.name || k.matches(&pkgs[i].version))
                })
            })
        })
    };
    let edges: Vec<Vec<usize>> = pkgs
        .iter()
        .map(|p| {
            p.pre_depends
                .iter()
                .chain(&p.depends)
                .filter_map(&target)
                .collect()
        })
        .collect();

    let mut roots: Vec<usize> = (0..pkgs.len()).collect();
    roots.sort_by(|&a, &b| (&pkgs[a].name, &pkgs[a].arch).cmp(&(&pkgs[b].name, &pkgs[b].arch)));
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; pkgs.len()];
    let mut order = Vec::with_capacity(pkgs.len());
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        // Iterative DFS: (node, next edge index).
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = edges[node].get(*next) {
                *next += 1;
                if state[dep] == 0 {
                    state[dep] = 1;
                    stack.push((dep, 0));
                }
            } else {
                state[node] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(stanza: &str) -> Package {
        let para = store::paragraphs(stanza)
            .next()
            .expect("stanza")
            .expect("valid");
        store::package_from_paragraph(&para).expect("valid")
    }

    #[test]
    fn pre_depends_and_depends_go_first_and_cycles_terminate() {
        let pkgs = [
            p("Package: a\nVersion: 1\nArchitecture: all\nDepends: b, c | x\n"),
            p("Package: b\nVersion: 1\nArchitecture: all\nPre-Depends: d\nDepends: a\n"),
            p("Package: c\nVersion: 1\nArchitecture: all\nProvides: x\n"),
            p("Package: d\nVersion: 1\nArchitecture: all\nDepends: awk\n"),
            p("Package: mawk\nVersion: 1\nArchitecture: all\nProvides: awk\n"),
        ];
        let refs: Vec<&Package> = pkgs.iter().collect();
        let order: Vec<&str> = configure_order(&refs)
            .into_iter()
            .map(|i| pkgs[i].name.as_str())
            .collect();
        assert_eq!(order, vec!["mawk", "d", "b", "c", "a"]);
    }
}
