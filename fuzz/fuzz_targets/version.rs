//! Fuzzes Debian version parsing and dpkg ordering.
//!
//! The input is split at NUL bytes into up to three versions. Properties: no panic; the order is
//! reflexive, antisymmetric and transitive; for versions that parse, `Version`'s order agrees with
//! `compare_versions`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cmp::Ordering;
use store::{compare_versions, Version};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\0');
    let a = parts.next().unwrap_or("");
    let b = parts.next().unwrap_or("");
    let c = parts.next().unwrap_or("");
    for v in [a, b, c] {
        assert_eq!(compare_versions(v, v), Ordering::Equal, "{v:?}");
    }
    let ab = compare_versions(a, b);
    assert_eq!(ab, compare_versions(b, a).reverse(), "{a:?} {b:?}");
    let bc = compare_versions(b, c);
    if ab != Ordering::Greater && bc != Ordering::Greater {
        assert_ne!(
            compare_versions(a, c),
            Ordering::Greater,
            "{a:?} <= {b:?} <= {c:?}"
        );
    }
    if let (Ok(va), Ok(vb)) = (Version::parse(a), Version::parse(b)) {
        assert_eq!(va.cmp(&vb), ab, "{a:?} {b:?}");
    }
});
