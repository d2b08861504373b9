//! `particle gc [--keep N] [--dry-run]`: removes the commits and cached `.deb`s that neither a
//! variant's head, a deployment, nor the last N transactions need. The journal is never pruned:
//! any removed state is rebuilt from it (`txn rollback --to`, `replay`). On a machine the
//! deployments are ostree's (it keeps the booted, the staged, the default and the rollback
//! one); `ostree admin cleanup` removes the rest with their `/boot` files and objects.

use crate::session::Session;
use crate::{Error, ErrorKind, Result};
use std::collections::BTreeSet;
use std::path::Path;

/// The commits `gc` removed, one per line, in the state directory.
const PRUNED: &str = "pruned-commits";

/// The commits `gc` removed from this state directory's repository.
pub fn pruned_commits(root: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(root.join(PRUNED))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `gc` removed (or would remove, for a dry run) and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcReport {
    pub dry_run: bool,
    /// The last N transactions kept (with every variant's head).
    pub keep: u64,
    pub kept_transactions: BTreeSet<u64>,
    /// Commits removed from the repository.
    pub removed_commits: Vec<String>,
    /// Cached `.deb`s removed, and their bytes.
    pub removed_debs: usize,
    pub removed_deb_bytes: u64,
    pub kept_debs: usize,
}

impl Session {
    /// Removes the commits and cached `.deb`s that neither a variant's head, a deployment,
    /// nor the last `keep` transactions need (only reports them with `dry_run`).
    pub fn gc(&self, keep: u64, dry_run: bool) -> Result<GcReport> {
        gc(self, keep, dry_run)
    }
}

fn gc(ctx: &Session, keep: u64, dry_run: bool) -> Result<GcReport> {
    let history = ctx.journal().history();
    let records = ctx.journal().records();
    let last = records.last().map_or(0, |r| r.seq);
    let mut kept: BTreeSet<u64> = records
        .iter()
        .filter(|r| r.seq + keep > last)
        .map(|r| r.seq)
        .collect();
    kept.extend(
        history
            .variants()
            .iter()
            .filter_map(|v| history.head(v))
            .map(|r| r.seq),
    );
    let mut kept_commits: BTreeSet<String> = kept
        .iter()
        .filter_map(|s| history.record(*s))
        .map(|r| r.commit.to_hex())
        .collect();
    if let Some(m) = &ctx.state().machine {
        for d in machine::deployments(&m.sysroot)? {
            kept_commits.insert(d.commit);
        }
    }
    let keep_debs: BTreeSet<store::Sha256> = kept
        .iter()
        .filter_map(|s| history.record(*s))
        .flat_map(|r| r.state.packages.iter().map(|p| p.sha256))
        .collect();

    // Commits of records nobody keeps (a machine's were removed by ostree with their
    // deployments already).
    let repo = ctx.repo();
    let mut doomed: Vec<String> = Vec::new();
    for r in records {
        let c = r.commit.to_hex();
        if !kept_commits.contains(&c)
            && !doomed.contains(&c)
            && materializer::commit_exists(&repo, &c).unwrap_or(false)
        {
            doomed.push(c);
        }
    }
    let debs = ctx.store()?.gc_debs(&keep_debs, dry_run)?;
    let ostree = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        machine::run_ostree(machine::ErrorKind::Ostree, &machine::ostree_args(args), &[])
    };
    let mut repo_flag = std::ffi::OsString::from("--repo=");
    repo_flag.push(&repo);
    if !dry_run {
        // Recorded first: `txn verify` then knows these commits were removed on purpose.
        let mut pruned = pruned_commits(&ctx.state().root);
        pruned.extend(doomed.iter().cloned());
        let list: String = pruned.iter().map(|c| format!("{c}\n")).collect();
        let path = ctx.state().root.join(PRUNED);
        store::write_atomic(&path, list.as_bytes()).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not write {}: {e}", path.display()),
            )
        })?;
        for c in &doomed {
            ostree(&[&repo_flag, &"prune", &format!("--delete-commit={c}")])?;
        }
        match &ctx.state().machine {
            Some(m) => {
                let mut sysroot = std::ffi::OsString::from("--sysroot=");
                sysroot.push(&m.sysroot);
                ostree(&[&"admin", &"cleanup", &sysroot])?;
            }
            None => {
                ostree(&[&repo_flag, &"prune"])?;
            }
        }
        for c in &kept_commits {
            if !materializer::commit_exists(&repo, c).unwrap_or(true) && !doomed.contains(c) {
                let on_machine = ctx.state().machine.is_some();
                // On a machine ostree may have pruned a kept record's commit with its deployment
                // before; on a build host a kept commit must survive.
                if !on_machine {
                    return Err(Error::new(
                        ErrorKind::Internal,
                        format!("gc removed commit {c}, which it meant to keep"),
                    ));
                }
            }
        }
    }
    Ok(GcReport {
        dry_run,
        keep,
        kept_transactions: kept,
        removed_commits: doomed,
        removed_debs: debs.removed,
        removed_deb_bytes: debs.bytes,
        kept_debs: debs.kept,
    })
}
