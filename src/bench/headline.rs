//! What a report leads with: the ceilings measured in the run, each row's rate against its
//! ceiling, and one sentence per device built from rows that read every byte.

use super::{Device, Memory, Method};
use crate::report::{BenchResult, Ceiling};

/// `memcpy` from warm memory into pre-touched memory.
pub const MEMCPY_PRETOUCHED: &str = "memcpy-pretouched";
/// `memcpy` from warm memory into fresh memory.
pub const MEMCPY_FRESH: &str = "memcpy-fresh";
/// Reading every byte of warm, pre-touched memory on every core (what a touch can do at best).
pub const MEMORY_READ: &str = "memory-read";
/// The disk's sequential read rate (`--cold`).
pub const DISK_READ: &str = "disk-read";

/// Uploading a warm host buffer through the staging ring (every GPU row, write-buffer rows too,
/// is measured against it).
pub const GPU_RING: &str = "gpu-ring";

/// The name of the ceiling `r` is measured against, `None` for rows that read only part of the
/// data (untouched views, one tensor, slices): laziness has no ceiling.
pub fn ceiling_of(r: &BenchResult) -> Option<String> {
    if r.rank.is_some() || r.method == Method::SafetensorsLazyOne.as_str() {
        return None;
    }
    if r.device == Device::Gpu.as_str() {
        // write-buffer rows too: how far that path falls short of the ring
        return Some(GPU_RING.to_owned());
    }
    let method = Method::parse(&r.method)?;
    if r.cache == "cold" {
        return (method.copies() || r.touched).then(|| DISK_READ.to_owned());
    }
    if !method.copies() {
        // a touched view into a warm map reads page-cache memory: at best as fast as warm memory
        return r.touched.then(|| MEMORY_READ.to_owned());
    }
    Some(match r.memory.as_deref() {
        Some(m) if m == Memory::Fresh.as_str() => MEMCPY_FRESH.to_owned(),
        _ => MEMCPY_PRETOUCHED.to_owned(),
    })
}

/// Give every row its ceiling and its rate as a percentage of it. A ceiling that a row beat was
/// measured at a slower moment than the row (a busy machine): it is raised to that row's rate, so no
/// row is shown above 100%, and the caveats returned say so.
pub fn assign(results: &mut [BenchResult], ceilings: &mut [Ceiling]) -> Vec<String> {
    let mut caveats = Vec::new();
    for c in ceilings.iter_mut().filter(|c| c.gbps > 0.0) {
        let fastest = results
            .iter()
            .filter(|r| ceiling_of(r).as_deref() == Some(c.name.as_str()))
            .filter_map(|r| r.gbps.map(|g| (g, r)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let Some((g, r)) = fastest else { continue };
        if g > c.gbps {
            let row = format!("{}, {} cache", r.label(), r.cache);
            caveats.push(format!(
                "The {} ceiling was measured at {:.2} GB/s, slower than the row {row} ran ({g:.2} GB/s): most \
                 likely the probe ran at a busier moment than the row. It is raised to that row's rate, and this \
                 run's percentages are relative to it.",
                c.name, c.gbps
            ));
            c.what = format!(
                "{}; raised from the probe's {:.2} GB/s to the fastest row ({row})",
                c.what, c.gbps
            );
            c.gbps = g;
        }
    }
    for r in results {
        let Some(name) = ceiling_of(r) else { continue };
        let Some(c) = ceilings.iter().find(|c| c.name == name && c.gbps > 0.0) else {
            continue;
        };
        let Some(gbps) = r.gbps else { continue };
        r.percent_of_ceiling = Some(gbps / c.gbps * 100.0);
        r.ceiling = Some(name);
    }
    caveats
}

/// The median of `v` (0 when empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn fresh_baseline<'a>(
    results: &'a [BenchResult],
    group: &dyn Fn(&BenchResult) -> usize,
    key: (usize, &str, &str),
) -> Option<&'a BenchResult> {
    let (g, device, cache) = key;
    results.iter().find(|b| {
        b.method == Method::PickleEager.as_str()
            && group(b) == g
            && b.rank.is_none()
            && b.reads_everything()
            && (b.device.as_str(), b.cache.as_str()) == (device, cache)
            && b.memory.as_deref().is_none_or(|m| m == Memory::Fresh.as_str())
    })
}

/// One sentence per device and cache state, from rows that read every byte (touched CPU rows,
/// GPU uploads): `safetensors-mmap` (or the fastest safetensors load) against `pickle-eager` into
/// fresh memory, as `torch.load` gets; without a pickle to compare, the fastest load and how close
/// it comes to its ceiling.
pub fn headline(results: &[BenchResult]) -> Vec<String> {
    headline_in(results, &|_| 0)
}

/// [`headline`] with one sentence per group too (`group`: a checkpoint and its twin), each naming
/// its checkpoint when there are several.
pub fn headline_in(results: &[BenchResult], group: &dyn Fn(&BenchResult) -> usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut keys: Vec<(usize, &str, &str)> = Vec::new();
    for r in results.iter().filter(|r| r.rank.is_none() && r.reads_everything()) {
        let k = (group(r), r.device.as_str(), r.cache.as_str());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let several = {
        let mut g: Vec<usize> = keys.iter().map(|k| k.0).collect();
        g.dedup();
        g.len() > 1
    };
    for key in keys {
        let (g, device, cache) = key;
        let whole = |r: &&BenchResult| {
            r.rank.is_none()
                && group(r) == g
                && r.reads_everything()
                && (r.device.as_str(), r.cache.as_str()) == (device, cache)
                && r.method != Method::SafetensorsLazyOne.as_str()
                && r.method != Method::FileRead.as_str()
                && r.median_s > 0.0
        };
        let rows: Vec<&BenchResult> = results.iter().filter(whole).collect();
        let subject = rows
            .iter()
            .find(|r| r.method == Method::SafetensorsMmap.as_str())
            .or_else(|| rows.iter().find(|r| r.method == Method::GgufMmap.as_str()))
            .or_else(|| {
                rows.iter()
                    .filter(|r| !Method::parse(&r.method).is_some_and(Method::is_pickle))
                    .min_by(|a, b| a.median_s.total_cmp(&b.median_s))
            })
            .or_else(|| rows.iter().min_by(|a, b| a.median_s.total_cmp(&b.median_s)))
            .copied();
        let Some(s) = subject else { continue };
        let prefix = if device == Device::Cpu.as_str() {
            format!("{device}, touched, {cache}")
        } else {
            format!("{device} ({} upload), {cache}", s.upload.as_deref().unwrap_or("ring"))
        };
        let prefix = if several {
            format!("{}, {prefix}", crate::report::display_path(&s.checkpoint))
        } else {
            prefix
        };
        let ceiling = match (s.percent_of_ceiling, &s.ceiling) {
            (Some(p), Some(c)) => format!(", {} of the {c} ceiling", crate::report::share(p)),
            _ => String::new(),
        };
        let rate = s
            .gbps
            .map(|g| format!("{} GB/s{ceiling}", crate::report::rate(g)))
            .unwrap_or_default();
        let sentence = match fresh_baseline(results, group, key).filter(|b| b.method != s.method) {
            Some(b) => format!(
                "{prefix}: {} (fresh memory, as torch.load gets): {} against {}{} ({rate})",
                compare(s, b),
                spread_text(s),
                spread_text(b),
                if overlap(s, b) {
                    ", fastest–slowest ranges overlapping"
                } else {
                    ""
                }
            ),
            None => format!(
                "{prefix}: {} loads {} in {} ({rate}); nothing to compare it with",
                s.method,
                crate::text::bytes(s.bytes),
                spread_text(s),
            ),
        };
        out.push(sentence);
    }
    out
}

/// The spread of a row's timed runs about its median (0 for one run): 1.4826 × the median absolute
/// deviation, which estimates the standard deviation of normal noise and which one slow run cannot
/// inflate (a plain standard deviation, taken about the mean, printed `176.69 ms ± 122.20 ms` beside a
/// median when no run was under 172.98 ms).
pub fn std_dev(r: &BenchResult) -> f64 {
    if r.samples_s.len() < 2 {
        return 0.0;
    }
    let mid = median(r.samples_s.clone());
    1.4826 * median(r.samples_s.iter().map(|x| (x - mid).abs()).collect())
}

/// `50.00 ms ± 2.10 ms`: a row's median and the spread of its runs ([`std_dev`]); `a single
/// 50.00 ms run` when one run gives no spread to state.
pub fn spread_text(r: &BenchResult) -> String {
    if r.samples_s.len() < 2 {
        return format!("a single {} run", crate::report::seconds(r.median_s));
    }
    format!(
        "{} ± {}",
        crate::report::seconds(r.median_s),
        crate::report::seconds(std_dev(r))
    )
}

/// Whether the fastest–slowest ranges of two rows overlap.
fn overlap(a: &BenchResult, b: &BenchResult) -> bool {
    a.min_s <= b.max_s && b.min_s <= a.max_s
}

/// `a` against the baseline `b`, as hyperfine says it: `a loads 3.10 ± 0.40 times faster than b`
/// (the spread from both rows' [`std_dev`]), or `no measurable difference between a and b`
/// when their fastest–slowest ranges overlap.
pub fn compare(a: &BenchResult, b: &BenchResult) -> String {
    if overlap(a, b) {
        return format!("no measurable difference between {} and {}", a.method, b.method);
    }
    let (fast, slow, word) = if a.median_s <= b.median_s {
        (a, b, "faster")
    } else {
        (b, a, "slower")
    };
    let ratio = slow.median_s / fast.median_s;
    if a.samples_s.len() < 2 || b.samples_s.len() < 2 {
        // one run has no spread: a ± would claim a precision nobody measured (no parentheses:
        // the headline's own follow)
        let from = match (a.samples_s.len() < 2, b.samples_s.len() < 2) {
            (true, true) => "from one run each".to_owned(),
            (true, false) => format!("from one run of {}", a.method),
            _ => format!("from one run of {}", b.method),
        };
        return format!(
            "{} loads {ratio:.2} times {word} than {} {from}, no spread measured",
            a.method, b.method
        );
    }
    let rel = |r: &BenchResult| if r.median_s > 0.0 { std_dev(r) / r.median_s } else { 0.0 };
    let sigma = ratio * (rel(fast).powi(2) + rel(slow).powi(2)).sqrt();
    format!(
        "{} loads {ratio:.2} ± {sigma:.2} times {word} than {}",
        a.method, b.method
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    /// A ceiling probe that ran slower than a row (a busy machine) is raised to that row: no row is
    /// shown at 150% of a "ceiling", and a caveat says what happened.
    #[test]
    fn a_ceiling_a_row_beat_is_raised_to_it_with_a_caveat() {
        let mut r = sample::report();
        let mut ceilings = r.ceilings.clone();
        let read = ceilings.iter_mut().find(|c| c.name == MEMORY_READ).unwrap();
        let row = r.results[1].gbps.unwrap();
        read.gbps = row / 1.5;
        let caveats = assign(&mut r.results, &mut ceilings);
        assert_eq!(caveats.len(), 1, "{caveats:?}");
        assert!(caveats[0].contains("raised"), "{caveats:?}");
        // the row by its full label, the cause as a likelihood
        assert!(
            caveats[0].contains("the row safetensors-mmap (touched), warm cache ran")
                && caveats[0].contains("most likely the probe"),
            "{caveats:?}"
        );
        let read = ceilings.iter().find(|c| c.name == MEMORY_READ).unwrap();
        assert_eq!(read.gbps, row);
        assert!(read.what.contains("raised from the probe's"), "{}", read.what);
        assert!(
            r.results
                .iter()
                .all(|x| x.percent_of_ceiling.is_none_or(|p| p <= 100.0))
        );
    }

    #[test]
    fn one_run_states_no_spread() {
        let r = sample::report();
        let (mut a, mut b) = (r.results[1].clone(), r.results[3].clone());
        a.samples_s = vec![a.median_s];
        b.samples_s = vec![b.median_s];
        a.min_s = a.median_s;
        a.max_s = a.median_s;
        b.min_s = b.median_s;
        b.max_s = b.median_s;
        assert_eq!(spread_text(&a), "a single 50.00 ms run");
        let c = compare(&a, &b);
        assert!(c.contains("no spread measured") && !c.contains('±'), "{c}");
        let mut rows = r.results.clone();
        for x in &mut rows {
            (x.runs, x.samples_s, x.min_s, x.max_s) = (1, vec![x.median_s], x.median_s, x.median_s);
        }
        let h = headline(&rows);
        assert!(
            h[0].contains("from one run each, no spread measured (fresh memory"),
            "{h:?}"
        );
        assert!(!h[0].contains(") ("), "no double parentheses: {h:?}");
    }

    #[test]
    fn rows_get_their_ceilings() {
        let mut r = sample::report();
        let ceilings = r.ceilings.clone();
        for row in &mut r.results {
            row.ceiling = None;
            row.percent_of_ceiling = None;
        }
        let mut ceilings = ceilings;
        assert!(assign(&mut r.results, &mut ceilings).is_empty());
        // untouched mmap: views only, no ceiling; touched mmap reads every byte of warm memory
        assert_eq!(r.results[0].ceiling, None);
        assert_eq!(r.results[1].ceiling.as_deref(), Some(MEMORY_READ));
        let p = r.results[1].percent_of_ceiling.unwrap();
        assert!((p - r.results[1].gbps.unwrap() / 20.0 * 100.0).abs() < 1e-9);
        // pickle-eager into fresh memory: against memcpy into fresh memory
        assert_eq!(r.results[3].ceiling.as_deref(), Some(MEMCPY_FRESH));
        let p = r.results[3].percent_of_ceiling.unwrap();
        assert!((p - r.results[3].gbps.unwrap() / 6.0 * 100.0).abs() < 1e-9);
        let mut gpu = r.results[1].clone();
        gpu.device = "gpu".into();
        gpu.upload = Some("write-buffer".into());
        assert_eq!(
            ceiling_of(&gpu).as_deref(),
            Some("gpu-ring"),
            "write-buffer rows against the ring"
        );
    }

    #[test]
    fn headline_comes_from_touched_rows() {
        let r = sample::report();
        let h = headline(&r.results);
        assert_eq!(h.len(), 1, "{h:?}");
        // touched: 0.15 s against 0.05 s, not the untouched 500x
        assert!(h[0] == r.headline[0], "{}", h[0]);
        let mut rows = r.results.clone();
        rows.retain(|x| x.method != "pickle-eager");
        let h = headline(&rows);
        assert!(
            h[0].contains("safetensors-mmap loads 500.0 MB in 50.00 ms ± 7.41 ms (10.00 GB/s, 50% of the memory-read ceiling); nothing to compare it with"),
            "{h:?}"
        );
        // overlapping fastest–slowest ranges: no measurable difference, whatever the medians say
        let mut close = r.results.clone();
        close[3].median_s = 0.052;
        close[3].min_s = 0.054;
        close[3].max_s = 0.06;
        let h = headline(&close);
        assert!(
            h[0].contains("no measurable difference between safetensors-mmap and pickle-eager"),
            "{h:?}"
        );
        let mut slower = r.results.clone();
        slower.swap(1, 3);
        slower[1].method = "safetensors-mmap".into();
        slower[3].method = "pickle-eager".into();
        slower[1].memory = None;
        slower[3].memory = Some("fresh".into());
        let h = headline(&slower);
        assert!(
            h[0].contains("safetensors-mmap loads 3.00 ± 0.63 times slower than pickle-eager"),
            "{h:?}"
        );
        let mut gpu = r.results[1].clone();
        gpu.device = "gpu".into();
        gpu.touched = false;
        rows.push(gpu);
        assert_eq!(headline(&rows).len(), 2);
        assert!(headline(&[]).is_empty());
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0]), 2.5);
    }
}
