//! `torch.save` readers (zip and legacy): an error, or tensors whose views stay inside the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tensorscope::formats::pickle::torch::read;

fuzz_target!(|data: &[u8]| {
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
});
