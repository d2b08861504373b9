//! Variants as code on the real mirror: definitions composed parents first, idempotent apply,
//! hardware rules, a base change propagated to children with provenance, and the errors.

use crate::common::*;
use crate::txn::invariants;
use std::path::Path;
use std::process::Command;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write definition");
}

/// A file of `variant`'s head commit, read with the ostree CLI (independently of particle).
fn cat(env: &Env, variant: &str, path: &str) -> String {
    let out = Command::new("ostree")
        .arg(format!(
            "--repo={}",
            env.root().join("ostree/repo").display()
        ))
        .args(["cat", &format!("particle-os/{variant}"), path])
        .output()
        .expect("ostree cat");
    assert!(
        out.status.success(),
        "ostree cat {variant} {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn packages_of(env: &Env, variant: &str) -> Vec<String> {
    let dpkg = cat(env, variant, "/usr/lib/sysimage/dpkg/status");
    let mut names: Vec<String> = dpkg
        .lines()
        .filter_map(|l| l.strip_prefix("Package: "))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn kargs(env: &Env, variant: &str) -> Vec<String> {
    cat(env, variant, "/usr/lib/particle/kargs")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn head(env: &Env, variant: &str) -> serde_json::Value {
    let log = env
        .run(&["--json", "txn", "log", "--variant", variant])
        .ok()
        .json();
    log["transactions"]
        .as_array()
        .and_then(|t| t.last())
        .cloned()
        .expect("a head transaction")
}

const BASE: &str = r#"
name = "base"
description = "test foundation"
[packages]
install = ["hello"]
[initramfs]
MODULES = "most"
[sysctl]
"kernel.printk" = "3 4 1 3"
"vm.swappiness" = 1
"#;

const BOSOM: &str = r#"
name = "bosom"
parent = "base"
kargs = ["elevator=deadline", "iommu=pt", "hugepagesz=1G"]
[packages]
install = ["less", "tree"]
"#;

const EUCLASE: &str = r#"
name = "euclase"
parent = "base"
kargs = ["intel_pstate=performance", "i915.fastboot=1"]
[sysctl]
"kernel.sched_rt_runtime_us" = "-1"
"net.core.rmem_max" = "16777216"
[[hardware]]
name = "NVIDIA GPU"
match = { pci_vendor = "0x10de", pci_class = "03" }
kargs = ["nvidia-drm.modeset=1"]
"#;

const NVIDIA: &str = r#"{
  "pci": [
    {"slot": "0000:00:02.0", "class": "0x030000", "vendor": "0x8086", "device": "0x9a49"},
    {"slot": "0000:01:00.0", "class": "0x030000", "vendor": "0x10de", "device": "0x2484"}
  ],
  "cpu": {"vendor": "GenuineIntel", "model": "test", "count": 8, "flags": ["avx2"]},
  "storage": [{"name": "nvme0n1", "kind": "nvme", "rotational": false}],
  "network": [],
  "audio": []
}"#;

#[test]
fn definitions_compose_apply_idempotently_follow_hardware_and_rebase_with_provenance() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let defs = env.dir.path().join("variants");
    std::fs::create_dir(&defs).expect("mkdir");
    write(&defs, "base.toml", BASE);
    write(&defs, "bosom.toml", BOSOM);
    write(&defs, "euclase.toml", EUCLASE);
    let dir = defs.to_string_lossy().into_owned();

    // Parents first: base, then its children, each one `apply` record with its own commit.
    let c = env.run(&["--json", "compose", "--dir", &dir]).ok().json();
    let order: Vec<&str> = c["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| v["variant"].as_str().expect("name"))
        .collect();
    assert_eq!(order, ["base", "bosom", "euclase"]);
    for v in c["variants"].as_array().expect("variants") {
        assert_eq!(v["committed"], true, "{v}");
        assert_eq!(v["kind"], "apply");
    }
    // The seed's dead kernel arguments are reported (these definitions have no kernel: only the
    // rules that hold for every kernel apply), and the transaction goes ahead.
    let warned = |i: usize| -> Vec<String> {
        c["variants"][i]["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .map(|w| w["setting"].as_str().expect("setting").to_owned())
            .collect()
    };
    assert_eq!(warned(0), Vec::<String>::new());
    assert_eq!(warned(1), ["karg elevator=deadline", "karg hugepagesz=1G"]);
    assert_eq!(warned(2), ["karg intel_pstate=performance"]);
    let base_seq = c["variants"][0]["txn"].as_u64().expect("seq");
    assert_eq!(c["variants"][1]["base"]["variant"], "base");
    assert_eq!(c["variants"][1]["base"]["seq"], base_seq);
    invariants(&env);

    // Each commit's tree carries its variant, the inherited and own sysctl, initramfs settings
    // and kernel arguments.
    assert!(cat(&env, "euclase", "/usr/lib/particle/variant.conf").contains("euclase"));
    let sysctl = cat(&env, "euclase", "/usr/lib/sysctl.d/50-particle.conf");
    for line in [
        "vm.swappiness = 1",
        "kernel.printk = 3 4 1 3",
        "kernel.sched_rt_runtime_us = -1",
        "net.core.rmem_max = 16777216",
    ] {
        assert!(sysctl.contains(line), "{line:?} missing from:\n{sysctl}");
    }
    assert!(cat(
        &env,
        "bosom",
        "/usr/etc/initramfs-tools/conf.d/particle.conf"
    )
    .contains("MODULES=most"));
    assert_eq!(
        kargs(&env, "bosom"),
        ["elevator=deadline", "iommu=pt", "hugepagesz=1G"]
    );
    assert_eq!(
        kargs(&env, "euclase"),
        ["intel_pstate=performance", "i915.fastboot=1"]
    );
    assert!(kargs(&env, "base").is_empty());
    let bosom_pkgs = packages_of(&env, "bosom");
    for p in ["hello", "less", "tree"] {
        assert!(bosom_pkgs.contains(&p.to_owned()), "{p} missing in bosom");
    }
    assert!(!packages_of(&env, "euclase").contains(&"tree".to_owned()));

    // Idempotent: the same definitions again add nothing, whether composed or applied.
    let again = env.run(&["--json", "compose", "--dir", &dir]).ok().json();
    for v in again["variants"].as_array().expect("variants") {
        assert_eq!(v["committed"], false, "{v}");
    }
    let bosom_file = defs.join("bosom.toml").to_string_lossy().into_owned();
    let a = env
        .run(&["--json", "variant", "apply", &bosom_file])
        .ok()
        .json();
    assert_eq!(a["committed"], false);
    let seq_before = head(&env, "bosom")["seq"].clone();

    // Hardware: an NVIDIA GPU makes euclase's rule add nvidia-drm.modeset=1, visible in txn diff.
    let hw = env.dir.path().join("nvidia.json");
    std::fs::write(&hw, NVIDIA).expect("fixture");
    let before_hw = head(&env, "euclase")["seq"].as_u64().expect("seq");
    let t = env
        .run(&[
            "--json",
            "txn",
            "hardware",
            "--variant",
            "euclase",
            "--from",
            &hw.to_string_lossy(),
        ])
        .ok()
        .json();
    let hw_seq = t["txn"].as_u64().expect("seq");
    assert_eq!(
        kargs(&env, "euclase"),
        [
            "intel_pstate=performance",
            "i915.fastboot=1",
            "nvidia-drm.modeset=1"
        ]
    );
    let d = env
        .run(&[
            "--json",
            "txn",
            "diff",
            &before_hw.to_string(),
            &hw_seq.to_string(),
        ])
        .ok()
        .json();
    let kchange = d["profile"]
        .as_array()
        .expect("profile changes")
        .iter()
        .find(|c| c["field"] == "kargs")
        .cloned()
        .expect("a kargs change");
    assert_eq!(
        kchange["added"],
        serde_json::json!(["nvidia-drm.modeset=1"])
    );
    invariants(&env);

    // A base change reaches a child through `variant rebase`, with provenance in txn log.
    let b = env
        .run(&["--json", "txn", "install", "--variant", "base", "jq"])
        .ok()
        .json();
    let base_head = b["txn"].as_u64().expect("seq");
    let r = env
        .run(&["--json", "variant", "rebase", "bosom"])
        .ok()
        .json();
    assert_eq!(r["kind"], "rebase");
    assert_eq!(r["base"]["seq"], base_head);
    let pk = packages_of(&env, "bosom");
    for p in ["jq", "hello", "less", "tree"] {
        assert!(pk.contains(&p.to_owned()), "{p} missing in rebased bosom");
    }
    assert_eq!(
        kargs(&env, "bosom"),
        ["elevator=deadline", "iommu=pt", "hugepagesz=1G"]
    );
    let h = head(&env, "bosom");
    assert_eq!(h["kind"], "rebase");
    assert_eq!(h["base"]["variant"], "base");
    assert_eq!(h["base"]["seq"], base_head);
    assert_ne!(h["seq"], seq_before);
    let human = env.run(&["txn", "log", "--variant", "bosom"]).ok();
    assert!(
        human
            .stdout
            .contains(&format!("rebase (on base@{base_head})")),
        "{}",
        human.stdout
    );
    // Rebasing again has nothing to do.
    assert_eq!(
        env.run(&["--json", "variant", "rebase", "bosom"])
            .ok()
            .json()["committed"],
        false
    );

    // An edited definition: what the old one added and the new one drops goes.
    write(
        &defs,
        "bosom.toml",
        &BOSOM
            .replace(r#"install = ["less", "tree"]"#, r#"install = ["less"]"#)
            .replace(r#", "hugepagesz=1G""#, ""),
    );
    let e = env
        .run(&["--json", "variant", "apply", &bosom_file])
        .ok()
        .json();
    assert_eq!(e["committed"], true);
    assert!(e["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .any(|p| p["name"] == "tree"));
    assert_eq!(kargs(&env, "bosom"), ["elevator=deadline", "iommu=pt"]);
    assert!(packages_of(&env, "bosom").contains(&"less".to_owned()));

    // compose without --dir: the definitions from the journal; euclase moves onto base's head
    // in one record and keeps its hardware-derived argument.
    let c2 = env.run(&["--json", "compose"]).ok().json();
    let by: std::collections::BTreeMap<String, serde_json::Value> = c2["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| (v["variant"].as_str().expect("name").to_owned(), v.clone()))
        .collect();
    assert_eq!(by["base"]["committed"], false);
    assert_eq!(by["bosom"]["committed"], false);
    assert_eq!(by["euclase"]["committed"], true);
    assert_eq!(by["euclase"]["base"]["seq"], base_head);
    assert!(packages_of(&env, "euclase").contains(&"jq".to_owned()));
    assert!(kargs(&env, "euclase").contains(&"nvidia-drm.modeset=1".to_owned()));
    invariants(&env);
}

#[test]
fn definition_errors_are_clear_and_change_nothing() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let defs = env.dir.path().join("defs");
    std::fs::create_dir(&defs).expect("mkdir");
    let p = |n: &str| defs.join(n).to_string_lossy().into_owned();

    // A child before its parent exists.
    write(&defs, "bosom.toml", BOSOM);
    let e = env
        .run(&["--json", "variant", "apply", &p("bosom.toml")])
        .fails("unknown_variant")
        .json();
    assert!(e["error"]["hint"]
        .as_str()
        .expect("hint")
        .contains("compose"));

    // Syntax errors name the file and line, in one line.
    write(
        &defs,
        "broken.toml",
        "name = \"x\"\n[packages]\ninstall = [\"a\"\n",
    );
    let e = env
        .run(&["--json", "variant", "apply", &p("broken.toml")])
        .fails("bad_definition")
        .json();
    let msg = e["error"]["message"].as_str().expect("message");
    assert!(
        msg.contains("broken.toml (line ") && !msg.contains('\n'),
        "{msg}"
    );
    let human = env.run(&["variant", "apply", &p("broken.toml")]);
    assert_eq!(human.code, 1);
    assert!(human.stderr.starts_with("error: "), "{}", human.stderr);

    // A cycle of parents.
    std::fs::remove_file(defs.join("broken.toml")).expect("rm");
    write(&defs, "a.toml", "name = \"a\"\nparent = \"b\"\n");
    write(&defs, "b.toml", "name = \"b\"\nparent = \"a\"\n");
    let e = env
        .run(&["--json", "compose", "--dir", &defs.to_string_lossy()])
        .fails("bad_definition")
        .json();
    assert!(e["error"]["message"]
        .as_str()
        .expect("message")
        .contains("cycle"));

    // Two files defining one variant.
    std::fs::remove_file(defs.join("a.toml")).expect("rm");
    std::fs::remove_file(defs.join("b.toml")).expect("rm");
    write(&defs, "again.toml", BOSOM);
    env.run(&["--json", "compose", "--dir", &defs.to_string_lossy()])
        .fails("bad_definition");

    // Nothing was written by any of that; compose without definitions says what to do.
    let log = env.run(&["--json", "txn", "log"]).ok().json();
    assert!(log["transactions"].as_array().expect("list").is_empty());
    env.run(&["--json", "compose"]).fails("bad_definition");
    // Profile and hardware events need a state to change.
    env.run(&["--json", "txn", "kargs", "--append", "quiet"])
        .fails("empty_variant");
    let hw = env.dir.path().join("nvidia.json");
    std::fs::write(&hw, NVIDIA).expect("fixture");
    env.run(&["--json", "txn", "hardware", "--from", &hw.to_string_lossy()])
        .fails("empty_variant");
    env.run(&["--json", "variant", "rebase", "base"])
        .fails("unknown_variant");
    invariants(&env);
}

/// Whether the shared mirror's pool has a .deb of package `name` (`POOL.txt`).
fn in_pool(name: &str) -> bool {
    static POOL: std::sync::OnceLock<std::collections::BTreeSet<String>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        std::fs::read_to_string(mirror().join("POOL.txt"))
            .expect("POOL.txt")
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    })
    .contains(name)
}

/// The five definitions shipped in `variants/`, composed from the shared mirror as
/// `particle compose --dir variants` does for a user: every commit carries its variant and the
/// inherited and own profile. One change to the files: base's kernel and initramfs-tools are
/// left out here, because each kernel-carrying variant builds its own initramfs (MODULES=most,
/// ~1.5–5 min per variant on two cores): the kernel path — a real kernel, its initramfs built in
/// the sandbox with the recorded initramfs settings, deployed — is tested once in
/// `deliver.rs` (`deploy_export_and_delta_with_the_real_kernel`, which also checks that the
/// initramfs was built with the recorded `COMPRESS=gzip`).
#[test]
fn the_five_shipped_variants_compose_from_the_mirror() {
    // The shipped hardware rules name packages of contrib, non-free and non-free-firmware.
    let env = Env::with_every_component();
    env.run(&["repo", "update"]).ok();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../variants");
    let dir = env.dir.path().join("variants");
    std::fs::create_dir(&dir).expect("mkdir");
    for e in std::fs::read_dir(&shipped).expect("variants/") {
        let e = e.expect("entry");
        let mut text = std::fs::read_to_string(e.path()).expect("read");
        if e.file_name() == "base.toml" {
            for k in ["    \"linux-image-amd64\",\n", "    \"initramfs-tools\",\n"] {
                assert!(text.contains(k), "base.toml lists {k}");
                text = text.replace(k, "");
            }
        }
        // The full package sets (Steam, GNOME, podman, …) are composed from a real mirror by
        // scripts/compose-full-variants.sh; here what the shared pool holds.
        let mut def: toml::Table = toml::from_str(&text).expect("a shipped definition parses");
        if let Some(toml::Value::Array(install)) = def
            .get_mut("packages")
            .and_then(|p| p.as_table_mut())
            .and_then(|p| p.get_mut("install"))
        {
            install.retain(|p| {
                let name = p.as_str().expect("a name").split(':').next().expect("name");
                in_pool(name)
            });
        }
        let text = toml::to_string(&def).expect("serializes");
        std::fs::write(dir.join(e.file_name()), text).expect("write");
    }
    let c = env
        .run(&["--json", "compose", "--dir", &dir.to_string_lossy()])
        .ok()
        .json();
    let order: Vec<&str> = c["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| v["variant"].as_str().expect("name"))
        .collect();
    assert_eq!(order, ["base", "apex", "bosom", "corona", "euclase"]);
    for v in c["variants"].as_array().expect("variants") {
        let name = v["variant"].as_str().expect("name");
        assert_eq!(v["committed"], true, "{v}");
        // No shipped kernel argument or sysctl key is dead (engine::lint).
        assert_eq!(v["warnings"], serde_json::json!([]), "{name}");
        let conf = cat(&env, name, "/usr/lib/particle/variant.conf");
        assert!(conf.contains(&format!("VARIANT={name}\n")), "{conf}");
        if name != "base" {
            assert!(conf.contains("PARENT_VARIANT=base\n"), "{conf}");
            assert_eq!(v["base"]["variant"], "base");
        }
        let sysctl = cat(&env, name, "/usr/lib/sysctl.d/50-particle.conf");
        for line in [
            "kernel.printk = 3 4 1 3",
            "vm.swappiness = 1",
            "vm.dirty_ratio = 15",
        ] {
            assert!(
                sysctl.contains(line),
                "{name}: {line:?} missing from\n{sysctl}"
            );
        }
        let initramfs = cat(&env, name, "/usr/etc/initramfs-tools/conf.d/particle.conf");
        for line in ["MODULES=most", "BUSYBOX=y", "COMPRESS=gzip", "KEYMAP=y"] {
            assert!(initramfs.contains(line), "{name}: {line} missing");
        }
    }
    assert!(kargs(&env, "base").is_empty());
    assert!(kargs(&env, "corona").is_empty());
    assert_eq!(
        kargs(&env, "bosom"),
        [
            "iommu=pt",
            "default_hugepagesz=1G",
            "hugepagesz=1G",
            "hugepages=2"
        ]
    );
    assert_eq!(
        kargs(&env, "apex"),
        ["debug", "ignore_loglevel", "log_buf_len=16M"]
    );
    assert_eq!(
        kargs(&env, "euclase"),
        [
            "intel_pstate=passive",
            "cpufreq.default_governor=performance",
            "i915.fastboot=1"
        ]
    );
    let sysctl = cat(&env, "euclase", "/usr/lib/sysctl.d/50-particle.conf");
    assert!(!sysctl.contains("dma_latency"), "{sysctl}");
    for line in [
        "kernel.sched_rt_runtime_us = -1",
        "vm.dirty_writeback_centisecs = 1500",
        "vm.dirty_expire_centisecs = 3000",
        "net.core.rmem_max = 16777216",
        "net.core.wmem_max = 16777216",
    ] {
        assert!(sysctl.contains(line), "euclase: {line:?} missing");
    }
    for (variant, want) in [
        (
            "bosom",
            &[
                "openssh-server",
                "lvm2",
                "mdadm",
                "smartmontools",
                "nvme-cli",
            ][..],
        ),
        ("apex", &["jq", "tree", "vim-tiny"]),
        ("corona", &["dbus-user-session", "xauth"]),
        ("base", &["systemd", "udev", "apt", "busybox"]),
    ] {
        let have = packages_of(&env, variant);
        for p in want {
            assert!(have.contains(&(*p).to_owned()), "{variant}: {p} missing");
        }
    }
    assert!(!packages_of(&env, "base").contains(&"openssh-server".to_owned()));
    // Hardware detected from the machine's /sys and /proc (here a fake tree): an AMD CPU, an
    // NVMe disk, an Intel NIC (no rule). The shipped euclase's AMD CPU rule adds the microcode;
    // no GPU rule matches, so the kernel arguments stay.
    let fake = env.dir.path().join("machine");
    let pci = fake.join("sys/bus/pci/devices/0000:00:1f.6");
    std::fs::create_dir_all(&pci).expect("mkdir");
    for (f, v) in [
        ("class", "0x020000"),
        ("vendor", "0x8086"),
        ("device", "0x15bc"),
    ] {
        std::fs::write(pci.join(f), format!("{v}\n")).expect("write");
    }
    std::fs::create_dir_all(fake.join("sys/block/nvme0n1/queue")).expect("mkdir");
    std::fs::write(fake.join("sys/block/nvme0n1/queue/rotational"), "0\n").expect("write");
    std::fs::create_dir_all(fake.join("sys/bus/pci/drivers/e1000e")).expect("mkdir");
    std::fs::create_dir_all(fake.join("sys/class/net/eno1")).expect("mkdir");
    std::os::unix::fs::symlink(
        "../../../bus/pci/devices/0000:00:1f.6",
        fake.join("sys/class/net/eno1/device"),
    )
    .expect("symlink");
    std::os::unix::fs::symlink("../../../bus/pci/drivers/e1000e", pci.join("driver"))
        .expect("symlink");
    std::fs::create_dir_all(fake.join("proc")).expect("mkdir");
    std::fs::write(
        fake.join("proc/cpuinfo"),
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD Ryzen test\nflags\t\t: fpu sse2 avx2\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n",
    )
    .expect("write");
    let detected = env
        .run_env(
            &[("PARTICLE_HARDWARE_ROOT", fake.to_str().expect("utf-8"))],
            &[
                "--json",
                "txn",
                "hardware",
                "--variant",
                "euclase",
                "--detect",
            ],
        )
        .ok()
        .json();
    assert_eq!(detected["committed"], true, "{detected}");
    assert!(packages_of(&env, "euclase").contains(&"amd64-microcode".to_owned()));
    assert!(!packages_of(&env, "base").contains(&"amd64-microcode".to_owned()));
    assert_eq!(
        kargs(&env, "euclase"),
        [
            "intel_pstate=passive",
            "cpufreq.default_governor=performance",
            "i915.fastboot=1"
        ]
    );
    let seq = detected["txn"].as_u64().expect("seq").to_string();
    let shown = env.run(&["--json", "txn", "show", &seq]).ok().json();
    let hw = &shown["state"]["profile"]["hardware"];
    assert_eq!(hw["cpu"]["vendor"], "AuthenticAMD", "{hw}");
    assert_eq!(hw["cpu"]["count"], 2, "{hw}");
    assert_eq!(hw["storage"][0]["kind"], "nvme", "{hw}");
    assert_eq!(hw["network"][0]["driver"], "e1000e", "{hw}");
    assert_eq!(hw["pci"][0]["vendor"], "0x8086", "{hw}");

    // A rule naming a package no source has: refused at apply, nothing recorded.
    let euclase = std::fs::read_to_string(dir.join("euclase.toml")).expect("read");
    std::fs::write(
        dir.join("euclase.toml"),
        euclase.replace("\"firmware-sof-signed\"", "\"firmware-no-such-thing\""),
    )
    .expect("write");
    let before = head(&env, "euclase");
    let r = env
        .run(&[
            "--json",
            "variant",
            "apply",
            &dir.join("euclase.toml").to_string_lossy(),
        ])
        .fails("bad_definition");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains("firmware-no-such-thing"),
        "{}",
        r.stdout
    );
    assert_eq!(head(&env, "euclase"), before);
    invariants(&env);
}
