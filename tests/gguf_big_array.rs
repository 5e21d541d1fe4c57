//! A GGUF metadata array of 10 million items (issue 23): `show FILE KEY` prints it capped ("… N
//! more") in under 100 MB and exits 0, `inspect`, `scan` and `bench` finish without walking or
//! keeping it item by item. The file is generated here, in the test's temporary folder. One test
//! in this binary, so the children's peak memory (`RUSAGE_CHILDREN`) is the `show` child's own.

#[path = "common/gguf.rs"]
mod gguf;

use std::process::Command;
use std::time::{Duration, Instant};

use gguf::Builder;

const ITEMS: u64 = 10_000_000;
const MEMORY_LIMIT: i64 = 100 << 20;

fn big_gguf() -> Vec<u8> {
    let mut array = 0u32.to_le_bytes().to_vec(); // UINT8 items
    array.extend_from_slice(&ITEMS.to_le_bytes());
    array.extend((0..ITEMS).map(|i| (i % 251) as u8));
    Builder::default()
        .kv_str("general.architecture", "llama")
        .kv("big.array", 9, array)
        .f32s("w", &[1.0; 8])
        .bytes()
}

/// Peak resident memory of the largest child waited for so far, in bytes.
fn children_peak_rss() -> i64 {
    // SAFETY: getrusage writes into the struct we pass and nothing else.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) }, 0);
    u.ru_maxrss * 1024
}

#[test]
fn a_ten_million_item_array_is_shown_capped_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.gguf");
    std::fs::write(&path, big_gguf()).unwrap();
    let bin = env!("CARGO_BIN_EXE_tensorscope");

    let out = Command::new(bin)
        .arg("show")
        .arg(&path)
        .arg("big.array")
        .output()
        .unwrap();
    let peak = children_peak_rss();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let shown = tensorscope::formats::gguf::MAX_SHOWN_ITEMS as u64;
    assert!(
        text.trim_end().ends_with(&format!("… {} more", ITEMS - shown)),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    assert!(peak < MEMORY_LIMIT, "show took {peak} bytes at its peak");

    let out = Command::new(bin)
        .args(["show", "--json"])
        .arg(&path)
        .arg("big.array")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["more"], ITEMS - shown);
    assert_eq!(v["value"].as_array().map(Vec::len), Some(shown as usize));

    for args in [&["inspect"][..], &["scan"]] {
        let out = Command::new(bin).args(args).arg(&path).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // bench parses the header once per run: a fixed-size array is stepped over, not walked
    let start = Instant::now();
    let out = Command::new(bin)
        .args(["bench", "--runs", "1"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "bench took {:?}",
        start.elapsed()
    );
}
