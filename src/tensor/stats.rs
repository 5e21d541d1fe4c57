//! Statistics of a tensor in one streaming pass (and a second one for the histogram), chunk by chunk.
//!
//! Elements are decoded [`CHUNK`] at a time into a small buffer of `f32` (every float kind up to F32 and
//! the small integers, exactly) or `f64` (F64, I32, U32 exactly; I64/U64 rounded, their min, max,
//! mean and std then computed again from exact integer sums, and F64 far from 1 again scaled, in
//! `exact`; C64 as magnitudes). Each chunk is summarised in `f64` while it sits in the L1
//! cache (`kernel`, vectorised, with AVX2 or AVX-512 when the CPU has them) — min, max, zeros and the
//! sums of `x - k` and `(x - k)²` for a shift `k`, the running mean (the first element for the first
//! chunk) — so the tensor is read once, and chunks are combined with Chan et al.'s parallel update, which keeps the variance
//! numerically stable for any length. A chunk whose shifted sums would cancel takes a second pass about
//! its own mean (the corrected two-pass algorithm). A chunk with a NaN or infinity (its sums are not
//! finite) is recounted element by element; only finite values enter min, max, mean, std and the
//! histogram.
//!
//! 8- and 16-bit dtypes take another road (`counts`): one pass counts bit patterns, and every
//! statistic and the histogram come from the at most 65,536 distinct values.
//!
//! `std` is the sample standard deviation (Bessel-corrected, `n - 1`), as `torch.std` computes by default.

use serde::Serialize;

use super::View;
use super::decode::{self, Lanes, Value, serialize_opt_f64};
use crate::checkpoint::DType;
use binscale::{BinScale, bin_chunk};
use kernel::{Isa, Moments};

pub use control::{Cancelled, Control, ProgressFn};

/// Elements decoded per chunk.
pub const CHUNK: usize = 4096;
/// Elements per block when sampling.
pub const SAMPLE_BLOCK: u64 = 4096;
/// Default number of elements a `--sample` run examines.
pub const DEFAULT_SAMPLE: u64 = 1 << 22;

/// What to compute.
#[derive(Debug, Clone, Default)]
pub struct StatsOptions {
    /// Histogram bins; 0 for none.
    pub bins: usize,
    /// Examine only about this many elements, in evenly spaced blocks of [`SAMPLE_BLOCK`]; `None`
    /// examines every element.
    pub sample: Option<u64>,
}

/// How a sample was taken: `blocks` blocks of `block` consecutive elements (in logical order), the
/// starts `stride` elements apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// Number of blocks.
    pub blocks: u64,
    /// Elements per block.
    pub block: u64,
    /// Distance between block starts, in elements.
    pub stride: u64,
}

/// Equal-width bins over `[lo, hi]` of the finite values; the last bin includes `hi`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Lower edge of the first bin (the minimum).
    pub lo: f64,
    /// Upper edge of the last bin (the maximum).
    pub hi: f64,
    /// Count per bin.
    pub counts: Vec<u64>,
}

/// Statistics of a tensor (or of a sample of it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Elements examined.
    pub count: u64,
    /// Finite elements among them.
    pub finite: u64,
    /// NaN elements.
    pub nan: u64,
    /// +Inf elements.
    pub posinf: u64,
    /// −Inf elements.
    pub neginf: u64,
    /// Elements equal to zero (either sign).
    pub zeros: u64,
    /// Smallest finite value, exact for the dtype; `None` when there is none.
    pub min: Option<Value>,
    /// Largest finite value.
    pub max: Option<Value>,
    /// Mean of the finite values.
    #[serde(serialize_with = "serialize_opt_f64")]
    pub mean: Option<f64>,
    /// Sample standard deviation of the finite values (`n - 1`); `None` below two values.
    #[serde(serialize_with = "serialize_opt_f64")]
    pub std: Option<f64>,
    /// `"values"`, or `"magnitudes"` for complex tensors (statistics of |z|).
    pub of: &'static str,
    /// Whether only a sample was examined.
    pub sampled: bool,
    /// The sample, when `sampled`.
    pub sample: Option<Sample>,
    /// Histogram of the finite values, when bins were asked for and there are finite values.
    pub histogram: Option<Histogram>,
}

/// A value buffer lane: `f32` or `f64`.
trait Lane: Copy + PartialOrd + Default + Into<f64> {
    const INF: Self;
    const NEG_INF: Self;
    const ZERO: Self;
    /// Zero counter of the lane's width.
    type Count: kernel::Count;
    fn fill(dtype: DType, data: &[u8], start: u64, step: u64, out: &mut [Self]) -> bool;
    /// [`kernel::moments`] with this lane's number of extremes lanes (64 for `f32`, 32 for `f64`: four
    /// AVX-512 registers of each).
    fn moments(isa: Isa, xs: &[Self], k: f64) -> Moments;
    /// `xs` as `f32`, for the `f32` lane (whose histogram has a faster exact path).
    fn as_f32(xs: &[Self]) -> Option<&[f32]>;
    /// The `len` elements from `start` of `data` as they lie, without a copy: `Some` only when the
    /// dtype is this lane's own (F32 for `f32`, F64 for `f64`), the target little-endian and the bytes
    /// aligned for the lane.
    fn direct(dtype: DType, data: &[u8], start: u64, len: u64) -> Option<&[Self]>;
}

impl Lane for f32 {
    const INF: f32 = f32::INFINITY;
    const NEG_INF: f32 = f32::NEG_INFINITY;
    const ZERO: f32 = 0.0;
    type Count = u32;
    fn fill(dtype: DType, data: &[u8], start: u64, step: u64, out: &mut [f32]) -> bool {
        decode::fill_f32(dtype, data, start, step, out)
    }
    fn moments(isa: Isa, xs: &[f32], k: f64) -> Moments {
        kernel::moments::<f32, 64>(isa, xs, k)
    }
    fn as_f32(xs: &[f32]) -> Option<&[f32]> {
        Some(xs)
    }
    fn direct(dtype: DType, data: &[u8], start: u64, len: u64) -> Option<&[f32]> {
        if dtype != DType::F32 {
            return None;
        }
        decode::direct::<f32>(data, start, len, 4)
    }
}

impl Lane for f64 {
    const INF: f64 = f64::INFINITY;
    const NEG_INF: f64 = f64::NEG_INFINITY;
    const ZERO: f64 = 0.0;
    type Count = u64;
    fn fill(dtype: DType, data: &[u8], start: u64, step: u64, out: &mut [f64]) -> bool {
        decode::fill_f64(dtype, data, start, step, out)
    }
    fn moments(isa: Isa, xs: &[f64], k: f64) -> Moments {
        kernel::moments::<f64, 32>(isa, xs, k)
    }
    fn as_f32(_: &[f64]) -> Option<&[f32]> {
        None
    }
    fn direct(dtype: DType, data: &[u8], start: u64, len: u64) -> Option<&[f64]> {
        if dtype != DType::F64 {
            return None;
        }
        decode::direct::<f64>(data, start, len, 8)
    }
}

/// Running totals, combined chunk by chunk.
#[derive(Debug, Clone)]
struct Acc {
    count: u64,
    n: u64,
    mean: f64,
    m2: f64,
    /// `m2` is of the values divided by this power of two (1 but for F64 values whose squares leave
    /// the f64 range: see `exact::scaled_f64_moments`); the std is scaled back by it.
    m2_unit: f64,
    min: f64,
    max: f64,
    nan: u64,
    posinf: u64,
    neginf: u64,
    zeros: u64,
}

impl Default for Acc {
    fn default() -> Self {
        Acc {
            count: 0,
            n: 0,
            mean: 0.0,
            m2: 0.0,
            m2_unit: 1.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            nan: 0,
            posinf: 0,
            neginf: 0,
            zeros: 0,
        }
    }
}

impl Acc {
    /// Chan et al.: merge `n` finite values with mean `mean_b` and sum of squared deviations `m2`.
    fn merge(&mut self, n: u64, mean_b: f64, m2: f64) {
        if n == 0 {
            return;
        }
        let (na, nb) = (self.n as f64, n as f64);
        let delta = mean_b - self.mean;
        let total = na + nb;
        self.mean += delta * nb / total;
        self.m2 += m2 + delta * delta * na * nb / total;
        self.n += n;
    }

    /// One chunk in one pass: extremes, zeros and the sums of `x - k` and `(x - k)²` for a shift `k`
    /// near the mean (the running mean; the first value for the first chunk), which keeps the variance
    /// stable without a second pass. A chunk far from the shift (when the shifted sums would cancel)
    /// takes a second pass about its own mean.
    fn chunk<L: Lane>(&mut self, isa: Isa, xs: &[L]) {
        if xs.is_empty() {
            return;
        }
        self.count += xs.len() as u64;
        let n = xs.len() as f64;
        let first = self.n == 0;
        let k = if first {
            // the first chunk is shifted by its own mean: a shift far from the mean (an extreme
            // first element, such as I64's minimum) would cancel the mean's digits away
            let sum = L::moments(isa, xs, 0.0).s1;
            if !sum.is_finite() {
                return self.slow_chunk(xs);
            }
            sum / n
        } else {
            self.mean
        };
        let mut m = L::moments(isa, xs, k);
        // NaN or infinities present (or the shift was not finite)
        if !(m.s1.is_finite() && m.s2.is_finite()) {
            return self.slow_chunk(xs);
        }
        let mut shift = k;
        let mut m2 = m.s2 - m.s1 * m.s1 / n;
        // more than ~4 of 16 digits lost to cancellation: again about the chunk's mean
        if m2 < m.s2 * 1e-4 {
            shift = k + m.s1 / n;
            m = L::moments(isa, xs, shift);
            m2 = (m.s2 - m.s1 * m.s1 / n).max(0.0);
        }
        self.min = self.min.min(m.min);
        self.max = self.max.max(m.max);
        self.zeros += m.zeros;
        // the first chunk's mean is its plain sum over n, as a two-pass mean is: the shifted sum's
        // correction is rounding noise when the values span the whole f64 range (I64 extremes)
        let mean = if first && shift == k { k } else { shift + m.s1 / n };
        self.merge(xs.len() as u64, mean, m2);
    }

    /// A chunk holding NaN or infinities: classify every element.
    fn slow_chunk<L: Lane>(&mut self, xs: &[L]) {
        let (mut n, mut sum) = (0u64, 0f64);
        for &x in xs {
            let x: f64 = x.into();
            if x.is_nan() {
                self.nan += 1;
            } else if x == f64::INFINITY {
                self.posinf += 1;
            } else if x == f64::NEG_INFINITY {
                self.neginf += 1;
            } else {
                n += 1;
                sum += x;
                self.min = self.min.min(x);
                self.max = self.max.max(x);
                self.zeros += u64::from(x == 0.0);
            }
        }
        if n == 0 {
            return;
        }
        let mean = sum / n as f64;
        let m2 = xs
            .iter()
            .map(|&x| x.into())
            .filter(|x: &f64| x.is_finite())
            .map(|x| (x - mean) * (x - mean))
            .sum();
        self.merge(n, mean, m2);
    }
}

/// The logical ranges to examine, and the sample they form (if any).
fn plan(numel: u64, sample: Option<u64>) -> (Vec<(u64, u64)>, Option<Sample>) {
    match sample {
        Some(target) if numel > target.max(SAMPLE_BLOCK) => {
            let blocks = target.max(1).div_ceil(SAMPLE_BLOCK);
            let stride = numel / blocks;
            let ranges = (0..blocks).map(|k| (k * stride, SAMPLE_BLOCK)).collect();
            (
                ranges,
                Some(Sample {
                    blocks,
                    block: SAMPLE_BLOCK,
                    stride,
                }),
            )
        }
        _ => (vec![(0, numel)], None),
    }
}

/// Decode the elements of `ranges` of `view` into a buffer of lane `L` and hand it over, full chunks at
/// a time. Whole chunks of a contiguous run that lies in memory as the lane's own numbers
/// ([`Lane::direct`]) are handed over in place, without the copy; the chunks are the same either way.
fn for_chunks<L: Lane>(
    view: &View,
    ranges: &[(u64, u64)],
    ctl: &Control,
    mut f: impl FnMut(&[L]),
) -> Result<(), Cancelled> {
    let mut buf = vec![L::default(); CHUNK];
    let mut filled = 0;
    for &(start, count) in ranges {
        for run in view.runs(start, count) {
            let mut done = 0;
            if filled == 0 && run.step == 1 && run.len >= CHUNK as u64 {
                let whole = run.len - run.len % CHUNK as u64;
                if let Some(xs) = L::direct(view.dtype, view.data, run.start, whole) {
                    for c in xs.chunks_exact(CHUNK) {
                        f(c);
                        ctl.tick(CHUNK as u64)?;
                    }
                    done = whole;
                }
            }
            while done < run.len {
                let n = (CHUNK - filled).min((run.len - done) as usize);
                let first = run.start + done * run.step;
                // the view was checked at construction; a failure here means a bug, so stop rather than panic
                if !L::fill(view.dtype, view.data, first, run.step, &mut buf[filled..filled + n]) {
                    return Ok(());
                }
                filled += n;
                done += n as u64;
                if filled == CHUNK {
                    f(&buf);
                    filled = 0;
                    ctl.tick(CHUNK as u64)?;
                }
            }
        }
    }
    if filled > 0 {
        f(&buf[..filled]);
        ctl.tick(filled as u64)?;
    }
    Ok(())
}

fn run_lanes<L: Lane>(
    view: &View,
    ranges: &[(u64, u64)],
    bins: usize,
    ctl: &Control,
) -> Result<(Acc, Option<Histogram>), Cancelled> {
    let isa = Isa::detect();
    let mut acc = Acc::default();
    for_chunks::<L>(view, ranges, ctl, |xs| acc.chunk(isa, xs))?;
    let mut hist = None;
    if bins > 0 && acc.n > 0 {
        let (lo, hi) = (acc.min, acc.max);
        let mut counts = kernel::Counts::new(bins);
        let scale = BinScale::new(lo, hi, bins);
        let all_finite = acc.nan + acc.posinf + acc.neginf == 0;
        for_chunks::<L>(view, ranges, ctl, |xs| {
            bin_chunk(isa, xs, lo, scale, &mut counts, all_finite)
        })?;
        hist = Some(Histogram {
            lo,
            hi,
            counts: counts.totals(),
        });
    }
    Ok((acc, hist))
}

/// Statistics of `view` (see [`View::stats_with`]): computed over the distinct elements of a view that
/// repeats them (zero strides), checking `ctl` as the work advances.
pub(super) fn compute(view: &View, opts: &StatsOptions, ctl: &Control) -> Result<Stats, Cancelled> {
    let (distinct, repeat) = repeat::distinct(view);
    let view = &distinct;
    let (ranges, sample) = plan(view.numel(), opts.sample);
    let examined: u64 = ranges.iter().map(|&(s, c)| c.min(view.numel().saturating_sub(s))).sum();
    let lanes = decode::lanes(view.dtype).unwrap_or(Lanes::F64);
    let counted = counts::applies(view.dtype);
    let passes = 1 + u64::from(!counted && opts.bins > 0) + 2 * u64::from(matches!(lanes, Lanes::I64 | Lanes::U64));
    ctl.set_total(examined.saturating_mul(passes));
    let (mut acc, mut histogram) = match lanes {
        _ if counted => counts::run(view, &ranges, opts.bins, ctl)?,
        Lanes::F32 => parallel::run_lanes_auto::<f32>(view, &ranges, opts.bins, ctl)?,
        _ => parallel::run_lanes_auto::<f64>(view, &ranges, opts.bins, ctl)?,
    };
    let mut exact_range = None;
    if matches!(lanes, Lanes::I64 | Lanes::U64)
        && let Some((lo, hi, mean, m2)) = exact::exact_int_stats(view, &ranges, ctl)?
    {
        (acc.mean, acc.m2) = (mean, m2);
        exact_range = Some((lo, hi));
        // bins over the f64 range would merge values that f64 cannot tell apart (1 bin for a spread
        // of 3 around 2^60): no histogram rather than a wrong one
        if lo != hi && acc.max - acc.min < (hi - lo) as f64 / 2.0 {
            histogram = None;
        }
    }
    if lanes == Lanes::F64 && acc.n > 0 {
        let amax = acc.min.abs().max(acc.max.abs());
        let lost = !acc.mean.is_finite() || !acc.m2.is_finite() || acc.m2 == 0.0 && acc.min != acc.max;
        if (lost || !(exact::F64_SAFE_LOW..=exact::F64_SAFE_HIGH).contains(&amax))
            && amax > 0.0
            && amax.is_finite()
            && let Some((mean, m2, unit)) = exact::scaled_f64_moments(view, &ranges, ctl, amax)?
        {
            (acc.mean, acc.m2, acc.m2_unit) = (mean, m2, unit);
        }
        // equal-width bins over a range wider than the largest f64 cannot be computed
        if histogram.as_ref().is_some_and(|h| !(h.hi - h.lo).is_finite()) {
            histogram = None;
        }
    }
    if matches!(lanes, Lanes::F32 | Lanes::F64)
        && !counted
        && acc.n > 0
        && exact::mean_may_be_lost(acc.mean, acc.min, acc.max, acc.n)
        && let Some(mean) = exact::exact_mean(view, &ranges, ctl)?
    {
        acc.mean = mean;
    }
    repeat::scale(&mut acc, &mut histogram, repeat);
    let (mut min, mut max) = (None, None);
    if acc.n > 0 {
        min = Some(Value::of_f64(view.dtype, acc.min));
        max = Some(Value::of_f64(view.dtype, acc.max));
    }
    if let Some((lo, hi)) = exact_range {
        let exact = |x: i128| match lanes {
            Lanes::I64 => Value::Int(x as i64),
            _ => Value::UInt(x as u64),
        };
        (min, max) = (Some(exact(lo)), Some(exact(hi)));
    }
    ctl.finish();
    Ok(Stats {
        count: acc.count,
        finite: acc.n,
        nan: acc.nan,
        posinf: acc.posinf,
        neginf: acc.neginf,
        zeros: acc.zeros,
        min,
        max,
        mean: (acc.n > 0).then_some(acc.mean),
        std: (acc.n > 1).then(|| (acc.m2 / (acc.n - 1) as f64).sqrt() * acc.m2_unit),
        of: if lanes == Lanes::Complex {
            "magnitudes"
        } else {
            "values"
        },
        sampled: sample.is_some(),
        sample,
        histogram,
    })
}

#[path = "stats_binscale.rs"]
mod binscale;
#[path = "stats_control.rs"]
mod control;
#[path = "stats_counts.rs"]
mod counts;
#[path = "stats_exact.rs"]
mod exact;
#[path = "stats_kernel.rs"]
mod kernel;
#[path = "stats_parallel.rs"]
mod parallel;
#[path = "stats_repeat.rs"]
mod repeat;

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
