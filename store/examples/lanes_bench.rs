//! BLAKE3 of 100,000 journal-sized inputs (a few hundred bytes): `Blake3::of_each` in groups
//! of 32 (as the journal scan calls it) against the `blake3` crate one input at a time.
//! `cargo run --release -p store --example lanes_bench`
use std::time::Instant;

fn main() {
    let lens: Vec<usize> = (0..100_000).map(|i| 250 + (i * 7919) % 400).collect();
    let total: usize = lens.iter().sum();
    let data: Vec<u8> = (0..total).map(|i| (i * 31 + (i >> 9)) as u8).collect();
    let mut inputs = Vec::with_capacity(lens.len());
    let mut at = 0;
    for n in &lens {
        inputs.push(&data[at..at + n]);
        at += n;
    }
    let mut out = Vec::new();
    // The same 160 inputs (about 70 kB, in the caches) over and over: the kernel alone.
    let hot: Vec<&[u8]> = (0..inputs.len()).map(|i| inputs[i % 160]).collect();
    let t = Instant::now();
    for group in hot.chunks(32) {
        store::Blake3::of_each(group, &mut out);
    }
    println!(
        "in the caches: of_each {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    for round in 0..5 {
        let t = Instant::now();
        let mut check = 0u8;
        for group in inputs.chunks(32) {
            store::Blake3::of_each(group, &mut out);
            check ^= out[0].0[0];
        }
        let lanes = t.elapsed();
        let t = Instant::now();
        for i in &inputs {
            check ^= blake3::hash(i).as_bytes()[0];
        }
        let one = t.elapsed();
        println!(
            "round {round}: {} MB: of_each {:.1} ms, one at a time {:.1} ms ({:.2}x) [{check}]",
            total / 1_000_000,
            lanes.as_secs_f64() * 1e3,
            one.as_secs_f64() * 1e3,
            one.as_secs_f64() / lanes.as_secs_f64()
        );
    }
}
