//! Fuzzes the journal's record decoder and whole-file scanner.
//!
//! Properties: neither panics on any input; a body that decodes is canonical (re-encoding it
//! gives the same bytes), and so is every record a scan reads (format 2 changes included); a
//! scan's good prefix re-scans to the same records, cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = journal::decode_record(data, &[]) {
        assert_eq!(journal::encode_record(&record), data, "decoded bodies are canonical");
    }
    let scan = journal::scan(data);
    let valid = usize::try_from(scan.valid_len).expect("fits");
    assert!(valid <= data.len());
    // Every record read is canonical, its stored change included (decoded here).
    for (record, &at) in scan.records.iter().zip(&scan.offsets) {
        let body = journal::encode_record(record);
        let at = usize::try_from(at).expect("fits") + 12;
        assert_eq!(&data[at..at + body.len()], &body[..], "read records are canonical");
    }
    let again = journal::scan(&data[..valid]);
    assert_eq!(again.records, scan.records);
    assert_eq!(again.end, journal::ScanEnd::Clean);
});
