//! Building on a commit without copying it: the base commit's files are the lower layer of an
//! overlay mount, and whatever the build writes (dpkg, maintainer scripts, the layout) lands in
//! its upper layer.
//!
//! The lower layer is a hard-link checkout: its files are the repository's objects. A build
//! that wrote into them in place (a script appending to a file) would change the objects, so
//! they are never written: the overlay copies a file up before anything changes it, and the
//! lower layer stays what the commit says. Committing then reads only what the upper layer
//! holds. A directory with no upper part keeps the base's dirtree and a file with no upper part
//! the base's checksum, looked up by the path it has in the lower layer (overlay's
//! `redirect` attribute says where a renamed directory came from). The work is proportional to
//! the change, not to the tree: on a booted machine it replaces copying ~30,000 files.
//!
//! Used where it can be (see [`mount`]): running as root and a `bare` repository (a sysroot's:
//! the build host's `bare-user` objects keep their owners in an extended attribute and cannot
//! be linked as they are). The lower layer is a deployment of the base commit the caller names
//! ([`crate::Options::base_checkout`], its `/etc` hidden) or, when the work directory is on the
//! repository's file system, a hard-link checkout made for the build. Anywhere else the build copies the
//! base as before; both ways give the same commit (`tests/it/incremental.rs`).
//!
//! The mount never outlives the build: [`teardown`] unmounts and removes the layers after it and
//! before the next one (after a crash).

use crate::known::{
    io_to_glib, sorted_names, utf8_name, write_dir_meta, write_file,
    write_tree as write_whole_tree, KnownFiles,
};
use crate::materialize::{io_err, MaterializeError};
use ostree::glib;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the layers live under the work directory.
const LAYERS: &str = "overlay";

/// The overlay's options beyond its directories: renamed directories recorded as redirects
/// (the layout moves `/usr/etc` and `/var`'s directories), no metadata-only copy-up (an upper
/// file always holds its data), no inode index.
const OPTIONS: &str = "redirect_dir=on,metacopy=off,index=off";

/// A dirtree: files (name → content checksum) and directories (name → contents and metadata
/// checksums).
#[derive(Debug, Default)]
struct DirTree {
    files: BTreeMap<String, String>,
    dirs: BTreeMap<String, (String, String)>,
}

fn load(r: &ostree::Repo, contents: &str) -> Result<DirTree, glib::Error> {
    let v = r.load_variant(ostree::ObjectType::DirTree, contents)?;
    let mut t = DirTree::default();
    for f in v.child_value(0).iter() {
        if let Some(name) = f.child_value(0).str() {
            t.files.insert(
                name.to_owned(),
                hex::encode(f.child_value(1).data_as_bytes()),
            );
        }
    }
    for d in v.child_value(1).iter() {
        if let Some(name) = d.child_value(0).str() {
            t.dirs.insert(
                name.to_owned(),
                (
                    hex::encode(d.child_value(1).data_as_bytes()),
                    hex::encode(d.child_value(2).data_as_bytes()),
                ),
            );
        }
    }
    Ok(t)
}

/// The root dirtree (contents, metadata) of `commit`.
fn root_of(r: &ostree::Repo, commit: &str) -> Result<(String, String), glib::Error> {
    let v = r.load_variant(ostree::ObjectType::Commit, commit)?;
    Ok((
        hex::encode(v.child_value(6).data_as_bytes()),
        hex::encode(v.child_value(7).data_as_bytes()),
    ))
}

/// Removes a build's work directory `work_dir`, unmounting the overlay a build killed while it
/// ran left there (removing through the mount would only hide the lower layer's files).
pub fn remove_work_dir(work_dir: &Path) -> Result<(), MaterializeError> {
    teardown(work_dir)?;
    std::fs::remove_dir_all(work_dir).map_err(io_err("remove", work_dir))
}

/// Unmounts the build's overlay if one is mounted at `work_dir/tree` and removes its layers.
pub(crate) fn teardown(work_dir: &Path) -> Result<(), MaterializeError> {
    let tree = work_dir.join("tree");
    if let (Ok(t), Ok(w)) = (tree.symlink_metadata(), work_dir.symlink_metadata()) {
        if t.is_dir() && t.dev() != w.dev() {
            rustix::mount::unmount(&tree, rustix::mount::UnmountFlags::DETACH)
                .map_err(|e| io_err("unmount the build's overlay at", &tree)(e.into()))?;
        }
    }
    let layers = work_dir.join(LAYERS);
    if layers.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&layers).map_err(io_err("remove the overlay's layers", &layers))?;
    }
    Ok(())
}

/// Mounts an overlay of commit `base` at `tree` (an empty directory under `work_dir`) and
/// returns its upper layer, or says why it cannot (the caller copies the base instead).
pub(crate) fn mount(
    repo: &Path,
    base: &str,
    work_dir: &Path,
    tree: &Path,
    base_checkout: Option<&Path>,
) -> Result<Result<PathBuf, &'static str>, MaterializeError> {
    if !rustix::process::geteuid().is_root() {
        return Ok(Err("not running as root"));
    }
    let r = crate::commit::open(repo)?;
    if r.mode() != ostree::RepoMode::Bare {
        return Ok(Err("the repository is not in bare mode"));
    }
    let layers = work_dir.join(LAYERS);
    let (upper, work) = (layers.join("upper"), layers.join("work"));
    for d in [&upper, &work] {
        std::fs::create_dir_all(d).map_err(io_err("create", d))?;
    }
    let repo_err = |source| crate::commit::RepoError::Repo {
        action: "read the base commit's tree in",
        repo: repo.to_owned(),
        source,
    };
    let root = load(&r, &root_of(&r, base).map_err(repo_err)?.0).map_err(repo_err)?;
    let lower = match base_checkout.map(|d| hidden_entries(d, &root)) {
        Some(Ok(hide)) => {
            // A deployment: its own top-level entries (`/etc`) are whited out.
            for name in hide {
                let w = upper.join(name);
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    &w,
                    rustix::fs::FileType::CharacterDevice,
                    rustix::fs::Mode::empty(),
                    0,
                )
                .map_err(|e| io_err("create a whiteout at", &w)(e.into()))?;
            }
            base_checkout.map(Path::to_owned)
        }
        _ => None,
    };
    let lower = match lower {
        Some(l) => l,
        None => {
            let same_fs = match (repo.join("objects").metadata(), work_dir.metadata()) {
                (Ok(a), Ok(b)) => a.dev() == b.dev(),
                _ => false,
            };
            if !same_fs {
                std::fs::remove_dir_all(&layers).map_err(io_err("remove", &layers))?;
                return Ok(Err(
                    "no deployment of the base, and the work directory is not on the repository's file system",
                ));
            }
            let lower = layers.join("lower");
            if let Err(why) = link_checkout(&r, base, &lower) {
                std::fs::remove_dir_all(&layers).map_err(io_err("remove", &layers))?;
                return Ok(Err(why));
            }
            lower
        }
    };
    let paths = [&lower, &upper, &work];
    if paths
        .iter()
        .any(|p| p.to_str().is_none_or(|s| s.contains([',', ':', '\\'])))
    {
        std::fs::remove_dir_all(&layers).map_err(io_err("remove", &layers))?;
        return Ok(Err("a layer's path cannot be given to overlayfs"));
    }
    let data = format!(
        "lowerdir={},upperdir={},workdir={},{OPTIONS}",
        lower.display(),
        upper.display(),
        work.display()
    );
    let data = std::ffi::CString::new(data).expect("no NUL in checked paths");
    if rustix::mount::mount(
        "particle-build",
        tree,
        "overlay",
        rustix::mount::MountFlags::NOSUID | rustix::mount::MountFlags::NODEV,
        data.as_c_str(),
    )
    .is_err()
    {
        std::fs::remove_dir_all(&layers).map_err(io_err("remove", &layers))?;
        return Ok(Err("the kernel refused the overlay mount"));
    }
    Ok(Ok(upper))
}

/// The top-level entries of `dir` that the commit's root does not have; an error if the
/// commit's root has an entry `dir` lacks (then it is not a checkout of that commit).
fn hidden_entries(dir: &Path, root: &DirTree) -> Result<Vec<String>, ()> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|_| ())? {
        let name = e.map_err(|_| ())?.file_name();
        names.push(name.into_string().map_err(|_| ())?);
    }
    if root
        .files
        .keys()
        .chain(root.dirs.keys())
        .any(|n| !names.contains(n))
    {
        return Err(());
    }
    names.retain(|n| !root.files.contains_key(n) && !root.dirs.contains_key(n));
    Ok(names)
}

/// Checks `commit` out at `dest` as hard links into the repository (nothing copied).
fn link_checkout(r: &ostree::Repo, commit: &str, dest: &Path) -> Result<(), &'static str> {
    let options = ostree::RepoCheckoutAtOptions {
        no_copy_fallback: true,
        ..Default::default()
    };
    crate::commit::checkout_at(r, commit, dest, &options)
        .map_err(|_| "the base commit cannot be checked out as hard links")
}

/// Writes the overlay mounted at `merged` (upper layer `upper`) over commit `base` into `mtree`.
pub(crate) fn write_tree(
    r: &ostree::Repo,
    base: &str,
    merged: &Path,
    upper: &Path,
    mtree: &ostree::MutableTree,
) -> Result<(), glib::Error> {
    let root = root_of(r, base)?;
    let walk = Walk { r, root: &root };
    walk.dir(merged, upper, "", Some(&root.0), mtree)
}

struct Walk<'a> {
    r: &'a ostree::Repo,
    /// The base commit's root (contents, metadata).
    root: &'a (String, String),
}

impl Walk<'_> {
    /// One directory with an upper part; `lower` is the dirtree it shows from the lower layer
    /// (none for a new or opaque directory).
    fn dir(
        &self,
        merged: &Path,
        upper: &Path,
        rel: &str,
        lower: Option<&str>,
        mtree: &ostree::MutableTree,
    ) -> Result<(), glib::Error> {
        if !write_dir_meta(self.r, merged, rel, mtree)? {
            return Ok(());
        }
        let lower = lower.map(|c| load(self.r, c)).transpose()?;
        for name in sorted_names(merged)? {
            let path = merged.join(&name);
            let up = upper.join(&name);
            let name = utf8_name(&name, &path)?;
            let child_rel = format!("{rel}/{name}");
            let meta = std::fs::symlink_metadata(&path).map_err(io_to_glib)?;
            let in_upper = match up.symlink_metadata() {
                Ok(_) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(io_to_glib(e)),
            };
            let from_lower = lower.as_ref().filter(|_| !in_upper);
            if meta.is_dir() {
                let child = mtree.ensure_dir(name)?;
                if in_upper {
                    let below = self.lower_of(&up, name, lower.as_ref())?;
                    self.dir(&path, &up, &child_rel, below.as_deref(), &child)?;
                } else if let Some((c, m)) = from_lower.and_then(|l| l.dirs.get(name)) {
                    child.fill_empty_from_dirtree(self.r, c, m);
                } else {
                    // Not where the lower layer should have it: read it whole.
                    write_whole_tree(self.r, &path, &child_rel, &child, &KnownFiles::default())?;
                }
            } else if let Some(c) = from_lower.and_then(|l| l.files.get(name)) {
                mtree.replace_file(name, c)?;
            } else {
                mtree.replace_file(name, &write_file(self.r, &path, &meta)?)?;
            }
        }
        Ok(())
    }

    /// The lower dirtree an upper directory `up` (named `name` in a directory showing `parent`)
    /// shows: where its redirect points, its own name in the parent otherwise, none if opaque.
    fn lower_of(
        &self,
        up: &Path,
        name: &str,
        parent: Option<&DirTree>,
    ) -> Result<Option<String>, glib::Error> {
        if overlay_xattr(up, "trusted.overlay.opaque")?.as_deref() == Some(b"y") {
            return Ok(None);
        }
        match overlay_xattr(up, "trusted.overlay.redirect")? {
            Some(to) if to.starts_with(b"/") => {
                let to = String::from_utf8_lossy(&to).into_owned();
                let mut at = self.root.0.clone();
                for part in to.split('/').filter(|p| !p.is_empty()) {
                    match load(self.r, &at)?.dirs.remove(part) {
                        Some((c, _)) => at = c,
                        None => return Ok(None),
                    }
                }
                Ok(Some(at))
            }
            Some(to) => {
                let to = String::from_utf8_lossy(&to);
                Ok(parent
                    .and_then(|p| p.dirs.get(to.as_ref()))
                    .map(|d| d.0.clone()))
            }
            None => Ok(parent.and_then(|p| p.dirs.get(name)).map(|d| d.0.clone())),
        }
    }
}

/// One of overlay's own attributes of an upper-layer directory.
fn overlay_xattr(path: &Path, name: &str) -> Result<Option<Vec<u8>>, glib::Error> {
    let mut value = vec![0u8; 4096];
    match rustix::fs::lgetxattr(path, name, &mut value[..]) {
        Ok(n) => {
            value.truncate(n);
            Ok(Some(value))
        }
        Err(rustix::io::Errno::NODATA) => Ok(None),
        Err(e) => Err(io_to_glib(e.into())),
    }
}
