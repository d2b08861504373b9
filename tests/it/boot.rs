//! The machine half, booted: the shipped base variant composed from the shared mirror, written
//! to a disk with `particle image`, booted under qemu through Debian's GRUB, kernel and
//! initramfs to a login prompt on the serial console, and checked from inside (logged in as
//! root with the password the image was given). One disk, two boots: BIOS (SeaBIOS) first,
//! then UEFI (OVMF) from the same disk, which also shows that `/var` and `/etc` persist across
//! a reboot. Then, offline, system users survive an upgrade of a sysroot whose `/etc/passwd`
//! has local changes. One VM at a time; KVM when it really runs a guest here, TCG otherwise, with the
//! timeouts of the one in use.

use crate::common::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// root's password in the test image (hashed with `openssl passwd -6`).
const PASSWORD: &str = "particle-boot-test";

/// qemu's accelerator and how long a boot to the login prompt may take with it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accel {
    pub(crate) name: &'static str,
    pub(crate) login: Duration,
}

const TCG: Accel = Accel {
    name: "tcg",
    login: Duration::from_secs(900),
};
const KVM: Accel = Accel {
    name: "kvm",
    login: Duration::from_secs(180),
};

/// KVM only when `/dev/kvm` opens, the CPU shows hardware virtualization and a guest really
/// runs under it (on these machines the device exists, the CPU shows no `vmx`, and a guest gets
/// as far as GRUB but its kernel never prints): the probe boots the image under KVM and expects
/// the kernel's first line within 60 s.
pub(crate) fn accel(image: &Path, dir: &Path) -> Accel {
    static CHOSEN: OnceLock<Accel> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        if std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_err()
        {
            eprintln!("boot: /dev/kvm cannot be opened: TCG");
            return TCG;
        }
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        if !cpuinfo
            .lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "vmx" || f == "svm"))
        {
            eprintln!("boot: the CPU shows no vmx/svm (no nested virtualization): TCG");
            return TCG;
        }
        let mut vm = Vm::start(image, Firmware::Bios, KVM, dir, true);
        let works = vm.wait_quiet("Linux version", Duration::from_secs(60));
        drop(vm);
        eprintln!(
            "boot: KVM {}",
            if works {
                "runs guests: KVM"
            } else {
                "does not run a guest: TCG"
            }
        );
        if works {
            KVM
        } else {
            TCG
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Firmware {
    Bios,
    Uefi,
}

/// One qemu guest with its serial console on a Unix socket (and copied to a log file).
pub(crate) struct Vm {
    child: Child,
    console: UnixStream,
    seen: String,
    log: PathBuf,
    marker: u32,
}

impl Vm {
    pub(crate) fn start(
        image: &Path,
        fw: Firmware,
        accel: Accel,
        dir: &Path,
        snapshot: bool,
    ) -> Vm {
        Vm::start_sharing(image, fw, accel, dir, snapshot, None)
    }

    /// [`Vm::start`] with `share` given to the guest read-only as the 9p file system tagged
    /// `mirror` (the shared Debian mirror, so in-guest transactions use `file://` sources).
    pub(crate) fn start_sharing(
        image: &Path,
        fw: Firmware,
        accel: Accel,
        dir: &Path,
        snapshot: bool,
        share: Option<&Path>,
    ) -> Vm {
        let shares: Vec<(&str, &Path)> = share.map(|s| ("mirror", s)).into_iter().collect();
        Vm::start_with(image, fw, accel, dir, snapshot, &shares)
    }

    /// [`Vm::start`] with each `(tag, directory)` of `shares` given to the guest read-only as
    /// the 9p file system of that tag.
    pub(crate) fn start_with(
        image: &Path,
        fw: Firmware,
        accel: Accel,
        dir: &Path,
        snapshot: bool,
        shares: &[(&str, &Path)],
    ) -> Vm {
        let sock = dir.join(format!("console-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&sock);
        let log = dir.join(format!("console-{}-{:?}.log", accel.name, fw));
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args(["-accel", accel.name, "-m", "1536", "-smp", "2"])
            .args([
                "-nographic",
                "-nodefaults",
                "-monitor",
                "none",
                "-no-reboot",
            ])
            .arg("-chardev")
            .arg(format!(
                "socket,id=console,path={},server=on,wait=on,logfile={}",
                sock.display(),
                log.display()
            ))
            .args(["-serial", "chardev:console"])
            // A network card on qemu's user-mode network (the guest configures nothing; a test
            // that needs the host brings the link up and reaches it as 10.0.2.2).
            .args(["-nic", "user,model=virtio-net-pci"])
            .arg("-drive")
            .arg(format!(
                "file={},format={},if=virtio",
                image.display(),
                if image.extension().is_some_and(|e| e == "qcow2") {
                    "qcow2"
                } else {
                    "raw"
                }
            ));
        if snapshot {
            cmd.arg("-snapshot");
        }
        for (tag, share) in shares {
            cmd.arg("-virtfs").arg(format!(
                "local,path={},mount_tag={tag},security_model=none,readonly=on",
                share.display()
            ));
        }
        if fw == Firmware::Uefi {
            let vars = dir.join("OVMF_VARS.fd");
            std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars)
                .expect("OVMF (package ovmf, installed by scripts/setup.sh)");
            cmd.arg("-drive")
                .arg("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd")
                .arg("-drive")
                .arg(format!(
                    "if=pflash,format=raw,unit=1,file={}",
                    vars.display()
                ));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("qemu-system-x86_64 (package qemu-system-x86, installed by scripts/setup.sh)");
        let started = Instant::now();
        let console = loop {
            match UnixStream::connect(&sock) {
                Ok(s) => break s,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("qemu's console socket {}: {e}", sock.display()),
            }
        };
        console
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        Vm {
            child,
            console,
            seen: String::new(),
            log,
            marker: 0,
        }
    }

    /// Reads the console until `needle` appears in what was not consumed yet, within
    /// `timeout`; consumes through the needle and returns what came before it.
    pub(crate) fn read_until(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(i) = self.seen.find(needle) {
                let before = self.seen[..i].to_owned();
                self.seen.drain(..i + needle.len());
                return Some(before);
            }
            if Instant::now() > deadline {
                return None;
            }
            match self.console.read(&mut buf) {
                Ok(0) => {
                    if self.child.try_wait().ok().flatten().is_some() {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Ok(n) => self
                    .seen
                    .push_str(&String::from_utf8_lossy(&buf[..n]).replace('\r', "")),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            // A read with a timeout is not restarted after a signal
                            // (CI saw EINTR here once, mid power-cut test): read again.
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => panic!("reading the console: {e}"),
            }
        }
    }

    pub(crate) fn wait_quiet(&mut self, needle: &str, timeout: Duration) -> bool {
        self.read_until(needle, timeout).is_some()
    }

    #[track_caller]
    pub(crate) fn expect(&mut self, needle: &str, timeout: Duration) -> String {
        match self.read_until(needle, timeout) {
            Some(before) => before,
            None => {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail = &log[log.len().saturating_sub(6000)..];
                panic!(
                    "no {needle:?} on the console within {timeout:?}; its last output ({}):\n{tail}",
                    self.log.display()
                )
            }
        }
    }

    pub(crate) fn send(&mut self, text: &str) {
        self.console
            .write_all(text.as_bytes())
            .expect("write to the console");
    }

    pub(crate) fn login(&mut self, accel: Accel) {
        self.expect("login: ", accel.login);
        self.send("root\n");
        self.expect("Password: ", Duration::from_secs(60));
        self.send(&format!("{PASSWORD}\n"));
        // The shell is ready when it runs a command: the typed line shows `$((6*7))`, only the
        // output shows 42. Input typed while login still sets up the terminal is flushed, so
        // ask again until the shell answers.
        for _ in 0..60 {
            self.send("stty -echo; echo ready-$((6*7))\n");
            if self.wait_quiet("ready-42\n", Duration::from_secs(5)) {
                // Answers to repeated asks may still come: let them pass.
                while self.wait_quiet("ready-42\n", Duration::from_secs(2)) {}
                return;
            }
        }
        self.expect("ready-42\n", Duration::from_secs(1));
    }

    /// Runs `cmd` in the guest's shell: its exit status and output (trimmed).
    #[track_caller]
    pub(crate) fn sh(&mut self, cmd: &str) -> (i32, String) {
        self.sh_within(cmd, Duration::from_secs(300))
    }

    /// [`Vm::sh`] for a command that may take up to `timeout`.
    #[track_caller]
    pub(crate) fn sh_within(&mut self, cmd: &str, timeout: Duration) -> (i32, String) {
        self.marker += 1;
        let m = self.marker;
        self.send(&format!("echo '<'{m}'<'; {cmd}; echo '>'{m}'>' $?\n"));
        self.expect(&format!("<{m}<\n"), Duration::from_secs(300));
        let out = self.expect(&format!(">{m}> "), timeout);
        let status = self.expect("\n", Duration::from_secs(30));
        let status = status
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("status of {cmd:?}: {status:?}"));
        (status, out.trim().to_owned())
    }

    /// `cmd` must succeed: its output.
    #[track_caller]
    pub(crate) fn ok(&mut self, cmd: &str) -> String {
        let (status, out) = self.sh(cmd);
        assert_eq!(status, 0, "{cmd:?} in the guest exited {status}: {out}");
        out
    }

    /// `particle --json ARGS` in the guest must succeed: its document.
    #[track_caller]
    pub(crate) fn particle_json(&mut self, args: &str, timeout: Duration) -> serde_json::Value {
        let (status, doc, err) = self.particle_json_status(args, timeout);
        assert_eq!(
            status, 0,
            "particle {args} in the guest exited {status}: {doc}\n{err}"
        );
        doc
    }

    /// `particle --json ARGS` in the guest, whatever its exit status: its document.
    #[track_caller]
    pub(crate) fn particle_json_any(&mut self, args: &str, timeout: Duration) -> serde_json::Value {
        self.particle_json_status(args, timeout).1
    }

    #[track_caller]
    fn particle_json_status(
        &mut self,
        args: &str,
        timeout: Duration,
    ) -> (i32, serde_json::Value, String) {
        let cmd = format!("particle --json {args} > /tmp/out.json 2>/tmp/err.txt");
        let (status, _) = self.sh_within(&cmd, timeout);
        let err = self.ok("cat /tmp/err.txt");
        let text = self.ok("cat /tmp/out.json");
        let doc = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("particle {args}: not one JSON document ({e}):\n{text}\n{err}")
        });
        (status, doc, err)
    }

    /// Powers the guest off and waits for qemu to end.
    pub(crate) fn poweroff(mut self, accel: Accel) {
        self.send("systemctl poweroff\n");
        let deadline = Instant::now() + accel.login;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            let _ = self.read_until("\u{0}", Duration::from_millis(500));
        }
        panic!("the guest did not power off within {:?}", accel.login);
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn password_hash() -> String {
    let out = Command::new("openssl")
        .args(["passwd", "-6", "-salt", "particletest", PASSWORD])
        .output()
        .expect("openssl");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The shipped base variant, as `variants/base.toml` defines it, with one recorded kernel
/// argument added by a transaction (so that `/proc/cmdline` can show the variant's arguments).
pub(crate) fn composed_base() -> (Env, String) {
    // By its canonical path: a machine deployed from here keeps the source, and a guest
    // mounts the mirror at that path.
    let mirror = std::fs::canonicalize(mirror()).expect("the shared mirror");
    let env = Env::with_source(
        &file_uri(&mirror),
        &mirror.join("keyring/debian-archive-keyring.gpg"),
    );
    env.run(&["repo", "update"]).ok();
    let def = Path::new(env!("CARGO_MANIFEST_DIR")).join("../variants/base.toml");
    let applied = env
        .run(&["--json", "variant", "apply", def.to_str().expect("utf-8")])
        .ok()
        .json();
    assert_eq!(applied["warnings"], serde_json::json!([]), "{applied}");
    // Lint against the commit's real kernel (engine::lint): a module parameter i915.ko does
    // not declare, a module the kernel does not have, an argument blk-mq ignores; i915's real
    // fastboot and cpufreq's built-in default_governor pass.
    let text = std::fs::read_to_string(&def).expect("base.toml");
    let bad = env.dir.path().join("base-lint.toml");
    std::fs::write(
        &bad,
        text.replace(
            "description =",
            "kargs = [\"i915.fastboot=1\", \"i915.nosuch=1\", \"elevator=deadline\", \"nosuchmod.x=1\", \"cpufreq.default_governor=performance\"]\ndescription =",
        ),
    )
    .expect("write");
    let linted = env
        .run(&[
            "--json",
            "variant",
            "apply",
            "--dry-run",
            bad.to_str().expect("utf-8"),
        ])
        .ok()
        .json();
    let settings: Vec<&str> = linted["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("warnings: {linted}"))
        .iter()
        .map(|w| w["setting"].as_str().expect("setting"))
        .collect();
    assert_eq!(
        settings,
        [
            "karg i915.nosuch=1",
            "karg elevator=deadline",
            "karg nosuchmod.x=1"
        ],
        "{linted}"
    );
    let j = env
        .run(&[
            "--json",
            "txn",
            "kargs",
            "--append",
            "systemd.show_status=true",
        ])
        .ok()
        .json();
    let commit = j["commit"].as_str().expect("commit").to_owned();
    (env, commit)
}

#[test]
fn the_base_variant_boots_from_its_image_with_bios_and_uefi() {
    let (env, commit) = composed_base();
    let dir = env.dir.path().join("images");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let image = dir.join("base.raw");
    let img = image.to_str().expect("utf-8");
    let hash = password_hash();

    // Refusals first: nothing is left behind.
    let small = dir.join("small.raw");
    let e = env
        .run(&[
            "--json",
            "image",
            "--size",
            "200M",
            small.to_str().expect("utf-8"),
        ])
        .fails("too_small")
        .json();
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("too small"),
        "{e}"
    );
    assert!(!small.exists());

    // kill -9 in the middle of an image build: no OUT, the state directory as it was; the
    // staging directory it leaves is swept by the next build into the same directory.
    let log_before = env.run(&["--json", "txn", "log"]).ok().stdout;
    let killed = dir.join("killed.raw");
    let mut child = Command::new(env!("CARGO_BIN_EXE_particle"))
        .arg("--root")
        .arg(env.root())
        .args(["-q", "image", "--variant", "base"])
        .arg(&killed)
        .spawn()
        .expect("particle image");
    let started = Instant::now();
    let staging = loop {
        let found = std::fs::read_dir(&dir)
            .expect("list")
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.to_string_lossy().contains(".particle-image-")
                    && p.join("sysroot/ostree/deploy").exists()
            });
        if let Some(p) = found {
            break p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120)
                && child.try_wait().expect("wait").is_none(),
            "particle image never got as far as deploying"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    assert!(!killed.exists(), "no half image after kill -9");
    assert!(
        staging.exists(),
        "the killed build's staging directory is left ({})",
        staging.display()
    );
    env.run(&["txn", "verify"]).ok();
    assert_eq!(env.run(&["--json", "txn", "log"]).ok().stdout, log_before);

    let j = env
        .run(&[
            "--json",
            "image",
            "--variant",
            "base",
            "--karg",
            "console=ttyS0,115200",
            "--root-password-hash",
            &hash,
            img,
        ])
        .ok()
        .json();
    assert_eq!(j["commit"], commit.as_str());
    let options = j["options"].as_str().expect("options");
    assert!(options.contains("systemd.show_status=true"), "{options}");
    assert!(options.contains("console=ttyS0,115200"), "{options}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        leftovers,
        ["base.raw"],
        "only the image is left beside it (the killed build's leftovers were swept)"
    );
    env.run(&["--json", "image", img]).fails("exists");

    // qcow2, UEFI only: qemu-img reads it back with the size asked for.
    let qcow = dir.join("base-uefi.qcow2");
    let q = env
        .run(&[
            "--json",
            "image",
            "--format",
            "qcow2",
            "--firmware",
            "uefi",
            "--size",
            "3G",
            qcow.to_str().expect("utf-8"),
        ])
        .ok()
        .json();
    assert_eq!(q["format"], "qcow2");
    assert_eq!(q["size"], 3u64 << 30);
    let info = Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(&qcow)
        .output()
        .expect("qemu-img");
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("qemu-img json");
    assert_eq!(info["format"], "qcow2");
    assert_eq!(info["virtual-size"], 3u64 << 30);
    std::fs::remove_file(&qcow).expect("remove");

    // First boot: BIOS.
    let accel = accel(&image, &dir);
    let mut vm = Vm::start(&image, Firmware::Bios, accel, &dir, false);
    vm.login(accel);
    let state = vm.ok("systemctl is-system-running --wait || systemctl --failed --no-legend");
    assert_eq!(state, "running", "systemd's state; failed units follow it");
    let status = vm.ok("ostree admin status");
    assert!(
        status.contains(&format!("* particle-os {commit}.0")),
        "the booted deployment is the image's commit {commit}:\n{status}"
    );
    let cmdline = vm.ok("cat /proc/cmdline");
    for karg in [
        "systemd.show_status=true",
        "console=ttyS0,115200",
        "ostree=/ostree/boot.",
    ] {
        assert!(cmdline.contains(karg), "{karg} in {cmdline}");
    }
    let (code, out) = vm.sh("touch /usr/particle-test");
    assert_ne!(code, 0, "/usr is read-only: {out}");
    assert!(vm.ok("findmnt -no OPTIONS /usr").starts_with("ro"));
    vm.ok("echo edited > /etc/particle-test");
    vm.ok("mkdir -p /var/lib/particle-test && echo persisted > /var/lib/particle-test/token");
    // procps (sysctl(8)) is not in base: the kernel's own file.
    assert_eq!(vm.ok("cat /proc/sys/vm/swappiness"), "1");
    // The initramfs was built with the recorded settings: gzip (COMPRESS), busybox (BUSYBOX),
    // the settings file itself, and particle's boot chain inside.
    assert_eq!(
        vm.ok("cat /etc/initramfs-tools/conf.d/particle.conf"),
        "BUSYBOX=y\nCOMPRESS=gzip\nKEYMAP=y\nMODULES=most"
    );
    let img_path = "/usr/lib/modules/$(uname -r)/initramfs.img";
    assert_eq!(vm.ok(&format!("od -An -tx1 -N2 {img_path}")), "1f 8b");
    let listing = vm.ok(&format!(
        "lsinitramfs {img_path} | grep -e bin/busybox -e local-bottom/particle-ostree -e ostree-prepare-root | sort"
    ));
    for want in [
        "bin/busybox",
        "scripts/local-bottom/particle-ostree",
        "usr/lib/ostree/ostree-prepare-root",
    ] {
        assert!(
            listing.contains(want),
            "{want} in the initramfs:\n{listing}"
        );
    }
    vm.poweroff(accel);

    // An update for the machine (#19): the build host publishes the commit the image has,
    // signed, then a new one (hello installed) with a static delta from it. The repository and
    // the publisher's keyring are given to the guest over 9p (tag `updates`).
    let updates = env.dir.path().join("updates");
    let published = updates.join("repo");
    let key = TestKey::generate();
    let secret = key.secret_key_file(env.dir.path());
    std::fs::create_dir_all(&updates).expect("mkdir");
    std::fs::copy(&key.keyring, updates.join("publisher.gpg")).expect("copy the keyring");
    let publish = || {
        env.run(&[
            "--json",
            "publish",
            "--repo",
            published.to_str().expect("utf-8"),
            "--sign-key",
            secret.to_str().expect("utf-8"),
        ])
        .ok()
        .json()
    };
    assert_eq!(publish()["variants"][0]["commit"], commit.as_str());
    let update = env.run(&["--json", "txn", "install", "hello"]).ok().json();
    let upgraded = update["commit"].as_str().expect("commit").to_owned();
    let p = publish();
    assert_eq!(p["variants"][0]["commit"], upgraded.as_str(), "{p}");
    assert!(p["variants"][0]["delta"].is_string(), "{p}");

    // Second boot of the same disk: UEFI. /etc and /var kept what the first boot wrote.
    let mirror = std::fs::canonicalize(mirror()).expect("the shared mirror");
    let shares = [("mirror", mirror.as_path()), ("updates", updates.as_path())];
    // The published repository is served over HTTP on the host's 127.0.0.1, which the guest
    // reaches as 10.0.2.2 through qemu's user-mode network.
    let http_log = env.dir.path().join("vm-http.log");
    let server = HttpServer::start(&published, "", &http_log);
    let mut vm = Vm::start_with(&image, Firmware::Uefi, accel, &dir, false, &shares);
    vm.login(accel);
    assert_eq!(vm.ok("cat /var/lib/particle-test/token"), "persisted");
    assert_eq!(vm.ok("cat /etc/particle-test"), "edited");
    assert!(vm
        .ok("test -d /sys/firmware/efi && echo uefi")
        .ends_with("uefi"));
    let state = vm.ok("systemctl is-system-running --wait || systemctl --failed --no-legend");
    assert_eq!(state, "running");
    let served = Served {
        repo: &published,
        port: server.port,
        log: &http_log,
        update: &upgraded,
    };
    particle_runs_the_machine_it_is_on(vm, &image, &dir, accel, &shares, &served, &commit);

    // The build host's head is the published update now.
    system_users_survive_an_upgrade_of_a_machine_with_local_users(&env, &upgraded);
}

/// The published repository as the test's HTTP server serves it, and the update it offers.
struct Served<'a> {
    /// The published repository.
    repo: &'a Path,
    port: u16,
    log: &'a Path,
    /// The commit of the published update.
    update: &'a str,
}

/// particle inside the image manages the machine it runs on (issues #18, #19): its status
/// shows the one booted deployment; the timer's service, with the policy `stage`, pulls the
/// update over HTTP through the static delta and stages it, and `txn install jq` (from the mirror, shared too) is built on
/// it and staged; an `/etc` edit made after staging is merged when ostree finalizes the
/// deployment at shutdown, and the next boot runs the update with jq; `txn rollback` makes
/// the previous deployment the default and the boot after that has neither; the journal has
/// every step and verifies.
fn particle_runs_the_machine_it_is_on(
    mut vm: Vm,
    image: &Path,
    dir: &Path,
    accel: Accel,
    shares: &[(&str, &Path)],
    served: &Served<'_>,
    commit: &str,
) {
    let upgraded = served.update;
    let slow = accel.login * 2;
    let mirror = shares[0].1;
    let mount_updates = "mkdir -p /run/updates && mount -t 9p -o trans=virtio,version=9p2000.L,ro updates /run/updates";
    assert!(vm
        .ok("dpkg-query -W -f '${Status}' particle")
        .ends_with("install ok installed"));
    let st = vm.particle_json("status", slow);
    let deps = st["deployments"].as_array().expect("deployments").clone();
    assert_eq!(deps.len(), 1, "{st}");
    assert_eq!(deps[0]["booted"], true);
    assert_eq!(deps[0]["commit"], commit);
    assert_eq!(
        (&deps[0]["txn"], &deps[0]["variant"]),
        (&1.into(), &"base".into())
    );

    let m = mirror.display();
    vm.ok(&format!(
        "mkdir -p {m} && mount -t 9p -o trans=virtio,version=9p2000.L,ro mirror {m}"
    ));
    vm.particle_json("repo update", slow);

    // The update over HTTP: checked (exit 0: something new), previewed, then pulled through
    // the static delta from the commit the machine runs and staged as a new origin by the
    // automatic updates' service with the policy `stage` (what its timer starts daily).
    // The image configures no network: the first link other than lo, by hand, at qemu's
    // user-mode address.
    let network_up = "i=$(ip -o link show | awk -F': ' '$2 != \"lo\" {print $2; exit}') && ip link set \"$i\" up && ip addr add 10.0.2.15/24 dev \"$i\"";
    vm.ok(mount_updates);
    vm.ok(network_up);
    vm.particle_json(
        &format!(
            "remote add origin http://10.0.2.2:{} --sign-key /run/updates/publisher.gpg",
            served.port
        ),
        slow,
    );
    let c = vm.particle_json("upgrade --check", slow);
    assert_eq!(
        (&c["available"], &c["commit"]),
        (&true.into(), &upgraded.into()),
        "{c}"
    );
    let p = vm.particle_json("upgrade --preview", slow);
    assert!(
        p["changes"]["added"]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p["name"] == "hello")),
        "{p}"
    );
    // Started at boot through the package's own `timers.target.wants` link (`is-enabled` says
    // "disabled": that looks at the [Install] links in /etc only).
    assert_eq!(
        vm.ok("systemctl is-active particle-upgrade.timer"),
        "active"
    );
    assert_eq!(
        vm.ok("systemctl --no-pager show -p Triggers --value particle-upgrade.timer"),
        "particle-upgrade.service"
    );
    vm.ok("mkdir -p /etc/particle && printf 'policy = stage\\nremote = origin\\n' > /etc/particle/updates.conf");
    let (code, out) = vm.sh_within("systemctl start particle-upgrade.service", slow);
    assert_eq!(code, 0, "the automatic update: {out}");
    let log = vm.particle_json("txn log", slow);
    let last = log["transactions"]
        .as_array()
        .and_then(|t| t.last().cloned())
        .expect("a transaction");
    assert_eq!(
        (&last["seq"], &last["kind"], &last["commit"]),
        (&2.into(), &"origin".into(), &upgraded.into()),
        "{log}"
    );
    let st = vm.particle_json("status", slow);
    assert_eq!(st["deployments"][0]["staged"], true, "{st}");
    assert_eq!(st["deployments"][0]["commit"], upgraded, "{st}");
    let requests = std::fs::read_to_string(served.log).expect("the server's log");
    assert!(
        requests.contains("GET /deltas/"),
        "the guest pulled the delta:\n{requests}"
    );
    // A few objects may come loose beside the delta: libostree scans the new commit as soon
    // as the superblock gives it, while the delta part is in flight, and fetches what is not
    // there yet (docs/delivery.md). Only new objects, then: none of the commit the guest ran
    // (that would be a repository missing what the delta assumes), far from the thousands.
    let ran = Command::new("ostree")
        .arg(format!("--repo={}", served.repo.display()))
        .args(["ls", "-R", "-C", commit])
        .output()
        .expect("ostree ls");
    assert!(ran.status.success(), "{ran:?}");
    let ran = String::from_utf8_lossy(&ran.stdout);
    let alone: Vec<String> = objects_in_log(served.log, "GET")
        .into_iter()
        .filter(|o| !o.ends_with(".commitmeta"))
        .map(|o| o.split('.').next().unwrap_or("").to_owned())
        .collect();
    assert!(
        alone.len() < 50
            && alone
                .iter()
                .all(|o| o.len() == 64 && !ran.contains(o.as_str())),
        "objects fetched beside the delta: {alone:?}\n{requests}"
    );

    // An install after it is built on the update (the staged deployment under the build's
    // overlay) and staged in its place.
    let j = vm.particle_json("txn install jq", slow);
    assert_eq!((&j["txn"], &j["staged"]), (&3.into(), &true.into()), "{j}");
    let installed = j["commit"].as_str().expect("commit").to_owned();
    vm.ok("echo after-staging > /etc/particle-staged-edit");
    let st = vm.particle_json("status", slow);
    assert_eq!(st["deployments"][0]["staged"], true, "{st}");
    assert_eq!(st["deployments"][0]["commit"], installed.as_str());
    assert_eq!(st["deployments"][1]["booted"], true);
    let (code, _) = vm.sh("command -v jq || command -v hello");
    assert_ne!(
        code, 0,
        "jq and the update arrive with the next boot, not before"
    );
    vm.poweroff(accel);

    // ostree finalized the staged deployment at shutdown and ran particle's GRUB generator.
    let mut vm = Vm::start_with(image, Firmware::Uefi, accel, dir, false, shares);
    vm.login(accel);
    assert_eq!(vm.ok("jq -M -n 6*7"), "42");
    assert_eq!(vm.ok("hello"), "Hello, world!", "the update is booted");
    vm.ok(mount_updates);
    vm.ok(network_up);
    let (code, out) = vm.sh_within("particle upgrade --check", slow);
    assert_eq!(
        code, 77,
        "nothing new: the machine runs what is published: {out}"
    );
    assert_eq!(vm.ok("cat /etc/particle-staged-edit"), "after-staging");
    assert_eq!(vm.ok("readlink /boot/grub/grub.cfg"), "../loader/grub.cfg");
    let st = vm.particle_json("status", slow);
    let deps = st["deployments"].as_array().expect("deployments").clone();
    assert_eq!(deps.len(), 2, "{st}");
    assert_eq!(deps[0]["booted"], true);
    assert_eq!(deps[0]["txn"], 3);
    assert_eq!(deps[1]["rollback"], true);
    assert_eq!(deps[1]["commit"], commit);
    let r = vm.particle_json("txn rollback", slow);
    assert_eq!(
        (&r["txn"], &r["kind"]),
        (&4.into(), &"rollback".into()),
        "{r}"
    );
    vm.poweroff(accel);

    let mut vm = Vm::start_with(image, Firmware::Uefi, accel, dir, false, shares);
    vm.login(accel);
    let (code, _) = vm.sh("command -v jq || command -v hello");
    assert_ne!(code, 0, "rolled back: no jq, no update");
    assert_eq!(vm.ok("cat /etc/particle-staged-edit"), "after-staging");
    let st = vm.particle_json("status", slow);
    assert_eq!(st["deployments"][0]["booted"], true, "{st}");
    assert_eq!(st["deployments"][0]["commit"], commit);
    assert_eq!(st["deployments"][0]["txn"], 4);
    // A staged deployment dropped before the reboot: recorded as a return to the booted
    // transaction, nothing left staged.
    vm.ok(&format!(
        "mkdir -p {m} && mount -t 9p -o trans=virtio,version=9p2000.L,ro mirror {m}",
        m = mirror.display()
    ));
    let again = vm.particle_json("txn install jq", slow);
    assert_eq!(again["staged"], true, "{again}");
    let c = vm.particle_json("txn cancel", slow);
    assert_eq!(
        (&c["kind"], &c["commit"]),
        (&"rollback".into(), &commit.into()),
        "{c}"
    );
    let st = vm.particle_json("status", slow);
    let deps = st["deployments"].as_array().expect("deployments");
    assert!(deps.iter().all(|d| d["staged"] == false), "{st}");
    assert_eq!(deps[0]["booted"], true);

    // A finalization that fails at shutdown (/boot made immutable after staging, so ostree
    // cannot write the new boot entries): the machine boots the deployment it ran, `status`
    // says what failed and exits 1; the next transaction command stages the journal's head
    // again (here `txn cancel`, which then drops it).
    let failing = vm.particle_json("txn install jq", slow);
    assert_eq!(failing["staged"], true, "{failing}");
    vm.ok("chattr +i /boot");
    vm.poweroff(accel);
    let mut vm = Vm::start_with(image, Firmware::Uefi, accel, dir, false, shares);
    vm.login(accel);
    vm.ok("chattr -i /boot");
    let (code, _) = vm.sh("command -v jq");
    assert_ne!(code, 0, "the failed deployment does not boot");
    let (code, _) = vm.sh_within("particle status > /dev/null 2>&1", slow);
    assert_eq!(code, 1, "status exits 1 after a failed finalization");
    let st = vm.particle_json_any("status", slow);
    let problem = st["problem"].as_str().unwrap_or_default();
    assert!(
        problem.contains("transaction 7") && problem.contains("failed to finalize"),
        "{st}"
    );
    // ostree's own report of it: ostree-boot-complete took the failure stamp and failed (the
    // system is `degraded` until that is acknowledged).
    let (_, unit) = vm.sh("systemctl is-failed ostree-boot-complete.service");
    assert_eq!(unit.trim(), "failed", "{st}");
    vm.ok("systemctl reset-failed ostree-boot-complete.service");
    assert_eq!(st["deployments"][0]["booted"], true, "{st}");
    assert_eq!(st["deployments"][0]["commit"], commit, "{st}");
    vm.ok(&format!(
        "mkdir -p {m} && mount -t 9p -o trans=virtio,version=9p2000.L,ro mirror {m}",
        m = mirror.display()
    ));
    vm.particle_json("txn cancel", slow);
    let st = vm.particle_json("status", slow);
    assert!(st["problem"].is_null(), "{st}");

    let log = vm.particle_json("txn log", slow);
    let kinds: Vec<&str> = log["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["origin", "origin", "install", "rollback", "install", "rollback", "install", "rollback"]
    );
    vm.particle_json("txn verify", slow);
    // Hardware belongs to the machine: detected inside the guest from its own /sys and
    // /proc, recorded in its own journal (no shipped rule matches qemu's devices).
    let hw = vm.particle_json("txn hardware --detect", slow);
    assert_eq!(hw["committed"], true, "{hw}");
    let seq = hw["txn"].as_u64().expect("txn");
    let shown = vm.particle_json(&format!("txn show {seq}"), slow);
    let profile = &shown["state"]["profile"]["hardware"];
    for list in ["pci", "storage"] {
        assert!(
            profile[list].as_array().is_some_and(|l| !l.is_empty()),
            "{list}: {profile}"
        );
    }
    assert!(
        !profile["cpu"]["vendor"].as_str().unwrap_or("").is_empty(),
        "{profile}"
    );
    let state = vm.ok("systemctl is-system-running --wait || systemctl --failed --no-legend");
    assert_eq!(state, "running");
    vm.poweroff(accel);
}

/// The machine's `/etc/passwd` has a local user; the upgrade's new package (openssh-server)
/// creates a system user (sshd) in the commit. ostree's `/etc` merge keeps the machine's file
/// whole, so sshd is not in it after the deploy; the commit's `sysusers.d` entry adds it at the
/// next boot (`systemd-sysusers`, here run on the deployment as the boot would), with the id the
/// commit's files are owned by, and the local user stays.
fn system_users_survive_an_upgrade_of_a_machine_with_local_users(env: &Env, commit: &str) {
    let sysroot = env.dir.path().join("sysroot");
    let sys = sysroot.to_str().expect("utf-8");
    let vars = [
        ("OSTREE_SYSROOT_OPTS", "skip-sync"),
        ("OSTREE_SYSROOT_DEBUG", "mutable-deployments"),
    ];
    let first = env
        .run_env(&vars, &["--json", "deploy", "--sysroot", sys])
        .ok()
        .json();
    assert_eq!(first["commit"], commit);
    let dep = PathBuf::from(first["deployment"]["path"].as_str().expect("path"));
    // What `useradd alice` writes: all four account files change, so ostree's merge keeps all
    // four of the machine's.
    let append = |file: &str, line: &str| {
        let p = dep.join("etc").join(file);
        let mut text = std::fs::read_to_string(&p).expect("read");
        text.push_str(line);
        std::fs::write(&p, text).expect("write");
    };
    append(
        "passwd",
        "alice:x:1000:1000:Alice:/var/home/alice:/bin/bash\n",
    );
    append("group", "alice:x:1000:\n");
    append("shadow", "alice:!:20000:0:99999:7:::\n");
    append("gshadow", "alice:!::\n");

    let j = env
        .run(&["--json", "txn", "install", "openssh-server"])
        .ok()
        .json();
    let upgraded = j["commit"].as_str().expect("commit").to_owned();
    let second = env
        .run_env(&vars, &["--json", "deploy", "--sysroot", sys])
        .ok()
        .json();
    assert_eq!(second["commit"], upgraded.as_str());
    let dep = PathBuf::from(second["deployment"]["path"].as_str().expect("path"));
    let user = |file: &str, name: &str| -> Option<String> {
        std::fs::read_to_string(dep.join(file))
            .expect("read")
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .map(str::to_owned)
    };
    let shipped = user("usr/etc/passwd", "sshd").expect("the commit has the sshd user");
    assert!(
        user("etc/passwd", "alice").is_some(),
        "the merge kept the local user"
    );
    assert!(
        user("etc/passwd", "sshd").is_none(),
        "ostree's merge keeps the machine's /etc/passwd whole (what sysusers.d is for)"
    );
    let conf = std::fs::read_to_string(dep.join("usr/lib/sysusers.d/particle.conf"))
        .expect("the commit's sysusers.d entry");
    assert!(conf.lines().any(|l| l.starts_with("u sshd ")), "{conf}");

    let out = Command::new("systemd-sysusers")
        .arg(format!("--root={}", dep.display()))
        .output()
        .expect("systemd-sysusers");
    assert!(
        out.status.success(),
        "systemd-sysusers: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The sysroot's deployments, as `particle --sysroot DIR status` shows them: the upgrade
    // first (the default), the image's commit after it (the rollback), neither booted here.
    // The machine's journal numbers them: two origins, the second naming the build host's
    // transaction.
    let st = env.run(&["--json", "--sysroot", sys, "status"]).ok().json();
    assert_eq!(st["commit"], upgraded.as_str());
    assert_eq!(st["variant"], "base");
    assert_eq!(st["txn"], 2);
    let deps = st["deployments"].as_array().expect("deployments");
    assert_eq!(deps.len(), 2, "{st}");
    assert_eq!(deps[0]["index"], 0);
    assert_eq!(deps[0]["commit"], upgraded.as_str());
    let origin = env
        .run(&["--json", "--sysroot", sys, "txn", "show", "2"])
        .ok()
        .json();
    assert_eq!(origin["id"], deps[0]["txn_id"]);
    assert_eq!(origin["request"]["kind"], "origin");
    assert_eq!(origin["request"]["seq"], j["txn"]);
    assert_eq!(origin["request"]["txn"], j["txn_id"]);
    assert_eq!(deps[0]["rollback"], false);
    assert_eq!(deps[1]["commit"], commit);
    assert_eq!(deps[1]["rollback"], true);
    assert!(deps
        .iter()
        .all(|d| d["booted"] == false && d["staged"] == false));
    let human = env.run(&["--sysroot", sys, "status"]).ok().stdout;
    assert!(
        human.contains("[default]") && human.contains("[rollback]"),
        "{human}"
    );
    let refused = env.run(&["--json", "--sysroot", sys, "variant", "list"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert_eq!(refused.json()["error"]["kind"], "usage");
    let nothing = env.dir.path().join("not-a-sysroot");
    std::fs::create_dir_all(&nothing).expect("mkdir");
    env.run(&[
        "--json",
        "--sysroot",
        nothing.to_str().expect("utf-8"),
        "status",
    ])
    .fails("no_sysroot");

    let sshd = user("etc/passwd", "sshd").expect("sysusers added sshd");
    let id = |l: &str| l.split(':').nth(2).map(str::to_owned);
    assert_eq!(
        id(&sshd),
        id(&shipped),
        "sshd has the commit's uid: {sshd} / {shipped}"
    );
    assert!(
        user("etc/passwd", "alice").is_some(),
        "and alice is still there"
    );
    assert!(
        user("etc/shadow", "sshd").is_some(),
        "sshd has a shadow entry"
    );
}
