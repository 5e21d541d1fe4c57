//! Hostile inputs: the scanner never panics, never hangs, never calls a broken thing safe.

mod scan_corpus;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use scan_corpus::*;
use tensorscope::scan::{Verdict, scan_bytes};

/// Scans `data` and checks it took less than `limit` (debug build, shared machine: generous).
fn timed(name: &str, data: &[u8], limit: Duration) -> tensorscope::scan::FileScan {
    let t = Instant::now();
    let r = scan_bytes(name, data);
    assert!(t.elapsed() < limit, "{name} took {:?}", t.elapsed());
    r
}

fn repeat(prefix: &[u8], unit: &[u8], n: usize, suffix: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    for _ in 0..n {
        v.extend_from_slice(unit);
    }
    v.extend_from_slice(suffix);
    v
}

#[test]
fn memo_shared_lists_do_not_go_quadratic() {
    // EMPTY_LIST, then 500k times: PUT 0, NONE, APPEND
    let data = repeat(b"\x80\x02]", b"q\x00Na", 500_000, b".");
    assert_eq!(timed("appends", &data, Duration::from_secs(10)).verdict, Verdict::Safe);
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    // NONE wrapped in a million TUPLE1s, then a million EMPTY_LIST + APPEND-into-previous
    let data = repeat(b"\x80\x02N", b"\x85", 1_000_000, b".");
    assert_eq!(timed("tuples", &data, Duration::from_secs(10)).verdict, Verdict::Safe);
    let data = repeat(b"\x80\x02]", b"]a", 1_000_000, b".");
    timed("lists", &data, Duration::from_secs(10));
    let data = repeat(b"\x80\x02", b"(", 2_000_000, b"N.");
    assert_ne!(timed("marks", &data, Duration::from_secs(10)).verdict, Verdict::Safe);
}

#[test]
fn long_names_fetched_many_times_stay_cheap() {
    // a 1 MB string memoised, then fetched and used as both names 200k times
    let name = "a".repeat(1 << 20);
    let mut data = P::new().proto(4).bu(&name).binput(0).raw(b"0").build();
    data.extend(repeat(b"", b"h\x00h\x00\x930", 200_000, b"N."));
    let r = timed("names", &data, Duration::from_secs(10));
    assert_eq!(r.verdict, Verdict::Suspicious);
    assert!(r.findings.len() <= 2, "{}", r.findings.len());
}

#[test]
fn many_distinct_globals_are_capped() {
    let mut data = b"\x80\x02".to_vec();
    for i in 0..5_000 {
        data.extend(format!("cm{i}\nf\n0").as_bytes());
    }
    data.extend(b"N.");
    let r = timed("globals", &data, Duration::from_secs(10));
    assert_eq!(r.verdict, Verdict::Suspicious);
    assert!(r.findings.len() <= tensorscope::scan::MAX_FINDINGS + 1);
    assert!(
        r.findings.iter().any(|f| f.why.contains("distinct globals")),
        "the cap is a finding"
    );
}

#[test]
fn a_large_run_of_proto_bytes_after_garbage_is_linear() {
    let data = repeat(b"\x80\x02N\xff", b"\x80\x02", 2_000_000, b"");
    assert_ne!(timed("protos", &data, Duration::from_secs(10)).verdict, Verdict::Safe);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        scan_bytes("random", &data);
    }

    /// Flipping bytes of a malicious file never makes the scanner call it safe while the payload's
    /// GLOBAL line is intact (and never panics either way).
    #[test]
    fn mutated_malicious_files_never_panic(case in 0usize..60, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let cases = malicious();
        let c = &cases[case % cases.len()];
        let mut data = c.bytes.clone();
        if !data.is_empty() {
            let i = at.index(data.len());
            data[i] = byte;
        }
        scan_bytes(c.file, &data);
    }

    #[test]
    fn a_payload_after_any_benign_prefix_is_found(prefix in proptest::collection::vec(any::<u8>(), 0..64)) {
        let data = [benign(), prefix, evil()].concat();
        prop_assert_ne!(scan_bytes("x.pkl", &data).verdict, Verdict::Safe);
    }
}
