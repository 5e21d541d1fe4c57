//! Histogram binning: how a value's bin is computed ([`BinScale`]) and the counting of one chunk.

use super::Lane;
use super::kernel::{self, Isa};

/// The power of two that [`BinScale`] multiplies differences by before the scale when `bins / (hi -
/// lo)` overflows: it brings the smallest difference (2^-1074) to 2^-474, so the scale stays finite for
/// any bin count, and no difference below `bins / f64::MAX` reaches the overflow.
const PRE: f64 = f64::from_bits((1023 + 600) << 52);

/// How a value's bin is computed: `((x - lo) * pre * scale)` truncated, capped at the last bin. `pre` is
/// 1 (and the fast kernels apply) unless `bins / (hi - lo)` overflows, for a range of subnormals or one
/// below `bins / f64::MAX` (`[1e-310, 3e-310]`: every value but the least fell in the last bin); then it
/// is [`PRE`], a power of two, and the product `(x - lo) * pre` is exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BinScale {
    pub pre: f64,
    pub scale: f64,
}

impl BinScale {
    pub(crate) fn new(lo: f64, hi: f64, bins: usize) -> BinScale {
        if hi <= lo {
            return BinScale { pre: 1.0, scale: 0.0 };
        }
        let scale = bins as f64 / (hi - lo);
        if scale.is_finite() {
            BinScale { pre: 1.0, scale }
        } else {
            BinScale {
                pre: PRE,
                scale: bins as f64 / ((hi - lo) * PRE),
            }
        }
    }

    /// The bin of a finite `x`, capped at `last`.
    pub(crate) fn bin(self, x: f64, lo: f64, last: usize) -> usize {
        ((((x - lo) * self.pre) * self.scale) as usize).min(last)
    }
}

/// Count finite values into bins; four interleaved sub-histograms keep runs of equal bins from
/// serialising on one counter.
pub(super) fn bin_chunk<L: Lane>(
    isa: Isa,
    xs: &[L],
    lo: f64,
    scale: BinScale,
    hist: &mut kernel::Counts,
    all_finite: bool,
) {
    let last = hist.per.len() - 1;
    let bin = |x: f64| scale.bin(x, lo, last);
    // the kernels compute `(x - lo) * scale`: only for a scale that needs no power of two first
    if all_finite && hist.per.len() <= kernel::MAX_BINS && scale.pre == 1.0 {
        kernel::bins(isa, xs, lo, scale.scale, hist);
        return;
    }
    let counts = &mut hist.per;
    if all_finite {
        let mut quads = xs.chunks_exact(4);
        for q in &mut quads {
            for (lane, &x) in q.iter().enumerate() {
                counts[bin(x.into())][lane] += 1;
            }
        }
        for &x in quads.remainder() {
            counts[bin(x.into())][0] += 1;
        }
    } else {
        for x in xs.iter().map(|&x| x.into()).filter(|x: &f64| x.is_finite()) {
            counts[bin(x)][0] += 1;
        }
    }
}
