//! Snapshots of the human (non-JSON) output: the real binary on the shared mirror in a temporary
//! state directory, stdout and stderr and the exit code of each command, compared with
//! `tests/it/snapshots/*.snap`. A change in what a person sees fails the test; review the new
//! output with `cargo insta review` (or by reading the `.snap.new` file) and commit it.
//!
//! What differs between runs and machines is filtered: the temporary directory's random part and
//! the mirror's path, times and durations, hashes, ids and commit checksums, transfer rates. The actor
//! (`user@host`) is made fixed instead of filtered, because it sets the width of a `txn log`
//! column: every run gets `USER=tester` and its own UTS namespace with the hostname
//! `particle-test` (tests run as root).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const HOSTNAME: &str = "particle-test";

/// Runs particle with `args` (under `--root root` unless `root` is None) and renders what it
/// printed for a snapshot.
fn run_in(root: Option<&Path>, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--uts",
        "sh",
        "-c",
        "hostname \"$0\" && exec \"$@\"",
        HOSTNAME,
    ])
    .arg(env!("CARGO_BIN_EXE_particle"));
    if let Some(r) = root {
        cmd.arg("--root").arg(r);
    }
    let out = cmd
        .args(args)
        .env_remove("PARTICLE_ROOT")
        .env_remove("PARTICLE_LOG")
        .env_remove("SUDO_USER")
        .env_remove("COLUMNS")
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .output()
        .expect("run particle under unshare");
    let code = out.status.code().unwrap_or(-1);
    let text = format!(
        "exit: {code}\n----- stdout -----\n{}----- stderr -----\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (code, text)
}

/// Escapes `s` for use as a literal in an insta filter regex.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn settings(tmp: &Path, mirror: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_snapshot_path("snapshots");
    s.set_omit_expression(true);
    // The temporary directory keeps its width (only its random part is replaced); the mirror's
    // real path, which differs between machines, becomes [MIRROR].
    let name = tmp
        .file_name()
        .expect("a temporary directory has a name")
        .to_string_lossy();
    let stem = name.trim_end_matches(|c: char| c.is_ascii_alphanumeric());
    s.add_filter(
        &format!("{}[A-Za-z0-9]+", literal(stem)),
        format!("{stem}XXXXXX"),
    );
    s.add_filter(&literal(&mirror.display().to_string()), "[MIRROR]");
    // Commit checksums and SHA256 digests, then id and hash prefixes (12 or 16 hex digits).
    // Placeholders that stand in table cells keep the width of what they replace, so that the
    // snapshots show the columns aligned as a person sees them.
    s.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
    s.add_filter(r"\b[0-9a-f]{16}\b", "[HASH16]");
    s.add_filter(r"\b[0-9a-f]{12}\b", "[ID--------]");
    s.add_filter(
        r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b",
        "YYYY-MM-DD HH:MM:SS",
    );
    s.add_filter(r"\b\d+(\.\d+)? ?[KMG]?i?B/s\b", "[RATE]");
    s.add_filter(r"\b\d+(\.\d+)?(ns|µs|us|ms|s)\b", "[DURATION]");
    s
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|e| panic!("canonicalize {}: {e}", p.display()))
}

/// Every command a person runs on the way through the quickstart, and the errors they meet.
/// Two composes: one install and one kernel-argument change.
#[test]
fn human_output() {
    // A path of fixed length (`/tmp/particle-snap.XXXXXX`), and the mirror reached through a
    // link inside it: the URI column of `repo list` has the same width on every machine.
    let tmp = tempfile::Builder::new()
        .prefix("particle-snap.")
        .tempdir_in("/tmp")
        .expect("tempdir");
    let tmp_path = canonical(tmp.path());
    let real_mirror = canonical(&mirror());
    let keyring = real_mirror.join("keyring/debian-archive-keyring.gpg");
    let mirror = tmp_path.join("mirror");
    std::os::unix::fs::symlink(&real_mirror, &mirror).expect("link the mirror");
    let _settings = settings(&tmp_path, &real_mirror).bind_to_scope();
    let root = tmp_path.join("state");
    let root = root.as_path();
    let snap = |name: &str, root: Option<&Path>, args: &[&str], want: i32| {
        let (code, text) = run_in(root, args);
        assert_eq!(code, want, "{name}: {args:?}\n{text}");
        insta::assert_snapshot!(name, text);
    };

    // Help, no state directory needed.
    snap("help", None, &["--help"], 0);
    snap("help_txn_install", None, &["txn", "install", "--help"], 0);
    snap("error_usage", None, &["txn", "install"], 2);
    snap("error_usage_unknown_command", None, &["frobnicate"], 2);

    // Not a state directory: a directory with someone else's files, and one that does not exist.
    let foreign = tmp_path.join("foreign");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), b"not particle's").expect("write");
    snap("error_not_a_state_dir", Some(&foreign), &["status"], 1);
    snap(
        "error_missing_state_dir",
        Some(&tmp_path.join("nowhere")),
        &["txn", "log"],
        1,
    );

    // Sources.
    snap("init", Some(root), &["init"], 0);
    let uri = file_uri(&mirror);
    let keyring = keyring.to_string_lossy();
    snap(
        "repo_add",
        Some(root),
        &[
            "repo",
            "add",
            "debian",
            "--uri",
            &uri,
            "--suite",
            "bookworm",
            "--keyring",
            &keyring,
        ],
        0,
    );
    snap("repo_list_before_update", Some(root), &["repo", "list"], 0);
    snap("repo_update", Some(root), &["repo", "update"], 0);
    snap("repo_list", Some(root), &["repo", "list"], 0);
    snap("variant_list_empty", Some(root), &["variant", "list"], 0);
    snap("status_empty", Some(root), &["status"], 0);

    // Errors before the first transaction; none of them writes anything.
    snap(
        "error_unknown_package",
        Some(root),
        &["txn", "install", "no-such-package"],
        1,
    );
    snap(
        "error_unknown_variant",
        Some(root),
        &["txn", "install", "--variant", "nope", "hello"],
        1,
    );
    snap(
        "error_malformed_version",
        Some(root),
        &["txn", "install", "hello=not a version"],
        2,
    );
    snap(
        "error_empty_version",
        Some(root),
        &["txn", "install", "hello="],
        2,
    );

    // The plan, then the real thing.
    snap(
        "txn_install_dry_run",
        Some(root),
        &["txn", "install", "--dry-run", "hello"],
        0,
    );
    snap(
        "txn_install",
        Some(root),
        &["txn", "install", "--reason", "snapshot test", "hello"],
        0,
    );
    snap(
        "txn_install_nothing_to_do",
        Some(root),
        &["txn", "install", "hello"],
        0,
    );
    snap("why", Some(root), &["why", "hello"], 0);
    snap("why_dependency", Some(root), &["why", "libc6"], 0);
    snap(
        "error_why_not_installed",
        Some(root),
        &["why", "no-such-package"],
        1,
    );
    snap(
        "txn_kargs",
        Some(root),
        &["txn", "kargs", "--append", "quiet", "--append", "splash"],
        0,
    );
    snap("txn_log", Some(root), &["txn", "log"], 0);
    snap("txn_show", Some(root), &["txn", "show", "2"], 0);
    snap("txn_diff", Some(root), &["txn", "diff", "1", "2"], 0);
    snap("status", Some(root), &["status"], 0);
    snap("variant_list", Some(root), &["variant", "list"], 0);
    snap(
        "error_unknown_transaction",
        Some(root),
        &["txn", "show", "99"],
        1,
    );
    snap(
        "error_malformed_transaction",
        Some(root),
        &["txn", "show", "zz"],
        2,
    );
    // One JSON shape for every transaction outcome (docs/cli.md, "Transaction outcomes"): the
    // field names and value types of nothing to do, a dry run, a rollback's dry run and a
    // committed profile change.
    let shape_of = |name: &str, args: &[&str]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (code, text) = run_in(Some(root), &all);
        assert_eq!(code, 0, "{name}: {args:?}\n{text}");
        let stdout = text
            .split("----- stderr -----")
            .next()
            .and_then(|t| t.split_once("----- stdout -----\n"))
            .map(|(_, t)| t)
            .unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(stdout)
            .unwrap_or_else(|e| panic!("{name}: not JSON ({e}):\n{text}"));
        insta::assert_snapshot!(
            name,
            serde_json::to_string_pretty(&shape(&v)).expect("serializes")
        );
    };
    shape_of("outcome_nothing_to_do", &["txn", "install", "hello"]);
    shape_of("outcome_dry_run", &["txn", "install", "--dry-run", "jq"]);
    shape_of(
        "outcome_rollback_dry_run",
        &["txn", "rollback", "--dry-run"],
    );
    shape_of(
        "outcome_committed",
        &["txn", "sysctl", "--set", "vm.swappiness=10"],
    );
}

/// A JSON value's shape: objects keep their keys, arrays the shape of their first element,
/// scalars become their type's name.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as V;
    match v {
        V::Null => "null".into(),
        V::Bool(_) => "bool".into(),
        V::Number(_) => "number".into(),
        V::String(_) => "string".into(),
        V::Array(a) => V::Array(a.first().map(shape).into_iter().collect()),
        V::Object(m) => V::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}
