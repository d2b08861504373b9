//! `particle solve` and `particle distcheck`: plumbing on Packages files (no state directory),
//! or on the pinned snapshot of one.

use crate::common::*;

fn index() -> String {
    mirror()
        .join("dists/bookworm/main/binary-amd64/Packages.xz")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn solve_and_distcheck_on_the_real_index() {
    let env = Env::new();
    let s = env
        .run(&[
            "--json",
            "solve",
            "--index",
            &index(),
            "--no-recommends",
            "install",
            "hello",
        ])
        .ok()
        .json();
    let install = s["install"].as_array().expect("install");
    // apt-get -s plans the same 97 packages for hello with the essential and required set.
    assert_eq!(install.len(), 97, "{s}");
    assert!(install
        .iter()
        .any(|p| p["name"] == "hello" && p["arch"] == "amd64"));
    for p in install {
        for field in ["name", "version", "arch"] {
            assert!(p[field].is_string(), "{p}");
        }
    }
    assert_eq!(s["remove"], serde_json::json!([]));
    let r = env
        .run(&[
            "--json",
            "solve",
            "--index",
            &index(),
            "install",
            "no-such-pkg",
        ])
        .fails("unsatisfiable");
    assert!(r.json()["error"]["message"]
        .as_str()
        .expect("message")
        .contains("no-such-pkg"));
    let d = env
        .run(&["--json", "distcheck", "--index", &index()])
        .ok()
        .json();
    assert_eq!(d["total"], 63440);
    // dose-distcheck finds the same 16 uninstallable packages (checked in solver/tests/real.rs).
    assert_eq!(d["broken"].as_array().expect("broken").len(), 16);
    assert!(d["broken"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("depends on"));
}

/// Without `--index`, `solve` reads the pinned snapshot of the state directory in place; the
/// answer is the one the same index gives as a file.
#[test]
fn solve_over_the_pinned_snapshot_equals_solve_over_the_index() {
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&["repo", "update"]).ok();
    for recommends in [&["--no-recommends"][..], &[][..]] {
        let solve = |index: &[&str]| {
            let mut args = vec!["--json", "solve"];
            args.extend_from_slice(index);
            args.extend_from_slice(recommends);
            args.extend_from_slice(&["install", "hello"]);
            env.run(&args).ok().json()
        };
        let pinned = solve(&[]);
        assert_eq!(pinned, solve(&["--index", &index()]), "{recommends:?}");
        assert!(pinned["install"].as_array().expect("install").len() >= 97);
    }
    env.run(&["--json", "solve", "install", "no-such-pkg"])
        .fails("unsatisfiable");
}

/// `apt-get --solver particle`: apt hands its request over EDSP to `particle edsp` (through the
/// two-line solver script apt looks for in its solvers directory) and applies the answer. In a
/// throwaway apt root on the shared mirror, the plan equals apt's own solver's.
#[test]
fn apt_uses_particle_as_its_external_solver() {
    let d = tempfile::tempdir().expect("tempdir");
    let d = d.path();
    for sub in [
        "lists/partial",
        "cache/archives/partial",
        "parts",
        "solvers",
    ] {
        std::fs::create_dir_all(d.join(sub)).expect("mkdir");
    }
    std::fs::write(d.join("status"), "").expect("status");
    let m = mirror();
    std::fs::write(
        d.join("sources.list"),
        format!(
            "deb [signed-by={}] file://{} bookworm main\n",
            debian_keyring().display(),
            m.display()
        ),
    )
    .expect("sources.list");
    std::fs::write(
        d.join("apt.conf"),
        format!(
            "Dir::Etc::Parts \"{}\";\nAcquire::Languages \"none\";\nAPT::Architecture \"amd64\";\nAPT::Architectures {{ \"amd64\"; }};\n",
            d.join("parts").display()
        ),
    )
    .expect("apt.conf");
    let script = d.join("solvers/particle");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nexec {} edsp\n", env!("CARGO_BIN_EXE_particle")),
    )
    .expect("solver script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let apt = |args: &[&str]| {
        let out = std::process::Command::new("apt-get")
            .env("APT_CONFIG", d.join("apt.conf"))
            .arg(format!("-oDir::State::Lists={}", d.join("lists").display()))
            .arg(format!(
                "-oDir::Etc::SourceList={}",
                d.join("sources.list").display()
            ))
            .arg("-oDir::Etc::SourceParts=/dev/null")
            .arg(format!("-oDir::Cache={}", d.join("cache").display()))
            .arg(format!(
                "-oDir::State::status={}",
                d.join("status").display()
            ))
            .arg("-oDebug::NoLocking=1")
            .arg(format!(
                "-oDir::Bin::Solvers::={}",
                d.join("solvers").display()
            ))
            .args(args)
            .output()
            .expect("apt-get");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, text) = apt(&["update"]);
    assert_eq!(code, Some(0), "{text}");
    let inst = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("Inst "))
            .map(|l| l.split(" (").next().unwrap_or(l).to_owned())
            .collect();
        v.sort();
        v
    };
    for request in [
        &["hello", "jq"][..],
        &["openssh-server"],
        &["iproute2", "less"],
    ] {
        let mut args = vec!["-s", "--solver", "particle", "install"];
        args.extend(request);
        let (code, ours) = apt(&args);
        assert_eq!(code, Some(0), "{ours}");
        assert!(!ours.contains("External solver failed"), "{ours}");
        let mut args = vec!["-s", "install"];
        args.extend(request);
        let (code, theirs) = apt(&args);
        assert_eq!(code, Some(0), "{theirs}");
        assert!(!inst(&ours).is_empty());
        assert_eq!(inst(&ours), inst(&theirs), "{request:?}");
    }
    // A request that cannot be met (the two init systems conflict): the solver answers with an
    // Error stanza, apt shows its message and changes nothing.
    let (code, text) = apt(&[
        "-s",
        "--solver",
        "particle",
        "install",
        "systemd-sysv",
        "sysvinit-core",
    ]);
    assert_ne!(code, Some(0), "{text}");
    assert!(!text.contains("Inst "), "{text}");
    assert!(
        text.contains("systemd-sysv") || text.contains("sysvinit-core"),
        "{text}"
    );
}
