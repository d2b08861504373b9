//! Journal benchmarks (harness-less: `cargo bench -p journal --bench journal`).
//!
//! - durable append latency: real appends (one write + fdatasync) of records with a
//!   200-package state into a journal directory on this machine's disk; median and p90;
//! - fold of 10,000 transactions over a 200-package base: index the history and compute every
//!   transaction's state and change set (what `txn log` does), plus the state at the head;
//! - open of the same 10,000-record file image (decode + BLAKE3 chain check).
//!
//! `JOURNAL_BENCH_DIR` picks where the durable journal goes (default: the system temp dir).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use journal::{
    Actor, CommitId, FaultyStorage, History, Journal, LogFilter, NewRecord, PackageEntry, Profile,
    Request, State, Value,
};
use store::Sha256;

fn pkg(i: usize, rev: u64) -> PackageEntry {
    let name = format!(
        "lib{}-{}",
        ["ssl", "gnutls", "systemd", "python3.11", "x11", "gtk-3"][i % 6],
        i
    );
    let version = format!(
        "{}.{}.{}-{}+deb12u{rev}",
        1 + i % 5,
        i % 17,
        i % 3,
        1 + i % 4
    );
    PackageEntry {
        sha256: Sha256::of(format!("{name}_{version}").as_bytes()),
        name,
        version,
        arch: "amd64".into(),
    }
}

fn base(n: usize) -> State {
    let mut packages: Vec<PackageEntry> = (0..n).map(|i| pkg(i, 0)).collect();
    packages.sort_by(|a, b| a.key().cmp(&b.key()));
    State {
        indices: BTreeMap::from([
            ("bookworm".into(), Sha256::of(b"main")),
            ("bookworm-security".into(), Sha256::of(b"security")),
        ]),
        packages,
        profile: Profile {
            kargs: vec![
                "quiet".into(),
                "splash".into(),
                "console=ttyS0,115200".into(),
            ],
            initramfs: BTreeMap::from([
                ("compress".into(), "zstd".into()),
                ("modules".into(), "dep".into()),
            ]),
            sysctl: BTreeMap::from([("vm.swappiness".into(), "10".into())]),
            hardware: Value::Map(BTreeMap::from([
                ("cpu".into(), Value::Str("x86_64-v3".into())),
                ("cores".into(), Value::Int(8)),
            ])),
        },
    }
}

/// Transaction `i`: upgrade three packages (a typical security update).
fn next(state: &mut State, i: u64) -> NewRecord {
    for k in 0..3 {
        let at = ((i as usize) * 31 + k * 67) % state.packages.len();
        let name = state.packages[at].name.clone();
        let idx: usize = name
            .rsplit('-')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        state.packages[at] = pkg(idx, i);
    }
    state.packages.sort_by(|a, b| a.key().cmp(&b.key()));
    NewRecord {
        time: 1_700_000_000 + i as i64 * 3600,
        actor: Actor {
            user: "root".into(),
            host: "fleet-0042".into(),
        },
        reason: format!("security update {i}"),
        variant: "base".into(),
        request: Request::Upgrade,
        state: state.clone(),
        commit: CommitId(Sha256::of(&i.to_le_bytes())),
        base: None,
    }
}

/// CPU time of this thread: what the work costs, whatever else the shared machine runs.
fn cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // Durable appends.
    let parent = std::env::var_os("JOURNAL_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(parent).expect("bench dir");
    let (mut j, _) = Journal::open(&dir.path().join("journal")).expect("open");
    let mut state = base(200);
    let mut times = Vec::new();
    for i in 0..300 {
        let rec = next(&mut state, i);
        let t = Instant::now();
        j.append(rec).expect("append");
        times.push(t.elapsed());
    }
    // The data only, not the preallocated free space after it.
    let file = std::fs::read(dir.path().join("journal/records")).expect("read");
    let bytes = journal::scan(&file).valid_len;
    times.sort();
    println!(
        "durable append, 200-package records ({} B each): median {:.2} ms, p90 {:.2} ms, max {:.2} ms (n = {})",
        bytes / 300,
        pct(&times, 0.5).as_secs_f64() * 1e3,
        pct(&times, 0.9).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        times.len()
    );

    // N transactions in memory (JOURNAL_BENCH_N, default 10,000).
    let n: usize = std::env::var("JOURNAL_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let disk = FaultyStorage::new();
    let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut state = base(200);
    let t = Instant::now();
    for i in 0..n as u64 {
        j.append(next(&mut state, i)).expect("append");
    }
    let build = t.elapsed();
    let records = j.records();

    // The fold: replay the whole history, producing every variant's state after every txn.
    let mut folds = Vec::new();
    for _ in 0..5 {
        let (t, c) = (Instant::now(), cpu());
        let h = History::new(records);
        let mut packages = 0;
        let mut last = State::default();
        h.fold_states("base", |r, st| {
            packages += st.packages.len();
            if r.seq == records.len() as u64 {
                last = st.clone();
            }
        })
        .expect("fold");
        assert_eq!(last, state);
        folds.push((t.elapsed(), cpu() - c));
        assert!(packages >= n * 200);
    }
    folds.sort();
    let (wall, cpu_t) = folds[folds.len() / 2];
    println!(
        "fold of {n} txns over 200 packages (index + state after every txn): median {:.2} ms wall, {:.2} ms CPU",
        wall.as_secs_f64() * 1e3,
        cpu_t.as_secs_f64() * 1e3
    );

    // `txn log` of everything: every transaction's change set against its predecessor.
    let mut logs = Vec::new();
    let mut changed = 0;
    for _ in 0..5 {
        let (t, c) = (Instant::now(), cpu());
        let h = History::new(records);
        let log = h.log(&LogFilter::default()).expect("log");
        changed = log.iter().map(|e| e.changes.changed.len()).sum::<usize>();
        logs.push((t.elapsed(), cpu() - c));
    }
    logs.sort();
    let (wall, cpu_t) = logs[logs.len() / 2];
    println!(
        "log with diffs of {n} txns over 200 packages ({changed} changes): median {:.1} ms wall, {:.1} ms CPU",
        wall.as_secs_f64() * 1e3,
        cpu_t.as_secs_f64() * 1e3
    );

    let image = disk.durable();
    let (t, c) = (Instant::now(), cpu());
    let (j2, report) =
        Journal::open_with(FaultyStorage::with_content(image.clone())).expect("open");
    let (open, open_cpu) = (t.elapsed(), cpu() - c);
    assert!(report.is_clean() && j2.records().len() == n);
    println!(
        "open of {n} records ({:.1} MB: BLAKE3 chain + decode): {:.0} ms wall, {:.0} ms CPU; building them by append: {:.0} ms",
        image.len() as f64 / 1e6,
        open.as_secs_f64() * 1e3,
        open_cpu.as_secs_f64() * 1e3,
        build.as_secs_f64() * 1e3
    );
}
