//! `particle why PKG`: which request brought a package into a variant, and through which
//! dependency chain.
//!
//! The journal records resolved sets, not reasons, so the chain is recomputed over the variant's
//! current state by [`solver::why`] (shortest chain, versions and Provides as dpkg has them) from
//! the roots found here: packages named by install requests in the variant's history, newest
//! first, then Essential and required packages.

use crate::session::Session;
use crate::{Error, ErrorKind, Result};
use std::borrow::Cow;
use std::collections::HashMap;

/// Why a package is installed in a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub package: String,
    pub version: String,
    /// The transaction whose request named the root of the chain, if one did.
    pub requested_by: Option<u64>,
    /// What the root is: `txn:N`, `essential` or `required`.
    pub root: String,
    /// Package names from the root to the package.
    pub chain: Vec<String>,
}

impl Session {
    /// Which request brought `package` into `variant`, and through which dependency chain.
    pub fn why(&self, package: &str, variant: &str) -> Result<Why> {
        why(self, package, variant)
    }
}

fn why(ctx: &Session, package: &str, variant: &str) -> Result<Why> {
    let h = ctx.history();
    let head = h.head(variant).ok_or_else(|| {
        Error::new(
            ErrorKind::UnknownVariant,
            format!("variant {variant:?} has no transactions"),
        )
    })?;
    let state = &head.state;
    let target = state
        .packages
        .iter()
        .find(|p| p.name == package)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotInstalled,
                format!("{package} is not installed in {variant}"),
            )
        })?;
    let loaded = crate::pinned::Pinned::load_packages(ctx.store()?)?;
    let pinned = loaded.view()?;
    // The installed versions' metadata.
    let meta: Vec<Option<Cow<'_, store::Package>>> = state
        .packages
        .iter()
        .map(|e| pinned.find(e).map(|r| pinned.package(r)))
        .collect();
    let index_of: HashMap<&str, usize> = state
        .packages
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
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
    let installed: Vec<Option<&store::Package>> = meta.iter().map(|m| m.as_deref()).collect();
    let root_indices: Vec<usize> = roots.iter().map(|(i, _)| *i).collect();
    let t = index_of[target.name.as_str()];
    let Some(found) = solver::why(&installed, &root_indices, t) else {
        return Err(Error::new(
            ErrorKind::NoReason,
            format!("{package} is installed but nothing in {variant} needs it (an orphan)"),
        ));
    };
    let root_k = found.root;
    let chain: Vec<String> = found
        .chain
        .iter()
        .map(|&i| state.packages[i].name.clone())
        .collect();
    let (_, why_root) = &roots[root_k];
    let requested_by = why_root
        .strip_prefix("txn:")
        .and_then(|s| s.parse::<u64>().ok());
    Ok(Why {
        package: target.name.clone(),
        version: target.version.clone(),
        requested_by,
        root: why_root.clone(),
        chain,
    })
}
