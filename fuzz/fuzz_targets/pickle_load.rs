//! The restricted pickle machine in load mode: every pickle stacked in the input (as legacy
//! torch files stack them) loads or fails cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorscope::formats::pickle::machine::load;

fuzz_target!(|data: &[u8]| {
    let mut start = 0;
    for _ in 0..8 {
        match load(data, start) {
            Ok(l) => {
                assert!(l.end > start && l.end <= data.len(), "end must move forward inside the data");
                let _ = l.heap.repr(&l.root);
                start = l.end;
            }
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
});
