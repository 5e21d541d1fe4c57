//! Safetensors header validation on arbitrary bytes: an error or a header whose tensors tile the
//! data section exactly, never a panic.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use std::path::Path;
use tensorscope::checkpoint::safetensors::parse_header;

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    if let Ok(h) = parse_header(Path::new("fuzz.safetensors"), data) {
        let mut at = 0u64;
        for t in &h.tensors {
            assert_eq!(t.data.start, at, "tensors must tile the data section");
            at = t.data.end;
        }
        assert_eq!(
            h.data_start + at,
            data.len() as u64,
            "the data section must end at the end of the file"
        );
    }
}
