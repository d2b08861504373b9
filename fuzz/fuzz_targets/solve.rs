//! Fuzzes the solver on small universes built from the input: names a..e and a virtual name v,
//! versions 1 and 2, Pre-Depends/Depends with alternatives and version constraints, Recommends,
//! Conflicts, Breaks, Provides (versioned or not), Essential; a request to install one name,
//! with or without Recommends, solved over an owned universe and over the package table with
//! its name directory (what `particle solve` reads from a snapshot).
//!
//! Properties: no panic; the same answer twice and from both sources; an answer is a valid
//! closure by the independent checker of the solver's tests (`solver/tests/support/closure.rs`,
//! written from Debian policy without the solver's code) and installs the requested name; a
//! refusal only when brute force over every subset finds no valid set with the name.
#![no_main]

#[path = "../../solver/tests/support/closure.rs"]
mod closure;

use closure::Check;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "v"];

/// Reads the input a byte at a time; zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self, n: u8) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b % n
    }
}

fn relation(b: &mut Bytes<'_>) -> String {
    let name = NAMES[b.next(6) as usize];
    match b.next(4) {
        0 => format!("{name} (>= 2)"),
        1 => format!("{name} (<< 2)"),
        _ => name.to_owned(),
    }
}

fn list(b: &mut Bytes<'_>, max: u8, alternatives: bool) -> Vec<String> {
    (0..b.next(max + 1))
        .map(|_| {
            let alts = if alternatives { 1 + b.next(3) } else { 1 };
            (0..alts)
                .map(|_| relation(b))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

/// `Packages` text for up to 12 packages, one stanza per (name, version).
fn universe_text(b: &mut Bytes<'_>) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let mut text = String::new();
    for _ in 0..1 + b.next(12) {
        let name = NAMES[b.next(5) as usize];
        let version = 1 + b.next(2);
        let fields = [
            ("Pre-Depends", list(b, 1, true)),
            ("Depends", list(b, 3, true)),
            ("Recommends", list(b, 2, true)),
            ("Conflicts", list(b, 2, false)),
            ("Breaks", list(b, 1, false)),
        ];
        let provides = b.next(4);
        let essential = b.next(8) == 0;
        if !seen.insert((name, version)) {
            continue;
        }
        text.push_str(&format!(
            "Package: {name}\nVersion: {version}\nArchitecture: amd64\n"
        ));
        for (field, rels) in fields {
            if !rels.is_empty() {
                text.push_str(&format!("{field}: {}\n", rels.join(", ")));
            }
        }
        match provides {
            1 => text.push_str("Provides: v\n"),
            2 => text.push_str("Provides: v (= 2)\n"),
            _ => {}
        }
        if essential {
            text.push_str("Essential: yes\n");
        }
        text.push('\n');
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let target = NAMES[b.next(5) as usize];
    let no_recommends = b.next(2) == 0;
    let text = universe_text(&mut b);
    let universe = store::parse_packages(&text).expect("generated stanzas parse");
    if !universe.packages.iter().any(|p| p.name == target) {
        return;
    }
    let request = solver::Request {
        install: vec![target.to_owned()],
        no_recommends,
        ..Default::default()
    };
    let options = solver::Options::default();
    let owned = solver::Solver::new(&universe, &options);
    let got = owned.solve(&request, &[]);
    assert_eq!(
        got,
        owned.solve(&request, &[]),
        "two answers for one request"
    );

    let table = store::PackageTable::parse(&text).expect("generated stanzas parse");
    let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&table).expect("encode the table");
    let archived = rkyv::access::<store::ArchivedPackageTable, rkyv::rancor::Error>(&bytes)
        .expect("a valid archive");
    let view = archived.view().expect("UTF-8 strings");
    let names = rkyv::to_bytes::<rkyv::rancor::Error>(&store::NameDirectory::build(&view))
        .expect("encode the directory");
    let names = rkyv::access::<store::ArchivedNameDirectory, rkyv::rancor::Error>(&names)
        .expect("a valid archive");
    let in_place =
        solver::Solver::from_table(view.with_names(names), &options).solve(&request, &[]);
    assert_eq!(
        in_place, got,
        "the table and the owned universe disagree\n{text}"
    );

    let check = Check {
        native: "amd64",
        with_required: true,
    };
    match got {
        Ok(solution) => {
            let triples: Vec<(String, String, String)> = solution
                .packages
                .iter()
                .map(|c| (c.name.clone(), c.version.clone(), c.arch.clone()))
                .collect();
            let set = Check::resolve(&universe, &triples).expect("real packages");
            let violations = check.violations(&universe, &set);
            assert!(violations.is_empty(), "{violations:?} in\n{text}");
            // A valid set with the target: the answer is its own witness.
            assert!(set.iter().any(|&i| universe.packages[i].name == target));
        }
        Err(e) => {
            // Refused: brute force over every subset must find no valid set with the target.
            let n = universe.packages.len();
            let installable = (0u32..1 << n).any(|mask| {
                let set: Vec<usize> = (0..n).filter(|&i| mask & (1 << i) != 0).collect();
                set.iter().any(|&i| universe.packages[i].name == target)
                    && check.violations(&universe, &set).is_empty()
            });
            assert!(!installable, "refused ({e}) but a solution exists\n{text}");
        }
    }
});
