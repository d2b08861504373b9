//! Foreign architectures and the contrib, non-free and non-free-firmware components: a source
//! added with `--arch amd64 --arch i386` and every component gives the solver i386 packages
//! (as `dpkg --add-architecture i386` does), and a commit with i386 packages has dpkg's `arch`
//! file, so that dpkg inside the tree knows them.

use crate::common::*;
use std::process::Command;

fn json_names(doc: &serde_json::Value) -> Vec<String> {
    doc["changes"]["added"]
        .as_array()
        .unwrap_or_else(|| panic!("added: {doc}"))
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p["name"].as_str().expect("name"),
                p["arch"].as_str().expect("arch")
            )
        })
        .collect()
}

/// `dpkg-query` over the dpkg database of `commit`, checked out under `dir`.
fn dpkg_in(env: &Env, commit: &str, dir: &std::path::Path, args: &[&str]) -> String {
    let tree = dir.join(commit);
    if !tree.exists() {
        let out = Command::new("ostree")
            .arg(format!(
                "--repo={}",
                env.root().join("ostree/repo").display()
            ))
            .args(["checkout", "-U", "--subpath=/usr/lib/sysimage/dpkg", commit])
            .arg(&tree)
            .output()
            .expect("ostree");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new(args[0])
        .arg(format!("--admindir={}", tree.display()))
        .args(&args[1..])
        .output()
        .expect("dpkg");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn i386_packages_and_every_component() {
    let env = Env::with_every_component();
    let pinned = env.run(&["--json", "repo", "update"]).ok().json();
    assert!(
        pinned["sources"][0]["packages"].as_u64().expect("count") > 100_000,
        "{pinned}"
    );
    let files = env.run(&["repo", "policy"]).ok().stdout;
    for c in ["main", "contrib", "non-free", "non-free-firmware"] {
        for a in ["amd64", "i386"] {
            assert!(
                files.contains(&format!("oldstable/{c} {a}")),
                "{c} {a}: {files}"
            );
        }
    }

    // Solve only (the pool does not hold the closure): Steam from contrib, with its i386
    // libraries.
    let steam = env
        .run(&["--json", "txn", "install", "--dry-run", "steam-installer"])
        .ok()
        .json();
    let names = json_names(&steam);
    for want in [
        "steam-installer:amd64",
        "steam-libs-i386:i386",
        "libc6:i386",
        "libc6:amd64",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }

    // Composed: hello for i386 with libc6:i386 from the pool, and AMD's microcode from
    // non-free-firmware.
    let first = env
        .run(&[
            "--json",
            "txn",
            "install",
            "--no-recommends",
            "hello:i386",
            "amd64-microcode",
        ])
        .ok()
        .json();
    let names = json_names(&first);
    for want in ["hello:i386", "libc6:i386", "amd64-microcode:amd64"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    assert!(!names.iter().any(|n| n == "hello:amd64"), "{names:?}");
    let commit = first["commit"].as_str().expect("commit");
    let tmp = tempfile::tempdir().expect("tempdir");
    let foreign_of = |commit: &str| {
        dpkg_in(
            &env,
            commit,
            tmp.path(),
            &["dpkg", "--print-foreign-architectures"],
        )
    };
    let foreign = foreign_of(commit);
    assert_eq!(foreign, "i386\n");
    let shown = dpkg_in(
        &env,
        commit,
        tmp.path(),
        &[
            "dpkg-query",
            "-W",
            "hello:i386",
            "libc6:i386",
            "libc6:amd64",
        ],
    );
    assert!(
        shown.contains("hello:i386\t2.10-3") || shown.contains("hello\t2.10-3"),
        "{shown}"
    );
    assert!(shown.contains("libc6:i386\t2.36-9+deb12u14"), "{shown}");
    assert!(shown.contains("libc6:amd64\t2.36-9+deb12u14"), "{shown}");
    let hello = Command::new("ostree")
        .arg(format!(
            "--repo={}",
            env.root().join("ostree/repo").display()
        ))
        .args(["cat", commit, "/usr/bin/hello"])
        .output()
        .expect("ostree cat");
    // An ELF of class 32 for machine 3 (Intel 80386).
    assert_eq!(&hello.stdout[..5], b"\x7fELF\x01");
    assert_eq!(u16::from_le_bytes([hello.stdout[18], hello.stdout[19]]), 3);

    // Built on that commit by dpkg in the sandbox: purging hello:i386 needs dpkg to know i386;
    // libc6:i386 stays, and so does the architecture.
    let second = env
        .run(&["--json", "txn", "remove", "hello:i386"])
        .ok()
        .json();
    let commit = second["commit"].as_str().expect("commit");
    let shown = dpkg_in(
        &env,
        commit,
        tmp.path(),
        &["dpkg-query", "-W", "libc6:i386"],
    );
    assert!(shown.contains("libc6:i386"), "{shown}");
    let foreign = foreign_of(commit);
    assert_eq!(foreign, "i386\n");

    // A variant that declares its architectures: only amd64 here, so i386 packages are out of
    // its reach although the source carries them; one declaring an architecture no source
    // carries is refused at apply.
    let defs = tmp.path().join("defs");
    std::fs::create_dir_all(&defs).expect("mkdir");
    let def = |name: &str, archs: &str| {
        let path = defs.join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "name = \"{name}\"\narchitectures = [{archs}]\n[packages]\ninstall = [\"hello\"]\n"
            ),
        )
        .expect("write");
        path.to_string_lossy().into_owned()
    };
    let native = def("native", "\"amd64\"");
    env.run(&["--json", "variant", "apply", "--dry-run", &native])
        .ok();
    let r = env
        .run(&[
            "--json",
            "variant",
            "apply",
            "--dry-run",
            &def("arm", "\"amd64\", \"armhf\""),
        ])
        .fails("bad_definition");
    assert!(r.stdout.contains("armhf"), "{}", r.stdout);
    let both = def("both", "\"amd64\", \"i386\"");
    let with_i386 = std::fs::read_to_string(&both)
        .expect("read")
        .replace("[\"hello\"]", "[\"hello:i386\"]");
    std::fs::write(&both, with_i386).expect("write");
    let planned = env
        .run(&["--json", "variant", "apply", "--dry-run", &both])
        .ok()
        .json();
    assert!(
        json_names(&planned).iter().any(|n| n == "hello:i386"),
        "{planned}"
    );
    let only_native = native.replace("native.toml", "native-i386.toml");
    std::fs::write(
        &only_native,
        "name = \"native\"\narchitectures = [\"amd64\"]\n[packages]\ninstall = [\"hello:i386\"]\n",
    )
    .expect("write");
    env.run(&["--json", "variant", "apply", "--dry-run", &only_native])
        .fails("unsatisfiable");

    // Declared but not yet used: dpkg in the tree knows i386 all the same (as after `dpkg
    // --add-architecture i386`), also after a build on that commit.
    let declared = def("declared", "\"amd64\", \"i386\"");
    let applied = env
        .run(&["--json", "variant", "apply", &declared])
        .ok()
        .json();
    let commit = applied["commit"].as_str().expect("commit");
    assert!(!json_names(&applied).iter().any(|n| n.ends_with(":i386")));
    let foreign = foreign_of(commit);
    assert_eq!(foreign, "i386\n");
    let more = env
        .run(&[
            "--json",
            "txn",
            "install",
            "--variant",
            "declared",
            "--no-recommends",
            "jq",
        ])
        .ok()
        .json();
    let commit = more["commit"].as_str().expect("commit");
    let foreign = foreign_of(commit);
    assert_eq!(foreign, "i386\n");

    // An architecture no source carries: a clear error, nothing recorded.
    let before = env.run(&["--json", "txn", "log"]).ok().json();
    let r = env
        .run(&["--json", "txn", "install", "hello:armhf"])
        .fails("unsatisfiable");
    let message = r.json()["error"]["message"].to_string();
    assert!(message.contains("hello"), "{message}");
    assert_eq!(env.run(&["--json", "txn", "log"]).ok().json(), before);
}
