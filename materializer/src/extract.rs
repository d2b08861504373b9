//! The path-safe extractor: a package's `data.tar` into the staging tree, never outside it.
//!
//! Every entry's path is normalized (no `..`, leading `/` and `./` stripped) and its parent is
//! opened with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` relative to the staging root, so
//! no component may be a symlink and nothing resolves outside the root; the final component is
//! then created with `*at` calls that never follow it. Hard links may only point at regular files
//! this same package already extracted; device nodes, FIFOs and other special entries are refused.
//! Owners are mapped by name through the staged tree's `/etc/passwd` and `/etc/group`, as dpkg
//! does, falling back to the numeric ids in the archive. Setuid/setgid bits are kept (mode is set
//! after the owner, since `chown` clears them).
//!
//! Two packages shipping the same non-directory path is refused, naming both, unless one
//! `Replaces` the other (then, as dpkg does, the replacing package owns the path).

use md5::{Digest, Md5};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use store::Relation;

/// Why one package could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("could not open the staging root {path}")]
    Root {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("package {package}: could not read its data.tar")]
    Tar {
        package: String,
        #[source]
        source: io::Error,
    },
    #[error("package {package}: refused unsafe entry {path:?}: {reason}")]
    Unsafe {
        package: String,
        path: String,
        reason: &'static str,
    },
    #[error("package {package}: refused {kind} {path:?}: device nodes, FIFOs and sockets are not allowed in packages")]
    Special {
        package: String,
        path: String,
        kind: &'static str,
    },
    #[error("file conflict: {path} is shipped by both {other} and {package} (and neither Replaces the other)")]
    Conflict {
        path: String,
        package: String,
        other: String,
    },
    #[error("package {package}: could not {action} {path}")]
    Io {
        package: String,
        action: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
}

/// What the extractor needs to know about a package.
#[derive(Debug, Clone)]
pub(crate) struct PackageRef<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    /// The package's `Replaces`.
    pub(crate) replaces: &'a [Relation],
    /// Paths (with leading `/`) of the package's conffiles: their md5 goes into `Conffiles:`.
    pub(crate) conffiles: &'a BTreeSet<String>,
    /// `Multi-Arch: same`: its instances of other architectures (same name and version) may
    /// ship the same paths with identical contents, which they then share, as dpkg does.
    pub(crate) multi_arch_same: bool,
}

/// What extracting one package produced, for the dpkg database.
#[derive(Debug, Default, Clone)]
pub(crate) struct Extracted {
    /// Every path in archive order, as dpkg writes `info/<pkg>.list` (`/.` first).
    pub(crate) list: Vec<String>,
    /// `md5  path` (path without the leading `/`), for packages that ship no md5sums.
    pub(crate) md5sums: Vec<(String, String)>,
    /// md5 of each conffile, keyed by its path.
    pub(crate) conffile_md5: HashMap<String, String>,
}

struct Owner {
    name: String,
    version: String,
    replaces: Vec<Relation>,
    multi_arch_same: bool,
}

/// Extracts packages, one after another, into one staging root.
pub(crate) struct Extractor {
    root: OwnedFd,
    /// Non-directory paths already extracted, and which package (index into `packages`) owns each.
    owners: HashMap<String, usize>,
    packages: Vec<Owner>,
    /// Paths taken over by a later package (Replaces), per package index: dropped from its list.
    taken: HashMap<usize, BTreeSet<String>>,
}

/// Whether the existing `name` in `dir` is what `entry` would write: the same bytes for a
/// file, the same target for a symlink (a hard link to a shared file counts as the same).
fn same_contents(
    dir: &OwnedFd,
    name: &str,
    kind: tar::EntryType,
    link: Option<Vec<u8>>,
    entry: &mut impl Read,
) -> std::io::Result<bool> {
    match kind {
        tar::EntryType::Link => Ok(true),
        tar::EntryType::Symlink => {
            let target = rustix::fs::readlinkat(dir, name, Vec::new())?;
            Ok(Some(target.into_bytes()) == link)
        }
        _ => {
            let fd = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let mut existing = Vec::new();
            File::from(fd).read_to_end(&mut existing)?;
            let mut wanted = Vec::new();
            entry.read_to_end(&mut wanted)?;
            Ok(existing == wanted)
        }
    }
}

fn resolve() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS
}

/// Splits an archive path into safe components: `./usr/bin/x` → `["usr","bin","x"]`.
pub(crate) fn normalize(raw: &[u8]) -> Result<Vec<&str>, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "path is not UTF-8")?;
    if text.contains('\0') {
        return Err("path contains NUL");
    }
    let mut parts = Vec::new();
    for c in text.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("path contains '..'"),
            c => parts.push(c),
        }
    }
    Ok(parts)
}

/// Opens `dir` (relative components) beneath `root` without following any symlink.
pub(crate) fn open_dir_beneath(root: &OwnedFd, dir: &[&str]) -> io::Result<OwnedFd> {
    let rel = if dir.is_empty() {
        ".".to_owned()
    } else {
        dir.join("/")
    };
    rustix::fs::openat2(
        root,
        rel.as_str(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        resolve(),
    )
    .map_err(io::Error::from)
}

/// Reads a regular file beneath `root` without following symlinks; `None` if it does not exist.
pub(crate) fn read_beneath(root: &OwnedFd, path: &str) -> io::Result<Option<Vec<u8>>> {
    match rustix::fs::openat2(
        root,
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
        resolve(),
    ) {
        Ok(fd) => {
            let mut out = Vec::new();
            File::from(fd).read_to_end(&mut out)?;
            Ok(Some(out))
        }
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Name → id from a passwd or group file (`name:x:id:...`).
fn id_map(text: &[u8]) -> HashMap<String, u32> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((name.to_owned(), id))
        })
        .collect()
}

impl Extractor {
    pub(crate) fn new(root: &Path) -> Result<Self, ExtractError> {
        let root = rustix::fs::open(
            root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ExtractError::Root {
            path: root.to_owned(),
            source: e.into(),
        })?;
        Ok(Extractor {
            root,
            owners: HashMap::new(),
            packages: Vec::new(),
            taken: HashMap::new(),
        })
    }

    /// Paths a later package took over from `package` (to drop from its `.list`).
    pub(crate) fn taken_from(&self, package: &str) -> BTreeSet<String> {
        self.packages
            .iter()
            .position(|o| o.name == package)
            .and_then(|i| self.taken.get(&i).cloned())
            .unwrap_or_default()
    }

    /// Extracts one package's data.tar stream.
    pub(crate) fn extract(
        &mut self,
        pkg: &PackageRef<'_>,
        data_tar: impl Read,
    ) -> Result<Extracted, ExtractError> {
        let me = self.packages.len();
        self.packages.push(Owner {
            name: pkg.name.to_owned(),
            version: pkg.version.to_owned(),
            replaces: pkg.replaces.to_vec(),
            multi_arch_same: pkg.multi_arch_same,
        });
        let io_err = |action: &'static str, path: &str| {
            let package = pkg.name.to_owned();
            let path = path.to_owned();
            move |source: io::Error| ExtractError::Io {
                package,
                action,
                path,
                source,
            }
        };
        let users =
            read_beneath(&self.root, "etc/passwd").map_err(io_err("read", "/etc/passwd"))?;
        let groups = read_beneath(&self.root, "etc/group").map_err(io_err("read", "/etc/group"))?;
        let users = users.map(|t| id_map(&t)).unwrap_or_default();
        let groups = groups.map(|t| id_map(&t)).unwrap_or_default();

        let mut out = Extracted::default();
        let mut mine: BTreeSet<String> = BTreeSet::new();
        let tar_err = |source: io::Error| ExtractError::Tar {
            package: pkg.name.to_owned(),
            source,
        };
        let mut archive = tar::Archive::new(data_tar);
        for entry in archive.entries().map_err(tar_err)? {
            let mut entry = entry.map_err(tar_err)?;
            let raw = entry.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let unsafe_err = |reason| ExtractError::Unsafe {
                package: pkg.name.to_owned(),
                path: shown.clone(),
                reason,
            };
            let parts = normalize(&raw).map_err(unsafe_err)?;
            let Some((last, parent)) = parts.split_last() else {
                // The archive root `./`.
                out.list.push("/.".to_owned());
                continue;
            };
            let path = format!("/{}", parts.join("/"));
            let header = entry.header();
            let kind = header.entry_type();
            let mode = header.mode().map_err(tar_err)? & 0o7777;
            let uid = match header.username().ok().flatten().and_then(|n| users.get(n)) {
                Some(&id) => id,
                None => header.uid().map_err(tar_err)? as u32,
            };
            let gid = match header
                .groupname()
                .ok()
                .flatten()
                .and_then(|n| groups.get(n))
            {
                Some(&id) => id,
                None => header.gid().map_err(tar_err)? as u32,
            };
            let special = match kind {
                tar::EntryType::Char => Some("character device"),
                tar::EntryType::Block => Some("block device"),
                tar::EntryType::Fifo => Some("FIFO"),
                tar::EntryType::Regular
                | tar::EntryType::Continuous
                | tar::EntryType::Directory
                | tar::EntryType::Symlink
                | tar::EntryType::Link => None,
                _ => Some("special entry"),
            };
            if let Some(kind) = special {
                return Err(ExtractError::Special {
                    package: pkg.name.to_owned(),
                    path: shown,
                    kind,
                });
            }
            let dir = open_dir_beneath(&self.root, parent).map_err(|e| match e.raw_os_error() {
                Some(code)
                    if code == rustix::io::Errno::LOOP.raw_os_error()
                        || code == rustix::io::Errno::XDEV.raw_os_error() =>
                {
                    unsafe_err("a parent directory is a symlink or leaves the staging root")
                }
                Some(code) if code == rustix::io::Errno::NOTDIR.raw_os_error() => {
                    unsafe_err("a parent is not a directory")
                }
                _ => io_err("open the parent directory of", &path)(e),
            })?;
            let existing = match rustix::fs::statat(&dir, *last, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => Some(FileType::from_raw_mode(st.st_mode)),
                Err(rustix::io::Errno::NOENT) => None,
                Err(e) => return Err(io_err("inspect", &path)(e.into())),
            };

            if kind == tar::EntryType::Directory {
                match existing {
                    None => {
                        rustix::fs::mkdirat(&dir, *last, Mode::from_raw_mode(0o700))
                            .map_err(|e| io_err("create directory", &path)(e.into()))?;
                        let fd = rustix::fs::openat(
                            &dir,
                            *last,
                            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                            Mode::empty(),
                        )
                        .map_err(|e| io_err("open directory", &path)(e.into()))?;
                        set_owner_mode(&fd, uid, gid, mode)
                            .map_err(io_err("set owner and mode of", &path))?;
                    }
                    // Directories are shared between packages; the first one's metadata stays (as dpkg).
                    Some(FileType::Directory) => {}
                    Some(_) => {
                        return Err(unsafe_err(
                            "a directory entry where a non-directory already exists",
                        ))
                    }
                }
                out.list.push(path);
                continue;
            }

            // Non-directories: decide who owns the path.
            if let Some(existing) = existing {
                if existing == FileType::Directory {
                    return Err(unsafe_err(
                        "a non-directory entry where a directory already exists",
                    ));
                }
                match self.owners.get(&path).copied() {
                    Some(other) if other == me => {
                        return Err(unsafe_err("the archive ships this path twice"))
                    }
                    Some(other) => {
                        let theirs = &self.packages[other];
                        let shared = pkg.multi_arch_same
                            && theirs.multi_arch_same
                            && theirs.name == pkg.name
                            && theirs.version == pkg.version;
                        if shared {
                            // Another architecture's instance shipped it: identical contents
                            // are shared (both list the path), anything else is a conflict.
                            let link = entry.link_name_bytes().map(|l| l.into_owned());
                            if same_contents(&dir, last, kind, link, &mut entry)
                                .map_err(io_err("compare the shared file", &path))?
                            {
                                mine.insert(path.clone());
                                out.list.push(path);
                                continue;
                            }
                            return Err(ExtractError::Conflict {
                                path,
                                package: pkg.name.to_owned(),
                                other: format!(
                                    "{} of another architecture, differently",
                                    theirs.name
                                ),
                            });
                        } else if replaces(pkg.replaces, &theirs.name, &theirs.version) {
                            // We take it over, as dpkg does.
                            rustix::fs::unlinkat(&dir, *last, AtFlags::empty())
                                .map_err(|e| io_err("replace", &path)(e.into()))?;
                            self.taken.entry(other).or_default().insert(path.clone());
                        } else if replaces(&theirs.replaces, pkg.name, pkg.version) {
                            // Replaced by files in an installed package: skip it, as dpkg does.
                            continue;
                        } else {
                            return Err(ExtractError::Conflict {
                                path,
                                package: pkg.name.to_owned(),
                                other: theirs.name.clone(),
                            });
                        }
                    }
                    None => return Err(unsafe_err("the path already exists in the staging tree")),
                }
            }

            match kind {
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name_bytes()
                        .ok_or_else(|| unsafe_err("symlink without a target"))?
                        .into_owned();
                    rustix::fs::symlinkat(target.as_slice(), &dir, *last)
                        .map_err(|e| io_err("create symlink", &path)(e.into()))?;
                    rustix::fs::chownat(
                        &dir,
                        *last,
                        Some(uid_of(uid)),
                        Some(gid_of(gid)),
                        AtFlags::SYMLINK_NOFOLLOW,
                    )
                    .map_err(|e| io_err("set owner of", &path)(e.into()))?;
                }
                tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .ok_or_else(|| unsafe_err("hard link without a target"))?
                        .into_owned();
                    let tparts = normalize(&target).map_err(unsafe_err)?;
                    let tpath = format!("/{}", tparts.join("/"));
                    if !mine.contains(&tpath) {
                        return Err(unsafe_err(
                            "hard link to a file this package did not extract",
                        ));
                    }
                    let Some((tlast, tparent)) = tparts.split_last() else {
                        return Err(unsafe_err("hard link to the root"));
                    };
                    let tdir = open_dir_beneath(&self.root, tparent)
                        .map_err(io_err("open the hard link target of", &path))?;
                    rustix::fs::linkat(&tdir, *tlast, &dir, *last, AtFlags::empty())
                        .map_err(|e| io_err("create hard link", &path)(e.into()))?;
                    mine.insert(path.clone());
                }
                _ => {
                    let fd = rustix::fs::openat(
                        &dir,
                        *last,
                        OFlags::WRONLY
                            | OFlags::CREATE
                            | OFlags::EXCL
                            | OFlags::NOFOLLOW
                            | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o600),
                    )
                    .map_err(|e| io_err("create", &path)(e.into()))?;
                    let mut file = File::from(fd);
                    let mut hasher = Md5::new();
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = entry.read(&mut buf).map_err(tar_err)?;
                        if n == 0 {
                            break;
                        }
                        hasher.update(&buf[..n]);
                        file.write_all(&buf[..n]).map_err(io_err("write", &path))?;
                    }
                    set_owner_mode(&file.as_fd(), uid, gid, mode)
                        .map_err(io_err("set owner and mode of", &path))?;
                    let md5 = hex::encode(hasher.finalize());
                    if pkg.conffiles.contains(&path) {
                        out.conffile_md5.insert(path.clone(), md5.clone());
                    }
                    out.md5sums.push((md5, path[1..].to_owned()));
                    mine.insert(path.clone());
                }
            }
            self.owners.insert(path.clone(), me);
            out.list.push(path);
        }
        Ok(out)
    }
}

fn uid_of(id: u32) -> rustix::fs::Uid {
    rustix::fs::Uid::from_raw(id)
}

fn gid_of(id: u32) -> rustix::fs::Gid {
    rustix::fs::Gid::from_raw(id)
}

/// Owner first, then mode: `chown` clears setuid/setgid.
fn set_owner_mode(fd: &impl AsFd, uid: u32, gid: u32, mode: u32) -> io::Result<()> {
    rustix::fs::fchown(fd, Some(uid_of(uid)), Some(gid_of(gid)))?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))?;
    Ok(())
}

/// Whether a `Replaces` list covers package `name` at `version`.
fn replaces(list: &[Relation], name: &str, version: &str) -> bool {
    list.iter()
        .any(|r| r.name == name && r.constraint.as_ref().is_none_or(|c| c.matches(version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_and_refuses() {
        assert_eq!(
            normalize(b"./usr/bin/x").expect("valid"),
            vec!["usr", "bin", "x"]
        );
        assert_eq!(
            normalize(b"/etc//passwd").expect("valid"),
            vec!["etc", "passwd"]
        );
        assert!(normalize(b"./").expect("valid").is_empty());
        assert_eq!(normalize(b"./usr/../../etc"), Err("path contains '..'"));
        assert!(normalize(b"\xff").is_err());
    }

    #[test]
    fn id_map_reads_passwd() {
        let m = id_map(b"root:x:0:0:root:/root:/bin/bash\nshadow:x:42:\nbad\n");
        assert_eq!(m.get("root"), Some(&0));
        assert_eq!(m.get("shadow"), Some(&42));
        assert_eq!(m.len(), 2);
    }

    fn tar_with(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut h = tar::Header::new_gnu();
            if path.ends_with('/') {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
            } else {
                h.set_mode(0o4755);
            }
            h.set_size(data.len() as u64);
            h.set_uid(0);
            h.set_gid(0);
            b.append_data(&mut h, path, *data).expect("append");
        }
        b.into_inner().expect("tar")
    }

    fn rel(s: &str) -> Relation {
        store::parse_relation(s).expect("relation")
    }

    #[test]
    fn replaces_hands_over_paths_either_way_and_shared_dirs_are_fine() {
        let t = tempfile::tempdir().expect("tempdir");
        let mut x = Extractor::new(t.path()).expect("root");
        let none = BTreeSet::new();
        let conf: BTreeSet<String> = ["/etc/a.conf".to_owned()].into();
        let a = PackageRef {
            name: "a",
            version: "1",
            replaces: &[],
            conffiles: &conf,
            multi_arch_same: false,
        };
        let got = x
            .extract(
                &a,
                tar_with(&[
                    ("./", b""),
                    ("etc/", b""),
                    ("etc/a.conf", b"a"),
                    ("usr/", b""),
                    ("usr/x", b"a"),
                ])
                .as_slice(),
            )
            .expect("a");
        assert_eq!(
            got.list,
            vec!["/.", "/etc", "/etc/a.conf", "/usr", "/usr/x"]
        );
        assert_eq!(
            got.conffile_md5.get("/etc/a.conf").map(String::as_str),
            Some("0cc175b9c0f1b6a831c399e269772661")
        );
        // b replaces a (versioned): b's file wins and leaves a's list.
        let rb = [rel("a (<< 2)")];
        let b = PackageRef {
            name: "b",
            version: "1",
            replaces: &rb,
            conffiles: &none,
            multi_arch_same: false,
        };
        x.extract(&b, tar_with(&[("usr/", b""), ("usr/x", b"b")]).as_slice())
            .expect("b");
        assert_eq!(std::fs::read(t.path().join("usr/x")).expect("read"), b"b");
        assert_eq!(x.taken_from("a"), ["/usr/x".to_owned()].into());
        // c is replaced by b (b Replaces c): c's copy is skipped.
        let c = PackageRef {
            name: "c",
            version: "1",
            replaces: &[],
            conffiles: &none,
            multi_arch_same: false,
        };
        let rb2 = [rel("c")];
        let b2 = PackageRef {
            name: "b2",
            version: "1",
            replaces: &rb2,
            conffiles: &none,
            multi_arch_same: false,
        };
        x.extract(&b2, tar_with(&[("usr/y", b"b2")]).as_slice())
            .expect("b2");
        let got = x
            .extract(&c, tar_with(&[("usr/y", b"c")]).as_slice())
            .expect("c");
        assert!(got.list.is_empty());
        assert_eq!(std::fs::read(t.path().join("usr/y")).expect("read"), b"b2");
        // Setuid survives chown.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(t.path().join("usr/y"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o4755);
        // An unversioned-wrong Replaces does not allow a takeover.
        let rd = [rel("a (>= 5)")];
        let d = PackageRef {
            name: "d",
            version: "1",
            replaces: &rd,
            conffiles: &none,
            multi_arch_same: false,
        };
        let err = x
            .extract(&d, tar_with(&[("etc/a.conf", b"d")]).as_slice())
            .expect_err("conflict");
        assert_eq!(err.to_string(), "file conflict: /etc/a.conf is shipped by both a and d (and neither Replaces the other)");
    }

    #[test]
    fn owners_are_mapped_by_name_through_the_staged_passwd() {
        let t = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(t.path().join("etc")).expect("mkdir");
        std::fs::write(
            t.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nmessage:x:101:102::/:/bin/false\n",
        )
        .expect("write");
        std::fs::write(t.path().join("etc/group"), "root:x:0:\nshadow:x:42:\n").expect("write");
        let mut x = Extractor::new(t.path()).expect("root");
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o2755);
        h.set_size(1);
        h.set_uid(1000);
        h.set_gid(1000);
        h.set_username("message").expect("name");
        h.set_groupname("shadow").expect("name");
        b.append_data(&mut h, "f", &b"x"[..]).expect("append");
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(1);
        h.set_uid(7);
        h.set_gid(8);
        h.set_username("nobody-here").expect("name");
        b.append_data(&mut h, "g", &b"x"[..]).expect("append");
        let none = BTreeSet::new();
        let p = PackageRef {
            name: "p",
            version: "1",
            replaces: &[],
            conffiles: &none,
            multi_arch_same: false,
        };
        x.extract(&p, b.into_inner().expect("tar").as_slice())
            .expect("extract");
        use std::os::unix::fs::MetadataExt;
        let f = std::fs::metadata(t.path().join("f")).expect("stat");
        assert_eq!((f.uid(), f.gid(), f.mode() & 0o7777), (101, 42, 0o2755));
        let g = std::fs::metadata(t.path().join("g")).expect("stat");
        assert_eq!((g.uid(), g.gid()), (7, 8));
    }
}
