//! Statistics of 8- and 16-bit tensors by counting bit patterns.
//!
//! Such a tensor holds at most 65,536 distinct values, so one pass that only increments a counter
//! per element (no decoding, no floating point) gives everything: the counts are then walked once,
//! each distinct value decoded once and weighted by its count, for min, max, mean, the sum of squared
//! deviations from the exact mean (a true two-pass variance) and the histogram. This replaces the
//! decode-and-accumulate pass and the second histogram pass for F16, BF16, the F8 kinds, I8/U8,
//! I16/U16 and BOOL.

use super::{Acc, Cancelled, Control, Histogram, Lane, View};
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

/// Counting tables: two per width so that runs of one value do not serialise on a single counter;
/// fixed sizes so that indexing by a `u8`/`u16` needs no bounds check.
struct Tables<const N: usize> {
    t: Box<[[u32; N]; 2]>,
    totals: Vec<u64>,
    pending: u64,
}

impl<const N: usize> Tables<N> {
    fn new() -> Self {
        Tables {
            t: vec![[0u32; N]; 2].into_boxed_slice().try_into().expect("two tables"),
            totals: vec![0u64; N],
            pending: 0,
        }
    }

    fn flush(&mut self) {
        let [a, b] = &mut *self.t;
        for ((t, x), y) in self.totals.iter_mut().zip(a.iter_mut()).zip(b.iter_mut()) {
            *t += u64::from(*x) + u64::from(*y);
            (*x, *y) = (0, 0);
        }
        self.pending = 0;
    }

    /// Note `n` more elements counted; flush before a 32-bit counter could overflow.
    fn counted(&mut self, n: u64) {
        self.pending += n;
        if self.pending >= FLUSH_EVERY - BLOCK {
            self.flush();
        }
    }
}

/// Count a contiguous stretch of little-endian 16-bit patterns.
fn count16(t: &mut [[u32; 1 << 16]; 2], bytes: &[u8]) {
    let [a, b] = t;
    let mut quads = bytes.chunks_exact(8);
    for q in &mut quads {
        a[usize::from(u16::from_le_bytes([q[0], q[1]]))] += 1;
        b[usize::from(u16::from_le_bytes([q[2], q[3]]))] += 1;
        a[usize::from(u16::from_le_bytes([q[4], q[5]]))] += 1;
        b[usize::from(u16::from_le_bytes([q[6], q[7]]))] += 1;
    }
    for p in quads.remainder().chunks_exact(2) {
        a[usize::from(u16::from_le_bytes([p[0], p[1]]))] += 1;
    }
}

/// Count a contiguous stretch of 8-bit patterns.
fn count8(t: &mut [[u32; 1 << 8]; 2], bytes: &[u8]) {
    let [a, b] = t;
    let mut pairs = bytes.chunks_exact(2);
    for p in &mut pairs {
        a[usize::from(p[0])] += 1;
        b[usize::from(p[1])] += 1;
    }
    for &x in pairs.remainder() {
        a[usize::from(x)] += 1;
    }
}

/// Pattern counts of the elements of `ranges` (`width` bytes each), or `None` if a run lies
/// outside the data (a bug: views are checked when built) or `ctl` cancelled the work.
fn count<const N: usize>(
    view: &View,
    ranges: &[(u64, u64)],
    contiguous: fn(&mut [[u32; N]; 2], &[u8]),
    ctl: &Control,
) -> Option<Vec<u64>> {
    // the width follows from the number of patterns: 2^16 for 16-bit elements, 2^8 for 8-bit
    let width = if N > 1 << 8 { 2 } else { 1 };
    let mut tables = Tables::<N>::new();
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
                    contiguous(&mut tables.t, bytes);
                } else {
                    for i in 0..n {
                        let index = first.checked_add(i.checked_mul(run.step)?)?;
                        let at = usize::try_from(index).ok()?.checked_mul(width)?;
                        tables.t[0][read(view.data.get(at..at + width)?)] += 1;
                    }
                }
                tables.counted(n);
                done += n;
                ctl.tick(n).ok()?;
            }
        }
    }
    tables.flush();
    Some(tables.totals)
}

/// Statistics (and a histogram of `bins` bins) of the elements of `ranges`.
pub(super) fn run(
    view: &View,
    ranges: &[(u64, u64)],
    bins: usize,
    ctl: &Control,
) -> Result<(Acc, Option<Histogram>), Cancelled> {
    let width = (view.dtype.bits() / 8) as usize;
    let mut acc = Acc::default();
    let totals = match width {
        2 => count::<{ 1 << 16 }>(view, ranges, count16, ctl),
        _ => count::<{ 1 << 8 }>(view, ranges, count8, ctl),
    };
    if ctl.cancelled() {
        return Err(Cancelled);
    }
    let Some(totals) = totals else {
        return Ok((acc, None));
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
        return Ok((acc, None));
    }
    // summed exactly: at most 65,536 distinct values, and huge ones of both signs cancel exactly
    let mut sum = crate::tensor::exact_sum::ExactSum::default();
    values.iter().for_each(|&(v, c)| sum.add_times(v, c));
    acc.mean = sum.mean(acc.n);
    acc.m2 = values
        .iter()
        .map(|&(v, c)| (v - acc.mean) * (v - acc.mean) * c as f64)
        .sum();
    let hist = (bins > 0).then(|| {
        let (lo, hi) = (acc.min, acc.max);
        let scale = super::BinScale::new(lo, hi, bins);
        let mut counts = vec![0u64; bins];
        for &(v, c) in &values {
            counts[scale.bin(v, lo, bins - 1)] += c;
        }
        Histogram { lo, hi, counts }
    });
    Ok((acc, hist))
}
