//! Fuzzes the journal's record decoder and whole-file scanner.
//!
//! Properties: neither panics on any input; a body that decodes is canonical (re-encoding it
//! gives the same bytes), and so is every record a scan reads (format 2 changes included); a
//! scan's good prefix re-scans to the same records, cleanly; a scan cut into parts anywhere
//! (as on several threads) finds what one thread finds.
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
    // Cut at the middle and at the offset the first bytes name: the same records, the same end.
    let named = data.get(..4).map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4")));
    let cut = journal::scan_cut_at(data, &[data.len() / 2, named as usize % (data.len() + 1)]);
    assert_eq!((&cut.records, &cut.offsets, cut.valid_len), (&scan.records, &scan.offsets, scan.valid_len));
    assert_eq!(cut.end, scan.end);
    let again = journal::scan(&data[..valid]);
    assert_eq!(again.records, scan.records);
    assert_eq!(again.end, journal::ScanEnd::Clean);
});
