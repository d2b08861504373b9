//! particle on the machine it manages, offline (issue #18): the shipped base variant deployed
//! from a build host into a sysroot directory, then transactions run *on the sysroot*
//! (`--sysroot DIR`), as an administrator runs them on the booted system, without a VM. Each
//! acts on the machine's own state directory (`/var/lib/particle` of the stateroot, whose
//! journal starts with an `origin` record) and the sysroot's own repository, and ends in a
//! deployment: install, the cheap rollback, a command killed between recording and deploying
//! (status says so, the next command repairs it), and a `/boot` too small for a new initramfs
//! (refused before anything is recorded). Then updates (#19): publish, upgrade, bundles,
//! policies, and the pull faults on the machine's own disk (a loop-mounted ext4, so the test
//! must run as root): the server killed mid-pull and a full disk, then the resumed pull.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The contents of every file in `dir`, one after another (sysctl.d, the BLS entries).
fn files_in(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

const SKIP_SYNC: [(&str, &str); 2] = [
    ("OSTREE_SYSROOT_OPTS", "skip-sync"),
    // Deployment roots stay mutable, so the temporary directory can be removed (ostree's own
    // tests do the same).
    ("OSTREE_SYSROOT_DEBUG", "mutable-deployments"),
];

#[test]
fn a_machine_installs_rolls_back_and_recovers_on_its_own_sysroot() {
    let (env, commit) = crate::boot::composed_base();
    let host = env.run(&["--json", "status"]).ok().json();
    let host_head = &host["variants"][0];
    let sysroot = env.dir.path().join("machine");
    // The machine's disk: its own file system, so that it can be filled (a full disk during a
    // pull, at the end). Sparse: it takes what is written.
    let disk = LoopFs::mount(&env.dir.path().join("machine.img"), &sysroot, "12G");
    let sys = sysroot.to_str().expect("utf-8").to_owned();
    let on_env = |vars: &[(&str, &str)], args: &[&str]| {
        let mut all: Vec<&str> = vec!["--sysroot", &sys];
        all.extend_from_slice(args);
        let mut v = SKIP_SYNC.to_vec();
        v.extend_from_slice(vars);
        env.run_env(&v, &all)
    };
    let on = |args: &[&str]| on_env(&[], args);

    // Deployed from the build host: the machine's journal starts with the origin.
    let d = env
        .run_env(&SKIP_SYNC, &["--json", "deploy", "--sysroot", &sys])
        .ok()
        .json();
    let machine_root = PathBuf::from(d["machine_root"].as_str().expect("machine_root"));
    assert_eq!(
        machine_root,
        std::fs::canonicalize(&sysroot)
            .expect("sysroot")
            .join("ostree/deploy/particle-os/var/lib/particle")
    );
    let log = on(&["--json", "txn", "log"]).ok().json();
    let entries = log["transactions"].as_array().expect("transactions");
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["kind"], "origin");
    let origin = on(&["--json", "txn", "show", "1"]).ok().json();
    assert_eq!(origin["request"]["kind"], "origin", "{origin}");
    assert_eq!(origin["request"]["seq"], host_head["txn"]);
    assert_eq!(origin["request"]["txn"], host_head["txn_id"]);
    assert_eq!(origin["commit"], commit.as_str());
    let st = on(&["--json", "status"]).ok().json();
    let deps = st["deployments"].as_array().expect("deployments");
    assert_eq!(deps.len(), 1, "{st}");
    assert_eq!(
        (&deps[0]["txn"], &deps[0]["variant"]),
        (&1.into(), &"base".into())
    );
    assert_eq!(deps[0]["txn_id"], origin["id"]);

    // An install on the machine: built on the commit it runs, in the sysroot's repository, and
    // deployed as the new default (offline: at once; booted: staged).
    on(&["repo", "update"]).ok();
    let plan = on(&["--json", "txn", "install", "--dry-run", "jq"])
        .ok()
        .json();
    let download = plan["download_bytes"].as_u64().expect("download_bytes");
    assert!(
        download > 0 && download < 2 << 20,
        "only jq and its libraries are fetched, not the machine's whole set: {plan}"
    );
    let out = on(&["-vv", "--json", "txn", "install", "jq"]).ok();
    assert!(
        out.stderr.contains("materializer overlay:") && !out.stderr.contains("no overlay"),
        "built on an overlay over the deployment, not on a copy: {}",
        out.stderr
    );
    let j = out.json();
    assert_eq!((&j["txn"], &j["kind"]), (&2.into(), &"install".into()));
    assert_eq!(
        (&j["staged"], &j["reboot_required"]),
        (&false.into(), &true.into())
    );
    let installed = j["commit"].as_str().expect("commit").to_owned();
    let st = on(&["--json", "status"]).ok().json();
    let deps = st["deployments"].as_array().expect("deployments").clone();
    assert_eq!(deps.len(), 2, "{st}");
    assert_eq!(deps[0]["commit"], installed.as_str());
    assert_eq!(deps[0]["txn"], 2);
    assert_eq!(deps[1]["commit"], commit.as_str());
    assert_eq!(deps[1]["rollback"], true);
    let path = |d: &serde_json::Value| PathBuf::from(d["path"].as_str().expect("path"));
    assert!(path(&deps[0]).join("usr/bin/jq").exists());
    for program in ["usr/bin/particle", "usr/libexec/particle/particle-full"] {
        assert!(
            path(&deps[0]).join(program).exists(),
            "particle's own package, which no source of the machine offers, is kept: {program}"
        );
    }
    assert!(!path(&deps[1]).join("usr/bin/jq").exists());
    let repo = sysroot.join("ostree/repo");
    assert!(
        repo.join("objects")
            .join(&installed[..2])
            .join(format!("{}.commit", &installed[2..]))
            .exists(),
        "the commit is in the sysroot's own repository"
    );
    let still = env.run(&["--json", "status"]).ok().json();
    assert_eq!(
        still["variants"][0]["commit"],
        commit.as_str(),
        "the build host is unchanged"
    );

    // The cheap rollback: the previous deployment becomes the default, nothing is rebuilt.
    let r = on(&["--json", "txn", "rollback"]).ok().json();
    assert_eq!((&r["txn"], &r["kind"]), (&3.into(), &"rollback".into()));
    assert_eq!(r["commit"], commit.as_str());
    let st = on(&["--json", "status"]).ok().json();
    let now = st["deployments"].as_array().expect("deployments").clone();
    assert_eq!(now.len(), 2, "{st}");
    assert_eq!(now[0]["commit"], commit.as_str());
    assert_eq!(
        path(&now[0]),
        path(&deps[1]),
        "the same deployment, not a new one"
    );
    assert_eq!(now[0]["txn"], 3);
    assert_eq!(now[1]["commit"], installed.as_str());
    assert_eq!(now[1]["rollback"], true);
    on(&["--json", "txn", "cancel"]).fails("nothing_staged");
    let show = on(&["--json", "txn", "show", "3"]).ok().json();
    assert_eq!(show["request"]["to_seq"], 1, "{show}");

    // Killed after recording, before deploying: `status` says so and exits non-zero; the next
    // command deploys the journal's head.
    let killed = on_env(
        &[("PARTICLE_CRASH_AT", "appended")],
        &["txn", "sysctl", "--set", "vm.swappiness=10"],
    );
    assert_ne!(killed.code, 0, "{killed:?}");
    let drift = on(&["--json", "status"]);
    assert_eq!(drift.code, 1, "{drift:?}");
    let problem = drift.json()["problem"]
        .as_str()
        .expect("problem")
        .to_owned();
    assert!(problem.contains("transaction 4"), "{problem}");
    let human = on(&["status"]);
    assert_eq!(human.code, 1);
    assert!(human.stderr.contains("transaction 4"), "{human:?}");
    let repaired = on(&["txn", "install", "--dry-run", "tree"]).ok();
    assert!(
        repaired
            .stderr
            .contains("recovery: transaction 4 was recorded but not deployed"),
        "{repaired:?}"
    );
    let st = on(&["--json", "status"]).ok().json();
    assert_eq!(st["deployments"][0]["txn"], 4, "{st}");
    let sysctl = path(&st["deployments"][0]);
    let conf = files_in(&sysctl.join("usr/lib/sysctl.d"));
    assert!(
        conf.contains("vm.swappiness = 10") || conf.contains("vm.swappiness=10"),
        "{conf}"
    );

    // /boot too small for the new initramfs: refused before anything is recorded or deployed.
    let before_log = on(&["--json", "txn", "log"]).ok().json();
    let before = on(&["--json", "status"]).ok().json();
    {
        let _small = small_boot(&sysroot);
        let e = on(&["--json", "txn", "initramfs", "--set", "COMPRESS=xz"]).fails("no_space");
        let msg = e.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(msg.contains("boot"), "{msg}");
    }
    assert_eq!(on(&["--json", "txn", "log"]).ok().json(), before_log);
    assert_eq!(on(&["--json", "status"]).ok().json(), before);

    let kinds: Vec<String> = on(&["--json", "txn", "log"]).ok().json()["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(kinds, ["origin", "install", "rollback", "sysctl"]);
    // ostree pruned the install's commit with its deployment; verify says so and passes.
    let v = on(&["--json", "txn", "verify"]).ok().json();
    assert_eq!(v["pruned_commits"], 1, "{v}");

    // Any earlier state is rebuilt from the journal: the install's, on the commit the machine
    // has, with only the .debs of what differs.
    let back = on(&["--json", "txn", "rollback", "--to", "2"]).ok().json();
    assert_eq!(
        (&back["txn"], &back["kind"]),
        (&5.into(), &"rollback".into())
    );
    let st = on(&["--json", "status"]).ok().json();
    assert_eq!(st["deployments"][0]["txn"], 5, "{st}");
    assert!(path(&st["deployments"][0]).join("usr/bin/jq").exists());
    on(&["txn", "verify"]).ok();

    // Space: what gc could free and what each deployment holds of its own; gc on a machine
    // leaves ostree's deployments and the journal alone.
    let du = on(&["--json", "du"]).ok().json();
    // /boot's kernel and initramfs are hard links of the repository's objects here (one file
    // system), counted once with the repository: /boot itself holds the menu and the entries.
    assert!(du["boot_bytes"].as_u64().is_some_and(|b| b > 0), "{du}");
    assert!(du["journal_bytes"].as_u64().is_some_and(|b| b > 0), "{du}");
    let listed = du["deployments"].as_array().expect("deployments");
    assert_eq!(listed.len(), 2, "{du}");
    assert!(listed
        .iter()
        .all(|d| d["own_bytes"].as_u64().is_some_and(|b| b > 0)));
    on(&["--json", "gc", "--keep", "1"]).ok();
    assert_eq!(
        on(&["--json", "status"]).ok().json()["deployments"],
        st["deployments"]
    );
    on(&["txn", "verify"]).ok();

    // Updates (#19): the build host publishes, signed; the machine adds the remote and checks.
    let key = TestKey::generate();
    let secret = key.secret_key_file(env.dir.path());
    let keyring = key.keyring.to_string_lossy().into_owned();
    let published = env.dir.path().join("published");
    let publish = || {
        env.run(&[
            "--json",
            "publish",
            "--repo",
            &published.to_string_lossy(),
            "--sign-key",
            &secret.to_string_lossy(),
        ])
        .ok()
        .json()
    };
    publish();
    let old = env.dir.path().join("published-old");
    assert!(Command::new("cp")
        .arg("-a")
        .arg(&published)
        .arg(&old)
        .status()
        .expect("cp")
        .success());
    on(&[
        "remote",
        "add",
        "origin",
        &file_uri(&published),
        "--sign-key",
        &keyring,
    ])
    .ok();
    let c = on(&["--json", "upgrade", "--check"]);
    assert_eq!(c.code, 77, "the machine runs what is published: {c:?}");
    assert_eq!(c.json()["available"], false);

    // A new build-host transaction, published with a static delta.
    env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=1024"])
        .ok();
    let p = publish();
    assert!(p["variants"][0]["delta"].is_string(), "{p}");
    let c = on(&["--json", "upgrade", "--check"]).ok().json();
    assert_eq!(c["available"], true, "{c}");
    let preview = on(&["upgrade", "--preview"]).ok();
    assert!(preview.stderr.contains("net.core.somaxconn"), "{preview:?}");
    // An untrusted key: refused, nothing recorded or deployed.
    let before = on(&["--json", "txn", "log"]).ok().json();
    let deployed = on(&["--json", "status"]).ok().json()["deployments"].clone();
    let other = TestKey::generate();
    on(&[
        "remote",
        "add",
        "evil",
        &file_uri(&published),
        "--sign-key",
        &other.keyring.to_string_lossy(),
    ])
    .ok();
    on(&["--json", "upgrade", "--remote", "evil"]).fails("signature");
    assert_eq!(on(&["--json", "txn", "log"]).ok().json(), before);
    assert_eq!(
        on(&["--json", "status"]).ok().json()["deployments"],
        deployed
    );

    // The upgrade: a new origin, the machine's own jq re-applied on it, deployed.
    let u = on(&["--json", "upgrade", "--remote", "origin"]).ok().json();
    assert_eq!(u["origin"]["txn"], 6, "{u}");
    assert_eq!(u["layered"]["txn"], 7, "{u}");
    assert_eq!(u["layered"]["packages"][0], "jq", "{u}");
    let st = on(&["--json", "status"]).ok().json();
    assert_eq!(st["deployments"][0]["txn"], 7, "{st}");
    let top = path(&st["deployments"][0]);
    assert!(
        top.join("usr/bin/jq").exists(),
        "the machine's package is kept"
    );
    let conf = files_in(&top.join("usr/lib/sysctl.d"));
    assert!(
        conf.contains("net.core.somaxconn"),
        "the new base's setting: {conf}"
    );
    let c = on(&["--json", "upgrade", "--check", "--remote", "origin"]);
    assert_eq!(c.code, 77, "{c:?}");
    // An older publish offered as new: refused unless --allow-downgrade.
    on(&[
        "remote",
        "add",
        "old",
        &file_uri(&old),
        "--sign-key",
        &keyring,
    ])
    .ok();
    on(&["--json", "upgrade", "--remote", "old"]).fails("downgrade");
    let kinds: Vec<String> = on(&["--json", "txn", "log"]).ok().json()["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["origin", "install", "rollback", "sysctl", "rollback", "origin", "install"]
    );
    on(&["txn", "verify"]).ok();

    // Offline: a signed bundle from the transaction the machine runs to a new one.
    env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=2048"])
        .ok();
    let bundle = env.dir.path().join("update.bundle");
    let b = bundle.to_string_lossy().into_owned();
    env.run(&[
        "bundle",
        "3",
        "4",
        &b,
        "--sign-key",
        &secret.to_string_lossy(),
    ])
    .ok();
    let stale = env.dir.path().join("stale.bundle");
    env.run(&[
        "bundle",
        "1",
        "2",
        &stale.to_string_lossy(),
        "--sign-key",
        &secret.to_string_lossy(),
    ])
    .ok();
    let before = on(&["--json", "txn", "log"]).ok().json();
    on(&["--json", "upgrade", "--bundle", &stale.to_string_lossy()]).fails("bad_bundle");
    // Signed by the trusted key but forged: the index says it leads from transaction 3 (what
    // the machine runs), the segment is the records after 1. A bundle of the older format,
    // which carried the whole journal. The good bundle signed by a key the machine does not
    // trust.
    let forge =
        |name: &str, signer: &TestKey, kind: &str, edit: &dyn Fn(&Path, &mut serde_json::Value)| {
            let dir = unpack_bundle(&bundle, &env.dir.path().join(name));
            let index = dir.join("bundle.json");
            let mut json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&index).expect("read")).expect("json");
            edit(&dir, &mut json);
            std::fs::write(&index, serde_json::to_vec_pretty(&json).expect("json")).expect("write");
            signer.detach_sign(&index, &dir.join("bundle.json.sig"));
            let out = pack_bundle(&dir, &env.dir.path().join(format!("{name}.bundle")));
            on(&["--json", "upgrade", "--bundle", &out.to_string_lossy()])
                .fails(kind)
                .json()["error"]["message"]
                .as_str()
                .expect("message")
                .to_owned()
        };
    let message = forge("forged", &key, "bad_bundle", &|dir, json| {
        let other = unpack_bundle(&stale, &dir.with_extension("stale"));
        std::fs::copy(other.join("records"), dir.join("records")).expect("copy");
        let theirs: serde_json::Value =
            serde_json::from_slice(&std::fs::read(other.join("bundle.json")).expect("read"))
                .expect("json");
        json["journal"] = theirs["journal"].clone();
    });
    assert!(message.contains("does not continue"), "{message}");
    let message = forge("format-1", &key, "bad_bundle", &|_, json| {
        json["format"] = 1.into()
    });
    assert!(message.contains("format 1"), "{message}");
    forge("untrusted", &TestKey::generate(), "signature", &|_, _| ());
    let broken = env.dir.path().join("broken.bundle");
    let mut bytes = std::fs::read(&bundle).expect("bundle");
    let at = bytes.len() - 2000;
    bytes[at] ^= 1;
    std::fs::write(&broken, bytes).expect("write");
    let e = on(&["--json", "upgrade", "--bundle", &broken.to_string_lossy()]);
    assert_eq!(e.code, 1, "a damaged bundle is refused: {e:?}");
    assert_eq!(
        on(&["--json", "txn", "log"]).ok().json(),
        before,
        "nothing recorded"
    );
    let u = on(&["--json", "upgrade", "--bundle", &b]).ok().json();
    assert_eq!(u["signature_checked"], true, "{u}");
    assert_eq!(
        (&u["origin"]["txn"], &u["layered"]["txn"]),
        (&8.into(), &9.into())
    );
    on(&["--json", "upgrade", "--bundle", &b]).fails("same_commit");
    on(&["txn", "verify"]).ok();

    // Automatic updates: the policy in the default deployment's /etc decides what the timer's
    // `upgrade --auto` does; none (also without the file) changes nothing.
    let before = on(&["--json", "txn", "log"]).ok().json();
    let a = on(&["--json", "upgrade", "--auto"]).ok().json();
    assert_eq!(a["policy"], "none", "{a}");
    let st = on(&["--json", "status"]).ok().json();
    let conf = path(&st["deployments"][0]).join("etc/particle/updates.conf");
    std::fs::create_dir_all(conf.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &conf,
        "# checked by the test\npolicy = check\nremote = origin\n",
    )
    .expect("write");
    let a = on(&["--json", "upgrade", "--auto"]).ok().json();
    assert_eq!(a["remote"], "origin", "{a}");
    assert_eq!(
        (&a["available"], &a["older"]),
        (&false.into(), &true.into()),
        "the remote still publishes transaction 3, the bundle brought 4: {a}"
    );
    std::fs::write(&conf, "policy = sometimes\n").expect("write");
    on(&["--json", "upgrade", "--auto"]).fails("machine_state");
    assert_eq!(on(&["--json", "txn", "log"]).ok().json(), before);

    // An upgrade killed right after recording its origin: recovery leaves the bare origin
    // undeployed (it lacks the machine's own jq), and the next `upgrade` puts jq back on it and
    // deploys that.
    env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=4096"])
        .ok();
    publish();
    let killed = on_env(
        &[("PARTICLE_CRASH_AT", "appended")],
        &["upgrade", "--remote", "origin"],
    );
    assert_ne!(killed.code, 0, "{killed:?}");
    assert_eq!(
        on(&["--json", "status"]).code,
        1,
        "the origin is not deployed yet"
    );
    let r = on(&["upgrade", "--remote", "origin"]).ok();
    assert!(
        r.stderr.contains(
            "recovery: transaction 10, the new base of an interrupted upgrade, is not deployed"
        ) && r.stderr.contains("re-applying this machine's own packages"),
        "{r:?}"
    );
    let log = on(&["--json", "txn", "log"]).ok().json();
    let kinds: Vec<(u64, String)> = log["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| {
            (
                t["seq"].as_u64().unwrap_or(0),
                t["kind"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        [(10, "origin".to_owned()), (11, "install".to_owned())],
        "{log}"
    );
    let st = on(&["--json", "status"]).ok().json();
    assert_eq!(st["deployments"][0]["txn"], 11, "{st}");
    assert!(path(&st["deployments"][0]).join("usr/bin/jq").exists());

    // The machine's own profile settings come along too: a kernel argument and a sysctl key
    // set on the machine are re-applied on the next upgrade, each in its own record.
    on(&["txn", "kargs", "--append", "particle.machine=1"]).ok();
    on(&["txn", "sysctl", "--set", "vm.swappiness=7"]).ok();
    env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=2048"])
        .ok();
    publish();
    let u = on(&["--json", "upgrade", "--remote", "origin"]).ok().json();
    assert_eq!(u["origin"]["txn"], 14, "{u}");
    let log = on(&["--json", "txn", "log"]).ok().json();
    let kinds: Vec<String> = log["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        kinds[kinds.len() - 4..],
        ["origin", "install", "kargs", "sysctl"],
        "{log}"
    );
    let st = on(&["--json", "status"]).ok().json();
    assert_eq!(st["deployments"][0]["txn"], 17, "{st}");
    let top = path(&st["deployments"][0]);
    assert!(top.join("usr/bin/jq").exists());
    let conf = files_in(&top.join("usr/lib/sysctl.d"));
    assert!(
        conf.contains("vm.swappiness = 7") && conf.contains("net.core.somaxconn = 2048"),
        "{conf}"
    );
    let entries = files_in(&sysroot.join("boot/loader/entries"));
    assert!(entries.contains("particle.machine=1"), "{entries}");

    // Hardware belongs to the machine: detected on it (here a fake /sys with an NVMe disk),
    // recorded in its own journal, and the shipped base's rule, which came with the variant's
    // definitions from the build host, adds nvme-cli.
    let fake = env.dir.path().join("machine-hw");
    std::fs::create_dir_all(fake.join("sys/block/nvme0n1/queue")).expect("mkdir");
    std::fs::write(fake.join("sys/block/nvme0n1/queue/rotational"), "0\n").expect("write");
    std::fs::create_dir_all(fake.join("proc")).expect("mkdir");
    std::fs::write(
        fake.join("proc/cpuinfo"),
        "processor\t: 0\nvendor_id\t: GenuineIntel\n",
    )
    .expect("write");
    let h = on_env(
        &[("PARTICLE_HARDWARE_ROOT", fake.to_str().expect("utf-8"))],
        &["--json", "txn", "hardware", "--detect"],
    )
    .ok()
    .json();
    assert_eq!(h["txn"], 18, "{h}");
    assert!(
        h["added"]
            .as_array()
            .expect("added")
            .iter()
            .any(|p| p["name"] == "nvme-cli"),
        "{h}"
    );
    let shown = on(&["--json", "txn", "show", "18"]).ok().json();
    assert_eq!(
        shown["state"]["profile"]["hardware"]["storage"][0]["kind"], "nvme",
        "{shown}"
    );
    let st = on(&["--json", "status"]).ok().json();
    assert_eq!(st["deployments"][0]["txn"], 18, "{st}");
    assert!(path(&st["deployments"][0]).join("usr/sbin/nvme").exists());
    on(&["txn", "verify"]).ok();

    let faults = PullFaults {
        env: &env,
        sysroot: &sysroot,
        disk: &disk,
        published: &published,
        keyring: &keyring,
        secret: &secret,
    };
    faults.a_failed_pull_changes_nothing_and_the_next_one_resumes(&on, &publish);

    // An upgrade killed right after recording its origin, on a machine with its own packages
    // and profile settings: the next `upgrade` re-applies both, the settings too.
    env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=1024"])
        .ok();
    publish();
    let killed = on_env(
        &[("PARTICLE_CRASH_AT", "appended")],
        &["upgrade", "--remote", "origin"],
    );
    assert_ne!(killed.code, 0, "{killed:?}");
    let origin_seq = on(&["--json", "txn", "log"]).ok().json()["transactions"]
        .as_array()
        .and_then(|t| t.last().cloned())
        .expect("the origin")["seq"]
        .as_u64()
        .expect("seq");
    // Until the upgrade is finished, its new base is not deployed by another command (that
    // would drop the machine's own packages and settings from the next boot) and nothing is
    // built on it (that would lose them for good).
    let interrupted = on(&["--json", "status"]);
    assert_eq!(interrupted.code, 1, "{interrupted:?}");
    let st = interrupted.json();
    assert!(
        st["problem"]
            .as_str()
            .is_some_and(|p| p.contains("upgrade was interrupted")),
        "{st}"
    );
    let runs = st["deployments"][0]["commit"].clone();
    let e = on(&["--json", "txn", "install", "tree"]).fails("machine_state");
    let hint = e.json()["error"]["hint"].as_str().unwrap_or("").to_owned();
    assert!(hint.contains("particle upgrade"), "{hint}");
    assert!(hint.contains(&format!("--to {}", origin_seq - 1)), "{hint}");
    let still = on(&["--json", "status"]).json();
    assert_eq!(still["deployments"][0]["commit"], runs, "{still}");
    assert_eq!(
        still["deployments"].as_array().map(Vec::len),
        st["deployments"].as_array().map(Vec::len)
    );
    on(&["upgrade", "--remote", "origin"]).ok();
    let log = on(&["--json", "txn", "log"]).ok().json();
    let after: Vec<String> = log["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .filter(|t| t["seq"].as_u64().unwrap_or(0) > origin_seq)
        .map(|t| t["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(after, ["install", "kargs", "sysctl"], "{log}");
    let st = on(&["--json", "status"]).ok().json();
    let top = path(&st["deployments"][0]);
    let conf = files_in(&top.join("usr/lib/sysctl.d"));
    assert!(
        conf.contains("vm.swappiness = 7") && conf.contains("net.core.somaxconn = 1024"),
        "{conf}"
    );
    assert!(top.join("usr/bin/jq").exists());
    let entries = files_in(&sysroot.join("boot/loader/entries"));
    assert!(entries.contains("particle.machine=1"), "{entries}");
    // Nothing is left to re-apply: the next upgrade finds the machine up to date.
    let c = on(&["upgrade", "--check", "--remote", "origin"]);
    assert_eq!(c.code, 77, "{c:?}");
    on(&["txn", "verify"]).ok();

    // A bundle of another variant (bosom, built on the build host) is refused, nothing changed.
    let created = env
        .run(&["--json", "variant", "create", "bosom", "--from", "base"])
        .ok()
        .json();
    let sysctl = env
        .run(&[
            "--json",
            "txn",
            "sysctl",
            "--variant",
            "bosom",
            "--set",
            "vm.swappiness=5",
        ])
        .ok()
        .json();
    let other = env.dir.path().join("bosom.bundle");
    let (from, to) = (created["txn"].to_string(), sysctl["txn"].to_string());
    let key = secret.to_string_lossy();
    env.run(&[
        "bundle",
        &from,
        &to,
        &other.to_string_lossy(),
        "--sign-key",
        &key,
    ])
    .ok();
    let (log, st) = (
        on(&["--json", "txn", "log"]).ok().json(),
        on(&["--json", "status"]).ok().json(),
    );
    let e = on(&["--json", "upgrade", "--bundle", &other.to_string_lossy()]).fails("bad_bundle");
    let message = e.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(message.contains("a bundle for bosom"), "{message}");
    assert_eq!(on(&["--json", "txn", "log"]).ok().json(), log);
    assert_eq!(on(&["--json", "status"]).ok().json(), st);

    faults.bad_updates_change_nothing_and_a_good_one_takes_the_delta(&on, &publish);
}

/// What the pull faults act on: the build host, the machine, its disk and the published
/// repository with the publisher's keyring.
struct PullFaults<'a> {
    env: &'a Env,
    sysroot: &'a Path,
    disk: &'a LoopFs,
    published: &'a Path,
    keyring: &'a str,
    /// The publisher's secret key (bundles are signed with it).
    secret: &'a Path,
}

/// The objects in the repository's staging directories, where libostree keeps what a pull
/// wrote until the pull completes, as `CHECKSUM.KIND` (`file`, `dirtree`, `commit`, ...).
fn staged_objects(repo: &Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for stage in std::fs::read_dir(repo.join("tmp"))
        .expect("repo/tmp")
        .flatten()
    {
        if !stage.file_name().to_string_lossy().starts_with("staging-") {
            continue;
        }
        for sub in std::fs::read_dir(stage.path()).expect("staging").flatten() {
            let prefix = sub.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !sub.path().is_dir() {
                continue;
            }
            for obj in std::fs::read_dir(sub.path()).expect("objects").flatten() {
                let name = obj.file_name().to_string_lossy().into_owned();
                out.insert(format!("{prefix}{name}"));
            }
        }
    }
    out
}

/// What a fault must leave as it was: the machine's journal, its deployments, its boot entries.
type MachineNow = (serde_json::Value, serde_json::Value, String);

impl PullFaults<'_> {
    fn now(&self, on: &dyn Fn(&[&str]) -> Run) -> MachineNow {
        (
            on(&["--json", "txn", "log"]).ok().json(),
            on(&["--json", "status"]).ok().json(),
            files_in(&self.sysroot.join("boot/loader/entries")),
        )
    }

    /// The machine is as `before` (after `what`), and `txn verify` passes.
    fn unchanged(&self, on: &dyn Fn(&[&str]) -> Run, before: &MachineNow, what: &str) {
        let now = self.now(on);
        assert_eq!(now.0, before.0, "{what}: the journal is unchanged");
        assert_eq!(now.1, before.1, "{what}: the deployments are unchanged");
        assert_eq!(now.2, before.2, "{what}: the boot entries are unchanged");
        on(&["txn", "verify"]).ok();
    }
    /// Issue #19's pull faults, offline: a full disk during the pull, then the server killed
    /// in the middle of one. Each is a clear error with nothing changed (the journal, the
    /// deployments and the boot entries as they were, `txn verify` passes); the upgrade after
    /// them succeeds and resumes: libostree keeps the objects the killed pull wrote in the
    /// repository's staging directory and does not fetch them again. (A pull stopped for lack
    /// of space is different: libostree removes its staging directory to give the space back,
    /// so the disk comes first here.)
    fn a_failed_pull_changes_nothing_and_the_next_one_resumes(
        &self,
        on: &dyn Fn(&[&str]) -> Run,
        publish: &dyn Fn() -> serde_json::Value,
    ) {
        let env = self.env;
        // The build host publishes twice (hello, then a sysctl key) while the machine pulls
        // neither: the second publish's static delta starts at the first, which the machine
        // does not have, so it pulls object by object, as a machine that missed a publish
        // does. (A machine that has the delta's start pulls the delta: a server killed during
        // a delta part makes the next pull fetch that part again and skip the parts already
        // applied.)
        env.run(&["txn", "install", "hello"]).ok();
        publish();
        env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=512"])
            .ok();
        let p = publish();
        let target = p["variants"][0]["commit"]
            .as_str()
            .expect("commit")
            .to_owned();
        let repo = self.sysroot.join("ostree/repo");
        let now = || self.now(on);
        let before = now();
        let unchanged_since = |before: &MachineNow, what: &str| self.unchanged(on, before, what);
        let unchanged = |what: &str| unchanged_since(&before, what);

        // 1. The machine's disk is full: ostree keeps a reserve of 3 % free
        //    (`min-free-space-percent`) and stops the pull at its first file.
        let first_log = env.dir.path().join("pull-full.log");
        let server = HttpServer::start(self.published, "", &first_log);
        let port = server.port;
        on(&[
            "remote",
            "add",
            "web",
            &format!("http://127.0.0.1:{port}"),
            "--sign-key",
            self.keyring,
        ])
        .ok();
        let (total, _, block) = self.disk.blocks();
        let reserve = total * 3 / 100 * block;
        let filler = self.sysroot.join("filler");
        // The disk filled (by one file, `filler`) until `left` bytes are available.
        let fill_leaving = |left: u64| {
            let (_, avail, block) = self.disk.blocks();
            let fill = (avail * block).saturating_sub(left);
            let out = Command::new("fallocate")
                .args(["-l", &fill.to_string()])
                .arg(&filler)
                .output()
                .expect("fallocate");
            assert!(out.status.success(), "{out:?}");
        };
        fill_leaving(reserve / 2);
        let e = on(&["--json", "upgrade", "--remote", "web"])
            .fails("no_space")
            .json();
        let message = e["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("could not pull") && message.contains(&target[..12]),
            "{e}"
        );
        let hint = e["error"]["hint"].as_str().unwrap_or("");
        assert!(hint.contains("free space"), "{e}");
        assert!(
            !objects_in_log(&first_log, "GET").is_empty(),
            "the pull had begun: {}",
            std::fs::read_to_string(&first_log).unwrap_or_default()
        );
        unchanged("a full disk");
        std::fs::remove_file(&filler).expect("remove the filler");
        drop(server);

        // 2. The server dies after sending 8 objects whole, cutting the 9th.
        let dying_log = env.dir.path().join("pull-dying.log");
        let server = HttpServer::dying(self.published, &dying_log, port, 8, "/objects/");
        let e = on(&["--json", "upgrade", "--remote", "web"])
            .fails("fetch")
            .json();
        let message = e["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("could not pull") && message.contains(&target[..12]),
            "{e}"
        );
        let hint = e["error"]["hint"].as_str().unwrap_or("");
        assert!(hint.contains("resumes"), "{e}");
        let log = std::fs::read_to_string(&dying_log).expect("the server's log");
        assert!(log.contains("DIED /objects/"), "{log}");
        assert_eq!(objects_in_log(&dying_log, "SENT").len(), 8, "{log}");
        unchanged("a server killed mid-pull");
        let kept = staged_objects(&repo);
        assert!(
            !kept.is_empty(),
            "the objects written before the server died are kept in the staging directory"
        );
        drop(server);

        // 3. The server is back on the same port: the upgrade succeeds, and no object kept
        //    from the killed pull is fetched again. (The commit's detached metadata, its
        //    signatures, is: libostree reads it afresh on every pull, to verify.)
        let back_log = env.dir.path().join("pull-back.log");
        let _server = HttpServer::on_port(self.published, &back_log, port);
        let u = on(&["--json", "upgrade", "--remote", "web"]).ok().json();
        assert_eq!(
            (&u["commit"], &u["origin"]["txn"]),
            (&target.as_str().into(), &19.into()),
            "{u}"
        );
        let fetched = objects_in_log(&back_log, "GET");
        let again: Vec<&String> = fetched
            .iter()
            .filter(|o| kept.contains(*o) && !o.ends_with(".commitmeta"))
            .collect();
        assert!(
            kept.iter().any(|o| o.ends_with(".commit")),
            "the killed pull had written the commit: {kept:?}"
        );
        assert!(
            again.is_empty(),
            "objects the killed pull wrote were fetched again: {again:?}"
        );
        assert!(!fetched.is_empty(), "the rest was fetched object by object");
        let st = on(&["--json", "status"]).ok().json();
        let top = PathBuf::from(st["deployments"][0]["path"].as_str().expect("path"));
        assert!(top.join("usr/bin/hello").exists(), "the new base: {st}");
        assert!(top.join("usr/bin/jq").exists(), "the machine's own jq");
        let c = on(&["--json", "upgrade", "--check", "--remote", "web"]);
        assert_eq!(c.code, 77, "{c:?}");
        on(&["txn", "verify"]).ok();

        // 4. The next base is downloaded, then the disk fills to 16 MiB above what the
        //    repository keeps free: room for nothing more than the pull, not for the deployment
        //    and the commit of the machine's own jq on the new base. Refused before the origin
        //    is recorded (it used to be recorded, then the commit failed), nothing changed;
        //    with the space back the upgrade goes through.
        env.run(&["txn", "install", "tree"]).ok();
        publish();
        on(&["upgrade", "--download-only", "--remote", "web"]).ok();
        let before = now();
        fill_leaving(reserve + (16 << 20));
        let e = on(&["--json", "upgrade", "--remote", "web"])
            .fails("no_space")
            .json();
        let message = e["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("own packages") && message.contains("keeps"),
            "{e}"
        );
        unchanged_since(
            &before,
            "no room for the machine's own packages: no origin recorded",
        );
        std::fs::remove_file(&filler).expect("remove the filler");
        let u = on(&["--json", "upgrade", "--remote", "web"]).ok().json();
        let st = on(&["--json", "status"]).ok().json();
        let top = PathBuf::from(st["deployments"][0]["path"].as_str().expect("path"));
        assert!(top.join("usr/bin/tree").exists(), "the new base: {u}");
        assert!(
            top.join("usr/bin/jq").exists(),
            "the machine's own jq: {st}"
        );
        on(&["txn", "verify"]).ok();
    }

    /// Issue #19's bad input through `particle upgrade`, each refused with nothing changed (the
    /// journal, the deployments, the boot entries; `txn verify` passes): one flipped byte in
    /// the offered commit object, its signatures (detached metadata), the summary, the
    /// summary's signature, the index, the index's signature, the journal, a static delta
    /// part. Then what a good update does: `--preview` reads only `particle/` (no tree), the
    /// pull takes the static delta (no content object fetched alone), `--download-only` leaves
    /// the journal and the deployments alone, and an older publish is taken with
    /// `--allow-downgrade` (refused without).
    fn bad_updates_change_nothing_and_a_good_one_takes_the_delta(
        &self,
        on: &dyn Fn(&[&str]) -> Run,
        publish: &dyn Fn() -> serde_json::Value,
    ) {
        let env = self.env;
        let dir = env.dir.path();
        let commit_of = |p: &serde_json::Value| {
            p["variants"]
                .as_array()
                .and_then(|v| v.iter().find(|v| v["variant"] == "base"))
                .and_then(|v| v["commit"].as_str())
                .expect("base is published")
                .to_owned()
        };
        // P0, what the machine runs; P1 (a delta from P0); P2 (a delta from P1, which the
        // machine does not have: its pull goes object by object, reading the commit object).
        let prev = dir.join("published-p0");
        snapshot(self.published, &prev);
        let p0 = commit_of(
            &serde_json::from_slice::<serde_json::Value>(
                &std::fs::read(prev.join("particle/published.json")).expect("index"),
            )
            .expect("JSON"),
        );
        env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=4096"])
            .ok();
        let p1 = commit_of(&publish());
        let one = dir.join("published-p1");
        snapshot(self.published, &one);
        env.run(&["txn", "sysctl", "--set", "net.core.somaxconn=8192"])
            .ok();
        let published = publish();
        let p2 = commit_of(&published);
        let variants = |p: &serde_json::Value| -> Vec<(String, String)> {
            p["variants"]
                .as_array()
                .expect("variants")
                .iter()
                .map(|v| {
                    (
                        v["variant"].as_str().unwrap_or("").to_owned(),
                        v["commit"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        };
        let both = variants(&published);
        assert_eq!(
            both.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(),
            ["base", "bosom"],
            "every variant with a transaction is published: {published}"
        );
        // Publishing one variant keeps the other's entry as it was.
        let only = env
            .run(&[
                "--json",
                "publish",
                "--variant",
                "bosom",
                "--repo",
                &self.published.to_string_lossy(),
                "--sign-key",
                &self.secret.to_string_lossy(),
            ])
            .ok()
            .json();
        assert_eq!(variants(&only), both, "{only}");
        let now = || self.now(on);
        let before = now();
        let unchanged = |what: &str| self.unchanged(on, &before, what);
        let object = |c: &str, kind: &str| format!("objects/{}/{}.{kind}", &c[..2], &c[2..]);
        let index = serde_json::from_slice::<serde_json::Value>(
            &std::fs::read(self.published.join("particle/published.json")).expect("index"),
        )
        .expect("JSON");
        let journal = format!(
            "particle/{}",
            index["journal"]["path"].as_str().expect("path")
        );
        let text = std::fs::read(self.published.join("particle/published.json")).expect("index");
        let signature = format!(
            "particle/signatures/{}.sig",
            store::Sha256::of(&text).to_hex()
        );
        // The largest part of the P0 to P1 delta: what P1 has under deltas/ and P0 had not.
        let delta = largest_file(&one.join("deltas"), &prev);
        let delta = delta.strip_prefix(&one).expect("inside").to_owned();
        // libostree pulls from a `file://` remote object by object, never through a delta: the
        // damaged delta is served over HTTP.
        let cases: [(&str, &Path, String, &str); 8] = [
            ("commit", self.published, object(&p2, "commit"), "ostree"),
            (
                "commitmeta",
                self.published,
                object(&p2, "commitmeta"),
                "ostree",
            ),
            ("summary", self.published, "summary".into(), "ostree"),
            (
                "summary-sig",
                self.published,
                "summary.sig".into(),
                "ostree",
            ),
            (
                "index",
                self.published,
                "particle/published.json".into(),
                "signature",
            ),
            ("index-sig", self.published, signature, "signature"),
            ("journal", self.published, journal, "hash_mismatch"),
            (
                "delta",
                &one,
                delta.to_string_lossy().into_owned(),
                "ostree",
            ),
        ];
        for (name, from, file, kind) in cases {
            let bad = dir.join(format!("bad-{name}"));
            snapshot(from, &bad);
            flip(&bad.join(&file));
            let server = (name == "delta")
                .then(|| HttpServer::start(&bad, "", &dir.join(format!("bad-{name}.log"))));
            let url = server.as_ref().map_or_else(
                || file_uri(&bad),
                |s| format!("http://127.0.0.1:{}", s.port),
            );
            on(&[
                "remote",
                "add",
                &format!("bad-{name}"),
                &url,
                "--sign-key",
                self.keyring,
            ])
            .ok();
            let e = on(&["--json", "upgrade", "--remote", &format!("bad-{name}")]);
            assert_eq!(e.code, 1, "a flipped byte in {file}: {e:?}");
            assert_eq!(
                e.json()["error"]["kind"],
                kind,
                "a flipped byte in {file}: {}",
                e.stdout
            );
            unchanged(&format!("a flipped byte in {file}"));
        }

        // P1 over HTTP from a server killed while it sends the delta's part (after its
        // superblock): `fetch`, nothing changed.
        let log = dir.join("pull-delta-killed.log");
        let server = HttpServer::dying(&one, &log, 0, 1, "/deltas/");
        let port = server.port;
        on(&[
            "remote",
            "add",
            "p1",
            &format!("http://127.0.0.1:{port}"),
            "--sign-key",
            self.keyring,
        ])
        .ok();
        on(&["--json", "upgrade", "--download-only", "--remote", "p1"]).fails("fetch");
        let requests = std::fs::read_to_string(&log).expect("log");
        assert!(requests.contains("DIED /deltas/"), "{requests}");
        unchanged("a server killed in the middle of a delta part");
        drop(server);

        // The good P1 over HTTP, on the same port: the preview reads only particle/, the
        // download takes the delta (its part fetched again) and records nothing.
        let log = dir.join("pull-delta.log");
        let _server = HttpServer::on_port(&one, &log, port);
        let preview = on(&["upgrade", "--preview", "--remote", "p1"]).ok();
        assert!(preview.stderr.contains("4096"), "{preview:?}");
        let requests = std::fs::read_to_string(&log).expect("log");
        assert!(
            requests
                .lines()
                .filter(|l| l.starts_with("GET "))
                .all(|l| l.starts_with("GET /particle/")),
            "the preview fetched no tree:\n{requests}"
        );
        unchanged("--preview");
        on(&["upgrade", "--download-only", "--remote", "p1"]).ok();
        unchanged("--download-only");
        let repo = self.sysroot.join("ostree/repo");
        assert!(repo.join(object(&p1, "commit")).exists(), "downloaded");
        let requests = std::fs::read_to_string(&log).expect("log");
        assert!(requests.contains("GET /deltas/"), "{requests}");
        let alone: Vec<String> = objects_in_log(&log, "GET")
            .into_iter()
            .filter(|o| o.ends_with(".file") || o.ends_with(".dirtree"))
            .collect();
        assert!(alone.is_empty(), "fetched beside the delta: {alone:?}");
        let u = on(&["--json", "upgrade", "--remote", "p1"]).ok().json();
        assert_eq!(u["commit"], p1.as_str(), "{u}");

        // P0, older: refused, then taken with --allow-downgrade (the machine's own packages
        // and settings re-applied on it).
        on(&[
            "remote",
            "add",
            "p0",
            &file_uri(&prev),
            "--sign-key",
            self.keyring,
        ])
        .ok();
        on(&["--json", "upgrade", "--remote", "p0"]).fails("downgrade");
        let u = on(&["--json", "upgrade", "--remote", "p0", "--allow-downgrade"])
            .ok()
            .json();
        assert_eq!(u["commit"], p0.as_str(), "{u}");
        let st = on(&["--json", "status"]).ok().json();
        let top = PathBuf::from(st["deployments"][0]["path"].as_str().expect("path"));
        assert!(
            top.join("usr/bin/jq").exists(),
            "the machine's own jq: {st}"
        );
        let conf = files_in(&top.join("usr/lib/sysctl.d"));
        assert!(conf.contains("vm.swappiness = 7"), "{conf}");
        assert!(!conf.contains("4096"), "P0's base: {conf}");
        on(&["txn", "verify"]).ok();

        // Bundles from P0: one byte flipped in the signature of the index, or in the delta,
        // is refused with nothing changed.
        let host_log = env.run(&["--json", "txn", "log"]).ok().json();
        let base_txns: Vec<(u64, String)> = host_log["transactions"]
            .as_array()
            .expect("transactions")
            .iter()
            .filter(|t| t["variant"] == "base")
            .map(|t| {
                (
                    t["seq"].as_u64().expect("seq"),
                    t["commit"].as_str().expect("commit").to_owned(),
                )
            })
            .collect();
        let seq_of = |c: &str| {
            base_txns
                .iter()
                .find(|(_, commit)| commit == c)
                .map(|(s, _)| *s)
                .expect("a base transaction")
        };
        let (s0, s2) = (seq_of(&p0), seq_of(&p2));
        let key = self.secret.to_string_lossy().into_owned();
        let bundle = |from: u64, to: u64, name: &str| {
            let out = dir.join(name);
            env.run(&[
                "bundle",
                &from.to_string(),
                &to.to_string(),
                &out.to_string_lossy(),
                "--sign-key",
                &key,
            ])
            .ok();
            out
        };
        let forward = bundle(s0, s2, "p0-p2.bundle");
        let before = now();
        for (member, kind) in [
            ("bundle.json.sig", "signature"),
            ("delta", "hash_mismatch"),
            ("records", "hash_mismatch"),
        ] {
            let unpacked = unpack_bundle(&forward, &dir.join(format!("unpacked-{member}")));
            flip(&unpacked.join(member));
            let damaged = pack_bundle(&unpacked, &dir.join(format!("damaged-{member}.bundle")));
            on(&["--json", "upgrade", "--bundle", &damaged.to_string_lossy()]).fails(kind);
            let after = now();
            assert_eq!(after, before, "a flipped byte in the bundle's {member}");
        }
        // A bundle leading back to an older transaction is not built (`upgrade --bundle`
        // would refuse it as `downgrade` before applying its delta).
        let older = base_txns.first().expect("base transactions").0;
        let back = dir.join("back.bundle");
        let e = env.run(&[
            "bundle",
            &s0.to_string(),
            &older.to_string(),
            &back.to_string_lossy(),
        ]);
        assert_ne!(e.code, 0, "{e:?}");
        assert!(e.stderr.contains("is not an earlier state"), "{e:?}");
        assert!(!back.exists());
    }
}

/// `from` copied to `to` with hard links (cheap; a file replaced by rename in either stays
/// whole in the other).
fn snapshot(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-al")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(ok.success(), "cp -al {} {}", from.display(), to.display());
}

/// The members of `bundle` unpacked into `dir`.
fn unpack_bundle(bundle: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    sh_ok(
        Command::new("tar")
            .arg("-xf")
            .arg(bundle)
            .arg("-C")
            .arg(dir),
    );
    dir.to_owned()
}

/// The bundle `out` made of the members in `dir`.
fn pack_bundle(dir: &Path, out: &Path) -> PathBuf {
    sh_ok(
        Command::new("tar")
            .arg("-cf")
            .arg(out)
            .arg("-C")
            .arg(dir)
            .args(["bundle.json", "bundle.json.sig", "delta", "records"]),
    );
    out.to_owned()
}

fn sh_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

/// One byte in the middle of `file` flipped, in a new file (its hard links keep the original).
fn flip(file: &Path) {
    let mut bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::remove_file(file).expect("unlink");
    std::fs::write(file, bytes).expect("write");
}

/// The largest file under `dir` (in a repository) that the repository `other` lacks.
fn largest_file(dir: &Path, other: &Path) -> PathBuf {
    let repo = dir.parent().expect("a repository");
    let mut best = (0, PathBuf::new());
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let m = e.metadata().expect("metadata");
            let rel = e.path().strip_prefix(repo).expect("inside").to_owned();
            if m.is_dir() {
                stack.push(e.path());
            } else if m.len() > best.0 && !other.join(rel).exists() {
                best = (m.len(), e.path());
            }
        }
    }
    best.1
}

/// `/boot` of `sysroot` replaced, for the guard's life, by a tmpfs holding the same files with
/// 2 MiB to spare: too little for another kernel and initramfs.
fn small_boot(sysroot: &Path) -> Tmpfs {
    let boot = sysroot.join("boot");
    let keep = sysroot.join("boot.saved");
    let cp = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).expect("mkdir");
        let ok = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", from.display()))
            .arg(to)
            .status()
            .expect("cp");
        assert!(ok.success());
    };
    cp(&boot, &keep);
    let du = std::process::Command::new("du")
        .args(["-sk"])
        .arg(&keep)
        .output()
        .expect("du");
    let used: u64 = String::from_utf8_lossy(&du.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("du -sk");
    let t = Tmpfs::mount(&boot, &format!("{}k", used + 2048));
    cp(&keep, &boot);
    t
}
