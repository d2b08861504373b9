//! `particle du` and `particle gc` as the command line shows them. `du`: the space a state
//! directory (and, on a machine, its sysroot) uses, by what `gc` can free: the journal (never
//! removed), cached `.deb`s, the repository's objects (hard links counted once), and on a
//! machine `/boot` and what each deployment holds beyond the objects it shares with the
//! repository (its own `/etc`, its directories); [`engine::Session::du`] measures it.

use crate::output::{print_json, table};
use engine::Session;
use std::path::Path;

pub(crate) fn du(root: &Path, json: bool) -> anyhow::Result<()> {
    let r = Session::read(root)?.du()?;
    if json {
        return print_json(&serde_json::json!({
            "journal_bytes": r.journal.bytes, "deb_bytes": r.debs.bytes, "debs": r.debs.files,
            "repository_bytes": r.repository.bytes, "boot_bytes": r.boot.map(|b| b.bytes),
            "deployments": r.deployments.iter().map(|d| serde_json::json!({
                "index": d.index, "commit": d.commit, "txn": d.txn, "own_bytes": d.own.bytes,
            })).collect::<Vec<_>>(),
        }));
    }
    let mut rows = vec![
        ("journal".to_owned(), r.journal),
        ("cached .debs".to_owned(), r.debs),
        ("store (snapshots, indices)".to_owned(), r.store),
        ("repository objects".to_owned(), r.repository),
    ];
    rows.extend(r.boot.map(|b| ("/boot".to_owned(), b)));
    for d in &r.deployments {
        let commit = &d.commit[..d.commit.len().min(12)];
        rows.push((format!("deployment {} ({commit})", d.index), d.own));
    }
    let mut out = vec![vec![
        "WHAT".to_owned(),
        "SIZE".to_owned(),
        "FILES".to_owned(),
    ]];
    for (what, u) in &rows {
        out.push(vec![
            what.clone(),
            crate::output::human_bytes(u.bytes),
            u.files.to_string(),
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
            "dry_run": r.dry_run, "keep": r.keep, "kept_transactions": r.kept_transactions,
            "removed": {
                "commits": r.removed_commits, "debs": r.removed_debs,
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
            crate::output::human_bytes(r.removed_deb_bytes),
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
