//! `show` on a zero-stride expansion to 2^40 elements (tensor `huge` of
//! tests/data/convert/expanded-4tib.pt: shape [2^20, 2^20], strides (0, 0), over a stored 1.0):
//! exact statistics at once, computed from the one stored element weighted by the 2^40 times the
//! view repeats it (it used to print nothing for minutes).

mod common;

use common::run;

#[test]
fn statistics_of_a_huge_expansion_are_exact_and_immediate() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/convert/expanded-4tib.pt");
    let r = run(&["show", path.to_str().unwrap(), "huge", "--json", "--limit", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let s = &v["stats"];
    assert_eq!(s["count"], 1u64 << 40);
    assert_eq!(s["finite"], 1u64 << 40);
    assert_eq!(s["sampled"], false);
    assert_eq!((s["min"].as_f64(), s["max"].as_f64()), (Some(1.0), Some(1.0)));
    assert_eq!((s["mean"].as_f64(), s["std"].as_f64()), (Some(1.0), Some(0.0)));
    let counts = s["histogram"]["counts"].as_array().unwrap();
    let total: u64 = counts.iter().map(|c| c.as_u64().unwrap()).sum();
    assert_eq!(total, 1u64 << 40);
}
