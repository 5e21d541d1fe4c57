//! The histogram loops of [`super::bins`]: the bin of each value of a block computed in a loop that
//! vectorises (in `f32` for `f32` values, exactly as the `f64` formula has it; see [`Fast`]), then the
//! counting, two values to an increment when the bins are few ([`Tally`]).

use super::{Lane, prefetch};

/// The loop of [`bins`], inlined into each copy.
#[inline(always)]
pub(super) fn bins_generic<L: Lane>(xs: &[L], lo: f64, scale: f64, counts: &mut Counts) {
    let top = (counts.per.len() - 1) as f64;
    // the bin of each value first, in a loop of its own that vectorises, then the counting
    let mut idx = [0u32; BLOCK];
    for c in xs.chunks(BLOCK) {
        prefetch(c.as_ptr().cast(), size_of_val(c));
        for (o, &x) in idx.iter_mut().zip(c) {
            *o = bin(x.into(), lo, scale, top);
        }
        counts.tally.add(&idx[..c.len()], &mut counts.per);
    }
}

/// Most bins counted by pairs in [`Tally`].
const PAIR_BINS: usize = 64;
/// Cells of the two pair tables.
const CELLS: usize = 2 * PAIR_BINS * PAIR_BINS;

/// Histogram counts being gathered by [`bins`] (and by the callers' own scalar loops, in `per`).
pub(crate) struct Counts {
    /// Count per bin, in four sub-counters (summed by [`Counts::totals`]).
    pub per: Vec<[u64; 4]>,
    tally: Tally,
    /// The bins' edges for [`small`], found on its first call.
    #[cfg(target_arch = "x86_64")]
    edges: Option<avx512::Edges>,
}

impl Counts {
    /// Zero counts for `bins` bins (at least one).
    pub fn new(bins: usize) -> Counts {
        Counts {
            per: vec![[0; 4]; bins],
            tally: Tally::new(bins),
            #[cfg(target_arch = "x86_64")]
            edges: None,
        }
    }

    /// The count of each bin.
    pub fn totals(mut self) -> Vec<u64> {
        self.tally.flush(&mut self.per);
        self.per.iter().map(|c| c.iter().sum()).collect()
    }
}

/// Counting of bin numbers. Up to [`PAIR_BINS`] bins, two values make one increment: the pair
/// `(b₀, b₁)` counts in cell `b₀·row + b₁` of a small table (two tables, alternate pairs, so that
/// runs of one pair do not serialise on one counter), folded into the bins now and then (row sums for
/// `b₀`, column sums for `b₁`). Beyond that, one increment per value, into four interleaved
/// sub-counters.
struct Tally {
    /// log₂ of the row length (a power of two at least the number of bins); 0 when not by pairs.
    shift: u32,
    bins: usize,
    /// The two tables, [`CELLS`] long when counting by pairs.
    cells: Vec<u32>,
    /// Pairs counted since the last flush (a flush comes before a 32-bit cell could overflow).
    pending: u64,
    pairs: [u32; BLOCK / 2],
}

impl Tally {
    fn new(bins: usize) -> Tally {
        let by_pairs = bins <= PAIR_BINS;
        Tally {
            shift: if by_pairs {
                bins.next_power_of_two().trailing_zeros().max(1)
            } else {
                0
            },
            bins,
            cells: if by_pairs { vec![0; CELLS] } else { Vec::new() },
            pending: 0,
            pairs: [0; BLOCK / 2],
        }
    }

    /// Count the bins `idx` (each below the number of bins, at most [`BLOCK`] of them).
    #[inline(always)]
    fn add(&mut self, idx: &[u32], counts: &mut [[u64; 4]]) {
        let Ok(cells) = <&mut [u32; CELLS]>::try_from(self.cells.as_mut_slice()) else {
            let flat = counts.as_flattened_mut();
            for (i, &b) in idx.iter().enumerate() {
                flat[(b as usize) << 2 | (i & 3)] += 1;
            }
            return;
        };
        // value k pairs with value k + h (loads that vectorise); alternate pairs use the second table
        let (half, shift, h) = ((CELLS / 2) as u32, self.shift, idx.len() / 2);
        let pairs = &mut self.pairs[..h];
        for (k, ((o, &a), &b)) in pairs.iter_mut().zip(&idx[..h]).zip(&idx[h..2 * h]).enumerate() {
            *o = ((a << shift) | b) + (k as u32 & 1) * half;
        }
        for &c in pairs.iter() {
            cells[c as usize & (CELLS - 1)] += 1;
        }
        if idx.len() % 2 == 1 {
            counts[idx[2 * h] as usize][2] += 1;
        }
        self.pending += h as u64;
        if self.pending >= u64::from(u32::MAX) - BLOCK as u64 {
            self.flush(counts);
        }
    }

    /// Fold the pair tables into `counts` and empty them.
    fn flush(&mut self, counts: &mut [[u64; 4]]) {
        if self.cells.is_empty() {
            return;
        }
        let row = 1usize << self.shift;
        for t in self.cells.chunks_exact_mut(CELLS / 2) {
            for (b0, r) in t.chunks_exact_mut(row).take(self.bins).enumerate() {
                let mut sum = 0u64;
                for (b1, c) in r[..self.bins].iter_mut().enumerate() {
                    sum += u64::from(*c);
                    counts[b1][1] += u64::from(*c);
                    *c = 0;
                }
                counts[b0][0] += sum;
            }
        }
        self.pending = 0;
    }
}

/// Values per block of the histogram loops: bins computed into a small array, then counted.
const BLOCK: usize = 256;

/// Most bins the `f32` fast path takes: its error bound, `(bins + 2)·2⁻²²`, stays far below one bin.
const FAST_MAX_BINS: usize = 1 << 16;

/// The histogram's parameters in `f32`, for [`bins_f32`].
///
/// The bin of `x` is `((x - lo) * scale)` in `f64`, truncated and capped. In `f32` the same product
/// `a = (x - lo) * scale` is off by a relative `3·2⁻²⁴` at most (two roundings and `scale`'s own, all
/// relative while `scale` is a normal `f32`; a subnormal difference is exact, a subnormal product off by
/// 2⁻¹⁵⁰), and the `f64` product by far less, so for `0 <= a <= bins + 1` the two differ by less than
/// `(bins + 2)·2⁻²²`. Truncating `a` therefore gives the `f64` bin except when `a` lies within `near`
/// (four times that bound) of a whole number `1..=top`, an inner edge: a block holding such a value
/// (or a value outside `[0, bins + 1]`, or a NaN product) is binned again with the `f64` formula. The
/// bins are exactly the `f64` ones, only faster.
pub(super) struct Fast {
    lo: f32,
    scale: f32,
    top: f32,
    limit: f32,
    near: f32,
    lo64: f64,
    scale64: f64,
}

impl Fast {
    /// The `f32` parameters, or `None` when the fast path does not apply: `lo` not an `f32`, `scale`
    /// not a normal `f32`, or too many bins.
    pub(super) fn new(lo: f64, scale: f64, bins: usize) -> Option<Fast> {
        let (lo32, scale32) = (lo as f32, scale as f32);
        if f64::from(lo32) != lo || !lo32.is_finite() || !scale32.is_normal() || bins > FAST_MAX_BINS {
            return None;
        }
        let b = bins as f32;
        Some(Fast {
            lo: lo32,
            scale: scale32,
            top: b - 1.0,
            limit: b + 1.0,
            near: (b + 2.0) * (1.0 / (1u32 << 20) as f32),
            lo64: lo,
            scale64: scale,
        })
    }
}

/// [`bins`] for `f32` values (see [`Fast`]): the bins of a block in `f32`, 16 to an AVX-512 register,
/// and a flag for any value near an inner edge, then the counting.
#[inline(always)]
pub(super) fn bins_f32(xs: &[f32], p: &Fast, counts: &mut Counts) {
    const MAGIC: f32 = (1u32 << 23) as f32;
    let top64 = (counts.per.len() - 1) as f64;
    let mut idx = [0u32; BLOCK];
    for c in xs.chunks(BLOCK) {
        prefetch(c.as_ptr().cast(), size_of_val(c));
        let mut doubt = 0u32;
        for (o, &x) in idx.iter_mut().zip(c) {
            let a = (x - p.lo) * p.scale;
            // a whole number nearest `a` (`a` below 2²³ here, or the block is redone): 2²³ added rounds
            // to one
            let r = (a + MAGIC) - MAGIC;
            let dist = if a > r { a - r } else { r - a };
            let bad = !(a >= 0.0 && a <= p.limit) || (dist < p.near && r >= 1.0 && r <= p.top);
            doubt |= u32::from(bad);
            let t = if a >= p.top {
                p.top
            } else if a > 0.0 {
                a
            } else {
                0.0
            };
            let u = t + MAGIC;
            let b = (u.to_bits() & 0x7f_ffff).wrapping_sub(u32::from(u - MAGIC > t));
            *o = b;
        }
        if doubt != 0 {
            for (o, &x) in idx.iter_mut().zip(c) {
                *o = bin(x.into(), p.lo64, p.scale64, top64);
            }
        }
        counts.tally.add(&idx[..c.len()], &mut counts.per);
    }
}

/// Count `f32` values with the AVX-512BW kernel for a few bins (`avx512`), when the CPU has it and
/// the bins are few enough; `false` (nothing counted) otherwise.
#[cfg(target_arch = "x86_64")]
pub(super) fn small(xs: &[f32], p: &Fast, counts: &mut Counts) -> bool {
    let cpu = std::arch::is_x86_feature_detected!("avx512bw") && std::arch::is_x86_feature_detected!("popcnt");
    // the edges assume bins that rise with the value: a positive scale, as the statistics give
    if counts.per.len() > avx512::MAX_BINS || !cpu || p.scale64 <= 0.0 {
        return false;
    }
    let edges = match counts.edges.take() {
        Some(e) if e.fits(p.lo64, p.scale64) => e,
        _ => avx512::Edges::new(p.lo64, p.scale64, counts.per.len()),
    };
    // SAFETY: AVX-512BW and POPCNT were seen just above, and AVX-512F comes with AVX-512BW
    unsafe { avx512::bins_f32(xs, p, &edges, counts) };
    counts.edges = Some(edges);
    true
}

#[cfg(target_arch = "x86_64")]
#[path = "stats_bins_avx512.rs"]
mod avx512;

/// `((x - lo) * scale) as usize` capped at `top`, as the scalar code had it, in operations that
/// vectorise (a saturating `as` conversion does not): the product is clamped to `[0, top]` first (the
/// same bin: truncation is monotone and `top` a whole number below [`MAX_BINS`]; a NaN, zero times an infinite
/// scale, still goes to bin 0), then truncated by adding 2⁵² (which rounds to a whole number held in
/// the low bits) and stepping down one when that rounded up.
#[inline(always)]
fn bin(x: f64, lo: f64, scale: f64, top: f64) -> u32 {
    const MAGIC: f64 = (1u64 << 52) as f64;
    let t = (x - lo) * scale;
    let t = if t >= top {
        top
    } else if t > 0.0 {
        t
    } else {
        0.0
    };
    let u = t + MAGIC;
    (u.to_bits() as u32).wrapping_sub(u32::from(u - MAGIC > t))
}
