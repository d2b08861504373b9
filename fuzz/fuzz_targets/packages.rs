//! Fuzzes `Packages` index parsing (deb822 stanzas into the typed package model).
//!
//! Properties: no panic; a parsed universe has one package per stanza, each with a valid name and
//! a version that parses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(universe) = store::parse_packages_bytes(data) else {
        return;
    };
    let text = std::str::from_utf8(data).expect("parse_packages_bytes checked UTF-8");
    assert_eq!(universe.packages.len(), store::paragraphs(text).count());
    for p in &universe.packages {
        assert!(store::valid_name(&p.name), "{:?}", p.name);
        assert!(store::Version::parse(&p.version).is_ok(), "{:?}", p.version);
    }
});
