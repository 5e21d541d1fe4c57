//! The scanner on arbitrary bytes (any format it sniffs: safetensors, zip, npy, pickle): it never
//! fails, and a report is consistent (no "safe" verdict with a dangerous finding).
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use tensorscope::scan::{Severity, Verdict, scan_bytes};

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    let r = scan_bytes("fuzz", data);
    if r.verdict == Verdict::Safe {
        assert!(r.findings.iter().all(|f| f.severity != Severity::Dangerous));
        assert!(r.error.is_none());
    }
}
