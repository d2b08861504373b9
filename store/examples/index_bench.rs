//! Index benchmark: parse + index a Packages file into the package table (what `repo update`
//! does), write its snapshot, reopen it, convert it to the owned universe; and, for comparison,
//! parse into the owned universe directly (what `particle solve --index` does).
//! Usage: index_bench PACKAGES[.xz] [ROUNDS]. Prints the median of each phase.

use std::time::{Duration, Instant};

/// "median (best)": on a shared machine the best round shows what the code costs when it has
/// a core to itself, the median what to expect.
fn median(mut v: Vec<Duration>) -> String {
    v.sort();
    format!("{:.1?} (best {:.1?})", v[v.len() / 2], v[0])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: index_bench PACKAGES[.xz] [ROUNDS]");
    let rounds: usize = args.next().map_or(7, |r| r.parse().expect("rounds"));
    let raw = std::fs::read(&path).expect("read index");
    let t = Instant::now();
    let text =
        store::decompress(&raw, store::Compression::from_name(&path), 1 << 32).expect("decompress");
    let decompress = t.elapsed();
    let text = std::str::from_utf8(&text).expect("UTF-8");
    let (mut parse, mut snap, mut reopen, mut owned, mut direct) =
        (vec![], vec![], vec![], vec![], vec![]);
    let dir = tempfile::tempdir().expect("tempdir");
    let objects = store::ObjectStore::open(dir.path()).expect("object store");
    let (mut count, mut size, mut shape) = (0, 0, String::new());
    let mut last = store::Blake3::default();
    for _ in 0..rounds {
        let t = Instant::now();
        let table = store::PackageTable::parse(text).expect("parse");
        parse.push(t.elapsed());
        count = table.packages.len();
        shape = format!(
            "{} relations, {} dependency entries, {:.1} MB of strings",
            table.relations.len(),
            table.groups.len(),
            table.strings.len() as f64 / 1e6
        );
        let t = Instant::now();
        let s = store::Snapshot::encode(&table).expect("snapshot");
        let id = objects.put_bytes(s.bytes(), false).expect("store").blake3;
        last = id;
        snap.push(t.elapsed());
        size = s.bytes().len();
        drop((s, table));
        let t = Instant::now();
        let s = store::Snapshot::open(&objects.locate(&id).expect("stored"), id).expect("reopen");
        let n = s.table().expect("valid").len();
        reopen.push(t.elapsed());
        assert_eq!(n, count);
    }
    // The owned universes last: freeing their millions of small allocations leaves glibc's
    // heap fragmented, which would slow the table's few large allocations if interleaved.
    let s = store::Snapshot::open(&objects.locate(&last).expect("stored"), last).expect("reopen");
    for _ in 0..rounds {
        let t = Instant::now();
        let back = s.to_universe().expect("convert");
        owned.push(t.elapsed());
        assert_eq!(back.packages.len(), count);
    }
    for _ in 0..rounds {
        let t = Instant::now();
        let u = store::parse_packages(text).expect("parse");
        direct.push(t.elapsed());
        assert_eq!(u.packages.len(), count);
    }
    println!(
        "packages: {count} ({} MB uncompressed)",
        text.len() / 1_000_000
    );
    println!("table: {shape}");
    println!(
        "decompress ({}): {decompress:.1?}",
        if path.ends_with(".xz") { "xz" } else { "none" }
    );
    println!(
        "parse + index into the package table: {} (median of {rounds})",
        median(parse)
    );
    println!(
        "snapshot write (encode, hash, store; {:.1} MB): {}",
        size as f64 / 1e6,
        median(snap)
    );
    println!(
        "snapshot reopen (map, validate, read in place): {}",
        median(reopen)
    );
    println!("snapshot to owned universe: {}", median(owned));
    println!("parse straight into the owned universe: {}", median(direct));
}
