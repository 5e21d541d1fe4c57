//! The JSON report (the shape in DESIGN.md; checked against `tests/data/bench/report.schema.json`).

use super::Report;

/// Pretty-printed JSON of `report`, ending with a newline.
pub fn to_string(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report types always serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let r = crate::report::sample::report();
        let back: Report = serde_json::from_str(&to_string(&r)).unwrap();
        assert_eq!(back.results.len(), r.results.len());
        assert_eq!(back.speedups[0].ratio, 500.0);
        let v: serde_json::Value = serde_json::from_str(&to_string(&r)).unwrap();
        assert_eq!(v["results"][1]["touched"], true);
        assert_eq!(v["system"]["cores"], 2);
    }
}
