//! `particle why PKG`: which request brought a package into a variant, and through which
//! dependency chain.
//!
//! The journal records resolved sets, not reasons, so the chain is recomputed over the variant's
//! current state: a breadth-first search from the roots (packages named by install requests in
//! the variant's history, then Essential and required packages) along Pre-Depends, Depends and
//! Recommends of the installed versions, taking the first installed package that satisfies each
//! relation (by name or Provides). Shortest chains first, deterministic order.

use crate::ctx::Ctx;
use crate::error::CliError;
use crate::output::print_json;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::path::Path;

pub(crate) fn why(root: &Path, package: &str, variant: &str, json: bool) -> anyhow::Result<()> {
    let ctx = Ctx::read(root)?;
    let h = ctx.journal.history();
    let head = h.head(variant).ok_or_else(|| {
        CliError::new(
            "unknown_variant",
            format!("variant {variant:?} has no transactions"),
        )
    })?;
    let state = &head.state;
    let target = state
        .packages
        .iter()
        .find(|p| p.name == package)
        .ok_or_else(|| {
            CliError::new(
                "not_installed",
                format!("{package} is not installed in {variant}"),
            )
        })?;
    let loaded = crate::pinned::Pinned::load(ctx.store()?)?;
    let pinned = loaded.view()?;
    // The installed versions' metadata.
    let meta: Vec<Option<Cow<'_, store::Package>>> = state
        .packages
        .iter()
        .map(|e| {
            pinned
                .find(&e.name, &e.version, &e.arch)
                .map(|r| pinned.package(r))
        })
        .collect();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let mut providers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (e, m)) in state.packages.iter().zip(&meta).enumerate() {
        index_of.insert(e.name.as_str(), i);
        for pr in m.iter().flat_map(|m| &m.provides) {
            providers.entry(pr.name.as_str()).or_default().push(i);
        }
    }
    // Roots: the latest install request naming each package, then essential/required ones.
    let mut roots: Vec<(usize, String)> = Vec::new();
    let lineage = h.lineage(variant, None).map_err(crate::txn::query_err)?;
    for r in lineage.iter().rev() {
        let named: Vec<String> = match &r.request {
            journal::Request::Install { packages, .. } => {
                packages.iter().map(|s| s.name.clone()).collect()
            }
            // A definition names its packages (and its hardware rules' packages).
            journal::Request::Apply { .. } => crate::variants::requested_by_definition(r),
            _ => continue,
        };
        for spec in &named {
            let name = spec.split(':').next().unwrap_or(spec);
            if let Some(&i) = index_of.get(name) {
                if !roots.iter().any(|(j, _)| *j == i) {
                    roots.push((i, format!("txn:{}", r.seq)));
                }
            }
        }
    }
    for (i, m) in meta.iter().enumerate() {
        if let Some(m) = m {
            if (m.essential || m.priority == store::Priority::Required)
                && !roots.iter().any(|(j, _)| *j == i)
            {
                roots.push((
                    i,
                    if m.essential {
                        "essential".into()
                    } else {
                        "required".into()
                    },
                ));
            }
        }
    }
    let mut parent: Vec<Option<usize>> = vec![None; state.packages.len()];
    let mut origin: Vec<Option<usize>> = vec![None; state.packages.len()];
    let mut queue = VecDeque::new();
    for (k, (i, _)) in roots.iter().enumerate() {
        if origin[*i].is_none() {
            origin[*i] = Some(k);
            queue.push_back(*i);
        }
    }
    while let Some(i) = queue.pop_front() {
        let Some(m) = &meta[i] else { continue };
        for dep in m.pre_depends.iter().chain(&m.depends).chain(&m.recommends) {
            let hit = dep.alternatives.iter().find_map(|r| {
                index_of.get(r.name.as_str()).copied().or_else(|| {
                    providers
                        .get(r.name.as_str())
                        .and_then(|v| v.first().copied())
                })
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
    let t = index_of[target.name.as_str()];
    let Some(root_k) = origin[t] else {
        return Err(CliError::new(
            "no_reason",
            format!("{package} is installed but nothing in {variant} needs it (an orphan)"),
        )
        .into());
    };
    let mut chain = vec![state.packages[t].name.clone()];
    let mut cur = t;
    while let Some(p) = parent[cur] {
        chain.push(state.packages[p].name.clone());
        cur = p;
    }
    chain.reverse();
    let (_, why_root) = &roots[root_k];
    let requested_by = why_root
        .strip_prefix("txn:")
        .and_then(|s| s.parse::<u64>().ok());
    if json {
        return print_json(&serde_json::json!({
            "package": target.name, "version": target.version, "variant": variant,
            "requested_by": requested_by, "root": why_root, "chain": chain,
        }));
    }
    let root_name = &chain[0];
    let root_is = match requested_by {
        Some(seq) => format!("requested in transaction {seq}"),
        None if why_root == "essential" => "an essential package".to_owned(),
        None => format!("a {why_root} package"),
    };
    if chain.len() == 1 {
        println!(
            "{} {} is installed because it is {root_is}",
            target.name, target.version
        );
    } else {
        println!(
            "{} {} is installed because {root_name} ({root_is}) needs it:",
            target.name, target.version
        );
        println!("  {}", chain.join(" -> "));
    }
    Ok(())
}
