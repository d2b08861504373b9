//! `particle du`: the space a state directory (and, on a machine, its sysroot) uses, by what
//! `gc` can free: the journal (never removed), cached `.deb`s, the repository's objects (hard
//! links counted once), and on a machine `/boot` and what each deployment holds beyond the
//! objects it shares with the repository (its own `/etc`, its directories).

use crate::output::{print_json, table};
use engine::Session;
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes and files under `dir`, each inode once (`seen` is shared between calls, so a hard
/// link counted once is not counted again); with `own_only`, only files with one link.
fn usage(dir: &Path, seen: &mut HashSet<(u64, u64)>, own_only: bool) -> (u64, u64) {
    let (mut bytes, mut files) = (0, 0);
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            }
            if own_only && !m.is_dir() && m.nlink() > 1 {
                continue;
            }
            if seen.insert((m.dev(), m.ino())) {
                bytes += m.blocks() * 512;
                files += 1;
            }
        }
    }
    (bytes, files)
}

pub(crate) fn du(root: &Path, json: bool) -> anyhow::Result<()> {
    let ctx = Session::read(root)?;
    let mut seen = HashSet::new();
    let mut rows: Vec<(String, u64, u64)> = Vec::new();
    let journal = usage(&ctx.state().root.join("journal"), &mut seen, false);
    rows.push(("journal".into(), journal.0, journal.1));
    let store = ctx.store()?;
    // A dry run that keeps nothing counts every cached .deb.
    let debs = store.gc_debs(&Default::default(), true)?;
    rows.push(("cached .debs".into(), debs.bytes, debs.removed as u64));
    let objects = usage(&ctx.state().root.join("store"), &mut seen, false);
    rows.push((
        "store (snapshots, indices)".into(),
        objects.0.saturating_sub(debs.bytes),
        objects.1.saturating_sub(debs.removed as u64),
    ));
    let repo = usage(&ctx.repo().join("objects"), &mut seen, false);
    rows.push(("repository objects".into(), repo.0, repo.1));
    let mut deployments = Vec::new();
    if let Some(m) = &ctx.state().machine {
        let boot = usage(&m.sysroot.join("boot"), &mut seen, false);
        rows.push(("/boot".into(), boot.0, boot.1));
        for d in machine::deployments(&m.sysroot)? {
            let own = usage(&d.path, &mut seen, true);
            rows.push((
                format!(
                    "deployment {} ({})",
                    d.index,
                    &d.commit[..d.commit.len().min(12)]
                ),
                own.0,
                own.1,
            ));
            deployments.push(serde_json::json!({
                "index": d.index, "commit": d.commit, "txn": d.txn, "own_bytes": own.0,
            }));
        }
    }
    if json {
        let by_name = |n: &str| rows.iter().find(|r| r.0 == n).map_or(0, |r| r.1);
        return print_json(&serde_json::json!({
            "journal_bytes": by_name("journal"),
            "deb_bytes": debs.bytes,
            "debs": debs.removed,
            "repository_bytes": by_name("repository objects"),
            "boot_bytes": ctx.state().machine.as_ref().map(|_| by_name("/boot")),
            "deployments": deployments,
        }));
    }
    let mut out = vec![vec![
        "WHAT".to_owned(),
        "SIZE".to_owned(),
        "FILES".to_owned(),
    ]];
    for (what, bytes, files) in &rows {
        out.push(vec![
            what.clone(),
            crate::txn::human_bytes(*bytes),
            files.to_string(),
        ]);
    }
    print!("{}", table(&out));
    Ok(())
}

/// `particle gc [--keep N] [--dry-run]`: see [`engine::gc`].
pub(crate) fn gc(
    root: &Path,
    keep: u64,
    dry_run: bool,
    json: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let session = Session::write(root, &crate::progress::Reporter::new(!quiet && !json))?;
    let r = session.gc(keep, dry_run)?;
    if json {
        return print_json(&serde_json::json!({
            "dry_run": r.dry_run,
            "keep": r.keep,
            "kept_transactions": r.kept_transactions,
            "removed": {
                "commits": r.removed_commits,
                "debs": r.removed_debs,
                "deb_bytes": r.removed_deb_bytes,
            },
            "kept_debs": r.kept_debs,
        }));
    }
    if !quiet {
        eprintln!(
            "{} {} commit(s) and {} cached .deb(s) ({}); kept transactions {} and {} .deb(s); the journal keeps every state",
            if dry_run { "would remove" } else { "removed" },
            r.removed_commits.len(),
            r.removed_debs,
            crate::txn::human_bytes(r.removed_deb_bytes),
            r.kept_transactions
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            r.kept_debs
        );
    }
    Ok(())
}
