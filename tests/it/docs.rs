//! The man pages and completions in docs/ are generated from the clap definitions: this test
//! regenerates them and fails if the checked-in copy differs (run `particle generate-docs docs`
//! to update).

use crate::common::*;

fn read_tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for sub in ["man", "completions"] {
        let d = dir.join(sub);
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            out.insert(
                format!("{sub}/{}", e.file_name().to_string_lossy()),
                std::fs::read(e.path()).expect("read"),
            );
        }
    }
    out
}

#[test]
fn checked_in_man_pages_and_completions_are_current() {
    let env = Env::new();
    let out = env.dir.path().join("gen");
    env.run(&["generate-docs", &out.to_string_lossy()]).ok();
    let generated = read_tree(&out);
    assert!(generated.contains_key("man/particle.1"));
    assert!(generated.contains_key("man/particle-txn-install.1"));
    assert!(generated.contains_key("completions/particle.bash"));
    let checked_in = read_tree(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs"));
    assert!(
        generated == checked_in,
        "docs/man or docs/completions is stale: run `cargo run -p particle-cli -- generate-docs docs`"
    );
}

#[test]
fn help_is_there_for_every_command() {
    let env = Env::new();
    for args in [
        vec!["--help"],
        vec!["txn", "--help"],
        vec!["txn", "install", "--help"],
        vec!["repo", "update", "--help"],
    ] {
        let r = env.run(&args).ok();
        assert!(r.stdout.contains("Usage:"), "{args:?}: {}", r.stdout);
    }
}

/// `kind` is stable and documented: docs/cli.md's table names every `engine::ErrorKind`.
#[test]
fn every_error_kind_is_documented() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md"),
    )
    .expect("docs/cli.md");
    let missing: Vec<&str> = engine::ErrorKind::ALL
        .iter()
        .map(|k| k.as_str())
        .filter(|k| !doc.contains(&format!("| `{k}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/cli.md's table: {missing:?}"
    );
}
