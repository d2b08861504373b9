//! Profiling aid: parses a (decompressed) Packages file into the package table N times.
//! Usage: parse_table PACKAGES [ROUNDS]. Prints each round's time.
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_table PACKAGES [ROUNDS]");
    let rounds: usize = args.next().map_or(10, |r| r.parse().expect("rounds"));
    let text = std::fs::read_to_string(&path).expect("read index");
    let mut times = vec![];
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        let table = store::PackageTable::parse(&text).expect("parse");
        times.push(t.elapsed());
        std::hint::black_box(&table);
    }
    times.sort();
    println!(
        "parse + index: median {:.1?}, best {:.1?}",
        times[rounds / 2],
        times[0]
    );
}
