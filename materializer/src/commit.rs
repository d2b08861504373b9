//! The OSTree side: creating the bare-user repository, committing a laid-out tree, refs and
//! checks. Commits keep owners and setuid/setgid bits (bare-user records them; no
//! `CANONICAL_PERMISSIONS`), keep only the extended attributes `layout::strip_xattrs` leaves
//! (file capabilities; host-independent), skip `/dev`'s contents,
//! and take their timestamp from the transaction, so the same tree and metadata give the same
//! checksum on any machine.

use ostree::gio::prelude::*;
use ostree::{gio, glib};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use store::CommitId;

/// Why an OSTree repository operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("could not {action} the OSTree repository {repo}")]
    Repo {
        action: &'static str,
        repo: PathBuf,
        #[source]
        source: glib::Error,
    },
    #[error("could not create the directory {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("commit {commit} in {repo} is corrupt: object {object} failed verification")]
    Corrupt {
        repo: PathBuf,
        commit: String,
        object: String,
        #[source]
        source: glib::Error,
    },
}

fn repo_err(action: &'static str, repo: &Path) -> impl FnOnce(glib::Error) -> RepoError {
    let repo = repo.to_owned();
    move |source| RepoError::Repo {
        action,
        repo,
        source,
    }
}

/// The branch a variant's commits live on.
pub fn variant_ref(variant: &str) -> String {
    format!("particle-os/{variant}")
}

/// Creates a `bare-user` repository at `path` (an existing repository is left as it is).
pub fn init_repo(path: &Path) -> Result<(), RepoError> {
    if path.join("config").exists() {
        open(path)?;
        return Ok(());
    }
    std::fs::create_dir_all(path).map_err(|source| RepoError::Create {
        path: path.to_owned(),
        source,
    })?;
    let repo = ostree::Repo::new_for_path(path);
    repo.create(ostree::RepoMode::BareUser, gio::Cancellable::NONE)
        .map_err(repo_err("create", path))
}

pub(crate) fn open(path: &Path) -> Result<ostree::Repo, RepoError> {
    let repo = ostree::Repo::new_for_path(path);
    repo.open(gio::Cancellable::NONE)
        .map_err(repo_err("open", path))?;
    Ok(repo)
}

/// Points `particle-os/<variant>` at `commit`.
pub fn set_ref(repo: &Path, variant: &str, commit: &str) -> Result<(), RepoError> {
    let r = open(repo)?;
    r.set_ref_immediate(
        None,
        &variant_ref(variant),
        Some(commit),
        gio::Cancellable::NONE,
    )
    .map_err(repo_err("set a ref in", repo))
}

/// The commit `particle-os/<variant>` points at, if any.
pub fn resolve_ref(repo: &Path, variant: &str) -> Result<Option<String>, RepoError> {
    let r = open(repo)?;
    let rev = r
        .resolve_rev(&variant_ref(variant), true)
        .map_err(repo_err("resolve a ref in", repo))?;
    Ok(rev.map(|s| s.to_string()))
}

/// Whether the repository holds commit `commit`.
pub fn commit_exists(repo: &Path, commit: &str) -> Result<bool, RepoError> {
    let r = open(repo)?;
    r.has_object(ostree::ObjectType::Commit, commit, gio::Cancellable::NONE)
        .map_err(repo_err("look up a commit in", repo))
}

/// The parent `commit` names, if it names one (the parent's object may be absent).
pub fn commit_parent(repo: &Path, commit: &str) -> Result<Option<String>, RepoError> {
    let r = open(repo)?;
    let v = r
        .load_variant(ostree::ObjectType::Commit, commit)
        .map_err(repo_err("read a commit in", repo))?;
    Ok(ostree::commit_get_parent(&v).map(|p| p.to_string()))
}

/// Verifies every object reachable from `commit` (its checksum against its content); returns
/// how many objects were checked.
pub fn fsck(repo: &Path, commit: &str) -> Result<usize, RepoError> {
    let r = open(repo)?;
    let objects = r
        .traverse_commit(commit, 0, gio::Cancellable::NONE)
        .map_err(repo_err("traverse a commit in", repo))?;
    let mut sorted: Vec<_> = objects.into_iter().collect();
    sorted.sort_by(|a, b| a.checksum().cmp(b.checksum()));
    for o in &sorted {
        r.fsck_object(o.object_type(), o.checksum(), gio::Cancellable::NONE)
            .map_err(|source| RepoError::Corrupt {
                repo: repo.to_owned(),
                commit: commit.to_owned(),
                object: format!("{}.{:?}", o.checksum(), o.object_type()),
                source,
            })?;
    }
    Ok(sorted.len())
}

/// What goes into a commit besides the tree.
#[derive(Debug, Clone)]
pub(crate) struct CommitMeta<'a> {
    pub(crate) parent: Option<&'a str>,
    pub(crate) subject: String,
    pub(crate) time: u64,
    /// String-valued metadata (numbers as strings: the ostree CLI shows integers byte-swapped).
    pub(crate) strings: BTreeMap<&'static str, String>,
    pub(crate) inrelease: &'a BTreeMap<String, String>,
}

/// Commits `tree` into `repo`; moves no ref.
pub(crate) fn commit_tree(
    repo: &Path,
    tree: &Path,
    meta: &CommitMeta<'_>,
    from_base: Option<&crate::known::FromBase>,
) -> Result<CommitId, RepoError> {
    let r = open(repo)?;
    r.prepare_transaction(gio::Cancellable::NONE)
        .map_err(repo_err("start a transaction in", repo))?;
    let result = write(&r, repo, tree, meta, from_base);
    match result {
        Ok(commit) => {
            r.commit_transaction(gio::Cancellable::NONE)
                .map_err(repo_err("finish a transaction in", repo))?;
            crate::hook::point("committed");
            Ok(commit)
        }
        Err(e) => {
            let _ = r.abort_transaction(gio::Cancellable::NONE);
            Err(e)
        }
    }
}

fn write(
    r: &ostree::Repo,
    repo: &Path,
    tree: &Path,
    meta: &CommitMeta<'_>,
    from_base: Option<&crate::known::FromBase>,
) -> Result<CommitId, RepoError> {
    use crate::known::FromBase;
    let filter = |_: &ostree::Repo, path: &str, _: &gio::FileInfo| {
        if path.starts_with("/dev/") {
            ostree::RepoCommitFilterResult::Skip
        } else {
            ostree::RepoCommitFilterResult::Allow
        }
    };
    let modifier = ostree::RepoCommitModifier::new(
        ostree::RepoCommitModifierFlags::NONE,
        Some(Box::new(filter)),
    );
    let mtree = ostree::MutableTree::new();
    match from_base {
        // Built on a commit: files the checkout wrote and nothing changed keep their checksum.
        Some(FromBase::Copy(known)) => crate::known::write_tree(r, tree, "", &mtree, known),
        // Built on an overlay: what its upper layer does not hold is the base's.
        Some(FromBase::Overlay { base, upper }) => {
            crate::overlay::write_tree(r, base, tree, upper, &mtree)
        }
        None => r.write_directory_to_mtree(
            &gio::File::for_path(tree),
            &mtree,
            Some(&modifier),
            gio::Cancellable::NONE,
        ),
    }
    .map_err(repo_err("write the tree into", repo))?;
    let root = r
        .write_mtree(&mtree, gio::Cancellable::NONE)
        .map_err(repo_err("write the tree into", repo))?;
    let root = root
        .downcast::<ostree::RepoFile>()
        .map_err(|_| RepoError::Repo {
            action: "get the root of the written tree in",
            repo: repo.to_owned(),
            source: glib::Error::new(
                gio::IOErrorEnum::Failed,
                "write_mtree did not return a RepoFile",
            ),
        })?;
    crate::hook::point("ostree-objects");
    let dict = glib::VariantDict::new(None);
    for (k, v) in &meta.strings {
        dict.insert(k, v.as_str());
    }
    dict.insert_value(
        "particle.inrelease",
        &glib::prelude::ToVariant::to_variant(meta.inrelease),
    );
    let metadata = dict.end();
    let commit = r
        .write_commit_with_time(
            meta.parent,
            Some(&meta.subject),
            None,
            Some(&metadata),
            &root,
            meta.time,
            gio::Cancellable::NONE,
        )
        .map_err(repo_err("write a commit into", repo))?;
    CommitId::from_hex(&commit).map_err(|e| RepoError::Repo {
        action: "read the new commit's checksum from",
        repo: repo.to_owned(),
        source: glib::Error::new(gio::IOErrorEnum::InvalidData, &e.to_string()),
    })
}

/// Checks `commit` out into `dest` (which must not exist) as plain copies with their owners and
/// modes (running as root), never as hard links into the repository: maintainer scripts will
/// change files in place, and the objects must not change with them.
pub(crate) fn checkout(repo: &Path, commit: &str, dest: &Path) -> Result<(), RepoError> {
    let options = ostree::RepoCheckoutAtOptions {
        force_copy: true,
        ..Default::default()
    };
    checkout_at(&open(repo)?, commit, dest, &options)
        .map_err(repo_err("check out a commit from", repo))
}

/// Checks `commit` out into `dest` (which must not exist) with `options`.
pub(crate) fn checkout_at(
    r: &ostree::Repo,
    commit: &str,
    dest: &Path,
    options: &ostree::RepoCheckoutAtOptions,
) -> Result<(), glib::Error> {
    use std::os::fd::AsRawFd;
    r.checkout_at(
        Some(options),
        rustix::fs::CWD.as_raw_fd(),
        dest,
        commit,
        gio::Cancellable::NONE,
    )
}

/// A commit's string metadata (for checks and replay).
pub fn commit_metadata(repo: &Path, commit: &str) -> Result<BTreeMap<String, String>, RepoError> {
    let r = open(repo)?;
    let (v, _) = r
        .load_commit(commit)
        .map_err(repo_err("load a commit from", repo))?;
    let dict = glib::VariantDict::new(Some(&v.child_value(0)));
    let mut out = BTreeMap::new();
    for entry in v.child_value(0).iter() {
        let key = entry.child_value(0).str().map(str::to_owned);
        if let Some(key) = key {
            if let Some(val) = dict
                .lookup_value(&key, None)
                .and_then(|x| x.str().map(str::to_owned))
            {
                out.insert(key, val);
            }
        }
    }
    Ok(out)
}
