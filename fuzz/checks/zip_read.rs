//! The zip reader: an error, or entries whose contents read (stored or inflated, capped) or fail cleanly.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use tensorscope::formats::pickle::zip::{content, read};

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    if let Ok(a) = read(data) {
        for e in a.entries.iter().take(64) {
            if let Ok(c) = content(data, e, 1 << 20) {
                assert!(c.len() as u64 <= 1 << 20);
            }
        }
    }
}
