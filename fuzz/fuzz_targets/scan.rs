//! Fuzz target: the checks live in `fuzz/checks/scan.rs`, shared with the corpus replay.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/scan.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
