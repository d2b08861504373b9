//! The state directory changed behind particle's back (issue #7's catalogue): a variant's ref
//! moved to a commit no transaction recorded, a ref moved back to an earlier recorded commit, the
//! journal's last record cut off. Refs are projections of the journal, so particle moves a ref
//! forward to its journal head, but it never guesses when a ref names a commit the journal does
//! not know.

use crate::common::*;
use std::path::Path;
use std::process::Command;

fn ostree(root: &Path, args: &[&str]) -> String {
    let out = Command::new("ostree")
        .arg(format!("--repo={}", root.join("ostree/repo").display()))
        .args(args)
        .output()
        .expect("run ostree");
    assert!(
        out.status.success(),
        "ostree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn ref_commit(root: &Path) -> String {
    ostree(root, &["rev-parse", "particle-os/base"])
}

#[test]
fn a_ref_moved_or_records_cut_behind_particles_back_is_refused() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let t1 = env.run(&["--json", "txn", "install", "hello"]).ok().json();
    let t2 = env
        .run(&["--json", "txn", "kargs", "--append", "quiet"])
        .ok()
        .json();
    let (c1, c2) = (
        t1["commit"].as_str().expect("commit").to_owned(),
        t2["commit"].as_str().expect("commit").to_owned(),
    );
    let root = env.root();

    // 1. The ref moved to a commit made by hand: every mutation refuses, naming both commits.
    let tree = env.dir.path().join("evil-tree");
    std::fs::create_dir_all(tree.join("usr/bin")).expect("mkdir");
    std::fs::write(tree.join("usr/bin/evil"), b"#!/bin/sh\n").expect("write");
    ostree(
        &root,
        &[
            "commit",
            "--branch=particle-os/base",
            "--subject=not particle's",
            &format!("--tree=dir={}", tree.display()),
        ],
    );
    let evil = ref_commit(&root);
    let r = env
        .run(&["--json", "txn", "kargs", "--append", "splash"])
        .fails("ref_mismatch");
    let msg = r.json()["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(msg.contains(&evil) && msg.contains(&c2), "{msg}");
    let h = env.run(&["txn", "install", "jq"]);
    assert_eq!(h.code, 1, "{}", h.stderr);
    assert!(h.stderr.starts_with("error: "), "{}", h.stderr);
    assert!(h.stderr.contains("hint: "), "{}", h.stderr);
    assert_eq!(ref_commit(&root), evil, "a refused command moves nothing");
    let status = env.run(&["--json", "status"]).ok().json();
    assert_eq!(status["ref_matches_journal"], false);
    // The way back the hint gives: delete the ref; the next command restores it.
    ostree(&root, &["refs", "--delete", "particle-os/base"]);
    let r = env.run(&["txn", "upgrade", "--dry-run"]).ok();
    assert!(
        r.stderr.contains("recovery: moved particle-os/base"),
        "{}",
        r.stderr
    );
    assert_eq!(ref_commit(&root), c2);

    // 2. The ref moved back to an earlier recorded commit: moved forward to the journal head.
    ostree(&root, &["reset", "particle-os/base", &c1]);
    let r = env.run(&["txn", "upgrade", "--dry-run"]).ok();
    assert!(
        r.stderr.contains("recovery: moved particle-os/base"),
        "{}",
        r.stderr
    );
    assert_eq!(ref_commit(&root), c2);
    assert_eq!(
        env.run(&["--json", "txn", "verify"]).ok().json()["ok"],
        true
    );

    // 3. The last record cut from the journal (its bytes zeroed: to the chain it is simply not
    //    there): the ref names a commit no remaining record knows, so mutations refuse.
    let records = root.join("journal/records");
    let saved = std::fs::read(&records).expect("read journal");
    let scan = journal::scan(&saved);
    assert_eq!(scan.records.len(), 2);
    let mut cut = saved.clone();
    let last = *scan.offsets.last().expect("offset") as usize;
    cut[last..scan.valid_len as usize].fill(0);
    std::fs::write(&records, &cut).expect("write journal");
    let r = env
        .run(&["--json", "txn", "kargs", "--append", "splash"])
        .fails("ref_mismatch");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains(&c2),
        "{}",
        r.stdout
    );
    assert_eq!(ref_commit(&root), c2, "the ref was not moved back");
    // The journal restored: everything is consistent again.
    std::fs::write(&records, &saved).expect("restore journal");
    env.run(&["txn", "upgrade", "--dry-run"]).ok();
    assert_eq!(
        env.run(&["--json", "status"]).ok().json()["ref_matches_journal"],
        true
    );
}
