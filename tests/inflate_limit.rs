//! The inflate limit holds for every command: a 97 KB torch zip whose deflated `data.pkl` inflates
//! to 100 MB (tests/data/robust/pickle-bomb-100m.pt, written by scripts/make_inflate_bomb.py) is
//! refused from the size its zip directory declares, before anything is inflated, by `inspect`,
//! `show`, `diff` and `bench` alike (under the former 1 GiB limit each inflated and parsed the
//! 100 MB). `convert` reads through the same reader, after the scanner (whose own limit on entries
//! is 256 MiB) has scanned the file. The scanner's decompressors stop at the same 256 MiB: a
//! 242-byte bzip2 file and a 9.6 KB zstd file of 300 MiB of zeros (tests/data/scan/compress/bombs/,
//! written by gen_compress.py there) are suspicious, named, and never held in full.

mod common;

use std::path::PathBuf;

use common::{assert_clean_error, run, sample};

fn bomb() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/robust/pickle-bomb-100m.pt")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_command_refuses_a_pickle_that_inflates_past_the_limit() {
    let b = bomb();
    let good = sample("gpt2-tiny.safetensors");
    for (what, args) in [
        ("inspect", vec!["inspect", &b]),
        ("inspect --json", vec!["inspect", "--json", &b]),
        ("show", vec!["show", &b, "x"]),
        ("diff", vec!["diff", &b, &good]),
        ("diff (second)", vec!["diff", &good, &b]),
        (
            "bench",
            vec!["bench", &b, "--runs", "1", "--warmup", "0", "--in-process"],
        ),
    ] {
        let r = run(&args);
        assert_clean_error(&r, what);
        assert!(
            r.stderr.contains("inflates to 100.0 MB") && r.stderr.contains("limit"),
            "{what}: {}",
            r.stderr
        );
    }
}

#[test]
fn scan_stops_bzip2_and_zstd_bombs_at_its_limit() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan/compress/bombs");
    for (name, format) in [("zeros-300m.pkl.bz2", "bzip2"), ("zeros-300m.pkl.zst", "zstd")] {
        let path = dir.join(name).to_string_lossy().into_owned();
        let r = run(&["scan", "--json", &path]);
        assert_eq!(r.code, 1, "{name}: {} {}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("scan JSON");
        let f = &v["files"][0];
        assert_eq!(f["verdict"], "suspicious", "{name}: {f}");
        assert_eq!(f["format"], format, "{name}: {f}");
        assert!(
            f["findings"][0]["why"]
                .as_str()
                .is_some_and(|w| w.contains("opens to more than 268435456 bytes")),
            "{name}: {f}"
        );
    }
}
