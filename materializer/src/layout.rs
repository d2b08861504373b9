//! The atomic (OSTree) layout of a configured tree, and the normalization that makes it
//! reproducible. See `docs/materializer.md` for the resulting layout and
//! `docs/reproducibility.md` for what is normalized and why.
//!
//! Every operation here works on paths whose ancestors were checked to be real directories
//! (`lstat`, never following a symlink) and never follows the final component: the tree's
//! contents came from archives and maintainer scripts and may hold symlinks pointing anywhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the tree could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("could not {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("refusing to {action} {path}: {reason}")]
    Refused {
        action: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot merge /{dir} into /usr/{dir}: {name} exists in both and differs")]
    MergeConflict { dir: String, name: String },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> LayoutError {
    let path = path.to_owned();
    move |source| LayoutError::Io {
        action,
        path,
        source,
    }
}

/// What `lstat` says a path is, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Missing,
    Dir,
    Symlink,
    Other,
}

fn kind(path: &Path) -> Result<Kind, LayoutError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Ok(Kind::Symlink),
        Ok(m) if m.is_dir() => Ok(Kind::Dir),
        Ok(_) => Ok(Kind::Other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Kind::Missing),
        Err(e) => Err(io_err("inspect", path)(e)),
    }
}

/// `tree/rel`, after checking that every ancestor of it inside the tree is a real directory (or
/// missing): a symlinked ancestor would make host-side operations act outside the tree.
pub(crate) fn beneath(tree: &Path, rel: &str) -> Result<PathBuf, LayoutError> {
    let mut path = tree.to_owned();
    let parts: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
    for (i, c) in parts.iter().enumerate() {
        path.push(c);
        if i + 1 == parts.len() {
            break;
        }
        match kind(&path)? {
            Kind::Dir => {}
            Kind::Missing => {
                for rest in &parts[i + 1..] {
                    path.push(rest);
                }
                break;
            }
            k => {
                return Err(LayoutError::Refused {
                    action: "work beneath",
                    path,
                    reason: format!(
                    "it is a {k:?}, not a directory (a symlink here could lead outside the tree)"
                ),
                })
            }
        }
    }
    Ok(path)
}

/// Makes `tree/rel` a real directory (creating missing ancestors), refusing symlinks on the way.
pub(crate) fn ensure_dir(tree: &Path, rel: &str) -> Result<PathBuf, LayoutError> {
    let mut path = tree.to_owned();
    for c in rel.split('/').filter(|c| !c.is_empty()) {
        path.push(c);
        match kind(&path)? {
            Kind::Dir => {}
            Kind::Missing => {
                fs::create_dir(&path).map_err(io_err("create directory", &path))?;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                    .map_err(io_err("set mode of", &path))?;
            }
            k => {
                return Err(LayoutError::Refused {
                    action: "create directory",
                    path,
                    reason: format!("it exists as {k:?}, not a directory"),
                })
            }
        }
    }
    Ok(path)
}

/// Writes `tree/rel` (replacing a file or symlink there, never writing through one).
pub(crate) fn write_file(
    tree: &Path,
    rel: &str,
    data: &[u8],
    mode: u32,
) -> Result<(), LayoutError> {
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let path = ensure_dir(tree, parent)?.join(name);
    match kind(&path)? {
        Kind::Missing => {}
        Kind::Dir => {
            return Err(LayoutError::Refused {
                action: "write",
                path,
                reason: "it is a directory".to_owned(),
            })
        }
        _ => fs::remove_file(&path).map_err(io_err("replace", &path))?,
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc_o_nofollow())
        .mode(mode)
        .open(&path)
        .map_err(io_err("create", &path))?;
    f.write_all(data).map_err(io_err("write", &path))?;
    fs::set_permissions(&path, fs::Permissions::from_mode(mode))
        .map_err(io_err("set mode of", &path))?;
    Ok(())
}

fn libc_o_nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// Makes `tree/rel` a symlink to `target` (replacing a file, symlink or empty directory).
fn symlink(tree: &Path, rel: &str, target: &str) -> Result<(), LayoutError> {
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let path = ensure_dir(tree, parent)?.join(name);
    match kind(&path)? {
        Kind::Missing => {}
        Kind::Dir => fs::remove_dir(&path).map_err(io_err("replace (it must be empty)", &path))?,
        _ => fs::remove_file(&path).map_err(io_err("replace", &path))?,
    }
    std::os::unix::fs::symlink(target, &path).map_err(io_err("create symlink", &path))
}

pub(crate) fn remove_any(path: &Path) -> Result<(), LayoutError> {
    match kind(path)? {
        Kind::Missing => Ok(()),
        Kind::Dir => fs::remove_dir_all(path).map_err(io_err("remove", path)),
        _ => fs::remove_file(path).map_err(io_err("remove", path)),
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<String>, LayoutError> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let e = e.map_err(io_err("list", dir))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// The directories merged into `/usr` (the ones that exist; `bin`, `sbin`, `lib`, `lib64` always).
const MERGED: &[&str] = &["bin", "sbin", "lib", "lib64", "lib32", "libx32"];

/// Merges `/bin`, `/sbin`, `/lib*` into `/usr` and replaces them with symlinks (`bin -> usr/bin`),
/// as Debian's merged-/usr does. Done before maintainer scripts run, so they see a merged system.
pub(crate) fn merge_usr(tree: &Path) -> Result<(), LayoutError> {
    for d in MERGED {
        let top = tree.join(d);
        let always = matches!(*d, "bin" | "sbin" | "lib" | "lib64");
        match kind(&top)? {
            Kind::Missing if !always => continue,
            Kind::Missing => {
                ensure_dir(tree, &format!("usr/{d}"))?;
            }
            Kind::Dir => {
                let usr = ensure_dir(tree, &format!("usr/{d}"))?;
                merge_dir(&top, &usr, d)?;
                fs::remove_dir(&top).map_err(io_err("remove merged directory", &top))?;
            }
            Kind::Symlink => {
                let target = fs::read_link(&top).map_err(io_err("read", &top))?;
                if target != Path::new(&format!("usr/{d}")) {
                    return Err(LayoutError::Refused {
                        action: "merge",
                        path: top,
                        reason: format!("it is a symlink to {}", target.display()),
                    });
                }
                continue;
            }
            Kind::Other => {
                return Err(LayoutError::Refused {
                    action: "merge",
                    path: top,
                    reason: "not a directory".to_owned(),
                })
            }
        }
        symlink(tree, d, &format!("usr/{d}"))?;
    }
    Ok(())
}

/// Moves everything in `src` into `dst`, recursing into directories present in both.
fn merge_dir(src: &Path, dst: &Path, label: &str) -> Result<(), LayoutError> {
    for name in sorted_entries(src)? {
        let s = src.join(&name);
        let d = dst.join(&name);
        match (kind(&s)?, kind(&d)?) {
            (_, Kind::Missing) => fs::rename(&s, &d).map_err(io_err("move into /usr", &s))?,
            (Kind::Dir, Kind::Dir) => {
                merge_dir(&s, &d, &format!("{label}/{name}"))?;
                fs::remove_dir(&s).map_err(io_err("remove merged directory", &s))?;
            }
            (sk, dk) => {
                if same_content(&s, sk, &d, dk)? || points_to(&s, &d)? {
                    // Identical, or the old location was a compatibility link to the new one.
                    remove_any(&s)?;
                } else if points_to(&d, &s)? {
                    // /usr/bin/x -> /bin/x: the real file wins.
                    remove_any(&d)?;
                    fs::rename(&s, &d).map_err(io_err("move into /usr", &s))?;
                } else {
                    return Err(LayoutError::MergeConflict {
                        dir: label.to_owned(),
                        name,
                    });
                }
            }
        }
    }
    Ok(())
}

fn same_content(a: &Path, ak: Kind, b: &Path, bk: Kind) -> Result<bool, LayoutError> {
    match (ak, bk) {
        (Kind::Symlink, Kind::Symlink) => Ok(fs::read_link(a).map_err(io_err("read", a))?
            == fs::read_link(b).map_err(io_err("read", b))?),
        (Kind::Other, Kind::Other) => {
            let (ma, mb) = (
                fs::symlink_metadata(a).map_err(io_err("inspect", a))?,
                fs::symlink_metadata(b).map_err(io_err("inspect", b))?,
            );
            if ma.len() != mb.len() || ma.mode() != mb.mode() {
                return Ok(false);
            }
            Ok(
                fs::read(a).map_err(io_err("read", a))?
                    == fs::read(b).map_err(io_err("read", b))?,
            )
        }
        _ => Ok(false),
    }
}

/// Whether `link` is a symlink naming `target`'s merged location (absolute `/usr/bin/x` or
/// relative `../usr/bin/x`, `x` in the same directory).
fn points_to(link: &Path, target: &Path) -> Result<bool, LayoutError> {
    if kind(link)? != Kind::Symlink {
        return Ok(false);
    }
    let dest = fs::read_link(link).map_err(io_err("read", link))?;
    let base = link.parent().unwrap_or(link);
    let joined = normalize_lexically(&base.join(&dest));
    let tgt = normalize_lexically(target);
    // Absolute targets are relative to the tree root: compare their tails.
    Ok(joined == tgt
        || (dest.is_absolute() && tgt.ends_with(dest.strip_prefix("/").unwrap_or(&dest))))
}

fn normalize_lexically(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Drops what differs between builds or machines (see docs/reproducibility.md). Runs after
/// maintainer scripts, before the layout moves `/etc` and `/var`.
pub(crate) fn normalize(tree: &Path) -> Result<(), LayoutError> {
    // Caches and logs: contents dropped, directories kept (they become tmpfiles entries).
    for d in ["var/cache", "var/log"] {
        empty_files(&beneath(tree, d)?)?;
    }
    for f in [
        "var/lib/dbus/machine-id",
        "var/lib/systemd/random-seed",
        "etc/ld.so.cache~",
        "var/lib/dpkg/status-old",
        "var/lib/dpkg/available-old",
        "var/lib/dpkg/diversions-old",
        "var/lib/dpkg/statoverride-old",
        "var/lib/dpkg/lock",
        "var/lib/dpkg/lock-frontend",
        "var/lib/dpkg/triggers/Lock",
        "var/lib/apt/lists/lock",
    ] {
        remove_any(&beneath(tree, f)?)?;
    }
    if kind(&beneath(tree, "etc/machine-id")?)? != Kind::Missing {
        write_file(tree, "etc/machine-id", b"", 0o444)?;
    }
    let ssh = beneath(tree, "etc/ssh")?;
    if kind(&ssh)? == Kind::Dir {
        for name in sorted_entries(&ssh)? {
            if name.starts_with("ssh_host_") {
                remove_any(&ssh.join(name))?;
            }
        }
    }
    Ok(())
}

/// Extended attributes a commit keeps: file capabilities (`setcap` in a postinst, e.g.
/// iputils-ping's `cap_net_raw`), on which the file's function depends. Everything else (the
/// build host's SELinux labels, `user.*` of the staging file system) is host state and would make
/// the same build differ between machines.
const KEPT_XATTRS: &[&[u8]] = &[b"security.capability"];

/// Removes every extended attribute but [`KEPT_XATTRS`] from everything in `tree` (symlinks
/// themselves, never what they point to).
pub(crate) fn strip_xattrs(tree: &Path) -> Result<(), LayoutError> {
    let mut stack = vec![tree.to_owned()];
    while let Some(dir) = stack.pop() {
        strip_one(&dir)?;
        for entry in fs::read_dir(&dir).map_err(io_err("read", &dir))? {
            let path = entry.map_err(io_err("read", &dir))?.path();
            if kind(&path)? == Kind::Dir {
                stack.push(path);
            } else {
                strip_one(&path)?;
            }
        }
    }
    Ok(())
}

/// [`strip_xattrs`] for a tree that is an overlay mounted at `tree` with upper layer `upper`
/// (`crate::overlay`): only what the upper layer holds can carry anything new, since the lower
/// layer is the base commit's files, stripped when it was built. Whiteouts (character devices in
/// the upper layer) are not in the tree and are skipped.
pub(crate) fn strip_xattrs_upper(tree: &Path, upper: &Path) -> Result<(), LayoutError> {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        strip_one(&tree.join(&rel))?;
        let dir = upper.join(&rel);
        for entry in fs::read_dir(&dir).map_err(io_err("read", &dir))? {
            let entry = entry.map_err(io_err("read", &dir))?;
            let ty = entry.file_type().map_err(io_err("read", &dir))?;
            let rel = rel.join(entry.file_name());
            if ty.is_dir() {
                stack.push(rel);
            } else if ty.is_file() || ty.is_symlink() {
                strip_one(&tree.join(&rel))?;
            }
        }
    }
    Ok(())
}

fn strip_one(path: &Path) -> Result<(), LayoutError> {
    let mut buf = vec![0u8; 256];
    let len = loop {
        match rustix::fs::llistxattr(path, &mut buf[..]) {
            Ok(n) => break n,
            Err(rustix::io::Errno::RANGE) => buf.resize(buf.len() * 4, 0),
            // A file system without extended attributes has nothing to strip.
            Err(rustix::io::Errno::NOTSUP) => return Ok(()),
            Err(e) => return Err(io_err("list the extended attributes of", path)(e.into())),
        }
    };
    for name in buf[..len].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        if !KEPT_XATTRS.contains(&name) {
            rustix::fs::lremovexattr(path, name)
                .map_err(|e| io_err("remove an extended attribute of", path)(e.into()))?;
        }
    }
    Ok(())
}

/// Removes every non-directory under `dir`, keeping the directories.
fn empty_files(dir: &Path) -> Result<(), LayoutError> {
    if kind(dir)? != Kind::Dir {
        return Ok(());
    }
    for name in sorted_entries(dir)? {
        let p = dir.join(name);
        match kind(&p)? {
            Kind::Dir => empty_files(&p)?,
            _ => remove_any(&p)?,
        }
    }
    Ok(())
}

/// Where the dpkg database lives in the commit.
pub(crate) const DPKG_DB: &str = "usr/lib/sysimage/dpkg";

/// Top-level directories that become links into `/var`, as OSTree systems have them.
const VAR_LINKS: &[(&str, &str, &str)] = &[
    ("home", "var/home", "var/home"),
    ("opt", "var/opt", "var/opt"),
    ("srv", "var/srv", "var/srv"),
    ("root", "var/roothome", "var/roothome"),
    ("mnt", "var/mnt", "var/mnt"),
    ("usr/local", "var/usrlocal", "../var/usrlocal"),
];

/// What `variant.conf` records.
#[derive(Debug, Clone)]
pub(crate) struct VariantInfo<'a> {
    pub(crate) variant: &'a str,
    pub(crate) description: Option<&'a str>,
    pub(crate) parent: Option<&'a str>,
    pub(crate) txn_id: &'a str,
    pub(crate) seq: u64,
    pub(crate) journal_head: &'a str,
}

/// `variant.conf` (pure).
pub(crate) fn variant_conf(v: &VariantInfo<'_>) -> String {
    format!(
        "# Written by particle: which variant and transaction this tree is.\nVARIANT={}\nPARENT_VARIANT={}\nTXN_ID={}\nTXN_SEQ={}\nJOURNAL_HEAD={}\n",
        v.variant,
        v.parent.unwrap_or(""),
        v.txn_id,
        v.seq,
        v.journal_head
    )
}

/// `/etc/particle-os/variant.conf` of a tree that boots as a machine (pure): the seed's
/// `[Variant]` form, which tools on the machine read, plus the transaction it was built by.
pub(crate) fn machine_variant_conf(v: &VariantInfo<'_>) -> String {
    format!(
        "# Written by particle: which Particle-OS variant this system is.\n[Variant]\nName={}\nDescription={}\nVersion={}.{}\nBaseRef=particle-os/{}\nInheritsFrom={}\nTransaction={}\nJournalHead={}\n",
        v.variant,
        v.description.unwrap_or(""),
        v.variant,
        v.seq,
        v.variant,
        v.parent.unwrap_or(""),
        v.seq,
        v.journal_head
    )
}

/// Lays the configured tree out as OSTree expects (see docs/materializer.md).
pub(crate) fn atomic_layout(
    tree: &Path,
    variant: &VariantInfo<'_>,
    profile: &crate::Profile,
    machine: bool,
) -> Result<(), LayoutError> {
    // dpkg database under /usr, linked back from /var at boot.
    let db = beneath(tree, "var/lib/dpkg")?;
    if kind(&db)? == Kind::Dir {
        ensure_dir(tree, "usr/lib/sysimage")?;
        let dst = beneath(tree, DPKG_DB)?;
        remove_any(&dst)?;
        fs::rename(&db, &dst).map_err(io_err("move the dpkg database from", &db))?;
    }

    // Kernels and initramfs to /usr/lib/modules/$kver/.
    move_kernels(tree)?;

    // /etc -> /usr/etc (no /etc in the commit: ostree creates it at deploy time).
    let etc = tree.join("etc");
    if kind(&etc)? == Kind::Dir {
        let usr_etc = beneath(tree, "usr/etc")?;
        if kind(&usr_etc)? != Kind::Missing {
            return Err(LayoutError::Refused {
                action: "move /etc to",
                path: usr_etc,
                reason: "it already exists".to_owned(),
            });
        }
        fs::rename(&etc, &usr_etc).map_err(io_err("move /etc to /usr/etc", &etc))?;
    }

    // /home, /root, ... -> /var.
    ensure_dir(tree, "var")?;
    for (top, var, target) in VAR_LINKS {
        let p = beneath(tree, top)?;
        let dst = beneath(tree, var)?;
        match kind(&p)? {
            Kind::Dir => {
                if kind(&dst)? == Kind::Missing {
                    fs::rename(&p, &dst).map_err(io_err("move into /var", &p))?;
                } else {
                    merge_dir(&p, &dst, top)?;
                    fs::remove_dir(&p).map_err(io_err("remove", &p))?;
                }
            }
            Kind::Missing => {
                ensure_dir(tree, var)?;
                if *top == "root" {
                    fs::set_permissions(&dst, fs::Permissions::from_mode(0o700))
                        .map_err(io_err("set mode of", &dst))?;
                }
            }
            _ => remove_any(&p)?,
        }
        symlink(tree, top, target)?;
    }

    // Profile and identity.
    let conf = variant_conf(variant);
    write_file(
        tree,
        "usr/lib/particle/variant.conf",
        conf.as_bytes(),
        0o644,
    )?;
    // Trees built before machines existed keep the first form (their commits replay bit for
    // bit); machine trees get the seed's `[Variant]` form. usr/lib/particle/variant.conf keeps
    // the first form in both.
    let etc_conf = if machine {
        machine_variant_conf(variant)
    } else {
        conf.clone()
    };
    write_file(
        tree,
        "usr/etc/particle-os/variant.conf",
        etc_conf.as_bytes(),
        0o644,
    )?;
    for (rel, text) in profile_files(profile) {
        write_file(tree, &rel, text.as_bytes(), 0o644)?;
    }
    // A tree that boots as an OSTree deployment keeps its system users alive on machines whose
    // /etc/passwd has local changes (ostree's /etc merge keeps the machine's file whole).
    if machine {
        let passwd = read_optional(&beneath(tree, "usr/etc/passwd")?)?;
        let group = read_optional(&beneath(tree, "usr/etc/group")?)?;
        let mut declared = String::new();
        let dir = beneath(tree, "usr/lib/sysusers.d")?;
        if kind(&dir)? == Kind::Dir {
            for name in sorted_entries(&dir)? {
                if name.ends_with(".conf") && format!("usr/lib/sysusers.d/{name}") != SYSUSERS {
                    declared.push_str(&read_optional(&dir.join(&name))?);
                }
            }
        }
        write_file(
            tree,
            SYSUSERS,
            sysusers_conf(&passwd, &group, &declared).as_bytes(),
            0o644,
        )?;
    }

    // /var: emptied, its contents turned into tmpfiles.d entries.
    let users = id_names(&beneath(tree, "usr/etc/passwd")?)?;
    let groups = id_names(&beneath(tree, "usr/etc/group")?)?;
    let mut lines = Vec::new();
    var_to_tmpfiles(tree, "var", &users, &groups, &mut lines)?;
    lines.push(format!("L /var/lib/dpkg - - - - ../../{DPKG_DB}"));
    lines.sort_by(|a, b| a.split(' ').nth(1).cmp(&b.split(' ').nth(1)));
    let mut text =
        String::from("# Written by particle: /var as the packages ship it, recreated at boot.\n");
    for l in &lines {
        let _ = writeln!(text, "{l}");
    }
    write_file(tree, VAR_TMPFILES, text.as_bytes(), 0o644)?;
    for name in sorted_entries(&tree.join("var"))? {
        remove_any(&tree.join("var").join(name))?;
    }

    // OSTree's mount points.
    ensure_dir(tree, "sysroot")?;
    symlink(tree, "ostree", "sysroot/ostree")?;
    for d in ["proc", "sys", "dev", "run", "tmp", "boot"] {
        ensure_dir(tree, d)?;
    }
    let tmp = tree.join("tmp");
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777))
        .map_err(io_err("set mode of", &tmp))?;
    Ok(())
}

/// Files every build writes fresh (identity and profile): removed when a committed tree is
/// turned back into a live one, so that a setting dropped from the profile leaves nothing behind.
const GENERATED_FILES: &[&str] = &[
    "usr/lib/particle/variant.conf",
    "usr/etc/particle-os/variant.conf",
    "usr/lib/particle/kargs",
    "usr/lib/bootc/kargs.d/10-particle.toml",
    "usr/lib/kernel/cmdline",
    "usr/lib/sysctl.d/50-particle.conf",
    SYSUSERS,
];

/// The tree's system users and groups as `sysusers.d` lines (see [`sysusers_conf`]).
const SYSUSERS: &str = "usr/lib/sysusers.d/particle.conf";

/// Where [`atomic_layout`] describes `/var`.
const VAR_TMPFILES: &str = "usr/lib/tmpfiles.d/particle-var.conf";

/// The inverse of [`atomic_layout`]: a checked-out commit back into the live tree maintainer
/// scripts and dpkg expect (`/etc`, a populated `/var` with the dpkg database in it, real
/// `/home`, `/root`, `/usr/local`, ..., kernels in `/boot`), so that a build can start from the
/// previous commit instead of from nothing. Everything comes from what the layout recorded in
/// the tree itself (the tmpfiles.d entries, the factory copies), so it needs no other input.
pub(crate) fn undo_atomic_layout(tree: &Path) -> Result<(), LayoutError> {
    let var_conf = beneath(tree, VAR_TMPFILES)?;
    if kind(&var_conf)? != Kind::Other {
        return Err(LayoutError::Refused {
            action: "build on",
            path: tree.to_owned(),
            reason: format!("it has no /{VAR_TMPFILES}: not a tree particle laid out"),
        });
    }
    for f in GENERATED_FILES {
        remove_any(&beneath(tree, f)?)?;
    }
    if kind(&tree.join("ostree"))? == Kind::Symlink {
        remove_any(&tree.join("ostree"))?;
    }
    if kind(&tree.join("sysroot"))? == Kind::Dir {
        fs::remove_dir(tree.join("sysroot")).map_err(io_err("remove", &tree.join("sysroot")))?;
    }

    // /usr/etc -> /etc.
    let usr_etc = beneath(tree, "usr/etc")?;
    if kind(&usr_etc)? == Kind::Dir {
        let etc = tree.join("etc");
        if kind(&etc)? != Kind::Missing {
            return Err(LayoutError::Refused {
                action: "move /usr/etc to",
                path: etc,
                reason: "it already exists".to_owned(),
            });
        }
        fs::rename(&usr_etc, &etc).map_err(io_err("move /usr/etc to /etc", &usr_etc))?;
    }

    // /var from its tmpfiles.d entries (parents sort before their children).
    let users = name_ids(&beneath(tree, "etc/passwd")?)?;
    let groups = name_ids(&beneath(tree, "etc/group")?)?;
    let text = fs::read_to_string(&var_conf).map_err(io_err("read", &var_conf))?;
    ensure_dir(tree, "var")?;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        restore_var_entry(tree, line, &users, &groups)?;
    }
    remove_any(&var_conf)?;
    remove_empty_dirs(&beneath(tree, "usr/share/factory/var")?)?;

    // /home, /root, /usr/local, ... back from /var.
    for (top, var, _) in VAR_LINKS {
        let p = beneath(tree, top)?;
        if kind(&p)? == Kind::Symlink {
            remove_any(&p)?;
        }
        let src = beneath(tree, var)?;
        if kind(&src)? == Kind::Dir && kind(&p)? == Kind::Missing {
            fs::rename(&src, &p).map_err(io_err("move back from /var", &src))?;
        }
    }
    restore_kernels(tree)
}

/// Name → id from a passwd or group file (numeric names map to themselves).
fn name_ids(path: &Path) -> Result<BTreeMap<String, u32>, LayoutError> {
    Ok(id_names(path)?.into_iter().map(|(id, n)| (n, id)).collect())
}

/// One line of `particle-var.conf` back into `/var`: `d` (directory with mode and owner), `L`
/// (symlink; the dpkg database link moves the database back), `C` (the factory copy moved back).
fn restore_var_entry(
    tree: &Path,
    line: &str,
    users: &BTreeMap<String, u32>,
    groups: &BTreeMap<String, u32>,
) -> Result<(), LayoutError> {
    let bad = |reason: &str| LayoutError::Refused {
        action: "restore /var from",
        path: tree.join(VAR_TMPFILES),
        reason: format!("{reason}: {line:?}"),
    };
    let f: Vec<&str> = line.splitn(7, ' ').collect();
    let [typ, path, mode, user, group, _, arg] = f[..] else {
        return Err(bad("not a line particle writes"));
    };
    let rel = path
        .strip_prefix("/var/")
        .map(|r| format!("var/{r}"))
        .ok_or_else(|| bad("not beneath /var"))?;
    match typ {
        "d" => {
            let dir = ensure_dir(tree, &rel)?;
            let id = |map: &BTreeMap<String, u32>, name: &str| {
                map.get(name)
                    .copied()
                    .or_else(|| name.parse().ok())
                    .ok_or_else(|| bad("unknown owner"))
            };
            let mode = u32::from_str_radix(mode, 8).map_err(|_| bad("bad mode"))?;
            std::os::unix::fs::lchown(&dir, Some(id(users, user)?), Some(id(groups, group)?))
                .map_err(io_err("set owner of", &dir))?;
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode))
                .map_err(io_err("set mode of", &dir))?;
        }
        "L" if rel == "var/lib/dpkg" => {
            let db = beneath(tree, DPKG_DB)?;
            let dst = beneath(tree, &rel)?;
            fs::rename(&db, &dst).map_err(io_err("move the dpkg database back from", &db))?;
        }
        "L" => symlink(tree, &rel, arg)?,
        "C" => {
            let factory = arg
                .strip_prefix('/')
                .ok_or_else(|| bad("relative source"))?;
            let src = beneath(tree, factory)?;
            let dst = beneath(tree, &rel)?;
            fs::rename(&src, &dst).map_err(io_err("move back from the factory", &src))?;
        }
        _ => return Err(bad("unknown type")),
    }
    Ok(())
}

/// Removes `dir` and every directory below it that holds nothing but directories.
fn remove_empty_dirs(dir: &Path) -> Result<(), LayoutError> {
    if kind(dir)? != Kind::Dir {
        return Ok(());
    }
    for name in sorted_entries(dir)? {
        remove_empty_dirs(&dir.join(name))?;
    }
    if sorted_entries(dir)?.is_empty() {
        fs::remove_dir(dir).map_err(io_err("remove", dir))?;
    }
    Ok(())
}

/// The inverse of [`move_kernels`]: `/usr/lib/modules/$kver/vmlinuz` (and its initramfs, config,
/// System.map) back to `/boot`, where the kernel package's file list and `update-initramfs`
/// expect them.
fn restore_kernels(tree: &Path) -> Result<(), LayoutError> {
    let modules = beneath(tree, "usr/lib/modules")?;
    if kind(&modules)? != Kind::Dir {
        return Ok(());
    }
    for kver in sorted_entries(&modules)? {
        let moddir = modules.join(&kver);
        if kind(&moddir.join("vmlinuz"))? != Kind::Other {
            continue;
        }
        let boot = ensure_dir(tree, "boot")?;
        for (prefix, src) in KERNEL_FILES {
            let from = moddir.join(src);
            if kind(&from)? == Kind::Other {
                let to = boot.join(format!("{prefix}{kver}"));
                fs::rename(&from, &to).map_err(io_err("move kernel file", &from))?;
            }
        }
    }
    Ok(())
}

/// Profile files that maintainer scripts must see, written into the staged `/etc` before they
/// run (pure): the initramfs-tools settings, which `update-initramfs` (run by the kernel's and
/// initramfs-tools' scripts) reads while it builds the initramfs. The `/etc` → `/usr/etc` move
/// then carries them into the commit.
pub(crate) fn pre_configure_files(profile: &crate::Profile) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // initramfs-tools variables are shell names; a key with a dot is particle's own.
    let settings: Vec<(&String, &String)> = profile
        .initramfs
        .iter()
        .filter(|(k, _)| !k.contains('.'))
        .collect();
    if !settings.is_empty() {
        let text: String = settings.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        out.push((INITRAMFS_CONF.to_owned(), text));
    }
    if let Some(modules) = profile.initramfs.get(INITRAMFS_MODULES_KEY) {
        let text: String = modules
            .split_whitespace()
            .map(|m| format!("{m}\n"))
            .collect();
        if !text.is_empty() {
            out.push((INITRAMFS_MODULES.to_owned(), text));
        }
    }
    for (key, script) in &profile.initramfs {
        if let Some(name) = key.strip_prefix(INITRAMFS_HOOK_KEY) {
            out.push((format!("{INITRAMFS_HOOKS}{name}"), script.clone()));
        }
    }
    out
}

/// The mode a [`pre_configure_files`] file is written with: hooks are executable.
pub(crate) fn pre_configure_mode(rel: &str) -> u32 {
    if rel.starts_with(INITRAMFS_HOOKS) {
        0o755
    } else {
        0o644
    }
}

/// The profile keys (in its initramfs settings) `particle.hook.NAME`, whose value is an
/// initramfs-tools hook script the variant adds.
pub const INITRAMFS_HOOK_KEY: &str = "particle.hook.";

/// Where those hooks are written (`…/hooks/particle-variant-NAME`), where mkinitramfs runs
/// every hook.
pub(crate) const INITRAMFS_HOOKS: &str = "usr/share/initramfs-tools/hooks/particle-variant-";

/// The initramfs-tools settings a profile writes.
pub(crate) const INITRAMFS_CONF: &str = "etc/initramfs-tools/conf.d/particle.conf";

/// The profile key (in its initramfs settings) listing modules the variant's initramfs must
/// hold and load, space-separated. A dotted key is never an initramfs-tools variable.
pub const INITRAMFS_MODULES_KEY: &str = "particle.modules";

/// Where they are written: mkinitramfs adds every module listed in
/// `/usr/share/initramfs-tools/modules.d/*` (and loads it at boot), as `/etc/initramfs-tools/
/// modules` does, and the file belongs to the variant's `/usr`.
pub(crate) const INITRAMFS_MODULES: &str = "usr/share/initramfs-tools/modules.d/particle-variant";

/// The initramfs-tools half of an OSTree boot (docs/boot.md): a hook that copies
/// `ostree-prepare-root` into the initramfs and a `local-bottom` script that runs it on the
/// mounted root. `(path in the tree, contents)`, executable.
pub(crate) const BOOT_CHAIN: [(&str, &str); 2] = [
    (
        "usr/share/initramfs-tools/hooks/particle-ostree",
        include_str!("boot/hook.sh"),
    ),
    (
        "usr/share/initramfs-tools/scripts/local-bottom/particle-ostree",
        include_str!("boot/local-bottom.sh"),
    ),
];

/// Whether a tree of these packages gets [`BOOT_CHAIN`]: it builds its initramfs with
/// initramfs-tools and has `ostree-prepare-root` (package `ostree-boot`) to put in it. Trees
/// without `ostree-boot` (every journal written before the boot chain existed) stay as they were,
/// bit for bit.
pub(crate) fn wants_boot_chain<'a>(mut packages: impl Iterator<Item = &'a str>) -> bool {
    let (mut tools, mut boot) = (false, false);
    packages.any(|name| {
        tools |= name == "initramfs-tools";
        boot |= name == "ostree-boot";
        tools && boot
    })
}

/// The profile's generated files: `(path in the tree, contents)`, each sorted (pure). Those
/// scripts must see come from [`pre_configure_files`] instead.
pub(crate) fn profile_files(profile: &crate::Profile) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let kargs = profile.kargs.join(" ");
    out.push(("usr/lib/particle/kargs".to_owned(), format!("{kargs}\n")));
    // bootc's kargs.d (read at deploy time by bootc) and kernel-install's cmdline.
    let toml: Vec<String> = profile.kargs.iter().map(|k| format!("{k:?}")).collect();
    out.push((
        "usr/lib/bootc/kargs.d/10-particle.toml".to_owned(),
        format!("kargs = [{}]\n", toml.join(", ")),
    ));
    out.push(("usr/lib/kernel/cmdline".to_owned(), format!("{kargs}\n")));
    if !profile.sysctl.is_empty() {
        let text: String = profile
            .sysctl
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect();
        out.push(("usr/lib/sysctl.d/50-particle.conf".to_owned(), text));
    }
    out
}

fn read_optional(path: &Path) -> Result<String, LayoutError> {
    match kind(path)? {
        Kind::Other => fs::read_to_string(path).map_err(io_err("read", path)),
        _ => Ok(String::new()),
    }
}

/// Every system group and user of the tree (`/etc/group`, `/etc/passwd`: ids below 1000, and
/// `nogroup`/`nobody`; root is always there) as `systemd-sysusers` lines with their ids fixed
/// (pure). On a machine, ostree's three-way merge keeps a locally changed `/etc/passwd` whole, so
/// a user that a new package's maintainer script created in the commit would be missing there;
/// `systemd-sysusers` reads this file at every boot and adds what is missing, with the id the
/// files in `/usr` are owned by. Users and groups that exist are left alone.
pub(crate) fn sysusers_conf(passwd: &str, group: &str, declared: &str) -> String {
    let system = |id: u32| (1..1000).contains(&id) || id == 65534;
    // Names the packages' own sysusers.d files declare are theirs (systemd's basic.conf,
    // ...): declaring them again only makes systemd-sysusers warn about the conflict.
    let taken = |kind: &str, name: &str| {
        declared.lines().any(|l| {
            let mut f = l.split_whitespace();
            f.next() == Some(kind) && f.next() == Some(name)
        })
    };
    let mut out = String::from(
        "# Written by particle: the tree's system users and groups, created at boot when\n# /etc lacks them (a machine whose /etc/passwd has local changes keeps its own file).\n",
    );
    let mut members = Vec::new();
    for l in group.lines() {
        let f: Vec<&str> = l.split(':').collect();
        let (Some(name), Some(gid)) = (f.first(), f.get(2).and_then(|g| g.parse::<u32>().ok()))
        else {
            continue;
        };
        if !system(gid) {
            continue;
        }
        for m in f
            .get(3)
            .into_iter()
            .flat_map(|m| m.split(','))
            .filter(|m| !m.is_empty())
        {
            members.push(format!("m {m} {name}"));
        }
        if !taken("g", name) && !taken("u", name) {
            let _ = writeln!(out, "g {name} {gid}");
        }
    }
    for l in passwd.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 7 {
            continue;
        }
        let (Ok(uid), Ok(gid)) = (f[2].parse::<u32>(), f[3].parse::<u32>()) else {
            continue;
        };
        if !system(uid) || taken("u", f[0]) {
            continue;
        }
        let gecos = if f[4].is_empty() {
            "-".to_owned()
        } else {
            format!("{:?}", f[4])
        };
        let home = if f[5].is_empty() { "-" } else { f[5] };
        let shell = if f[6].is_empty() { "-" } else { f[6] };
        let _ = writeln!(out, "u {} {uid}:{gid} {gecos} {home} {shell}", f[0]);
    }
    for m in members {
        let _ = writeln!(out, "{m}");
    }
    out
}

fn id_names(path: &Path) -> Result<BTreeMap<u32, String>, LayoutError> {
    if kind(path)? != Kind::Other {
        return Ok(BTreeMap::new());
    }
    let text = fs::read_to_string(path).map_err(io_err("read", path))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.get(2)?.parse().ok()?, (*f.first()?).to_owned()))
        })
        .collect())
}

fn var_to_tmpfiles(
    tree: &Path,
    rel: &str,
    users: &BTreeMap<u32, String>,
    groups: &BTreeMap<u32, String>,
    lines: &mut Vec<String>,
) -> Result<(), LayoutError> {
    let dir = tree.join(rel);
    for name in sorted_entries(&dir)? {
        let child = format!("{rel}/{name}");
        let path = tree.join(&child);
        let meta = fs::symlink_metadata(&path).map_err(io_err("inspect", &path))?;
        if name
            .chars()
            .any(|c| c.is_whitespace() || c == '%' || c == '\\')
        {
            return Err(LayoutError::Refused {
                action: "describe in tmpfiles.d",
                path,
                reason: "the name has whitespace, % or \\".to_owned(),
            });
        }
        let user = users
            .get(&meta.uid())
            .cloned()
            .unwrap_or_else(|| meta.uid().to_string());
        let group = groups
            .get(&meta.gid())
            .cloned()
            .unwrap_or_else(|| meta.gid().to_string());
        let mode = meta.mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).map_err(io_err("read", &path))?;
            lines.push(format!("L /{child} - - - - {}", target.display()));
        } else if meta.is_dir() {
            lines.push(format!("d /{child} {mode:04o} {user} {group} - -"));
            var_to_tmpfiles(tree, &child, users, groups, lines)?;
        } else if meta.is_file() {
            // Shipped files go to the factory and are copied at boot if missing.
            let factory = format!("usr/share/factory/{child}");
            let (parent, _) = factory.rsplit_once('/').unwrap_or(("", &factory));
            ensure_dir(tree, parent)?;
            fs::rename(&path, tree.join(&factory))
                .map_err(io_err("move to /usr/share/factory", &path))?;
            lines.push(format!("C /{child} - - - - /{factory}"));
        } else {
            return Err(LayoutError::Refused {
                action: "keep",
                path,
                reason: "special file in /var".to_owned(),
            });
        }
    }
    Ok(())
}

/// A kernel's files: the name prefix in `/boot` (before `$kver`), the name in
/// `/usr/lib/modules/$kver/`.
const KERNEL_FILES: [(&str, &str); 4] = [
    ("vmlinuz-", "vmlinuz"),
    ("initrd.img-", "initramfs.img"),
    ("config-", "config"),
    ("System.map-", "System.map"),
];

/// `/boot/vmlinuz-$kver` (and its initrd, config, System.map) to `/usr/lib/modules/$kver/`.
fn move_kernels(tree: &Path) -> Result<(), LayoutError> {
    let boot = tree.join("boot");
    if kind(&boot)? != Kind::Dir {
        return Ok(());
    }
    for name in sorted_entries(&boot)? {
        let Some(kver) = name.strip_prefix("vmlinuz-") else {
            continue;
        };
        let moddir = ensure_dir(tree, &format!("usr/lib/modules/{kver}"))?;
        for (prefix, dest) in KERNEL_FILES {
            let src = boot.join(format!("{prefix}{kver}"));
            if kind(&src)? == Kind::Other {
                fs::rename(&src, moddir.join(dest)).map_err(io_err("move kernel file", &src))?;
            }
        }
    }
    for l in ["vmlinuz", "vmlinuz.old", "initrd.img", "initrd.img.old"] {
        if kind(&tree.join(l))? == Kind::Symlink {
            remove_any(&tree.join(l))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn profile_files_are_sorted_and_complete() {
        let profile = crate::Profile {
            kargs: vec!["quiet".into(), "console=ttyS0".into()],
            initramfs: BTreeMap::from([
                ("MODULES".into(), "dep".into()),
                ("COMPRESS".into(), "zstd".into()),
            ]),
            sysctl: BTreeMap::from([("vm.swappiness".into(), "10".into())]),
        };
        insta::assert_debug_snapshot!(profile_files(&profile), @r#"
        [
            (
                "usr/lib/particle/kargs",
                "quiet console=ttyS0\n",
            ),
            (
                "usr/lib/bootc/kargs.d/10-particle.toml",
                "kargs = [\"quiet\", \"console=ttyS0\"]\n",
            ),
            (
                "usr/lib/kernel/cmdline",
                "quiet console=ttyS0\n",
            ),
            (
                "usr/lib/sysctl.d/50-particle.conf",
                "vm.swappiness = 10\n",
            ),
        ]
        "#);
        insta::assert_debug_snapshot!(pre_configure_files(&profile), @r#"
        [
            (
                "etc/initramfs-tools/conf.d/particle.conf",
                "COMPRESS=zstd\nMODULES=dep\n",
            ),
        ]
        "#);
        assert!(pre_configure_files(&crate::Profile::default()).is_empty());
    }

    #[test]
    fn the_boot_chain_needs_initramfs_tools_and_ostree_boot() {
        assert!(wants_boot_chain(
            [
                "systemd",
                "ostree-boot",
                "linux-image-amd64",
                "initramfs-tools"
            ]
            .into_iter()
        ));
        assert!(!wants_boot_chain(["initramfs-tools", "ostree"].into_iter()));
        assert!(!wants_boot_chain(["ostree-boot", "dracut"].into_iter()));
        assert!(!wants_boot_chain(std::iter::empty()));
        for (path, text) in BOOT_CHAIN {
            assert!(text.starts_with("#!/bin/sh\n"), "{path} is a shell script");
            assert!(
                text.contains("prereqs)"),
                "{path} answers initramfs-tools' prereqs call"
            );
        }
    }

    /// The scripts run under `sh -n` (syntax) and the local-bottom script does nothing on a
    /// command line without `ostree=` (a non-OSTree boot of the same initramfs).
    #[test]
    fn the_boot_chain_scripts_parse_and_ignore_plain_boots() {
        for (path, text) in BOOT_CHAIN {
            let out = std::process::Command::new("sh")
                .args(["-n", "-c", text])
                .output()
                .expect("sh runs");
            assert!(
                out.status.success(),
                "{path}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = std::process::Command::new("sh")
                .args(["-c", text, "sh", "prereqs"])
                .output()
                .expect("sh runs");
            assert!(out.status.success(), "{path} prereqs");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "\n",
                "{path}: no prerequisites"
            );
        }
    }

    #[test]
    fn system_users_become_sysusers_lines() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n";
        let group =
            "root:x:0:\ndaemon:x:1:\nadm:x:4:syslog,alice\nnogroup:x:65534:\nalice:x:1000:\n";
        let declared = "# systemd's own\nu nobody 65534 \"Kernel Overflow User\" -\ng adm 4\n";
        insta::assert_snapshot!(sysusers_conf(passwd, group, declared), @r#"
        # Written by particle: the tree's system users and groups, created at boot when
        # /etc lacks them (a machine whose /etc/passwd has local changes keeps its own file).
        g daemon 1
        g nogroup 65534
        u daemon 1:1 "daemon" /usr/sbin /usr/sbin/nologin
        u sshd 100:65534 - /run/sshd /usr/sbin/nologin
        m syslog adm
        m alice adm
        "#);
    }

    #[test]
    fn merge_usr_moves_files_and_resolves_compat_links() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        fs::create_dir_all(r.join("bin")).expect("mkdir");
        fs::create_dir_all(r.join("usr/bin")).expect("mkdir");
        fs::write(r.join("bin/bash"), b"bash").expect("write");
        fs::write(r.join("usr/bin/same"), b"x").expect("write");
        fs::write(r.join("bin/same"), b"x").expect("write");
        std::os::unix::fs::symlink("/usr/bin/compat", r.join("bin/compat")).expect("symlink");
        fs::write(r.join("usr/bin/compat"), b"real").expect("write");
        merge_usr(r).expect("merge");
        assert_eq!(
            fs::read_link(r.join("bin")).expect("link"),
            Path::new("usr/bin")
        );
        assert_eq!(fs::read(r.join("usr/bin/bash")).expect("moved"), b"bash");
        assert_eq!(fs::read(r.join("usr/bin/compat")).expect("kept"), b"real");
        assert_eq!(
            fs::read_link(r.join("lib64")).expect("link"),
            Path::new("usr/lib64")
        );

        let t2 = tempfile::tempdir().expect("tempdir");
        let r2 = t2.path();
        fs::create_dir_all(r2.join("sbin")).expect("mkdir");
        fs::create_dir_all(r2.join("usr/sbin")).expect("mkdir");
        fs::write(r2.join("sbin/x"), b"one").expect("write");
        fs::write(r2.join("usr/sbin/x"), b"two").expect("write");
        let err = merge_usr(r2).expect_err("conflict");
        assert_eq!(
            err.to_string(),
            "cannot merge /sbin into /usr/sbin: x exists in both and differs"
        );
    }

    #[test]
    fn variant_conf_names_everything() {
        let v = VariantInfo {
            variant: "base",
            description: Some("Particle-OS foundation"),
            parent: None,
            txn_id: "t1",
            seq: 3,
            journal_head: "abc",
        };
        insta::assert_snapshot!(variant_conf(&v), @r"
        # Written by particle: which variant and transaction this tree is.
        VARIANT=base
        PARENT_VARIANT=
        TXN_ID=t1
        TXN_SEQ=3
        JOURNAL_HEAD=abc
        ");
        let child = VariantInfo {
            variant: "bosom",
            parent: Some("base"),
            ..v
        };
        insta::assert_snapshot!(machine_variant_conf(&child), @r"
        # Written by particle: which Particle-OS variant this system is.
        [Variant]
        Name=bosom
        Description=Particle-OS foundation
        Version=bosom.3
        BaseRef=particle-os/bosom
        InheritsFrom=base
        Transaction=3
        JournalHead=abc
        ");
    }
}
