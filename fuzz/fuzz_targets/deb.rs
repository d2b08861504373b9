//! Fuzzes the `.deb` reader: ar container, control member, data entries and the raw data stream,
//! with small limits so that each run stays fast.
//!
//! Properties: no panic, and reading stays within the limits (entries, names, bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Read;
use store::{DebLimits, DebReader};

const LIMITS: DebLimits = DebLimits {
    max_control_size: 1 << 20,
    max_name_len: 256,
    max_entries: 1000,
    max_pax_size: 4096,
    expansion_factor: 2,
    expansion_slack: 4 << 20,
    max_data_size: 8 << 20,
    max_decoder_memory: 32 << 20,
};

fuzz_target!(|data: &[u8]| {
    // Entries, then the end of the archive.
    if let Ok(deb) = DebReader::from_bytes(data, LIMITS) {
        let limit = deb.data_limit();
        assert!(limit <= LIMITS.max_data_size);
        assert!(
            deb.control()
                .members
                .values()
                .map(|m| m.len() as u64)
                .sum::<u64>()
                <= LIMITS.max_control_size
        );
        if let Ok((_, mut archive)) = deb.into_entries() {
            if let Ok(entries) = archive.entries() {
                let mut n = 0u64;
                for entry in entries {
                    let Ok(mut entry) = entry else { break };
                    n += 1;
                    assert!(n <= LIMITS.max_entries);
                    assert!(entry.meta.path.len() <= LIMITS.max_name_len);
                    if let Ok(content) = entry.read_content() {
                        assert!(content.len() as u64 <= limit);
                    }
                }
            }
            let _ = archive.finish();
        }
    }
    // The raw stream, as the materializer reads it, over a stream of unknown length.
    if let Ok(deb) = DebReader::new(data, LIMITS) {
        if let Ok((_, mut raw)) = deb.into_data() {
            let mut sink = Vec::new();
            let _ = (&mut raw)
                .take(LIMITS.max_data_size + 1)
                .read_to_end(&mut sink);
            assert!(sink.len() as u64 <= LIMITS.max_data_size);
            let _ = raw.finish();
        }
    }
});
