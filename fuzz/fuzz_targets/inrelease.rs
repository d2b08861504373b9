//! Fuzzes the InRelease splitter (clearsigned text and signature) and the Release parser.
//!
//! Properties: no panic; a split gives a signature block that starts and ends with its armor
//! lines and a text that ends with a newline; the Release parser never panics on the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(split) = store::split_clearsigned(data) {
        assert!(
            split.signature.starts_with("-----BEGIN PGP SIGNATURE-----"),
            "{:?}",
            split.signature
        );
        assert!(
            split.signature.ends_with("-----END PGP SIGNATURE-----"),
            "{:?}",
            split.signature
        );
        assert!(split.text.is_empty() || split.text.ends_with('\n'));
        let _ = store::parse_release(&split.text);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = store::parse_release(text);
    }
});
