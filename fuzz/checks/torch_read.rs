//! `torch.save` readers (zip and legacy): an error, or tensors whose views stay inside the data.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use std::path::Path;
use tensorscope::formats::pickle::torch::read;

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    if let Ok(f) = read(Path::new("fuzz.pt"), data) {
        for t in &f.tensors {
            assert!(t.storage.start <= t.storage.end && t.storage.end <= data.len() as u64);
            assert!(t.check_extent().is_ok(), "view outside its storage: {t:?}");
            let _ = t.contiguous_range();
        }
        for (t, buf) in &f.owned {
            assert!(t.storage.end <= buf.len() as u64);
            assert!(t.check_extent().is_ok());
        }
    }
}
