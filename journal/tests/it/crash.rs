//! Crashes at every point of an append, modelled with the fault-injecting backend: after each,
//! the journal opens, verifies, and holds a prefix of what was written, never a partial record.

use journal::{AppendError, CrashKeep, Fault, FaultyStorage, Journal, Request, State};
use std::path::Path;

use crate::support::{base_state, linear_journal, new_record, step_state};

/// Opens the survivor image and checks the invariants; returns how many records it holds.
fn check_survivor(
    disk: &FaultyStorage,
    committed: &[journal::Record],
    attempted: &journal::NewRecord,
) -> usize {
    let (mut j, report) = Journal::open_with(disk.clone()).expect("open after crash");
    assert!(
        report.corruption.is_none(),
        "a crash must never look like corruption: {report:?}"
    );
    j.verify(|_| Ok(())).expect("verifies after crash");
    let n = j.records().len();
    assert!(
        n == committed.len() || n == committed.len() + 1,
        "{n} records"
    );
    assert_eq!(
        &j.records().to_vec()[..committed.len()],
        committed,
        "the committed prefix survives intact"
    );
    if n == committed.len() + 1 {
        let last = &j.records()[n - 1];
        assert_eq!(
            last.state, attempted.state,
            "a surviving new record is whole"
        );
        assert!(report.torn_tail.is_none());
    }
    // The journal stays usable: the next append lands cleanly after the good prefix.
    let next = new_record("base", 1_900_000_000, Request::Upgrade, base_state(3), None);
    j.append(next.clone()).expect("append after recovery");
    let (j2, report2) = Journal::open_with(disk.clone()).expect("reopen");
    assert!(report2.is_clean(), "{report2:?}");
    assert_eq!(j2.records().len(), n + 1);
    assert_eq!(j2.records()[n].state, next.state);
    j2.verify(|_| Ok(()))
        .expect("verifies after the next append");
    n
}

#[test]
fn crash_at_every_byte_of_an_append() {
    let (mut j, disk) = linear_journal(4, 8);
    let committed = j.records().to_vec();
    // A mass rebuild: every package changes, so the stored change spans several sectors.
    let mut state = journal::State::clone(&committed[3].state);
    for p in &mut state.packages {
        *p = crate::support::pkg(&p.name.clone(), &format!("{}+b99", p.version));
    }
    let rec = new_record("base", 1_800_000_000, Request::Upgrade, state, None);
    disk.inject(Fault::SyncError);
    let err = j.append(rec.clone()).expect_err("sync fails");
    assert!(matches!(err, AppendError::Io { .. }), "{err}");
    // After a failed fsync the journal refuses further appends until reopened.
    let again = j.append(rec.clone());
    assert!(
        matches!(again, Err(AppendError::Poisoned { .. })),
        "{again:?}"
    );
    let pending = disk.pending_len();
    assert!(pending > 100);
    let mut outcomes = [0usize; 2];
    for cut in 0..=pending {
        let survivor = disk.crash(CrashKeep::Prefix(cut));
        let n = check_survivor(&survivor, &committed, &rec);
        outcomes[n - committed.len()] += 1;
        assert_eq!(n == committed.len() + 1, cut == pending, "cut at {cut}");
    }
    // Unwritten sectors anywhere in the frame (the file grew but data never reached the disk).
    let durable = journal::scan(&disk.durable()).valid_len as usize;
    let total = durable + pending;
    for from in (0..pending).step_by(7) {
        let zero_at = (durable + from).div_ceil(512) * 512;
        let survivor = disk.crash(CrashKeep::ZeroFrom(from));
        let n = check_survivor(&survivor, &committed, &rec);
        let expected = if zero_at < total {
            committed.len()
        } else {
            committed.len() + 1
        };
        assert_eq!(n, expected, "zeros from {from}");
    }
    // Out-of-order writeback: any one sector of the frame lost, the others written.
    let sectors = (total.div_ceil(512) - durable / 512) as usize;
    assert!(sectors >= 2);
    for k in 0..sectors {
        let survivor = disk.crash(CrashKeep::LoseSector(k));
        let n = check_survivor(&survivor, &committed, &rec);
        assert_eq!(n, committed.len(), "lost sector {k} of {sectors}");
    }
    assert_eq!(outcomes, [pending, 1]);
}

#[test]
fn crash_while_creating_the_first_record() {
    let disk = FaultyStorage::new();
    let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
    disk.inject(Fault::SyncError);
    let rec = new_record("base", 5, Request::Upgrade, base_state(2), None);
    assert!(j.append(rec.clone()).is_err());
    for cut in 0..=disk.pending_len() {
        let survivor = disk.crash(CrashKeep::Prefix(cut));
        let n = check_survivor(&survivor, &[], &rec);
        assert_eq!(n == 1, cut == disk.pending_len(), "cut at {cut}");
    }
}

#[test]
fn failed_write_appends_nothing() {
    let (mut j, disk) = linear_journal(3, 4);
    disk.inject(Fault::AppendError);
    let rec = new_record("base", 9, Request::Upgrade, base_state(1), None);
    assert!(matches!(j.append(rec), Err(AppendError::Io { .. })));
    let (j2, report) = Journal::open_with(disk.clone()).expect("reopen");
    assert!(report.is_clean());
    assert_eq!(j2.records(), j.records());
}

#[test]
fn a_full_disk_while_preallocating_appends_nothing() {
    // An empty journal: the first append must preallocate its first 1 MiB.
    let disk = FaultyStorage::new();
    let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
    disk.inject(Fault::ExtendError);
    let rec = new_record("base", 5, Request::Upgrade, base_state(2), None);
    match j.append(rec.clone()) {
        Err(AppendError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull)
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(matches!(
        j.append(rec.clone()),
        Err(AppendError::Poisoned { .. })
    ));
    // The file grew part of the way, with zeros only: reopened, it holds no record and is clean.
    let grown = disk.durable().len();
    assert!(grown > 0 && grown < 1 << 20, "{grown}");
    let (mut j2, report) = Journal::open_with(disk.clone()).expect("reopen");
    assert!(report.is_clean(), "{report:?}");
    assert!(j2.records().is_empty());
    // Once there is space, the same append goes through.
    j2.append(rec.clone()).expect("append once there is space");
    let (j3, report) = Journal::open_with(disk.clone()).expect("reopen");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(j3.records().len(), 1);
    assert_eq!(j3.records()[0].state, rec.state);
    j3.verify(|_| Ok(())).expect("verify");

    // With records already there: records of ~100 KB (whole states, format 1) fill the first
    // 1 MiB, then the append that needs the next MiB meets the full disk; every earlier record
    // stays.
    let disk = FaultyStorage::new();
    let (j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut j = j.with_format(journal::FORMAT_VERSION_1);
    let mut state = base_state(600);
    disk.inject(Fault::ExtendError);
    j.append(new_record("base", 1, Request::Upgrade, state.clone(), None))
        .expect_err("the first append needs space too");
    let (j, _) = Journal::open_with(disk.clone()).expect("reopen");
    let mut j = j.with_format(journal::FORMAT_VERSION_1);
    let mut failed_at = None;
    for i in 0..20u64 {
        step_state(&mut state, i);
        let grown = disk.durable().len();
        if i == 0 {
            disk.inject(Fault::ExtendError);
        }
        match j.append(new_record(
            "base",
            10 + i as i64,
            Request::Upgrade,
            state.clone(),
            None,
        )) {
            Ok(_) => {}
            Err(AppendError::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::StorageFull);
                assert!(disk.durable().len() > grown, "it failed while growing");
                failed_at = Some(i);
                break;
            }
            Err(other) => panic!("{other}"),
        }
    }
    let failed_at = failed_at.expect("an append needed new space");
    assert!(
        failed_at >= 1,
        "appends into preallocated space need no new space"
    );
    let (j2, report) = Journal::open_with(disk.clone()).expect("reopen");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(j2.records().len() as u64, failed_at);
    assert_eq!(
        j2.records(),
        j.records(),
        "nothing of the failed append is visible"
    );
    j2.verify(|_| Ok(())).expect("verify");
}

#[test]
fn torn_tail_is_reported_and_cut_only_by_the_next_append() {
    let (j, disk) = linear_journal(3, 4);
    let mut bytes = disk.durable();
    let good = journal::scan(&bytes).valid_len as usize;
    let partial = b"PJRC\x40\x00\x00\x00\xbf\xff\xff\xffpartial body";
    bytes[good..good + partial.len()].copy_from_slice(partial);
    let torn = FaultyStorage::with_content(bytes.clone());
    let (mut j2, report) = Journal::open_with(torn.clone()).expect("open");
    let tail = report.torn_tail.expect("torn tail reported");
    assert_eq!((tail.offset, tail.len), (good as u64, partial.len() as u64));
    assert_eq!(j2.records(), j.records());
    assert_eq!(torn.durable(), bytes, "opening does not modify the file");
    j2.append(new_record(
        "base",
        77,
        Request::Upgrade,
        base_state(2),
        None,
    ))
    .expect("append");
    let (j3, report3) = Journal::open_with(torn).expect("reopen");
    assert!(report3.is_clean(), "{report3:?}");
    assert_eq!(j3.records().len(), 4);
}

/// Appends `n` records to a new journal in `jdir` through the real file backend; returns the
/// last record's state.
fn real_journal(jdir: &Path, n: u64) -> State {
    let (mut j, report) = Journal::open(jdir).expect("create");
    assert!(report.is_clean());
    let mut state = base_state(10);
    for i in 0..n {
        step_state(&mut state, i);
        j.append(new_record(
            "base",
            i as i64,
            Request::Upgrade,
            state.clone(),
            None,
        ))
        .expect("append");
    }
    state
}

/// Cuts the last record of `file` short, as a write interrupted by a crash leaves it: the
/// frame keeps its first 20 bytes, the rest is zeros. Returns the file's new content.
fn tear_last_record(file: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(file).expect("read");
    let s = journal::scan(&bytes);
    let last = *s.offsets.last().expect("records") as usize;
    bytes[last + 20..s.valid_len as usize].fill(0);
    std::fs::write(file, &bytes).expect("write torn");
    bytes
}

#[test]
fn real_file_roundtrip_and_torn_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jdir = dir.path().join("journal");
    let state = real_journal(&jdir, 5);
    let bytes = tear_last_record(&jdir.join("records"));
    assert_eq!(bytes.len(), 1 << 20, "space is preallocated in 1 MiB steps");
    let (mut j, report) = Journal::open(&jdir).expect("open torn");
    assert_eq!(j.records().len(), 4);
    assert!(report.torn_tail.is_some());
    j.append(new_record("base", 9, Request::Upgrade, state, None))
        .expect("append after torn");
    let (j, report) = Journal::open(&jdir).expect("reopen");
    assert!(report.is_clean());
    assert_eq!(j.records().len(), 5);
    j.verify(|_| Ok(())).expect("verify");
}

/// Opened read-only, a journal reads what is there (a torn tail dropped in memory, as always),
/// changes nothing on disk, refuses to append, and is not created when missing.
#[test]
fn read_only_opening_reads_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jdir = dir.path().join("journal");
    let missing = Journal::open_read_only(&jdir).expect_err("no journal yet");
    assert_eq!(missing.source.kind(), std::io::ErrorKind::NotFound);
    assert!(
        !jdir.exists(),
        "opening read-only created {}",
        jdir.display()
    );
    let mut state = real_journal(&jdir, 3);
    let file = jdir.join("records");
    let bytes = tear_last_record(&file);
    let (mut j, report) = Journal::open_read_only(&jdir).expect("open read-only");
    assert_eq!(j.records().len(), 2);
    assert!(report.torn_tail.is_some());
    j.verify(|_| Ok(())).expect("verify");
    step_state(&mut state, 9);
    let refused = j.append(new_record("base", 9, Request::Upgrade, state, None));
    assert!(refused.is_err(), "appended to a journal opened read-only");
    assert_eq!(
        std::fs::read(&file).expect("read"),
        bytes,
        "a read-only journal changed its file"
    );
}
