//! Committing a tree that was checked out from a commit and then changed a little, without
//! reading every file again.
//!
//! Right after the checkout, [`KnownFiles::record`] notes each regular file's inode with its
//! ctime, size and the content checksum the base commit gives it. When the tree is committed,
//! [`write_tree`] takes that checksum for a file whose inode still has the same ctime and size,
//! and reads (and writes) only the others. The kernel updates the ctime on every change to a file
//! — its content, mode, owner, extended attributes, link count — and userspace cannot set it, so
//! an unchanged ctime means the file is byte for byte and attribute for attribute what the
//! checkout wrote (the same argument git's index makes). Renames do not matter: an object's
//! checksum does not depend on its path.
//!
//! The objects are those `write_directory_to_mtree` writes for the same tree (same file info,
//! same kept extended attributes, `/dev`'s contents skipped); `tests/it/incremental.rs` compares
//! the result with `ostree commit` of a checkout.

use ostree::gio::prelude::*;
use ostree::{gio, glib};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What a build on a commit knows about the tree it commits.
#[derive(Debug)]
pub(crate) enum FromBase {
    /// A copy of the base: files the checkout wrote and nothing changed keep their checksum.
    Copy(KnownFiles),
    /// An overlay over the base's files (`crate::overlay`): only its upper layer is read.
    Overlay {
        base: String,
        upper: std::path::PathBuf,
    },
}

/// What the checkout wrote: inode → (ctime, size, content checksum).
#[derive(Debug, Default)]
pub(crate) struct KnownFiles {
    files: HashMap<(u64, u64), Known>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    ctime: (i64, i64),
    size: u64,
    checksum: String,
}

fn known_of(meta: &std::fs::Metadata, checksum: String) -> Known {
    Known {
        ctime: (meta.ctime(), meta.ctime_nsec()),
        size: meta.size(),
        checksum,
    }
}

impl KnownFiles {
    /// Records every regular file of `commit` as checked out at `tree` (call it before anything
    /// changes the tree).
    pub(crate) fn record(r: &ostree::Repo, commit: &str, tree: &Path) -> Result<Self, glib::Error> {
        let v = r.load_variant(ostree::ObjectType::Commit, commit)?;
        let root = hex::encode(v.child_value(6).data_as_bytes());
        let mut known = KnownFiles::default();
        known.walk(r, &root, tree)?;
        Ok(known)
    }

    fn walk(&mut self, r: &ostree::Repo, dirtree: &str, dir: &Path) -> Result<(), glib::Error> {
        let v = r.load_variant(ostree::ObjectType::DirTree, dirtree)?;
        for file in v.child_value(0).iter() {
            let name = file.child_value(0);
            let Some(name) = name.str() else { continue };
            let checksum = hex::encode(file.child_value(1).data_as_bytes());
            let Ok(meta) = std::fs::symlink_metadata(dir.join(name)) else {
                continue;
            };
            if meta.file_type().is_file() {
                self.files
                    .insert((meta.dev(), meta.ino()), known_of(&meta, checksum));
            }
        }
        for sub in v.child_value(1).iter() {
            let name = sub.child_value(0);
            let Some(name) = name.str() else { continue };
            let tree = hex::encode(sub.child_value(1).data_as_bytes());
            self.walk(r, &tree, &dir.join(name))?;
        }
        Ok(())
    }

    /// The checksum of the file at `meta`, if the checkout wrote it and nothing changed it since.
    fn lookup(&self, meta: &std::fs::Metadata) -> Option<&str> {
        let k = self.files.get(&(meta.dev(), meta.ino()))?;
        (k.ctime == (meta.ctime(), meta.ctime_nsec()) && k.size == meta.size())
            .then_some(k.checksum.as_str())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.files.len()
    }
}

const ATTRIBUTES: &str = "standard::type,standard::name,standard::size,standard::symlink-target,unix::uid,unix::gid,unix::mode";

/// Writes `dir` (the tree's root, `rel` = "") into `mtree` with its objects, reusing `known`.
pub(crate) fn write_tree(
    r: &ostree::Repo,
    dir: &Path,
    rel: &str,
    mtree: &ostree::MutableTree,
    known: &KnownFiles,
) -> Result<(), glib::Error> {
    if !write_dir_meta(r, dir, rel, mtree)? {
        return Ok(());
    }
    for name in sorted_names(dir)? {
        let path = dir.join(&name);
        let name = utf8_name(&name, &path)?;
        let meta = std::fs::symlink_metadata(&path).map_err(io_to_glib)?;
        if meta.is_dir() {
            let child = mtree.ensure_dir(name)?;
            write_tree(r, &path, &format!("{rel}/{name}"), &child, known)?;
        } else if let Some(checksum) = meta.is_file().then(|| known.lookup(&meta)).flatten() {
            mtree.replace_file(name, checksum)?;
        } else {
            mtree.replace_file(name, &write_file(r, &path, &meta)?)?;
        }
    }
    Ok(())
}

/// Writes the metadata of directory `dir` (at `rel` in the tree) into `mtree`; `false` when its
/// contents are not committed (`/dev`: nodes bwrap or scripts left).
pub(crate) fn write_dir_meta(
    r: &ostree::Repo,
    dir: &Path,
    rel: &str,
    mtree: &ostree::MutableTree,
) -> Result<bool, glib::Error> {
    let info = query(dir)?;
    let dirmeta = ostree::create_directory_metadata(&info, xattrs(dir)?.as_ref());
    let checksum = r.write_metadata(
        ostree::ObjectType::DirMeta,
        None,
        &dirmeta,
        gio::Cancellable::NONE,
    )?;
    mtree.set_metadata_checksum(&checksum.to_hex());
    Ok(rel != "/dev")
}

/// The entries of `dir`, sorted.
pub(crate) fn sorted_names(dir: &Path) -> Result<Vec<std::ffi::OsString>, glib::Error> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(dir)
        .map_err(io_to_glib)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(io_to_glib)?;
    names.sort();
    Ok(names)
}

/// `name` (of `path`) as UTF-8, which OSTree requires.
pub(crate) fn utf8_name<'n>(
    name: &'n std::ffi::OsStr,
    path: &Path,
) -> Result<&'n str, glib::Error> {
    name.to_str().ok_or_else(|| {
        glib::Error::new(
            gio::IOErrorEnum::InvalidFilename,
            &format!("{} is not UTF-8", path.display()),
        )
    })
}

/// One regular file or symlink as a content object; returns its checksum.
pub(crate) fn write_file(
    r: &ostree::Repo,
    path: &Path,
    meta: &std::fs::Metadata,
) -> Result<String, glib::Error> {
    let info = query(path)?;
    let xattrs = xattrs(path)?;
    let input: gio::InputStream = if meta.is_file() {
        gio::File::for_path(path)
            .read(gio::Cancellable::NONE)?
            .upcast()
    } else if meta.file_type().is_symlink() {
        gio::MemoryInputStream::new().upcast()
    } else {
        return Err(glib::Error::new(
            gio::IOErrorEnum::NotSupported,
            &format!("{} is not a file, directory or symlink", path.display()),
        ));
    };
    let (stream, length) =
        ostree::raw_file_to_content_stream(&input, &info, xattrs.as_ref(), gio::Cancellable::NONE)?;
    Ok(
        r.write_content(None, &stream, length, gio::Cancellable::NONE)?
            .to_hex(),
    )
}

pub(crate) fn query(path: &Path) -> Result<gio::FileInfo, glib::Error> {
    gio::File::for_path(path).query_info(
        ATTRIBUTES,
        gio::FileQueryInfoFlags::NOFOLLOW_SYMLINKS,
        gio::Cancellable::NONE,
    )
}

/// The extended attributes of `path` as OSTree records them (`a(ayay)`, names with their
/// terminating NUL, sorted); `None` when there are none. The tree was stripped to
/// `security.capability` beforehand.
pub(crate) fn xattrs(path: &Path) -> Result<Option<glib::Variant>, glib::Error> {
    let mut names = vec![0u8; 256];
    let len = loop {
        match rustix::fs::llistxattr(path, &mut names[..]) {
            Ok(n) => break n,
            Err(rustix::io::Errno::RANGE) => names.resize(names.len() * 4, 0),
            Err(rustix::io::Errno::NOTSUP) => return Ok(None),
            Err(e) => return Err(io_to_glib(e.into())),
        }
    };
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for name in names[..len].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let mut value = vec![0u8; 256];
        let n = loop {
            match rustix::fs::lgetxattr(path, name, &mut value[..]) {
                Ok(n) => break n,
                Err(rustix::io::Errno::RANGE) => value.resize(value.len() * 4, 0),
                Err(e) => return Err(io_to_glib(e.into())),
            }
        };
        value.truncate(n);
        let mut cname = name.to_vec();
        cname.push(0);
        pairs.push((cname, value));
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    pairs.sort();
    Ok(Some(glib::prelude::ToVariant::to_variant(&pairs)))
}

pub(crate) fn io_to_glib(e: std::io::Error) -> glib::Error {
    glib::Error::new(gio::IOErrorEnum::Failed, &e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_not_known_any_more() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("f");
        std::fs::write(&f, b"one").expect("write");
        let meta = std::fs::symlink_metadata(&f).expect("stat");
        let mut known = KnownFiles::default();
        known
            .files
            .insert((meta.dev(), meta.ino()), known_of(&meta, "c1".into()));
        assert_eq!(known.len(), 1);
        assert_eq!(
            known.lookup(&std::fs::symlink_metadata(&f).expect("stat")),
            Some("c1")
        );
        // Same size, new content: the ctime moves.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&f, b"two").expect("write");
        assert_eq!(
            known.lookup(&std::fs::symlink_metadata(&f).expect("stat")),
            None
        );
    }
}
