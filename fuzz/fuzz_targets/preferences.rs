//! Fuzzes the apt preferences parser and pin matching (`solver::policy`).
//!
//! The input is the preferences text. Properties: no panic; every record parsed has a nonzero
//! priority; matching every record against a few index files and versions (globs, /regex/,
//! release fields) ends without panicking, and a file's priority is its default or a record's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use solver::policy::{IndexFile, Preferences};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(prefs) = Preferences::parse(text) else {
        return;
    };
    assert!(prefs.records.iter().all(|r| r.priority != 0));
    let file = |archive: &str, na: bool| IndexFile {
        archive: archive.to_owned(),
        codename: archive.to_owned(),
        origin: "Debian".to_owned(),
        label: "Debian".to_owned(),
        version: "12.15".to_owned(),
        component: "main".to_owned(),
        arch: "amd64".to_owned(),
        site: "deb.debian.org".to_owned(),
        not_automatic: na,
        but_automatic_upgrades: na,
        priority: None,
    };
    let files = [file("bookworm", false), file("bookworm-backports", true)];
    for (f, p) in files.iter().zip(prefs.file_priorities(&files)) {
        assert!(p == f.default_priority() || prefs.records.iter().any(|r| r.priority == p));
    }
    for name in ["hello", "libc6", "a-b+c.d"] {
        for version in ["2.10-3", "1:2.0~rc1+bpo1", ""] {
            let _ = prefs.version_pin(name, "amd64", "amd64", version, files.iter());
        }
    }
    let _ = prefs.named_packages().count();
});
