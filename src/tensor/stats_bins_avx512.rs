//! The `f32` histogram for a few bins (the default 20) with AVX-512BW: 64 values to a step, each
//! value's bin computed in `f32`, corrected to the exact `f64` bin against the bins' edges as `f32`
//! values ([`Edges`]), the 64 bins packed into bytes and counted with one byte comparison per bin.
//!
//! Exactness. The bin of `x` is [`super::bin`]`(x, lo, scale, top)` in `f64`, a non-decreasing
//! function of `x`. So bin `i ≥ 1` holds exactly the values from some smallest `f32` `tᵢ` up to
//! `tᵢ₊₁`, and `bin(x) = #{i : x ≥ tᵢ}`; [`Edges::new`] finds each `tᵢ` by bisection over the `f32`s
//! in order. The kernel's `f32` estimate `a = (x - lo)·scale - δ` is below the `f64` product and by
//! less than one (see [`super::Fast`]: the error is under `(bins + 2)·2⁻²²`, `δ` four times that plus
//! the subtraction's rounding), so its truncation `j` is the bin or the one below, and one comparison
//! with `tⱼ₊₁` (a 32-entry table lookup in a register) settles which. A block where the estimate
//! overflowed (a range wider than `f32` holds) is counted again with the `f64` formula.

use std::arch::x86_64::*;

use super::super::prefetch;
use super::{Counts, Fast, bin};

/// Most bins this kernel counts: the edges `t₀..=t_bins` fill a 32-entry table.
pub(super) const MAX_BINS: usize = 31;

/// The edges of the bins as `f32` values: `t[0]` is −∞, `t[i]` (`1 ≤ i ≤ top`) the smallest `f32`
/// whose `f64` bin is `i` or more (+∞ where there is none), and +∞ past the last bin.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Edges {
    t: [f32; 32],
    /// The `lo` and `scale` they were found for (bit patterns).
    key: (u64, u64),
}

impl Edges {
    /// The edges of `bins` bins (at most [`MAX_BINS`]) starting at `lo`, `scale` bins per unit.
    pub(super) fn new(lo: f64, scale: f64, bins: usize) -> Edges {
        debug_assert!((1..=MAX_BINS).contains(&bins) && scale > 0.0);
        let top = (bins - 1) as f64;
        let mut t = [f32::INFINITY; 32];
        t[0] = f32::NEG_INFINITY;
        // every finite f32 in order: keys from -MAX to MAX
        let (first, last) = (order(-f32::MAX), order(f32::MAX));
        for (i, e) in t.iter_mut().enumerate().take(bins).skip(1) {
            let at_least = |k: u32| bin(f64::from(unorder(k)), lo, scale, top) as usize >= i;
            if !at_least(last) {
                continue;
            }
            // the first key in [first, last] at which `at_least` holds (it holds at `last`)
            let (mut a, mut b) = (first, last);
            while a < b {
                let m = a + (b - a) / 2;
                if at_least(m) { b = m } else { a = m + 1 }
            }
            *e = unorder(a);
        }
        Edges {
            t,
            key: (lo.to_bits(), scale.to_bits()),
        }
    }

    /// Whether these are the edges for `lo` and `scale`.
    pub(super) fn fits(&self, lo: f64, scale: f64) -> bool {
        self.key == (lo.to_bits(), scale.to_bits())
    }
}

/// The position of a finite `f32` among all `f32`s in order (−0 just below +0).
fn order(x: f32) -> u32 {
    let b = x.to_bits();
    if b >> 31 == 1 { !b } else { b | 1 << 31 }
}

/// The `f32` at position `k` ([`order`] undone).
fn unorder(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & !(1 << 31) } else { !k })
}

/// Count the finite values `xs` into `counts` (the bins of [`super::bin`] exactly); `p` and `e` must
/// be for the same `lo`, `scale` and bin count (at most [`MAX_BINS`]).
///
/// # Safety
/// The CPU must have AVX-512F, AVX-512BW and POPCNT.
#[target_feature(enable = "avx512f,avx512bw,popcnt")]
pub(super) unsafe fn bins_f32(xs: &[f32], p: &Fast, e: &Edges, counts: &mut Counts) {
    let bins = counts.per.len();
    debug_assert!((1..=MAX_BINS).contains(&bins));
    let top = (bins - 1) as f64;
    let delta = p.near + p.near / 4.0;
    let (lo, scale, shift) = (_mm512_set1_ps(p.lo), _mm512_set1_ps(p.scale), _mm512_set1_ps(delta));
    let (zero, topv, one) = (_mm512_setzero_ps(), _mm512_set1_ps(p.top), _mm512_set1_epi32(1));
    // SAFETY: `t` is 32 f32s, read as two registers of 16
    let (t_lo, t_hi) = unsafe { (_mm512_loadu_ps(e.t.as_ptr()), _mm512_loadu_ps(e.t.as_ptr().add(16))) };
    let splat: [__m512i; MAX_BINS] = std::array::from_fn(|b| _mm512_set1_epi8(b as i8));
    let mut tally = [0u64; MAX_BINS];
    // the bin of 16 values as 32-bit integers, and the largest estimate seen
    let bins16 = |v: *const f32, most: &mut __m512| {
        // SAFETY: the caller passes 16 readable values
        let x = unsafe { _mm512_loadu_ps(v) };
        let a = _mm512_sub_ps(_mm512_mul_ps(_mm512_sub_ps(x, lo), scale), shift);
        *most = _mm512_max_ps(*most, a);
        let j = _mm512_cvttps_epi32(_mm512_min_ps(_mm512_max_ps(a, zero), topv));
        let up = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, _mm512_permutex2var_ps(t_lo, _mm512_add_epi32(j, one), t_hi));
        _mm512_mask_add_epi32(j, up, j, one)
    };
    let mut most = _mm512_set1_ps(f32::NEG_INFINITY);
    let mut blocks = xs.chunks_exact(64);
    for block in &mut blocks {
        let v = block.as_ptr();
        prefetch(v.cast(), 256);
        // SAFETY: a block is 64 values
        let (b0, b1, b2, b3) = unsafe {
            (
                bins16(v, &mut most),
                bins16(v.add(16), &mut most),
                bins16(v.add(32), &mut most),
                bins16(v.add(48), &mut most),
            )
        };
        // every bin is 0..=30, so saturating packs keep them; the order of the bytes does not matter
        let bytes = _mm512_packus_epi16(_mm512_packus_epi32(b0, b1), _mm512_packus_epi32(b2, b3));
        let mut rest = 64u64;
        for (t, s) in tally.iter_mut().zip(&splat).take(bins - 1) {
            let n = u64::from(_mm512_cmpeq_epi8_mask(bytes, *s).count_ones());
            *t += n;
            rest -= n;
        }
        tally[bins - 1] += rest;
    }
    // an estimate past the last bin and one: the f32 product overflowed or lost its bound, so every
    // value is counted again with the f64 formula (a range wider than f32 holds)
    if _mm512_reduce_max_ps(most) > p.limit {
        tally = [0; MAX_BINS];
        for &x in xs.chunks_exact(64).flatten() {
            tally[bin(f64::from(x), p.lo64, p.scale64, top) as usize] += 1;
        }
    }
    for &x in blocks.remainder() {
        tally[bin(f64::from(x), p.lo64, p.scale64, top) as usize] += 1;
    }
    for (c, t) in counts.per.iter_mut().zip(tally) {
        c[3] += t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_the_order_of_the_floats() {
        let xs = [
            -f32::MAX,
            -1.5,
            -f32::MIN_POSITIVE,
            -1e-45,
            -0.0,
            0.0,
            1e-45,
            1.0,
            f32::MAX,
        ];
        for w in xs.windows(2) {
            assert!(order(w[0]) < order(w[1]), "{w:?}");
            assert_eq!(unorder(order(w[0])).to_bits(), w[0].to_bits());
        }
        assert_eq!(order(-0.0) + 1, order(0.0));
    }

    #[test]
    fn each_edge_is_the_first_float_of_its_bin() {
        for (lo, hi, bins) in [
            (-0.02f32, 0.02f32, 20usize),
            (0.0, 1.0, 31),
            (7.0, 7.5, 3),
            (-3e38, 3.4e38, 20),
        ] {
            let (lo, hi) = (f64::from(lo), f64::from(hi));
            let scale = bins as f64 / (hi - lo);
            let e = Edges::new(lo, scale, bins);
            let top = (bins - 1) as f64;
            for i in 1..bins {
                let t = e.t[i];
                let below = unorder(order(t) - 1);
                assert_eq!(bin(f64::from(t), lo, scale, top) as usize, i, "[{lo}, {hi}] edge {i}");
                assert!(
                    (bin(f64::from(below), lo, scale, top) as usize) < i,
                    "[{lo}, {hi}] edge {i}"
                );
            }
            assert!(e.fits(lo, scale) && !e.fits(lo, scale * 2.0));
        }
    }
}
