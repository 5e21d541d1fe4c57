//! Fuzz target: the checks live in `fuzz/checks/zip_read.rs`, shared with the corpus replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/zip_read.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
