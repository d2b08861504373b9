//! The checked-in format v1 journal stays readable, byte for byte.
//!
//! Regenerate (only when deliberately changing the fixture, never the format) with
//! `JOURNAL_WRITE_FIXTURE=1 cargo test -p journal --test it fixture`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use journal::{
    scan, Actor, CommitId, FaultyStorage, Journal, NewRecord, PackageSpec, Profile, Provenance,
    Request, ScanEnd, State, Value, FORMAT_VERSION_1,
};
use store::Sha256;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1.bin")
}

/// One record of every request kind, with every field populated.
fn build() -> Vec<u8> {
    let disk = FaultyStorage::new();
    let (j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut j = j.with_format(FORMAT_VERSION_1);
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
