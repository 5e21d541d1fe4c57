//! How reports write their figures: seconds, rates, shares, ratios, ranges and the run's settings,
//! one way for every format (and the terminal summary).

use super::{BenchResult, RunConfig};

/// The run's settings as a report's subtitle lists them (`5 timed runs after 1 warm-up run`,
/// `warm cache`, …), unescaped: each format joins and escapes them.
pub fn settings(c: &RunConfig) -> Vec<String> {
    use crate::text::plural;
    let mut out = vec![
        format!(
            "{} after {}",
            plural(u64::from(c.runs), "timed run"),
            plural(u64::from(c.warmup), "warm-up run")
        ),
        format!("{} cache", if c.cold { "cold" } else { "warm" }),
        plural(u64::from(c.ranks), "rank"),
        if c.touch_threads > 1 {
            format!("touched loads read on up to {} threads", c.touch_threads)
        } else {
            "touched loads read on one thread".to_owned()
        },
    ];
    if let Some(s) = &c.synthetic {
        out.push(format!("synthetic {s}"));
    }
    if c.isolated {
        out.push("each case in its own process".into());
    }
    out
}

/// A row's fastest–slowest range (`44 µs – 160 µs`), or `1 run` where one run has none.
pub fn range(r: &BenchResult) -> String {
    if r.runs <= 1 || r.samples_s.len() == 1 {
        "1 run".to_owned()
    } else {
        format!("{} – {}", seconds(r.min_s), seconds(r.max_s))
    }
}

/// Seconds as a short human figure (`3.52 ms`, `1.20 s`, `850 µs`).
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// A row's rate (`3.52`), or `-` for rows that read nothing.
pub fn gbps(r: &BenchResult) -> String {
    r.gbps.map(rate).unwrap_or_else(|| "-".into())
}

/// A row's rate against its ceiling (`87%`), or `–`.
pub fn percent(r: &BenchResult) -> String {
    r.percent_of_ceiling.map(share).unwrap_or_else(|| "–".into())
}

/// `v` below 1 with two significant digits (`0.058`, `0.00031`); `None` for 1 and more, 0, or
/// what is not a number, which keep their fixed decimals.
fn small(v: f64) -> Option<String> {
    if v >= 1.0 || v <= 0.0 || !v.is_finite() {
        return None;
    }
    let decimals = (1.0 - v.log10().floor()).clamp(1.0, 12.0) as usize;
    let s = format!("{v:.decimals$}");
    // 0.996 rounds up to 1.00: written as the values of 1 and more are
    (s.parse::<f64>().is_ok_and(|x| x < 1.0)).then_some(s)
}

/// A ratio as tables write it: `3.0x`, and below 1 with two significant digits (`0.058x`, not
/// `0.1x`), as the TUI does.
pub fn times(ratio: f64) -> String {
    small(ratio).map_or_else(|| format!("{ratio:.1}x"), |s| s + "x")
}

/// A rate in GB/s: `3.52`, and below 1 with two significant digits (`0.00031` for a tiny file,
/// not `0.00`).
pub fn rate(gbps: f64) -> String {
    small(gbps).unwrap_or_else(|| format!("{gbps:.2}"))
}

/// A percentage: `87%`, and below 1 with two significant digits (`0.034%`, not `0%`).
pub fn share(percent: f64) -> String {
    small(percent).map_or_else(|| format!("{percent:.0}%"), |s| s + "%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn human_seconds() {
        assert_eq!(seconds(1.2), "1.20 s");
        assert_eq!(seconds(0.00352), "3.52 ms");
        assert_eq!(seconds(0.00085), "850 µs");
    }

    /// Ratios, rates and shares below 1 keep two significant digits: a true 0.058 is not `0.1x`,
    /// a 16-byte file's rate not `0.00 GB/s, 0%`.
    #[test]
    fn small_numbers_keep_two_significant_digits() {
        assert_eq!(times(0.058), "0.058x");
        assert_eq!(times(0.5), "0.50x");
        assert_eq!(times(0.996), "1.0x");
        assert_eq!(times(5.89), "5.9x");
        assert_eq!(rate(0.000_31), "0.00031");
        assert_eq!(rate(0.84), "0.84");
        assert_eq!(rate(12.345), "12.35");
        assert_eq!(share(0.034), "0.034%");
        assert_eq!(share(56.0), "56%");
        assert_eq!(share(0.0), "0%");
    }

    /// One run reads as one: no "1 timed runs", no "164 µs – 164 µs", no "(s)".
    #[test]
    fn one_run_and_plurals() {
        let mut r = sample::report();
        assert_eq!(range(&r.results[1]), "45.00 ms – 55.00 ms");
        let s = settings(&r.config).join(" · ");
        assert!(
            s.starts_with(
                "3 timed runs after 1 warm-up run · warm cache · 1 rank · touched loads read on up to 2 threads"
            ),
            "{s}"
        );
        r.config.runs = 1;
        r.config.touch_threads = 1;
        let s = settings(&r.config).join(" · ");
        assert!(
            s.starts_with("1 timed run after 1 warm-up run") && s.contains("on one thread"),
            "{s}"
        );
        let one = &mut r.results[1];
        (one.runs, one.samples_s) = (1, vec![one.median_s]);
        assert_eq!(range(one), "1 run");
    }
}
