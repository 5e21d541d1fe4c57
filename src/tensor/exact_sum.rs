//! An exact sum of `f64` values: a fixed-point integer wide enough for every finite double
//! (2^-1074 to 2^1024, and 2^64 of them), so that huge values of both signs cancel without taking the
//! small ones with them (`[1e300, 1, -1e300, 2]` sums to 3, where any `f64` order gives 0 or 2).
//! Used where the statistics' fast `f64` sums may have lost the mean's digits, and for the few
//! distinct values of 8- and 16-bit dtypes.

/// Bit 0 of the integer is worth 2^-1074, the smallest subnormal.
const BIAS: i32 = 1074;
/// 32-bit limbs: 2^-1074 … 2^1024 is 2,098 bits, a product by a count up to 2^64 more, and a limb
/// for the sign and carries.
const LIMBS: usize = (1074 + 1024 + 64) / 32 + 3;
/// Additions between two carry passes: each adds less than 2^32 to a limb, which holds up to 2^63.
const CARRY_EVERY: u32 = 1 << 30;

/// The running exact sum.
#[derive(Debug, Clone)]
pub struct ExactSum {
    limbs: Vec<i64>,
    pending: u32,
}

impl Default for ExactSum {
    fn default() -> Self {
        ExactSum {
            limbs: vec![0; LIMBS],
            pending: 0,
        }
    }
}

impl ExactSum {
    /// Add `x` (ignored when not finite).
    pub fn add(&mut self, x: f64) {
        self.add_times(x, 1);
    }

    /// Add `x` `times` times (ignored when not finite).
    pub fn add_times(&mut self, x: f64, times: u64) {
        if !x.is_finite() || x == 0.0 || times == 0 {
            return;
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1 << 52) - 1);
        // x = ±m · 2^e
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, exp - 1075)
        };
        let pos = (e + BIAS) as u32;
        let sign = if x < 0.0 { -1 } else { 1 };
        // m · times < 2^117, shifted left by under 32 bits: at most five 32-bit pieces
        let mut v = u128::from(m) * u128::from(times);
        let shift = pos % 32;
        let mut i = (pos / 32) as usize;
        let first = (v << shift) as u32;
        self.limbs[i] += sign * i64::from(first);
        v >>= 32 - shift;
        while v != 0 {
            i += 1;
            self.limbs[i] += sign * i64::from(v as u32);
            v >>= 32;
        }
        self.pending += 1;
        if self.pending == CARRY_EVERY {
            self.carry();
        }
    }

    /// Propagate carries: every limb but the top in `0..2^32`, the top one signed.
    fn carry(&mut self) {
        for i in 0..LIMBS - 1 {
            let c = self.limbs[i] >> 32;
            self.limbs[i] -= c << 32;
            self.limbs[i + 1] += c;
        }
        self.pending = 0;
    }

    /// The sum divided by `n`, correctly rounded but for at most an ulp (0 when `n` is 0).
    pub fn mean(&mut self, n: u64) -> f64 {
        self.carry();
        if n == 0 {
            return 0.0;
        }
        // a negative sum carries -1 up to the top limb: take its magnitude, then the sign
        let negative = self.limbs[LIMBS - 1] < 0;
        if negative {
            self.limbs.iter_mut().for_each(|l| *l = -*l);
            self.carry();
        }
        let Some(top) = self.limbs.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        // the top three limbs hold 64 or more significant bits; the ones below only nudge the last
        let lo = top.saturating_sub(2);
        let mut v: i128 = 0;
        for i in (lo..=top).rev() {
            v = (v << 32) + i128::from(self.limbs[i]);
        }
        let scale = 32 * lo as i32 - BIAS;
        let m = scaled(v as f64 / n as f64, scale);
        if negative {
            self.limbs.iter_mut().for_each(|l| *l = -*l);
            self.carry();
            -m
        } else {
            m
        }
    }
}

/// `x · 2^k` without overflowing or underflowing on the way.
fn scaled(mut x: f64, mut k: i32) -> f64 {
    while k > 1000 {
        x *= 2f64.powi(1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= 2f64.powi(-1000);
        k += 1000;
    }
    x * 2f64.powi(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(xs: &[f64]) -> f64 {
        let mut s = ExactSum::default();
        xs.iter().for_each(|&x| s.add(x));
        s.mean(xs.len() as u64)
    }

    #[test]
    fn huge_values_cancel_without_losing_small_ones() {
        assert_eq!(mean(&[1e300, 1.0, -1e300, 2.0]), 0.75);
        assert_eq!(mean(&[3.4e38, 1.0, -3.4e38, 2.0]), 0.75);
        assert_eq!(mean(&[f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(mean(&[f64::MAX, -f64::MAX, 5e-324, 5e-324]), 5e-324 / 2.0);
        assert_eq!(mean(&[-1.5, -2.5]), -2.0);
        // the exact mean is 0.2 (Python: float((F(0.1) + F(0.2) + F(0.3)) / 3)), within an ulp
        assert!((mean(&[0.1, 0.2, 0.3]) - 0.2).abs() <= 0.2 * f64::EPSILON);
        assert_eq!(mean(&[]), 0.0);
        assert_eq!(mean(&[1e308, -1e308, 1e300, 5.0]), 2.5e299);
        // NaN and infinities are not sums of finite values: the caller counts them apart
        assert_eq!(mean(&[1.0, f64::NAN, f64::INFINITY]), 1.0 / 3.0);
    }

    #[test]
    fn repeated_values_and_many_additions_carry() {
        let mut s = ExactSum::default();
        s.add_times(0.5, u64::MAX);
        s.add_times(-0.25, 2);
        assert_eq!(s.mean(u64::MAX), 0.5);
        let mut s = ExactSum::default();
        for _ in 0..3_000_000 {
            s.add(1e-300);
            s.add(-3.0);
            s.add(f64::MAX / 4.0);
        }
        let m = s.mean(9_000_000);
        let want = f64::MAX / 4.0 / 3.0;
        assert!((m - want).abs() <= want * f64::EPSILON, "{m} {want}");
        // asking twice gives the same (the sign flip of a negative sum is undone)
        let mut s = ExactSum::default();
        s.add(-7.0);
        assert_eq!(s.mean(2), -3.5);
        assert_eq!(s.mean(2), -3.5);
    }
}
