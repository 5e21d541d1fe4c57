//! The statistics computed again where the fast pass's `f64` lanes lose them (split from
//! `stats.rs`): 64-bit integers from exact integer sums, and F64 values far from 1 summed scaled by a
//! power of two.

use super::control::{Cancelled, Control};
use super::{CHUNK, View};
use crate::checkpoint::DType;
use crate::tensor::decode;

/// Every element of `view` in `ranges`, decoded chunk by chunk by `fill` (`decode::fill_i128`,
/// `decode::fill_f64`), to `f`; `false` when an element cannot be decoded.
fn each_decoded<T: Copy + Default>(
    view: &View,
    ranges: &[(u64, u64)],
    ctl: &Control,
    fill: fn(DType, &[u8], u64, u64, &mut [T]) -> bool,
    f: &mut dyn FnMut(T),
) -> Result<bool, Cancelled> {
    // one reused buffer on the heap (64 KiB of i128s)
    let mut buf: Vec<T> = Vec::with_capacity(CHUNK);
    buf.resize(CHUNK, T::default());
    for &(start, count) in ranges {
        for run in view.runs(start, count) {
            let mut done = 0;
            while done < run.len {
                let n = CHUNK.min((run.len - done) as usize);
                if !fill(
                    view.dtype,
                    view.data,
                    run.start + done * run.step,
                    run.step,
                    &mut buf[..n],
                ) {
                    return Ok(false);
                }
                buf[..n].iter().for_each(|&x| f(x));
                done += n as u64;
                ctl.tick(n as u64)?;
            }
        }
    }
    Ok(true)
}

/// Exact statistics of a 64-bit integer tensor (I64, U64), which `f64` lanes round past 2^53 (a
/// spread of 1 around 2^60 read as none): min and max exactly; the mean from the exact sum; the sum
/// of squared deviations about the integer nearest the mean, each deviation exact before it is
/// squared in `f64`. Two passes. `(min, max, mean, m2)`, `None` when an element cannot be read or
/// there is none.
pub(super) fn exact_int_stats(
    view: &View,
    ranges: &[(u64, u64)],
    ctl: &Control,
) -> Result<Option<(i128, i128, f64, f64)>, Cancelled> {
    let (mut lo, mut hi, mut sum, mut n) = (i128::MAX, i128::MIN, 0i128, 0i128);
    // at most 2^64 elements of at most 2^64 each: the sum fits in an i128
    let read = each_decoded(view, ranges, ctl, decode::fill_i128, &mut |x| {
        lo = lo.min(x);
        hi = hi.max(x);
        sum += x;
        n += 1;
    })?;
    if !read || n == 0 {
        return Ok(None);
    }
    let centre = sum.div_euclid(n);
    let (mut sd, mut sd2) = (0i128, 0f64);
    each_decoded(view, ranges, ctl, decode::fill_i128, &mut |x| {
        let d = x - centre;
        sd += d;
        sd2 += (d as f64) * (d as f64);
    })?;
    let nf = n as f64;
    let mean = centre as f64 + sd as f64 / nf;
    let m2 = (sd2 - (sd as f64) * (sd as f64) / nf).max(0.0);
    Ok(Some((lo, hi, mean, m2)))
}

/// Magnitudes of F64 values between which the fast pass's sums and squares neither overflow nor
/// underflow (with room for 2^40 elements); outside, [`scaled_f64_moments`] computes them again.
pub(super) const F64_SAFE_HIGH: f64 = 1e140;
pub(super) const F64_SAFE_LOW: f64 = 1e-140;

/// Mean, sum of squared deviations and its unit of the finite F64 values of `view`, computed on the values
/// scaled by a power of two (exact) that brings the largest magnitude `amax` near 1: the fast pass's
/// sums overflow past about 1e154 (a mean of `inf` for two values of 1.7e308, a std of NaN) and its
/// squares underflow below about 1e-154 (a std of 0 for values of 1e-300). Two passes; `None` when
/// an element cannot be read.
pub(super) fn scaled_f64_moments(
    view: &View,
    ranges: &[(u64, u64)],
    ctl: &Control,
    amax: f64,
) -> Result<Option<(f64, f64, f64)>, Cancelled> {
    // 2^-e with 2^e near amax: multiplying by a power of two is exact (no value here is scaled into
    // the subnormals unless it is 2^1000 times smaller than the largest, and then it adds nothing)
    let e = amax.log2().round().clamp(-1000.0, 1000.0) as i32;
    let (down, up) = (2f64.powi(-e), 2f64.powi(e));
    let each = |f: &mut dyn FnMut(f64)| {
        each_decoded(view, ranges, ctl, decode::fill_f64, &mut |x: f64| {
            if x.is_finite() {
                f(x * down);
            }
        })
    };
    let (mut n, mut sum) = (0u64, 0f64);
    if !each(&mut |x| {
        n += 1;
        sum += x;
    })? || n == 0
    {
        return Ok(None);
    }
    let mean = sum / n as f64;
    let (mut sd, mut sd2) = (0f64, 0f64);
    each(&mut |x| {
        sd += x - mean;
        sd2 += (x - mean) * (x - mean);
    })?;
    let m2 = (sd2 - sd * sd / n as f64).max(0.0);
    // m2 stays in the scaled unit (m2 · up² can overflow or underflow where the std does not); the
    // std is scaled back by `up`
    Ok(Some(((mean + sd / n as f64) * up, m2, up)))
}

/// Whether the fast pass's mean may have lost its digits: values spread over more than
/// `1 / (n · ε)` times the mean (huge values of both signs cancelling, `[1e300, 1, -1e300, 2]`), or a
/// mean of exactly 0 over values that differ. Ordinary weights (a mean 10^-4 of their spread) are far
/// from it, so the exact pass below runs only on such tensors.
pub(super) fn mean_may_be_lost(mean: f64, min: f64, max: f64, n: u64) -> bool {
    let spread = max - min;
    spread > 0.0 && (mean == 0.0 || !mean.is_finite() || spread / mean.abs() > 1.0 / (n as f64 * f64::EPSILON))
}

/// The mean of the finite values of `view` in `ranges`, summed exactly ([`ExactSum`]); `None` when an
/// element cannot be read or none is finite.
///
/// [`ExactSum`]: crate::tensor::exact_sum::ExactSum
pub(super) fn exact_mean(view: &View, ranges: &[(u64, u64)], ctl: &Control) -> Result<Option<f64>, Cancelled> {
    let mut sum = crate::tensor::exact_sum::ExactSum::default();
    let mut n = 0u64;
    let read = each_decoded(view, ranges, ctl, decode::fill_f64, &mut |x: f64| {
        if x.is_finite() {
            sum.add(x);
            n += 1;
        }
    })?;
    Ok((read && n > 0).then(|| sum.mean(n)))
}
