//! `kill -9` a child process that appends real records in a loop; after each kill the journal
//! opens, verifies, and holds exactly a prefix of the deterministic sequence the child writes.
//!
//! 20 iterations by default; set `JOURNAL_KILL9_ITERS` for more.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use journal::{Journal, Lock, NewRecord, Request, State};

use crate::support::{base_state, new_record, step_state};

const CHILD_ENV: &str = "JOURNAL_KILL9_CHILD_DIR";

/// The record the writer appends as number `seq` (1-based), given the state before it.
fn record_for(seq: u64, state: &mut State) -> NewRecord {
    step_state(state, seq);
    new_record("base", seq as i64, Request::Upgrade, state.clone(), None)
}

fn expected(n: usize) -> Vec<NewRecord> {
    let mut state = base_state(40);
    (1..=n as u64).map(|s| record_for(s, &mut state)).collect()
}

/// The child: appends forever (until killed), under the writer lock.
#[test]
fn kill9_child_entry() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return; // Only does something when the parent test starts it.
    };
    let dir = Path::new(&dir);
    let _lock = Lock::acquire(dir).expect("the parent never holds the lock while the child runs");
    let (mut j, _) = Journal::open(&dir.join("journal")).expect("child opens");
    let mut state = base_state(40);
    let mut seq = 0;
    for r in j.records().to_vec() {
        seq += 1;
        record_for(seq, &mut state);
        assert_eq!(r.state, state, "child resumes from a consistent prefix");
    }
    loop {
        seq += 1;
        j.append(record_for(seq, &mut state))
            .expect("child appends");
    }
}

#[test]
fn kill9_loop_leaves_a_verifiable_prefix() {
    let iters: u32 = std::env::var("JOURNAL_KILL9_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut last = 0;
    let mut torn = 0;
    for i in 0..iters {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill9::kill9_child_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        // Let it append for a varying while (pseudo-random, reproducible).
        let wait = Duration::from_millis(30 + (u64::from(i) * 37) % 90);
        let start = Instant::now();
        while start.elapsed() < wait {
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("child exited on its own: {status}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");

        // The kernel released the child's flock when it died.
        let lock = Lock::acquire(dir.path()).expect("lock is free after kill -9");
        let (j, report) = Journal::open(&dir.path().join("journal")).expect("open after kill");
        assert!(report.corruption.is_none(), "iteration {i}: {report:?}");
        torn += usize::from(report.torn_tail.is_some());
        j.verify(|_| Ok(())).expect("verifies after kill");
        let n = j.records().len();
        assert!(n >= last, "records never disappear ({n} < {last})");
        for (r, want) in j.records().iter().zip(expected(n)) {
            assert_eq!(
                (r.time, &*r.state, &r.request),
                (want.time, &want.state, &want.request),
                "record {}",
                r.seq
            );
        }
        last = n;
        drop(lock);
    }
    assert!(
        last > iters as usize,
        "the child appended ({last} records in {iters} runs)"
    );
    eprintln!("kill -9 loop: {iters} kills, {last} records, {torn} torn tails dropped");
}
