//! The crash harness (issue #7): real transactions (install, remove, upgrade, rollback, kargs) on
//! the shared mirror, killed with SIGKILL at every named point of a transaction
//! (`PARTICLE_CRASH_AT`, see `cli/src/faults.rs`) and from outside after a seeded random delay.
//!
//! After every kill the next command (`txn upgrade --dry-run`, which takes the lock and recovers)
//! must succeed, and then: `txn verify` passes; every variant's ref equals its journal head's
//! commit (checked with the ostree CLI); the journal head's state is exactly the state before or
//! the state after the killed transaction; the ref's commit holds exactly that state (its dpkg
//! database, its kernel arguments, its `particle.seq`); staging and the store's `tmp/` are empty;
//! `ostree fsck` is clean.
//!
//! CI runs 20 kills (`PARTICLE_CRASH_KILLS` changes that; `scripts/crash-long.sh N` runs N). A
//! fresh state directory is started every 20 kills. The seed is printed and taken from
//! `PARTICLE_CRASH_SEED` if set, so a failure is reproducible.

use crate::common::*;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use std::time::{Duration, Instant};

/// splitmix64: small, seedable, good enough to pick kill points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// One variant's state as far as a crash can affect it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snap {
    seq: Option<u64>,
    packages: BTreeMap<String, String>,
    kargs: Vec<String>,
}

impl Snap {
    fn has(&self, name: &str) -> bool {
        self.packages.contains_key(name)
    }
}

fn snap_of_record(env: &Env, seq: u64) -> Snap {
    let show = env
        .run(&["--json", "txn", "show", &seq.to_string()])
        .ok()
        .json();
    let packages = show["state"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_owned(),
                p["version"].as_str().expect("version").to_owned(),
            )
        })
        .collect();
    let kargs = show["state"]["profile"]["kargs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|k| k.as_str().expect("karg").to_owned())
                .collect()
        })
        .unwrap_or_default();
    Snap {
        seq: Some(seq),
        packages,
        kargs,
    }
}

/// The journal head of `base`.
fn snap(env: &Env) -> Snap {
    let status = env.run(&["--json", "status"]).ok().json();
    match status["txn"].as_u64() {
        Some(seq) => snap_of_record(env, seq),
        None => Snap {
            seq: None,
            packages: BTreeMap::new(),
            kargs: Vec::new(),
        },
    }
}

#[derive(Debug, Clone)]
enum Op {
    Install(&'static str),
    Remove(&'static str),
    Kargs(String),
    Rollback,
    Upgrade,
}

impl Op {
    fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["txn".into()];
        match self {
            Op::Install(p) => a.extend(["install".into(), (*p).into()]),
            Op::Remove(p) => a.extend(["remove".into(), (*p).into()]),
            Op::Kargs(k) => a.extend(["kargs".into(), "--append".into(), k.clone()]),
            Op::Rollback => a.push("rollback".into()),
            Op::Upgrade => a.push("upgrade".into()),
        }
        a
    }

    /// The state the op leaves if it completes, and whether it downloads anything.
    fn predict(&self, env: &Env, before: &Snap) -> (Snap, bool) {
        let next_seq = Some(before.seq.map_or(1, |s| s + 1));
        match self {
            Op::Kargs(k) => {
                let mut after = before.clone();
                after.seq = next_seq;
                after.kargs.push(k.clone());
                (after, false)
            }
            Op::Rollback => {
                let mut dry = self.args();
                dry.extend(["--dry-run".into()]);
                let mut args = vec!["--json".to_owned()];
                args.extend(dry);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let d = env.run(&args).ok().json();
                let to = d["to"].as_u64().expect("rollback target");
                let mut after = snap_of_record(env, to);
                after.seq = next_seq;
                (after, false)
            }
            Op::Install(_) | Op::Remove(_) | Op::Upgrade => {
                let mut args = vec!["--json".to_owned()];
                args.extend(self.args());
                args.push("--dry-run".into());
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let d = env.run(&args).ok().json();
                if d["changed"] == false {
                    return (before.clone(), false);
                }
                let mut after = before.clone();
                after.seq = next_seq;
                let ch = &d["changes"];
                for p in ch["removed"].as_array().expect("removed") {
                    after.packages.remove(p["name"].as_str().expect("name"));
                }
                for p in ch["added"].as_array().expect("added") {
                    after.packages.insert(
                        p["name"].as_str().expect("name").to_owned(),
                        p["version"].as_str().expect("version").to_owned(),
                    );
                }
                for p in ch["changed"].as_array().expect("changed") {
                    after.packages.insert(
                        p["name"].as_str().expect("name").to_owned(),
                        p["to"].as_str().expect("to").to_owned(),
                    );
                }
                (after, d["download_bytes"].as_u64().unwrap_or(0) > 0)
            }
        }
    }
}

/// How a run is killed.
#[derive(Debug, Clone)]
enum Kill {
    /// `PARTICLE_CRASH_AT=point:n`.
    At(&'static str, u64),
    /// Killed at `appended`, then the record's second half is zeroed, as if that write never
    /// reached the disk (power loss during the append).
    Torn,
    /// SIGKILL from outside after this delay.
    After(Duration),
}

/// What each kill of a round of 20 aims at (ops are chosen to fit the state). Early kills
/// dominate: a late one costs a whole compose.
const SCHEDULE: [&str; 20] = [
    "fetch",
    "unpack",
    "early",
    "appended",
    "fetch",
    "scripts",
    "ref-moved",
    "unpack",
    "early",
    "commit",
    "torn",
    "early",
    "early",
    "unpack",
    "ostree-objects",
    "early",
    "committed",
    "scripts",
    "early",
    "unpack",
];

/// The kill aim of kill `i` of round `r`: the CI round (0) keeps to [`SCHEDULE`]; the long run's
/// later rounds also kill just before the journal append and at any time up to 40 s.
fn aim(r: u64, i: usize) -> &'static str {
    match (r, i % SCHEDULE.len()) {
        (1.., 12) => "materialized",
        (1.., 18) => "any",
        (_, k) => SCHEDULE[k],
    }
}

fn pick_op(before: &Snap, rng: &mut Rng, i: usize) -> Op {
    if before.seq.is_none() {
        return Op::Install("hello");
    }
    let mut ops = vec![Op::Kargs(format!("crash{i}"))];
    if before.has("jq") {
        ops.push(Op::Remove("jq"));
    } else {
        ops.push(Op::Install("jq"));
        ops.push(Op::Install("jq"));
    }
    if before.seq >= Some(2) {
        ops.push(Op::Rollback);
    }
    if before.packages.get("hello").is_some_and(|v| v == "2.10-3") {
        ops.push(Op::Upgrade);
    } else if rng.range(0, 9) == 0 {
        // Nothing to upgrade: only an outside kill, during the solve.
        ops.push(Op::Upgrade);
    }
    let k = rng.range(0, ops.len() as u64 - 1) as usize;
    ops.swap_remove(k)
}

/// What a build does, as far as crash points go.
#[derive(Debug, Clone, Copy)]
struct Work {
    /// Packages it unpacks: all for a variant's first build, the new and changed ones for a build
    /// on the previous commit, none for a rollback (built on the commit it returns to).
    unpacks: usize,
    /// Whether it runs dpkg in the sandbox at all (something unpacked or removed).
    scripts: bool,
}

impl Work {
    fn of(op: &Op, before: &Snap, after: &Snap) -> Work {
        if before.seq.is_none() {
            return Work {
                unpacks: after.packages.len(),
                scripts: true,
            };
        }
        if matches!(op, Op::Rollback) {
            return Work {
                unpacks: 0,
                scripts: false,
            };
        }
        let unpacks = after
            .packages
            .iter()
            .filter(|(n, v)| before.packages.get(*n) != Some(*v))
            .count();
        let removes = before
            .packages
            .keys()
            .any(|n| !after.packages.contains_key(n));
        Work {
            unpacks,
            scripts: unpacks > 0 || removes,
        }
    }
}

/// `ceiling` bounds the outside kills' delays: it shrinks to the length of a run that finished
/// before its outside kill (builds on the previous commit take a second or two, so a delay of up
/// to 40 s would mostly miss), and is reset after every kill.
fn pick_kill(what: &str, downloads: bool, work: Work, rng: &mut Rng, ceiling: Duration) -> Kill {
    let ceiling = ceiling.as_millis() as u64;
    match what {
        "fetch" if downloads => Kill::At("fetch", 1),
        "fetch" | "unpack" if work.unpacks > 0 => {
            Kill::At("unpack", rng.range(1, work.unpacks.min(110) as u64))
        }
        // A whole system's scripts run for seconds (the point is passed every 10 ms); a few
        // packages' for a fraction of one.
        "scripts" if work.unpacks >= 50 => Kill::At("scripts", rng.range(1, 300)),
        "scripts" if work.scripts => Kill::At("scripts", rng.range(1, 3)),
        // Nothing unpacked or run: the build's first crash point instead.
        "fetch" | "unpack" | "scripts" => Kill::At("commit", 1),
        "torn" => Kill::Torn,
        "early" => Kill::After(Duration::from_millis(rng.range(200, ceiling.min(5000)))),
        "any" => Kill::After(Duration::from_millis(rng.range(200, ceiling))),
        point => Kill::At(
            POINTS.iter().find(|p| **p == point).expect("a known point"),
            1,
        ),
    }
}

/// The longest delay of an outside kill ("any"), before runs show they are shorter.
const ANY_CEILING: Duration = Duration::from_secs(40);

const POINTS: &[&str] = &[
    "commit",
    "ostree-objects",
    "committed",
    "materialized",
    "appended",
    "ref-moved",
];

/// Runs `args` in `env`, killed as `kill` says. Returns whether SIGKILL ended it.
fn run_killed(env: &Env, args: &[String], kill: &Kill, staging: Option<&Path>) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_particle"));
    cmd.arg("--root")
        .arg(env.root())
        .arg("-q")
        .args(args)
        .env_remove("PARTICLE_ROOT")
        .env_remove("PARTICLE_CRASH_AT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(s) = staging {
        cmd.env("PARTICLE_STAGING", s);
    }
    match kill {
        Kill::At(point, n) => {
            cmd.env("PARTICLE_CRASH_AT", format!("{point}:{n}"));
        }
        Kill::Torn => {
            cmd.env("PARTICLE_CRASH_AT", "appended");
        }
        Kill::After(_) => {}
    }
    let mut child = cmd.spawn().expect("spawn particle");
    let status = match kill {
        Kill::After(d) => {
            let t = Instant::now();
            loop {
                if let Some(s) = child.try_wait().expect("wait") {
                    break s;
                }
                if t.elapsed() >= *d {
                    child.kill().expect("kill -9");
                    break child.wait().expect("wait");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        _ => child.wait().expect("wait"),
    };
    let stderr = std::io::read_to_string(child.stderr.take().expect("stderr")).unwrap_or_default();
    match status.signal() {
        Some(9) => true,
        _ => {
            assert!(
                status.success(),
                "{args:?} ({kill:?}) failed instead of being killed: {status}\n{stderr}"
            );
            assert!(
                matches!(kill, Kill::After(_)),
                "{args:?}: crash point {kill:?} never reached\n{stderr}"
            );
            false
        }
    }
}

/// Zeroes the second half of the journal's last record: the append that never reached the disk.
fn tear_last_record(root: &Path) {
    let path = root.join("journal/records");
    let mut bytes = std::fs::read(&path).expect("read journal");
    let scan = journal::scan(&bytes);
    let last = *scan.offsets.last().expect("a record") as usize;
    let end = scan.valid_len as usize;
    bytes[last + (end - last) / 2..end].fill(0);
    std::fs::write(&path, bytes).expect("write journal");
}

fn ostree(root: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("ostree")
        .arg(format!("--repo={}", root.join("ostree/repo").display()))
        .args(args)
        .output()
        .expect("run ostree");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map_or(true, |mut d| d.next().is_none())
}

/// The invariants after a kill and the recovering command; returns the state in force.
fn check_after_kill(env: &Env, before: &Snap, after: &Snap, what: &str) -> Snap {
    let root = env.root();
    // `ostree fsck` runs beside the other (read-only) checks: it is the slowest of them.
    let fsck = Command::new("ostree")
        .arg(format!("--repo={}", root.join("ostree/repo").display()))
        .arg("fsck")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ostree fsck");
    let v = env.run(&["--json", "txn", "verify"]);
    assert_eq!(v.code, 0, "{what}: txn verify failed: {}", v.stdout);
    let status = env.run(&["--json", "status"]).ok().json();
    let staging = status["staging"].as_str().expect("staging").to_owned();
    assert!(
        empty_dir(Path::new(&staging)),
        "{what}: staging leftovers in {staging}"
    );
    assert!(
        empty_dir(&root.join("store/objects/tmp")),
        "{what}: leftovers in the store's tmp/: {:?}",
        std::fs::read_dir(root.join("store/objects/tmp"))
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
    );
    for var in status["variants"].as_array().expect("variants") {
        assert_eq!(var["ref_matches_journal"], true, "{what}: {var}");
        if let Some(commit) = var["commit"].as_str() {
            let (ok, out) = ostree(&root, &["rev-parse", var["ref"].as_str().expect("ref")]);
            assert!(ok, "{what}: {out}");
            assert_eq!(out.trim(), commit, "{what}: ref and journal head differ");
        }
    }
    let out = fsck.wait_with_output().expect("ostree fsck");
    let ok = out.status.success();
    let out =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        ok && out.contains("no errors found") && !out.to_lowercase().contains("corrupt"),
        "{what}: ostree fsck: {out}"
    );

    let now = snap(env);
    assert!(
        now == *before || now == *after,
        "{what}: the state is neither the one before nor the one after the killed transaction\nnow: {now:?}\nbefore: {before:?}\nafter: {after:?}"
    );
    if let Some(seq) = now.seq {
        // The commit the ref points at holds exactly that state.
        let (ok, db) = ostree(
            &root,
            &["cat", "particle-os/base", "/usr/lib/sysimage/dpkg/status"],
        );
        assert!(ok, "{what}: {db}");
        let mut installed = BTreeMap::new();
        for stanza in db.split("\n\n").filter(|s| !s.trim().is_empty()) {
            let field = |f: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(f))
                    .map(|v| v.trim().to_owned())
            };
            assert_eq!(
                field("Status:").as_deref(),
                Some("install ok installed"),
                "{what}: {stanza}"
            );
            installed.insert(
                field("Package:").expect("Package"),
                field("Version:").expect("Version"),
            );
        }
        assert_eq!(
            installed, now.packages,
            "{what}: the commit's dpkg database"
        );
        let (_, kargs) = ostree(
            &root,
            &["cat", "particle-os/base", "/usr/lib/particle/kargs"],
        );
        assert_eq!(kargs.trim(), now.kargs.join(" "), "{what}: kargs");
        let (_, s) = ostree(
            &root,
            &[
                "show",
                "particle-os/base",
                "--print-metadata-key=particle.seq",
            ],
        );
        assert_eq!(s.trim(), format!("'{seq}'"), "{what}: particle.seq");
    }
    now
}

/// A second signed source, `updates`, holding `hello` rebuilt as 2.10-3+particle1 (same files, a
/// higher version), so `txn upgrade` has something to do. Returns the archive root and keyring.
fn updates_archive(dir: &Path) -> (std::path::PathBuf, TestKey) {
    let key = TestKey::generate();
    let root = dir.join("updates");
    let version = "2.10-3+particle1";
    let unpacked = dir.join("hello-unpacked");
    let sh = |cmd: &mut Command| {
        let out = cmd.output().expect("run");
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(Command::new("dpkg-deb")
        .arg("-R")
        .arg(mirror().join("pool/main/h/hello/hello_2.10-3_amd64.deb"))
        .arg(&unpacked));
    let control = unpacked.join("DEBIAN/control");
    let text = std::fs::read_to_string(&control).expect("control");
    std::fs::write(
        &control,
        text.replace("Version: 2.10-3\n", &format!("Version: {version}\n")),
    )
    .expect("write control");
    let filename = format!("pool/main/h/hello/hello_{version}_amd64.deb");
    let deb = root.join(&filename);
    std::fs::create_dir_all(deb.parent().expect("parent")).expect("mkdir");
    sh(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "-b"])
        .arg(&unpacked)
        .arg(&deb));
    let bytes = std::fs::read(&deb).expect("read deb");
    let raw = std::fs::read(mirror().join("dists/bookworm/main/binary-amd64/Packages.xz"))
        .expect("read index");
    let index = store::decompress(&raw, store::Compression::Xz, 1 << 30).expect("decompress");
    let index = String::from_utf8(index).expect("utf8");
    let stanza = index
        .split("\n\n")
        .find(|s| s.starts_with("Package: hello\n"))
        .expect("hello in the index");
    let stanza: String = stanza
        .lines()
        .filter(|l| !l.starts_with("MD5sum:"))
        .map(|l| match l.split_once(": ") {
            Some(("Version", _)) => format!("Version: {version}\n"),
            Some(("Filename", _)) => format!("Filename: {filename}\n"),
            Some(("Size", _)) => format!("Size: {}\n", bytes.len()),
            Some(("SHA256", _)) => format!("SHA256: {}\n", store::Sha256::of(&bytes)),
            _ => format!("{l}\n"),
        })
        .collect();
    let packages = format!("{stanza}\n");
    let idx = root.join("dists/bookworm/main/binary-amd64");
    std::fs::create_dir_all(&idx).expect("mkdir");
    std::fs::write(idx.join("Packages"), &packages).expect("write");
    let release = format!(
        "Origin: particle-test\nSuite: bookworm-updates\nCodename: bookworm\nDate: Sat, 01 Nov 2025 00:00:00 UTC\nArchitectures: amd64\nComponents: main\nSHA256:\n {} {} main/binary-amd64/Packages\n",
        store::Sha256::of(packages.as_bytes()),
        packages.len()
    );
    std::fs::write(
        root.join("dists/bookworm/InRelease"),
        key.clearsign(&release, "SHA256"),
    )
    .expect("write InRelease");
    (root, key)
}

/// Round `r`: a fresh state directory, `kills` kills.
fn round(r: u64, seed: u64, kills: usize, log: &mut Vec<String>) {
    let mut rng = Rng(seed);
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let mut i = 0;
    let mut completed = 0;
    let mut updates = None;
    let mut ceiling = ANY_CEILING;
    while i < kills {
        let before = snap(&env);
        if before.seq.is_some() && updates.is_none() {
            // Once hello is installed, a newer hello appears: upgrades have work to do.
            let (archive, key) = updates_archive(env.dir.path());
            env.run(&[
                "repo",
                "add",
                "updates",
                "--uri",
                &file_uri(&archive),
                "--suite",
                "bookworm",
                "--keyring",
                &key.keyring.to_string_lossy(),
            ])
            .ok();
            env.run(&["repo", "update"]).ok();
            updates = Some(key);
        }
        let op = pick_op(&before, &mut rng, i);
        let (after, downloads) = op.predict(&env, &before);
        let what = aim(r, i);
        let kill = if after == before {
            // Nothing to do (an upgrade on the one snapshot): no crash point is reached.
            Kill::After(Duration::from_millis(rng.range(50, 1000)))
        } else {
            let work = Work::of(&op, &before, &after);
            pick_kill(what, downloads, work, &mut rng, ceiling)
        };
        let t = Instant::now();
        let killed = run_killed(&env, &op.args(), &kill, None);
        let ran = t.elapsed();
        if killed && matches!(kill, Kill::Torn) {
            tear_last_record(&env.root());
        }
        let desc = format!(
            "seed {seed:#x} kill {i}: {:?} {kill:?} -> {} after {:.1?}",
            op.args(),
            if killed { "killed" } else { "completed" },
            ran
        );
        eprintln!("crash harness: {desc}");
        log.push(desc.clone());
        // The next command recovers (it takes the lock, so it runs the recovery).
        let r = env.run(&["txn", "upgrade", "--dry-run"]);
        assert_eq!(r.code, 0, "{desc}: the next command failed: {}", r.stderr);
        let expect_note = |note: &str| {
            assert!(
                r.stderr.contains(note),
                "{desc}: recovery did not say {note:?}:\n{}",
                r.stderr
            )
        };
        match &kill {
            Kill::At("appended", _) if killed => {
                expect_note("recovery: moved particle-os/base");
            }
            Kill::Torn if killed => expect_note("dropped an interrupted journal append"),
            _ => {}
        }
        if killed && matches!(&kill, Kill::At(p, _) if *p != "fetch") || matches!(kill, Kill::Torn)
        {
            expect_note("removed 1 staging leftover");
        }
        let now = check_after_kill(&env, &before, &after, &desc);
        match &kill {
            // The record was durable before the kill: the state after is in force.
            Kill::At("appended" | "ref-moved", _) => assert_eq!(now, after, "{desc}"),
            // Killed before the record was durable.
            Kill::At(_, _) | Kill::Torn => assert_eq!(now, before, "{desc}"),
            Kill::After(_) => {}
        }
        if killed {
            i += 1;
            ceiling = ANY_CEILING;
        } else {
            if matches!(kill, Kill::After(_)) {
                ceiling = ceiling.min(ran.max(Duration::from_millis(300)));
            }
            completed += 1;
            assert!(
                completed < 3 * kills,
                "{desc}: too many runs were never killed"
            );
        }
    }
}

#[test]
fn kill9_at_every_phase_recovers_to_before_or_after() {
    let kills: usize = std::env::var("PARTICLE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("PARTICLE_CRASH_SEED")
        .ok()
        .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        });
    eprintln!("crash harness: {kills} kills, PARTICLE_CRASH_SEED={seed:#x}");
    let t = Instant::now();
    let mut log = Vec::new();
    let mut left = kills;
    let mut r = 0u64;
    while left > 0 {
        let n = left.min(SCHEDULE.len());
        round(r, seed.wrapping_add(r), n, &mut log);
        left -= n;
        r += 1;
    }
    eprintln!(
        "crash harness: {kills} kills in {:.0?}, every recovery checked (seed {seed:#x})",
        t.elapsed()
    );
}

fn run_with_staging(env: &Env, staging: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_particle"))
        .arg("--root")
        .arg(env.root())
        .args(args)
        .env_remove("PARTICLE_ROOT")
        .env_remove("PARTICLE_CRASH_AT")
        .env("PARTICLE_STAGING", staging)
        .output()
        .expect("run particle");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Regression: recovery used to delete everything in the staging directory, which
/// `$PARTICLE_STAGING` may point at a directory shared with other things; and it swept only the
/// staging location chosen at the time, though a transaction may have staged in the other one
/// (`/dev/shm` or `<root>/staging`, depending on free space then).
#[test]
fn recovery_removes_only_transaction_leftovers() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let shared = env.dir.path().join("shared-staging");
    std::fs::create_dir_all(shared.join("other-tool")).expect("mkdir");
    std::fs::write(shared.join("keep-me"), b"not particle's").expect("write");
    let args: Vec<String> = ["txn", "install", "hello"].map(String::from).to_vec();
    assert!(run_killed(
        &env,
        &args,
        &Kill::At("unpack", 5),
        Some(&shared)
    ));
    assert!(
        shared.join("txn-1/tree").is_dir(),
        "the killed build staged here"
    );
    let (code, stderr) = run_with_staging(&env, &shared, &["txn", "upgrade", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("removed 1 staging leftover"), "{stderr}");
    assert!(!shared.join("txn-1").exists());
    assert!(
        shared.join("keep-me").is_file(),
        "recovery removed a file that is not its own"
    );
    assert!(
        shared.join("other-tool").is_dir(),
        "recovery removed a directory that is not its own"
    );

    // A leftover in <root>/staging while the default location is elsewhere (or the reverse).
    let status = env.run(&["--json", "status"]).ok().json();
    let default = std::path::PathBuf::from(status["staging"].as_str().expect("staging"));
    let shm = {
        let canonical = std::fs::canonicalize(env.root()).expect("canonical root");
        let tag = store::Blake3::of(canonical.as_os_str().as_encoded_bytes()).short(16);
        std::path::PathBuf::from(format!("/dev/shm/particle-staging-{tag}"))
    };
    let other = if default == shm {
        env.root().join("staging")
    } else {
        assert_eq!(default, env.root().join("staging"));
        shm
    };
    std::fs::create_dir_all(other.join("txn-7/tree/usr")).expect("mkdir");
    let r = env.run(&["txn", "upgrade", "--dry-run"]).ok();
    let removed = !other.join("txn-7").exists();
    let _ = std::fs::remove_dir_all(&other);
    assert!(
        r.stderr.contains("removed 1 staging leftover"),
        "{}",
        r.stderr
    );
    assert!(
        removed,
        "the leftover in {} was not removed",
        other.display()
    );
}
