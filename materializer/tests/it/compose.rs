//! The minbase set of the real bookworm pool, composed once and checked several ways.

use crate::common::{boots_with_exactly, build_input, minbase, package_input, run};
use materializer::{
    fsck, init_repo, materialize_with_progress, set_ref, BuildInput, Phase, Progress,
};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub(crate) struct Composed {
    pub(crate) repo: PathBuf,
    pub(crate) commit: String,
    pub(crate) input: BuildInput,
    pub(crate) checkout: PathBuf,
    progress: Vec<Progress>,
}

fn minbase_input() -> BuildInput {
    build_input(minbase().into_iter().map(package_input).collect(), 1)
}

/// Builds `input` into a fresh repo under `dir`; returns (repo, commit, the progress reported).
fn compose_into(dir: &Path, input: &BuildInput) -> (PathBuf, String, Vec<Progress>) {
    let repo = dir.join("ostree/repo");
    init_repo(&repo).expect("init repo");
    let progress = std::sync::Mutex::new(Vec::new());
    let options = materializer::Options::default();
    let built = materialize_with_progress(&repo, &dir.join("work"), input, &options, &|p| {
        progress.lock().expect("not poisoned").push(p)
    })
    .unwrap_or_else(|e| {
        let log = std::fs::read_to_string(dir.join("work/scripts.log")).unwrap_or_default();
        panic!(
            "compose failed: {e}\n{:?}\n--- log tail ---\n{}",
            e,
            &log[log.len().saturating_sub(4000)..]
        )
    });
    for (phase, t) in &built.timings {
        eprintln!("phase {phase}: {:.2} s", t.as_secs_f64());
    }
    let progress = progress.into_inner().expect("not poisoned");
    (repo, built.commit.to_hex(), progress)
}

/// Where this test process composes the minbase set: `composed-PID` in cargo's temporary
/// directory for tests, removing those of processes that have ended. A static is never
/// dropped, so a temporary directory would outlive every run (355 MB each); this one is reused
/// by name and swept by the next run (an ostree checkout holds files that must be made mutable
/// before they can be removed).
fn composed_dir() -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(entries) = std::fs::read_dir(&base) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("composed-") else {
                continue;
            };
            if !Path::new("/proc").join(pid).exists() {
                let _ = Command::new("chattr")
                    .args(["-R", "-f", "-i"])
                    .arg(e.path())
                    .status();
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(format!("composed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the composed directory");
    dir
}

/// The minbase set composed once (from nothing) for every test that needs it.
pub(crate) fn composed() -> &'static Composed {
    static C: OnceLock<Composed> = OnceLock::new();
    C.get_or_init(|| {
        let dir = composed_dir();
        let input = minbase_input();
        eprintln!("minbase: {} packages", input.packages.len());
        let (repo, commit, progress) = compose_into(&dir, &input);
        set_ref(&repo, "base", &commit).expect("set ref");
        let checkout = dir.join("checkout");
        run(Command::new("ostree")
            .arg(format!("--repo={}", repo.display()))
            .args(["checkout", &commit])
            .arg(&checkout));
        Composed {
            repo,
            commit,
            input,
            checkout,
            progress,
        }
    })
}

#[test]
fn minbase_commit_is_fsck_clean_with_metadata_and_ref() {
    let c = composed();
    let objects = fsck(&c.repo, &c.commit).expect("fsck");
    assert!(objects > 1000, "only {objects} objects");
    run(Command::new("ostree")
        .arg(format!("--repo={}", c.repo.display()))
        .arg("fsck"));
    assert_eq!(
        materializer::resolve_ref(&c.repo, "base")
            .expect("ref")
            .as_deref(),
        Some(c.commit.as_str())
    );
    let meta = materializer::commit_metadata(&c.repo, &c.commit).expect("metadata");
    assert_eq!(
        meta.get("particle.txn-id").map(String::as_str),
        Some("seq-1")
    );
    assert_eq!(meta.get("particle.seq").map(String::as_str), Some("1"));
    assert_eq!(
        meta.get("particle.variant").map(String::as_str),
        Some("base")
    );
    let shown = run(Command::new("ostree")
        .arg(format!("--repo={}", c.repo.display()))
        .args(["show", "--print-metadata-key=particle.inrelease", &c.commit]));
    assert!(shown.contains("'bookworm': 'sha256:abc'"), "{shown}");
    let date = run(Command::new("ostree")
        .arg(format!("--repo={}", c.repo.display()))
        .args(["log", &c.commit])
        .env("TZ", "UTC"));
    assert!(
        date.contains("2023-11-14 22:13:20"),
        "commit time is not the transaction time: {date}"
    );
}

#[test]
fn minbase_checkout_has_the_atomic_layout() {
    let c = composed();
    let root = &c.checkout;
    for (link, target) in [
        ("bin", "usr/bin"),
        ("sbin", "usr/sbin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
        ("home", "var/home"),
        ("root", "var/roothome"),
        ("usr/local", "../var/usrlocal"),
        ("ostree", "sysroot/ostree"),
    ] {
        assert_eq!(
            std::fs::read_link(root.join(link)).unwrap_or_else(|e| panic!("{link}: {e}")),
            Path::new(target),
            "{link}"
        );
    }
    assert!(root.join("usr/etc/passwd").is_file());
    assert!(
        std::fs::symlink_metadata(root.join("etc")).is_err(),
        "/etc must not be in the commit"
    );
    assert_eq!(
        std::fs::read_dir(root.join("var")).expect("var").count(),
        0,
        "/var must be empty"
    );
    assert!(root.join("usr/lib/sysimage/dpkg/status").is_file());
    let tmpfiles = std::fs::read_to_string(root.join("usr/lib/tmpfiles.d/particle-var.conf"))
        .expect("tmpfiles");
    assert!(
        tmpfiles.contains("L /var/lib/dpkg - - - - ../../usr/lib/sysimage/dpkg"),
        "{tmpfiles}"
    );
    assert!(tmpfiles.contains("d /var/lib/apt "), "{tmpfiles}");
    let conf =
        std::fs::read_to_string(root.join("usr/lib/particle/variant.conf")).expect("variant.conf");
    assert!(
        conf.contains("VARIANT=base\n") && conf.contains("TXN_ID=seq-1\n"),
        "{conf}"
    );
    assert_eq!(
        std::fs::read(root.join("usr/etc/particle-os/variant.conf")).expect("seed path"),
        conf.as_bytes()
    );
    assert_eq!(
        std::fs::read_to_string(root.join("usr/lib/particle/kargs")).expect("kargs"),
        "quiet rw\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("usr/lib/sysctl.d/50-particle.conf")).expect("sysctl"),
        "kernel.printk = 3 4 1 3\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("usr/etc/initramfs-tools/conf.d/particle.conf"))
            .expect("initramfs"),
        "COMPRESS=zstd\n"
    );
    // Real owners and setgid kept: unix_chkpwd is root:shadow 2755 in libpam-modules-bin.
    let m = std::fs::metadata(root.join("usr/sbin/unix_chkpwd")).expect("unix_chkpwd");
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 42, 0o2755));
    // setuid kept: su (util-linux).
    let m = std::fs::metadata(root.join("usr/bin/su")).expect("su");
    assert_eq!(m.mode() & 0o4000, 0o4000, "su lost its setuid bit");
    // Nothing left from the build.
    assert!(!root.join("usr/sbin/policy-rc.d").exists());
    assert!(!root.join("usr/lib/sysimage/dpkg/status-old").exists());
}

#[test]
fn minbase_boots_into_working_dpkg_and_apt() {
    let c = composed();
    boots_with_exactly(&c.checkout, &c.input.packages);
}

/// The progress a build reports: unpack, scripts, commit, each once and in that order, each
/// starting at 0 and ending at its total, never going back.
#[test]
fn progress_covers_every_phase_in_order() {
    let c = composed();
    let mut phases: Vec<Phase> = c.progress.iter().map(|p| p.phase).collect();
    phases.dedup();
    assert_eq!(phases, [Phase::Unpack, Phase::Scripts, Phase::Commit]);
    for phase in phases {
        let events: Vec<&Progress> = c.progress.iter().filter(|p| p.phase == phase).collect();
        let total = events[0].total;
        assert_eq!(events[0].done, 0, "{phase:?} starts at 0");
        assert_eq!(
            events[events.len() - 1].done,
            total,
            "{phase:?} ends at its total"
        );
        assert!(
            events.iter().all(|p| p.total == total),
            "{phase:?}: total changed"
        );
        assert!(
            events.windows(2).all(|w| w[0].done <= w[1].done),
            "{phase:?} went back: {events:?}"
        );
    }
    let count = |phase| c.progress.iter().filter(|p| p.phase == phase).count();
    let packages = c.input.packages.len();
    // One event per package unpacked, plus the start.
    assert_eq!(count(Phase::Unpack), packages + 1);
    let scripts_total = c
        .progress
        .iter()
        .find(|p| p.phase == Phase::Scripts)
        .map(|p| p.total)
        .expect("scripts reported");
    assert!(
        scripts_total > packages,
        "one step per package and per preinst"
    );
    // Without following dpkg's log there would be 0, one per preinst, after `dpkg --configure
    // -a`, after the triggers: the packages it set up in between were reported too.
    let mut seen: Vec<usize> = c
        .progress
        .iter()
        .filter(|p| p.phase == Phase::Scripts)
        .map(|p| p.done)
        .collect();
    seen.dedup();
    assert!(
        seen.len() > scripts_total - packages + 2,
        "no progress during dpkg --configure -a: {seen:?}"
    );
    assert_eq!(count(Phase::Commit), 2);
}

/// The second build, run in a child process with a different TZ, locale and working directory.
#[test]
#[ignore = "helper: run by same_input_gives_same_commit in a child process"]
fn determinism_child_build() {
    let dir = PathBuf::from(
        std::env::var("PARTICLE_MAT_CHILD_DIR").expect("run by the determinism test"),
    );
    let (_, commit, _) = compose_into(&dir, &minbase_input());
    std::fs::write(dir.join("commit"), commit).expect("write commit");
}

#[test]
fn same_input_gives_same_commit() {
    let c = composed();
    let dir = tempfile::Builder::new()
        .prefix("other-place")
        .tempdir()
        .expect("tempdir");
    let exe = std::env::current_exe().expect("current exe");
    run(Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "compose::determinism_child_build",
            "--nocapture",
        ])
        .env("PARTICLE_MAT_CHILD_DIR", dir.path())
        .env("TZ", "Pacific/Kiritimati")
        .env("LANG", "de_DE.UTF-8")
        .env("LC_ALL", "de_DE.UTF-8")
        .current_dir(dir.path()));
    let second = std::fs::read_to_string(dir.path().join("commit")).expect("child commit");
    if second != c.commit {
        let diff = Command::new("ostree")
            .arg(format!("--repo={}", c.repo.display()))
            .args(["diff", &c.commit])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        panic!(
            "same input, different commits: {} vs {second}\n{diff}",
            c.commit
        );
    }
}
