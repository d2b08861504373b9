//! `particle solve` and `particle distcheck`: plumbing on Packages files, no state directory.

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
