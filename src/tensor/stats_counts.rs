//! Statistics of 8- and 16-bit tensors by counting bit patterns.
//!
//! Such a tensor holds at most 65,536 distinct values, so one pass that only increments a counter
//! per element (no decoding, no floating point) gives everything: the counts are then walked once,
//! each distinct value decoded once and weighted by its count, for min, max, mean, the sum of squared
//! deviations from the exact mean (a true two-pass variance) and the histogram. This replaces the
//! decode-and-accumulate pass and the second histogram pass for F16, BF16, the F8 kinds, I8/U8,
//! I16/U16 and BOOL.

use super::{Acc, Histogram, Lane, View};
use crate::checkpoint::DType;

/// Elements counted into the 32-bit tables before they are added to the 64-bit totals.
const FLUSH_EVERY: u64 = 1 << 31;
/// Elements of a contiguous run handled between flush checks.
const BLOCK: u64 = 1 << 24;

/// Whether `dtype` is counted by pattern: 8 or 16 bits per element, real-valued, decodable.
pub(super) fn applies(dtype: DType) -> bool {
    matches!(dtype.bits(), 8 | 16)
        && !matches!(dtype, DType::Torch { .. })
        && super::decode::lanes(dtype) == Some(super::Lanes::F32)
}

/// Pattern counts of the elements of `ranges`, or `None` if a run lies outside the data (a bug:
/// views are checked when built).
fn count(view: &View, ranges: &[(u64, u64)], width: usize) -> Option<Vec<u64>> {
    let patterns = 1usize << (8 * width);
    // two tables, alternating, so that runs of one value do not serialise on a single counter
    let (mut t0, mut t1) = (vec![0u32; patterns], vec![0u32; patterns]);
    let mut totals = vec![0u64; patterns];
    let mut pending = 0u64;
    let flush = |t0: &mut [u32], t1: &mut [u32], totals: &mut [u64]| {
        for ((t, a), b) in totals.iter_mut().zip(t0.iter_mut()).zip(t1.iter_mut()) {
            *t += u64::from(*a) + u64::from(*b);
            (*a, *b) = (0, 0);
        }
    };
    let read = |b: &[u8]| {
        if width == 2 {
            usize::from(u16::from_le_bytes([b[0], b[1]]))
        } else {
            usize::from(b[0])
        }
    };
    for &(start, len) in ranges {
        for run in view.runs(start, len) {
            let mut done = 0u64;
            while done < run.len {
                let n = BLOCK.min(run.len - done);
                let first = run.start.checked_add(done.checked_mul(run.step)?)?;
                if run.step == 1 {
                    let a = usize::try_from(first).ok()?.checked_mul(width)?;
                    let bytes = view.data.get(a..a.checked_add(n as usize * width)?)?;
                    let mut pairs = bytes.chunks_exact(2 * width);
                    for p in &mut pairs {
                        t0[read(p)] += 1;
                        t1[read(&p[width..])] += 1;
                    }
                    for p in pairs.remainder().chunks_exact(width) {
                        t0[read(p)] += 1;
                    }
                } else {
                    for i in 0..n {
                        let index = first.checked_add(i.checked_mul(run.step)?)?;
                        let at = usize::try_from(index).ok()?.checked_mul(width)?;
                        t0[read(view.data.get(at..at + width)?)] += 1;
                    }
                }
                pending += n;
                if pending >= FLUSH_EVERY - BLOCK {
                    flush(&mut t0, &mut t1, &mut totals);
                    pending = 0;
                }
                done += n;
            }
        }
    }
    flush(&mut t0, &mut t1, &mut totals);
    Some(totals)
}

/// Statistics (and a histogram of `bins` bins) of the elements of `ranges`.
pub(super) fn run(view: &View, ranges: &[(u64, u64)], bins: usize) -> (Acc, Option<Histogram>) {
    let width = (view.dtype.bits() / 8) as usize;
    let mut acc = Acc::default();
    let Some(totals) = count(view, ranges, width) else {
        return (acc, None);
    };
    // each distinct pattern decoded once
    let mut values: Vec<(f64, u64)> = Vec::new();
    for (p, &c) in totals.iter().enumerate().filter(|(_, c)| **c > 0) {
        let bytes = (p as u16).to_le_bytes();
        let mut x = [0f32];
        if !f32::fill(view.dtype, &bytes[..width], 0, 1, &mut x) {
            continue;
        }
        let v = f64::from(x[0]);
        acc.count += c;
        if v.is_nan() {
            acc.nan += c;
        } else if v == f64::INFINITY {
            acc.posinf += c;
        } else if v == f64::NEG_INFINITY {
            acc.neginf += c;
        } else {
            acc.n += c;
            if v == 0.0 {
                acc.zeros += c;
            }
            acc.min = acc.min.min(v);
            acc.max = acc.max.max(v);
            values.push((v, c));
        }
    }
    if acc.n == 0 {
        return (acc, None);
    }
    let sum: f64 = values.iter().map(|&(v, c)| v * c as f64).sum();
    acc.mean = sum / acc.n as f64;
    acc.m2 = values
        .iter()
        .map(|&(v, c)| (v - acc.mean) * (v - acc.mean) * c as f64)
        .sum();
    let hist = (bins > 0).then(|| {
        let (lo, hi) = (acc.min, acc.max);
        let scale = if hi > lo { bins as f64 / (hi - lo) } else { 0.0 };
        let mut counts = vec![0u64; bins];
        for &(v, c) in &values {
            counts[(((v - lo) * scale) as usize).min(bins - 1)] += c;
        }
        Histogram { lo, hi, counts }
    });
    (acc, hist)
}
