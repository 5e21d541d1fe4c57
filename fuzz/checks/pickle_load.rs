//! The restricted pickle machine in load mode: every pickle stacked in the input (as legacy
//! torch files stack them) loads or fails cleanly.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use tensorscope::formats::pickle::machine::load;

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    let mut start = 0;
    for _ in 0..8 {
        match load(data, start) {
            Ok(l) => {
                assert!(
                    l.end > start && l.end <= data.len(),
                    "end must move forward inside the data"
                );
                let _ = l.heap.repr(&l.root);
                start = l.end;
            }
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
}
