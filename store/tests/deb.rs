//! The `.deb` reader on real packages (the shared mirror's pool), on packages built here with
//! `dpkg-deb` in every compression, and on hostile archives made here byte by byte.

use md5::{Digest, Md5};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use store::{Compression, DebError, DebLimits, DebReader, EntryKind, EntryMeta};

fn mirror() -> PathBuf {
    match std::env::var_os("PARTICLE_MIRROR") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/debian-mirror"),
    }
}

/// Every `Packages.xz` the mirror's InRelease lists and the mirror holds (main, contrib, non-free,
/// non-free-firmware; amd64 and i386), each checked against the SHA256 the InRelease gives it,
/// decompressed. The test reads them all because the pool holds packages from each.
fn mirror_indices(mirror: &Path) -> Vec<(String, String)> {
    let suite = mirror.join("dists/bookworm");
    let inrelease = std::fs::read(suite.join("InRelease"))
        .expect("the shared mirror's InRelease (set PARTICLE_MIRROR if it is elsewhere)");
    let signed = store::split_clearsigned(&inrelease).expect("InRelease is clearsigned");
    let release = store::parse_release(&signed.text).expect("InRelease parses");
    let mut out = Vec::new();
    for f in &release.files {
        if !f.path.ends_with("/Packages.xz") || !f.path.contains("/binary-") {
            continue;
        }
        let Ok(raw) = std::fs::read(suite.join(&f.path)) else {
            continue; // listed but not mirrored (other architectures, debian-installer)
        };
        assert_eq!(
            store::Sha256::of(&raw),
            f.sha256,
            "{} matches its InRelease hash",
            f.path
        );
        let text = store::decompress(&raw, Compression::Xz, 1 << 30)
            .unwrap_or_else(|e| panic!("{} decompresses: {e}", f.path));
        let text = String::from_utf8(text).unwrap_or_else(|_| panic!("{} is UTF-8", f.path));
        out.push((f.path.clone(), text));
    }
    let names: Vec<&str> = out.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "main/binary-amd64/Packages.xz",
        "main/binary-i386/Packages.xz",
        "non-free-firmware/binary-amd64/Packages.xz",
    ] {
        assert!(names.contains(&want), "{want} is mirrored; found {names:?}");
    }
    out
}

fn pool_debs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("pool directory is readable") {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            pool_debs(&p, out);
        } else if p.extension().is_some_and(|x| x == "deb") {
            out.push(p);
        }
    }
}

/// Every field of the .deb's control stanza, as the archive's Packages stanza repeats it.
/// Description is shortened to its first line in bookworm's Packages (the long text is in
/// Translation-en), and the archive may override Section and Priority; every other field must
/// be identical.
#[test]
fn every_pool_deb_reads_fully_and_matches_its_index() {
    let mirror = mirror();
    let indices = mirror_indices(&mirror);
    let mut by_filename: HashMap<&str, store::Paragraph<'_>> = HashMap::new();
    for (path, text) in &indices {
        for p in store::paragraphs(text) {
            let p = p.unwrap_or_else(|e| panic!("{path} parses: {e}"));
            if let Some(f) = p.get("Filename") {
                // An `Architecture: all` package is in every architecture's index of its
                // component, with the same stanza.
                if let Some(seen) = by_filename.get(f) {
                    assert_eq!(seen.get("SHA256"), p.get("SHA256"), "{f} in {path}");
                }
                by_filename.insert(f, p);
            }
        }
    }
    let mut debs = Vec::new();
    pool_debs(&mirror.join("pool"), &mut debs);
    debs.sort();
    let listed = std::fs::read_to_string(mirror.join("POOL.txt")).expect("POOL.txt");
    assert_eq!(
        debs.len(),
        listed.lines().filter(|l| !l.trim().is_empty()).count(),
        "every pool .deb is listed"
    );
    assert!(
        debs.len() >= 200,
        "the pool holds the expected packages, found {}",
        debs.len()
    );

    let start = Instant::now();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = debs.len().div_ceil(workers);
    let stats = std::thread::scope(|s| {
        let handles: Vec<_> = debs
            .chunks(chunk)
            .map(|paths| {
                let (mirror, by_filename) = (&mirror, &by_filename);
                s.spawn(move || {
                    let mut st = Stats::default();
                    for path in paths {
                        check_pool_deb(mirror, path, by_filename, &mut st);
                    }
                    st
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked: see its message above"))
            .fold(Stats::default(), Stats::add)
    });
    let took = start.elapsed();
    eprintln!(
        "read {} pool .debs ({} files, {} entries, {} MiB of content) in {took:.2?} on {workers} threads; \
         largest tar/Installed-Size ratio {:.2}",
        debs.len(),
        stats.files,
        stats.entries,
        stats.bytes >> 20,
        stats.max_ratio
    );
}

#[derive(Default)]
struct Stats {
    files: u64,
    entries: u64,
    bytes: u64,
    max_ratio: f64,
}

impl Stats {
    fn add(self, o: Stats) -> Stats {
        Stats {
            files: self.files + o.files,
            entries: self.entries + o.entries,
            bytes: self.bytes + o.bytes,
            max_ratio: self.max_ratio.max(o.max_ratio),
        }
    }
}

fn check_pool_deb(
    mirror: &Path,
    path: &Path,
    by_filename: &HashMap<&str, store::Paragraph<'_>>,
    st: &mut Stats,
) {
    let rel = path
        .strip_prefix(mirror)
        .expect("under the mirror")
        .to_str()
        .expect("UTF-8 path");
    let stanza = by_filename
        .get(rel)
        .unwrap_or_else(|| panic!("{rel} is in Packages"));
    let deb =
        DebReader::open(path, DebLimits::default()).unwrap_or_else(|e| panic!("{rel}: {e:?}"));
    let control = deb.control();
    for (k, v) in &control.fields {
        if ["Description", "Section", "Priority"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(k))
        {
            continue;
        }
        assert_eq!(stanza.get(k), Some(v.trim()), "{rel}: field {k}");
    }
    let description = control.field("Description").expect("a Description");
    let first = description.lines().next().expect("a first line");
    assert_eq!(
        stanza.get("Description"),
        Some(first.trim()),
        "{rel}: Description"
    );
    let indexed = store::package_from_paragraph(stanza).expect("the stanza is typed");
    let mut typed = control.package.clone();
    (typed.filename, typed.size, typed.sha256) =
        (indexed.filename.clone(), indexed.size, indexed.sha256);
    (typed.section, typed.priority) = (indexed.section.clone(), indexed.priority);
    assert_eq!(typed, indexed, "{rel}: typed view");

    let md5s: HashMap<Vec<u8>, [u8; 16]> = control
        .md5sums
        .iter()
        .map(|m| (m.path.clone(), m.md5))
        .collect();
    let installed = control.package.installed_size;
    let (control, mut data) = deb
        .into_entries()
        .unwrap_or_else(|e| panic!("{rel}: {e:?}"));
    let mut checked = 0;
    let mut tar_bytes = 0u64;
    let mut seen: HashMap<Vec<u8>, [u8; 16]> = HashMap::new();
    for entry in data.entries().unwrap_or_else(|e| panic!("{rel}: {e:?}")) {
        let mut entry = entry.unwrap_or_else(|e| panic!("{rel}: {e:?}"));
        st.entries += 1;
        tar_bytes += 512 + entry.meta.size.div_ceil(512) * 512;
        let got = match entry.meta.kind {
            EntryKind::File => {
                st.files += 1;
                let mut h = Md5::new();
                let n = io::copy(&mut entry, &mut HashWriter(&mut h)).expect("content reads");
                assert_eq!(n, entry.meta.size, "{rel}: {}", entry.meta.display_path());
                st.bytes += n;
                let got: [u8; 16] = h.finalize().into();
                seen.insert(entry.meta.relative_path().to_vec(), got);
                got
            }
            // A hard link has its target's content, which came earlier in the archive.
            EntryKind::HardLink => {
                let target = entry
                    .meta
                    .link_target
                    .as_deref()
                    .expect("a hard link has a target");
                let target = target.strip_prefix(b"./").unwrap_or(target);
                *seen
                    .get(target)
                    .unwrap_or_else(|| panic!("{rel}: hard link to an unseen file"))
            }
            _ => continue,
        };
        if let Some(want) = md5s.get(entry.meta.relative_path()) {
            assert_eq!(&got, want, "{rel}: md5 of {}", entry.meta.display_path());
            checked += 1;
        }
    }
    data.finish().unwrap_or_else(|e| panic!("{rel}: {e:?}"));
    assert_eq!(
        checked,
        md5s.len(),
        "{rel}: every md5sums line names a regular file of data.tar"
    );
    if let Some(ratio) = (tar_bytes as f64).checked_div_nonzero(installed as f64 * 1024.0) {
        st.max_ratio = st.max_ratio.max(ratio);
    }
    assert!(control.members.contains_key("control"));
}

trait CheckedDiv {
    fn checked_div_nonzero(self, d: f64) -> Option<f64>;
}
impl CheckedDiv for f64 {
    fn checked_div_nonzero(self, d: f64) -> Option<f64> {
        (d > 0.0).then(|| self / d)
    }
}

struct HashWriter<'a>(&'a mut Md5);
impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Packages built with dpkg-deb.

const CONTROL: &str = "Package: particle-test\nVersion: 1.2-3\nArchitecture: all\n\
Maintainer: Particle Tests <tests@example.org>\nInstalled-Size: 40\n\
Depends: libc6 (>= 2.34) | libc6-udeb, base-files\nProvides: particle-virtual (= 1)\n\
Description: a package built by the tests\n with a long description.\n";

fn write(path: &Path, content: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn long_name() -> String {
    format!("{}.txt", "a-rather-long-file-name-".repeat(8))
}

/// A package tree with every kind of entry dpkg-deb puts in a data.tar.
fn package_tree(root: &Path) {
    write(&root.join("DEBIAN/control"), CONTROL.as_bytes(), 0o644);
    write(
        &root.join("DEBIAN/conffiles"),
        b"/etc/particle-test.conf\n",
        0o644,
    );
    write(&root.join("DEBIAN/postinst"), b"#!/bin/sh\nexit 0\n", 0o755);
    write(
        &root.join("DEBIAN/triggers"),
        b"interest /usr/share/particle-test\n",
        0o644,
    );
    write(
        &root.join("etc/particle-test.conf"),
        b"key = value\n",
        0o644,
    );
    write(
        &root.join("usr/bin/particle-tool"),
        &vec![7u8; 20_000],
        0o755,
    );
    write(&root.join("usr/bin/particle-suid"), b"#!/bin/sh\n", 0o4755);
    write(
        &root.join("usr/share/particle-test").join(long_name()),
        b"long\n",
        0o644,
    );
    std::os::unix::fs::symlink("particle-tool", root.join("usr/bin/particle-alias"))
        .expect("symlink");
    std::fs::hard_link(
        root.join("usr/bin/particle-tool"),
        root.join("usr/bin/particle-tool2"),
    )
    .expect("hard link");
    std::fs::create_dir_all(root.join("usr/lib/particle-test")).expect("mkdir");
}

fn dpkg_deb(root: &Path, compressor: &str, out: &Path) {
    let status = Command::new("dpkg-deb")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args([
            "--root-owner-group",
            "--nocheck",
            &format!("-Z{compressor}"),
            "-b",
        ])
        .arg(root)
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("dpkg-deb runs (apt-get install dpkg-dev is not needed: dpkg ships it)");
    assert!(status.success(), "dpkg-deb -Z{compressor} failed");
}

#[test]
fn dpkg_deb_packages_read_back_in_every_compression() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    package_tree(&root);
    for (z, want) in [
        ("xz", Compression::Xz),
        ("gzip", Compression::Gzip),
        ("zstd", Compression::Zstd),
        ("none", Compression::None),
    ] {
        let out = tmp.path().join(format!("p-{z}.deb"));
        dpkg_deb(&root, z, &out);
        let deb =
            DebReader::open(&out, DebLimits::default()).unwrap_or_else(|e| panic!("{z}: {e:?}"));
        assert_eq!(deb.data_compression(), want, "{z}");
        let c = deb.control();
        assert_eq!(c.package.name, "particle-test");
        assert_eq!(c.package.version, "1.2-3");
        assert_eq!(c.package.installed_size, 40);
        assert_eq!(
            c.package.depends[0].to_string(),
            "libc6 (>= 2.34) | libc6-udeb"
        );
        assert_eq!(c.package.provides[0].to_string(), "particle-virtual (= 1)");
        assert_eq!(
            c.field("maintainer"),
            Some("Particle Tests <tests@example.org>")
        );
        assert_eq!(
            c.field("Description"),
            Some("a package built by the tests\n with a long description.")
        );
        assert_eq!(c.conffiles.len(), 1);
        assert_eq!(c.conffiles[0].path, "/etc/particle-test.conf");
        let scripts: Vec<_> = c.maintainer_scripts().collect();
        assert_eq!(scripts, vec![("postinst", &b"#!/bin/sh\nexit 0\n"[..])]);
        assert_eq!(
            c.member("triggers"),
            Some(&b"interest /usr/share/particle-test\n"[..])
        );
        let names: Vec<_> = c.members.keys().map(String::as_str).collect();
        assert_eq!(names, ["conffiles", "control", "postinst", "triggers"]);

        let (_, mut data) = deb.into_entries().expect("data");
        let mut got: Vec<(String, EntryMeta, Vec<u8>)> = Vec::new();
        for e in data.entries().expect("entries") {
            let mut e = e.unwrap_or_else(|err| panic!("{z}: {err:?}"));
            let content = e.read_content().expect("content");
            got.push((
                String::from_utf8_lossy(e.meta.relative_path()).into_owned(),
                e.meta,
                content,
            ));
        }
        data.finish().unwrap_or_else(|e| panic!("{z}: {e:?}"));
        let find = |p: &str| {
            got.iter()
                .find(|(n, ..)| n.trim_end_matches('/') == p)
                .unwrap_or_else(|| {
                    panic!(
                        "{z}: {p} in data.tar: {:?}",
                        got.iter().map(|g| &g.0).collect::<Vec<_>>()
                    )
                })
        };
        let (_, m, content) = find("usr/bin/particle-tool");
        assert_eq!(
            (m.kind, m.mode, m.size, content.len()),
            (EntryKind::File, 0o755, 20_000, 20_000)
        );
        assert_eq!(
            (m.uid, m.gid, m.uname.as_str(), m.gname.as_str()),
            (0, 0, "root", "root")
        );
        assert_eq!(m.mtime, 1_700_000_000);
        let (_, m, _) = find("usr/bin/particle-suid");
        assert_eq!(m.mode, 0o4755);
        let (_, m, _) = find("usr/bin/particle-alias");
        assert_eq!(
            (m.kind, m.link_target.as_deref()),
            (EntryKind::Symlink, Some(&b"particle-tool"[..]))
        );
        // dpkg-deb stores whichever of the two names it meets first as the file.
        let (_, a, _) = find("usr/bin/particle-tool2");
        let (_, b, _) = find("usr/bin/particle-tool");
        assert!(
            [a.kind, b.kind].contains(&EntryKind::HardLink)
                && [a.kind, b.kind].contains(&EntryKind::File),
            "{z}: one hard link: {a:?} {b:?}"
        );
        let (_, m, content) = find(&format!("usr/share/particle-test/{}", long_name()));
        assert_eq!(
            (m.kind, content.as_slice()),
            (EntryKind::File, &b"long\n"[..])
        );
        let (_, m, _) = find("usr/lib/particle-test");
        assert_eq!(m.kind, EntryKind::Directory);

        // The raw stream the materializer extracts from holds the same entries.
        let (_, mut raw) = DebReader::open(&out, DebLimits::default())
            .expect("reopen")
            .into_data()
            .expect("data");
        let mut archive = tar::Archive::new(&mut raw);
        let mut n = 0;
        for e in archive.entries().expect("tar") {
            e.expect("tar entry");
            n += 1;
        }
        assert_eq!(n, got.len(), "{z}");
        raw.finish().expect("finish");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile archives, made here byte by byte. Each must fail with the error that names its fault.

/// A tar header with every numeric field filled, as dpkg-deb writes them.
fn gnu_header() -> tar::Header {
    fill(tar::Header::new_gnu())
}

fn ustar_header() -> tar::Header {
    fill(tar::Header::new_ustar())
}

fn fill(mut h: tar::Header) -> tar::Header {
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h.set_size(0);
    h
}

fn ar_header(name: &str, size: &str) -> Vec<u8> {
    let mut h = vec![b' '; 60];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[16..26].copy_from_slice(b"1700000000");
    h[28] = b'0';
    h[34] = b'0';
    h[40..46].copy_from_slice(b"100644");
    h[48..48 + size.len()].copy_from_slice(size.as_bytes());
    h[58..60].copy_from_slice(b"`\n");
    h
}

fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        out.extend(ar_header(name, &data.len().to_string()));
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// A GNU tar of regular files (mode 0644, root), with the `./` directory first.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = gnu_header();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    b.append_data(&mut dir, "./", io::empty()).expect("tar");
    for (name, data) in files {
        let mut h = gnu_header();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, *data).expect("tar");
    }
    b.into_inner().expect("tar")
}

fn control_text(installed_size_kib: u64) -> String {
    format!("Package: hostile\nVersion: 1\nArchitecture: all\nInstalled-Size: {installed_size_kib}\nDescription: x\n")
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn control_gz(installed_size_kib: u64) -> Vec<u8> {
    gz(&tar_of(&[(
        "./control",
        control_text(installed_size_kib).as_bytes(),
    )]))
}

fn data_gz() -> Vec<u8> {
    gz(&tar_of(&[("./usr/share/doc/hostile/README", b"hello\n")]))
}

/// A well-formed package, to check the builders above make what the reader accepts.
fn good_members() -> (Vec<u8>, Vec<u8>) {
    (control_gz(4), data_gz())
}

/// Reads the whole package as a consumer would: control, every entry's content, the end.
fn read_all(bytes: &[u8], limits: DebLimits) -> Result<usize, DebError> {
    read_all_from(bytes, limits)
}

fn read_all_from<R: Read>(r: R, limits: DebLimits) -> Result<usize, DebError> {
    let deb = DebReader::new(r, limits)?;
    let (_, mut data) = deb.into_entries()?;
    let mut n = 0;
    for e in data.entries()? {
        e?.read_content()?;
        n += 1;
    }
    data.finish()?;
    Ok(n)
}

#[test]
fn hostile_builders_make_a_valid_package() {
    let (c, d) = good_members();
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("data.tar.gz", &d),
    ]);
    assert_eq!(read_all(&deb, DebLimits::default()).expect("valid"), 2);
    // Members starting with `_` are skipped wherever dpkg allows them, as dpkg does.
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("_sig1", b"x"),
        ("control.tar.gz", &c),
        ("_sig2", b"yy"),
        ("data.tar.gz", &d),
        ("_gpgorigin", b"zzz"),
    ]);
    assert_eq!(read_all(&deb, DebLimits::default()).expect("valid"), 2);
    // Minor versions are accepted.
    let deb = ar(&[
        ("debian-binary", b"2.1\n"),
        ("control.tar.gz", &c),
        ("data.tar.gz", &d),
    ]);
    assert_eq!(read_all(&deb, DebLimits::default()).expect("valid"), 2);
}

#[test]
fn hostile_bad_ar_magic() {
    let (c, d) = good_members();
    let mut deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("data.tar.gz", &d),
    ]);
    deb[1] = b'?';
    assert!(matches!(
        read_all(&deb, DebLimits::default()),
        Err(DebError::BadMagic)
    ));
    assert!(matches!(
        read_all(b"", DebLimits::default()),
        Err(DebError::BadMagic)
    ));
}

#[test]
fn hostile_truncated_header() {
    let (c, d) = good_members();
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("data.tar.gz", &d),
    ]);
    // Cut inside the control member's header: 8 (magic) + 60 + 4 + 30.
    let e = read_all(&deb[..8 + 60 + 4 + 30], DebLimits::default()).expect_err("truncated");
    assert!(
        matches!(
            e,
            DebError::TruncatedHeader {
                offset: 72,
                got: 30
            }
        ),
        "{e:?}"
    );
}

#[test]
fn hostile_size_overflow() {
    let (c, d) = good_members();
    let mut deb = ar(&[("debian-binary", b"2.0\n"), ("control.tar.gz", &c)]);
    deb.extend(ar_header("data.tar.gz", "999999"));
    deb.extend(&d);
    // With the length known, before reading the member.
    let e = DebReader::from_bytes(&deb, DebLimits::default()).expect_err("overflow");
    assert!(
        matches!(e, DebError::HeaderOverflow { size: 999_999, .. }),
        "{e:?}"
    );
    // As a stream of unknown length: the member comes up short.
    let e = read_all_from(&deb[..], DebLimits::default()).expect_err("overflow");
    assert!(
        matches!(
            e,
            DebError::Truncated {
                expected: 999_999,
                ..
            }
        ),
        "{e:?}"
    );
    // In the control member too.
    let mut deb = ar(&[("debian-binary", b"2.0\n")]);
    deb.extend(ar_header("control.tar.gz", "5000"));
    deb.extend(&c);
    let e = read_all_from(&deb[..], DebLimits::default()).expect_err("overflow");
    assert!(
        matches!(e, DebError::Truncated { expected: 5000, .. }),
        "{e:?}"
    );
}

#[test]
fn hostile_non_decimal_size_and_bad_terminator() {
    let mut deb = b"!<arch>\n".to_vec();
    deb.extend(ar_header("debian-binary", "0x4"));
    deb.extend(b"2.0\n");
    let e = read_all(&deb, DebLimits::default()).expect_err("bad size");
    assert!(
        matches!(&e, DebError::BadSize { member, .. } if member == "debian-binary"),
        "{e:?}"
    );
    let mut deb = b"!<arch>\n".to_vec();
    let mut h = ar_header("debian-binary", "4");
    h[58] = b'\'';
    deb.extend(h);
    deb.extend(b"2.0\n");
    let e = read_all(&deb, DebLimits::default()).expect_err("bad terminator");
    assert!(matches!(e, DebError::BadHeaderTerminator { .. }), "{e:?}");
}

#[test]
fn hostile_wrong_member_order() {
    let (c, d) = good_members();
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("data.tar.gz", &d),
        ("control.tar.gz", &c),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("order");
    assert!(
        matches!(&e, DebError::MemberOrder { member, .. } if member == "data.tar.gz"),
        "{e:?}"
    );
    let deb = ar(&[
        ("control.tar.gz", &c),
        ("debian-binary", b"2.0\n"),
        ("data.tar.gz", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("order");
    assert!(
        matches!(&e, DebError::NotDebianBinary { found } if found == "control.tar.gz"),
        "{e:?}"
    );
    let deb = ar(&[("debian-binary", b"2.0\n"), ("control.tar.gz", &c)]);
    let e = read_all(&deb, DebLimits::default()).expect_err("missing data");
    assert!(
        matches!(e, DebError::MissingMember { member: "data.tar" }),
        "{e:?}"
    );
}

#[test]
fn hostile_unknown_and_duplicate_members() {
    let (c, d) = good_members();
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("evil", b"x"),
        ("data.tar.gz", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("unknown");
    assert!(
        matches!(&e, DebError::UnknownMember { member } if member == "evil"),
        "{e:?}"
    );
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("control.tar.gz", &c),
        ("data.tar.gz", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("duplicate");
    assert!(
        matches!(&e, DebError::DuplicateMember { member } if member == "control.tar.gz"),
        "{e:?}"
    );
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("duplicate");
    assert!(matches!(&e, DebError::DuplicateMember { .. }), "{e:?}");
    // After the data member, only `_` members may follow.
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("data.tar.gz", &d),
        ("data.tar.gz", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("duplicate data");
    assert!(
        matches!(&e, DebError::DuplicateMember { member } if member == "data.tar.gz"),
        "{e:?}"
    );
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("data.tar.gz", &d),
        ("evil", b"x"),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("trailing");
    assert!(
        matches!(&e, DebError::UnknownMember { member } if member == "evil"),
        "{e:?}"
    );
}

#[test]
fn hostile_unknown_compression() {
    let (c, d) = good_members();
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.lz4", &c),
        ("data.tar.gz", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("unknown compression");
    assert!(
        matches!(&e, DebError::UnknownCompression { member } if member == "control.tar.lz4"),
        "{e:?}"
    );
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("data.tar.br", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("unknown compression");
    assert!(
        matches!(&e, DebError::UnknownCompression { member } if member == "data.tar.br"),
        "{e:?}"
    );
    // Legal for dpkg, refused here (see the module documentation).
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &c),
        ("data.tar.bz2", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("bzip2");
    assert!(
        matches!(&e, DebError::UnsupportedCompression { member } if member == "data.tar.bz2"),
        "{e:?}"
    );
    // A member named .gz that is not gzip.
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &c),
        ("data.tar.gz", &d),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("not xz");
    assert!(
        matches!(&e, DebError::Decompress { member, .. } if member == "control.tar.xz"),
        "{e:?}"
    );
}

#[test]
fn hostile_debian_binary_versions() {
    let (c, d) = good_members();
    for (v, want) in [
        (&b"3.0\n"[..], "3.0"),
        (b"1.0\n", "1.0"),
        (b"20.0\n", "20.0"),
    ] {
        let deb = ar(&[
            ("debian-binary", v),
            ("control.tar.gz", &c),
            ("data.tar.gz", &d),
        ]);
        let e = read_all(&deb, DebLimits::default()).expect_err("version");
        assert!(
            matches!(&e, DebError::UnsupportedVersion { version } if version == want),
            "{e:?}"
        );
    }
    for v in [&b"2.0"[..], b"2\n", b""] {
        let deb = ar(&[
            ("debian-binary", v),
            ("control.tar.gz", &c),
            ("data.tar.gz", &d),
        ]);
        let e = read_all(&deb, DebLimits::default()).expect_err("malformed");
        assert!(matches!(e, DebError::BadDebianBinary { .. }), "{e:?}");
    }
}

/// A gzip stream of zeros, produced on the fly: `len` bytes of output from a few KiB of input.
fn gz_zeros(len: u64) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        e.write_all(&chunk[..n]).expect("gzip");
        left -= n as u64;
    }
    e.finish().expect("gzip")
}

#[test]
fn hostile_decompression_bomb() {
    // A data.tar far above Installed-Size: one file of 256 MiB in a package declaring 4 KiB.
    let size = 256u64 << 20;
    let mut tar_head = Vec::new();
    // Build the tar by hand so the test does not hold 256 MiB: a header, then zeros.
    let mut header = gnu_header();
    header.set_path("./bomb").expect("path");
    header.set_mode(0o644);
    header.set_size(size);
    header.set_cksum();
    tar_head.extend_from_slice(header.as_bytes());
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&tar_head).expect("gzip");
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..(size >> 20) + 1 {
        e.write_all(&chunk).expect("gzip");
    }
    let data = e.finish().expect("gzip");
    assert!(data.len() < 1 << 20, "the bomb is small: {}", data.len());
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &control_gz(4)),
        ("data.tar.gz", &data),
    ]);
    let start = Instant::now();
    let e = read_all(&deb, DebLimits::default()).expect_err("bomb");
    let limit = DebLimits::default().data_limit(4);
    assert!(
        matches!(&e, DebError::TooLarge { member, limit: l, installed_size_kib: Some(4) } if member == "data.tar.gz" && *l == limit),
        "{e:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "stopped early: {:?}",
        start.elapsed()
    );
    // The raw stream the materializer reads stops at the same bound.
    let (_, mut raw) = DebReader::from_bytes(&deb, DebLimits::default())
        .expect("header")
        .into_data()
        .expect("data");
    let err = io::copy(&mut raw, &mut io::sink()).expect_err("bomb");
    let e = DebError::from_io(err).expect("a DebError inside");
    assert!(matches!(e, DebError::TooLarge { .. }), "{e:?}");
    // A control member bomb: 64 MiB of zeros in control.tar.gz.
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &gz_zeros(64 << 20)),
        ("data.tar.gz", &data_gz()),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("control bomb");
    assert!(
        matches!(&e, DebError::TooLarge { member, .. } if member == "control.tar.gz"),
        "{e:?}"
    );
}

/// Bytes from `prefix`, then from `rest` forever.
struct Endless<P, T> {
    prefix: P,
    rest: T,
    served: u64,
}

impl<P: Read, T: Read> Read for Endless<P, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.prefix.read(buf)? {
            0 => self.rest.read(buf)?,
            n => n,
        };
        self.served += n as u64;
        Ok(n)
    }
}

#[test]
fn hostile_streams_that_never_end() {
    let c = control_gz(1000);
    let prefix = |data_size: &str, name: &str| {
        let mut p = ar(&[("debian-binary", b"2.0\n"), ("control.tar.gz", &c)]);
        p.extend(ar_header(name, data_size));
        p
    };
    // A data member claiming ~9.3 GB, far above what Installed-Size allows: refused at its header.
    let r = Endless {
        prefix: io::Cursor::new(prefix("9999999999", "data.tar")),
        rest: io::repeat(0),
        served: 0,
    };
    let e = DebReader::new(r, DebLimits::default()).expect_err("too large");
    assert!(
        matches!(
            e,
            DebError::MemberTooLarge {
                size: 9_999_999_999,
                ..
            }
        ),
        "{e:?}"
    );
    // A plausible member size, then an endless uncompressed tar of files: the entry count stops it.
    let one = tar_of(&[("./f", b"x")]);
    let entry = one[512..1536].to_vec(); // one file header and its data block
    let limits = DebLimits {
        max_entries: 5_000,
        ..DebLimits::default()
    };
    let r = Endless {
        prefix: io::Cursor::new(prefix("30000000", "data.tar")),
        rest: RepeatBytes(entry, 0),
        served: 0,
    };
    let start = Instant::now();
    let e = read_all_from(r, limits).expect_err("endless entries");
    assert!(
        matches!(e, DebError::TooManyEntries { limit: 5_000, .. }),
        "{e:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    // An endless gzip stream of zeros inside a plausible member: the output bound stops it.
    let r = Endless {
        prefix: io::Cursor::new(prefix("30000000", "data.tar.gz")),
        rest: flate2::read::GzEncoder::new(io::repeat(0), flate2::Compression::fast()),
        served: 0,
    };
    let (_, mut raw) = DebReader::new(r, DebLimits::default())
        .expect("header")
        .into_data()
        .expect("data");
    let err = io::copy(&mut raw, &mut io::sink()).expect_err("endless");
    let e = DebError::from_io(err).expect("a DebError inside");
    assert!(matches!(e, DebError::TooLarge { .. }), "{e:?}");
}

/// `self.0` repeated forever.
struct RepeatBytes(Vec<u8>, usize);

impl Read for RepeatBytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            let take = (self.0.len() - self.1).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&self.0[self.1..self.1 + take]);
            self.1 = (self.1 + take) % self.0.len();
            n += take;
        }
        Ok(n)
    }
}

#[test]
fn hostile_huge_names() {
    // A path of 5000 bytes (the tar crate writes a GNU long-name header for it).
    let long = format!("./{}", "d/".repeat(2500));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = gnu_header();
    h.set_mode(0o644);
    h.set_size(1);
    b.append_data(&mut h, format!("{long}f"), &b"x"[..])
        .expect("tar");
    let data = gz(&b.into_inner().expect("tar"));
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &control_gz(4)),
        ("data.tar.gz", &data),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("long name");
    assert!(
        matches!(
            e,
            DebError::NameTooLong {
                member: "data.tar",
                limit: 4096,
                ..
            }
        ),
        "{e:?}"
    );
    // A GNU long-name header claiming 1 GiB: refused from its size, without reading it.
    let mut h = gnu_header();
    h.set_path("././@LongLink").expect("path");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(1 << 30);
    h.set_cksum();
    let mut t = h.as_bytes().to_vec();
    t.extend(vec![b'a'; 4096]);
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &control_gz(4)),
        ("data.tar.gz", &gz(&t)),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("long name");
    assert!(
        matches!(e, DebError::NameTooLong { len, .. } if len == (1 << 30)),
        "{e:?}"
    );
}

#[test]
fn hostile_pax_size_desync() {
    // A PAX header says 1 byte, the ustar header says 1024: parsers that disagree would read
    // different files out of the same archive.
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([("size", &b"1"[..])]).expect("pax");
    let mut h = ustar_header();
    h.set_path("./usr/share/x").expect("path");
    h.set_mode(0o644);
    h.set_size(1024);
    h.set_cksum();
    b.append(&h, &[0u8; 1024][..]).expect("tar");
    let data = gz(&b.into_inner().expect("tar"));
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &control_gz(4)),
        ("data.tar.gz", &data),
    ]);
    let e = read_all(&deb, DebLimits::default()).expect_err("pax desync");
    assert!(
        matches!(
            e,
            DebError::PaxSizeMismatch {
                header: 1024,
                pax: 1,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn hostile_control_members() {
    let d = data_gz();
    let with_control = |control: Vec<u8>| {
        ar(&[
            ("debian-binary", b"2.0\n"),
            ("control.tar.gz", &control),
            ("data.tar.gz", &d),
        ])
    };
    // A symlink in control.tar (dpkg would follow it when reading maintainer scripts).
    let mut b = tar::Builder::new(Vec::new());
    let mut h = gnu_header();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "./postinst", "/etc/shadow")
        .expect("tar");
    let text = control_text(4);
    let mut h = gnu_header();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "./control", text.as_bytes())
        .expect("tar");
    let e = read_all(
        &with_control(gz(&b.into_inner().expect("tar"))),
        DebLimits::default(),
    )
    .expect_err("symlink");
    assert!(
        matches!(&e, DebError::BadControlEntry { entry, .. } if entry == "postinst"),
        "{e:?}"
    );
    // No control file.
    let e = read_all(
        &with_control(gz(&tar_of(&[("./md5sums", b"")]))),
        DebLimits::default(),
    )
    .expect_err("no control");
    assert!(
        matches!(e, DebError::MissingControlFile { file: "control" }),
        "{e:?}"
    );
    // A file in a subdirectory.
    let text = control_text(4);
    let t = tar_of(&[("./control", text.as_bytes()), ("./sub/postinst", b"x")]);
    let e = read_all(&with_control(gz(&t)), DebLimits::default()).expect_err("subdirectory");
    assert!(matches!(e, DebError::BadControlEntry { .. }), "{e:?}");
    // A control file that is not UTF-8, and one missing Version.
    let t = tar_of(&[("./control", b"Package: a\nVersion: \xff\n")]);
    let e = read_all(&with_control(gz(&t)), DebLimits::default()).expect_err("not UTF-8");
    assert!(
        matches!(
            e,
            DebError::NotUtf8 {
                file: "control",
                ..
            }
        ),
        "{e:?}"
    );
    let t = tar_of(&[("./control", b"Package: a\nArchitecture: all\n")]);
    let e = read_all(&with_control(gz(&t)), DebLimits::default()).expect_err("no version");
    assert!(matches!(e, DebError::ControlFields { .. }), "{e:?}");
    // A broken md5sums line names its line.
    let t = tar_of(&[
        ("./control", text.as_bytes()),
        (
            "./md5sums",
            b"d41d8cd98f00b204e9800998ecf8427e  ok\nnot a line\n",
        ),
    ]);
    let e = read_all(&with_control(gz(&t)), DebLimits::default()).expect_err("md5sums");
    assert!(
        matches!(
            e,
            DebError::BadControlFile {
                file: "md5sums",
                line: 2,
                ..
            }
        ),
        "{e:?}"
    );
}

/// Names that are not UTF-8 and device nodes are reported as they are (refusing them is the
/// extractor's decision, not the reader's).
#[test]
fn entries_report_raw_names_and_device_nodes() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = gnu_header();
    h.set_size(2);
    h.as_gnu_mut().expect("gnu").name[..11].copy_from_slice(b"./caf\xe9.txt\0");
    h.set_cksum();
    b.append(&h, &b"hi"[..]).expect("tar");
    let mut h = gnu_header();
    h.set_entry_type(tar::EntryType::Char);
    h.set_device_major(1).expect("major");
    h.set_device_minor(3).expect("minor");
    h.set_mode(0o666);
    b.append_data(&mut h, "./dev/null", io::empty())
        .expect("tar");
    let mut h = gnu_header();
    h.set_entry_type(tar::EntryType::Fifo);
    b.append_data(&mut h, "./run/fifo", io::empty())
        .expect("tar");
    let data = gz(&b.into_inner().expect("tar"));
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", &control_gz(4)),
        ("data.tar.gz", &data),
    ]);
    let (_, mut archive) = DebReader::from_bytes(&deb, DebLimits::default())
        .expect("valid")
        .into_entries()
        .expect("data");
    let mut metas = Vec::new();
    for e in archive.entries().expect("entries") {
        let mut e = e.expect("entry");
        let content = e.read_content().expect("content");
        metas.push((e.meta, content));
    }
    archive.finish().expect("finish");
    assert_eq!(metas.len(), 3);
    assert_eq!(metas[0].0.path, b"./caf\xe9.txt");
    assert_eq!(metas[0].0.relative_path(), b"caf\xe9.txt");
    assert_eq!(
        (metas[0].0.kind, metas[0].1.as_slice()),
        (EntryKind::File, &b"hi"[..])
    );
    assert_eq!(metas[1].0.kind, EntryKind::CharDevice);
    assert_eq!((metas[1].0.device, metas[1].0.mode), (Some((1, 3)), 0o666));
    assert_eq!((metas[2].0.kind, metas[2].0.size), (EntryKind::Fifo, 0));
}
