//! `build_image` and `check_bootable` refusing what cannot boot, on small commits made here with
//! the `ostree` command: nothing is left at OUT and no staging directory stays behind.

use machine::{build_image, check_bootable, ErrorKind, Firmware, Format, ImageRequest};
use std::path::Path;
use std::process::Command;

fn ostree(args: &[&str]) -> String {
    let out = Command::new("ostree").args(args).output().expect("ostree");
    assert!(
        out.status.success(),
        "ostree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A bare-user repository with one commit of `files` (path → contents).
fn commit(dir: &Path, files: &[(&str, &str)]) -> (std::path::PathBuf, String) {
    let repo = dir.join("repo");
    let tree = dir.join("tree");
    let _ = std::fs::remove_dir_all(&tree);
    for (path, text) in files {
        let p = tree.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    std::fs::create_dir_all(tree.join("usr/etc")).expect("mkdir");
    let r = repo.to_str().expect("utf-8");
    if !repo.join("config").exists() {
        ostree(&["init", "--mode=bare-user", &format!("--repo={r}")]);
    }
    let c = ostree(&[
        &format!("--repo={r}"),
        "commit",
        "--branch=particle-os/base",
        "--no-xattrs",
        "--timestamp=@1700000000",
        tree.to_str().expect("utf-8"),
    ]);
    (repo, c)
}

fn request<'a>(repo: &'a Path, commit: &'a str, out: &'a Path) -> ImageRequest<'a> {
    ImageRequest {
        repo,
        commit,
        variant: "base",
        what: "variant base (test commit)",
        stateroot: "particle-os",
        kargs: &[],
        host_kargs: &[],
        firmware: Firmware::Both,
        format: Format::Raw,
        size: None,
        root_password_hash: None,
        time: 1_700_000_000,
        out,
        seed: None,
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".particle-image-") || n.ends_with(".raw"))
        .collect()
}

#[test]
fn a_commit_without_a_kernel_or_initramfs_or_grub_is_refused_and_nothing_is_left() {
    let d = tempfile::tempdir().expect("tempdir");
    let out_dir = d.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let out = out_dir.join("disk.raw");

    let (repo, c) = commit(d.path(), &[("usr/bin/true", "x")]);
    let e = check_bootable(&repo, &c, "variant base", "base").expect_err("no kernel");
    assert_eq!(e.kind(), ErrorKind::NoKernel);
    let e = build_image(&request(&repo, &c, &out), &|_| {}).expect_err("no kernel");
    assert_eq!(e.kind(), ErrorKind::NoKernel, "{e}");
    assert!(e.to_string().contains("has no kernel"), "{e}");
    assert!(leftovers(&out_dir).is_empty(), "{:?}", leftovers(&out_dir));

    let (repo, c) = commit(
        d.path(),
        &[("usr/lib/modules/6.1.0-test/vmlinuz", "kernel")],
    );
    let e = build_image(&request(&repo, &c, &out), &|_| {}).expect_err("no initramfs");
    assert_eq!(e.kind(), ErrorKind::NoInitramfs, "{e}");
    assert!(leftovers(&out_dir).is_empty());

    // A kernel and an initramfs, but no GRUB in the commit: refused before anything is
    // staged.
    let (repo, c) = commit(
        d.path(),
        &[
            ("usr/lib/modules/6.1.0-test/vmlinuz", "kernel"),
            ("usr/lib/modules/6.1.0-test/initramfs.img", "initramfs"),
        ],
    );
    assert_eq!(
        check_bootable(&repo, &c, "variant base", "base").expect("bootable"),
        "6.1.0-test"
    );
    let e = build_image(&request(&repo, &c, &out), &|_| {}).expect_err("no GRUB");
    assert_eq!(e.kind(), ErrorKind::NoBootloader, "{e}");
    assert!(
        e.hint_text().is_some_and(|h| h.contains("grub-pc-bin")),
        "{e:?}"
    );
    assert!(leftovers(&out_dir).is_empty(), "{:?}", leftovers(&out_dir));

    // An existing OUT is never touched.
    std::fs::write(&out, "mine").expect("write");
    let e = build_image(&request(&repo, &c, &out), &|_| {}).expect_err("exists");
    assert_eq!(e.kind(), ErrorKind::Exists);
    assert_eq!(std::fs::read(&out).expect("read"), b"mine");
}

/// A sysroot whose GRUB menu particle writes (as `particle image` leaves it): every deploy
/// regenerates `grub.cfg` from the BLS entries, the new default first and the previous one
/// (the rollback) after it, each with its own kernel arguments and the host's.
#[test]
fn every_deploy_regenerates_the_menu_default_first_then_the_rollback() {
    let d = tempfile::tempdir().expect("tempdir");
    let files = |extra: &'static str| {
        vec![
            ("usr/lib/modules/6.1.0-test/vmlinuz", "kernel"),
            ("usr/lib/modules/6.1.0-test/initramfs.img", "initramfs"),
            (
                "usr/etc/os-release",
                "ID=debian\nNAME=\"Debian GNU/Linux\"\n",
            ),
            ("usr/share/marker", extra),
        ]
    };
    let (repo, first) = commit(d.path(), &files("one"));
    let sysroot = d.path().join("sysroot");
    let env = [
        ("OSTREE_SYSROOT_OPTS", "skip-sync"),
        ("OSTREE_SYSROOT_DEBUG", "mutable-deployments"),
    ];
    let host = vec!["root=UUID=feed".to_owned(), "console=ttyS0".to_owned()];
    let deploy = |c: &str, kargs: &[String], host: Option<&[String]>| {
        machine::deploy(
            &sysroot,
            &machine::DeployRequest {
                repo: &repo,
                commit: c,
                variant: "base",
                what: "variant base (test commit)",
                stateroot: "particle-os",
                kargs,
                host_kargs: host,
                env: &env,
                grub_mkconfig: Some(Path::new(env!("CARGO_BIN_EXE_particle-grub-mkconfig"))),
                stage: false,
            },
            &|_| {},
        )
        .expect("deploy")
    };
    let one = deploy(&first, &["quiet".to_owned()], Some(&host));
    assert!(
        !one.grub,
        "no GRUB settings yet: the menu is not particle's"
    );
    machine::GrubSettings {
        timeout: 1,
        serial: true,
        boot_uuid: "feed".into(),
        boot_prefix: "/boot".into(),
    }
    .install(&sysroot)
    .expect("install GRUB settings");

    let (_, second) = commit(d.path(), &files("two"));
    // Host kargs come from the default deployment's /etc/particle/host-kargs this time.
    let two = deploy(&second, &["splash".to_owned()], None);
    assert!(two.grub, "the menu was regenerated");
    assert_eq!(two.kargs, ["splash", "root=UUID=feed", "console=ttyS0"]);
    let cfg = std::fs::read_to_string(sysroot.join("boot/grub/grub.cfg")).expect("grub.cfg");
    let linux: Vec<&str> = cfg
        .lines()
        .filter(|l| l.trim_start().starts_with("linux "))
        .collect();
    assert_eq!(linux.len(), 2, "{cfg}");
    // ostree's grub2 back end ran particle's generator for the new boot version before its
    // swap: the menu is reached through /boot/loader, and every `ostree=` path it names exists.
    assert_eq!(
        std::fs::read_link(sysroot.join("boot/grub/grub.cfg")).expect("a symlink"),
        Path::new("../loader/grub.cfg")
    );
    for l in &linux {
        let target = l
            .split_whitespace()
            .find_map(|w| w.strip_prefix("ostree="))
            .expect("ostree= karg");
        assert!(
            sysroot.join(target.trim_start_matches('/')).is_dir(),
            "{target} resolves to a deployment: {cfg}"
        );
    }
    assert!(
        linux[0].contains("splash root=UUID=feed console=ttyS0 ostree="),
        "the new deployment is the default: {cfg}"
    );
    assert!(
        linux[1].contains("quiet root=UUID=feed console=ttyS0 ostree="),
        "the previous one is the rollback: {cfg}"
    );
    let status = machine::deployments(&sysroot).expect("status");
    assert_eq!(status.len(), 2);
    assert_eq!(status[0].commit, second);
    assert_eq!(status[1].commit, first);
    assert!(status[1].rollback && !status[0].rollback);
    assert_eq!(
        machine::host_kargs(&sysroot).expect("host kargs"),
        ["root=UUID=feed", "console=ttyS0"]
    );

    // The cheap rollback: the previous deployment becomes the default, nothing is checked
    // out, and the menu follows through the same swap.
    let grub = Path::new(env!("CARGO_BIN_EXE_particle-grub-mkconfig"));
    let order = machine::set_default(&sysroot, 1, Some(grub)).expect("rollback");
    let commits: Vec<&str> = order.iter().map(|d| d.checksum.as_str()).collect();
    assert_eq!(commits, [first.as_str(), second.as_str()]);
    assert_eq!(
        order[1].path, status[0].path,
        "the same deployment, not a new one"
    );
    let cfg = std::fs::read_to_string(sysroot.join("boot/grub/grub.cfg")).expect("grub.cfg");
    let first_linux = cfg
        .lines()
        .find(|l| l.trim_start().starts_with("linux "))
        .expect("an entry");
    assert!(first_linux.contains("quiet root=UUID=feed"), "{cfg}");
    assert!(!machine::drop_staged(&sysroot).expect("nothing staged offline"));
}
