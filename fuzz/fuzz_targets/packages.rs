//! Fuzzes `Packages` index parsing, into the typed package model and into the package table
//! that `repo update` snapshots.
//!
//! Properties: no panic; a parsed universe has one package per stanza, each with a valid name and
//! a version that parses; the table accepts and refuses exactly what the owned parser does (with
//! the same error), and holds the same packages (read back through its rkyv form, as the snapshot
//! holds it, whose spans all lie within the table); the table's name directory is in bounds and
//! finds every package under its name.
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
            let view = archived.view().expect("UTF-8 strings");
            assert!(view.to_universe() == *universe, "the table holds other packages");
            let names = store::NameDirectory::build(&view);
            let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&names).expect("encode");
            let names =
                rkyv::access::<store::ArchivedNameDirectory, rkyv::rancor::Error>(&bytes)
                    .expect("a valid archive");
            names.check(&view).expect("the directory within the table");
            for (i, p) in universe.packages.iter().enumerate() {
                let e = names.find(&view, &p.name).expect("every name is found");
                assert!(names.packages(e).any(|q| q as usize == i), "{:?}", p.name);
            }
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
