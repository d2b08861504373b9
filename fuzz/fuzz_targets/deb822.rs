//! Fuzzes the zero-copy deb822 reader.
//!
//! Properties: no panic; iteration ends; every paragraph has fields whose names are non-empty and
//! free of whitespace, and whose names and values are slices of the input; `get` finds the first
//! field of each name.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let range = text.as_ptr() as usize..text.as_ptr() as usize + text.len() + 1;
    let mut count = 0usize;
    for p in store::paragraphs(text) {
        count += 1;
        assert!(
            count <= text.len() + 1,
            "more paragraphs than bytes: the iterator does not end"
        );
        let Ok(p) = p else { continue };
        assert!(!p.fields.is_empty());
        for (k, v) in &p.fields {
            assert!(
                !k.is_empty() && !k.bytes().any(|b| b.is_ascii_whitespace()),
                "{k:?}"
            );
            assert!(
                range.contains(&(k.as_ptr() as usize)) && range.contains(&(v.as_ptr() as usize))
            );
            let first = p
                .fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.trim());
            assert_eq!(p.get(k), first);
        }
    }
});
