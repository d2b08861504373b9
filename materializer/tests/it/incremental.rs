//! Builds that start from a previous commit (`BuildInput::base_commit`): packages added,
//! upgraded and removed by the tree's own dpkg on top of the composed minbase; the result is a
//! working system with exactly the wanted set, the same input gives the same commit, and hostile
//! packages are refused as a fresh compose refuses them.

use crate::common::{
    boots_with_exactly, build_input, commit_count, deb_input, dpkg_deb_version, hand_made_deb,
    package_input, run, snapshot, test_closure, Entry,
};
use crate::compose::composed;
use materializer::{materialize, BuildInput, Options, PackageInput};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use store::CommitId;

/// A package of our own in two versions: a conffile, a file only the old version ships, and a
/// postinst that appends its arguments to a file in /var.
fn ptest(dir: &Path, version: &str) -> PackageInput {
    let only = format!("/usr/share/ptest/only-{version}");
    let deb = dpkg_deb_version(
        dir,
        "ptest",
        version,
        &[
            ("/etc/ptest.conf", "setting=1\n"),
            (&only, version),
            ("/usr/share/ptest/common", "same\n"),
        ],
        &[(
            "postinst",
            "#!/bin/sh\nset -e\nmkdir -p /var/lib/ptest\necho \"$@\" >> /var/lib/ptest/calls\n",
        )],
        "",
    );
    deb_input("ptest", version, "all", &deb)
}

fn on_base(packages: Vec<PackageInput>, seq: u64, base: &str) -> BuildInput {
    let mut input = build_input(packages, seq);
    let base = CommitId::from_hex(base).expect("a commit checksum");
    input.base_commit = Some(base);
    input.parent_commit = Some(base);
    input
}

fn build(repo: &Path, work: &Path, input: &BuildInput) -> String {
    let built = materialize(repo, work, input).unwrap_or_else(|e| {
        let log = std::fs::read_to_string(work.join("scripts.log")).unwrap_or_default();
        panic!(
            "build failed: {e}\n--- log tail ---\n{}",
            &log[log.len().saturating_sub(4000)..]
        )
    });
    for (phase, t) in &built.timings {
        eprintln!("phase {phase}: {:.2} s", t.as_secs_f64());
    }
    built.commit.to_hex()
}

fn checkout(repo: &Path, commit: &str, to: &Path) {
    run(Command::new("ostree")
        .arg(format!("--repo={}", repo.display()))
        .args(["checkout", commit])
        .arg(to));
}

/// The tree of `commit` (written reusing the checkout's checksums) is the one `ostree commit`
/// of its checkout gives: same root contents and metadata checksums.
fn assert_same_tree_as_ostree_commit(repo: &Path, commit: &str, checkout: &Path) {
    let ostree = |args: &[&str]| {
        run(Command::new("ostree")
            .arg(format!("--repo={}", repo.display()))
            .args(args))
    };
    let reference = ostree(&[
        "commit",
        "--branch=reference-check",
        &format!("--tree=dir={}", checkout.display()),
    ]);
    let root = |c: &str| ostree(&["ls", "-d", "-C", c.trim(), "/"]);
    assert_eq!(root(commit), root(&reference), "the trees differ");
}

fn sorted(mut v: Vec<PackageInput>) -> Vec<PackageInput> {
    v.sort_by(|a, b| a.package.name.cmp(&b.package.name));
    v
}

#[test]
fn building_on_a_commit_installs_upgrades_and_removes_with_dpkg() {
    let c = composed();
    let dir = tempfile::tempdir().expect("tempdir");
    let minbase: BTreeMap<String, PackageInput> = c
        .input
        .packages
        .iter()
        .map(|p| (p.package.name.clone(), p.clone()))
        .collect();

    // 2: minbase + jq (and its libraries) + ptest 1.0.
    let mut set = minbase.clone();
    for p in test_closure(&["jq"]) {
        set.entry(p.name.clone())
            .or_insert_with(|| package_input(p));
    }
    set.insert("ptest".into(), ptest(dir.path(), "1.0"));
    let second = sorted(set.values().cloned().collect());
    let input2 = on_base(second.clone(), 2, &c.commit);
    let commit2 = build(&c.repo, &dir.path().join("work"), &input2);
    let co2 = dir.path().join("co2");
    checkout(&c.repo, &commit2, &co2);
    let root2 = boots_with_exactly(&co2, &second);
    let root2 = root2.path().join("root");
    assert!(root2.join("usr/bin/jq").is_file());
    assert_eq!(
        std::fs::read_to_string(root2.join("var/lib/ptest/calls")).expect("postinst ran"),
        "configure \n",
        "dpkg runs postinst configure with an empty old version on a fresh install"
    );
    // The tree keeps the atomic layout.
    assert_eq!(
        std::fs::read_link(co2.join("bin")).expect("bin link"),
        Path::new("usr/bin")
    );
    assert!(!co2.join("etc").exists() && co2.join("usr/etc/ptest.conf").is_file());
    assert_eq!(
        std::fs::read_dir(co2.join("var")).expect("var").count(),
        0,
        "/var is empty in the commit"
    );
    let conf = std::fs::read_to_string(co2.join("usr/lib/particle/variant.conf")).expect("conf");
    assert!(conf.contains("TXN_SEQ=2"), "{conf}");
    assert_same_tree_as_ostree_commit(&c.repo, &commit2, &co2);

    // The same input on the same base gives the same commit.
    let again = build(&c.repo, &dir.path().join("work-again"), &input2);
    assert_eq!(again, commit2, "an incremental build is not deterministic");

    // 3: jq removed (its libraries stay, as apt leaves them), ptest upgraded to 2.0.
    set.remove("jq");
    set.insert("ptest".into(), ptest(dir.path(), "2.0"));
    let third = sorted(set.values().cloned().collect());
    let commit3 = build(
        &c.repo,
        &dir.path().join("work3"),
        &on_base(third.clone(), 3, &commit2),
    );
    let co3 = dir.path().join("co3");
    checkout(&c.repo, &commit3, &co3);
    let root3 = boots_with_exactly(&co3, &third);
    let root3 = root3.path().join("root");
    assert!(!root3.join("usr/bin/jq").exists(), "jq was not removed");
    assert!(root3.join("usr/lib/x86_64-linux-gnu/libjq.so.1").exists());
    assert!(!root3.join("usr/share/ptest/only-1.0").exists());
    assert_eq!(
        std::fs::read_to_string(root3.join("usr/share/ptest/only-2.0")).expect("new file"),
        "2.0"
    );
    // dpkg ran the upgrade: postinst configure with the old version.
    assert_eq!(
        std::fs::read_to_string(root3.join("var/lib/ptest/calls")).expect("calls"),
        "configure \nconfigure 1.0\n"
    );

    // 4: nothing changes but the transaction: no script runs, the tree is the same apart from
    // the identity files.
    let commit4 = build(
        &c.repo,
        &dir.path().join("work4"),
        &on_base(third.clone(), 4, &commit3),
    );
    let diff = run(Command::new("ostree")
        .arg(format!("--repo={}", c.repo.display()))
        .args(["diff", &commit3, &commit4]));
    assert_eq!(
        diff.lines().map(str::trim).collect::<Vec<_>>(),
        [
            "M    /usr/etc/particle-os/variant.conf",
            "M    /usr/lib/particle/variant.conf"
        ]
    );
}

#[test]
fn hostile_packages_are_refused_on_a_base_as_from_nothing() {
    let c = composed();
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("marker");
    std::fs::create_dir_all(&marker).expect("mkdir");
    std::fs::write(marker.join("file"), b"original").expect("write");
    let before = snapshot(&marker);
    // A repository of its own holding only the base (other tests commit into the shared one).
    let repo = dir.path().join("repo");
    materializer::init_repo(&repo).expect("init");
    run(Command::new("ostree")
        .arg(format!("--repo={}", repo.display()))
        .args(["pull-local"])
        .arg(&c.repo)
        .arg(&c.commit));
    let commits = commit_count(&repo);

    let deb = hand_made_deb(
        dir.path(),
        "evil",
        &[Entry::File("./../../../../../../marker/file", b"owned")],
    );
    let mut packages = c.input.packages.clone();
    packages.push(deb_input("evil", "1.0", "all", &deb));
    let work = dir.path().join("work");
    let err = materialize(&repo, &work, &on_base(packages, 2, &c.commit))
        .expect_err("a path traversal must be refused");
    assert_eq!(
        err.to_string(),
        "package evil: refused unsafe entry \"./../../../../../../marker/file\": path contains '..'"
    );
    assert_eq!(snapshot(&marker), before);
    assert_eq!(commit_count(&repo), commits, "something was committed");
    assert!(!work.join("tree").exists() && !work.join("check").exists());
}

#[test]
fn file_capabilities_set_by_a_postinst_are_committed() {
    let c = composed();
    let dir = tempfile::tempdir().expect("tempdir");
    let deb = dpkg_deb_version(
        dir.path(),
        "captest",
        "1.0",
        &[("/usr/bin/captest", "#!/bin/sh\necho ping\n")],
        &[(
            "postinst",
            "#!/bin/sh\nset -e\nsetcap cap_net_raw+ep /usr/bin/captest\n",
        )],
        "Depends: libcap2-bin\n",
    );
    let mut packages = c.input.packages.clone();
    for p in test_closure(&["libcap2-bin"]) {
        if !packages.iter().any(|q| q.package.name == p.name) {
            packages.push(package_input(p));
        }
    }
    packages.push(deb_input("captest", "1.0", "all", &deb));
    let commit = build(
        &c.repo,
        &dir.path().join("work"),
        &on_base(sorted(packages), 2, &c.commit),
    );
    let co = dir.path().join("co");
    checkout(&c.repo, &commit, &co);
    assert_same_tree_as_ostree_commit(&c.repo, &commit, &co);
    let caps = run(Command::new("getcap").arg(co.join("usr/bin/captest")));
    assert!(caps.trim_end().ends_with("cap_net_raw=ep"), "{caps:?}");
    // Nothing else carries an extended attribute.
    let xattrs = run(Command::new("ostree")
        .arg(format!("--repo={}", c.repo.display()))
        .args(["ls", "-X", &commit, "/usr/bin/captest", "/usr/bin/sh"]));
    assert!(xattrs.contains("security.capability"), "{xattrs}");
}

/// On a `bare` repository as root (a machine's sysroot) a build on a commit runs on an overlay
/// over a hard-link checkout (or a deployment) of the base instead of a copy: the commits are
/// the ones a copy gives, step after step (installs, an upgrade whose postinst appends to a
/// file of the base in place, removals), and the repository's objects never change.
#[test]
fn an_overlay_build_gives_the_commit_a_copy_gives_and_leaves_the_objects_alone() {
    assert!(
        rustix::process::geteuid().is_root(),
        "overlay builds mount: run the suite as root, as CI does"
    );
    let c = composed();
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("bare");
    let ostree = |args: &[&str]| {
        run(Command::new("ostree")
            .arg(format!("--repo={}", repo.display()))
            .args(args))
    };
    ostree(&["init", "--mode=bare"]);
    ostree(&["pull-local", &c.repo.display().to_string(), &c.commit]);

    let minbase = c.input.packages.clone();
    let mut second = minbase.clone();
    for p in test_closure(&["jq"]) {
        if !second.iter().any(|q| q.package.name == p.name) {
            second.push(package_input(p));
        }
    }
    second.push(ptest(dir.path(), "1.0"));
    let second = sorted(second);
    let input2 = on_base(second.clone(), 2, &c.commit);

    let with = |work: &str, input: &BuildInput, options: Options| {
        let built = materializer::materialize_with(&repo, &dir.path().join(work), input, &options)
            .unwrap_or_else(|e| panic!("build in {work} failed: {e}"));
        let phases: Vec<&str> = built.timings.iter().map(|(p, _)| *p).collect();
        (built.commit.to_hex(), phases)
    };
    let copy = Options {
        copy_base: true,
        ..Options::default()
    };
    let (by_copy, phases) = with("copy", &input2, copy.clone());
    assert!(phases.contains(&"checkout"), "{phases:?}");
    let (by_overlay, phases) = with("overlay", &input2, Options::default());
    assert!(
        phases.contains(&"overlay") && !phases.contains(&"checkout"),
        "the overlay was not used: {phases:?}"
    );
    assert_eq!(by_overlay, by_copy, "an overlay build differs from a copy");
    assert!(
        !dir.path().join("overlay/overlay").exists() && !dir.path().join("overlay/tree").exists(),
        "the overlay outlived its build"
    );

    // A deployment as the lower layer: its own /etc is hidden, and it is not written.
    let deployment = dir.path().join("deploy");
    ostree(&[
        "checkout",
        "--require-hardlinks",
        &c.commit,
        &deployment.display().to_string(),
    ]);
    std::fs::create_dir(deployment.join("etc")).expect("mkdir etc");
    std::fs::write(deployment.join("etc/machine-only"), b"local\n").expect("write");
    let before = snapshot(&deployment);
    let (by_deployment, _) = with(
        "deployed",
        &input2,
        Options {
            base_checkout: Some(deployment.clone()),
            ..Options::default()
        },
    );
    assert_eq!(by_deployment, by_copy, "a build on a deployment differs");
    assert_eq!(snapshot(&deployment), before, "the deployment was written");

    // Upgrade ptest (its postinst appends to /var/lib/ptest/calls, a file of the base) and
    // remove jq, on the overlay and on a copy.
    let mut third: Vec<PackageInput> = second
        .into_iter()
        .filter(|p| p.package.name != "jq")
        .collect();
    third.retain(|p| p.package.name != "ptest");
    third.push(ptest(dir.path(), "2.0"));
    let input3 = on_base(sorted(third), 3, &by_copy);
    let (third_copy, _) = with("copy3", &input3, copy);
    let (third_overlay, _) = with("overlay3", &input3, Options::default());
    assert_eq!(
        third_overlay, third_copy,
        "an overlay build differs from a copy"
    );
    let co = dir.path().join("co3");
    ostree(&["checkout", &third_overlay, &co.display().to_string()]);
    assert!(!co.join("usr/bin/jq").exists(), "jq was not removed");
    assert!(co.join("usr/share/ptest/only-2.0").exists());
    assert_same_tree_as_ostree_commit(&repo, &third_overlay, &co);

    // Every object still has the content its checksum names.
    ostree(&["fsck"]);
}
