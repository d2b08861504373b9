//! Delivery end to end on the real mirror: a variant without a kernel is refused; the real
//! `linux-image-amd64` and `initramfs-tools` are deployed into a sysroot in a temporary directory
//! twice (the recorded kernel arguments in the BLS entry, the previous deployment kept as the
//! rollback entry, `/etc` merged); the OCI export is read by skopeo and is bit-identical when
//! repeated; a static delta is applied offline to a repository that holds only the first commit.
//! Three composes in all (no kernel, kernel, kernel arguments).

use crate::common::*;
use std::collections::BTreeMap;
use std::path::Path;

/// `ostree admin` freezes and thaws the file system of `SYSROOT/boot` to flush it (FIFREEZE);
/// the temporary sysroot is on the machine's root file system, which a test must not freeze.
const NO_FREEZE: (&str, &str) = ("OSTREE_SYSROOT_OPTS", "skip-sync");
/// `ostree admin deploy` marks each deployment's root immutable (`chattr +i`), which would make
/// the temporary directory impossible to remove; ostree's own tests turn that off like this.
const MUTABLE: (&str, &str) = ("OSTREE_SYSROOT_DEBUG", "mutable-deployments");

/// Every file under `dir` (relative path → bytes; directories as empty entries).
fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let e = e.expect("entry");
            let p = e.path();
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            if e.file_type().expect("type").is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `(file name, contents)` of every BLS entry in the sysroot.
fn boot_entries(sysroot: &Path) -> Vec<(String, String)> {
    let dir = sysroot.join("boot/loader/entries");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("boot/loader/entries")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("read entry"),
            )
        })
        .collect();
    v.sort();
    v
}

fn field<'a>(entry: &'a str, key: &str) -> &'a str {
    entry
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {key} line in {entry}"))
}

#[test]
fn deploy_export_and_delta_with_the_real_kernel() {
    let started = std::time::Instant::now();
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    let tmp = tempfile::tempdir().expect("tempdir");
    let sysroot = tmp.path().join("sysroot");
    let sys = sysroot.to_str().expect("utf-8");
    let oci1 = tmp.path().join("oci1");
    let oci2 = tmp.path().join("oci2");
    let state_repo = env.root().join("ostree/repo");
    let state_repo = state_repo.to_str().expect("utf-8");
    let deploy = |extra: &[&str]| {
        let mut args = vec!["--json", "deploy", "--sysroot", sys];
        args.extend_from_slice(extra);
        env.run_env(&[NO_FREEZE, MUTABLE], &args)
    };

    // Bad input, before anything is built.
    deploy(&["--variant", "nope"]).fails("unknown_variant");
    let bad = deploy(&["--stateroot", "a/b"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert_eq!(bad.json()["error"]["kind"], "usage");
    env.run(&[
        "--json",
        "export",
        "oci",
        "--variant",
        "nope",
        oci1.to_str().expect("utf-8"),
    ])
    .fails("unknown_variant");
    deploy(&[]).fails("no_transactions");
    env.run(&["--json", "delta", "1", "2"]).fails("unknown_txn");
    assert!(!oci1.exists() && !sysroot.join("ostree").exists());

    // 1: initramfs-tools but no kernel (from a variant definition that also sets an initramfs
    // setting the kernel's scripts must see): refused, with the command that fixes it. (zstd is
    // there for the compression change at the end.)
    let def = env.dir.path().join("base.toml");
    std::fs::write(
        &def,
        "name = \"base\"\ninitramfs_modules = [\"raid1\"]\n[packages]\ninstall = [\"initramfs-tools\", \"zstd\"]\n[initramfs]\nCOMPRESS = \"gzip\"\n\
         [initramfs_hooks]\nmarker = '''\n#!/bin/sh\n[ \"$1\" = prereqs ] && exit 0\necho deliver > \"$DESTDIR/etc/particle-marker\"\n'''\n",
    )
    .expect("definition");
    let t1 = env
        .run(&["--json", "variant", "apply", def.to_str().expect("utf-8")])
        .ok()
        .json();
    assert_eq!(t1["txn"], 1);
    let e = deploy(&[]).fails("no_kernel").json();
    let hint = e["error"]["hint"].as_str().expect("hint");
    let message = e["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("transaction {}", t1["txn"])),
        "{e}"
    );
    assert!(
        hint.contains("particle txn install") && hint.contains("linux-image-amd64"),
        "{e}"
    );
    assert!(
        !sysroot.join("ostree").exists(),
        "a refused deploy touched the sysroot"
    );
    eprintln!("[{:?}] no-kernel case done", started.elapsed());

    // 2: the real kernel; its postinst builds the initramfs in the sandbox and the materializer
    // moves both to /usr/lib/modules/$kver.
    let t2 = env
        .run(&["--json", "txn", "install", "linux-image-amd64"])
        .ok()
        .json();
    let c2 = t2["commit"].as_str().expect("commit").to_owned();
    let modules = ok(
        "ostree",
        &[
            &format!("--repo={state_repo}"),
            "ls",
            "-R",
            &c2,
            "/usr/lib/modules",
        ],
    );
    for f in ["vmlinuz", "initramfs.img"] {
        let line = modules
            .lines()
            .find(|l| l.ends_with(&format!("-amd64/{f}")))
            .unwrap_or_else(|| panic!("no /usr/lib/modules/*/{f} in\n{modules}"));
        let size: u64 = line
            .split_whitespace()
            .nth(3)
            .and_then(|s| s.parse().ok())
            .expect("size column");
        assert!(size > 1_000_000, "{f} is only {size} bytes: {line}");
    }
    // Built with the recorded COMPRESS=gzip (Debian 12's default is zstd): the setting was in
    // place before the kernel's scripts ran.
    let kver_line = modules
        .lines()
        .find(|l| l.ends_with("-amd64/initramfs.img"))
        .expect("initramfs line");
    let img_path = kver_line
        .split_whitespace()
        .last()
        .expect("path column")
        .to_owned();
    let img = program_output(
        "ostree",
        &[&format!("--repo={state_repo}"), "cat", &c2, &img_path],
    );
    assert!(
        img.stdout.starts_with(&[0x1f, 0x8b]),
        "initramfs.img is not gzip: COMPRESS=gzip was not in force when it was built"
    );
    // The definition's initramfs_modules: raid1 (which MODULES=most leaves out) is in the
    // initramfs, listed for mkinitramfs in the variant's /usr.
    let listed = ok(
        "ostree",
        &[
            &format!("--repo={state_repo}"),
            "cat",
            &c2,
            "/usr/share/initramfs-tools/modules.d/particle-variant",
        ],
    );
    assert_eq!(listed, "raid1\n");
    let unpacked = env.dir.path().join("initramfs.img");
    std::fs::write(&unpacked, &img.stdout).expect("write");
    let contents = ok("lsinitramfs", &[unpacked.to_str().expect("utf-8")]);
    assert!(
        contents.lines().any(|l| l.ends_with("/md/raid1.ko")),
        "raid1.ko is not in the initramfs"
    );
    // The definition's hook ran in mkinitramfs: what it wrote is in the initramfs.
    assert!(
        contents.lines().any(|l| l == "etc/particle-marker"),
        "the variant's hook did not run"
    );
    let d1 = deploy(&[]).ok().json();
    assert_eq!(d1["commit"], c2.as_str());
    assert_eq!(d1["txn"], t2["txn"]);
    assert_eq!(d1["deployment"]["index"], 0);
    assert_eq!(d1["boot_entries"], 1);
    assert_eq!(d1["kargs"], serde_json::json!([]));
    let dep1 = Path::new(d1["deployment"]["path"].as_str().expect("path")).to_owned();
    assert!(
        dep1.join("etc/os-release").exists() || dep1.join("etc/debian_version").exists(),
        "the deployment's /etc was not made from /usr/etc"
    );
    std::fs::write(dep1.join("etc/particle-local.conf"), "kept\n").expect("local /etc change");
    eprintln!("[{:?}] first deploy done", started.elapsed());

    // 3: kernel arguments; the second deploy carries them, keeps the first as rollback, and
    // merges /etc.
    let t3 = env
        .run(&[
            "--json",
            "txn",
            "kargs",
            "--append",
            "quiet",
            "--append",
            "console=ttyS0,115200",
        ])
        .ok()
        .json();
    let c3 = t3["commit"].as_str().expect("commit").to_owned();
    let d2 = deploy(&[]).ok().json();
    assert_eq!(d2["commit"], c3.as_str());
    assert_eq!(
        d2["kargs"],
        serde_json::json!(["quiet", "console=ttyS0,115200"])
    );
    assert_eq!(d2["boot_entries"], 2, "{d2}");
    let deps = d2["deployments"].as_array().expect("deployments");
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[0]["checksum"], c3.as_str());
    assert_eq!(deps[1]["checksum"], c2.as_str());
    let entries = boot_entries(&sysroot);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let (newest, older) = {
        let mut e: Vec<&(String, String)> = entries.iter().collect();
        e.sort_by_key(|(_, text)| field(text, "version").parse::<u32>().expect("version"));
        (e[1].1.clone(), e[0].1.clone())
    };
    let options = field(&newest, "options");
    assert!(
        options.starts_with("quiet console=ttyS0,115200 ostree=/ostree/boot."),
        "newest entry: {newest}"
    );
    assert_eq!(d2["options"], options);
    assert!(field(&older, "options").starts_with("ostree=/ostree/boot."));
    for entry in [&newest, &older] {
        assert!(field(entry, "linux").contains("vmlinuz-6.1."), "{entry}");
        assert!(field(entry, "initrd").contains("initramfs-6.1."), "{entry}");
    }
    let dep2 = Path::new(d2["deployment"]["path"].as_str().expect("path")).to_owned();
    assert_ne!(dep1, dep2);
    assert!(dep1.exists(), "the rollback deployment was removed");
    assert_eq!(
        std::fs::read_to_string(dep2.join("etc/particle-local.conf")).expect("merged /etc"),
        "kept\n"
    );
    assert_eq!(
        std::fs::read_to_string(dep2.join("usr/lib/particle/kargs")).expect("kargs file"),
        "quiet console=ttyS0,115200\n"
    );
    let status = ok("ostree", &["admin", "status", &format!("--sysroot={sys}")]);
    assert!(status.contains(&c3) && status.contains(&c2), "{status}");
    eprintln!("[{:?}] second deploy done", started.elapsed());

    // OCI export: twice, bit-identical, readable by skopeo, labelled.
    let mut digests = Vec::new();
    for dir in [&oci1, &oci2] {
        let x = env
            .run(&[
                "--json",
                "export",
                "oci",
                "--compression-level",
                "1",
                dir.to_str().expect("utf-8"),
            ])
            .ok()
            .json();
        assert_eq!(x["commit"], c3.as_str());
        digests.push(x["manifest_digest"].as_str().expect("digest").to_owned());
    }
    assert_eq!(digests[0], digests[1]);
    assert!(
        tree_bytes(&oci1) == tree_bytes(&oci2),
        "the two OCI layouts differ"
    );
    env.run(&["--json", "export", "oci", oci1.to_str().expect("utf-8")])
        .fails("exists");
    let inspect: serde_json::Value = serde_json::from_str(&ok(
        "skopeo",
        &["inspect", &format!("oci:{}", oci1.display())],
    ))
    .expect("skopeo inspect prints JSON");
    assert_eq!(inspect["Digest"], digests[0].as_str());
    let labels = &inspect["Labels"];
    assert_eq!(labels["org.osbuild.ostree.ref"], "particle-os/base");
    assert_eq!(
        labels["org.osbuild.ostree.repo"],
        format!(
            "file://{}",
            std::fs::canonicalize(state_repo)
                .expect("canonical")
                .display()
        )
    );
    assert_eq!(labels["org.particle-os.variant"], "base");
    assert_eq!(labels["org.particle-os.txn-id"], t3["txn_id"]);
    assert_eq!(labels["org.particle-os.txn-seq"], t3["txn"].to_string());
    assert_eq!(labels["ostree.commit"], c3.as_str());
    // A commit with a kernel is offered to bootc as bootable.
    assert_eq!(
        (&labels["ostree.bootable"], &labels["containers.bootc"]),
        (&"true".into(), &"1".into())
    );
    assert_eq!(inspect["Architecture"], "amd64");
    // The layer: owners, setuid bits, symlinks, hard links and /usr/etc as /etc.
    let layers = inspect["Layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1);
    let layer = oci1.join("blobs/sha256").join(
        layers[0]
            .as_str()
            .expect("digest")
            .trim_start_matches("sha256:"),
    );
    let listing = ok(
        "tar",
        &["--numeric-owner", "-tvzf", layer.to_str().expect("utf-8")],
    );
    let line = |path: &str| {
        listing
            .lines()
            .find(|l| l.split_whitespace().nth(5) == Some(path))
            .unwrap_or_else(|| panic!("{path} not in the layer"))
            .to_owned()
    };
    assert!(line("usr/bin/passwd").starts_with("-rwsr-xr-x 0/0 "));
    assert!(line("usr/bin/chage").starts_with("-rwxr-sr-x 0/42 "));
    assert!(line("bin").starts_with("lrwxrwxrwx 0/0 ") && line("bin").ends_with("bin -> usr/bin"));
    assert!(line("tmp/").starts_with("drwxrwxrwt 0/0 "));
    assert!(line("etc/").starts_with("d"));
    assert!(line("etc/passwd").starts_with("-rw-r--r-- 0/0 "));
    assert!(
        !listing.contains(" usr/etc/"),
        "usr/etc was not mapped to etc"
    );
    assert!(listing.lines().any(|l| l.starts_with('h')), "no hard links");
    assert!(!listing.lines().any(|l| l.starts_with('h')
        && l.split_whitespace()
            .nth(5)
            .is_some_and(|p| p.starts_with("etc/"))));
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    // Each directory before its contents, siblings in byte order: sorted by path components.
    let mut sorted = names.clone();
    sorted.sort_by_key(|p| p.trim_end_matches('/').split('/').collect::<Vec<_>>());
    assert!(names == sorted, "layer entries are not in path order");
    eprintln!("[{:?}] OCI export done", started.elapsed());

    // Static delta 2 -> 3, applied offline to a repository that has only commit 2.
    let delta_file = tmp.path().join("2-3.delta");
    let dl = env
        .run(&[
            "--json",
            "delta",
            &t2["txn"].to_string(),
            &t3["txn_id"].as_str().expect("id")[..10],
            "--output",
            delta_file.to_str().expect("utf-8"),
        ])
        .ok()
        .json();
    assert_eq!(dl["from"]["commit"], c2.as_str());
    assert_eq!(dl["to"]["commit"], c3.as_str());
    let listed = ok(
        "ostree",
        &[&format!("--repo={state_repo}"), "static-delta", "list"],
    );
    assert!(listed.contains(&format!("{c2}-{c3}")), "{listed}");
    let fresh = tmp.path().join("fresh");
    let fresh_flag = format!("--repo={}", fresh.display());
    ok("ostree", &[&fresh_flag, "init", "--mode=bare-user"]);
    ok("ostree", &[&fresh_flag, "pull-local", state_repo, &c2]);
    assert!(!program_output("ostree", &[&fresh_flag, "show", &c3])
        .status
        .success());
    ok(
        "ostree",
        &[
            &fresh_flag,
            "static-delta",
            "apply-offline",
            delta_file.to_str().expect("utf-8"),
        ],
    );
    ok("ostree", &[&fresh_flag, "show", &c3]);
    ok("ostree", &[&fresh_flag, "fsck"]);
    env.run(&["--json", "delta", "3", "3"]).fails("same_commit");
    env.run(&["--json", "delta", "2", "99"])
        .fails("unknown_txn");
    // Built on the previous commit: a kernel-argument change left the initramfs alone; an
    // initramfs-tools setting rebuilds it with the new setting (zstd's magic, not gzip's).
    let initramfs_of = |commit: &str| {
        program_output(
            "ostree",
            &[&format!("--repo={state_repo}"), "cat", commit, &img_path],
        )
        .stdout
    };
    assert!(
        initramfs_of(&c3) == img.stdout,
        "a kernel-argument change rebuilt the initramfs"
    );
    let t4 = env
        .run(&["--json", "txn", "initramfs", "--set", "COMPRESS=zstd"])
        .ok()
        .json();
    let img4 = initramfs_of(t4["commit"].as_str().expect("commit"));
    assert!(
        img4.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
        "COMPRESS=zstd did not rebuild the initramfs with zstd"
    );
    eprintln!("[{:?}] initramfs rebuilt", started.elapsed());

    // The temporary directory must be removable (no immutable deployment left behind).
    let tmp_path = tmp.path().to_owned();
    tmp.close().expect("remove the temporary sysroot");
    assert!(!tmp_path.exists());
    eprintln!("delivery test took {:?}", started.elapsed());
}
