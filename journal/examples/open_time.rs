//! Times the parts of `txn log` on a journal directory: `open_time DIR`.
use std::time::Instant;
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("DIR"));
    let t = Instant::now();
    let bytes = std::fs::read(dir.join("records")).expect("read");
    let read = t.elapsed();
    let t = Instant::now();
    let s = journal::scan(&bytes);
    let scan = t.elapsed();
    let t = Instant::now();
    let (j, _) = journal::Journal::open_read_only(&dir).expect("open");
    let open = t.elapsed();
    let t = Instant::now();
    let log = j
        .history()
        .log(&journal::LogFilter::default())
        .expect("log");
    let logt = t.elapsed();
    let t = Instant::now();
    let out = serde_json::to_vec_pretty(&log).expect("json");
    let json = t.elapsed();
    println!("{} records: read {read:?}, scan {scan:?}, open {open:?}, log {logt:?}, json {json:?} ({} bytes)", s.records.len(), out.len());
}
