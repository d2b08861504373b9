//! Shared helpers: the real index and pool, a test-only dependency closure, .deb builders.

use materializer::{BuildInput, PackageInput, Profile};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use store::{Package, PackageEntry, Priority, Sha256, TxnId, Universe};

/// The shared mirror: `$PARTICLE_MIRROR`, else `../shared/debian-mirror` beside the checkout.
pub(crate) fn mirror() -> std::path::PathBuf {
    match std::env::var_os("PARTICLE_MIRROR") {
        Some(p) => std::path::PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/debian-mirror"),
    }
}

/// The bookworm index, restricted to packages whose .deb is in the pool.
pub(crate) fn pool() -> &'static Vec<Package> {
    static POOL: OnceLock<Vec<Package>> = OnceLock::new();
    POOL.get_or_init(|| {
        let xz = std::fs::read(mirror().join("dists/bookworm/main/binary-amd64/Packages.xz"))
            .expect("read Packages.xz");
        let text = store::decompress(&xz, store::Compression::Xz, 1 << 30)
            .expect("decompress Packages.xz");
        let Universe { packages } = store::parse_packages_bytes(&text).expect("parse Packages");
        packages
            .into_iter()
            .filter(|p| {
                (p.arch == "amd64" || p.arch == "all") && mirror().join(&p.filename).is_file()
            })
            .collect()
    })
}

/// TEST-ONLY dependency closure (the solver owns real resolution): from `roots`, follow
/// Pre-Depends and Depends, taking the first alternative present in the pool (by name, or by
/// Provides) whose version constraint holds. No conflicts, no Recommends.
pub(crate) fn test_closure(roots: &[&str]) -> Vec<&'static Package> {
    let pool = pool();
    let mut by_name: HashMap<&str, Vec<&Package>> = HashMap::new();
    for p in pool {
        by_name.entry(p.name.as_str()).or_default().push(p);
        for prov in &p.provides {
            by_name.entry(prov.name.as_str()).or_default().push(p);
        }
    }
    let mut chosen: BTreeMap<&str, &Package> = BTreeMap::new();
    let mut queue: VecDeque<&str> = roots.iter().copied().collect();
    while let Some(name) = queue.pop_front() {
        if chosen.contains_key(name) {
            continue;
        }
        let p = by_name
            .get(name)
            .and_then(|c| c.iter().find(|p| p.name == name).or(c.first()))
            .unwrap_or_else(|| panic!("{name} is not in the pool"));
        if chosen.contains_key(p.name.as_str()) {
            continue;
        }
        chosen.insert(&p.name, p);
        for dep in p.pre_depends.iter().chain(&p.depends) {
            let pick = dep.alternatives.iter().find_map(|r| {
                by_name.get(r.name.as_str())?.iter().find(|c| {
                    chosen.contains_key(c.name.as_str())
                        || c.name != r.name
                        || r.constraint.as_ref().is_none_or(|k| k.matches(&c.version))
                })
            });
            let pick = pick.unwrap_or_else(|| {
                panic!("{}: no alternative of a dependency is in the pool", p.name)
            });
            queue.push_back(&pick.name);
        }
    }
    chosen.into_values().collect()
}

/// The minbase set: Essential + Priority required + apt, closed over dependencies.
pub(crate) fn minbase() -> Vec<&'static Package> {
    let mut roots: BTreeSet<&str> = pool()
        .iter()
        .filter(|p| p.essential || p.priority == Priority::Required)
        .map(|p| p.name.as_str())
        .collect();
    roots.insert("apt");
    test_closure(&roots.into_iter().collect::<Vec<_>>())
}

pub(crate) fn package_input(p: &Package) -> PackageInput {
    PackageInput {
        package: p.entry(),
        deb_path: Some(mirror().join(&p.filename)),
    }
}

/// A `.deb` built by a test, pinned as `name version arch` with its own digest.
pub(crate) fn deb_input(name: &str, version: &str, arch: &str, deb: &Path) -> PackageInput {
    let bytes = std::fs::read(deb).unwrap_or_else(|e| panic!("read {}: {e}", deb.display()));
    PackageInput {
        package: PackageEntry {
            name: name.to_owned(),
            version: version.to_owned(),
            arch: arch.to_owned(),
            sha256: Sha256::of(&bytes),
        },
        deb_path: Some(deb.to_owned()),
    }
}

pub(crate) fn build_input(packages: Vec<PackageInput>, seq: u64) -> BuildInput {
    BuildInput {
        variant: "base".to_owned(),
        description: None,
        parent_variant: None,
        seq,
        journal_head: TxnId::GENESIS,
        time: 1_700_000_000,
        packages,
        profile: Profile {
            kargs: vec!["quiet".to_owned(), "rw".to_owned()],
            initramfs: BTreeMap::from([("COMPRESS".to_owned(), "zstd".to_owned())]),
            sysctl: BTreeMap::from([("kernel.printk".to_owned(), "3 4 1 3".to_owned())]),
        },
        inrelease: BTreeMap::from([("bookworm".to_owned(), "sha256:abc".to_owned())]),
        parent_commit: None,
        base_commit: None,
        architectures: Vec::new(),
    }
}

pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tar entry for hand-made (hostile) archives: raw names, no validation.
pub(crate) enum Entry<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    CharDev(&'a str),
    Fifo(&'a str),
}

fn raw_header(
    name: &str,
    kind: tar::EntryType,
    size: u64,
    mode: u32,
    link: Option<&str>,
) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    let gnu = h.as_gnu_mut().expect("gnu header");
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    if let Some(link) = link {
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    h
}

pub(crate) fn tar_of(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (h, data): (tar::Header, &[u8]) = match e {
            Entry::Dir(n) => (
                raw_header(n, tar::EntryType::Directory, 0, 0o755, None),
                b"",
            ),
            Entry::File(n, d) => (
                raw_header(n, tar::EntryType::Regular, d.len() as u64, 0o644, None),
                d,
            ),
            Entry::Symlink(n, t) => (
                raw_header(n, tar::EntryType::Symlink, 0, 0o777, Some(t)),
                b"",
            ),
            Entry::Hardlink(n, t) => (raw_header(n, tar::EntryType::Link, 0, 0o644, Some(t)), b""),
            Entry::CharDev(n) => (raw_header(n, tar::EntryType::Char, 0, 0o644, None), b""),
            Entry::Fifo(n) => (raw_header(n, tar::EntryType::Fifo, 0, 0o644, None), b""),
        };
        b.append(&h, data).expect("append");
    }
    b.into_inner().expect("finish tar")
}

/// A .deb assembled by hand (ar of debian-binary, control.tar, data.tar), so the data tar can
/// hold entries `dpkg-deb -b` would never produce.
pub(crate) fn hand_made_deb(dir: &Path, name: &str, data: &[Entry<'_>]) -> PathBuf {
    let control = format!("Package: {name}\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: hostile test package\n");
    let control_tar = tar_of(&[
        Entry::Dir("./"),
        Entry::File("./control", control.as_bytes()),
    ]);
    let data_tar = tar_of(data);
    let mut ar = b"!<arch>\n".to_vec();
    for (member, bytes) in [
        ("debian-binary", &b"2.0\n"[..]),
        ("control.tar", &control_tar),
        ("data.tar", &data_tar),
    ] {
        ar.extend_from_slice(
            format!(
                "{member:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                0,
                0,
                0,
                100644,
                bytes.len()
            )
            .as_bytes(),
        );
        ar.extend_from_slice(bytes);
        if bytes.len() % 2 == 1 {
            ar.push(b'\n');
        }
    }
    let path = dir.join(format!("{name}_1.0_all.deb"));
    std::fs::write(&path, ar).expect("write deb");
    path
}

/// A .deb built with `dpkg-deb -b` from files and maintainer scripts.
pub(crate) fn dpkg_deb(
    dir: &Path,
    name: &str,
    files: &[(&str, &str)],
    scripts: &[(&str, &str)],
    extra_control: &str,
) -> PathBuf {
    dpkg_deb_version(dir, name, "1.0", files, scripts, extra_control)
}

/// [`dpkg_deb`] of a given version.
pub(crate) fn dpkg_deb_version(
    dir: &Path,
    name: &str,
    version: &str,
    files: &[(&str, &str)],
    scripts: &[(&str, &str)],
    extra_control: &str,
) -> PathBuf {
    let root = dir.join(format!("build-{name}-{version}"));
    std::fs::create_dir_all(root.join("DEBIAN")).expect("mkdir");
    std::fs::write(
        root.join("DEBIAN/control"),
        format!("Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.org>\n{extra_control}Description: test package\n"),
    )
    .expect("write control");
    for (script, body) in scripts {
        let p = root.join("DEBIAN").join(script);
        std::fs::write(&p, body).expect("write script");
        run(Command::new("chmod").arg("0755").arg(&p));
    }
    for (path, body) in files {
        let p = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, body).expect("write file");
    }
    let out = dir.join(format!("{name}_{version}_all.deb"));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "-b"])
        .arg(&root)
        .arg(&out)
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    out
}

/// Every file under `dir` with its contents (for "nothing outside changed" checks).
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            let m = std::fs::symlink_metadata(&p).expect("lstat");
            if m.is_dir() {
                out.insert(p.clone(), b"<dir>".to_vec());
                stack.push(p);
            } else if m.file_type().is_symlink() {
                out.insert(
                    p.clone(),
                    std::fs::read_link(&p)
                        .expect("readlink")
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            } else {
                out.insert(p.clone(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// Number of commit objects in a repository.
pub(crate) fn commit_count(repo: &Path) -> usize {
    let out = run(Command::new("find")
        .arg(repo.join("objects"))
        .args(["-name", "*.commit"]));
    out.lines().count()
}

/// Brings a checkout up as a boot would (a copy; `/usr/etc` to `/etc`, tmpfiles for `/var`)
/// and checks in a chroot of it: `dpkg --audit` reports nothing, dpkg lists exactly `packages`
/// as installed, `apt-get check` passes and `/bin/sh` runs. Returns the brought-up root.
pub(crate) fn boots_with_exactly(checkout: &Path, packages: &[PackageInput]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    run(Command::new("cp").arg("-a").arg(checkout).arg(&root));
    run(Command::new("cp")
        .arg("-a")
        .arg(root.join("usr/etc"))
        .arg(root.join("etc")));
    // tmpfiles may warn about entries for things the host lacks; what matters is the tree.
    let _ = Command::new("systemd-tmpfiles")
        .arg(format!("--root={}", root.display()))
        .args(["--create", "--boot"])
        .status();
    assert!(
        root.join("var/lib/dpkg/status").is_file(),
        "tmpfiles did not link /var/lib/dpkg"
    );
    let chroot = |args: &[&str]| {
        run(Command::new("chroot")
            .arg(&root)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C"))
    };
    assert_eq!(chroot(&["dpkg", "--audit"]), "");
    let listed = chroot(&[
        "dpkg-query",
        "-W",
        "-f",
        "${Package} ${Version} ${Status}\\n",
    ]);
    let listed: BTreeSet<String> = listed.lines().map(str::to_owned).collect();
    let expected: BTreeSet<String> = packages
        .iter()
        .map(|p| {
            format!(
                "{} {} install ok installed",
                p.package.name, p.package.version
            )
        })
        .collect();
    assert_eq!(listed, expected);
    chroot(&["apt-get", "check"]);
    chroot(&["/bin/sh", "-c", "true"]);
    chroot(&["ls", "/root/.bashrc"]);
    dir
}
