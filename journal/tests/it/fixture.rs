//! The checked-in journals of every format stay readable, byte for byte: format 1 (whole states)
//! and format 2 (changes, with a checkpoint).
//!
//! Regenerate (only when deliberately changing a fixture, never a format) with
//! `JOURNAL_WRITE_FIXTURE=1 cargo test -p journal --test it fixture`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use journal::{
    scan, Actor, CommitId, FaultyStorage, Journal, NewRecord, PackageSpec, Profile, Provenance,
    Request, ScanEnd, State, Value, FORMAT_VERSION, FORMAT_VERSION_1,
};
use store::Sha256;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1.bin")
}

fn path_v2() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v2.bin")
}

/// Records made by [`build`] besides the eleven of the first release in format 2: 260 upgrades
/// (a chain long enough for a checkpoint) and an `apply`.
const V2_EXTRA: usize = 261;

fn build() -> Vec<u8> {
    build_in(FORMAT_VERSION_1)
}

/// One record of every request kind of the first release, with every field populated; in
/// format 2 then a long chain of one-package upgrades and an `apply`.
fn build_in(format: u32) -> Vec<u8> {
    let disk = FaultyStorage::new();
    let (j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut j = j.with_format(format);
    let actor = Actor {
        user: "admin".into(),
        host: "build-01".into(),
    };
    let p = |n: &str, v: &str, a: &str| journal::PackageEntry {
        name: n.into(),
        version: v.into(),
        arch: a.into(),
        sha256: Sha256::of(format!("{n}_{v}_{a}.deb").as_bytes()),
    };
    let mut state = State {
        indices: BTreeMap::from([("bookworm".into(), Sha256::of(b"InRelease"))]),
        packages: vec![
            p("base-files", "12.4+deb12u5", "amd64"),
            p("libc6", "2.36-9+deb12u4", "amd64"),
        ],
        profile: Profile {
            kargs: vec!["quiet".into()],
            initramfs: BTreeMap::from([("compress".into(), "zstd".into())]),
            sysctl: BTreeMap::new(),
            hardware: Value::Map(BTreeMap::from([
                (
                    "cpus".into(),
                    Value::List(vec![Value::Str("x86_64".into()), Value::Int(-1)]),
                ),
                ("tpm".into(), Value::Bool(true)),
                ("gpu".into(), Value::Null),
                ("sriov".into(), Value::Bool(false)),
            ])),
        },
    };
    let mut t = 1_764_000_000;
    let mut add =
        |j: &mut Journal<FaultyStorage>, variant: &str, request: Request, state: &State, base| {
            t += 3600;
            let commit = CommitId(Sha256::of(format!("commit {t}").as_bytes()));
            let reason = format!("fixture {}", request.kind());
            j.append(NewRecord {
                time: t,
                actor: actor.clone(),
                reason,
                variant: variant.into(),
                request,
                state: state.clone(),
                commit,
                base,
            })
            .expect("append")
        };
    let spec = |n: &str, v: Option<&str>| PackageSpec {
        name: n.into(),
        version: v.map(Into::into),
    };
    let r1 = add(
        &mut j,
        "base",
        Request::Install {
            packages: vec![
                spec("libc6", Some("2.36-9+deb12u4")),
                spec("base-files", None),
            ],
            no_recommends: true,
        },
        &state,
        None,
    );
    state.packages.push(p("zlib1g", "1:1.2.13.dfsg-1", "amd64"));
    add(&mut j, "base", Request::Upgrade, &state, None);
    state.packages.retain(|x| x.name != "zlib1g");
    add(
        &mut j,
        "base",
        Request::Remove {
            packages: vec!["zlib1g".into()],
        },
        &state,
        None,
    );
    state.profile.kargs.push("console=ttyS0".into());
    add(
        &mut j,
        "base",
        Request::Kargs {
            append: vec!["console=ttyS0".into()],
            delete: vec![],
        },
        &state,
        None,
    );
    state
        .profile
        .initramfs
        .insert("modules".into(), "most".into());
    add(
        &mut j,
        "base",
        Request::Initramfs {
            set: BTreeMap::from([("modules".into(), "most".into())]),
        },
        &state,
        None,
    );
    state
        .profile
        .sysctl
        .insert("vm.swappiness".into(), "10".into());
    add(
        &mut j,
        "base",
        Request::Sysctl {
            set: BTreeMap::from([("vm.swappiness".into(), "10".into())]),
        },
        &state,
        None,
    );
    state.profile.hardware = Value::Str("generic".into());
    add(
        &mut j,
        "base",
        Request::Hardware {
            source: "hw.json".into(),
        },
        &state,
        None,
    );
    let r1_state = journal::State::clone(&j.records()[0].state);
    add(
        &mut j,
        "base",
        Request::Rollback {
            to_seq: 1,
            to: r1.id,
        },
        &r1_state,
        None,
    );
    let r8 = j.records()[7].clone();
    let base = Provenance {
        variant: "base".into(),
        seq: 8,
        txn: r8.id,
    };
    add(
        &mut j,
        "desktop",
        Request::VariantCreate {
            parent: "base".into(),
            parent_seq: 8,
            parent_txn: r8.id,
        },
        &r8.state,
        Some(base.clone()),
    );
    let r10 = add(&mut j, "base", Request::Upgrade, &state, None);
    let base2 = Provenance {
        variant: "base".into(),
        seq: 10,
        txn: r10.id,
    };
    add(
        &mut j,
        "desktop",
        Request::Rebase {
            parent: "base".into(),
            parent_seq: 10,
            parent_txn: r10.id,
        },
        &state,
        Some(base2),
    );
    if format != FORMAT_VERSION_1 {
        for i in 0..V2_EXTRA - 1 {
            let libc = state
                .packages
                .iter_mut()
                .find(|x| x.name == "libc6")
                .expect("libc6");
            *libc = p("libc6", &format!("2.36-9+deb12u{}", 5 + i), "amd64");
            add(&mut j, "base", Request::Upgrade, &state, None);
        }
        let request = Request::Apply {
            file: "base.toml".into(),
            definition: r#"{"name":"base","packages":["libc6"]}"#.into(),
        };
        add(&mut j, "base", request, &state, None);
    }
    // The file without its preallocated free space.
    let mut bytes = disk.durable();
    bytes.truncate(scan(&bytes).valid_len as usize);
    bytes
}

#[test]
fn fixture_v1_stays_readable() {
    if std::env::var_os("JOURNAL_WRITE_FIXTURE").is_some() {
        std::fs::write(path(), build()).expect("write fixture");
    }
    let bytes = std::fs::read(path()).expect("fixture present (see module docs)");
    assert_eq!(
        &bytes[8..12],
        &FORMAT_VERSION_1.to_le_bytes(),
        "the fixture is format v1"
    );
    let s = scan(&bytes);
    assert_eq!(s.end, ScanEnd::Clean);
    assert_eq!(s.records.len(), 11);
    let kinds: Vec<&str> = s.records.iter().map(|r| r.kind()).collect();
    assert_eq!(
        kinds,
        [
            "install",
            "upgrade",
            "remove",
            "kargs",
            "initramfs",
            "sysctl",
            "hardware",
            "rollback",
            "variant-create",
            "upgrade",
            "rebase"
        ]
    );
    // The ids are pinned: a change to the canonical encoding breaks this.
    assert_eq!(s.records[0].id.to_hex(), FIRST_ID);
    assert_eq!(s.records[10].id.to_hex(), HEAD_ID);
    // Decoding then encoding reproduces every body byte for byte.
    let mut at = 16;
    for r in &s.records {
        let body = journal::encode_record(r);
        assert_eq!(
            &bytes[at + 12..at + 12 + body.len()],
            &body[..],
            "record {}",
            r.seq
        );
        at += 12 + body.len() + 36;
    }
    // Today's code produces exactly the fixture from the same inputs.
    assert_eq!(
        build(),
        bytes,
        "the writer still produces format v1 byte for byte"
    );
    let (j, report) = Journal::open_with(FaultyStorage::with_content(bytes)).expect("open");
    assert!(report.is_clean());
    j.verify(|_| Ok(())).expect("fixture verifies");
    assert_eq!(j.head("desktop").map(|r| r.seq), Some(11));
}

const FIRST_ID: &str = "7dc22fb51b74a1ac5a53c79b99993c9921ff9a3a9244a79427e68c16c17e0f7e";
const HEAD_ID: &str = "0ae78fdf63b9108af80172828a0666036adb41c4509d6cd98942a08ff5738fe3";

#[test]
fn fixture_v2_stays_readable() {
    if std::env::var_os("JOURNAL_WRITE_FIXTURE").is_some() {
        std::fs::write(path_v2(), build_in(FORMAT_VERSION)).expect("write fixture");
    }
    let bytes = std::fs::read(path_v2()).expect("fixture present (see module docs)");
    assert_eq!(&bytes[8..12], &FORMAT_VERSION.to_le_bytes(), "format 2");
    let s = scan(&bytes);
    assert_eq!(s.end, ScanEnd::Clean);
    assert_eq!(s.records.len(), 11 + V2_EXTRA);
    assert_eq!(s.records[11 + V2_EXTRA - 1].kind(), "apply");
    // The ids are pinned: a change to the canonical encoding breaks this.
    assert_eq!(s.records[0].id.to_hex(), FIRST_ID_V2);
    assert_eq!(s.records[11 + V2_EXTRA - 1].id.to_hex(), HEAD_ID_V2);
    // Every body is a change (version 2); one holds a checkpoint, so it is far longer.
    let mut at = 16;
    let mut lengths = Vec::new();
    for r in &s.records {
        let body = journal::encode_record(r);
        assert_eq!(body[0], 2, "record {} is stored as a change", r.seq);
        assert_eq!(
            &bytes[at + 12..at + 12 + body.len()],
            &body[..],
            "record {}",
            r.seq
        );
        lengths.push(body.len());
        at += 12 + body.len() + 36;
    }
    let longest = lengths
        .iter()
        .enumerate()
        .max_by_key(|(_, l)| **l)
        .expect("records");
    assert!(
        longest.0 > 11 && *longest.1 > 2 * lengths[20],
        "{lengths:?}"
    );
    // The same inputs in format 1 give the same states, commits and kinds (the ids differ: they
    // hash the encoding).
    let v1 = scan(&std::fs::read(path()).expect("v1 fixture"));
    for (a, b) in v1.records.iter().zip(&s.records) {
        assert_eq!(
            (
                &*a.state,
                a.kind(),
                a.commit,
                a.base.as_ref().map(|b| b.seq)
            ),
            (
                &*b.state,
                b.kind(),
                b.commit,
                b.base.as_ref().map(|b| b.seq)
            ),
            "record {}",
            a.seq
        );
    }
    assert_eq!(
        build_in(FORMAT_VERSION),
        bytes,
        "the writer still produces format 2 byte for byte"
    );
    let (j, report) = Journal::open_with(FaultyStorage::with_content(bytes)).expect("open");
    assert!(report.is_clean());
    j.verify(|_| Ok(())).expect("fixture verifies");
    // A replay applying each stored change in place gives every record's state.
    let mut folded = 0;
    j.history()
        .fold_states("desktop", |r, st| {
            assert_eq!(*st, *r.state, "record {}", r.seq);
            folded += 1;
        })
        .expect("fold");
    assert_eq!(
        folded, 10,
        "base's 8 records before desktop was made, then desktop's 2"
    );
    let mut folded = 0;
    j.history()
        .fold_states("base", |r, st| {
            assert_eq!(*st, *r.state, "record {}", r.seq);
            folded += 1;
        })
        .expect("fold");
    assert_eq!(folded, 9 + V2_EXTRA);
    // Every package of every state, found from the stored changes without building states.
    let recorded: std::collections::BTreeSet<_> = journal::recorded_packages(j.records())
        .into_iter()
        .map(|p| p.sha256)
        .collect();
    let every: std::collections::BTreeSet<_> = j
        .records()
        .iter()
        .flat_map(|r| r.state.packages.iter().map(|p| p.sha256))
        .collect();
    assert_eq!(recorded, every);
    let head = j.head("base").expect("base");
    assert_eq!(
        head.state
            .packages
            .iter()
            .find(|p| p.name == "libc6")
            .map(|p| p.version.as_str()),
        Some("2.36-9+deb12u264")
    );
}

const FIRST_ID_V2: &str = "dacf4dcc5858de312712e896ff4e1648bda162adc7aa68e9a2d3ee1bced54c88";
const HEAD_ID_V2: &str = "c27b54d8e72572e2f15d766ac241c541fdd282cbadc5c8210461720682d39191";

/// The JSON the CLI prints for `txn log`, `txn show` and `txn diff`, pinned on the fixture.
#[test]
fn fixture_json_snapshots() {
    let bytes = std::fs::read(path()).expect("fixture present");
    let (j, _) = Journal::open_with(FaultyStorage::with_content(bytes)).expect("open");
    let h = j.history();
    let log = journal::TxnLog {
        variant: "desktop".into(),
        transactions: h
            .log(&journal::LogFilter {
                variant: Some("desktop".into()),
                ..Default::default()
            })
            .expect("log"),
    };
    insta::assert_json_snapshot!("txn_log_desktop", log);
    insta::assert_json_snapshot!("txn_show_8", h.show(h.resolve("8").expect("8")));
    let (a, b) = (h.resolve("2").expect("2"), h.resolve("7").expect("7"));
    insta::assert_json_snapshot!("txn_diff_2_7", journal::diff(&a.state, &b.state));
}

#[test]
fn a_format_1_journal_stays_format_1_when_appended_to() {
    let bytes = std::fs::read(path()).expect("v1 fixture");
    let disk = FaultyStorage::with_content(bytes);
    let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
    assert_eq!(j.format(), FORMAT_VERSION_1);
    let head = j.head("base").expect("base").clone();
    j.append(NewRecord {
        time: head.time + 60,
        actor: head.actor.clone(),
        reason: "after the upgrade of particle".into(),
        variant: "base".into(),
        request: Request::Upgrade,
        state: State::clone(&head.state),
        commit: head.commit,
        base: None,
    })
    .expect("append");
    let s = scan(&disk.durable());
    assert_eq!(
        (s.format, s.records.len(), s.end),
        (FORMAT_VERSION_1, 12, ScanEnd::Clean)
    );
    assert_eq!(
        journal::encode_record(&s.records[11])[0],
        1,
        "a whole-state body"
    );
}
