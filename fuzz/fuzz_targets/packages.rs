//! Fuzzes `Packages` index parsing, into the typed package model and into the package table
//! that `repo update` snapshots.
//!
//! Properties: no panic; a parsed universe has one package per stanza, each with a valid name and
//! a version that parses; the table accepts and refuses exactly what the owned parser does (with
//! the same error), and holds the same packages (read back through its rkyv form, as the snapshot
//! holds it, whose spans all lie within the table).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let owned = store::parse_packages_bytes(data);
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(owned.is_err(), "non-UTF-8 input parsed");
        return;
    };
    match (&owned, store::PackageTable::parse(text)) {
        (Ok(universe), Ok(table)) => {
            let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&table).expect("encode the table");
            let archived =
                rkyv::access::<store::ArchivedPackageTable, rkyv::rancor::Error>(&bytes)
                    .expect("a valid archive");
            archived.check_spans().expect("every span within the table");
            let back = archived.view().expect("UTF-8 strings").to_universe();
            assert!(back == *universe, "the table holds other packages");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!(
            "the owned parser and the table disagree: owned ok {}, table ok {}",
            a.is_ok(),
            b.is_ok()
        ),
    }
    let Ok(universe) = owned else {
        return;
    };
    assert_eq!(universe.packages.len(), store::paragraphs(text).count());
    for p in &universe.packages {
        assert!(store::valid_name(&p.name), "{:?}", p.name);
        assert!(store::Version::parse(&p.version).is_ok(), "{:?}", p.version);
    }
});
