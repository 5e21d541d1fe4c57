//! The value comparison of two tensors of one shape, in one streaming pass: both decoded to `f64`
//! chunk by chunk, every statistic accumulated as the elements go by.

use super::TensorDiff;
use super::tolerance::Tolerance;
use crate::Result;
use crate::checkpoint::{DType, TensorInfo};
use crate::tensor::decode;
use crate::tensor::equal::{COMPARE_CHUNK_BYTES, tensors_equal};
use crate::tensor::read::TensorReader;

/// The running sums of one comparison.
#[derive(Debug, Default)]
struct Acc {
    equal: bool,
    max_abs: f64,
    sum_abs: f64,
    n_finite: u64,
    dot: f64,
    na: f64,
    nb: f64,
    /// Σ (a−b)²: with `dn`, `1 − cos` without the cancellation of `1 − dot/(|a||b|)`.
    dd: f64,
    /// Σ (a−b)(a+b) = |a|² − |b|², summed without cancellation.
    dn: f64,
    /// Largest |a−b|/|a| over the elements that differ where it can be measured (`None`: nowhere).
    max_rel: Option<f64>,
    outside: u64,
    nonfinite: u64,
    /// An element differs by an infinite amount: an infinity against a finite value or against the
    /// other infinity.
    inf_diff: bool,
    /// An element's difference is not a number: a NaN against a value that is not NaN.
    nan_diff: bool,
}

impl Acc {
    #[inline]
    fn add(&mut self, x: f64, y: f64, tol: &Tolerance) {
        self.add_exact(x, y, x - y, same(x, y), tol);
    }

    /// [`Acc::add`] for a pair whose equality and difference were found exactly (`same`, `d`),
    /// where `x` and `y` round them away (64-bit integers past 2^53, complex numbers as magnitudes).
    #[inline]
    fn add_exact(&mut self, x: f64, y: f64, d: f64, same: bool, tol: &Tolerance) {
        self.equal &= same;
        if x.is_finite() && y.is_finite() {
            let ad = d.abs();
            self.max_abs = self.max_abs.max(ad);
            self.sum_abs += ad;
            self.n_finite += 1;
            self.dot += x * y;
            self.na += x * x;
            self.nb += y * y;
            self.dd += d * d;
            self.dn += d * (x + y);
            if !tol.within(x, ad) {
                self.outside += 1;
            }
            if !same && x.abs() >= tol.rel_floor && x != 0.0 {
                self.rel(ad / x.abs());
            }
        } else if !same {
            self.nonfinite += 1;
            self.outside += 1;
            // |a − b| is NaN where either side is NaN, else infinite (inf against a finite value, or
            // +inf against −inf), as torch computes it
            if x.is_nan() || y.is_nan() {
                self.nan_diff = true;
            } else {
                self.inf_diff = true;
            }
            // relative to a finite reference: B's infinity is infinitely far, B's NaN unmeasurable
            if x.is_finite() && x.abs() >= tol.rel_floor && x != 0.0 {
                self.rel(if y.is_nan() { f64::NAN } else { f64::INFINITY });
            }
        }
    }

    /// [`Acc::add_exact`] for a pair of complex numbers: the tolerance and the relative difference
    /// on their magnitudes, the cosine on each tensor as a vector of real and imaginary parts (as
    /// torch computes it on `view_as_real`): `c` against `-c` is −1, not the magnitudes' 1.
    #[inline]
    fn add_complex(&mut self, (ar, ai): (f64, f64), (br, bi): (f64, f64), same: bool, tol: &Tolerance) {
        let (dot, dn) = (self.dot, self.dn);
        let (x, y) = (ar.hypot(ai), br.hypot(bi));
        self.add_exact(x, y, (ar - br).hypot(ai - bi), same, tol);
        if x.is_finite() && y.is_finite() {
            self.dot = dot + (ar * br + ai * bi);
            // Σ(|a|² − |b|²), each term as a product of small differences
            self.dn = dn + ((ar - br) * (ar + br) + (ai - bi) * (ai + bi));
        }
    }

    fn rel(&mut self, r: f64) {
        self.max_rel = Some(self.max_rel.map_or(r, |m| largest(m, r)));
    }

    /// Largest |a − b|: infinite when an element differs by an infinity (whatever NaN differences
    /// there are, none is larger), NaN when a NaN differs and no infinity does.
    fn max_abs(&self) -> f64 {
        if self.inf_diff {
            f64::INFINITY
        } else if self.nan_diff {
            f64::NAN
        } else {
            self.max_abs
        }
    }

    /// Mean |a − b| (of the elements finite on both sides when none differs by a NaN or infinity;
    /// NaN or an infinity as torch's mean gives it when some does).
    fn mean_abs(&self) -> f64 {
        if self.nan_diff {
            f64::NAN
        } else if self.inf_diff {
            f64::INFINITY
        } else if self.n_finite > 0 {
            self.sum_abs / self.n_finite as f64
        } else {
            0.0
        }
    }

    /// Largest relative difference: 0 when every element is the same, `None` when elements differ but
    /// none where |a| is measurable (A is 0 or below the smallest normal there).
    fn max_rel(&self) -> Option<f64> {
        if self.equal { Some(0.0) } else { self.max_rel }
    }

    /// `(cos, 1 − cos)`; `None` when either side is all zeros (both: equal, so 1 and 0), or when a
    /// NaN or an infinity differs (torch's cosine is NaN then).
    fn cosine(&self) -> (Option<f64>, Option<f64>) {
        if self.inf_diff || self.nan_diff {
            return (None, None);
        }
        // norms or products past the largest f64 (values near 1e154 and up): no cosine rather than NaN
        if ![self.na, self.nb, self.dot, self.dd, self.dn]
            .iter()
            .all(|x| x.is_finite())
        {
            return (None, None);
        }
        if self.na == 0.0 || self.nb == 0.0 {
            return if self.equal && self.na == 0.0 && self.nb == 0.0 {
                (Some(1.0), Some(0.0))
            } else {
                (None, None)
            };
        }
        let (ra, rb) = (self.na.sqrt(), self.nb.sqrt());
        let cos = (self.dot / (ra * rb)).clamp(-1.0, 1.0);
        // |a−b|² = |a|² + |b|² − 2|a||b|cos, so 1 − cos = (|a−b|² − (|a|−|b|)²) / (2|a||b|), where
        // |a|−|b| = (|a|² − |b|²) / (|a|+|b|): each term is a sum of small numbers, not a difference of
        // two large ones
        let gap = self.dn / (ra + rb);
        let one_minus = ((self.dd - gap * gap) / (2.0 * ra * rb)).clamp(0.0, 2.0);
        (Some(cos), Some(one_minus))
    }
}

/// Decode both tensors to `f64` in chunks and accumulate the difference statistics; values are judged
/// by `tol` (equal values only when it is `None`).
pub(super) fn value_diff(
    ra: &TensorReader<'_>,
    ta: &TensorInfo,
    rb: &TensorReader<'_>,
    tb: &TensorInfo,
    tol: Option<Tolerance>,
) -> Result<TensorDiff> {
    ra.check_view(ta)?;
    rb.check_view(tb)?;
    let numel = ta.numel().unwrap_or(0);
    let exact = Exact::of(ta.dtype, tb.dtype);
    if exact.is_none() && (!decodable(ta.dtype) || !decodable(tb.dtype)) {
        // torch-only dtypes without a value decoding (qint8, …): equal or not, no statistics
        let equal = ta.dtype == tb.dtype && tensors_equal(ra, ta, rb, tb)?;
        let mut d = TensorDiff::equal(ta, None, tol);
        d.equal = equal;
        d.within_tolerance = equal;
        d.outside_tolerance = if equal { 0 } else { numel };
        if !equal {
            (d.max_abs_diff, d.mean_abs_diff, d.max_rel_diff) = (None, None, None);
        }
        (d.cosine_similarity, d.one_minus_cosine) = if equal { (Some(1.0), Some(0.0)) } else { (None, None) };
        return Ok(d);
    }
    // no rounding tolerance: a difference is a difference
    let judge = tol.unwrap_or(Tolerance {
        dtype: ta.dtype,
        rtol: 0.0,
        atol: 0.0,
        rel_floor: 0.0,
    });
    let step = TensorReader::chunk_elems(ta, COMPARE_CHUNK_BYTES)
        .min(TensorReader::chunk_elems(tb, COMPARE_CHUNK_BYTES))
        .min(1 << 16);
    let (mut ba, mut bb, mut va, mut vb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut acc = Acc {
        equal: true,
        ..Default::default()
    };
    let (mut ia, mut ib) = (Vec::new(), Vec::new());
    let mut at = 0u64;
    while at < numel {
        let n = step.min(numel - at);
        let (bytes_a, bytes_b) = (ra.read_elems(ta, at, n, &mut ba)?, rb.read_elems(tb, at, n, &mut bb)?);
        match exact {
            Some(Exact::Int64) => {
                for (out, d, bytes) in [(&mut ia, ta.dtype, bytes_a), (&mut ib, tb.dtype, bytes_b)] {
                    out.clear();
                    out.resize(n as usize, 0i128);
                    decode::fill_i128(d, bytes, 0, 1, out);
                }
                for (&x, &y) in ia.iter().zip(&ib) {
                    acc.add_exact(x as f64, y as f64, (x - y) as f64, x == y, &judge);
                }
            }
            Some(Exact::Complex(pa, pb)) => {
                let (wa, wb) = (pa.bytes(), pb.bytes());
                for (a, b) in bytes_a.chunks_exact(2 * wa).zip(bytes_b.chunks_exact(2 * wb)) {
                    let ((ar, ai), (br, bi)) = (
                        (pa.read(&a[..wa]), pa.read(&a[wa..])),
                        (pb.read(&b[..wb]), pb.read(&b[wb..])),
                    );
                    acc.add_complex((ar, ai), (br, bi), same(ar, br) && same(ai, bi), &judge);
                }
            }
            None => {
                decode_chunk(ta.dtype, bytes_a, n as usize, &mut va);
                decode_chunk(tb.dtype, bytes_b, n as usize, &mut vb);
                for (&x, &y) in va.iter().zip(&vb) {
                    acc.add(x, y, &judge);
                }
            }
        }
        at += n;
    }
    let (cosine_similarity, one_minus_cosine) = acc.cosine();
    Ok(TensorDiff {
        name: ta.name.clone(),
        a_name: None,
        b_name: None,
        dtype: ta.dtype,
        b_dtype: None,
        shape: ta.shape.clone(),
        equal: acc.equal,
        max_abs_diff: Some(acc.max_abs()),
        mean_abs_diff: Some(acc.mean_abs()),
        max_rel_diff: acc.max_rel(),
        not_finite: super::not_finite(&[
            ("max_abs_diff", Some(acc.max_abs())),
            ("mean_abs_diff", Some(acc.mean_abs())),
            ("max_rel_diff", acc.max_rel()),
        ]),
        cosine_similarity,
        one_minus_cosine,
        nonfinite_mismatches: acc.nonfinite,
        tolerance: tol,
        within_tolerance: acc.outside == 0,
        outside_tolerance: acc.outside,
    })
}

/// The larger of two differences, an infinity above NaN above every number (a NaN difference is not
/// known to be below a number, but is below an infinity).
pub(super) fn largest(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Whether two values are the same: equal, or both NaN.
#[inline]
fn same(x: f64, y: f64) -> bool {
    x == y || (x.is_nan() && y.is_nan())
}

/// Pairs whose `f64` decoding loses what tells their elements apart, compared element by element
/// from their bytes instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exact {
    /// I64 or U64 on both sides (past 2^53 neighbours round to one `f64`): compared as `i128`.
    Int64,
    /// A complex dtype on both sides (decoded to magnitudes, so `i` would equal `1`; torch's complex128
    /// and complex32 have no decoding at all): compared part by part, the difference |a − b| in the
    /// complex plane.
    Complex(Part, Part),
}

/// The type of a complex number's real and imaginary parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// torch's complex32 (`chalf`).
    F16,
    /// C64.
    F32,
    /// torch's complex128 (`cdouble`).
    F64,
}

impl Part {
    fn bytes(self) -> usize {
        match self {
            Part::F16 => 2,
            Part::F32 => 4,
            Part::F64 => 8,
        }
    }

    /// One part from its little-endian bytes (exactly `self.bytes()` of them).
    #[inline]
    fn read(self, b: &[u8]) -> f64 {
        match self {
            Part::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f64(),
            Part::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Part::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    fn of(d: DType) -> Option<Part> {
        match d {
            DType::C64 => Some(Part::F32),
            DType::Torch {
                name: "complex128",
                bits: 128,
            } => Some(Part::F64),
            DType::Torch {
                name: "complex32",
                bits: 32,
            } => Some(Part::F16),
            _ => None,
        }
    }
}

impl Exact {
    fn of(a: DType, b: DType) -> Option<Exact> {
        let int64 = |d: DType| matches!(d, DType::I64 | DType::U64);
        if int64(a) && int64(b) {
            Some(Exact::Int64)
        } else if let (Some(pa), Some(pb)) = (Part::of(a), Part::of(b)) {
            Some(Exact::Complex(pa, pb))
        } else {
            None
        }
    }
}

fn decodable(d: DType) -> bool {
    decode::lanes(d).is_some()
}

/// Decode `n` contiguous elements of `dtype` from `bytes` into `out` as `f64` (C64 as its magnitude).
fn decode_chunk(dtype: DType, bytes: &[u8], n: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(n, f64::NAN);
    if decode::lanes(dtype) == Some(decode::Lanes::F32) {
        let mut tmp = vec![0f32; n];
        if decode::fill_f32(dtype, bytes, 0, 1, &mut tmp) {
            out.iter_mut().zip(&tmp).for_each(|(o, &x)| *o = f64::from(x));
        }
    } else {
        decode::fill_f64(dtype, bytes, 0, 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(pairs: &[(f64, f64)]) -> Acc {
        let tol = Tolerance::for_pair(DType::F32, DType::F16).unwrap();
        let mut a = Acc {
            equal: true,
            ..Default::default()
        };
        for &(x, y) in pairs {
            a.add(x, y, &tol);
        }
        a
    }

    #[test]
    fn one_minus_cos_keeps_its_digits_where_cos_rounds_to_one() {
        // b = a with a relative error of 1e-9 on one element of a million: 1 − cos ≈ 5e-25, far below
        // f64's 1.1e-16 step at 1, where `1 − dot/(|a||b|)` gives 0 or noise
        let mut pairs: Vec<(f64, f64)> = (0..1_000_000).map(|i| (((i % 97) as f64 - 48.0) / 50.0, 0.0)).collect();
        pairs.iter_mut().for_each(|p| p.1 = p.0);
        pairs[10].1 = pairs[10].0 * (1.0 + 1e-9);
        let (cos, one_minus) = acc(&pairs).cosine();
        assert!(cos.unwrap() > 1.0 - 1e-15, "{cos:?}");
        let om = one_minus.unwrap();
        // exact: for b = a + δ e_k, 1 − cos ≈ (|δ|²|a|² − (a·δ)²) / (2|a|⁴) = δ²(|a|² − a_k²) / (2|a|⁴)
        let n2: f64 = pairs.iter().map(|p| p.0 * p.0).sum();
        let (ak, dk) = (pairs[10].0, pairs[10].0 * 1e-9);
        let want = dk * dk * (n2 - ak * ak) / (2.0 * n2 * n2);
        assert!((om - want).abs() < want * 1e-3, "{om:e} vs {want:e}");
    }

    #[test]
    fn opposite_and_orthogonal_vectors() {
        let (cos, om) = acc(&[(1.0, 0.0), (0.0, 1.0)]).cosine();
        assert_eq!((cos, om), (Some(0.0), Some(1.0)));
        let (cos, om) = acc(&[(1.0, -1.0), (2.0, -2.0)]).cosine();
        assert!(
            (cos.unwrap() + 1.0).abs() < 1e-15 && (om.unwrap() - 2.0).abs() < 1e-15,
            "{cos:?} {om:?}"
        );
        assert_eq!(acc(&[(0.0, 0.0)]).cosine(), (Some(1.0), Some(0.0)));
        assert_eq!(acc(&[(0.0, 1.0)]).cosine(), (None, None));
    }

    #[test]
    fn tolerance_counts_elements_outside_and_relative_error_ignores_subnormals() {
        // F16 tolerance: atol 1e-5, rtol 1e-3
        let a = acc(&[
            (1.0, 1.0005),                  // within (5e-4 ≤ 1e-5 + 1e-3)
            (1.0, 1.002),                   // outside
            (1e-7, 0.0),                    // within atol; below F16's normals: no relative figure
            (f64::NAN, f64::NAN),           // NaN on both sides: the same
            (f64::INFINITY, 65504.0),       // not the same, not finite: outside
            (f64::INFINITY, f64::INFINITY), // the same
        ]);
        assert_eq!(a.outside, 2);
        assert_eq!(a.nonfinite, 1);
        let rel = a.max_rel().unwrap();
        assert!((rel - 2e-3).abs() < 1e-12, "{rel}");
        assert!(!a.equal);
    }

    /// An F16 export that overflowed (70000 → inf) differs by an infinity: max |a−b| and the mean are
    /// infinite, the relative difference too, and there is no cosine (torch: NaN), rather than the
    /// statistics of the finite elements alone (0 and 1). +inf against −inf likewise; a NaN against a
    /// number leaves the differences unknown (NaN) unless an infinity differs too.
    #[test]
    fn a_nan_or_infinity_that_differs_is_not_left_out_of_the_statistics() {
        let a = acc(&[(70000.0, f64::INFINITY), (1.0, 1.0), (2.0, 2.0)]);
        assert_eq!(
            (a.max_abs(), a.mean_abs(), a.max_rel()),
            (f64::INFINITY, f64::INFINITY, Some(f64::INFINITY))
        );
        assert_eq!(a.cosine(), (None, None));
        let a = acc(&[(f64::INFINITY, f64::NEG_INFINITY), (1.0, 1.0)]);
        assert_eq!((a.max_abs(), a.mean_abs()), (f64::INFINITY, f64::INFINITY));
        assert_eq!(a.max_rel(), None, "an infinite reference has no relative difference");
        assert_eq!(a.cosine(), (None, None));
        let a = acc(&[(1.0, f64::NAN), (2.0, 2.5)]);
        assert!(a.max_abs().is_nan() && a.mean_abs().is_nan() && a.max_rel().unwrap().is_nan());
        assert_eq!(a.cosine(), (None, None));
        let a = acc(&[(1.0, f64::NAN), (2.0, f64::INFINITY)]);
        assert_eq!(a.max_abs(), f64::INFINITY);
        assert!(a.mean_abs().is_nan());
        assert_eq!(a.max_rel(), Some(f64::INFINITY));
        // the same NaN and infinities on both sides are no difference: the rest is measured
        let a = acc(&[(f64::NAN, f64::NAN), (f64::INFINITY, f64::INFINITY), (1.0, 1.0005)]);
        assert!((a.max_abs() - 5e-4).abs() < 1e-12);
        assert!(a.cosine().0.is_some());
    }

    /// Where every element that differs has A = 0, no relative difference can be measured: none, not 0.
    #[test]
    fn no_relative_difference_where_the_reference_is_zero() {
        assert_eq!(acc(&[(0.0, 1.0), (0.0, 2.0)]).max_rel(), None);
        assert_eq!(
            acc(&[(0.0, 1.0), (5.0, 5.0)]).max_rel(),
            None,
            "the equal element says nothing"
        );
        assert_eq!(acc(&[(0.0, 0.0), (5.0, 5.0)]).max_rel(), Some(0.0), "all the same");
        assert_eq!(acc(&[(0.0, 1.0), (4.0, 5.0)]).max_rel(), Some(0.25));
    }

    /// Products past the largest f64 leave no cosine to give: none, not NaN.
    #[test]
    fn no_cosine_past_the_f64_range() {
        assert_eq!(acc(&[(1e300, -1e300), (3.0, 3.0)]).cosine(), (None, None));
        assert!((acc(&[(1.0, 1.0), (2.0, 2.0)]).cosine().0.unwrap() - 1.0).abs() < 1e-12);
    }
}
