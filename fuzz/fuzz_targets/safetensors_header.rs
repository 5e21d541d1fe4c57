//! Safetensors header validation on arbitrary bytes: an error or a header whose tensors tile the
//! data section exactly, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tensorscope::checkpoint::safetensors::parse_header;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = parse_header(Path::new("fuzz.safetensors"), data) {
        let mut at = 0u64;
        for t in &h.tensors {
            assert_eq!(t.data.start, at, "tensors must tile the data section");
            at = t.data.end;
        }
        assert_eq!(h.data_start + at, data.len() as u64, "the data section must end at the end of the file");
    }
});
