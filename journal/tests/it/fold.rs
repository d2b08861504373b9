//! Property tests of the fold: an independent model of variants and their states is driven by
//! random operations; the journal's answers must match it.

use std::collections::BTreeMap;

use journal::{
    diff, FaultyStorage, History, Journal, PackageSpec, Provenance, Request, State, Value,
};
use proptest::prelude::*;

use crate::support::{new_record, pkg};

#[derive(Debug, Clone)]
enum Op {
    Install {
        variant: usize,
        pkg: u8,
        version: u8,
    },
    Remove {
        variant: usize,
        pick: usize,
    },
    Kargs {
        variant: usize,
        arg: u8,
        add: bool,
    },
    Sysctl {
        variant: usize,
        key: u8,
        value: Option<u8>,
    },
    Hardware {
        variant: usize,
        cores: u8,
    },
    Create {
        parent: usize,
        point: usize,
    },
    Rollback {
        variant: usize,
        to: Option<usize>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..30, 0u8..4).prop_map(|(variant, pkg, version)| Op::Install { variant, pkg, version }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(variant, pick)| Op::Remove { variant, pick }),
        1 => (any::<usize>(), 0u8..5, any::<bool>()).prop_map(|(variant, arg, add)| Op::Kargs { variant, arg, add }),
        1 => (any::<usize>(), 0u8..4, proptest::option::of(0u8..3))
            .prop_map(|(variant, key, value)| Op::Sysctl { variant, key, value }),
        1 => (any::<usize>(), 1u8..5).prop_map(|(variant, cores)| Op::Hardware { variant, cores }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(parent, point)| Op::Create { parent, point }),
        2 => (any::<usize>(), proptest::option::of(any::<usize>())).prop_map(|(variant, to)| Op::Rollback { variant, to }),
    ]
}

/// The model: per variant, its lineage as (seq, state) pairs, oldest first.
#[derive(Default)]
struct Model {
    variants: Vec<String>,
    lineage: BTreeMap<String, Vec<(u64, State)>>,
    bases: BTreeMap<String, Option<Provenance>>,
    /// After each seq, every variant's state then.
    snapshots: Vec<BTreeMap<String, State>>,
}

impl Model {
    fn current(&self, v: &str) -> State {
        self.lineage[v]
            .last()
            .expect("variants have a state")
            .1
            .clone()
    }
}

fn run(ops: &[Op]) -> (Journal<FaultyStorage>, FaultyStorage, Model) {
    let disk = FaultyStorage::new();
    let (mut j, _) = Journal::open_with(disk.clone()).expect("open");
    let mut m = Model::default();
    let root = State {
        packages: vec![pkg("base-files", "12.4")],
        ..State::default()
    };
    let rec = j
        .append(new_record("root", 0, Request::Upgrade, root.clone(), None))
        .expect("root");
    m.variants.push("root".into());
    m.lineage.insert("root".into(), vec![(rec.seq, root)]);
    m.bases.insert("root".into(), None);
    m.snapshots.push(
        m.variants
            .iter()
            .map(|v| (v.clone(), m.current(v)))
            .collect(),
    );

    for (t, op) in ops.iter().enumerate() {
        let time = 100 + t as i64;
        let pick = |i: usize| m.variants[i % m.variants.len()].clone();
        let (variant, request, state, base) = match op {
            Op::Install {
                variant,
                pkg: p,
                version,
            } => {
                let v = pick(*variant);
                let mut s = m.current(&v);
                let name = format!("pkg{p}");
                s.packages.retain(|e| e.name != name);
                s.packages.push(pkg(&name, &format!("1.{version}-1")));
                s.packages.sort_by(|a, b| a.key().cmp(&b.key()));
                let req = Request::Install {
                    packages: vec![PackageSpec {
                        name,
                        version: None,
                    }],
                    no_recommends: false,
                };
                (v.clone(), req, s, m.bases[&v].clone())
            }
            Op::Remove { variant, pick: k } => {
                let v = pick(*variant);
                let mut s = m.current(&v);
                if s.packages.is_empty() {
                    continue;
                }
                let gone = s.packages.remove(k % s.packages.len());
                (
                    v.clone(),
                    Request::Remove {
                        packages: vec![gone.name],
                    },
                    s,
                    m.bases[&v].clone(),
                )
            }
            Op::Kargs { variant, arg, add } => {
                let v = pick(*variant);
                let mut s = m.current(&v);
                let a = format!("arg{arg}=1");
                let req = if *add {
                    s.profile.kargs.push(a.clone());
                    Request::Kargs {
                        append: vec![a],
                        delete: vec![],
                    }
                } else {
                    s.profile.kargs.retain(|x| *x != a);
                    Request::Kargs {
                        append: vec![],
                        delete: vec![a],
                    }
                };
                (v.clone(), req, s, m.bases[&v].clone())
            }
            Op::Sysctl {
                variant,
                key,
                value,
            } => {
                let v = pick(*variant);
                let mut s = m.current(&v);
                let k = format!("kernel.k{key}");
                match value {
                    Some(x) => s.profile.sysctl.insert(k.clone(), x.to_string()),
                    None => s.profile.sysctl.remove(&k),
                };
                let set = BTreeMap::from([(k, value.map(|x| x.to_string()).unwrap_or_default())]);
                (v.clone(), Request::Sysctl { set }, s, m.bases[&v].clone())
            }
            Op::Hardware { variant, cores } => {
                let v = pick(*variant);
                let mut s = m.current(&v);
                s.profile.hardware = Value::Map(BTreeMap::from([(
                    "cores".to_string(),
                    Value::Int(i64::from(*cores)),
                )]));
                (
                    v.clone(),
                    Request::Hardware {
                        source: "detect".into(),
                    },
                    s,
                    m.bases[&v].clone(),
                )
            }
            Op::Create { parent, point } => {
                let p = pick(*parent);
                let lin = &m.lineage[&p];
                let (seq, state) = lin[point % lin.len()].clone();
                let txn = j.history().record(seq).expect("seq exists").id;
                let name = format!("v{}", m.variants.len());
                let base = Provenance {
                    variant: p.clone(),
                    seq,
                    txn,
                };
                let req = Request::VariantCreate {
                    parent: p.clone(),
                    parent_seq: seq,
                    parent_txn: txn,
                };
                // The child's lineage: the parent's up to the creation point, then its own.
                let lineage: Vec<(u64, State)> =
                    lin.iter().filter(|(s, _)| *s <= seq).cloned().collect();
                m.variants.push(name.clone());
                m.lineage.insert(name.clone(), lineage);
                m.bases.insert(name.clone(), Some(base.clone()));
                (name, req, state, Some(base))
            }
            Op::Rollback { variant, to } => {
                let v = pick(*variant);
                let lin = &m.lineage[&v];
                let target = match to {
                    Some(k) => lin[k % lin.len()].clone(),
                    None if lin.len() >= 2 => lin[lin.len() - 2].clone(),
                    None => continue,
                };
                let h = j.history();
                let got = h
                    .rollback_target(&v, to.map(|_| target.0))
                    .expect("rollback target");
                assert_eq!(got.seq, target.0, "rollback target of {v} ({to:?})");
                let req = Request::Rollback {
                    to_seq: target.0,
                    to: got.id,
                };
                (v.clone(), req, target.1, m.bases[&v].clone())
            }
        };
        let rec = j
            .append(new_record(&variant, time, request, state.clone(), base))
            .expect("append");
        m.lineage
            .get_mut(&variant)
            .expect("variant in model")
            .push((rec.seq, state));
        m.snapshots.push(
            m.variants
                .iter()
                .map(|v| (v.clone(), m.current(v)))
                .collect(),
        );
    }
    (j, disk, m)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn replaying_any_prefix_gives_the_recorded_state(ops in proptest::collection::vec(op(), 1..40), cut in any::<usize>()) {
        let (j, disk, m) = run(&ops);
        let records = j.records().to_vec();
        let h = History::new(&records);
        // Every variant's state after every transaction equals the model's.
        for (i, snap) in m.snapshots.iter().enumerate() {
            let seq = i as u64 + 1;
            for (v, state) in snap {
                prop_assert_eq!(&h.state_at(v, seq).expect("state").state, state, "{} at {}", v, seq);
            }
        }
        // A prefix of the journal answers the same for the seqs it covers.
        let k = 1 + cut % records.len();
        let hp = History::new(&records[..k]);
        for seq in 1..=k as u64 {
            for v in hp.variants() {
                prop_assert_eq!(hp.state_at(v, seq).ok().map(|r| r.seq), h.state_at(v, seq).ok().map(|r| r.seq));
            }
        }
        // Lineages match the model's.
        for v in &m.variants {
            let seqs: Vec<u64> = h.lineage(v, None).expect("lineage").iter().map(|r| r.seq).collect();
            let want: Vec<u64> = m.lineage[v].iter().map(|(s, _)| *s).collect();
            prop_assert_eq!(seqs, want, "lineage of {}", v);
        }
        // Re-reading the bytes gives the same records, and they verify.
        let (j2, report) = Journal::open_with(disk).expect("reopen");
        prop_assert!(report.is_clean());
        prop_assert_eq!(j2.records(), records);
        prop_assert!(j2.verify(|_| Ok(())).is_ok());
    }

    #[test]
    fn rollback_state_equals_its_target(ops in proptest::collection::vec(op(), 1..40)) {
        let (j, _, _) = run(&ops);
        let h = j.history();
        for r in j.records() {
            if let Request::Rollback { to_seq, to } = &r.request {
                let target = h.record(*to_seq).expect("target exists");
                prop_assert_eq!(&target.id, to);
                prop_assert_eq!(&r.state, &target.state);
                prop_assert!(h.in_lineage(&r.variant, *to_seq));
            }
        }
    }

    #[test]
    fn diff_applied_to_a_gives_b(ops in proptest::collection::vec(op(), 1..30), a in any::<usize>(), b in any::<usize>()) {
        let (j, _, _) = run(&ops);
        let rs = j.records();
        let (x, y) = (&rs[a % rs.len()].state, &rs[b % rs.len()].state);
        let d = diff(x, y);
        prop_assert_eq!(&d.apply(x), y);
        prop_assert_eq!(d.is_empty(), x == y);
        // And every record's changes applied to its predecessor give its state.
        let h = j.history();
        for r in rs {
            let from = h.predecessor(r).map(|p| journal::State::clone(&p.state)).unwrap_or_default();
            prop_assert_eq!(&h.changes(r).apply(&from), &r.state);
        }
    }
}
