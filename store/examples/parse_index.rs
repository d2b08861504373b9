//! Parses a Packages(.xz) file and prints the package count and timings.
fn main() {
    let path = std::env::args().nth(1).expect("usage: parse_index FILE");
    let raw = std::fs::read(&path).expect("read");
    let t = std::time::Instant::now();
    let bytes =
        store::decompress(&raw, store::Compression::from_name(&path), 1 << 31).expect("decompress");
    let t1 = t.elapsed();
    let u = store::parse_packages_bytes(&bytes).expect("parse");
    println!(
        "{} packages; decompress {:?}, parse {:?}",
        u.packages.len(),
        t1,
        t.elapsed() - t1
    );
}
