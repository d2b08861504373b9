//! The solver on the real bookworm main index, checked against the peers themselves:
//! dose-distcheck for whole-archive installability, apt-get -s for install plans.
//! Both peers run inside the test (Debian packages `dose-distcheck` and `apt`).

#[path = "support/closure.rs"]
mod closure;

use closure::Check;
use solver::{distcheck, Options, Request, Solver};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use store::Universe;

/// The shared mirror: `$PARTICLE_MIRROR`, else `../shared/debian-mirror` beside the checkout.
fn mirror() -> String {
    let path = std::env::var("PARTICLE_MIRROR")
        .unwrap_or_else(|_| format!("{}/../../shared/debian-mirror", env!("CARGO_MANIFEST_DIR")));
    std::fs::canonicalize(&path).map_or(path, |p| p.display().to_string())
}

struct Index {
    universe: Universe,
    text: Vec<u8>,
}

/// The index, parsed once per test binary.
fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let path = format!("{}/dists/bookworm/main/binary-amd64/Packages.xz", mirror());
        let xz = std::fs::read(&path).expect("the shared mirror's Packages.xz is readable");
        let text = store::decompress(&xz, store::Compression::Xz, 1 << 30)
            .expect("Packages.xz decompresses");
        let universe = store::parse_packages_bytes(&text).expect("Packages parses");
        Index { universe, text }
    })
}

fn run(cmd: &mut Command) -> String {
    run_ok(cmd, &[0])
}

/// Runs a peer; `ok` are the exit codes that mean it worked (dose exits 1 when it finds broken
/// packages).
fn run_ok(cmd: &mut Command, ok: &[i32]) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (is the peer installed?)"));
    let code = out.status.code().unwrap_or(-1);
    assert!(
        ok.contains(&code),
        "{cmd:?} exited with {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("peer output is UTF-8")
}

#[test]
fn distcheck_verdicts_match_dose() {
    let ix = index();
    let report = distcheck(&ix.universe, &Options::default());
    assert_eq!(report.total, ix.universe.packages.len());
    let ours: BTreeSet<(String, String)> = report
        .broken
        .iter()
        .map(|b| (b.name.clone(), b.version.clone()))
        .collect();
    for b in &report.broken {
        assert!(!b.reason.is_empty(), "{} has no reason", b.name);
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let packages = dir.path().join("Packages");
    std::fs::write(&packages, &ix.text).expect("write Packages");
    let out = run_ok(
        Command::new("dose-distcheck")
            .arg("--deb-native-arch=amd64")
            .arg("-f")
            .arg(format!("deb://{}", packages.display())),
        &[0, 1],
    );
    let mut dose = BTreeSet::new();
    let (mut name, mut version) = (String::new(), String::new());
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("package: ") {
            name = v.to_owned();
        } else if let Some(v) = line.strip_prefix("version: ") {
            version = v.to_owned();
        } else if line == "status: broken" {
            dose.insert((name.clone(), version.clone()));
        }
    }
    assert!(
        !dose.is_empty(),
        "dose reported nothing broken; its output format changed?\n{out:.2000}"
    );
    assert_eq!(ours, dose, "verdicts differ from dose-distcheck");
}

/// A throwaway apt root with only the shared mirror, as platform-notes.md describes.
struct Apt {
    dir: tempfile::TempDir,
}

impl Apt {
    fn new() -> Apt {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        for sub in ["lists/partial", "cache/archives/partial", "parts"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        std::fs::write(d.join("status"), "").expect("write status");
        std::fs::write(
            d.join("sources.list"),
            format!(
                "deb [signed-by={m}/keyring/debian-archive-keyring.gpg] file://{m} bookworm main\n",
                m = mirror()
            ),
        )
        .expect("write sources.list");
        std::fs::write(
            d.join("apt.conf"),
            format!(
                "Dir::Etc::Parts \"{}\";\nAcquire::Languages \"none\";\nAPT::Architecture \"amd64\";\nAPT::Architectures {{ \"amd64\"; }};\n",
                d.join("parts").display()
            ),
        )
        .expect("write apt.conf");
        let apt = Apt { dir };
        run(apt.cmd().arg("update"));
        apt
    }

    fn cmd(&self) -> Command {
        let d: PathBuf = self.dir.path().to_owned();
        let mut c = Command::new("apt-get");
        c.env("APT_CONFIG", d.join("apt.conf"))
            .arg("-o")
            .arg(format!("Dir::State::Lists={}", d.join("lists").display()))
            .arg("-o")
            .arg(format!(
                "Dir::Etc::SourceList={}",
                d.join("sources.list").display()
            ))
            .arg("-o")
            .arg("Dir::Etc::SourceParts=/dev/null")
            .arg("-o")
            .arg(format!("Dir::Cache={}", d.join("cache").display()))
            .arg("-o")
            .arg(format!("Dir::State::status={}", d.join("status").display()))
            .arg("-o")
            .arg("Debug::NoLocking=1");
        c
    }

    /// `apt-get -s install` of `target` plus `base`: the (name, version, arch) it would install.
    fn plan(&self, target: &str, base: &[&str], recommends: bool) -> Vec<(String, String, String)> {
        let out = run(self
            .cmd()
            .args([
                "-s",
                "-o",
                &format!("APT::Install-Recommends={recommends}"),
                "install",
                target,
            ])
            .args(base));
        out.lines()
            .filter_map(|l| l.strip_prefix("Inst "))
            .map(|l| {
                // `hello (2.10-3 Debian:12.15/oldstable [amd64])`
                let (name, rest) = l.split_once(" (").expect("Inst line has a version");
                let version = rest.split_whitespace().next().expect("version").to_owned();
                let inside = rest.split(')').next().expect("closing parenthesis");
                let arch = inside
                    .rsplit_once('[')
                    .and_then(|(_, a)| a.split(']').next())
                    .expect("arch")
                    .to_owned();
                (name.to_owned(), version, arch)
            })
            .collect()
    }
}

fn size(u: &Universe, set: &[usize]) -> u64 {
    set.iter().map(|&i| u.packages[i].installed_size).sum()
}

#[test]
fn install_plans_are_valid_and_close_to_apt() {
    let ix = index();
    let u = &ix.universe;
    let apt = Apt::new();
    let mut base: Vec<&str> = u
        .packages
        .iter()
        .filter(|p| {
            (p.arch == "amd64" || p.arch == "all")
                && (p.essential || p.priority == store::Priority::Required)
        })
        .map(|p| p.name.as_str())
        .collect();
    base.sort_unstable();
    base.dedup();
    let solver = Solver::new(u, &Options::default());
    let check = Check {
        native: "amd64",
        with_required: true,
    };
    let targets = [
        "hello",
        "build-essential",
        "task-gnome-desktop",
        "task-kde-desktop",
        "task-xfce-desktop",
        "libreoffice",
        "texlive-full",
        "gnome",
        "kde-full",
    ];
    let mut failures = Vec::new();
    let mut table = String::new();
    for target in targets {
        for recommends in [false, true] {
            let request = Request {
                install: vec![target.to_owned()],
                no_recommends: !recommends,
                ..Request::default()
            };
            let solution = solver
                .solve(&request, &[])
                .unwrap_or_else(|e| panic!("{target}: {e}"));
            let ours: Vec<(String, String, String)> = solution
                .packages
                .iter()
                .map(|c| (c.name.clone(), c.version.clone(), c.arch.clone()))
                .collect();
            let ours = Check::resolve(u, &ours).expect("solution names real packages");
            let violations = check.violations(u, &ours);
            if !violations.is_empty() {
                failures.push(format!(
                    "{target} (recommends {recommends}): invalid closure: {violations:?}"
                ));
            }
            let theirs = Check::resolve(u, &apt.plan(target, &base, recommends))
                .expect("apt names real packages");
            let (so, sa) = (size(u, &ours), size(u, &theirs));
            let ratio = so as f64 / sa as f64;
            let (ro, ra) = (
                closure::recommends_counts(u, &ours, "amd64"),
                closure::recommends_counts(u, &theirs, "amd64"),
            );
            table.push_str(&format!(
                "{target:20} rec={recommends:5} ours {:5} pkgs {so:9} KiB rec {ro:?} | apt {:5} pkgs {sa:9} KiB rec {ra:?} | size ratio {ratio:.4}\n",
                ours.len(),
                theirs.len()
            ));
            let tolerance = if recommends { 0.05 } else { 0.02 };
            if (ratio - 1.0).abs() > tolerance {
                failures.push(format!(
                    "{target} (recommends {recommends}): size ratio {ratio:.4} beyond ±{tolerance}"
                ));
            }
            // Recommends: particle leaves no more Recommends entries unsatisfied than apt does,
            // except for the deviations listed (and explained in docs/solver.md), which must
            // match exactly: a fix, or a regression, makes this test fail until the list is updated.
            let known = KNOWN_RECOMMENDS_DEVIATIONS
                .iter()
                .find(|(t, _, _)| *t == target);
            if recommends && known.is_some_and(|&(_, o, a)| (o, a) != (ro.1, ra.1)) {
                failures.push(format!(
                    "{target}: known deviation changed: now {} Recommends unsatisfied vs apt's {}; update KNOWN_RECOMMENDS_DEVIATIONS and docs/solver.md",
                    ro.1, ra.1
                ));
            }
            if recommends && known.is_none() && ro.1 > ra.1 {
                failures.push(format!(
                    "{target}: {} Recommends unsatisfied, apt leaves {}",
                    ro.1, ra.1
                ));
            }
        }
    }
    println!("{table}");
    assert!(failures.is_empty(), "{failures:#?}\n{table}");
}

/// Open deviations from apt's Recommends choices: (target, particle's unsatisfied Recommends,
/// apt's). texlive-full: xterm recommends `luit | x11-utils (<< 7.7+6~)`; particle reaches xterm
/// first and takes luit, which breaks x11-utils, so x11-utils' own Recommends are later refused;
/// apt visits x11-utils first. Tracked in issue 3 (docs/solver.md, "Known differences").
const KNOWN_RECOMMENDS_DEVIATIONS: &[(&str, usize, usize)] = &[("texlive-full", 3, 1)];

/// `particle solve` over a store snapshot reads the package table in place
/// (`Solver::from_table`), with its lookups from the snapshot's name directory (or built, for a
/// snapshot without one); on the real archive, every target gives exactly the answer the owned
/// universe gives either way, with and without Recommends, and for an unsatisfiable request the
/// same error.
#[test]
fn the_package_table_gives_the_owned_universes_answers() {
    let ix = index();
    let text = std::str::from_utf8(&ix.text).expect("UTF-8");
    let table = store::PackageTable::parse(text).expect("Packages parses into a table");
    let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&table).expect("encode");
    let archived = rkyv::access::<store::ArchivedPackageTable, rkyv::rancor::Error>(&bytes)
        .expect("valid archive");
    archived.check_spans().expect("spans in bounds");
    let view = archived.view().expect("UTF-8 strings");
    assert_eq!(view.to_universe(), ix.universe);
    let names =
        rkyv::to_bytes::<rkyv::rancor::Error>(&store::NameDirectory::build(&view)).expect("encode");
    let names = rkyv::access::<store::ArchivedNameDirectory, rkyv::rancor::Error>(&names)
        .expect("valid archive");
    let owned = Solver::new(&ix.universe, &Options::default());
    let in_place = Solver::from_table(view, &Options::default());
    let with_names = Solver::from_table(view.with_names(names), &Options::default());
    for target in [
        "hello",
        "build-essential",
        "task-gnome-desktop",
        "task-kde-desktop",
        "libreoffice",
        "texlive-full",
        "no-such-package",
    ] {
        for no_recommends in [true, false] {
            let request = Request {
                install: vec![target.to_owned()],
                no_recommends,
                ..Default::default()
            };
            let expected = owned.solve(&request, &[]);
            assert_eq!(
                in_place.solve(&request, &[]),
                expected,
                "{target}, no_recommends {no_recommends}"
            );
            assert_eq!(
                with_names.solve(&request, &[]),
                expected,
                "{target}, no_recommends {no_recommends}, name directory"
            );
        }
    }
}
