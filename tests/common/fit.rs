//! `tensorscope fit` in the tests: the fixtures of scripts/make_fit_fixtures.py and the JSON answer.

use std::path::Path;

use serde_json::Value;

/// A GiB in bytes.
pub const GIB: u64 = 1 << 30;

/// A path under `tests/data/fit`.
pub fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fit")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// `fit PATH --json EXTRA…`, which must succeed.
pub fn fit(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["fit", path, "--json"];
    args.extend_from_slice(extra);
    let r = super::run(&args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The unsigned number at `key`.
pub fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}
