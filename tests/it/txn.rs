//! The transaction path end to end on the real mirror: install, remove, rollback, profiles,
//! history queries, replay, with the invariants checked after every mutating command.

use crate::common::*;
use std::process::Command;

/// After every command: no staging leftovers, `txn verify` passes, and each variant's ref equals
/// its journal head's commit (checked with the ostree CLI, independently of particle).
pub(crate) fn invariants(env: &Env) {
    let staging = env.root().join("staging");
    if staging.exists() {
        let left: Vec<_> = std::fs::read_dir(&staging)
            .expect("read staging")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "staging leftovers: {left:?}");
    }
    let v = env.run(&["--json", "txn", "verify"]).ok().json();
    assert_eq!(v["ok"], true, "{v}");
    let status = env.run(&["--json", "status"]).ok().json();
    for var in status["variants"].as_array().expect("variants") {
        let Some(commit) = var["commit"].as_str() else {
            continue;
        };
        let out = Command::new("ostree")
            .arg(format!(
                "--repo={}",
                env.root().join("ostree/repo").display()
            ))
            .args(["rev-parse", var["ref"].as_str().expect("ref")])
            .output()
            .expect("ostree rev-parse");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            commit,
            "ref and journal head differ"
        );
        assert_eq!(var["ref_matches_journal"], true);
    }
}

fn names(list: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    v.sort();
    v
}

fn package_set(env: &Env, txn: &str) -> Vec<(String, String)> {
    let show = env.run(&["--json", "txn", "show", txn]).ok().json();
    name_versions(&show["state"]["packages"])
}

/// The shared libraries a program names (`readelf -d`, `NEEDED`).
fn needed(program: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(program)
        .output()
        .expect("run readelf (binutils)");
    assert!(out.status.success(), "readelf -d {program}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split_once('[')?.1.trim_end_matches(']').to_owned()))
        .collect()
}

/// `particle` starts without binding libostree and the sixty-odd libraries behind it (the
/// read-only commands are answered by it; `quickstart_sequence` checks they match
/// `particle-full`'s); `particle-full` links them.
#[test]
fn particle_links_only_the_c_library() {
    let front = needed(env!("CARGO_BIN_EXE_particle"));
    assert!(
        front.iter().all(|l| [
            "libc.so.6",
            "libgcc_s.so.1",
            "ld-linux-x86-64.so.2",
            "libm.so.6"
        ]
        .contains(&l.as_str())),
        "{front:?}"
    );
    let full = needed(env!("CARGO_BIN_EXE_particle-full"));
    assert!(
        full.iter().any(|l| l.starts_with("libostree-1")),
        "{full:?}"
    );
}

#[test]
fn quickstart_sequence() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();

    // Dry run writes nothing.
    let dry = env
        .run(&["--json", "txn", "install", "--dry-run", "hello"])
        .ok()
        .json();
    assert_eq!(dry["dry_run"], true);
    assert!(names(&dry["changes"]["added"]).contains(&"hello".to_owned()));
    assert!(
        env.run(&["--json", "txn", "log"]).ok().json()["transactions"]
            .as_array()
            .expect("list")
            .is_empty()
    );

    // 1: hello, on top of the essential and required set.
    let t1 = env
        .run(&["--json", "txn", "install", "--reason", "first", "hello"])
        .ok()
        .json();
    assert_eq!(t1["txn"], 1);
    assert_eq!(t1["commit"].as_str().expect("commit").len(), 64);
    let added = names(&t1["added"]);
    for must in ["hello", "bash", "dpkg", "libc6", "base-files", "coreutils"] {
        assert!(
            added.contains(&must.to_owned()),
            "{must} missing from {added:?}"
        );
    }
    invariants(&env);

    // The commit is an atomic OS tree: unified /usr, /usr/etc, variant.conf, dpkg knows hello.
    let checkout = env.dir.path().join("checkout1");
    let out = Command::new("ostree")
        .arg(format!(
            "--repo={}",
            env.root().join("ostree/repo").display()
        ))
        .args(["checkout", t1["commit"].as_str().expect("commit")])
        .arg(&checkout)
        .output()
        .expect("ostree checkout");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for link in ["bin", "sbin", "lib", "lib64"] {
        let target = std::fs::read_link(checkout.join(link))
            .unwrap_or_else(|e| panic!("/{link} is not a symlink: {e}"));
        assert!(
            target.to_string_lossy().contains("usr/"),
            "/{link} -> {}",
            target.display()
        );
    }
    assert!(checkout.join("usr/etc/passwd").is_file());
    assert!(checkout.join("usr/bin/hello").is_file());
    let conf = std::fs::read_to_string(checkout.join("usr/lib/particle/variant.conf"))
        .expect("variant.conf");
    assert!(conf.contains("base"), "{conf}");

    // 2: jq and its libraries.
    let t2 = env.run(&["--json", "txn", "install", "jq"]).ok().json();
    assert_eq!(t2["txn"], 2);
    assert_eq!(names(&t2["added"]), vec!["jq", "libjq1", "libonig5"]);
    invariants(&env);
    let why = env.run(&["--json", "why", "libjq1"]).ok().json();
    assert_eq!(why["requested_by"], 2);
    assert_eq!(why["chain"], serde_json::json!(["jq", "libjq1"]));

    // 3: remove jq.
    let t3 = env.run(&["--json", "txn", "remove", "jq"]).ok().json();
    assert_eq!(t3["txn"], 3);
    assert!(names(&t3["removed"]).contains(&"jq".to_owned()));
    invariants(&env);

    // 4: roll back the removal: the state equals transaction 2's.
    let t4 = env
        .run(&["--json", "txn", "rollback", "--reason", "undo"])
        .ok()
        .json();
    assert_eq!(t4["txn"], 4);
    assert_eq!(package_set(&env, "4"), package_set(&env, "2"));
    let d = env.run(&["--json", "txn", "diff", "2", "4"]).ok().json();
    assert_eq!(d["added"], serde_json::json!([]));
    assert_eq!(d["removed"], serde_json::json!([]));
    assert_eq!(d["changed"], serde_json::json!([]));
    // Built on transaction 2's commit: the tree is that tree, only the identity files differ.
    let tree_diff = Command::new("ostree")
        .arg(format!(
            "--repo={}",
            env.root().join("ostree/repo").display()
        ))
        .args([
            "diff",
            t2["commit"].as_str().expect("commit"),
            t4["commit"].as_str().expect("commit"),
        ])
        .output()
        .expect("ostree diff");
    assert_eq!(
        String::from_utf8_lossy(&tree_diff.stdout)
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>(),
        [
            "M    /usr/etc/particle-os/variant.conf",
            "M    /usr/lib/particle/variant.conf"
        ]
    );
    invariants(&env);

    // 5: a kernel-argument change is a transaction too.
    let t5 = env
        .run(&[
            "--json", "txn", "kargs", "--append", "quiet", "--append", "splash",
        ])
        .ok()
        .json();
    assert_eq!(t5["txn"], 5);
    let status = env.run(&["--json", "status"]).ok().json();
    assert_eq!(status["variant"], "base");
    assert_eq!(status["txn"], 5);
    assert_eq!(status["packages"], t2["packages"]);
    assert_eq!(
        status["profile"]["kargs"],
        serde_json::json!(["quiet", "splash"])
    );
    let d = env.run(&["--json", "txn", "diff", "4", "5"]).ok().json();
    assert_eq!(d["profile"].as_array().expect("profile").len(), 1, "{d}");
    invariants(&env);

    // Bisect: `quiet` in the kernel arguments is the "regression"; it first appears in 5.
    let probe = r#"if grep -qw quiet "$PARTICLE_CHECKOUT/usr/lib/particle/kargs" 2>/dev/null; then exit 1; fi; test -x "$PARTICLE_CHECKOUT/usr/bin/hello""#;
    let b = env
        .run(&[
            "--json", "txn", "bisect", "--good", "1", "--bad", "5", "--run", "sh", "-c", probe,
        ])
        .ok()
        .json();
    assert_eq!(b["first_bad"], 5, "{b}");
    assert_eq!(b["last_good"], 4, "{b}");
    assert!(!b["tested"].as_array().expect("tested").is_empty());
    assert_eq!(b["diff"]["profile"].as_array().expect("profile").len(), 1);

    // History queries. The log is one document with one transaction per line, so `tail` and
    // `grep` see whole transactions.
    let out = env.run(&["--json", "txn", "log"]).ok();
    let text = out.stdout.clone();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5 + 2, "{text}");
    for (i, line) in lines[1..6].iter().enumerate() {
        let t: serde_json::Value =
            serde_json::from_str(line.trim_end_matches(',')).expect("a transaction per line");
        assert_eq!(t["seq"], i as u64 + 1, "{line}");
    }
    let log = out.json();
    let txns = log["transactions"].as_array().expect("transactions");
    assert_eq!(txns[4]["profile"][0]["field"], "kargs", "{}", txns[4]);
    assert_eq!(txns.len(), 5);
    let kinds: Vec<&str> = txns
        .iter()
        .map(|t| t["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["install", "install", "remove", "rollback", "kargs"]);
    for (i, t) in txns.iter().enumerate() {
        assert_eq!(t["seq"], i as u64 + 1);
        for field in [
            "id", "time", "actor", "reason", "commit", "added", "removed", "changed",
        ] {
            assert!(!t[field].is_null(), "log entry lacks {field}: {t}");
        }
    }
    assert_eq!(txns[0]["reason"], "first");
    let jq = env
        .run(&["--json", "txn", "log", "--package", "jq"])
        .ok()
        .json();
    let seqs: Vec<u64> = jq["transactions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, [2, 3, 4]);
    let future = env
        .run(&["--json", "txn", "log", "--since", "2999-01-01"])
        .ok()
        .json();
    assert!(future["transactions"].as_array().expect("list").is_empty());
    let all = env
        .run(&[
            "--json",
            "txn",
            "log",
            "--since",
            "2000-01-01 00:00",
            "--until",
            "4102444800",
        ])
        .ok()
        .json();
    assert_eq!(all["transactions"].as_array().expect("list").len(), 5);
    assert_eq!(
        env.run(&["--json", "txn", "log", "--since", "yesterday"])
            .code,
        2
    );
    let prefix = &txns[1]["id"].as_str().expect("id")[..10];
    assert_eq!(
        env.run(&["--json", "txn", "show", prefix]).ok().json()["seq"],
        2
    );

    // A child variant from base at transaction 2: its own commit, the parent's packages.
    let child = env
        .run(&["--json", "variant", "create", "bosom", "--from", "base@2"])
        .ok()
        .json();
    assert_eq!(child["txn"], 6);
    assert_eq!(child["kind"], "variant-create");
    assert_eq!(package_set(&env, "6"), package_set(&env, "2"));
    let list = env.run(&["--json", "variant", "list"]).ok().json();
    let bosom = list["variants"]
        .as_array()
        .expect("list")
        .iter()
        .find(|v| v["name"] == "bosom")
        .cloned()
        .expect("bosom");
    assert_eq!(bosom["parent"], "base");
    assert_eq!(bosom["txn"], 6);
    env.run(&["--json", "variant", "create", "bosom", "--from", "base"])
        .fails("variant_exists");
    invariants(&env);

    // A hardware profile (a fixture with an NVIDIA GPU) is a profile event of its own.
    let fixture = env.dir.path().join("hw.json");
    std::fs::write(
        &fixture,
        r#"{"pci": [{"class": "0x030000", "vendor": "0x10de", "device": "0x2684"}], "cpu": {"vendor": "AuthenticAMD"}}"#,
    )
    .expect("write fixture");
    let hw = env
        .run(&[
            "--json",
            "txn",
            "hardware",
            "--variant",
            "bosom",
            "--from",
            &fixture.to_string_lossy(),
        ])
        .ok()
        .json();
    assert_eq!(hw["txn"], 7);
    assert_eq!(hw["kind"], "hardware");
    let d = env.run(&["--json", "txn", "diff", "6", "7"]).ok().json();
    assert_eq!(d["profile"][0]["field"], "hardware", "{d}");
    assert_eq!(d["added"], serde_json::json!([]));
    invariants(&env);

    // Replay rebuilds every commit bit for bit into a fresh directory.
    let into = env.dir.path().join("replayed");
    let r = env
        .run(&[
            "--json",
            "replay",
            "--into",
            &into.to_string_lossy(),
            "--verify",
        ])
        .ok()
        .json();
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(r["transactions"].as_array().expect("list").len(), 7, "{r}");

    // `particle` answers the read-only commands without `particle-full`: alone in a directory
    // it prints the same documents, and names `particle-full` for a transaction.
    let alone = env.dir.path().join("alone");
    std::fs::create_dir_all(&alone).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_particle"), alone.join("particle")).expect("copy");
    let by = |program: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(program)
            .arg("--root")
            .arg(env.root())
            .args(args)
            .output()
            .expect("run particle");
        (
            out.status.code(),
            String::from_utf8(out.stdout).expect("UTF-8"),
        )
    };
    for args in [
        &["--json", "txn", "log"][..],
        &["--json", "txn", "log", "--variant", "bosom", "-n", "1"],
        &["--json", "txn", "show", "3"],
        &["--json", "txn", "diff", "2", "3"],
        &["--json", "why", "libjq1"],
        &["--json", "variant", "list"],
        &["--json", "repo", "list"],
        &["txn", "log"],
    ] {
        let (code, out) = by(&alone.join("particle"), args);
        assert_eq!(code, Some(0), "{args:?}");
        assert_eq!(
            out,
            by(
                std::path::Path::new(env!("CARGO_BIN_EXE_particle-full")),
                args
            )
            .1,
            "{args:?}"
        );
    }
    let (code, out) = by(&alone.join("particle"), &["--json", "txn", "install", "jq"]);
    assert_eq!(code, Some(1));
    let e: serde_json::Value = serde_json::from_str(&out).expect("JSON error");
    assert_eq!(e["error"]["kind"], "tool", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("particle-full")),
        "{e}"
    );

    // A byte flipped inside the last record (7): history is read up to it, with a warning.
    let records = env.root().join("journal/records");
    let good = std::fs::read(&records).expect("read journal");
    let last = good
        .windows(4)
        .rposition(|w| w == b"PJRC")
        .expect("a frame");
    let mut data = good.clone();
    data[last + 60] ^= 0x40;
    std::fs::write(&records, &data).expect("write journal");
    let log = env.run(&["--json", "txn", "log"]).ok();
    let seqs: Vec<u64> = log.json()["transactions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["seq"].as_u64().expect("seq"))
        .collect();
    assert!(!seqs.is_empty() && seqs.iter().all(|&s| s < 7), "{seqs:?}");
    assert!(
        log.stderr.contains("damaged at record 7") && log.stderr.contains("txn verify"),
        "{}",
        log.stderr
    );
    std::fs::write(&records, &good).expect("restore journal");

    // A byte flipped inside the first record: `txn verify` names it, and nothing may mutate.
    let mut data = good;
    data[200] ^= 0x40;
    std::fs::write(&records, data).expect("write journal");
    let v = env
        .run(&["--json", "txn", "verify"])
        .fails("journal_corrupt");
    let msg = v.json()["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(msg.contains("record 1"), "{msg}");
    env.run(&["--json", "txn", "kargs", "--append", "x"])
        .fails("journal_corrupt");
}

#[test]
fn bad_input_changes_nothing() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let r = env
        .run(&["--json", "txn", "install", "no-such-package-xyz"])
        .fails("unsatisfiable");
    assert!(r.json()["error"]["message"]
        .as_str()
        .expect("msg")
        .contains("no-such-package-xyz"));
    let r = env
        .run(&["--json", "txn", "install", "hello=99.9"])
        .fails("unsatisfiable");
    assert!(r.json()["error"]["message"]
        .as_str()
        .expect("msg")
        .contains("99.9"));
    for bad in ["hello=", "Hello World", "hello=1 2"] {
        let r = env.run(&["--json", "txn", "install", bad]);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stdout);
        assert_eq!(r.json()["error"]["kind"], "usage");
    }
    env.run(&["--json", "txn", "install", "--variant", "nope", "hello"])
        .fails("unknown_variant");
    env.run(&["--json", "txn", "show", "999"])
        .fails("unknown_txn");
    env.run(&["--json", "txn", "rollback"])
        .fails("unknown_variant");
    let r = env.run(&["--json", "txn", "show", "zz"]);
    assert_eq!(r.code, 2);
    // Nothing above wrote a transaction.
    assert!(
        env.run(&["--json", "txn", "log"]).ok().json()["transactions"]
            .as_array()
            .expect("list")
            .is_empty()
    );
    // Human errors are one line with `error:`, and never a panic.
    let h = env.run(&["txn", "install", "no-such-package-xyz"]);
    assert_eq!(h.code, 1);
    assert!(h.stderr.starts_with("error: "), "{}", h.stderr);
    assert!(!h.stderr.contains("panicked"));
}

#[test]
fn a_second_writer_fails_at_once_with_locked() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    let lock = env.root().join("lock");
    // The holder waits for the lock (no -n): the probes below must not make it give up.
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .expect("flock");
    // Wait until the holder has the lock.
    let t = std::time::Instant::now();
    loop {
        let probe = Command::new("flock")
            .arg("-n")
            .arg(&lock)
            .arg("true")
            .status()
            .expect("flock");
        if !probe.success() || t.elapsed().as_secs() > 10 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let start = std::time::Instant::now();
    env.run(&["--json", "repo", "update"]).fails("locked");
    env.run(&["--json", "txn", "install", "hello"])
        .fails("locked");
    assert!(
        start.elapsed().as_secs() < 10,
        "a locked command must fail at once"
    );
    holder.kill().expect("kill");
    let _ = holder.wait();
    // Reading never needs the lock.
    env.run(&["--json", "repo", "list"]).ok();
}

#[test]
fn state_dir_that_is_not_particles() {
    let env = Env::new();
    std::fs::create_dir_all(env.root()).expect("mkdir");
    std::fs::write(env.root().join("something"), b"x").expect("write");
    for args in [
        vec!["--json", "status"],
        vec!["--json", "txn", "log"],
        vec!["--json", "txn", "install", "hello"],
    ] {
        env.run(&args).fails("not_a_state_dir");
    }
}

/// With one source, planning reads the pinned snapshot in place; with two it converts both to
/// the owned model. The same archive pinned twice must plan exactly as once, and a transaction
/// over two sources fetches and commits.
#[test]
fn one_source_and_two_plan_alike() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let plan = |env: &Env| {
        let mut dry = env
            .run(&["--json", "txn", "install", "--dry-run", "hello", "curl"])
            .ok()
            .json();
        assert_eq!(dry["dry_run"], true);
        // The packages, not which sources were pinned (the second plan records both).
        dry["changes"]["indices"].take();
        dry["changes"].take()
    };
    let one = plan(&env);
    assert!(names(&one["added"]).contains(&"libcurl4".to_owned()));
    env.add_source("again", &file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    assert_eq!(plan(&env), one);
    env.run(&["txn", "install", "hello"]).ok();
    let why = env.run(&["--json", "why", "hello"]).ok().json();
    assert_eq!(why["requested_by"], 1, "{why}");
    invariants(&env);
}

/// `gc --keep 1` removes the commits and cached .debs only older transactions need, never the
/// journal: `txn verify` still passes (it knows what gc removed), and the removed state is
/// rebuilt from the journal (`txn rollback --to`, fetching the .debs again).
#[test]
fn gc_keeps_the_heads_and_the_last_transactions_and_the_journal_rebuilds_the_rest() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    env.run(&["txn", "install", "hello"]).ok();
    let with_jq = env.run(&["--json", "txn", "install", "jq"]).ok().json();
    env.run(&["txn", "remove", "jq"]).ok();
    let dry = env
        .run(&["--json", "gc", "--keep", "1", "--dry-run"])
        .ok()
        .json();
    assert_eq!(dry["kept_transactions"], serde_json::json!([3]), "{dry}");
    assert_eq!(dry["removed"]["commits"].as_array().map(Vec::len), Some(2));
    // `txn remove jq` leaves libjq1 and libonig5 installed (as apt does): only jq's .deb is
    // needed by no kept state.
    assert_eq!(dry["removed"]["debs"], 1, "jq's: {dry}");
    let repo = env.root().join("ostree/repo");
    let commit_file = |c: &str| {
        repo.join("objects")
            .join(&c[..2])
            .join(format!("{}.commit", &c[2..]))
    };
    let c2 = with_jq["commit"].as_str().expect("commit").to_owned();
    assert!(commit_file(&c2).exists(), "a dry run removes nothing");
    let done = env.run(&["--json", "gc", "--keep", "1"]).ok().json();
    assert_eq!(done["removed"], dry["removed"]);
    assert!(!commit_file(&c2).exists());
    let v = env.run(&["--json", "txn", "verify"]).ok().json();
    assert_eq!(v["pruned_commits"], 2, "{v}");
    let again = env.run(&["--json", "gc", "--keep", "1"]).ok().json();
    assert_eq!(again["removed"]["debs"], 0, "{again}");
    let back = env
        .run(&["--json", "txn", "rollback", "--to", "2"])
        .ok()
        .json();
    assert_eq!(package_set(&env, "4"), package_set(&env, "2"));
    assert_eq!(back["kind"], "rollback");
    env.run(&["txn", "verify"]).ok();
    // Built on the head's commit because gc removed transaction 2's, it is still the commit a
    // replay builds from the journal alone.
    let into = env.dir.path().join("replayed");
    let r = env
        .run(&[
            "--json",
            "replay",
            "--into",
            into.to_str().expect("utf-8"),
            "--verify",
        ])
        .ok()
        .json();
    assert_eq!(r["verified"], true, "{r}");
}
