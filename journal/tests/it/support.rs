//! Builders for records and a small model of "what the state should be" to check the journal against.

use std::collections::BTreeMap;

use journal::{
    Actor, CommitId, FaultyStorage, Journal, NewRecord, PackageEntry, Profile, Provenance, Record,
    Request, State, Storage, Value,
};
use store::Sha256;

pub(crate) fn pkg(name: &str, version: &str) -> PackageEntry {
    PackageEntry {
        name: name.to_string(),
        version: version.to_string(),
        arch: "amd64".to_string(),
        sha256: Sha256::of(format!("{name}_{version}_amd64.deb").as_bytes()),
    }
}

/// A realistic base: `n` packages with Debian-looking names and versions.
pub(crate) fn base_state(n: usize) -> State {
    let mut packages: Vec<PackageEntry> = (0..n)
        .map(|i| {
            pkg(
                &format!("lib-package-{i:04}"),
                &format!("2.{}.{}-1+deb12u1", i % 7, i % 13),
            )
        })
        .collect();
    packages.sort_by(|a, b| a.key().cmp(&b.key()));
    State {
        indices: BTreeMap::from([
            ("bookworm".to_string(), Sha256::of(b"InRelease bookworm")),
            (
                "bookworm-security".to_string(),
                Sha256::of(b"InRelease security"),
            ),
        ]),
        packages,
        profile: Profile {
            kargs: vec!["quiet".into(), "console=ttyS0".into()],
            initramfs: BTreeMap::from([("compress".into(), "zstd".into())]),
            sysctl: BTreeMap::from([("vm.swappiness".into(), "10".into())]),
            hardware: Value::Map(BTreeMap::from([
                ("cpu".into(), Value::Str("x86_64".into())),
                ("cores".into(), Value::Int(2)),
                ("gpu".into(), Value::Null),
            ])),
        },
    }
}

pub(crate) fn commit_for(state: &State, salt: u64) -> CommitId {
    CommitId(Sha256::of(format!("{state:?}{salt}").as_bytes()))
}

pub(crate) fn new_record(
    variant: &str,
    time: i64,
    request: Request,
    state: State,
    base: Option<Provenance>,
) -> NewRecord {
    let commit = commit_for(&state, time as u64);
    NewRecord {
        time,
        actor: Actor {
            user: "root".into(),
            host: "builder".into(),
        },
        reason: format!("{} at {time}", request.kind()),
        variant: variant.to_string(),
        request,
        state,
        commit,
        base,
    }
}

/// Appends a child variant created from `parent` at `parent_seq`.
pub(crate) fn create_variant<S: Storage>(
    j: &mut Journal<S>,
    name: &str,
    parent: &str,
    parent_seq: u64,
    time: i64,
) -> Record {
    let h = j.history();
    let at = h
        .state_at(parent, parent_seq)
        .expect("parent state")
        .clone();
    let txn = h.record(parent_seq).expect("parent txn").id;
    let request = Request::VariantCreate {
        parent: parent.into(),
        parent_seq,
        parent_txn: txn,
    };
    let base = Provenance {
        variant: parent.into(),
        seq: parent_seq,
        txn,
    };
    j.append(new_record(
        name,
        time,
        request,
        journal::State::clone(&at.state),
        Some(base),
    ))
    .expect("append variant-create")
}

/// A journal in memory with `n` install/upgrade/remove transactions on variant "base".
pub(crate) fn linear_journal(n: u64, packages: usize) -> (Journal<FaultyStorage>, FaultyStorage) {
    let disk = FaultyStorage::new();
    let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut state = base_state(packages);
    j.append(new_record(
        "base",
        1_700_000_000,
        Request::Upgrade,
        state.clone(),
        None,
    ))
    .expect("first");
    for i in 1..n {
        step_state(&mut state, i);
        let req = Request::Install {
            packages: vec![],
            no_recommends: false,
        };
        j.append(new_record(
            "base",
            1_700_000_000 + i as i64 * 60,
            req,
            state.clone(),
            None,
        ))
        .expect("append");
    }
    (j, disk)
}

/// A deterministic small change: bump one version, sometimes add or remove a package.
pub(crate) fn step_state(state: &mut State, i: u64) {
    let n = state.packages.len().max(1);
    let k = (i as usize * 7919) % n;
    if let Some(p) = state.packages.get_mut(k) {
        *p = pkg(&p.name.clone(), &format!("{}+b{i}", p.version));
    }
    if i.is_multiple_of(5) {
        state.packages.push(pkg(&format!("extra-{i}"), "1.0-1"));
        state.packages.sort_by(|a, b| a.key().cmp(&b.key()));
    }
    if i.is_multiple_of(7) && state.packages.len() > 1 {
        state
            .packages
            .remove((i as usize * 31) % state.packages.len());
    }
    if i.is_multiple_of(11) {
        state
            .profile
            .sysctl
            .insert(format!("net.core.k{i}"), i.to_string());
    }
}
