//! The GGUF reader over arbitrary bytes: header, metadata (arrays, nesting), tensor infos and their
//! checks. An accepted file's tensors lie inside the input, in order of their bytes, apart; the
//! metadata renders; every array reads back whole; the chat-template scan never panics.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use std::path::Path;
use tensorscope::formats::gguf::{self, Value};

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    let path = Path::new("x.gguf");
    let Ok(g) = gguf::parse(path, data) else {
        let _ = tensorscope::scan::scan_bytes("x.gguf", data);
        return;
    };
    let mut spans: Vec<_> = g.tensors.iter().map(|t| t.storage.clone()).collect();
    spans.sort_by_key(|r| r.start);
    for w in spans.windows(2) {
        assert!(w[0].end <= w[1].start, "overlapping tensors accepted");
    }
    for t in &g.tensors {
        assert!(t.storage.start <= t.storage.end && t.storage.end <= data.len() as u64);
        if let Some(n) = t.nbytes() {
            assert_eq!(t.storage.end - t.storage.start, n, "{}", t.name);
        }
        assert!(t.shape.len() <= 4);
    }
    let _ = gguf::metadata(&g);
    for (k, v) in g.kvs.iter().take(16) {
        if let Value::Array(_) = v {
            let full = gguf::full_value(path, data, k)
                .expect("a parsed file reads again")
                .expect("the key is there");
            let _ = full.text();
        }
    }
    let _ = tensorscope::scan::scan_bytes("x.gguf", data);
}
