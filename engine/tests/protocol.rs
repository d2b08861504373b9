//! The transaction protocol driven through the library, without the `particle` binary: every
//! transaction kind planned, dry-run, found to have nothing to do and committed, and failures in
//! the planning, fetching and building phases leaving the state directory as it was.
//!
//! These build real trees from the shared Debian mirror (`PARTICLE_MIRROR`, else
//! `../shared/debian-mirror`), so they run as root, as the materializer's own tests do.

use engine::{Change, Committed, ErrorKind, Outcome, Plan, RunOptions, Session, Silent};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn mirror() -> PathBuf {
    if let Some(m) = std::env::var_os("PARTICLE_MIRROR") {
        return PathBuf::from(m);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/debian-mirror")
}

fn assert_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "the protocol tests build trees with maintainer scripts: run them as root (CI does)"
    );
}

/// A state directory with the mirror (or `uri`) as its one source, pinned.
fn state_dir(tmp: &Path, uri: &str) -> PathBuf {
    let root = tmp.join("state");
    Session::init(&root, "base").expect("init");
    let st = store::Store::open(&root.join("store")).expect("store");
    st.add_source(&store::SourceConfig {
        name: "debian".into(),
        uri: uri.to_owned(),
        suite: "bookworm".into(),
        components: vec!["main".into()],
        architectures: vec![store::native_architecture().into()],
        keyring: mirror().join("keyring/debian-archive-keyring.gpg"),
        priority: None,
    })
    .expect("add source");
    for o in st.update(engine::machine::now()).expect("update") {
        assert!(
            matches!(o, store::UpdateOutcome::Pinned { .. }),
            "the source pins: {o:?}"
        );
    }
    root
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn plan(s: &mut Session, variant: &str, change: Change) -> Plan {
    s.plan(variant, change, &Silent)
        .unwrap_or_else(|e| panic!("plan for {variant}: {e} ({:?})", e.kind()))
}

fn commit(s: &mut Session, plan: Plan) -> Committed {
    let variant = plan.variant.clone();
    match s.run(plan, &RunOptions::default(), &Silent) {
        Ok(Outcome::Committed(c)) => *c,
        Ok(other) => panic!("{variant}: expected a commit, got {other:?}"),
        Err(e) => panic!("{variant}: {e} ({:?})", e.kind()),
    }
}

fn step(s: &mut Session, variant: &str, change: Change) -> Committed {
    let p = plan(s, variant, change);
    commit(s, p)
}

fn names(s: &Session, variant: &str) -> Vec<String> {
    s.head_state(variant)
        .1
        .packages
        .iter()
        .map(|p| p.name.clone())
        .collect()
}

/// The ref of `variant` in the session's repository.
fn ref_commit(s: &Session, variant: &str) -> Option<String> {
    materializer::resolve_ref(&s.repo(), variant).expect("read the ref")
}

#[test]
fn every_transaction_kind_plans_dry_runs_and_commits() {
    assert_root();
    let tmp = tempfile::tempdir().expect("tmp");
    let root = state_dir(tmp.path(), &uri(&mirror()));
    let mut s = Session::write(&root, &Silent).expect("open for a transaction");

    // Install: a dry run plans and downloads nothing, records nothing.
    let install = |p: &str| Change::Install {
        packages: vec![p.to_owned()],
        no_recommends: true,
    };
    let p = plan(&mut s, "base", install("hello"));
    assert!(!p.is_unchanged());
    assert!(p.download_bytes > 0, "hello's closure is not stored yet");
    assert!(p.diff.added.iter().any(|e| e.name == "hello"));
    let dry = s
        .run(
            p,
            &RunOptions {
                dry_run: true,
                reason: None,
            },
            &Silent,
        )
        .expect("dry run");
    assert!(matches!(dry, Outcome::DryRun(_)), "{dry:?}");
    assert!(
        s.journal().records().is_empty(),
        "a dry run records nothing"
    );
    assert_eq!(ref_commit(&s, "base"), None);

    let first = step(&mut s, "base", install("hello"));
    assert_eq!(first.record.seq, 1);
    assert_eq!(first.record.kind(), "install");
    assert_eq!(
        ref_commit(&s, "base"),
        Some(first.record.commit.to_hex()),
        "the ref moved to the recorded commit"
    );
    assert!(names(&s, "base").contains(&"hello".to_owned()));
    assert!(first.deployment.is_none(), "a build host deploys nothing");

    // Nothing to do: the same install again.
    let again = plan(&mut s, "base", install("hello"));
    assert!(again.is_unchanged());
    match s.run(again, &RunOptions::default(), &Silent).expect("run") {
        Outcome::Unchanged { variant, txn } => {
            assert_eq!((variant.as_str(), txn), ("base", Some(1)))
        }
        other => panic!("expected nothing to do, got {other:?}"),
    }

    // Profile changes: committed, then nothing to do when repeated.
    let kargs = || Change::Kargs {
        append: vec!["quiet".into()],
        delete: vec![],
    };
    let k = step(&mut s, "base", kargs());
    assert_eq!(k.record.state.profile.kargs, ["quiet"]);
    assert!(plan(&mut s, "base", kargs()).is_unchanged());
    let sysctl = Change::Sysctl {
        set: BTreeMap::from([("vm.swappiness".to_owned(), "10".to_owned())]),
    };
    let sy = step(&mut s, "base", sysctl);
    assert_eq!(sy.record.state.profile.sysctl["vm.swappiness"], "10");
    assert_eq!(sy.diff.profile.len(), 1);

    // Rollback: the state before the sysctl change, as a new record.
    let rb = plan(&mut s, "base", Change::Rollback { to: None });
    assert_eq!(rb.to, Some(k.record.seq));
    let rb = commit(&mut s, rb);
    assert_eq!(rb.record.kind(), "rollback");
    assert_eq!(rb.record.state, k.record.state);
    assert_ne!(
        rb.record.commit, k.record.commit,
        "a commit names its transaction: the same state, a new commit"
    );

    // Remove, and upgrade with nothing newer pinned.
    let jq = step(&mut s, "base", install("jq"));
    assert!(names(&s, "base").contains(&"jq".to_owned()));
    let rm = step(
        &mut s,
        "base",
        Change::Remove {
            packages: vec!["jq".into()],
        },
    );
    assert!(!names(&s, "base").contains(&"jq".to_owned()));
    assert!(rm.diff.removed.iter().any(|p| p.name == "jq"));
    assert!(plan(&mut s, "base", Change::Upgrade).is_unchanged());

    // A variant from the parent at a given transaction: its state, its own commit.
    let child = plan(
        &mut s,
        "child",
        Change::CreateVariant {
            parent: "base".into(),
            at: Some(jq.record.seq),
        },
    );
    let child = commit(&mut s, child);
    assert_eq!(child.record.state.packages, jq.record.state.packages);
    let b = child.record.base.as_ref().expect("provenance");
    assert_eq!((b.variant.as_str(), b.seq), ("base", jq.record.seq));
    assert!(matches!(
        s.plan(
            "child",
            Change::CreateVariant {
                parent: "base".into(),
                at: None
            },
            &Silent
        )
        .map_err(|e| e.kind()),
        Err(ErrorKind::VariantExists)
    ));

    // Hardware: the profile is recorded (no definitions, so no rules apply).
    let hw_file = tmp.path().join("hw.json");
    std::fs::write(
        &hw_file,
        r#"{"cpu": {"vendor": "GenuineIntel", "flags": ["avx2"]}}"#,
    )
    .expect("write the profile");
    let hw = engine::hardware::from_file(&hw_file).expect("a profile");
    let h = step(
        &mut s,
        "child",
        Change::Hardware {
            profile: hw.clone(),
            source: "test".into(),
        },
    );
    assert_eq!(h.record.state.profile.hardware, hw);
    assert!(h.record.base.is_some(), "a child keeps its provenance");

    // A definition applied to a new child of base, then base moves and the child is rebased.
    let dir = tmp.path().join("variants");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("apex.toml");
    std::fs::write(
        &file,
        "name = \"apex\"\nparent = \"base\"\ndescription = \"test\"\nkargs = [\"apex=1\"]\n[packages]\ninstall = [\"tree\"]\n",
    )
    .expect("write the definition");
    let def = engine::variants::Definition::load(&file).expect("the definition loads");
    let apply = |def: &engine::variants::Definition| Change::Apply {
        definition: Box::new(def.clone()),
        file: "apex.toml".into(),
        follow_parent: false,
    };
    let a = step(&mut s, "apex", apply(&def));
    assert_eq!(a.record.kind(), "apply");
    assert!(names(&s, "apex").contains(&"tree".to_owned()));
    assert!(a.record.state.profile.kargs.contains(&"apex=1".to_owned()));
    assert!(plan(&mut s, "apex", apply(&def)).is_unchanged());
    assert!(
        plan(&mut s, "apex", Change::Rebase).is_unchanged(),
        "built on base's head"
    );
    let moved = step(&mut s, "base", install("jq"));
    let r = step(&mut s, "apex", Change::Rebase);
    assert_eq!(r.record.kind(), "rebase");
    assert_eq!(
        r.record.base.as_ref().map(|b| b.seq),
        Some(moved.record.seq)
    );
    let apex = names(&s, "apex");
    assert!(apex.contains(&"tree".to_owned()) && apex.contains(&"jq".to_owned()));

    // Machine-only kinds are refused on a build host, with nothing recorded.
    let before = s.journal().records().len();
    for change in [Change::Cancel, Change::RollbackDeployment] {
        let e = s.plan("base", change, &Silent).expect_err("a build host");
        assert_eq!(e.kind(), ErrorKind::Usage);
    }
    assert_eq!(s.journal().records().len(), before);
    drop(s);

    // Everything recorded verifies and reopens.
    let s = Session::read(&root).expect("reopen");
    let v = s.verify().expect("verify");
    assert_eq!(v.records as usize, before);
}

/// A copy of the mirror's `dists/` with the pool linked, except `hello`'s `.deb`, which is a
/// copy with one byte flipped.
fn mirror_with_a_bad_deb(into: &Path) -> PathBuf {
    let m = into.join("mirror");
    for f in [
        "dists/bookworm/InRelease",
        "dists/bookworm/main/binary-amd64/Packages.xz",
    ] {
        std::fs::create_dir_all(m.join(f).parent().expect("parent")).expect("mkdir");
        std::fs::copy(mirror().join(f), m.join(f)).expect("copy");
    }
    let link_all = |from: &Path, to: &Path, except: &str| {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read the pool").flatten() {
            if e.file_name() != except {
                std::os::unix::fs::symlink(e.path(), to.join(e.file_name())).expect("link");
            }
        }
    };
    let pool = mirror().join("pool/main");
    link_all(&mirror().join("pool"), &m.join("pool"), "main");
    link_all(&pool, &m.join("pool/main"), "h");
    link_all(&pool.join("h"), &m.join("pool/main/h"), "hello");
    let hello = pool.join("h/hello");
    std::fs::create_dir_all(m.join("pool/main/h/hello")).expect("mkdir");
    for e in std::fs::read_dir(&hello).expect("hello's pool").flatten() {
        let mut bytes = std::fs::read(e.path()).expect("read the deb");
        let i = bytes.len() / 2;
        bytes[i] ^= 0xff;
        std::fs::write(m.join("pool/main/h/hello").join(e.file_name()), bytes).expect("write");
    }
    m
}

#[test]
fn a_failure_in_each_phase_leaves_the_state_as_it_was() {
    assert_root();
    let tmp = tempfile::tempdir().expect("tmp");
    let bad = mirror_with_a_bad_deb(tmp.path());
    let root = state_dir(tmp.path(), &uri(&bad));
    let snapshot = |root: &Path| {
        let s = Session::read(root).expect("open");
        let journal = std::fs::read(root.join("journal/records")).unwrap_or_default();
        (s.journal().records().len(), ref_commit(&s, "base"), journal)
    };
    let before = snapshot(&root);
    let mut s = Session::write(&root, &Silent).expect("open");

    // Planning: a package no source has.
    let e = s
        .plan(
            "base",
            Change::Install {
                packages: vec!["no-such-package".into()],
                no_recommends: true,
            },
            &Silent,
        )
        .expect_err("unsatisfiable");
    assert_eq!(e.kind(), ErrorKind::Unsatisfiable, "{e}");
    assert!(e.message().contains("no-such-package"), "{e}");
    // A bad spec is bad usage.
    let e = s
        .plan(
            "base",
            Change::Install {
                packages: vec!["hello=".into()],
                no_recommends: true,
            },
            &Silent,
        )
        .expect_err("bad spec");
    assert_eq!(e.kind(), ErrorKind::Usage);
    // An unknown variant.
    let e = s
        .plan("nope", Change::Upgrade, &Silent)
        .expect_err("unknown variant");
    assert_eq!(e.kind(), ErrorKind::UnknownVariant);

    // Fetching: hello's .deb does not match the index's SHA256.
    let p = plan(
        &mut s,
        "base",
        Change::Install {
            packages: vec!["hello".into()],
            no_recommends: true,
        },
    );
    let e = s
        .run(p, &RunOptions::default(), &Silent)
        .expect_err("the bad .deb is refused");
    assert!(
        matches!(
            e.kind(),
            ErrorKind::HashMismatch | ErrorKind::Fetch | ErrorKind::CorruptObject
        ),
        "{:?}: {e}",
        e.kind()
    );
    assert!(
        e.message().contains("hello"),
        "the error names the package: {e}"
    );
    drop(s);
    assert_eq!(snapshot(&root), before, "a failed fetch recorded nothing");

    // Building: the staging directory cannot be created (a file stands where it would go).
    let good = tmp.path().join("good");
    std::fs::create_dir_all(&good).expect("mkdir");
    let root = state_dir(&good, &uri(&mirror()));
    let before = snapshot(&root);
    let mut s = Session::write(&root, &Silent).expect("open");
    let p = plan(
        &mut s,
        "base",
        Change::Install {
            packages: vec!["hello".into()],
            no_recommends: true,
        },
    );
    let staging = engine::staging_dir(&root);
    std::fs::create_dir_all(staging.parent().expect("parent")).expect("mkdir");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::write(&staging, b"in the way").expect("block staging");
    let e = s
        .run(p, &RunOptions::default(), &Silent)
        .expect_err("the build cannot start");
    std::fs::remove_file(&staging).expect("unblock");
    assert_eq!(e.kind(), ErrorKind::Materialize, "{e}");
    assert!(
        e.hint_text()
            .is_some_and(|h| h.contains("nothing was committed")),
        "{e:?}"
    );
    drop(s);
    let after = snapshot(&root);
    assert_eq!(
        (after.0, &after.1),
        (before.0, &before.1),
        "a failed build recorded nothing"
    );
    // The .debs it fetched stay in the store for the next attempt, which succeeds.
    let mut s = Session::write(&root, &Silent).expect("open");
    let p = plan(
        &mut s,
        "base",
        Change::Install {
            packages: vec!["hello".into()],
            no_recommends: true,
        },
    );
    assert_eq!(p.download_bytes, 0, "fetched before the build failed");
    let c = commit(&mut s, p);
    assert_eq!(c.record.seq, 1);
}
