//! A state directory written by an older binary opens with this one, passes `txn verify` and
//! replays bit for bit. The fixture (`tests/fixtures/old-state.tar.gz`, 23 KB) was made by
//! `scripts/make-old-state-fixture.sh` with the binary of commit ad013ff, before the engine crate
//! took the transaction protocol out of the command line: six transactions on two variants
//! (install, kargs, sysctl, variant create, an install in the child, rollback) from the shared
//! mirror. It holds everything that binary wrote except the bulk the mirror gives back: the
//! store's objects (.debs, universe snapshots) and the repository's objects. So the test pins
//! and fetches again, and the replay rebuilds every commit, which must be the one the old binary
//! recorded; the replayed directory (the old journal, byte for byte, and the rebuilt repository)
//! then passes `txn verify` and takes new transactions.

use crate::common::{mirror, Env};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Where the fixture's source and keyring point (the script made the same link).
const MIRROR_LINK: &str = "/tmp/particle-compat-mirror";

#[test]
fn a_state_directory_from_an_older_binary_opens_verifies_and_replays() {
    let link = Path::new(MIRROR_LINK);
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(mirror(), link).expect("link the mirror where the fixture says");
    let env = Env::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/old-state.tar.gz");
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(&fixture)
        .arg("-C")
        .arg(env.dir.path())
        .output()
        .expect("run tar");
    assert!(
        out.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Reading commands work on it as it is.
    let log = env.run(&["--json", "txn", "log"]).ok().json();
    let seqs: Vec<u64> = log["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, [1, 2, 3, 6], "base's lineage");
    let status = env.run(&["--json", "status"]).ok().json();
    assert_eq!(status["txn"], 6);
    let child = env.run(&["--json", "txn", "show", "5"]).ok().json();
    assert_eq!(child["variant"], "child");
    assert_eq!(child["kind"], "install");
    env.run(&["txn", "diff", "1", "6"]).ok();
    env.run(&["variant", "list"]).ok();

    // The bulk back: the pins and every recorded .deb, from the mirror.
    env.run(&["repo", "update"]).ok();
    let mut specs = BTreeSet::new();
    for seq in 1..=6 {
        let r = env
            .run(&["--json", "txn", "show", &seq.to_string()])
            .ok()
            .json();
        for p in r["state"]["packages"].as_array().expect("packages") {
            specs.insert(format!(
                "{}={}",
                p["name"].as_str().expect("name"),
                p["version"].as_str().expect("version")
            ));
        }
    }
    let mut fetch = vec!["store", "fetch"];
    fetch.extend(specs.iter().map(String::as_str));
    env.run(&fetch).ok();

    // Every commit rebuilt is the one the old binary recorded.
    let replayed = Env::new();
    let into = replayed.root();
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
    let rebuilt = r["transactions"].as_array().expect("transactions");
    assert_eq!(rebuilt.len(), 6);
    assert!(rebuilt.iter().all(|t| t["identical"] == true), "{r}");

    // The replayed directory holds the old journal byte for byte and a complete repository: it
    // verifies, and the new binary appends to the old chain.
    assert_eq!(
        std::fs::read(env.root().join("journal/records")).expect("old journal"),
        std::fs::read(into.join("journal/records")).expect("copied journal"),
    );
    replayed.run(&["txn", "verify"]).ok();
    replayed
        .run(&[
            "repo",
            "add",
            "debian",
            "--uri",
            &format!("file://{MIRROR_LINK}"),
            "--suite",
            "bookworm",
            "--keyring",
            &format!("{MIRROR_LINK}/keyring/debian-archive-keyring.gpg"),
        ])
        .ok();
    replayed.run(&["repo", "update"]).ok();
    let t = replayed
        .run(&["--json", "txn", "install", "--variant", "child", "tree"])
        .ok()
        .json();
    assert_eq!(t["txn"], 7);
    let v = replayed.run(&["--json", "txn", "verify"]).ok().json();
    assert_eq!(v["records"], 7);
}
