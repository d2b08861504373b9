//! `particle gc [--keep N] [--dry-run]`: removes the commits and cached `.deb`s that neither a
//! variant's head, a deployment, nor the last N transactions need. The journal is never pruned:
//! any removed state is rebuilt from it (`txn rollback --to`, `replay`). On a machine the
//! deployments are ostree's (it keeps the booted, the staged, the default and the rollback
//! one); `ostree admin cleanup` removes the rest with their `/boot` files and objects.
//! [`Session::du`] (`particle du`) measures the space used by what `gc` can free.

use crate::session::Session;
use crate::{Error, ErrorKind, Result};
use std::collections::{BTreeSet, HashSet};
use std::os::unix::fs::MetadataExt;
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

/// Bytes (allocated blocks) and files: what one part of a state directory uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub files: u64,
}

/// What a machine's deployment holds beyond the objects it shares with the repository (its own
/// `/etc`, its directories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentUsage {
    /// Boot order: 0 is the default for the next boot.
    pub index: i32,
    pub commit: String,
    /// The particle transaction its commit was built from.
    pub txn: Option<u64>,
    pub own: Usage,
}

/// The space a state directory (and, on a machine, its sysroot) uses, by what `gc` can free.
/// Every inode is counted once, in the first part that has it (in this order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuReport {
    /// The journal (never removed).
    pub journal: Usage,
    /// Cached `.deb`s (`gc` removes those no kept transaction needs).
    pub debs: Usage,
    /// The rest of the store: snapshots and indices.
    pub store: Usage,
    /// The OSTree repository's objects (hard links counted once).
    pub repository: Usage,
    /// A machine's `/boot`; `None` elsewhere.
    pub boot: Option<Usage>,
    /// A machine's deployments, in boot order (none elsewhere).
    pub deployments: Vec<DeploymentUsage>,
}

impl Session {
    /// The space used: the journal, cached `.deb`s, the rest of the store, the repository's
    /// objects; on a machine also `/boot` and what each deployment holds of its own.
    pub fn du(&self) -> Result<DuReport> {
        let root = &self.state().root;
        let mut seen = HashSet::new();
        let journal = usage(&root.join("journal"), &mut seen, false);
        let store = self.store()?;
        // A dry run that keeps nothing counts every cached .deb.
        let gc = store.gc_debs(&Default::default(), true)?;
        let debs = Usage {
            bytes: gc.bytes,
            files: gc.removed as u64,
        };
        let objects = usage(&root.join("store"), &mut seen, false);
        let store = Usage {
            bytes: objects.bytes.saturating_sub(debs.bytes),
            files: objects.files.saturating_sub(debs.files),
        };
        let repository = usage(&self.repo().join("objects"), &mut seen, false);
        let (mut boot, mut deployments) = (None, Vec::new());
        if let Some(m) = &self.state().machine {
            boot = Some(usage(&m.sysroot.join("boot"), &mut seen, false));
            for d in machine::deployments(&m.sysroot)? {
                let own = usage(&d.path, &mut seen, true);
                deployments.push(DeploymentUsage {
                    index: d.index,
                    commit: d.commit,
                    txn: d.txn,
                    own,
                });
            }
        }
        Ok(DuReport {
            journal,
            debs,
            store,
            repository,
            boot,
            deployments,
        })
    }
}

/// Bytes and files under `dir`, each inode once (`seen` is shared between calls, so a hard
/// link counted once is not counted again); with `own_only`, only files with one link.
fn usage(dir: &Path, seen: &mut HashSet<(u64, u64)>, own_only: bool) -> Usage {
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
    Usage { bytes, files }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_each_inode_once() {
        let d = tempfile::tempdir().expect("tempdir");
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::create_dir_all(a.join("sub")).expect("mkdir");
        std::fs::create_dir_all(&b).expect("mkdir");
        std::fs::write(a.join("sub/file"), vec![7u8; 10_000]).expect("write");
        std::fs::write(a.join("own"), vec![7u8; 100]).expect("write");
        std::fs::hard_link(a.join("sub/file"), a.join("link")).expect("link");
        std::fs::hard_link(a.join("sub/file"), b.join("link")).expect("link");
        let block = |p: &Path| std::fs::symlink_metadata(p).expect("stat").blocks() * 512;
        let mut seen = HashSet::new();
        let all = usage(&a, &mut seen, false);
        // sub, sub/file (once for its two names), own.
        assert_eq!(all.files, 3);
        assert_eq!(
            all.bytes,
            block(&a.join("sub")) + block(&a.join("sub/file")) + block(&a.join("own"))
        );
        // Already counted under a: nothing again.
        assert_eq!(usage(&b, &mut seen, false), Usage::default());
        // Only what has one link: the directory and `own`, not the linked file.
        let own = usage(&a, &mut HashSet::new(), true);
        assert_eq!(own.files, 2);
        assert_eq!(own.bytes, block(&a.join("sub")) + block(&a.join("own")));
        assert_eq!(
            usage(&d.path().join("missing"), &mut HashSet::new(), false),
            Usage::default()
        );
    }
}
