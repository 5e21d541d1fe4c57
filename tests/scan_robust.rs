//! Hostile inputs: the scanner never panics, never hangs, never calls a broken thing safe.

mod scan_corpus;

#[path = "../fuzz/checks/scan.rs"]
mod scan_check;
#[path = "../fuzz/checks/scan_differential.rs"]
mod scan_differential_check;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use scan_corpus::*;
use scan_differential_check::cpython_model;
use tensorscope::scan::{Verdict, scan_bytes};

/// A hang guard, not a speed test: speed is measured in `benches/scan.rs`.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Scans `data` and checks it ended within `limit` (a hang guard; speed lives in the benches).
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
    assert_eq!(timed("appends", &data, HANG_GUARD).verdict, Verdict::Safe);
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    // NONE wrapped in a million TUPLE1s, then a million EMPTY_LIST + APPEND-into-previous
    let data = repeat(b"\x80\x02N", b"\x85", 1_000_000, b".");
    assert_eq!(timed("tuples", &data, HANG_GUARD).verdict, Verdict::Safe);
    let data = repeat(b"\x80\x02]", b"]a", 1_000_000, b".");
    timed("lists", &data, HANG_GUARD);
    let data = repeat(b"\x80\x02", b"(", 2_000_000, b"N.");
    assert_ne!(timed("marks", &data, HANG_GUARD).verdict, Verdict::Safe);
}

#[test]
fn long_names_fetched_many_times_stay_cheap() {
    // a 1 MB string memoised, then fetched and used as both names 200k times
    let name = "a".repeat(1 << 20);
    let mut data = P::new().proto(4).bu(&name).binput(0).raw(b"0").build();
    data.extend(repeat(b"", b"h\x00h\x00\x930", 200_000, b"N."));
    let r = timed("names", &data, HANG_GUARD);
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
    let r = timed("globals", &data, HANG_GUARD);
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
    assert_ne!(timed("protos", &data, HANG_GUARD).verdict, Verdict::Safe);
}

/// The globals off the allowlist that the model of CPython's unpickler reaches in `data`.
fn bad_globals(data: &[u8]) -> Vec<(String, String)> {
    let mut reached = cpython_model::reached_globals(data);
    reached.retain(|(m, n)| !tensorscope::formats::pickle::allowlist::is_safe(m, n));
    reached
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random bytes hold the scan fuzz targets' invariants: no panic, no "safe" with a dangerous
    /// finding or an error, and never "safe" where the CPython model reaches a global off the allowlist.
    #[test]
    fn random_bytes_hold_the_fuzz_invariants(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        scan_check::check(&data);
        scan_differential_check::check(&data);
    }

    /// Flipping a byte of a malicious pickle never makes the scanner call it safe while a loader
    /// would still reach the payload: whenever the separately written model of CPython's unpickler
    /// reaches a global off the allowlist in the mutated bytes, the verdict is not safe. Flips after
    /// the payload's call leave it reachable, so they are tried as often as flips anywhere.
    #[test]
    fn mutated_malicious_pickles_are_never_safe_while_the_payload_runs(
        case in 0usize..60,
        at in any::<prop::sample::Index>(),
        after in any::<bool>(),
        byte in any::<u8>(),
    ) {
        let cases: Vec<_> = malicious().into_iter().filter(|c| !bad_globals(&c.bytes).is_empty()).collect();
        prop_assert!(cases.len() >= 10, "the model reaches the globals of only {} cases", cases.len());
        let c = &cases[case % cases.len()];
        let mut data = c.bytes.clone();
        let from = if after { c.bytes.iter().rposition(|&b| b == b'R').unwrap_or(0) + 1 } else { 0 };
        if from < data.len() {
            let i = from + at.index(data.len() - from);
            data[i] = byte;
        }
        let bad = bad_globals(&data);
        let r = scan_bytes(c.file, &data);
        prop_assert!(bad.is_empty() || r.verdict != Verdict::Safe, "{}: CPython reaches {bad:?}, scanned safe", c.name);
    }

    /// Flipping bytes of any malicious file (containers included) never panics the scanner.
    #[test]
    fn mutated_malicious_files_never_panic(case in 0usize..60, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let cases = malicious();
        let c = &cases[case % cases.len()];
        let mut data = c.bytes.clone();
        if !data.is_empty() {
            let i = at.index(data.len());
            data[i] = byte;
        }
        scan_check::check(&data);
    }

    /// A payload after a benign pickle and random bytes is found wherever a loader still reaches
    /// it. Random bytes can swallow it into an argument (`LONG1` of 41 bytes reads `cposix\nsystem\n`
    /// as a number, and REDUCE then calls an int): no loader imports it there, so such prefixes are
    /// left out, as the CPython model says.
    #[test]
    fn a_payload_after_any_benign_prefix_is_found(prefix in proptest::collection::vec(any::<u8>(), 0..64)) {
        let start = benign().len();
        let data = [benign(), prefix.clone(), evil()].concat();
        // the pickle the prefix starts runs complete through the payload, and CPython's model
        // reaches no global in it either: swallowed
        let (info, err) = tensorscope::scan::walk::walk_one_plain(&data, start);
        let swallowed = err.is_none() && info.end > start + prefix.len() + 1;
        prop_assume!(!(swallowed && bad_globals(&data[start..]).is_empty()));
        prop_assert_ne!(scan_bytes("x.pkl", &data).verdict, Verdict::Safe);
    }
}
