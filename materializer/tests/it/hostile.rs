//! Hostile packages: each refused with a clear error, nothing committed, nothing outside the
//! staging tree touched (a marker tree beside it is compared before and after).

use crate::common::{
    build_input, commit_count, deb_input, dpkg_deb, hand_made_deb, package_input, snapshot,
    test_closure, Entry,
};
use materializer::{init_repo, materialize_with, MaterializeError, Options, PackageInput};
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Scene {
    dir: tempfile::TempDir,
    marker: PathBuf,
    repo: PathBuf,
}

fn scene() -> Scene {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("marker");
    std::fs::create_dir_all(marker.join("sub")).expect("mkdir");
    std::fs::write(marker.join("file"), b"original").expect("write");
    std::fs::write(marker.join("sub/inner"), b"inner").expect("write");
    let repo = dir.path().join("repo");
    init_repo(&repo).expect("init");
    Scene { marker, repo, dir }
}

fn hostile_input(path: &Path, name: &str) -> PackageInput {
    deb_input(name, "1.0", "all", path)
}

/// Builds `packages`, expecting failure; checks the marker tree, the repo and the staging tree.
fn refused(s: &Scene, packages: Vec<PackageInput>, options: &Options) -> MaterializeError {
    let before = snapshot(&s.marker);
    let work = s.dir.path().join("work");
    let err = materialize_with(&s.repo, &work, &build_input(packages, 1), options)
        .expect_err("hostile input must be refused");
    assert_eq!(
        snapshot(&s.marker),
        before,
        "the marker tree outside the staging dir changed ({err})"
    );
    assert_eq!(commit_count(&s.repo), 0, "something was committed ({err})");
    assert!(
        !work.join("tree").exists(),
        "the staging tree outlived the failed build"
    );
    err
}

fn refused_one(name: &str, entries: &[Entry<'_>]) -> String {
    let s = scene();
    let deb = hand_made_deb(s.dir.path(), name, entries);
    refused(&s, vec![hostile_input(&deb, name)], &Options::default()).to_string()
}

#[test]
fn path_traversal_is_refused() {
    let err = refused_one(
        "evil-dotdot",
        &[
            Entry::Dir("./"),
            Entry::File("./../../marker/file", b"pwned"),
        ],
    );
    assert_eq!(
        err,
        "package evil-dotdot: refused unsafe entry \"./../../marker/file\": path contains '..'"
    );
}

#[test]
fn symlink_escapes_are_refused() {
    let s = scene();
    let target = s.marker.display().to_string();
    for (name, link) in [
        ("evil-abs-link", target.as_str()),
        ("evil-rel-link", "../../marker"),
    ] {
        let deb = hand_made_deb(
            s.dir.path(),
            name,
            &[
                Entry::Dir("./"),
                Entry::Symlink("./escape", link),
                Entry::File("./escape/file", b"pwned"),
            ],
        );
        let err = refused(&s, vec![hostile_input(&deb, name)], &Options::default()).to_string();
        assert_eq!(
            err,
            format!("package {name}: refused unsafe entry \"./escape/file\": a parent directory is a symlink or leaves the staging root")
        );
    }
}

#[test]
fn a_directory_over_a_symlink_pointing_outside_is_refused() {
    let s = scene();
    let target = s.marker.display().to_string();
    let deb = hand_made_deb(
        s.dir.path(),
        "evil-link-dir",
        &[
            Entry::Dir("./"),
            Entry::Symlink("./escape", &target),
            Entry::Dir("./escape/"),
            Entry::File("./escape/file", b"pwned"),
        ],
    );
    let err = refused(
        &s,
        vec![hostile_input(&deb, "evil-link-dir")],
        &Options::default(),
    )
    .to_string();
    assert_eq!(
        err,
        "package evil-link-dir: refused unsafe entry \"./escape/\": a directory entry where a non-directory already exists"
    );
}

#[test]
fn hard_links_out_are_refused() {
    let s = scene();
    let outside = s.marker.join("file").display().to_string();
    let deb = hand_made_deb(
        s.dir.path(),
        "evil-hardlink",
        &[Entry::Dir("./"), Entry::Hardlink("./grab", &outside)],
    );
    let err = refused(
        &s,
        vec![hostile_input(&deb, "evil-hardlink")],
        &Options::default(),
    )
    .to_string();
    assert_eq!(err, "package evil-hardlink: refused unsafe entry \"./grab\": hard link to a file this package did not extract");
    let deb = hand_made_deb(
        s.dir.path(),
        "evil-hardlink2",
        &[
            Entry::Dir("./"),
            Entry::Hardlink("./grab", "../marker/file"),
        ],
    );
    let err = refused(
        &s,
        vec![hostile_input(&deb, "evil-hardlink2")],
        &Options::default(),
    )
    .to_string();
    assert_eq!(
        err,
        "package evil-hardlink2: refused unsafe entry \"./grab\": path contains '..'"
    );
}

#[test]
fn device_nodes_and_fifos_are_refused() {
    let err = refused_one(
        "evil-dev",
        &[
            Entry::Dir("./"),
            Entry::Dir("./dev/"),
            Entry::CharDev("./dev/mem"),
        ],
    );
    assert_eq!(err, "package evil-dev: refused character device \"./dev/mem\": device nodes, FIFOs and sockets are not allowed in packages");
    let err = refused_one("evil-fifo", &[Entry::Dir("./"), Entry::Fifo("./pipe")]);
    assert_eq!(err, "package evil-fifo: refused FIFO \"./pipe\": device nodes, FIFOs and sockets are not allowed in packages");
}

#[test]
fn file_conflicts_are_refused_naming_both() {
    let s = scene();
    let a = dpkg_deb(
        s.dir.path(),
        "conflict-a",
        &[("/usr/share/particle-test/same", "a")],
        &[],
        "",
    );
    let b = dpkg_deb(
        s.dir.path(),
        "conflict-b",
        &[("/usr/share/particle-test/same", "b")],
        &[],
        "",
    );
    let err = refused(
        &s,
        vec![
            hostile_input(&a, "conflict-a"),
            hostile_input(&b, "conflict-b"),
        ],
        &Options::default(),
    );
    assert_eq!(
        err.to_string(),
        "file conflict: /usr/share/particle-test/same is shipped by both conflict-a and conflict-b (and neither Replaces the other)"
    );
}

/// The smallest real set in which dpkg can run maintainer scripts.
fn dpkg_set() -> Vec<PackageInput> {
    dpkg_set_with(&[])
}

/// [`dpkg_set`] and the closure of `extra`.
fn dpkg_set_with(extra: &[&str]) -> Vec<PackageInput> {
    let base = [
        "dpkg",
        "dash",
        "coreutils",
        "debianutils",
        "diffutils",
        "sed",
        "libc-bin",
        "tar",
        "findutils",
    ];
    test_closure(&[&base[..], extra].concat())
        .into_iter()
        .map(package_input)
        .collect()
}

#[test]
fn failing_postinst_aborts_naming_package_and_script() {
    let s = scene();
    let marker = s.marker.display().to_string();
    let script = format!("#!/bin/sh\necho pwned > {marker}/file\nexit 1\n");
    let deb = dpkg_deb(
        s.dir.path(),
        "bad-postinst",
        &[],
        &[("postinst", &script)],
        "",
    );
    let mut pkgs = dpkg_set();
    pkgs.push(hostile_input(&deb, "bad-postinst"));
    let err = refused(&s, pkgs, &Options::default());
    let text = err.to_string();
    let log = std::fs::read_to_string(s.dir.path().join("work/scripts.log")).expect("log");
    assert!(
        text.starts_with("maintainer script postinst of package bad-postinst failed; see the log "),
        "{text}\n{log}"
    );
    assert!(
        log.contains("error processing package bad-postinst"),
        "{log}"
    );
}

#[test]
fn hanging_postinst_is_killed_and_aborts() {
    let s = scene();
    let deb = dpkg_deb(
        s.dir.path(),
        "hang-postinst",
        &[],
        &[("postinst", "#!/bin/sh\nsleep 9876\n")],
        "",
    );
    let mut pkgs = dpkg_set();
    pkgs.push(hostile_input(&deb, "hang-postinst"));
    let options = Options {
        script_timeout: Duration::from_secs(30),
        ..Options::default()
    };
    let err = refused(&s, pkgs, &options);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "maintainer script postinst of package hang-postinst failed; see the log "
        ),
        "{text}"
    );
    let source = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert_eq!(
        source,
        "dpkg --configure -a did not finish within 30 s and was killed"
    );
    // No sandboxed process survives.
    std::thread::sleep(Duration::from_millis(500));
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "sleep 9876"])
        .output()
        .expect("pgrep");
    assert!(
        ps.stdout.is_empty(),
        "the hung script is still running: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
}

#[test]
fn mismatched_pin_is_refused() {
    let s = scene();
    let deb = dpkg_deb(s.dir.path(), "pinned", &[], &[], "");
    let mut input = hostile_input(&deb, "pinned");
    input.package.version = "2.0".to_owned();
    let err = refused(&s, vec![input], &Options::default()).to_string();
    assert!(
        err.ends_with("holds pinned 1.0 all, not the pinned pinned 2.0 all"),
        "{err}"
    );
}

#[test]
fn symlinks_planted_in_the_tree_never_lead_host_side_steps_outside() {
    let s = scene();
    std::fs::write(s.marker.join("machine-id"), b"host machine id").expect("write");
    let marker = s.marker.display().to_string();
    // A shipped policy-rc.d symlink pointing at a host file: writing policy-rc.d must not follow it.
    let policy = hand_made_deb(
        s.dir.path(),
        "evil-policy",
        &[
            Entry::Dir("./"),
            Entry::Dir("./usr/"),
            Entry::Dir("./usr/sbin/"),
            Entry::Symlink("./usr/sbin/policy-rc.d", &format!("{marker}/file")),
        ],
    );
    // A postinst that turns /var/lib/dbus into a symlink to a host directory: normalization's
    // removal of var/lib/dbus/machine-id must not follow it.
    let script = format!("#!/bin/sh\nset -e\nrm -rf /var/lib/dbus\nmkdir -p /var/lib\nln -s {marker} /var/lib/dbus\n");
    let ancestor = dpkg_deb(
        s.dir.path(),
        "evil-ancestor",
        &[],
        &[("postinst", &script)],
        "",
    );
    let mut pkgs = dpkg_set();
    pkgs.push(hostile_input(&policy, "evil-policy"));
    pkgs.push(hostile_input(&ancestor, "evil-ancestor"));
    let err = refused(&s, pkgs, &Options::default()).to_string();
    assert!(
        err.starts_with("refusing to work beneath ")
            && err.contains("/var/lib/dbus: it is a Symlink"),
        "{err}"
    );
}

#[test]
fn maintainer_scripts_cannot_write_host_paths_or_reach_the_network() {
    let s = scene();
    let marker = s.marker.display().to_string();
    // A host service the script tries to reach, on every address of the host.
    let listener = std::net::TcpListener::bind("0.0.0.0:0").expect("listen");
    listener.set_nonblocking(true).expect("non-blocking");
    let port = listener.local_addr().expect("address").port();
    // The host's outward address, if it has a route (no packet is sent).
    let outward = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|u| u.connect("192.0.2.1:9").and_then(|()| u.local_addr()))
        .map(|a| a.ip().to_string())
        .ok();
    let addresses = ["127.0.0.1".to_owned()]
        .into_iter()
        .chain(outward)
        .collect::<Vec<_>>()
        .join(" ");
    // A postinst that overwrites a host file by its absolute path and looks for a way out. It
    // succeeds only if the write "worked" (inside the sandbox), the network namespace has
    // nothing but loopback and no route, and connecting to the host's service fails.
    let script = format!(
        "#!/bin/sh\nset -e\nmkdir -p {marker}\necho pwned > {marker}/file\necho pwned > {marker}/new\n\
         ifaces=$(sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' ')\n\
         routes=$(sed -n '2,$p' /proc/net/route | wc -l)\n\
         echo \"sandbox network: interfaces [$ifaces] routes $routes\"\n\
         for addr in {addresses}; do\n\
           if perl -MIO::Socket::INET -e \"IO::Socket::INET->new(PeerAddr => '$addr:{port}', Timeout => 5) or exit 1\"; then\n\
             echo \"sandbox network: connected to $addr\"; exit 1\n\
           fi\n\
           echo \"sandbox network: no connection to $addr\"\n\
         done\n\
         [ \"$ifaces\" = 'lo ' ] && [ \"$routes\" = 0 ]\n"
    );
    let deb = dpkg_deb(
        s.dir.path(),
        "nosy-postinst",
        &[],
        &[("postinst", &script)],
        "",
    );
    // perl-base for its sockets (the minimal set has no network client).
    let mut pkgs = dpkg_set_with(&["perl-base"]);
    pkgs.push(hostile_input(&deb, "nosy-postinst"));
    let before = snapshot(&s.marker);
    let work = s.dir.path().join("work");
    let built = materialize_with(&s.repo, &work, &build_input(pkgs, 1), &Options::default());
    let log = std::fs::read_to_string(work.join("scripts.log")).unwrap_or_default();
    let built = built.unwrap_or_else(|e| panic!("the build failed: {e}\n{log}"));
    assert!(materializer::commit_exists(&s.repo, &built.commit.to_hex()).expect("read repo"));
    assert_eq!(
        snapshot(&s.marker),
        before,
        "a maintainer script changed a host path"
    );
    assert!(!s.marker.join("new").exists());
    assert!(
        log.contains("sandbox network: interfaces [lo ] routes 0"),
        "{log}"
    );
    for addr in addresses.split(' ') {
        assert!(
            log.contains(&format!("sandbox network: no connection to {addr}")),
            "{log}"
        );
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the host's service was reached from a maintainer script"
    );
}
