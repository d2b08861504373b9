//! Query behaviour on a hand-built history: log, show, diff, resolve, package events, as-of,
//! rollback targets, bisect ranges, and the JSON shapes the CLI prints.

use std::collections::BTreeMap;

use journal::{
    diff, FaultyStorage, Journal, LogFilter, PackageSpec, QueryError, Request, ResolveError, State,
    TxnLog,
};

use crate::support::{create_variant, new_record, pkg};

fn install(state: &State, name: &str, version: &str) -> State {
    let mut s = state.clone();
    s.packages.retain(|p| p.name != name);
    s.packages.push(pkg(name, version));
    s.packages.sort_by(|a, b| a.key().cmp(&b.key()));
    s
}

/// 1 base: install a=1, b=1     2 base: upgrade a=2     3 child created from base@1
/// 4 base: sysctl               5 child: install c=1    6 base: rollback to 2 (drops sysctl)
fn history() -> Journal<FaultyStorage> {
    let (mut j, _) = Journal::open_with(FaultyStorage::new()).expect("open");
    let inst = |n: &str| Request::Install {
        packages: vec![PackageSpec {
            name: n.into(),
            version: None,
        }],
        no_recommends: false,
    };
    let s1 = install(&install(&State::default(), "a", "1"), "b", "1");
    j.append(new_record("base", 1000, inst("a"), s1.clone(), None))
        .expect("1");
    let s2 = install(&s1, "a", "2");
    j.append(new_record("base", 2000, Request::Upgrade, s2.clone(), None))
        .expect("2");
    create_variant(&mut j, "child", "base", 1, 3000);
    let mut s4 = s2.clone();
    s4.profile.sysctl.insert("vm.swappiness".into(), "5".into());
    let set = BTreeMap::from([("vm.swappiness".to_string(), "5".to_string())]);
    j.append(new_record("base", 4000, Request::Sysctl { set }, s4, None))
        .expect("4");
    let child = j.history().state_at("child", 3).expect("child").clone();
    let s5 = install(&child.state, "c", "1");
    j.append(new_record("child", 5000, inst("c"), s5, child.base.clone()))
        .expect("5");
    let to = j.records()[1].id;
    j.append(new_record(
        "base",
        6000,
        Request::Rollback { to_seq: 2, to },
        s2,
        None,
    ))
    .expect("6");
    j
}

#[test]
fn log_filters_and_changes() {
    let j = history();
    let h = j.history();
    let all = h.log(&LogFilter::default()).expect("log");
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        all[0]
            .changes
            .added
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(all[1].changes.changed[0].from, "1");
    assert_eq!(all[1].changes.changed[0].to, "2");
    assert!(
        all[2].changes.is_empty(),
        "a variant-create inherits: no change"
    );

    let child = h
        .log(&LogFilter {
            variant: Some("child".into()),
            ..LogFilter::default()
        })
        .expect("log");
    assert_eq!(
        child.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 3, 5],
        "lineage: base@1, create, own"
    );
    let base = h
        .log(&LogFilter {
            variant: Some("base".into()),
            ..LogFilter::default()
        })
        .expect("log");
    assert_eq!(base.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 4, 6]);
    let a = h
        .log(&LogFilter {
            package: Some("a".into()),
            ..LogFilter::default()
        })
        .expect("log");
    assert_eq!(a.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    let timed = h
        .log(&LogFilter {
            since: Some(2000),
            until: Some(4000),
            ..LogFilter::default()
        })
        .expect("log");
    assert_eq!(timed.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3, 4]);
    let unknown = h.log(&LogFilter {
        variant: Some("nope".into()),
        ..LogFilter::default()
    });
    assert!(
        matches!(unknown, Err(QueryError::UnknownVariant { .. })),
        "{unknown:?}"
    );
}

#[test]
fn log_and_diff_json_shapes() {
    let j = history();
    let h = j.history();
    let log = TxnLog {
        variant: "base".into(),
        transactions: h
            .log(&LogFilter {
                variant: Some("base".into()),
                ..LogFilter::default()
            })
            .expect("log"),
    };
    let v = serde_json::to_value(&log).expect("json");
    assert_eq!(v["variant"], "base");
    let t = &v["transactions"][1];
    for field in [
        "seq", "id", "time", "actor", "reason", "kind", "commit", "added", "removed", "changed",
    ] {
        assert!(t.get(field).is_some(), "txn log entry lacks {field}: {t}");
    }
    assert_eq!(t["kind"], "upgrade");
    assert_eq!(t["changed"][0]["name"], "a");
    assert_eq!(t["changed"][0]["from"], "1");
    assert_eq!(t["changed"][0]["to"], "2");
    assert_eq!(t["changed"][0]["direction"], "upgrade");
    assert_eq!(t["id"].as_str().map(str::len), Some(64));

    let d = diff(
        &h.record(5).expect("5").state,
        &h.record(4).expect("4").state,
    );
    let v = serde_json::to_value(&d).expect("json");
    assert_eq!(v["added"], serde_json::json!([]));
    assert_eq!(v["removed"][0]["name"], "c");
    assert_eq!(v["removed"][0]["version"], "1");
    assert_eq!(v["changed"][0]["name"], "a");
    assert_eq!(v["profile"][0]["field"], "sysctl");
    assert_eq!(v["profile"][0]["key"], "vm.swappiness");
    assert_eq!(v["profile"][0]["to"], "5");

    let show = serde_json::to_value(h.show(h.record(6).expect("6"))).expect("json");
    assert_eq!(show["kind"], "rollback");
    assert_eq!(show["request"]["kind"], "rollback");
    assert_eq!(show["request"]["to_seq"], 2);
    assert_eq!(show["changes"]["profile"][0]["from"], "5");
}

#[test]
fn resolve_references() {
    let j = history();
    let h = j.history();
    assert_eq!(h.resolve("3").expect("seq").seq, 3);
    let id = j.records()[4].id.to_hex();
    assert_eq!(h.resolve(&id[..8]).expect("prefix").seq, 5);
    assert_eq!(
        h.resolve(&id.to_uppercase())
            .expect("full id, any case")
            .seq,
        5
    );
    assert!(matches!(
        h.resolve("99"),
        Err(ResolveError::NotFound { .. })
    ));
    assert!(
        matches!(h.resolve("abc"), Err(ResolveError::Invalid { .. })),
        "short hex is not a reference"
    );
    assert!(matches!(
        h.resolve("head~1"),
        Err(ResolveError::Invalid { .. })
    ));
    assert!(matches!(
        h.resolve("ffffffffzz"),
        Err(ResolveError::Invalid { .. })
    ));

    // Ambiguity needs two ids sharing a prefix: give two records the same id.
    let records: Vec<journal::Record> = (0..2)
        .map(|k| {
            let mut r = j.records()[k].clone();
            r.id = j.records()[0].id;
            r
        })
        .collect();
    let h2 = journal::History::new(&records);
    let err = h2
        .resolve(&records[0].id.to_hex()[..10])
        .expect_err("two records share the prefix");
    assert!(
        matches!(err, ResolveError::Ambiguous { ref candidates, .. } if candidates.len() == 2),
        "{err}"
    );
    // A decimal string of 8+ digits is both a seq and a prefix; here only the seq matches.
    assert_eq!(
        h.resolve("00000003").expect("seq with leading zeros").seq,
        3
    );
}

#[test]
fn package_events_as_of_and_rollback_targets() {
    let j = history();
    let h = j.history();
    let ev = h.package_events("a", Some("1"), None);
    let got: Vec<(u64, journal::query::PackageEventKind)> =
        ev.iter().map(|e| (e.seq, e.event)).collect();
    use journal::query::PackageEventKind::{Introduced, Removed};
    assert_eq!(got, [(1, Introduced), (2, Removed)]);
    let a2: Vec<u64> = h
        .package_events("a", Some("2"), None)
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(a2, [2], "the rollback to 2 keeps a=2: no event");
    let c = h.package_events("c", None, Some("child"));
    assert_eq!(c.iter().map(|e| e.seq).collect::<Vec<_>>(), [5]);

    assert_eq!(h.state_as_of("base", 2500).expect("as of").seq, 2);
    assert_eq!(h.state_as_of("child", 3500).expect("as of").seq, 3);
    assert_eq!(
        h.state_as_of("child", 1500).expect("inherited history").seq,
        1
    );
    assert!(matches!(
        h.state_as_of("base", 10),
        Err(QueryError::NothingAsOf { .. })
    ));

    assert_eq!(
        h.rollback_target("base", None).expect("default").seq,
        4,
        "state before the head"
    );
    assert_eq!(h.rollback_target("child", None).expect("default").seq, 3);
    assert_eq!(
        h.rollback_target("child", Some(1)).expect("ancestor").seq,
        1
    );
    assert!(matches!(
        h.rollback_target("child", Some(2)),
        Err(QueryError::NotInLineage { .. })
    ));
    assert!(matches!(
        h.rollback_target("base", Some(5)),
        Err(QueryError::NotInLineage { .. })
    ));

    assert_eq!(h.bisect_range("base", 1, 6).expect("range"), [1, 2, 4, 6]);
    assert_eq!(h.bisect_range("child", 1, 5).expect("range"), [1, 3, 5]);
    assert!(matches!(
        h.bisect_range("base", 4, 2),
        Err(QueryError::BadRange { .. })
    ));
}

#[test]
fn append_refuses_inconsistent_records() {
    let mut j = history();
    let h = j.history();
    let s2 = journal::State::clone(&h.record(2).expect("2").state);
    let to = h.record(1).expect("1").id;
    // A rollback whose state is not its target's.
    let bad = new_record(
        "base",
        7000,
        Request::Rollback { to_seq: 1, to },
        s2.clone(),
        None,
    );
    let err = j.append(bad).expect_err("state differs");
    assert!(err.to_string().contains("must equal"), "{err}");
    // A variant-create of an existing variant, a child with no base, a bad name.
    let txn = j.records()[0].id;
    let create = Request::VariantCreate {
        parent: "base".into(),
        parent_seq: 1,
        parent_txn: txn,
    };
    assert!(j
        .append(new_record("child", 1, create, s2.clone(), None))
        .is_err());
    assert!(j
        .append(new_record("child", 1, Request::Upgrade, s2.clone(), None))
        .is_err());
    assert!(j
        .append(new_record(
            "bad name",
            1,
            Request::Upgrade,
            s2.clone(),
            None
        ))
        .is_err());
    // Duplicate packages.
    let mut dup = s2.clone();
    dup.packages.push(dup.packages[0].clone());
    assert!(j
        .append(new_record("base", 1, Request::Upgrade, dup, None))
        .is_err());
    // None of that was written.
    assert_eq!(j.records().len(), 6);
    assert!(j.is_writable());
}
