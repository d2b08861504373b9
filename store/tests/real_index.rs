//! The real bookworm index: every stanza and relation parses, and version ordering agrees with
//! `dpkg --compare-versions` on thousands of version pairs drawn from it.

use std::cmp::Ordering;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn index_text() -> Vec<u8> {
    let mirror = std::env::var_os("PARTICLE_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/debian-mirror")
        });
    let raw = std::fs::read(mirror.join("dists/bookworm/main/binary-amd64/Packages.xz"))
        .expect("read the mirror's index");
    store::decompress(&raw, store::Compression::Xz, 1 << 30).expect("decompress")
}

#[test]
fn the_whole_index_parses_with_zero_errors() {
    let u = store::parse_packages_bytes(&index_text()).expect("every stanza parses");
    assert_eq!(u.packages.len(), 63440);
    let relations: usize = u
        .packages
        .iter()
        .map(|p| {
            p.depends.len()
                + p.pre_depends.len()
                + p.recommends.len()
                + p.suggests.len()
                + p.conflicts.len()
                + p.breaks.len()
                + p.replaces.len()
                + p.provides.len()
        })
        .sum();
    assert!(relations > 300_000, "{relations} relations");
    let essential = u.packages.iter().filter(|p| p.essential).count();
    assert_eq!(essential, 23, "bookworm main has 23 Essential packages");
    // Relations round-trip through their display form.
    for p in u.packages.iter().take(5000) {
        for d in &p.depends {
            let again = store::parse_dependencies(&d.to_string()).expect("re-parse");
            assert_eq!(again, vec![d.clone()]);
        }
    }
}

#[test]
fn the_package_table_holds_exactly_what_the_owned_parser_gives() {
    // Large enough to be parsed in pieces on several threads (`PackageTable::add_index`).
    let text = String::from_utf8(index_text()).expect("UTF-8");
    let table = store::PackageTable::parse(&text).expect("every stanza parses");
    let snapshot = store::Snapshot::encode(&table).expect("encode");
    snapshot.validate().expect("every span within the table");
    let owned = store::parse_packages(&text).expect("every stanza parses");
    assert!(snapshot.view().expect("view").to_universe() == owned);
}

#[test]
fn the_name_directory_finds_every_role_of_every_name() {
    use std::collections::BTreeMap;
    let text = String::from_utf8(index_text()).expect("UTF-8");
    let table = store::PackageTable::parse(&text).expect("every stanza parses");
    let snapshot = store::Snapshot::encode(&table).expect("encode");
    let view = snapshot.view().expect("view");
    let dir = view.names().expect("a current snapshot has a directory");
    // The same lookups, computed naively from the owned model.
    type Roles = (Vec<u32>, Vec<(u32, Option<String>)>, Vec<(u32, bool, u32)>);
    let owned = store::parse_packages(&text).expect("every stanza parses");
    let mut naive: BTreeMap<&str, Roles> = BTreeMap::new();
    for (i, p) in owned.packages.iter().enumerate() {
        let i = i as u32;
        naive.entry(&p.name).or_default().0.push(i);
        for r in &p.provides {
            let version = r.constraint.as_ref().map(|c| c.version.clone());
            naive.entry(&r.name).or_default().1.push((i, version));
        }
        for (breaks, list) in [(false, &p.conflicts), (true, &p.breaks)] {
            for (k, r) in list.iter().enumerate() {
                naive
                    .entry(&r.name)
                    .or_default()
                    .2
                    .push((i, breaks, k as u32));
            }
        }
    }
    assert_eq!(dir.len(), naive.len(), "one entry per distinct name");
    let base: Vec<u32> = (0..owned.packages.len() as u32)
        .filter(|&i| {
            let p = &owned.packages[i as usize];
            p.essential || p.priority == store::Priority::Required
        })
        .collect();
    assert_eq!(dir.base().collect::<Vec<_>>(), base);
    for (name, (packages, provides, negatives)) in &naive {
        let e = dir
            .find(&view, name)
            .unwrap_or_else(|| panic!("{name} is not found"));
        assert_eq!(dir.name(&view, e), *name);
        assert_eq!(&dir.packages(e).collect::<Vec<_>>(), packages, "{name}");
        let stored: Vec<_> = dir
            .provides(e)
            .map(|(p, r)| {
                let r = &view.relations[r as usize];
                (
                    p,
                    store::op_of(r.op).map(|_| view.str(&r.version).to_owned()),
                )
            })
            .collect();
        assert_eq!(&stored, provides, "{name}");
        assert_eq!(&dir.negatives(e).collect::<Vec<_>>(), negatives, "{name}");
    }
    // Names followed in place need no hashing: every package and relation knows its entry.
    for (i, p) in view.packages.iter().enumerate() {
        let e = dir
            .package_entry(i)
            .expect("every package name has an entry");
        assert_eq!(dir.name(&view, e), view.str(&p.name));
    }
    for (i, r) in view.relations.iter().enumerate() {
        assert_eq!(
            dir.relation_entry(i),
            dir.find(&view, view.str(&r.name)),
            "relation {i}"
        );
    }
    for absent in ["", "no-such-package", "libc6 ", "LIBC6"] {
        assert_eq!(dir.find(&view, absent), None, "{absent:?}");
    }
}

/// Deterministic pseudo-random numbers (no dependency needed for a sample).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn version_order_agrees_with_dpkg() {
    let u = store::parse_packages_bytes(&index_text()).expect("parse");
    let mut versions: Vec<String> = u.packages.iter().map(|p| p.version.clone()).collect();
    versions.sort();
    versions.dedup();
    assert!(versions.len() > 20_000);
    // Neighbours in byte order (the close calls: `1.0~rc1` vs `1.0`, epochs, revisions), plus
    // random pairs across the whole set.
    let mut pairs = Vec::new();
    let mut rng = Lcg(42);
    for _ in 0..2500 {
        let i = rng.next(versions.len() - 1);
        pairs.push((versions[i].clone(), versions[i + 1].clone()));
    }
    for _ in 0..1500 {
        pairs.push((
            versions[rng.next(versions.len())].clone(),
            versions[rng.next(versions.len())].clone(),
        ));
    }
    // One shell runs every dpkg comparison: a process per pair, but no Rust-side spawn overhead.
    let mut script = String::new();
    for (a, b) in &pairs {
        script.push_str(&format!(
            "if dpkg --compare-versions '{a}' lt '{b}'; then echo lt; elif dpkg --compare-versions '{a}' eq '{b}'; then echo eq; else echo gt; fi\n"
        ));
    }
    let mut child = Command::new("sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("dpkg results");
    let verdicts: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf8")
        .lines()
        .collect();
    assert_eq!(verdicts.len(), pairs.len());
    let mut disagreements = Vec::new();
    for ((a, b), v) in pairs.iter().zip(verdicts) {
        let ours = match store::compare_versions(a, b) {
            Ordering::Less => "lt",
            Ordering::Equal => "eq",
            Ordering::Greater => "gt",
        };
        if ours != v {
            disagreements.push(format!("{a} vs {b}: dpkg {v}, particle {ours}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements: {:?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(10)]
    );
}
