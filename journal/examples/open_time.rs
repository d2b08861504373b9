//! Times the parts of `txn log --json` on a journal directory: `open_time DIR`.
use std::time::Instant;
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("DIR"));
    let t = Instant::now();
    let bytes = std::fs::read(dir.join("records")).expect("read");
    let read = t.elapsed();
    let t = Instant::now();
    let s = journal::scan(&bytes);
    let scan = t.elapsed();
    drop(s);
    let t = Instant::now();
    let (j, _) = journal::Journal::open_read_only(&dir).expect("open");
    let open = t.elapsed();
    let t = Instant::now();
    let mut n = 0usize;
    j.history()
        .log_lines(&journal::LogFilter::default(), |l| {
            n += l.added().count() + l.changed().count() + l.removed().count();
            Ok::<(), ()>(())
        })
        .expect("log")
        .expect("lines");
    let lines = t.elapsed();
    println!(
        "{} bytes: read {read:?}, scan {scan:?}, open {open:?}, log_lines {lines:?} ({n} packages)",
        bytes.len()
    );
}
