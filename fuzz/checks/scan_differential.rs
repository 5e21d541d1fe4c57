//! Differential: random bytes into the scanner and into a small, separately written model of
//! CPython's unpickler (its opcode subset, its INT text rules, and where the next `pickle.load`
//! of the same stream begins: right after STOP for a file opened with `open()`, at the end of the
//! frame holding STOP for an `io.BytesIO`). Whenever the model reaches a global that is not on the
//! allowlist, the scanner must not call the bytes safe.
//!
//! The model stops at any opcode outside its subset (CPython would go on), so it can only miss
//! globals, never invent one: every assertion it makes is one CPython would make too.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use tensorscope::formats::pickle::allowlist::is_safe;
use tensorscope::scan::{Verdict, scan_bytes};

#[path = "cpython_model.rs"]
pub mod cpython_model;

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    let reached = cpython_model::reached_globals(data);
    let bad: Vec<&(String, String)> = reached.iter().filter(|(m, n)| !is_safe(m, n)).collect();
    if !bad.is_empty() {
        let r = scan_bytes("fuzz.pkl", data);
        assert!(
            r.verdict != Verdict::Safe,
            "CPython would reach {bad:?}, the scanner says safe"
        );
    }
}
