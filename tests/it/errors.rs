//! Failures of the environment rather than of the input: a state directory particle may not
//! write to.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file below `dir` with its content (symlinks as their target), to compare states.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            let t = e.file_type().expect("file type");
            let rel = p.strip_prefix(dir).expect("below").to_owned();
            if t.is_dir() {
                out.insert(rel, b"<dir>".to_vec());
                stack.push(p);
            } else if t.is_symlink() {
                let target = std::fs::read_link(&p).expect("readlink");
                out.insert(rel, target.into_os_string().into_encoded_bytes());
            } else {
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// A read-only bind mount of a directory, unmounted on drop.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn mount(from: &Path, at: &Path) -> Self {
        std::fs::create_dir_all(at).expect("mkdir");
        let ok = Command::new("mount")
            .args(["--bind", "-o", "ro"])
            .arg(from)
            .arg(at)
            .status()
            .expect("run mount");
        assert!(ok.success(), "mount --bind -o ro (tests run as root)");
        let ro = Self(at.to_owned());
        // Older mount(8) ignores -o ro on a bind mount: make sure it took.
        let probe = at.join(".particle-write-probe");
        if std::fs::write(&probe, b"x").is_ok() {
            let _ = std::fs::remove_file(&probe);
            let ok = Command::new("mount")
                .args(["-o", "remount,bind,ro"])
                .arg(at)
                .status()
                .expect("run mount");
            assert!(ok.success(), "remount read-only");
        }
        assert!(
            std::fs::write(&probe, b"x").is_err(),
            "the bind mount is writable"
        );
        ro
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Every mutating command on a read-only state directory fails at once with one clear line that
/// names the directory and says it is read-only, plus a hint; every reading command works; and
/// the state is exactly what it was.
#[test]
fn a_read_only_state_directory_refuses_changes_and_keeps_its_state() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let before = tree(&env.root());
    let ro_root = env.dir.path().join("ro");
    let _mount = ReadOnly::mount(&env.root(), &ro_root);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_particle"))
            .arg("--root")
            .arg(&ro_root)
            .args(args)
            .env_remove("PARTICLE_ROOT")
            .output()
            .expect("run particle");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let keyring = debian_keyring().to_string_lossy().into_owned();
    let mutating: [&[&str]; 5] = [
        &["txn", "install", "hello"],
        &["repo", "update"],
        &[
            "repo",
            "add",
            "other",
            "--uri",
            "file:///nonexistent",
            "--suite",
            "bookworm",
            "--keyring",
            &keyring,
        ],
        &["variant", "create", "desktop"],
        &["init"],
    ];
    for args in mutating {
        let mut json_args = vec!["--json"];
        json_args.extend(args);
        let r = run(&json_args).fails("read_only");
        let msg = r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .to_owned();
        assert!(
            msg.contains(&ro_root.display().to_string()) && msg.contains("read-only"),
            "{args:?}: {msg}"
        );
        let h = run(args);
        assert_eq!(h.code, 1, "{args:?}: {}", h.stderr);
        let lines: Vec<&str> = h.stderr.lines().collect();
        assert!(
            lines.len() == 2 && lines[0].starts_with("error: ") && lines[1].starts_with("hint: "),
            "{args:?}: one error line and one hint, got:\n{}",
            h.stderr
        );
    }
    // Reading opens the store and the journal read-only: every reading command works.
    for args in [
        &["--json", "status"][..],
        &["--json", "repo", "list"],
        &["--json", "txn", "log"],
        &["--json", "txn", "verify"],
        &["--json", "store", "verify"],
        &["--json", "variant", "list"],
        &["--json", "solve", "install", "hello"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    assert_eq!(
        tree(&env.root()),
        before,
        "the state directory changed under a read-only mount"
    );
}

/// While a transaction holds the package store (here: this test holds it, as a running
/// transaction does), the commands that read only the journal answer, and the ones that need
/// the store say so with kind `locked` instead of a database error.
#[test]
fn history_reads_while_a_transaction_holds_the_store() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let held = store::Store::open(&env.root().join("store")).expect("open the store");
    for args in [
        &["--json", "txn", "log"][..],
        &["--json", "status"],
        &["--json", "variant", "list"],
        &["--json", "txn", "verify"],
    ] {
        env.run(args).ok();
    }
    for args in [
        &["--json", "repo", "list"][..],
        &["--json", "solve", "install", "hello"],
    ] {
        let r = env.run(args).fails("locked");
        let msg = r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            msg.contains("in use by a running transaction"),
            "{args:?}: {msg}"
        );
    }
    drop(held);
    env.run(&["--json", "repo", "list"]).ok();
}

/// Output into a pipe that its reader closed early (`particle ... | head -1`): particle ends
/// quietly with the SIGPIPE status, never a panic or a backtrace.
#[test]
fn a_closed_output_pipe_ends_quietly() {
    let index = mirror().join("dists/bookworm/main/binary-amd64/Packages.xz");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} distcheck --index {} | true; echo \"status ${{PIPESTATUS[0]}}\"",
            env!("CARGO_BIN_EXE_particle"),
            index.display()
        ))
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert!(stdout.contains("status 141"), "{stdout}{stderr}");
}
