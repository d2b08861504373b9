//! `particle gc [--keep N] [--dry-run]`: removes the commits and cached `.deb`s that neither a
//! variant's head, a deployment, nor the last N transactions need. The journal is never pruned:
//! any removed state is rebuilt from it (`txn rollback --to`, `replay`). On a machine the
//! deployments are ostree's (it keeps the booted, the staged, the default and the rollback
//! one); `ostree admin cleanup` removes the rest with their `/boot` files and objects.

use crate::ctx::Ctx;
use crate::error::CliError;
use crate::output::print_json;
use engine::ErrorKind;
use std::collections::BTreeSet;
use std::path::Path;

/// The commits `gc` removed, one per line, in the state directory.
const PRUNED: &str = "pruned-commits";

/// The commits `gc` removed from this state directory's repository.
pub(crate) fn pruned_commits(root: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(root.join(PRUNED))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn gc(
    root: &Path,
    keep: u64,
    dry_run: bool,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let ctx = Ctx::write(root, quiet || json)?;
    let history = ctx.journal.history();
    let records = ctx.journal.records();
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
    if let Some(m) = &ctx.state.machine {
        for d in machine::deployments(&m.sysroot).map_err(crate::deliver::machine_err)? {
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
            .map_err(crate::deliver::machine_err)
    };
    let mut repo_flag = std::ffi::OsString::from("--repo=");
    repo_flag.push(&repo);
    if !dry_run {
        // Recorded first: `txn verify` then knows these commits were removed on purpose.
        let mut pruned = pruned_commits(&ctx.state.root);
        pruned.extend(doomed.iter().cloned());
        let list: String = pruned.iter().map(|c| format!("{c}\n")).collect();
        let path = ctx.state.root.join(PRUNED);
        store::write_atomic(&path, list.as_bytes()).map_err(|e| {
            CliError::new(
                ErrorKind::Io,
                format!("could not write {}: {e}", path.display()),
            )
        })?;
        for c in &doomed {
            ostree(&[&repo_flag, &"prune", &format!("--delete-commit={c}")])?;
        }
        match &ctx.state.machine {
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
                let on_machine = ctx.state.machine.is_some();
                // On a machine ostree may have pruned a kept record's commit with its deployment
                // before; on a build host a kept commit must survive.
                if !on_machine {
                    return Err(CliError::new(
                        ErrorKind::Internal,
                        format!("gc removed commit {c}, which it meant to keep"),
                    )
                    .into());
                }
            }
        }
    }
    if json {
        return print_json(&serde_json::json!({
            "dry_run": dry_run,
            "keep": keep,
            "kept_transactions": kept,
            "removed": {
                "commits": doomed,
                "debs": debs.removed,
                "deb_bytes": debs.bytes,
            },
            "kept_debs": debs.kept,
        }));
    }
    if !quiet {
        eprintln!(
            "{} {} commit(s) and {} cached .deb(s) ({}); kept transactions {} and {} .deb(s); the journal keeps every state",
            if dry_run { "would remove" } else { "removed" },
            doomed.len(),
            debs.removed,
            crate::txn::human_bytes(debs.bytes),
            kept.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            debs.kept
        );
    }
    Ok(())
}
