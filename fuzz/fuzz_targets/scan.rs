//! The scanner on arbitrary bytes (any format it sniffs: safetensors, zip, npy, pickle): it never
//! fails, and a report is consistent (no "safe" verdict with a dangerous finding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorscope::scan::{Severity, Verdict, scan_bytes};

fuzz_target!(|data: &[u8]| {
    let r = scan_bytes("fuzz", data);
    if r.verdict == Verdict::Safe {
        assert!(r.findings.iter().all(|f| f.severity != Severity::Dangerous));
        assert!(r.error.is_none());
    }
});
