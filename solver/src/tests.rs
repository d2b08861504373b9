//! Hand-made cases (insta snapshots), checked by the independent closure checker, and property
//! tests against a brute-force oracle on random small universes.

#[path = "../tests/support/closure.rs"]
mod closure;

use crate::{
    distcheck, Explanation, Installed, Options, PackageVersion, Request, Solution, SolveError,
    Solver, Step,
};
use closure::Check;
use proptest::prelude::*;
use store::Universe;

/// The package DSL: one package per line, `name=version[:arch] Field: value; Field: value`.
/// Architecture defaults to amd64; blank lines and `#` comments are skipped.
fn universe(text: &str) -> Universe {
    store::parse_packages(&stanzas(text)).expect("DSL universe parses")
}

/// The DSL as `Packages` text.
fn stanzas(text: &str) -> String {
    let mut stanzas = String::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (head, fields) = line.split_once(' ').unwrap_or((line, ""));
        let (name, rest) = head.split_once('=').expect("name=version");
        let (version, arch) = rest
            .split_once(':')
            .map_or((rest, "amd64"), |(v, a)| (v, a));
        // A version with an epoch is written `e!v` in the DSL, since `:` introduces the arch.
        let version = version.replace('!', ":");
        stanzas.push_str(&format!(
            "Package: {name}\nVersion: {version}\nArchitecture: {arch}\n"
        ));
        for f in fields.split(';').map(str::trim).filter(|f| !f.is_empty()) {
            stanzas.push_str(f);
            stanzas.push('\n');
        }
        stanzas.push('\n');
    }
    stanzas
}

/// Solves over the DSL universe as a package table read in place, as `particle solve` does
/// over a store snapshot, with the lookups built in memory (a snapshot without a name
/// directory) and read from the directory; both answers must be the owned universe's,
/// `expected`.
fn agrees_over_the_table(
    text: &str,
    options: &Options,
    request: &Request,
    installed: &[Installed],
    expected: &Result<Solution, SolveError>,
) {
    let table = store::PackageTable::parse(&stanzas(text)).expect("DSL universe parses");
    let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&table).expect("encode");
    let archived = rkyv::access::<store::ArchivedPackageTable, rkyv::rancor::Error>(&bytes)
        .expect("valid archive");
    let view = archived.view().expect("UTF-8");
    let got = Solver::from_table(view, options).solve(request, installed);
    assert_eq!(&got, expected, "the table and the owned universe disagree");
    let names =
        rkyv::to_bytes::<rkyv::rancor::Error>(&store::NameDirectory::build(&view)).expect("encode");
    let names = rkyv::access::<store::ArchivedNameDirectory, rkyv::rancor::Error>(&names)
        .expect("valid archive");
    let got = Solver::from_table(view.with_names(names), options).solve(request, installed);
    assert_eq!(
        &got, expected,
        "the name directory and the owned universe disagree"
    );
}

fn opts() -> Options {
    Options::default()
}

fn install(names: &[&str]) -> Request {
    Request {
        install: names.iter().map(|s| (*s).to_owned()).collect(),
        ..Request::default()
    }
}

fn inst(name: &str, version: &str) -> Installed {
    Installed {
        name: name.to_owned(),
        version: version.to_owned(),
        arch: "amd64".to_owned(),
    }
}

/// Renders a result for a snapshot, after checking a solution with the closure checker.
fn show(u: &Universe, options: &Options, r: &Result<Solution, SolveError>) -> String {
    match r {
        Ok(s) => {
            let triples: Vec<(String, String, String)> = s
                .packages
                .iter()
                .map(|c| (c.name.clone(), c.version.clone(), c.arch.clone()))
                .collect();
            let set = Check::resolve(u, &triples).expect("solution names real packages");
            let v = Check {
                native: &options.arch,
                with_required: true,
            }
            .violations(u, &set);
            assert!(v.is_empty(), "solver output is not a valid closure: {v:?}");
            let mut out = String::new();
            for c in &s.packages {
                out.push_str(&format!(
                    "{} {} {} <- {}\n",
                    c.name,
                    c.version,
                    c.arch,
                    reason(&c.reason)
                ));
            }
            for ch in &s.changes {
                out.push_str(&format!(
                    "{:?} {}:{} {} -> {}\n",
                    ch.kind,
                    ch.name,
                    ch.arch,
                    ch.from.as_deref().unwrap_or("-"),
                    ch.to.as_deref().unwrap_or("-")
                ));
            }
            out
        }
        Err(e) => format!("error: {e}\n"),
    }
}

fn reason(r: &crate::Reason) -> String {
    use crate::Reason::*;
    match r {
        Requested => "requested".into(),
        Essential => "essential".into(),
        Required => "required".into(),
        Installed => "installed".into(),
        Depends { by, relation } => format!("{by} depends on {relation}"),
        Recommends { by, relation } => format!("{by} recommends {relation}"),
    }
}

fn case(text: &str, request: &Request, installed: &[Installed]) -> String {
    case_with(text, &opts(), request, installed)
}

fn case_with(text: &str, options: &Options, request: &Request, installed: &[Installed]) -> String {
    let u = universe(text);
    let solver = Solver::new(&u, options);
    let first = solver.solve(request, installed);
    assert_eq!(
        first,
        solver.solve(request, installed),
        "same input, same answer"
    );
    agrees_over_the_table(text, options, request, installed, &first);
    show(&u, options, &first)
}

const BASE: &str = "
    base-files=12:amd64 Essential: yes; Priority: required
    libc6=2.36:amd64 Priority: optional; Multi-Arch: same
    dash=0.5:amd64 Essential: yes; Pre-Depends: libc6 (>= 2.34)
";

#[test]
fn alternatives_take_the_first_installable() {
    let u = format!(
        "{BASE}
        a=1 Depends: b | c
        b=1 Conflicts: dash
        c=1
        d=1 Depends: c | b"
    );
    insta::assert_snapshot!("alternatives", case(&u, &install(&["a", "d"]), &[]));
}

#[test]
fn virtual_with_several_providers() {
    let u = format!(
        "{BASE}
        mua=1 Depends: mail-transport-agent
        postfix=3 Provides: mail-transport-agent; Conflicts: mail-transport-agent; Priority: optional
        exim4=4 Provides: mail-transport-agent; Conflicts: mail-transport-agent; Priority: standard
        mta-user=1 Depends: postfix"
    );
    insta::assert_snapshot!("virtual_providers", case(&u, &install(&["mua"]), &[]));
    // Provides+Conflicts on one virtual name (MTAs): a package never conflicts with itself, and
    // asking for a specific provider steers the choice.
    insta::assert_snapshot!("mta_steered", case(&u, &install(&["mua", "mta-user"]), &[]));
    insta::assert_snapshot!("mta_both", case(&u, &install(&["exim4", "postfix"]), &[]));
}

#[test]
fn versioned_provides() {
    let u = format!(
        "{BASE}
        a=1 Depends: foo (>= 2)
        p-unversioned=1 Provides: foo
        p-old=1 Provides: foo (= 1)
        p-new=1 Provides: foo (= 2)
        only-unversioned=1 Depends: bar (>= 1)
        q=1 Provides: bar"
    );
    insta::assert_snapshot!("versioned_provides", case(&u, &install(&["a"]), &[]));
    insta::assert_snapshot!(
        "unversioned_provides_never_satisfy_versioned",
        case(&u, &install(&["only-unversioned"]), &[])
    );
}

#[test]
fn conflicts_through_provides() {
    let u = format!(
        "{BASE}
        a=1 Conflicts: virt
        b=1 Provides: virt
        c=1 Depends: virt-or-real | b
        virt-or-real=1 Conflicts: a"
    );
    insta::assert_snapshot!(
        "conflict_via_provides",
        case(&u, &install(&["a", "b"]), &[])
    );
    insta::assert_snapshot!(
        "conflict_steers_alternative",
        case(&u, &install(&["a", "c"]), &[])
    );
}

#[test]
fn breaks_on_upgrade_and_essential() {
    let u = format!(
        "{BASE}
        b=2.1 Breaks: c (<< 3)
        c=2.9
        c=3.0
        a=1 Depends: b (>= 2)"
    );
    // c 2.9 is installed; installing a pulls b, which breaks c (<< 3): c is upgraded.
    insta::assert_snapshot!(
        "breaks_upgrades",
        case(&u, &install(&["a"]), &[inst("c", "2.9")])
    );
    let u = format!(
        "{BASE}
        b=2.1 Breaks: c (<< 3)
        c=2.9 Essential: yes
        a=1 Depends: b (>= 2)"
    );
    insta::assert_snapshot!("breaks_essential", case(&u, &install(&["a"]), &[]));
}

#[test]
fn multi_arch() {
    let u = format!(
        "{BASE}
        libc6=2.36:i386 Multi-Arch: same
        libfoo=1:amd64 Multi-Arch: same; Depends: libc6
        libfoo=1:i386 Multi-Arch: same; Depends: libc6
        tool=1:i386 Multi-Arch: foreign; Depends: libc6
        app=1:amd64 Depends: tool, libfoo
        python3=3.11:amd64 Multi-Arch: allowed; Depends: libc6
        plugin=1:i386 Depends: python3:any, libfoo
        notallowed=1:amd64
        wantsany=1:i386 Depends: notallowed:any
        plain=1:amd64
        wantsplain=1:i386 Depends: plain"
    );
    let o = Options {
        arch: "amd64".into(),
        foreign_archs: vec!["i386".into()],
        ..Options::default()
    };
    insta::assert_snapshot!(
        "multiarch_same_foreign_allowed",
        case_with(&u, &o, &install(&["app", "plugin"]), &[])
    );
    insta::assert_snapshot!(
        "multiarch_any_needs_allowed",
        case_with(&u, &o, &install(&["wantsany"]), &[])
    );
    insta::assert_snapshot!(
        "multiarch_plain_is_per_arch",
        case_with(&u, &o, &install(&["wantsplain"]), &[])
    );
    // Without i386 enabled, the i386 packages do not exist.
    insta::assert_snapshot!(
        "multiarch_foreign_disabled",
        case(&u, &install(&["app"]), &[])
    );
}

#[test]
fn arch_qualified_conflicts() {
    let u = format!(
        "{BASE}
        libc6-i386=2.36:amd64
        libc6-x32=2.36:amd64 Conflicts: libc6-i386:x32
        guard=1:amd64 Conflicts: libc6-i386:amd64"
    );
    insta::assert_snapshot!(
        "x32_qualifier_does_not_hit_native",
        case(&u, &install(&["libc6-x32", "libc6-i386"]), &[])
    );
    insta::assert_snapshot!(
        "native_qualifier_hits",
        case(&u, &install(&["guard", "libc6-i386"]), &[])
    );
}

#[test]
fn pre_depends_loop() {
    let u = format!(
        "{BASE}
        a=1 Pre-Depends: b
        b=1 Pre-Depends: a; Depends: c
        c=1 Depends: a"
    );
    insta::assert_snapshot!("pre_depends_loop", case(&u, &install(&["a"]), &[]));
}

#[test]
fn removal() {
    let u = format!(
        "{BASE}
        lib=1
        app=1 Depends: lib
        other=1"
    );
    let installed = [
        inst("base-files", "12"),
        inst("libc6", "2.36"),
        inst("dash", "0.5"),
        inst("lib", "1"),
        inst("app", "1"),
        inst("other", "1"),
    ];
    let rm = |n: &str| Request {
        remove: vec![n.to_owned()],
        ..Request::default()
    };
    insta::assert_snapshot!(
        "remove_takes_reverse_deps",
        case(&u, &rm("lib"), &installed)
    );
    insta::assert_snapshot!(
        "remove_essential_refused",
        case(&u, &rm("dash"), &installed)
    );
    insta::assert_snapshot!(
        "remove_dependency_of_essential_refused",
        case(&u, &rm("libc6"), &installed)
    );
}

#[test]
fn two_versions_of_a_name() {
    let u = format!(
        "{BASE}
        b=1
        b=2
        old=1 Depends: b (<< 2)
        epoch=1!0.1
        epoch=2.0"
    );
    insta::assert_snapshot!(
        "newest_by_default",
        case(&u, &install(&["b", "epoch"]), &[])
    );
    insta::assert_snapshot!("constraint_picks_older", case(&u, &install(&["old"]), &[]));
    insta::assert_snapshot!("explicit_version", case(&u, &install(&["b=1"]), &[]));
    insta::assert_snapshot!(
        "explicit_version_conflicts",
        case(&u, &install(&["b=2", "old"]), &[])
    );
    insta::assert_snapshot!("unknown_version", case(&u, &install(&["b=3"]), &[]));
    insta::assert_snapshot!("unknown_name", case(&u, &install(&["nope"]), &[]));
}

#[test]
fn installed_set_is_kept_unless_upgrading() {
    let u = format!(
        "{BASE}
        b=1
        b=2
        a=1 Depends: b"
    );
    let installed = [inst("b", "1")];
    insta::assert_snapshot!("keeps_installed", case(&u, &install(&["a"]), &installed));
    let up = Request {
        upgrade: true,
        ..Request::default()
    };
    insta::assert_snapshot!("upgrade", case(&u, &up, &installed));
}

#[test]
fn recommends() {
    let u = format!(
        "{BASE}
        a=1 Recommends: r1, bad | r2, missing
        r1=1 Recommends: r3
        r2=1
        r3=1
        bad=1 Conflicts: dash"
    );
    insta::assert_snapshot!("recommends_greedy", case(&u, &install(&["a"]), &[]));
    let norec = Request {
        no_recommends: true,
        ..install(&["a"])
    };
    insta::assert_snapshot!("no_recommends", case(&u, &norec, &[]));
}

/// A package version as explanations name it (native architecture).
fn pv(name: &str, version: &str) -> PackageVersion {
    PackageVersion {
        name: name.to_owned(),
        version: version.to_owned(),
        arch: "amd64".to_owned(),
        foreign: false,
    }
}

fn dependency(text: &str) -> store::Dependency {
    let mut deps = store::parse_dependencies(text).expect("a dependency");
    assert_eq!(deps.len(), 1);
    deps.remove(0)
}

/// The explanation of an `Unsatisfiable` refusal (from the owned universe; the table's answer
/// is checked equal, structure included).
fn unsatisfiable(text: &str, request: &Request, installed: &[Installed]) -> Explanation {
    let u = universe(text);
    let got = Solver::new(&u, &opts()).solve(request, installed);
    agrees_over_the_table(text, &opts(), request, installed, &got);
    match got {
        Err(SolveError::Unsatisfiable { explanation, .. }) => explanation,
        other => panic!("expected Unsatisfiable, got {other:?}"),
    }
}

#[test]
fn explanation_of_a_missing_dependency() {
    let u = format!(
        "{BASE}
        app=1 Depends: tool
        newer=1 Depends: lib (>= 2) | lib-compat
        lib=1"
    );
    let e = unsatisfiable(&u, &install(&["app"]), &[]);
    assert_eq!(
        e.steps,
        [Step::MissingDependency {
            package: pv("app", "1"),
            pre_depends: false,
            dependency: dependency("tool"),
            available: vec![],
        }]
    );
    assert_eq!(e.packages(), ["app", "tool"]);
    assert_eq!(
        e.to_string(),
        "app 1 depends on tool, which no available package satisfies"
    );

    // Versions that exist but do not satisfy it are listed.
    let e = unsatisfiable(&u, &install(&["newer"]), &[]);
    assert_eq!(
        e.steps,
        [Step::MissingDependency {
            package: pv("newer", "1"),
            pre_depends: false,
            dependency: dependency("lib (>= 2) | lib-compat"),
            available: vec![pv("lib", "1")],
        }]
    );
    assert_eq!(e.packages(), ["newer", "lib", "lib-compat"]);
    assert_eq!(
        e.to_string(),
        "newer 1 depends on lib (>= 2) | lib-compat, which no available package satisfies \
         (available: lib 1)"
    );
}

#[test]
fn explanation_of_a_conflict_between_requested_packages() {
    let u = format!(
        "{BASE}
        a=1 Conflicts: b
        b=1
        c=1 Breaks: virt
        d=2 Provides: virt
        e=1 Depends: f (>= 1)
        f=1 Breaks: a (<< 2)"
    );
    let e = unsatisfiable(&u, &install(&["a", "b"]), &[]);
    assert_eq!(
        e.steps,
        [Step::Conflicts {
            package: pv("a", "1"),
            breaks: false,
            relation: store::parse_relation("b").expect("a relation"),
            other: pv("b", "1"),
        }]
    );
    assert_eq!(e.packages(), ["a", "b"]);
    assert_eq!(e.to_string(), "a 1 conflicts with b");

    // Through Provides: the relation names the virtual package, `other` the provider.
    let e = unsatisfiable(&u, &install(&["c", "d"]), &[]);
    assert_eq!(
        e.steps,
        [Step::Conflicts {
            package: pv("c", "1"),
            breaks: true,
            relation: store::parse_relation("virt").expect("a relation"),
            other: pv("d", "2"),
        }]
    );
    assert_eq!(e.packages(), ["c", "d"]);
    assert_eq!(e.to_string(), "c 1 breaks virt (provided by d 2)");

    // Along a dependency chain from a requested package, with a versioned relation.
    let e = unsatisfiable(&u, &install(&["e", "a"]), &[]);
    assert_eq!(
        e.steps,
        [
            Step::Depends {
                package: pv("e", "1"),
                pre_depends: false,
                dependency: dependency("f (>= 1)"),
            },
            Step::Conflicts {
                package: pv("f", "1"),
                breaks: true,
                relation: store::parse_relation("a (<< 2)").expect("a relation"),
                other: pv("a", "1"),
            },
        ]
    );
    assert_eq!(e.packages(), ["e", "f", "a"]);
    assert_eq!(
        e.to_string(),
        "e 1 depends on f (>= 1); f 1 breaks a (<< 2) (matching a 1)"
    );
}

#[test]
fn explanation_of_removing_an_essential_package() {
    let u = format!("{BASE}\nother=1\nmawk=1 Priority: required");
    let installed = [
        inst("base-files", "12"),
        inst("mawk", "1"),
        inst("libc6", "2.36"),
        inst("dash", "0.5"),
        inst("other", "1"),
    ];
    let rm = |n: &str| Request {
        remove: vec![n.to_owned()],
        ..Request::default()
    };
    let solver_universe = universe(&u);
    let solver = Solver::new(&solver_universe, &opts());
    let essential = |r: &Request| match solver.solve(r, &installed) {
        Err(SolveError::Essential { name, explanation }) => (name, explanation),
        other => panic!("expected Essential, got {other:?}"),
    };

    // The essential package itself.
    let (name, e) = essential(&rm("dash"));
    assert_eq!(name, "dash");
    assert_eq!(
        e.steps,
        [Step::Essential {
            name: "dash".to_owned()
        }]
    );
    assert_eq!(e.packages(), ["dash"]);

    // A required one.
    let (name, e) = essential(&rm("mawk"));
    assert_eq!(name, "mawk");
    assert_eq!(
        e.steps,
        [Step::Required {
            name: "mawk".to_owned()
        }]
    );
    assert_eq!(e.to_string(), "mawk is required (Priority: required)");

    // What an essential package pre-depends on, named with its architecture.
    let (name, e) = essential(&rm("libc6:amd64"));
    assert_eq!(name, "libc6:amd64");
    assert_eq!(
        e.steps,
        [
            Step::Removed {
                name: "libc6".to_owned(),
                spec: "libc6:amd64".to_owned(),
            },
            Step::Depends {
                package: pv("dash", "0.5"),
                pre_depends: true,
                dependency: dependency("libc6 (>= 2.34)"),
            },
            Step::Essential {
                name: "dash".to_owned()
            },
        ]
    );
    assert_eq!(e.packages(), ["libc6", "dash"]);
    assert_eq!(
        e.to_string(),
        "libc6:amd64 is to be removed; dash 0.5 pre-depends on libc6 (>= 2.34); dash is essential"
    );
}

#[test]
fn explanation_renders_foreign_architectures_and_instances() {
    let u = format!(
        "{BASE}
        b=1
        b=2
        old=1 Depends: b (<< 2)
        plain=1:amd64
        wantsplain=1:i386 Depends: plain"
    );
    let e = unsatisfiable(&u, &install(&["b=2", "old"]), &[]);
    assert_eq!(
        e.steps,
        [
            Step::Depends {
                package: pv("old", "1"),
                pre_depends: false,
                dependency: dependency("b (<< 2)"),
            },
            Step::OneInstance {
                first: pv("b", "1"),
                second: pv("b", "2"),
            },
        ]
    );
    assert_eq!(e.packages(), ["old", "b"]);

    let o = Options {
        arch: "amd64".into(),
        foreign_archs: vec!["i386".into()],
        ..Options::default()
    };
    let parsed = universe(&u);
    let Err(SolveError::Unsatisfiable { explanation, .. }) =
        Solver::new(&parsed, &o).solve(&install(&["wantsplain"]), &[])
    else {
        panic!("wantsplain:i386 cannot depend on plain:amd64");
    };
    let Step::MissingDependency { package, .. } = &explanation.steps[0] else {
        panic!("expected a missing dependency: {explanation:?}");
    };
    assert_eq!(
        package,
        &PackageVersion {
            name: "wantsplain".to_owned(),
            version: "1".to_owned(),
            arch: "i386".to_owned(),
            foreign: true,
        }
    );
    assert_eq!(package.to_string(), "wantsplain:i386 1");
}

#[test]
fn an_empty_explanation_reads_no_installable_candidate() {
    let e = Explanation::default();
    assert_eq!(e.to_string(), "no installable candidate");
    assert!(e.packages().is_empty());
}

#[test]
fn why_chain() {
    let u = universe(&format!(
        "{BASE}
        a=1 Depends: b
        b=1 Depends: c
        c=1"
    ));
    let s = Solver::new(&u, &opts())
        .solve(&install(&["a"]), &[])
        .expect("solvable");
    assert_eq!(
        s.why("c").expect("c installed"),
        vec![
            "c 1: b depends on c",
            "b 1: a depends on b",
            "a 1: requested"
        ]
    );
    assert_eq!(
        s.why("libc6")
            .expect("installed")
            .last()
            .expect("chain")
            .as_str(),
        "dash 0.5: essential"
    );
    assert!(s.why("zzz").is_none());
}

#[test]
fn distcheck_catalogue() {
    let u = universe(&format!(
        "{BASE}
        ok=1 Depends: libc6
        missing=1 Depends: nothere (>= 1)
        viaessential=1 Conflicts: dash
        chain=1 Depends: missing
        mta1=1 Provides: mta; Conflicts: mta
        mta2=1 Provides: mta; Conflicts: mta
        both=1 Depends: mta1, mta2
        either=1 Depends: mta
        x32=1 Conflicts: libc6:x32"
    ));
    let report = distcheck(&u, &opts());
    let mut text = format!("total {}\n", report.total);
    for b in &report.broken {
        text.push_str(&format!("{} {}: {}\n", b.name, b.version, b.reason));
    }
    insta::assert_snapshot!("distcheck_catalogue", text);
    // Every package reported installable has a witness; every broken one has none.
    for (i, p) in u.packages.iter().enumerate() {
        let broken = report
            .broken
            .iter()
            .any(|b| b.name == p.name && b.version == p.version);
        assert_eq!(broken, !brute_installable(&u, &[i], false), "{}", p.name);
    }
}

/// Brute force: is there a subset containing `must` that passes the closure checker?
fn brute_installable(u: &Universe, must: &[usize], with_required: bool) -> bool {
    let n = u.packages.len();
    assert!(n <= 16, "brute force is for tiny universes");
    let check = Check {
        native: "amd64",
        with_required,
    };
    (0u32..1 << n).any(|mask| {
        must.iter().all(|&m| mask & (1 << m) != 0) && {
            let set: Vec<usize> = (0..n).filter(|&i| mask & (1 << i) != 0).collect();
            check.violations(u, &set).is_empty()
        }
    })
}

/// A random tiny universe in the DSL: names a..e, versions 1/2, random relations.
fn arb_universe() -> impl Strategy<Value = String> {
    let names = ["a", "b", "c", "d", "e", "v"];
    let rel = (0usize..6, 0u8..4).prop_map(move |(n, c)| {
        let name = names[n];
        match c {
            0 => format!("{name} (>= 2)"),
            1 => format!("{name} (<< 2)"),
            _ => name.to_owned(),
        }
    });
    let dep = prop::collection::vec(rel.clone(), 1..3).prop_map(|alts| alts.join(" | "));
    let pkg = (
        0usize..5,
        1u8..3,
        prop::collection::vec(dep, 0..3),
        prop::collection::vec(rel.clone(), 0..2),
        prop::collection::vec(rel, 0..2),
        0u8..4,
        0u8..8,
    )
        .prop_map(move |(n, v, deps, conf, brk, prov, ess)| {
            let mut line = format!("{}={v}", names[n]);
            let mut fields = Vec::new();
            if !deps.is_empty() {
                fields.push(format!("Depends: {}", deps.join(", ")));
            }
            if !conf.is_empty() {
                fields.push(format!("Conflicts: {}", conf.join(", ")));
            }
            if !brk.is_empty() {
                fields.push(format!("Breaks: {}", brk.join(", ")));
            }
            match prov {
                1 => fields.push("Provides: v".to_owned()),
                2 => fields.push("Provides: v (= 2)".to_owned()),
                _ => {}
            }
            if ess == 0 {
                fields.push("Essential: yes".to_owned());
            }
            if !fields.is_empty() {
                line.push(' ');
                line.push_str(&fields.join("; "));
            }
            line
        });
    prop::collection::vec(pkg, 1..8).prop_map(|lines| {
        // One stanza per name=version.
        let mut seen = std::collections::BTreeSet::new();
        lines
            .into_iter()
            .filter(|l| seen.insert(l.split(' ').next().unwrap_or("").to_owned()))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn solve_agrees_with_brute_force(text in arb_universe(), pick in 0usize..8, norec in any::<bool>()) {
        let u = universe(&text);
        let names: Vec<&str> = {
            let mut v: Vec<&str> = u.packages.iter().map(|p| p.name.as_str()).collect();
            v.dedup();
            v
        };
        let target = names[pick % names.len()];
        let request = Request { install: vec![target.to_owned()], no_recommends: norec, ..Request::default() };
        let solver = Solver::new(&u, &opts());
        let got = solver.solve(&request, &[]);
        prop_assert_eq!(&got, &solver.solve(&request, &[]));
        agrees_over_the_table(&text, &opts(), &request, &[], &got);
        let candidates: Vec<usize> = (0..u.packages.len()).filter(|&i| u.packages[i].name == target).collect();
        let oracle = candidates.iter().any(|&i| brute_installable(&u, &[i], true));
        match &got {
            Ok(s) => {
                let triples: Vec<(String, String, String)> =
                    s.packages.iter().map(|c| (c.name.clone(), c.version.clone(), c.arch.clone())).collect();
                let set = Check::resolve(&u, &triples).expect("real packages");
                let v = Check { native: "amd64", with_required: true }.violations(&u, &set);
                prop_assert!(v.is_empty(), "invalid closure {:?} for\n{}", v, text);
                prop_assert!(set.iter().any(|&i| u.packages[i].name == target));
                prop_assert!(oracle);
            }
            Err(e) => prop_assert!(!oracle, "solver failed ({}) but a solution exists for\n{}", e, text),
        }
    }

    #[test]
    fn distcheck_agrees_with_brute_force(text in arb_universe()) {
        let u = universe(&text);
        let report = distcheck(&u, &opts());
        prop_assert_eq!(report.total, u.packages.len());
        for (i, p) in u.packages.iter().enumerate() {
            let broken = report.broken.iter().any(|b| b.name == p.name && b.version == p.version);
            prop_assert_eq!(broken, !brute_installable(&u, &[i], false), "{} in\n{}", p.name, text);
        }
    }

    #[test]
    fn removing_a_dependency_keeps_solvable(text in arb_universe(), pick in 0usize..8) {
        let u = universe(&text);
        let target = u.packages[pick % u.packages.len()].name.clone();
        let request = install(&[&target]);
        if Solver::new(&u, &opts()).solve(&request, &[]).is_ok() {
            let mut fewer = u.clone();
            for p in &mut fewer.packages {
                p.depends.pop();
            }
            prop_assert!(Solver::new(&fewer, &opts()).solve(&request, &[]).is_ok());
        }
    }
}

/// The (name, version) pairs of a solution.
fn chosen(s: &Result<Solution, SolveError>) -> Vec<(String, String)> {
    s.as_ref()
        .expect("solves")
        .packages
        .iter()
        .map(|c| (c.name.clone(), c.version.clone()))
        .collect()
}

/// Solves over the owned universe and both table forms, which must agree.
fn solve_pinned(
    text: &str,
    pins: &[i16],
    request: &Request,
    installed: &[Installed],
) -> Vec<(String, String)> {
    let options = Options {
        pins: pins.to_vec(),
        ..Options::default()
    };
    let u = universe(text);
    let got = Solver::new(&u, &options).solve(request, installed);
    agrees_over_the_table(text, &options, request, installed, &got);
    chosen(&got)
}

#[test]
fn pin_priorities_choose_the_candidate_as_apt_does() {
    // hello 2.0 in a NotAutomatic backports (priority 1), 1.0 in the release (500).
    let u = "hello=1.0 Depends: lib
             lib=1.0
             hello=2.0 Depends: lib (>= 2.0)
             lib=2.0";
    let one = |name: &str, v: &str| (name.to_owned(), v.to_owned());
    // No pins: the newest.
    assert_eq!(
        solve_pinned(u, &[], &install(&["hello"]), &[]),
        [one("hello", "2.0"), one("lib", "2.0")]
    );
    // Backports at 1: the release's version, and its dependency from the release.
    let pins = [500, 500, 1, 1];
    assert_eq!(
        solve_pinned(u, &pins, &install(&["hello"]), &[]),
        [one("hello", "1.0"), one("lib", "1.0")]
    );
    // Asked for by version, backports' is taken (and pulls its dependency from backports).
    assert_eq!(
        solve_pinned(u, &pins, &install(&["hello=2.0"]), &[]),
        [one("hello", "2.0"), one("lib", "2.0")]
    );
    // A negative pin: never chosen, even when it is the only version of a name.
    assert_eq!(
        solve_pinned(u, &[500, 500, -1, -1], &install(&["hello"]), &[]),
        [one("hello", "1.0"), one("lib", "1.0")]
    );
    let never = Solver::new(
        &universe(u),
        &Options {
            pins: vec![-1, -1, -1, -1],
            ..Options::default()
        },
    )
    .solve(&install(&["hello"]), &[]);
    assert!(
        matches!(never, Err(SolveError::Unknown { .. })),
        "{never:?}"
    );
}

#[test]
fn an_upgrade_follows_apts_candidate_rule() {
    let u = "hello=1.0
             hello=2.0
             hello=2.1";
    let upgrade = Request {
        upgrade: true,
        ..Request::default()
    };
    let one = |v: &str| vec![("hello".to_owned(), v.to_owned())];
    // Installed from backports (2.0, priority 1 there): the release's 1.0 (500) is older, so
    // not a candidate below 1000; backports' 2.1 at 1 loses to the installed version's 100.
    assert_eq!(
        solve_pinned(u, &[500, 1, 1], &upgrade, &[inst("hello", "2.0")]),
        one("2.0")
    );
    // With ButAutomaticUpgrades (100) the installed backports version moves to 2.1.
    assert_eq!(
        solve_pinned(u, &[500, 100, 100], &upgrade, &[inst("hello", "2.0")]),
        one("2.1")
    );
    // A pin of 1000 or more may downgrade.
    assert_eq!(
        solve_pinned(u, &[1001, 100, 100], &upgrade, &[inst("hello", "2.0")]),
        one("1.0")
    );
    // Without pins, the newest.
    assert_eq!(
        solve_pinned(u, &[], &upgrade, &[inst("hello", "1.0")]),
        one("2.1")
    );
}

#[test]
fn a_version_listed_twice_is_taken_from_the_first_index_with_its_sha256() {
    let u = "hello=1.0 SHA256: 0101010101010101010101010101010101010101010101010101010101010101
             hello=1.0 SHA256: 0202020202020202020202020202020202020202020202020202020202020202";
    let solution = Solver::new(&universe(u), &opts())
        .solve(&install(&["hello"]), &[])
        .expect("solves");
    assert_eq!(solution.packages[0].sha256, store::Sha256([1; 32]));
    // The higher pin wins over the order.
    let options = Options {
        pins: vec![100, 500],
        ..Options::default()
    };
    let solution = Solver::new(&universe(u), &options)
        .solve(&install(&["hello"]), &[])
        .expect("solves");
    assert_eq!(solution.packages[0].sha256, store::Sha256([2; 32]));
}
