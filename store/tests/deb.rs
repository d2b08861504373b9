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
    let packages_xz = std::fs::read(mirror.join("dists/bookworm/main/binary-amd64/Packages.xz"))
        .expect("the shared mirror's Packages.xz (set PARTICLE_MIRROR if it is elsewhere)");
    let text = store::decompress(&packages_xz, Compression::Xz, 1 << 30)
        .expect("Packages.xz decompresses");
    let text = std::str::from_utf8(&text).expect("Packages is UTF-8");
    let mut by_filename: HashMap<&str, store::Paragraph<'_>> = HashMap::new();
    for p in store::paragraphs(text) {
        let p = p.expect("Packages parses");
        if let Some(f) = p.get("Filename") {
            by_filename.insert(f, p);
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
    let (mut files, mut entries, mut bytes, mut max_ratio) = (0u64, 0u64, 0u64, 0f64);
    for path in &debs {
        let rel = path
            .strip_prefix(&mirror)
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
            entries += 1;
            tar_bytes += 512 + entry.meta.size.div_ceil(512) * 512;
            let got = match entry.meta.kind {
                EntryKind::File => {
                    files += 1;
                    let mut h = Md5::new();
                    let n = io::copy(&mut entry, &mut HashWriter(&mut h)).expect("content reads");
                    assert_eq!(n, entry.meta.size, "{rel}: {}", entry.meta.display_path());
                    bytes += n;
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
            max_ratio = max_ratio.max(ratio);
        }
        assert!(control.members.contains_key("control"));
    }
    let took = start.elapsed();
    eprintln!(
        "read {} pool .debs ({files} files, {entries} entries, {} MiB of content) in {took:.2?}; \
         largest tar/Installed-Size ratio {max_ratio:.2}",
        debs.len(),
        bytes >> 20
    );
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
