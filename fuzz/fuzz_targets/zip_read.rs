//! The zip reader: an error, or entries whose contents read (stored or inflated, capped) or fail cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorscope::formats::pickle::zip::{content, read};

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = read(data) {
        for e in a.entries.iter().take(64) {
            if let Ok(c) = content(data, e, 1 << 20) {
                assert!(c.len() as u64 <= 1 << 20);
            }
        }
    }
});
