//! Fuzzes the journal's record decoder and whole-file scanner.
//!
//! Properties: neither panics on any input; a body that decodes is canonical (re-encoding it
//! gives the same bytes), and so is every record a scan reads (format 2 changes included); a
//! scan's good prefix re-scans to the same records, cleanly; a scan cut into parts anywhere
//! (as on several threads) finds what one thread finds. Then the input's bodies, framed and
//! chained with real ids (what a fuzzer cannot forge), read as a segment after the genesis:
//! no panic, every record's state builds, and each is the record a scan of the same frames
//! reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use store::{Blake3, TxnId};

/// The record bodies of `data` read leniently as a journal file (a 16-byte header, then
/// frames whose length field alone is trusted), framed again with their `prev` and `seq` set
/// to chain from the genesis and their real ids: a file whose frames all check.
fn rechained(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut frames = Vec::new();
    let (mut at, mut prev, mut seq) = (16.min(data.len()), TxnId::GENESIS, 0u64);
    while at + 12 <= data.len() && seq < 64 {
        let len = u32::from_le_bytes(data[at + 4..at + 8].try_into().expect("4")) as usize;
        let start = at + 12;
        let end = start.saturating_add(len).min(data.len());
        let mut body = data[start..end].to_vec();
        at = end.saturating_add(36);
        if body.len() < 41 {
            continue;
        }
        seq += 1;
        body[1..33].copy_from_slice(&prev.0 .0);
        body[33..41].copy_from_slice(&seq.to_le_bytes());
        let id = TxnId(Blake3::of(&body));
        frames.extend_from_slice(b"PJRC");
        frames.extend_from_slice(&(body.len() as u32).to_le_bytes());
        frames.extend_from_slice(&(!(body.len() as u32)).to_le_bytes());
        frames.extend_from_slice(&body);
        frames.extend_from_slice(&id.0 .0);
        frames.extend_from_slice(b"PEND");
        prev = id;
    }
    let mut file = b"PTCLJRNL".to_vec();
    file.extend_from_slice(&journal::FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&[0; 4]);
    file.extend_from_slice(&frames);
    (frames, file)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = journal::decode_record(data, &[]) {
        assert_eq!(
            journal::encode_record(&record),
            data,
            "decoded bodies are canonical"
        );
    }
    let scan = journal::scan(data);
    let valid = usize::try_from(scan.valid_len).expect("fits");
    assert!(valid <= data.len());
    // Every record read is canonical, its stored change included (decoded here).
    for (record, &at) in scan.records.iter().zip(&scan.offsets) {
        let body = journal::encode_record(record);
        let at = usize::try_from(at).expect("fits") + 12;
        assert_eq!(
            &data[at..at + body.len()],
            &body[..],
            "read records are canonical"
        );
    }
    // Cut at the middle and at the offset the first bytes name: the same records, the same end.
    let named = data
        .get(..4)
        .map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4")));
    let cut = journal::scan_cut_at(data, &[data.len() / 2, named as usize % (data.len() + 1)]);
    assert_eq!(
        (&cut.records, &cut.offsets, cut.valid_len),
        (&scan.records, &scan.offsets, scan.valid_len)
    );
    assert_eq!(cut.end, scan.end);
    let again = journal::scan(&data[..valid]);
    assert_eq!(again.records, scan.records);
    assert_eq!(again.end, journal::ScanEnd::Clean);

    let (frames, file) = rechained(data);
    let whole = journal::scan(&file);
    let variant = whole
        .records
        .get(0)
        .map_or("base".to_owned(), |r| r.variant.clone());
    let empty = journal::State::default();
    let anchor = journal::Anchor {
        seq: 0,
        id: TxnId::GENESIS,
        variant: &variant,
        state: &empty,
    };
    if let Ok(segment) = journal::read_segment(&frames, anchor) {
        for r in &segment.records {
            let state = journal::State::clone(&r.state);
            let scanned = whole
                .records
                .get(r.seq as usize - 1)
                .expect("a scan reads what a segment reads");
            assert_eq!(
                (scanned.id, &*scanned.state),
                (r.id, &state),
                "record {}",
                r.seq
            );
            assert_eq!(journal::encode_record(r), journal::encode_record(scanned));
        }
    }
});
