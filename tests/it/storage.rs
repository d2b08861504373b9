//! Storage faults (issue #7): a full filesystem during fetch, unpack, the OSTree commit and the
//! journal append, each on a size-limited tmpfs the test mounts (and unmounts in a drop guard).
//! Expected every time: exit 1 with one `error: ...` line and kind `no_space`, nothing lost
//! (`txn verify` passes, the previous state in force, no leftovers), and the next transaction
//! works once there is space again (the tmpfs remounted bigger).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run_env(env: &Env, vars: &[(&str, &Path)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_particle"));
    cmd.arg("--root").arg(env.root()).args(args);
    cmd.env_remove("PARTICLE_ROOT")
        .env_remove("PARTICLE_CRASH_AT")
        .env_remove("PARTICLE_STAGING");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run particle");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The human form of a full-disk failure: one `error:` line naming the cause, a hint, exit 1.
fn assert_clean_no_space(r: &Run, stage: &str) {
    assert_eq!(r.code, 1, "{stage}: {}", r.stderr);
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stage}: {}", r.stderr);
    // ENOSPC, or OSTree refusing to eat into its free-space reserve first.
    assert!(
        errors[0].contains("No space left on device") || errors[0].contains("min-free-space"),
        "{stage}: {}",
        errors[0]
    );
    assert!(
        r.stderr.contains("hint: free space"),
        "{stage}: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{stage}: {}", r.stderr);
}

/// The JSON form (a compose is too slow to run twice per stage): kind `no_space`, the cause in
/// the message, the hint. Returns the error object.
fn assert_no_space_json(r: &Run, stage: &str) -> serde_json::Value {
    assert_eq!(r.code, 1, "{stage}: {}", r.stderr);
    let e = r.json()["error"].clone();
    assert_eq!(e["kind"], "no_space", "{stage}: {e}");
    let msg = e["message"].as_str().expect("message");
    assert!(
        msg.contains("No space left on device") || msg.contains("min-free-space"),
        "{stage}: {msg}"
    );
    assert!(
        e["hint"].as_str().expect("hint").starts_with("free space"),
        "{stage}: {e}"
    );
    e
}

/// Nothing lost: verify passes, still no transaction (or the same head), no leftovers.
fn assert_previous_state(env: &Env, staging: &Path, head: Option<u64>, stage: &str) {
    let v = env.run(&["--json", "txn", "verify"]);
    assert_eq!(v.code, 0, "{stage}: txn verify: {}", v.stdout);
    let status = env.run(&["--json", "status"]).ok().json();
    assert_eq!(status["txn"].as_u64(), head, "{stage}: {status}");
    for var in status["variants"].as_array().expect("variants") {
        if var["commit"].is_string() {
            assert_eq!(var["ref_matches_journal"], true, "{stage}: {var}");
        } else {
            assert!(var["ref_commit"].is_null(), "{stage}: a ref moved: {var}");
        }
    }
    let left: Vec<_> = std::fs::read_dir(staging)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{stage}: staging leftovers {left:?}");
    let tmp: Vec<_> = std::fs::read_dir(env.root().join("store/objects/tmp"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(tmp.is_empty(), "{stage}: store tmp leftovers {tmp:?}");
    let out = Command::new("ostree")
        .arg(format!(
            "--repo={}",
            env.root().join("ostree/repo").display()
        ))
        .arg("fsck")
        .output()
        .expect("ostree fsck");
    assert!(
        out.status.success(),
        "{stage}: ostree fsck: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One state directory through every stage of a transaction hitting a full filesystem, then the
/// transaction succeeding once there is room. The sizes come from the real install of `hello`
/// (114 packages): ~52 MB of state after `repo update`, ~44 MB of .debs, ~195 MB of commit.
#[test]
fn a_full_disk_at_every_stage_loses_nothing_and_the_next_transaction_works() {
    let env = Env::new();
    let state_fs = Tmpfs::mount(&env.root(), "80m");
    env.run(&["init"]).ok();
    env.add_source("debian", &file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let status = env.run(&["--json", "status"]).ok().json();
    let staging = PathBuf::from(status["staging"].as_str().expect("staging"));

    // 1. Fetch: the .debs do not fit in the state directory.
    let r = run_env(&env, &[], &["txn", "install", "hello"]);
    assert_clean_no_space(&r, "fetch");
    let j = run_env(&env, &[], &["--json", "txn", "install", "hello"]);
    assert_eq!(j.json()["error"]["kind"], "no_space", "{}", j.stdout);
    assert_previous_state(&env, &staging, None, "fetch");

    // 2. Unpack: the .debs fit now, the staging tmpfs is too small for the tree.
    state_fs.resize("150m");
    let small = env.dir.path().join("small-staging");
    let staging_fs = Tmpfs::mount(&small, "8m");
    let r = run_env(
        &env,
        &[("PARTICLE_STAGING", &small)],
        &["txn", "install", "hello"],
    );
    assert_clean_no_space(&r, "unpack");
    assert_previous_state(&env, &small, None, "unpack");
    drop(staging_fs);

    // 3. The OSTree commit: the tree is built (on /dev/shm), the repository fills up.
    let r = run_env(&env, &[], &["--json", "txn", "install", "hello"]);
    assert_no_space_json(&r, "commit");
    assert_previous_state(&env, &staging, None, "commit");

    // 4. The journal append: the commit fits, the journal's first 1 MiB of preallocated space
    //    does not (its own small filesystem).
    state_fs.resize("600m");
    let journal_dir = env.root().join("journal");
    let saved = std::fs::read(journal_dir.join("records")).expect("read the empty journal");
    let journal_fs = Tmpfs::mount(&journal_dir, "256k");
    std::fs::write(journal_dir.join("records"), &saved).expect("copy the journal");
    let r = run_env(&env, &[], &["--json", "txn", "install", "hello"]);
    let e = assert_no_space_json(&r, "journal append");
    assert!(
        e["message"].as_str().expect("message").contains("journal"),
        "{e}"
    );
    assert_previous_state(&env, &staging, None, "journal append");

    // Space again: the same transaction goes through, on the journal that failed to grow.
    journal_fs.resize("4m");
    let t = run_env(&env, &[], &["--json", "txn", "install", "hello"])
        .ok()
        .json();
    assert_eq!(t["txn"], 1, "{t}");
    assert_previous_state(&env, &staging, Some(1), "after space came back");
    let log = env.run(&["--json", "txn", "log"]).ok().json();
    assert_eq!(log["transactions"].as_array().expect("list").len(), 1);
    drop(journal_fs);
    drop(state_fs);
}

/// The FUSE passthrough of `support/eio_fs.py` mounted over a directory: while a control file
/// exists, the kernel gives particle's own `pwrite`/`fdatasync` calls a real EIO.
struct EioFs {
    mountpoint: PathBuf,
    control: PathBuf,
    daemon: std::process::Child,
}

impl EioFs {
    /// Moves `dir`'s content to a backing directory and mounts the passthrough on `dir`.
    fn over(dir: &Path, scratch: &Path) -> Self {
        let backing = scratch.join("eio-backing");
        let control = scratch.join("eio-control");
        std::fs::rename(dir, &backing).expect("move the directory to the backing store");
        std::fs::create_dir(dir).expect("recreate the mount point");
        std::fs::create_dir_all(&control).expect("control directory");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/it/support/eio_fs.py");
        let daemon = Command::new("/usr/bin/python3")
            .arg(script)
            .args([&backing, dir, &control])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the FUSE passthrough (python3-fusepy)");
        let fs = Self {
            mountpoint: dir.to_owned(),
            control,
            daemon,
        };
        for _ in 0..200 {
            let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
            if mounts
                .lines()
                .any(|l| l.split(' ').nth(4) == Some(&*dir.to_string_lossy()))
            {
                return fs;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the FUSE passthrough did not mount on {}", dir.display());
    }

    /// Makes `op` (`write` or `fsync`) fail with EIO from now on, or work again.
    fn fail(&self, op: &str, failing: bool) {
        let marker = self.control.join(format!("fail-{op}"));
        if failing {
            std::fs::write(marker, b"").expect("set the fault");
        } else {
            std::fs::remove_file(marker).expect("clear the fault");
        }
    }
}

impl Drop for EioFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.mountpoint)
            .status();
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// An I/O error (EIO) in the journal append through the CLI's real file code: the kernel
/// returns it from `pwrite`, then from `fdatasync` (a FUSE passthrough under the journal).
/// Each time: exit 1 with kind `journal` naming the file and the cause, `txn verify` passing,
/// the state before or (a record whose write went through but whose sync failed) after the
/// transaction, never a mix (settled by the next command that takes the lock, as after a kill);
/// the next transaction works once the disk does.
#[test]
fn an_io_error_in_the_journal_append_loses_nothing() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    env.run(&["txn", "install", "hello"]).ok();
    let status = env.run(&["--json", "status"]).ok().json();
    let staging = PathBuf::from(status["staging"].as_str().expect("staging"));
    let fs = EioFs::over(&env.root().join("journal"), env.dir.path());

    let journal_error = |r: &Run, what: &str| {
        assert_eq!(r.code, 1, "{what}: {}", r.stderr);
        let e = r.json()["error"].clone();
        assert_eq!(e["kind"], "journal", "{what}: {e}");
        let msg = e["message"].as_str().expect("message");
        assert!(
            msg.contains("Input/output error") && msg.contains("journal/records"),
            "{what}: {msg}"
        );
    };

    // 1. The record's write fails: nothing of it reaches the file.
    fs.fail("write", true);
    let r = run_env(
        &env,
        &[],
        &["--json", "txn", "kargs", "--append", "eio=write"],
    );
    journal_error(&r, "write");
    fs.fail("write", false);
    assert_previous_state(&env, &staging, Some(1), "write");

    // 2. The write goes through, its fdatasync fails: what is on disk is unknown to particle,
    //    so the next command decides from the file, and finds the state before or after.
    fs.fail("fsync", true);
    let r = run_env(
        &env,
        &[],
        &["--json", "txn", "kargs", "--append", "eio=fsync"],
    );
    journal_error(&r, "fsync");
    fs.fail("fsync", false);
    // The next command that takes the lock reads the journal back and moves the ref to match.
    let next = env.run(&["txn", "upgrade", "--dry-run"]).ok();
    let head = env.run(&["--json", "status"]).ok().json()["txn"]
        .as_u64()
        .expect("a head");
    assert!(head == 1 || head == 2, "head {head}");
    if head == 2 {
        assert!(
            next.stderr.contains("recovery: moved particle-os/base"),
            "{}",
            next.stderr
        );
    }
    assert_previous_state(&env, &staging, Some(head), "fsync");
    let log = env.run(&["--json", "txn", "log"]).ok().json();
    assert_eq!(
        log["transactions"].as_array().expect("list").len() as u64,
        head
    );

    // 3. The disk works again: the next transaction goes through.
    let t = run_env(
        &env,
        &[],
        &["--json", "txn", "kargs", "--append", "eio=gone"],
    )
    .ok()
    .json();
    assert_eq!(t["txn"].as_u64(), Some(head + 1), "{t}");
    assert_previous_state(&env, &staging, Some(head + 1), "after the disk recovered");
    drop(fs);
}
