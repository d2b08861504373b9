//! Power cuts on a booted Particle-OS (issue #18): qemu is killed (SIGKILL, the guest gets no
//! shutdown) at points of a staged `particle txn install jq` and of its finalization at
//! shutdown, each time on a fresh copy (a qcow2 overlay) of the same prepared image. After every
//! cut the machine must boot, to the old deployment or to the new one and never to a broken
//! one, its journal must verify, and a head recorded but not deployed must be reported by
//! `status` and repaired by the next transaction.
//!
//! Each point costs two boots, so CI runs `PARTICLE_POWER_CUTS` points (default 2: one in the
//! transaction, one in the finalization); `scripts/power-cut.sh N` runs N (the record of the
//! long runs is in docs/runs/). The cut times come from a seed (`PARTICLE_POWER_CUT_SEED`,
//! default the time), printed so a failing point can be rerun.

use crate::boot::{accel, composed_base, password_hash, Accel, Firmware, Vm};
use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*): the cut times of one seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Milliseconds in `[lo, hi)`.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

#[test]
fn power_cuts_in_a_staged_transaction_and_its_finalization_leave_a_bootable_machine() {
    let points: usize = std::env::var("PARTICLE_POWER_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let seed: u64 = std::env::var("PARTICLE_POWER_CUT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        })
        .max(1);
    eprintln!("power cuts: {points} points, PARTICLE_POWER_CUT_SEED={seed}");
    let mut rng = Rng(seed);

    let (env, commit) = composed_base();
    let dir = env.dir.path().join("images");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let prepared = dir.join("prepared.raw");
    env.run(&[
        "image",
        "--karg",
        "console=ttyS0,115200",
        "--root-password-hash",
        &password_hash(),
        prepared.to_str().expect("utf-8"),
    ])
    .ok();
    let mirror = std::fs::canonicalize(mirror()).expect("the shared mirror");
    let accel = accel(&prepared, &dir);
    let slow = accel.login * 2;

    // Prepared once: the mirror's snapshot pinned on the machine, so each point only installs.
    let mut vm = Vm::start_sharing(&prepared, Firmware::Bios, accel, &dir, false, Some(&mirror));
    vm.login(accel);
    mount_mirror(&mut vm, &mirror);
    vm.particle_json("repo update", slow);
    vm.poweroff(accel);

    for point in 0..points {
        // Alternate: a cut inside the transaction, then one inside the finalization.
        let in_finalization = point % 2 == 1;
        let image = overlay(&prepared, &dir, point);
        let mut vm = Vm::start_sharing(&image, Firmware::Bios, accel, &dir, false, Some(&mirror));
        vm.login(accel);
        mount_mirror(&mut vm, &mirror);
        let what = if in_finalization {
            vm.particle_json("txn install jq", slow);
            vm.send("systemctl poweroff\n");
            vm.expect("Finalize Staged", accel.login);
            let after = rng.millis(0, 4000);
            std::thread::sleep(after);
            format!("{after:?} into the finalization")
        } else {
            vm.send("particle -q txn install jq > /tmp/install.log 2>&1 &\n");
            // The install takes ~25 s under TCG (it builds on an overlay of the booted
            // deployment); a cut after it lands between staging and the reboot.
            let after = rng.millis(1000, 32_000);
            std::thread::sleep(after);
            format!("{after:?} into `txn install jq`")
        };
        drop(vm);
        eprintln!("power cut {point}: {what}");
        check_after_the_cut(&image, &dir, accel, &mirror, &commit, &what);
        std::fs::remove_file(&image).expect("remove the overlay");
    }
}

fn mount_mirror(vm: &mut Vm, mirror: &Path) {
    let m = mirror.display();
    vm.ok(&format!(
        "mkdir -p {m} && mount -t 9p -o trans=virtio,version=9p2000.L,ro mirror {m}"
    ));
}

/// A qcow2 overlay of `base`: a fresh copy for one point, written only where the guest writes.
fn overlay(base: &Path, dir: &Path, point: usize) -> PathBuf {
    let image = dir.join(format!("point-{point}.qcow2"));
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
        .arg(base)
        .arg(&image)
        .output()
        .expect("qemu-img");
    assert!(
        out.status.success(),
        "qemu-img create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    image
}

/// The machine after a cut: it boots (GRUB's default entry works), to the image's commit or to
/// the one with jq; the journal verifies; a recorded head that is not deployed is reported
/// and the next transaction deploys it.
fn check_after_the_cut(
    image: &Path,
    dir: &Path,
    accel: Accel,
    mirror: &Path,
    commit: &str,
    what: &str,
) {
    let slow = accel.login * 2;
    let started = Instant::now();
    let mut vm = Vm::start_sharing(image, Firmware::Bios, accel, dir, false, Some(mirror));
    vm.login(accel);
    eprintln!("  booted again in {:?}", started.elapsed());
    let st = vm.particle_json_any("status", slow);
    let booted = st["deployments"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["booted"] == true))
        .cloned()
        .unwrap_or_else(|| panic!("{what}: no booted deployment: {st}"));
    let has_jq = vm.sh("command -v jq").0 == 0;
    let booted_commit = booted["commit"].as_str().unwrap_or("");
    assert!(
        (booted_commit == commit && !has_jq) || (booted_commit != commit && has_jq),
        "{what}: booted {booted_commit} (image {commit}), jq {has_jq}: {st}"
    );
    eprintln!(
        "  up in the {} deployment (transaction {}){}",
        if has_jq { "new" } else { "old" },
        booted["txn"],
        if st["problem"].is_null() {
            String::new()
        } else {
            format!("; status: {}", st["problem"])
        }
    );
    vm.particle_json("txn verify", slow);
    if !st["problem"].is_null() {
        // Recorded, not deployed: the next transaction's recovery stages it again.
        mount_mirror(&mut vm, mirror);
        vm.particle_json("txn install --dry-run hello", slow);
        let again = vm.particle_json("status", slow);
        assert!(again["problem"].is_null(), "{what}: {again}");
    }
    vm.poweroff(accel);
}
