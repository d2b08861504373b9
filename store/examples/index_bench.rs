//! Index benchmark: parse + index a Packages file, write its rkyv snapshot, reopen it.
//! Usage: index_bench PACKAGES[.xz] [ROUNDS]. Prints the median of each phase.

use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
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
    let (mut parse, mut snap, mut reopen, mut owned) = (vec![], vec![], vec![], vec![]);
    let dir = tempfile::tempdir().expect("tempdir");
    let objects = store::ObjectStore::open(dir.path()).expect("object store");
    let mut count = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let u = store::parse_packages_bytes(&text).expect("parse");
        parse.push(t.elapsed());
        count = u.packages.len();
        let t = Instant::now();
        let s = store::Snapshot::from_universe(&u).expect("snapshot");
        let id = objects.put_bytes(s.bytes(), false).expect("store").blake3;
        snap.push(t.elapsed());
        let t = Instant::now();
        let s = store::Snapshot::open(&objects.locate(&id).expect("stored"), id).expect("reopen");
        let n = s.archived().packages.len();
        reopen.push(t.elapsed());
        assert_eq!(n, count);
        let t = Instant::now();
        let back = s.to_universe().expect("deserialize");
        owned.push(t.elapsed());
        assert_eq!(back.packages.len(), count);
    }
    println!(
        "packages: {count} ({} MB uncompressed)",
        text.len() / 1_000_000
    );
    println!(
        "decompress ({}): {decompress:.1?}",
        if path.ends_with(".xz") { "xz" } else { "none" }
    );
    println!("parse + index: {:.1?} (median of {rounds})", median(parse));
    println!("snapshot write: {:.1?}", median(snap));
    println!(
        "snapshot reopen (read, hash, validate): {:.1?}",
        median(reopen)
    );
    println!("snapshot to owned universe: {:.1?}", median(owned));
}
