//! The inflate limit holds for every command: a 97 KB torch zip whose deflated `data.pkl` inflates
//! to 100 MB (tests/data/robust/pickle-bomb-100m.pt, written by scripts/make_inflate_bomb.py) is
//! refused from the size its zip directory declares, before anything is inflated, by `inspect`,
//! `show`, `diff` and `bench` alike (under the former 1 GiB limit each inflated and parsed the
//! 100 MB). `convert` reads through the same reader, after the scanner (whose own limit on entries
//! is 256 MiB) has scanned the file.

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
