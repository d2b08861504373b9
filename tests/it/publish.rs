//! `publish` and `replay --from`: a build host publishes to an archive-mode repository served
//! over HTTP on 127.0.0.1; stock `ostree pull` verifies the GPG signatures and uses the static
//! delta; another machine (a fresh state directory) replays the published journal and gets
//! every published checksum; tampered or untrusted input is refused with nothing built.

use crate::common::*;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ostree(repo: &Path) -> Command {
    let mut c = Command::new("ostree");
    c.arg(format!("--repo={}", repo.display()));
    c
}

/// A client repository with `origin` at `url`, verifying GPG signatures on commits and summary.
fn client(dir: &Path, url: &str, keyring: &Path) -> std::path::PathBuf {
    let repo = dir.join("client");
    sh(ostree(&repo).args(["init", "--mode=bare-user"]));
    sh(ostree(&repo)
        .args([
            "remote",
            "add",
            "--set=gpg-verify=true",
            "--set=gpg-verify-summary=true",
        ])
        .arg(format!("--gpg-import={}", keyring.display()))
        .args(["origin", url]));
    repo
}

#[test]
fn publish_is_pulled_verified_and_replayed_from_http() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    env.run(&["txn", "install", "hello"]).ok();
    let key = TestKey::generate();
    let sign_key = key.secret_key_file(env.dir.path());
    let published = env.dir.path().join("published");
    let p = published.to_string_lossy().into_owned();
    let publish = || {
        env.run(&[
            "--json",
            "publish",
            "--repo",
            &p,
            "--sign-key",
            &sign_key.to_string_lossy(),
        ])
    };
    let first = publish().ok().json();
    let head = env.run(&["--json", "status"]).ok().json();
    assert_eq!(first["variants"][0]["commit"], head["commit"], "{first}");
    assert_eq!(first["variants"][0]["delta"], serde_json::Value::Null);
    assert!(
        published.join("summary.sig").exists(),
        "the summary is signed"
    );

    // A machine pulls the first publish over HTTP with stock ostree, verifying the signatures.
    let log = env.dir.path().join("http.log");
    // The server cuts the published journal off half way the first time it is asked for it.
    let server = HttpServer::start(&published, ".records", &log);
    let url = format!("http://127.0.0.1:{}", server.port);
    let repo = client(env.dir.path(), &url, &key.keyring);
    sh(ostree(&repo).args(["pull", "origin", "particle-os/base"]));

    // A second transaction, published with a static delta from the first; not while another
    // publish holds DIR (here a process holding its lock): `locked`, DIR as it was.
    env.run(&["txn", "install", "jq"]).ok();
    let ready = env.dir.path().join("lock-held");
    // Its own process group: the lock is held by flock's child too, killed with it.
    let mut holder = Command::new("flock")
        .arg(published.join("particle/.lock"))
        .arg("-c")
        .arg(format!("touch {} && sleep 600", ready.display()))
        .process_group(0)
        .spawn()
        .expect("flock");
    while !ready.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = particle_files(&published);
    publish().fails("locked");
    assert_eq!(particle_files(&published), before);
    sh(Command::new("kill")
        .arg("--")
        .arg(format!("-{}", holder.id())));
    holder.wait().expect("wait");
    let second = publish().ok().json();
    let delta = second["variants"][0]["delta"]
        .as_str()
        .expect("a delta")
        .to_owned();
    assert!(sh(ostree(&published).args(["static-delta", "list"])).contains(&delta));
    assert_eq!(second["journal"]["records"], 2);

    // A flipped byte in the delta: the pull fails and the machine keeps what it had.
    let damaged = env.dir.path().join("damaged");
    sh(Command::new("cp").arg("-a").arg(&published).arg(&damaged));
    let mut parts: Vec<std::path::PathBuf> = Vec::new();
    let mut stack = vec![damaged.join("deltas")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("deltas").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                parts.push(e.path());
            }
        }
    }
    let part = parts
        .iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("a delta part");
    let mut bytes = std::fs::read(part).expect("part");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(part, bytes).expect("write");
    let bad_server = HttpServer::start(&damaged, "", &log);
    sh(ostree(&repo)
        .args([
            "remote",
            "add",
            "--set=gpg-verify=true",
            "--set=gpg-verify-summary=true",
        ])
        .arg(format!("--gpg-import={}", key.keyring.display()))
        .arg("damaged")
        .arg(format!("http://127.0.0.1:{}", bad_server.port)));
    let out = ostree(&repo)
        .args([
            "pull",
            "--require-static-deltas",
            "damaged",
            "particle-os/base",
        ])
        .output()
        .expect("ostree");
    assert!(!out.status.success(), "a damaged delta must not apply");
    drop(bad_server);

    // The good one: pulled through the delta.
    sh(ostree(&repo).args([
        "pull",
        "--require-static-deltas",
        "origin",
        "particle-os/base",
    ]));
    let pulled = sh(ostree(&repo).args(["rev-parse", "origin:particle-os/base"]));
    assert_eq!(
        pulled.trim(),
        second["variants"][0]["commit"].as_str().expect("commit")
    );
    sh(ostree(&repo).args(["fsck"]));

    // Another machine replays the published journal: every checksum comes out the same.
    let machine = Env::new();
    let r = machine
        .run(&[
            "--json",
            "replay",
            "--from",
            &url,
            "--keyring",
            &key.keyring.to_string_lossy(),
            "--into",
            &machine.root().to_string_lossy(),
            "--verify",
        ])
        .ok()
        .json();
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(r["signature_checked"], true);
    let requests = std::fs::read_to_string(&log).expect("the server's log");
    assert!(
        requests
            .lines()
            .any(|l| l.contains(".records") && l.contains("range=bytes=")),
        "the cut-off journal was resumed with a Range request:\n{requests}"
    );
    assert_eq!(r["transactions"].as_array().expect("list").len(), 2);
    // The rebuilt directory is a state directory with the published journal.
    let v = machine.run(&["--json", "txn", "verify"]).ok().json();
    assert_eq!(v["records"], 2);
    drop(server);

    // Untrusted or damaged input: a clear error, nothing built.
    let other = TestKey::generate();
    let e = Env::new()
        .run(&[
            "--json",
            "replay",
            "--from",
            &p,
            "--keyring",
            &other.keyring.to_string_lossy(),
            "--verify",
        ])
        .fails("signature");
    assert!(e.stdout.contains("published.json"), "{}", e.stdout);
    let tampered = env.dir.path().join("tampered");
    sh(Command::new("cp").arg("-a").arg(&published).arg(&tampered));
    let index = published_index(&tampered);
    let records = tampered
        .join("particle")
        .join(index["journal"]["path"].as_str().expect("path"));
    let mut bytes = std::fs::read(&records).expect("records");
    let i = bytes.len() - 40;
    bytes[i] ^= 1;
    std::fs::write(&records, bytes).expect("write");
    let into = env.dir.path().join("never");
    let e = Env::new()
        .run(&[
            "--json",
            "replay",
            "--from",
            &tampered.to_string_lossy(),
            "--into",
            &into.to_string_lossy(),
            "--verify",
        ])
        .fails("hash_mismatch");
    assert!(e.stdout.contains(".records"), "{}", e.stdout);
    assert!(!into.exists(), "nothing was built");
    // A source's keyring replaced by another (the index records its SHA256), and a signed
    // index naming a journal outside the published directory: each refused, nothing used.
    let dry_run = |repo: &Path| {
        Env::new().run(&[
            "--json",
            "replay",
            "--from",
            &repo.to_string_lossy(),
            "--keyring",
            &key.keyring.to_string_lossy(),
            "--dry-run",
        ])
    };
    let swapped = env.dir.path().join("swapped");
    sh(Command::new("cp").arg("-a").arg(&published).arg(&swapped));
    let ring = published_index(&swapped)["sources"][0]["keyring"]
        .as_str()
        .expect("a source's keyring")
        .to_owned();
    std::fs::copy(&other.keyring, swapped.join("particle").join(&ring)).expect("swap");
    let e = dry_run(&swapped).fails("hash_mismatch");
    assert!(e.stdout.contains(&ring), "{}", e.stdout);
    let escaping = env.dir.path().join("escaping");
    sh(Command::new("cp").arg("-a").arg(&published).arg(&escaping));
    let mut index = published_index(&escaping);
    index["journal"]["path"] = "../../../../etc/passwd".into();
    let text = serde_json::to_vec_pretty(&index).expect("json");
    let path = escaping.join("particle/published.json");
    std::fs::write(&path, &text).expect("write");
    let sig = escaping.join(format!(
        "particle/signatures/{}.sig",
        store::Sha256::of(&text).to_hex()
    ));
    key.detach_sign(&path, &sig);
    let e = dry_run(&escaping).fails("bad_index");
    assert!(e.stdout.contains("etc/passwd"), "{}", e.stdout);
    // A flipped byte in the summary: stock ostree refuses it.
    let summary = tampered.join("summary");
    let mut s = std::fs::read(&summary).expect("summary");
    let mid = s.len() / 2;
    s[mid] ^= 0xff;
    std::fs::write(&summary, s).expect("write");
    let dir2 = env.dir.path().join("c2");
    std::fs::create_dir_all(&dir2).expect("mkdir");
    let repo2 = client(&dir2, &file_uri(&tampered), &key.keyring);
    let out = ostree(&repo2)
        .args(["pull", "origin", "particle-os/base"])
        .output()
        .expect("ostree");
    assert!(!out.status.success(), "a damaged summary must not verify");
}

fn published_index(repo: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(repo.join("particle/published.json")).expect("index"))
        .expect("JSON")
}

/// The files under `particle/` of `repo`, relative to it.
fn particle_files(repo: &Path) -> Vec<String> {
    let base = repo.join("particle");
    let mut files = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(&base).expect("inside").to_owned();
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

/// A publish killed at each of its steps leaves a repository whose every reader gets one whole
/// publish, the old or the new: `replay --from --dry-run` (the index, its signature, the
/// journal, the commit objects, the keyrings and particle's own archive, every recorded package
/// found) and stock `ostree pull` with signatures checked. The next publish completes and
/// sweeps what the killed ones left, keeping what the previous index names for its readers,
/// and publishes the head's history, signed.
#[test]
fn a_publish_killed_at_any_step_leaves_every_reader_a_whole_publish() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    // particle's own package: its archive is published too.
    env.run(&["txn", "install", "--no-recommends", "hello", "particle"])
        .ok();
    let key = TestKey::generate();
    let sign_key = key.secret_key_file(env.dir.path());
    let sign_key = sign_key.to_string_lossy().into_owned();
    let repo = env.dir.path().join("published");
    let p = repo.to_string_lossy().into_owned();
    let publish = ["--json", "publish", "--repo", &p, "--sign-key", &sign_key];
    let first = env.run(&publish).ok().json();
    let first_commit = first["variants"][0]["commit"]
        .as_str()
        .expect("commit")
        .to_owned();
    assert!(
        first["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .any(|s| s["uri"].as_str().is_some_and(|u| u.starts_with("self/"))),
        "particle's own archive is published under self/: {first}"
    );
    env.run(&["txn", "install", "jq"]).ok();
    let second_commit = env.run(&["--json", "status"]).ok().json()["commit"]
        .as_str()
        .expect("commit")
        .to_owned();
    let client = client(env.dir.path(), &file_uri(&repo), &key.keyring);
    let keyring = key.keyring.to_string_lossy().into_owned();
    // What a reader gets: `replay --from --dry-run` with the keyring, on a fresh machine.
    let dry_run = || {
        Env::new()
            .run(&[
                "--json",
                "replay",
                "--from",
                &p,
                "--keyring",
                &keyring,
                "--dry-run",
            ])
            .ok()
            .json()
    };
    let points = [
        ("publish-objects", &first_commit),
        ("publish-files", &first_commit),
        ("publish-index", &second_commit),
        ("publish-summary", &second_commit),
    ];
    for (point, offered) in points {
        let killed = env.run_env(&[("PARTICLE_CRASH_AT", point)], &publish);
        assert_eq!(killed.code, -1, "killed at {point}: {}", killed.stderr);
        let seen = dry_run();
        assert_eq!(seen["signature_checked"], true);
        assert_eq!(
            seen["published"][0]["commit"],
            offered.as_str(),
            "after a publish killed at {point}: {seen}"
        );
        assert!(
            seen["fetch"]["packages"].as_u64().expect("count") > 50,
            "{seen}"
        );
        // Stock ostree, checking the summary's and the commits' signatures.
        sh(ostree(&client).args(["pull", "origin", "particle-os/base"]));
        let pulled = sh(ostree(&client).args(["rev-parse", "origin:particle-os/base"]));
        let by_summary = if point == "publish-summary" {
            &second_commit
        } else {
            &first_commit
        };
        assert_eq!(pulled.trim(), by_summary.as_str(), "killed at {point}");
    }
    // The next publish completes; the killed ones' leftovers are swept, what the previous
    // index names is kept for a reader that fetched it a moment ago.
    let before = published_index(&repo);
    env.run(&["txn", "remove", "hello"]).ok();
    let between = env.run(&["--json", "status"]).ok().json()["commit"]
        .as_str()
        .expect("commit")
        .to_owned();
    env.run(&["txn", "install", "--no-recommends", "hello"])
        .ok();
    let last = env.run(&publish).ok().json();
    assert_ne!(last["variants"][0]["commit"], second_commit.as_str());
    assert_ne!(last["journal"]["path"], before["journal"]["path"]);
    let files = particle_files(&repo);
    for index in [&before, &last] {
        let journal = index["journal"]["path"].as_str().expect("path");
        assert!(files.iter().any(|f| f == journal), "{journal} in {files:?}");
    }
    let journals = files.iter().filter(|f| f.starts_with("journal/")).count();
    let signatures = files
        .iter()
        .filter(|f| f.starts_with("signatures/"))
        .count();
    assert!(journals == 2 && signatures == 2, "{files:#?}");
    assert!(
        !files.iter().any(|f| f.contains(".new")),
        "nothing half-written is left: {files:#?}"
    );
    sh(ostree(&repo).args(["fsck"]));
    let seen = dry_run();
    assert_eq!(seen["journal"]["records"], 4, "{seen}");
    // The head's history is published too: the commit between two publishes, signed (stock
    // ostree pulls it by checksum, verifying its signature).
    sh(ostree(&client).args(["pull", "origin", &between]));
    let log = sh(ostree(&repo).args(["log", "particle-os/base"]));
    assert_eq!(log.matches("\ncommit ").count() + 1, 4, "{log}");
}
