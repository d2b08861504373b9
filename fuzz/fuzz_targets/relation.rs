//! Fuzzes the relation parsers (Depends-style fields with alternatives, and Conflicts-style lists).
//!
//! Properties: no panic; what parses prints back (Display) to text that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(deps) = store::parse_dependencies(text) {
        let printed = deps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let again = store::parse_dependencies(&printed).expect("printed dependencies parse");
        assert_eq!(again, deps, "{text:?} printed as {printed:?}");
    }
    if let Ok(rels) = store::parse_relations(text) {
        let printed = rels
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let again = store::parse_relations(&printed).expect("printed relations parse");
        assert_eq!(again, rels, "{text:?} printed as {printed:?}");
    }
    if let Ok(rel) = store::parse_relation(text) {
        let printed = rel.to_string();
        assert_eq!(
            store::parse_relation(&printed).expect("printed relation parses"),
            rel
        );
        assert!(store::valid_name(&rel.name), "{:?}", rel.name);
    }
});
