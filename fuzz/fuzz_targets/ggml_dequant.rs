//! Fuzz target: the checks live in `fuzz/checks/ggml_dequant.rs`, shared with the corpus replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/ggml_dequant.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
