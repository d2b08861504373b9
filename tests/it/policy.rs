//! apt's pin priorities: particle chooses the candidates apt chooses and plans what apt plans,
//! over the shared mirror and a second, locally signed "backports" source with newer versions
//! (`NotAutomatic` + `ButAutomaticUpgrades`, as Debian's backports), with the same preferences
//! given to both.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The packages the backports source offers newer versions of (`VERSION+bpo1`).
const BACKPORTED: [&str; 4] = ["hello", "jq", "libjq1", "libonig5"];

/// A signed "bookworm-backports" archive under `dir` with [`BACKPORTED`] at newer versions.
fn backports(dir: &Path, key: &TestKey) -> PathBuf {
    let raw = std::fs::read(mirror().join("dists/bookworm/main/binary-amd64/Packages.xz"))
        .expect("read index");
    let text = store::decompress(&raw, store::Compression::Xz, 1 << 30).expect("decompress");
    let text = String::from_utf8(text).expect("utf8");
    let mut packages = String::new();
    for stanza in text.split("\n\n") {
        let name = stanza
            .lines()
            .find_map(|l| l.strip_prefix("Package: "))
            .unwrap_or("");
        if BACKPORTED.contains(&name) {
            let bumped: Vec<String> = stanza
                .lines()
                .map(|l| match l.strip_prefix("Version: ") {
                    Some(v) => format!("Version: {v}+bpo1"),
                    None => exact_to_backports(l),
                })
                .collect();
            packages.push_str(&bumped.join("\n"));
            packages.push_str("\n\n");
        }
    }
    assert_eq!(packages.matches("Package: ").count(), BACKPORTED.len());
    let root = dir.join("backports");
    let idx = root.join("dists/bookworm-backports/main/binary-amd64");
    std::fs::create_dir_all(&idx).expect("mkdir");
    std::fs::write(idx.join("Packages"), &packages).expect("write");
    let sha = store::Sha256::of(packages.as_bytes());
    let release = format!(
        "Origin: Debian Backports\nLabel: Debian Backports\nSuite: bookworm-backports\n\
         Codename: bookworm-backports\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n\
         NotAutomatic: yes\nButAutomaticUpgrades: yes\nArchitectures: amd64\nComponents: main\n\
         SHA256:\n {sha} {} main/binary-amd64/Packages\n",
        packages.len()
    );
    std::fs::write(
        root.join("dists/bookworm-backports/InRelease"),
        key.clearsign(&release, "SHA256"),
    )
    .expect("write");
    root
}

/// `jq (= 1.6-2.1)` on a backported package becomes `(= 1.6-2.1+bpo1)`, as a backport's
/// exact dependencies on its own binaries follow it.
fn exact_to_backports(line: &str) -> String {
    let mut out = line.to_owned();
    for name in BACKPORTED {
        let at = format!("{name} (= ");
        if let Some(i) = out.find(&at) {
            let close = i + out[i..].find(')').expect("closing parenthesis");
            out.insert_str(close, "+bpo1");
        }
    }
    out
}

/// A throwaway apt root over the mirror and the backports archive.
struct Apt {
    dir: tempfile::TempDir,
}

impl Apt {
    fn new(backports: &Path, keyring: &Path) -> Apt {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        for sub in [
            "lists/partial",
            "cache/archives/partial",
            "parts",
            "prefs.d",
        ] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        std::fs::write(d.join("status"), "").expect("write status");
        std::fs::write(d.join("preferences"), "").expect("write preferences");
        std::fs::write(
            d.join("sources.list"),
            format!(
                "deb [signed-by={}] file://{} bookworm main\n\
                 deb [signed-by={}] file://{} bookworm-backports main\n",
                debian_keyring().display(),
                mirror().display(),
                keyring.display(),
                backports.display(),
            ),
        )
        .expect("write sources.list");
        std::fs::write(
            d.join("apt.conf"),
            format!(
                "Dir::Etc::Parts \"{p}/parts\";\nDir::Etc::Preferences \"{p}/preferences\";\n\
                 Dir::Etc::PreferencesParts \"{p}/prefs.d\";\nAcquire::Languages \"none\";\n\
                 APT::Architecture \"amd64\";\nAPT::Architectures {{ \"amd64\"; }};\n\
                 Dir::State::Lists \"{p}/lists\";\nDir::Etc::SourceList \"{p}/sources.list\";\n\
                 Dir::Etc::SourceParts \"/dev/null\";\nDir::Cache \"{p}/cache\";\n\
                 Dir::State::status \"{p}/status\";\nDebug::NoLocking \"1\";\n",
                p = d.display()
            ),
        )
        .expect("write apt.conf");
        let apt = Apt { dir };
        apt.run("apt-get", &["update"]);
        apt
    }

    fn run(&self, tool: &str, args: &[&str]) -> String {
        let out = Command::new(tool)
            .env("APT_CONFIG", self.dir.path().join("apt.conf"))
            .args(args)
            .output()
            .expect("run apt");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `apt-cache policy`'s candidate of each package (`None` for `(none)`).
    fn candidates(&self, names: &[&str]) -> BTreeMap<String, Option<String>> {
        let out = self.run("apt-cache", &[&["policy"][..], names].concat());
        let mut found = BTreeMap::new();
        let mut current = None;
        for line in out.lines() {
            if !line.starts_with(' ') {
                current = line.strip_suffix(':').map(str::to_owned);
            } else if let Some(c) = line.trim().strip_prefix("Candidate: ") {
                let c = (c != "(none)").then(|| c.to_owned());
                found.insert(current.clone().expect("a package line first"), c);
            }
        }
        found
    }

    /// `apt-get -s install`: name -> version of what it would install.
    fn plan(&self, targets: &[&str]) -> BTreeMap<String, String> {
        let out = self.run(
            "apt-get",
            &[
                &["-s", "-o", "APT::Install-Recommends=false", "install"][..],
                targets,
            ]
            .concat(),
        );
        out.lines()
            .filter_map(|l| l.strip_prefix("Inst "))
            .map(|l| {
                // `hello (2.10-3 Debian:12.15/oldstable [amd64])`
                let (name, rest) = l.split_once(" (").expect("Inst line has a version");
                let version = rest.split_whitespace().next().expect("version");
                (name.to_owned(), version.to_owned())
            })
            .collect()
    }

    fn set_preferences(&self, text: &str) {
        std::fs::write(self.dir.path().join("preferences"), text).expect("write");
    }
}

/// particle's candidates (`repo policy --json`).
fn candidates(env: &Env, names: &[&str]) -> BTreeMap<String, Option<String>> {
    let out = env
        .run(&[&["--json", "repo", "policy"][..], names].concat())
        .ok()
        .json();
    out["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let c = p["candidate"].as_str().map(str::to_owned);
            (p["name"].as_str().expect("name").to_owned(), c)
        })
        .collect()
}

/// particle's plan (`txn install --dry-run --json`): name -> version of every added package.
fn plan(env: &Env, targets: &[&str]) -> BTreeMap<String, String> {
    let out = env
        .run(
            &[
                &["--json", "txn", "install", "--dry-run", "--no-recommends"][..],
                targets,
            ]
            .concat(),
        )
        .ok()
        .json();
    name_versions(&out["changes"]["added"])
        .into_iter()
        .collect()
}

#[test]
fn candidates_and_plans_match_apt_under_pins() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = TestKey::generate();
    let bpo = backports(tmp.path(), &key);
    let env = Env::with_source(&file_uri(&mirror()), &debian_keyring());
    env.run(&[
        "repo",
        "add",
        "backports",
        "--uri",
        &file_uri(&bpo),
        "--suite",
        "bookworm-backports",
        "--keyring",
        &key.keyring.to_string_lossy(),
    ])
    .ok();
    env.run(&["repo", "update"]).ok();
    let apt = Apt::new(&bpo, &key.keyring);
    let names = ["hello", "jq", "libjq1", "libonig5", "libc6"];
    let cases = [
        // Backports (NotAutomatic + ButAutomaticUpgrades) are 100: stable's versions.
        ("", "2.10-3"),
        // All of backports at 500: its newer versions win.
        (
            "Package: *\nPin: release a=bookworm-backports\nPin-Priority: 500\n",
            "2.10-3+bpo1",
        ),
        // One package from backports by name, the rest from stable; a glob and a regex.
        (
            "Package: hello jq libjq1\nPin: release n=bookworm-backports\nPin-Priority: 990\n",
            "2.10-3+bpo1",
        ),
        (
            "Package: /^libonig/\nPin: release l=Debian Backports\nPin-Priority: 600\n",
            "2.10-3",
        ),
        // A version pin above 1000, and a never pin on backports' hello.
        (
            "Package: hello\nPin: version 2.10-3\nPin-Priority: 1001\n",
            "2.10-3",
        ),
        (
            "Package: *\nPin: release a=bookworm-backports\nPin-Priority: 500\n\n\
          Package: hello\nPin: version /bpo/\nPin-Priority: -1\n",
            "2.10-3",
        ),
        // By origin (file: sources have none: matches both) and by component.
        (
            "Package: *\nPin: origin \"\"\nPin-Priority: 700\n",
            "2.10-3+bpo1",
        ),
        (
            "Package: *\nPin: release c=main, n=bookworm\nPin-Priority: 50\n\n\
          Package: *\nPin: release a=bookworm-backports\nPin-Priority: 60\n",
            "2.10-3+bpo1",
        ),
    ];
    for (prefs, hello) in cases {
        apt.set_preferences(prefs);
        std::fs::write(env.root().join("preferences"), prefs).expect("write");
        let ours = candidates(&env, &names);
        assert_eq!(ours, apt.candidates(&names), "candidates under {prefs:?}");
        assert_eq!(ours["hello"].as_deref(), Some(hello), "{prefs:?}");
        let theirs = apt.plan(&["hello", "jq"]);
        let ours = plan(&env, &["hello", "jq"]);
        for (name, version) in &theirs {
            assert_eq!(
                ours.get(name),
                Some(version),
                "{name} under {prefs:?}: {ours:?}"
            );
        }
    }
    // apt's PKG/RELEASE: that package from that release (recorded as PKG=VERSION), the rest by
    // priority; a release that does not have it is refused.
    std::fs::write(env.root().join("preferences"), "").expect("write");
    let ours = plan(&env, &["hello/bookworm-backports", "jq"]);
    assert_eq!(ours["hello"], "2.10-3+bpo1", "{ours:?}");
    assert_eq!(ours["jq"], "1.6-2.1+deb12u2", "{ours:?}");
    let theirs = apt.plan(&["hello/bookworm-backports", "jq"]);
    assert_eq!(theirs["hello"], "2.10-3+bpo1", "{theirs:?}");
    let r = env
        .run(&["--json", "txn", "install", "--dry-run", "hello/trixie"])
        .fails("unknown_package");
    assert!(r.stdout.contains("trixie"), "{}", r.stdout);

    // A pin naming a package no source has, and one that does not parse: refused before
    // anything is planned or recorded.
    for (prefs, says) in [
        (
            "Package: no-such-package\nPin: release a=x\nPin-Priority: 900\n",
            "no-such-package",
        ),
        ("Package: hello\nPin: release a=x\n", "Pin-Priority"),
    ] {
        std::fs::write(env.root().join("preferences"), prefs).expect("write");
        let r = env
            .run(&["--json", "txn", "install", "hello"])
            .fails("bad_preferences");
        let message = r.json()["error"]["message"].to_string();
        assert!(message.contains(says), "{message}");
    }
    env.run(&["txn", "log"]).ok();
    assert_eq!(
        env.run(&["--json", "txn", "log"]).ok().json()["transactions"]
            .as_array()
            .map_or(0, Vec::len),
        0
    );
    // repo add --priority: the source's files at 990 and hello from backports.
    std::fs::remove_file(env.root().join("preferences")).expect("rm");
    env.run(&[
        "repo",
        "add",
        "bpo2",
        "--uri",
        &file_uri(&bpo),
        "--suite",
        "bookworm-backports",
        "--keyring",
        &key.keyring.to_string_lossy(),
        "--priority",
        "990",
    ])
    .ok();
    env.run(&["repo", "update"]).ok();
    let files = env.run(&["repo", "policy"]).ok().stdout;
    assert!(
        files.contains("  990 bpo2 bookworm-backports/main amd64"),
        "{files}"
    );
    assert!(
        files.contains("  100 backports bookworm-backports/main amd64"),
        "{files}"
    );
    assert!(
        files.contains("  500 debian oldstable/main amd64"),
        "{files}"
    );
    let human = env.run(&["repo", "policy", "hello"]).ok().stdout;
    assert!(human.contains("Candidate: 2.10-3+bpo1"), "{human}");
}
