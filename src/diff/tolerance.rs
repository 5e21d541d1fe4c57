//! How close two tensors of (possibly) different dtypes must be to count as the same values: the
//! tolerance of `torch.testing.assert_close`, and the verdict of a whole comparison.
//!
//! An element of B is within tolerance of A's when `|a − b| ≤ atol + rtol·|a|` (A is the reference,
//! `expected` in torch's terms). A pair of dtypes is judged by the larger `rtol` and the larger `atol`
//! of the two, as torch does when `check_dtype=False`, so an F32 tensor and its F16 export are judged
//! by F16's rounding. The figures for F16, BF16, F32, F64 and C64 are torch's defaults; integers and
//! BOOL must be equal (torch: 0 and 0). For the small floats torch gives no default; they get the
//! same rule stated for their own bits: `rtol` = the gap between 1 and the next value (2^−mantissa
//! bits), `atol` = the smallest positive value, so rounding to nearest stays within half of each.
//! GGML block types and torch-only dtypes have no rounding tolerance: only equal values pass.

use serde::Serialize;

use crate::checkpoint::DType;

/// The tolerance one pair of dtypes is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    /// The dtype whose rounding sets the tolerance: the narrower of the pair (the one with the larger
    /// `rtol`; `F16` for F32 against F16).
    pub dtype: DType,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative differences are measured where `|a|` is at least this: the smallest normal number of
    /// the narrower dtype (below it the dtype's steps are absolute, and a relative figure would only
    /// describe the subnormal step). 0 for integers.
    #[serde(skip)]
    pub rel_floor: f64,
}

impl Tolerance {
    /// The tolerance for comparing a tensor of dtype `a` with one of dtype `b`; `None` when either
    /// dtype has no rounding tolerance (GGML block types, torch-only dtypes): only equal values pass.
    pub fn for_pair(a: DType, b: DType) -> Option<Tolerance> {
        let (ra, aa, fa) = of(a)?;
        let (rb, ab, fb) = of(b)?;
        Some(Tolerance {
            // the narrower one names it; on a tie (same rtol) A's
            dtype: if rb > ra { b } else { a },
            rtol: ra.max(rb),
            atol: aa.max(ab),
            rel_floor: fa.max(fb),
        })
    }

    /// Whether `b` is within tolerance of the reference `a` (both finite).
    #[inline]
    pub fn within(&self, a: f64, diff: f64) -> bool {
        diff <= self.atol + self.rtol * a.abs()
    }
}

/// `(rtol, atol, smallest normal)` of one dtype.
fn of(d: DType) -> Option<(f64, f64, f64)> {
    use DType::*;
    let p2 = |e: i32| 2f64.powi(e);
    Some(match d {
        // torch.testing._comparison._DTYPE_PRECISIONS
        F16 => (1e-3, 1e-5, p2(-14)),
        BF16 => (1.6e-2, 1e-5, p2(-126)),
        F32 | C64 => (1.3e-6, 1e-5, p2(-126)),
        F64 => (1e-7, 1e-7, p2(-1022)),
        // integers and booleans: equal or not (torch: 0, 0)
        BOOL | U8 | I8 | I16 | U16 | I32 | U32 | I64 | U64 => (0.0, 0.0, 0.0),
        // no torch default: 2^-mantissa bits, the smallest positive value, the smallest normal
        F8_E4M3 => (p2(-3), p2(-9), p2(-6)),
        F8_E4M3FNUZ => (p2(-3), p2(-10), p2(-7)),
        F8_E5M2 => (p2(-2), p2(-16), p2(-14)),
        F8_E5M2FNUZ => (p2(-2), p2(-17), p2(-15)),
        F8_E8M0 => (1.0, p2(-127), p2(-127)),
        F6_E2M3 => (p2(-3), p2(-3), 1.0),
        F6_E3M2 => (p2(-2), p2(-4), p2(-2)),
        F4 => (p2(-1), p2(-1), 1.0),
        Torch { .. } | Ggml(_) => return None,
    })
}

/// The answer of a whole comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The same tensors, dtypes and values.
    Identical,
    /// The same tensors and shapes, every value within the rounding of the narrower dtype of its
    /// pair (an F16 export of an F32 model, or an F16 model upcast to F32).
    WithinTolerance,
    /// A tensor only on one side, another shape, or values beyond the tolerance.
    Different,
}

/// The tensors judged by one tolerance (one narrower dtype), summed up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToleranceGroup {
    /// The tolerance; its dtype names the group.
    #[serde(flatten)]
    pub tolerance: Tolerance,
    /// Tensors judged by it.
    pub tensors: usize,
    /// How many of them are within it.
    pub within: usize,
    /// The largest relative difference among them (see [`super::TensorDiff::max_rel_diff`]); `null`
    /// when none of them has one, or when it is not a finite number (then `not_finite` says which).
    pub max_rel_diff: Option<f64>,
    /// `{"max_rel_diff": "inf"}` (or `"nan"`) when `max_rel_diff` is `null` for that reason; left out
    /// otherwise.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub not_finite: std::collections::BTreeMap<&'static str, &'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use DType::*;

    #[test]
    fn a_pair_takes_the_narrower_dtypes_tolerance() {
        let t = Tolerance::for_pair(F32, F16).unwrap();
        assert_eq!((t.dtype, t.rtol, t.atol), (F16, 1e-3, 1e-5));
        let t = Tolerance::for_pair(BF16, F32).unwrap();
        assert_eq!((t.dtype, t.rtol, t.atol), (BF16, 1.6e-2, 1e-5));
        let t = Tolerance::for_pair(F16, BF16).unwrap();
        assert_eq!(t.dtype, BF16);
        assert_eq!(t.rel_floor, 2f64.powi(-14), "F16's normals start higher");
        let t = Tolerance::for_pair(F64, F64).unwrap();
        assert_eq!((t.rtol, t.atol), (1e-7, 1e-7));
        let t = Tolerance::for_pair(I64, I32).unwrap();
        assert_eq!((t.rtol, t.atol), (0.0, 0.0));
        assert!(
            Tolerance::for_pair(
                F32,
                Torch {
                    name: "complex128",
                    bits: 128
                }
            )
            .is_none()
        );
    }

    #[test]
    fn the_small_floats_round_within_their_own_tolerance() {
        // every value of an F8_E4M3 is its own rounding: the midpoint between two neighbours is
        // within tolerance of either (rounding to nearest), twice the gap is not
        let t = Tolerance::for_pair(F32, F8_E4M3).unwrap();
        for (lo, hi) in [(1.0, 1.125), (2f64.powi(-9), 2.0 * 2f64.powi(-9)), (256.0, 288.0)] {
            let mid: f64 = (lo + hi) / 2.0;
            assert!(t.within(mid, mid - lo), "{lo}..{hi}");
            assert!(!t.within(lo, 2.0 * (hi - lo) + t.atol), "{lo}..{hi}");
        }
    }
}
