//! Records built on first use and `txn log` read in place: a reopened journal (whose format 2
//! records are built only when read) answers exactly as the journal that appended them (whose
//! records are all built), whatever order its records are read in; `History::log_lines` gives
//! the entries `History::log` gives, read from the stored changes, across checkpoints, child
//! variants, settings changes and time filters.

use journal::{
    FaultyStorage, History, Journal, LogFilter, LogLine, PackageSpec, Request, CHECKPOINT_EVERY,
};

use crate::support::{base_state, create_variant, new_record, pkg};

/// A journal of more than two checkpoint intervals on `base`, a child variant created part way
/// with its own transactions (some changing settings), and the disk it is on.
fn long_journal() -> (Journal<FaultyStorage>, FaultyStorage) {
    let disk = FaultyStorage::new();
    let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut base = base_state(40);
    j.append(new_record("base", 1, Request::Upgrade, base.clone(), None))
        .expect("first");
    let n = 2 * CHECKPOINT_EVERY as i64 + 40;
    for t in 2..n {
        let name = format!("tool-{}", t % 17);
        base.packages.retain(|p| p.name != name);
        base.packages.push(pkg(&name, &format!("1.{t}-1")));
        base.packages.sort_by(|a, b| a.key().cmp(&b.key()));
        let request = Request::Install {
            packages: vec![PackageSpec {
                name,
                version: None,
            }],
            no_recommends: false,
        };
        j.append(new_record("base", t, request, base.clone(), None))
            .expect("install");
        if t == 100 {
            let created = create_variant(&mut j, "child", "base", 99, t);
            let mut child = journal::State::clone(&created.state);
            for k in 0..30 {
                child
                    .profile
                    .sysctl
                    .insert("vm.swappiness".into(), format!("{k}"));
                let mut set = std::collections::BTreeMap::new();
                set.insert("vm.swappiness".to_string(), format!("{k}"));
                let base_of = created.base.clone();
                j.append(new_record(
                    "child",
                    t,
                    Request::Sysctl { set },
                    child.clone(),
                    base_of,
                ))
                .expect("child sysctl");
            }
        }
    }
    (j, disk)
}

/// Everything a line says, to compare.
fn describe(l: &LogLine<'_>) -> String {
    format!(
        "{} {} {} {}@{} {:?} {} {} {} {:?} +{:?} -{:?} ~{:?} {:?}",
        l.seq,
        l.id.to_hex(),
        l.time,
        l.user,
        l.host,
        l.reason,
        l.kind,
        l.variant,
        l.commit.to_hex(),
        l.base,
        l.added().collect::<Vec<_>>(),
        l.removed().collect::<Vec<_>>(),
        l.changed().collect::<Vec<_>>(),
        l.settings().map(|d| (d.profile.clone(), d.indices.clone())),
    )
}

fn lines(h: &History<'_>, filter: &LogFilter) -> Vec<String> {
    let mut out = Vec::new();
    h.log_lines(filter, |l| {
        out.push(describe(&l));
        Ok::<(), ()>(())
    })
    .expect("log")
    .expect("lines");
    out
}

#[test]
fn a_reopened_journal_builds_the_same_records_in_any_order() {
    let (j, disk) = long_journal();
    let appended = j.records().to_vec();
    // Newest first: each build walks back to the checkpoint before it.
    let (j2, report) = Journal::open_with(disk.clone()).expect("reopen");
    assert!(report.is_clean());
    for i in (0..appended.len()).rev() {
        assert_eq!(j2.records().get(i), Some(&appended[i]), "record {}", i + 1);
    }
    // Scattered, then every state.
    let (j3, _) = Journal::open_with(disk).expect("reopen");
    let n = appended.len();
    for k in 0..n {
        let i = (k * 7919) % n;
        assert_eq!(&j3.records()[i], &appended[i], "record {}", i + 1);
        assert_eq!(j3.records()[i].state, appended[i].state);
    }
    assert!(j3.verify(|_| Ok(())).is_ok());
}

#[test]
fn log_lines_read_in_place_equal_the_built_log() {
    let (j, disk) = long_journal();
    let (reopened, _) = Journal::open_with(disk.clone()).expect("reopen");
    let filters = [
        LogFilter::default(),
        LogFilter {
            variant: Some("child".into()),
            ..LogFilter::default()
        },
        LogFilter {
            variant: Some("base".into()),
            since: Some(50),
            until: Some(300),
            ..LogFilter::default()
        },
        LogFilter {
            package: Some("tool-3".into()),
            ..LogFilter::default()
        },
        LogFilter {
            last: Some(7),
            ..LogFilter::default()
        },
    ];
    // A slice of built records has no stored bytes: every line comes from the records.
    let records = j.records().to_vec();
    let built = History::new(&records);
    for filter in &filters {
        let in_place = lines(&reopened.history(), filter);
        assert!(!in_place.is_empty(), "{filter:?}");
        assert_eq!(in_place, lines(&built, filter), "{filter:?}");
        assert_eq!(in_place.len(), built.log(filter).expect("log").len());
    }
    // Reading the log in place built nothing but what the fallbacks needed: the variants'
    // first records (and the records their changes are made from).
    let (reopened, _) = Journal::open_with(disk).expect("reopen");
    lines(&reopened.history(), &LogFilter::default());
    let built = (0..reopened.records().len())
        .filter(|&i| reopened.records().is_built(i))
        .count();
    assert!(built < CHECKPOINT_EVERY as usize, "{built} records built");
}
