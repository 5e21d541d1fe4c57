//! The inner loops of the F32/F64 statistics, written once and compiled for several instruction sets.
//!
//! [`moments`] summarises a chunk (already in the L1 cache): minimum, maximum, zero count and the sums
//! of `x - k` and `(x - k)²` in `f64`, each over many independent lanes side by side (lane `i` of `W`
//! takes elements `i`, `i + W`, …), so that the loops vectorise and no addition waits on the one
//! before. [`bins`] counts finite values into histogram bins, the bins of a block computed in a
//! vectorised loop before the counting.
//!
//! Both are generic functions compiled three times: for baseline x86-64 (SSE2, and every other
//! architecture), and with AVX2 and with AVX-512F enabled; [`Isa::detect`] picks the widest the CPU
//! has, once per call. Rust never reorders, reassociates or fuses floating-point operations (there is
//! no fast-math, and `a * b + c` is never turned into an FMA), and the extremes use plain comparisons
//! rather than `f64::min`, so every copy does the same operations in the same order: the results are
//! the same bit for bit whichever copy runs, only the speed differs.

use super::Lane;

/// A chunk summarised by [`moments`]. The extremes and zeros are to be trusted only when `s1` and `s2`
/// are finite (a NaN never wins a comparison; infinities make the sums infinite or NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Moments {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Values equal to zero (either sign).
    pub zeros: u64,
    /// Sum of `x - k`.
    pub s1: f64,
    /// Sum of `(x - k)²`.
    pub s2: f64,
}

/// A per-lane zero counter, as wide as the lane so that a comparison's mask adds without repacking.
pub(super) trait Count: Copy + Default + From<bool> + std::ops::Add<Output = Self> + Into<u64> {}
impl Count for u32 {}
impl Count for u64 {}

/// A copy of the kernels the CPU can run. Only [`Isa::detect`] and [`Isa::available`] make one, after
/// checking the CPU, which is what makes calling the AVX copies sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Isa(Level);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The baseline copy, which runs everywhere.
    pub const PORTABLE: Isa = Isa(Level::Portable);

    /// The widest copy this CPU runs (std caches the CPU's answer, so this is a load and a test).
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa(Level::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa(Level::Avx2);
            }
        }
        Isa::PORTABLE
    }

    /// Every copy this CPU runs, the portable one first.
    #[cfg(test)]
    pub fn available() -> Vec<Isa> {
        let all = vec![Isa::PORTABLE];
        #[cfg(target_arch = "x86_64")]
        let all = {
            let mut all = all;
            if std::arch::is_x86_feature_detected!("avx2") {
                all.push(Isa(Level::Avx2));
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                all.push(Isa(Level::Avx512));
            }
            all
        };
        all
    }
}

/// Lanes of the sums in [`moments`] (each lane's additions happen in order, so the lane count is part
/// of the result's last bits).
pub(super) const SUM_LANES: usize = 32;

/// Summarise `xs` (at most `u32::MAX` values) about the shift `k`, with `E` lanes for the extremes
/// and zeros, on `isa`'s copy.
pub(super) fn moments<L: Lane, const E: usize>(isa: Isa, xs: &[L], k: f64) -> Moments {
    debug_assert!(xs.len() <= u32::MAX as usize);
    match isa.0 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Isa` holding `Avx512` exists only once `is_x86_feature_detected!("avx512f")` held.
        Level::Avx512 => unsafe { x86::moments_avx512::<L, E>(xs, k) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Isa` holding `Avx2` exists only once `is_x86_feature_detected!("avx2")` held.
        Level::Avx2 => unsafe { x86::moments_avx2::<L, E>(xs, k) },
        Level::Portable => moments_generic::<L, E>(xs, k),
    }
}

/// Most bins [`bins`] takes (its counter indices are `u32`).
pub(super) const MAX_BINS: usize = 1 << 28;

/// Count the finite values `xs` into `counts` (bin `((x - lo) * scale)`, the last bin taking the top
/// edge and beyond; one of four sub-counters by position) on `isa`'s copy. `counts` must hold between 1
/// and [`MAX_BINS`] bins; every value must be finite.
pub(super) fn bins<L: Lane>(isa: Isa, xs: &[L], lo: f64, scale: f64, counts: &mut Counts) {
    debug_assert!(!counts.per.is_empty() && counts.per.len() <= MAX_BINS);
    if let (Some(xs), Some(fast)) = (L::as_f32(xs), Fast::new(lo, scale, counts.per.len())) {
        return match isa.0 {
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                // a few bins: the AVX-512BW kernel where the CPU has it
                if !histogram::small(xs, &fast, counts) {
                    // SAFETY: as in `moments`, the CPU was seen to have AVX-512F.
                    unsafe { x86::bins_f32_avx512(xs, &fast, counts) }
                }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `moments`, the CPU was seen to have AVX2.
            Level::Avx2 => unsafe { x86::bins_f32_avx2(xs, &fast, counts) },
            Level::Portable => bins_f32(xs, &fast, counts),
        };
    }
    match isa.0 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `moments`, the CPU was seen to have AVX-512F.
        Level::Avx512 => unsafe { x86::bins_avx512(xs, lo, scale, counts) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `moments`, the CPU was seen to have AVX2.
        Level::Avx2 => unsafe { x86::bins_avx2(xs, lo, scale, counts) },
        Level::Portable => bins_generic(xs, lo, scale, counts),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Counts, Fast, Lane, Moments, bins_f32, bins_generic, moments_generic};

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn moments_avx512<L: Lane, const E: usize>(xs: &[L], k: f64) -> Moments {
        moments_generic::<L, E>(xs, k)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn moments_avx2<L: Lane, const E: usize>(xs: &[L], k: f64) -> Moments {
        moments_generic::<L, E>(xs, k)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn bins_avx512<L: Lane>(xs: &[L], lo: f64, scale: f64, counts: &mut Counts) {
        bins_generic(xs, lo, scale, counts)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn bins_f32_avx512(xs: &[f32], fast: &Fast, counts: &mut Counts) {
        bins_f32(xs, fast, counts)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn bins_f32_avx2(xs: &[f32], fast: &Fast, counts: &mut Counts) {
        bins_f32(xs, fast, counts)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn bins_avx2<L: Lane>(xs: &[L], lo: f64, scale: f64, counts: &mut Counts) {
        bins_generic(xs, lo, scale, counts)
    }
}

/// The body of [`moments`], inlined into each copy: `E` lanes for the extremes and zeros, [`SUM_LANES`]
/// for the sums.
///
/// Four short loops over the chunk rather than one: the chunk is in the L1 cache, so the extra reads
/// cost little, and a loop with few accumulator arrays is one the compiler turns into vector registers
/// for every instruction set (a loop with all five got vectorised badly or not at all). The lane
/// counts give each loop at least four independent vector accumulators with AVX-512, so that no
/// instruction waits on the latency of the one before.
#[inline(always)]
fn moments_generic<L: Lane, const E: usize>(xs: &[L], k: f64) -> Moments {
    const W: usize = SUM_LANES;
    let mn: [L; E] = lanes(xs, L::INF, |m, x| if x < m { x } else { m });
    let mx: [L; E] = lanes(xs, L::NEG_INF, |m, x| if x > m { x } else { m });
    let zeros: [L::Count; E] = lanes(xs, L::Count::default(), |z, x| z + L::Count::from(x == L::ZERO));
    let (mut s1, mut s2) = ([0f64; W], [0f64; W]);
    let mut blocks = xs.chunks_exact(W);
    for c in &mut blocks {
        for i in 0..W {
            let d = c[i].into() - k;
            s1[i] += d;
            s2[i] += d * d;
        }
    }
    for (i, &x) in blocks.remainder().iter().enumerate() {
        let d = x.into() - k;
        s1[i] += d;
        s2[i] += d * d;
    }
    let mut m = Moments {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        zeros: 0,
        s1: 0.0,
        s2: 0.0,
    };
    for i in 0..E {
        let (a, b) = (mn[i].into(), mx[i].into());
        m.min = if a < m.min { a } else { m.min };
        m.max = if b > m.max { b } else { m.max };
        m.zeros += zeros[i].into();
    }
    for i in 0..W {
        m.s1 += s1[i];
        m.s2 += s2[i];
    }
    m
}

/// Fold `xs` into `W` accumulators, lane `i` taking elements `i`, `i + W`, `i + 2W`, … in order.
#[inline(always)]
fn lanes<L: Copy, A: Copy, const W: usize>(xs: &[L], init: A, f: impl Fn(A, L) -> A) -> [A; W] {
    let mut acc = [init; W];
    let mut blocks = xs.chunks_exact(W);
    for c in &mut blocks {
        for i in 0..W {
            acc[i] = f(acc[i], c[i]);
        }
    }
    for (i, &x) in blocks.remainder().iter().enumerate() {
        acc[i] = f(acc[i], x);
    }
    acc
}

/// How far ahead of the element being read the kernels ask for memory, in bytes: the hardware's
/// stream prefetcher stops at each 4 KiB page, and a pass over a tensor larger than the caches then
/// waits on memory at every page (measured with `cargo bench --bench stats`: the histogram pass over 154
/// MB went from about 20 to about 12.6 ms on the development VM; the statistics pass, whose first
/// loop reads 16 KiB at a time, did not gain).
pub(super) const PREFETCH: usize = 8 << 10;

/// Ask for the cache lines of `len` bytes at `at` + [`PREFETCH`] (a hint: it never faults, whatever
/// the address).
#[inline(always)]
pub(super) fn prefetch(at: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    for line in (0..len).step_by(64) {
        // SAFETY: a prefetch reads nothing the program sees and never faults
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                at.wrapping_add(PREFETCH + line).cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, len);
}

#[path = "stats_bins.rs"]
mod histogram;
pub(super) use histogram::Counts;
use histogram::{Fast, bins_f32, bins_generic};

#[cfg(test)]
mod tests {
    use super::*;

    /// Same bits, or both NaN (a NaN's payload is not part of the contract).
    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn assert_same(a: &Moments, b: &Moments, at: &str) {
        assert!(
            same(a.min, b.min) && same(a.max, b.max) && a.zeros == b.zeros && same(a.s1, b.s1) && same(a.s2, b.s2),
            "{at}: {a:?} vs {b:?}"
        );
    }

    /// Awkward values: signed zeros, infinities, NaN, extremes of the range, subnormals, and ordinary
    /// values around an offset, in a scrambled order.
    fn awkward(n: usize, specials: bool) -> Vec<f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let r = (state >> 11) as f64 / (1u64 << 53) as f64;
                match (specials, state % 23) {
                    (true, 0) => f64::NAN,
                    (true, 1) => f64::INFINITY,
                    (true, 2) => f64::NEG_INFINITY,
                    (_, 3) => -0.0,
                    (_, 4) => 0.0,
                    (_, 5) => f64::from(f32::MAX) * (r - 0.5),
                    (_, 6) => f64::from(f32::MIN_POSITIVE) * r,
                    (_, 7) => 1e-45 * (i % 3) as f64,
                    _ => 1000.0 + (r - 0.5) * 3.0,
                }
            })
            .collect()
    }

    #[test]
    fn every_copy_of_the_kernels_gives_the_same_bits() {
        let isas = Isa::available();
        for specials in [false, true] {
            for n in (0..200).chain([4095, 4096]) {
                let xs = awkward(n, specials);
                let xs32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                for k in [0.0, 1000.0, -3.5e30, f64::NAN] {
                    let (want32, want64) = (
                        moments::<f32, 64>(Isa::PORTABLE, &xs32, k),
                        moments::<f64, 32>(Isa::PORTABLE, &xs, k),
                    );
                    for &isa in &isas {
                        let at = format!("{isa:?} n {n} specials {specials} k {k}");
                        assert_same(&moments::<f32, 64>(isa, &xs32, k), &want32, &at);
                        assert_same(&moments::<f64, 32>(isa, &xs, k), &want64, &at);
                    }
                }
                // the histogram takes finite values only, as the statistics give it
                let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
                let finite32: Vec<f32> = xs32.iter().copied().filter(|x| x.is_finite()).collect();
                let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
                let lo32 = finite32.iter().copied().fold(f32::INFINITY, f32::min).into();
                for (bins_n, scale) in [(1, 0.0), (7, 1e-30), (40, 2.5e-37), (1000, f64::INFINITY)] {
                    let count = |isa: Isa| {
                        let (mut a, mut b) = (Counts::new(bins_n), Counts::new(bins_n));
                        bins(isa, &finite, lo, scale, &mut a);
                        bins(isa, &finite32, lo32, scale, &mut b);
                        (a.totals(), b.totals())
                    };
                    let want = count(Isa::PORTABLE);
                    let total: u64 = want.0.iter().sum();
                    assert_eq!(total, finite.len() as u64);
                    for &isa in &isas {
                        assert_eq!(count(isa), want, "{isa:?} n {n} bins {bins_n}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_negative_scale_bins_as_the_formula_says_on_every_copy() {
        // not what the statistics ask (their scale is bins / (max - min)), but `bins` takes it
        let xs = [-0.4f32, -1.0, 0.3, 0.0, -0.0, -0.79, -2.0];
        let want = |isa: Isa| {
            let mut c = Counts::new(5);
            bins(isa, &xs, 0.0, -2.5, &mut c);
            c.totals()
        };
        assert_eq!(want(Isa::PORTABLE), [3, 2, 1, 0, 1]);
        for isa in Isa::available() {
            assert_eq!(want(isa), want(Isa::PORTABLE), "{isa:?}");
        }
    }

    #[test]
    fn moments_and_bins_agree_with_plain_loops() {
        let xs = awkward(1000, false);
        let k = 999.0;
        let m = moments::<f64, 32>(Isa::detect(), &xs, k);
        let (s1, s2): (f64, f64) = (
            xs.iter().map(|x| x - k).sum(),
            xs.iter().map(|x| (x - k) * (x - k)).sum(),
        );
        assert!((m.s1 - s1).abs() <= 1e-9 * s2.sqrt() * 1000.0 && (m.s2 - s2).abs() <= 1e-12 * s2);
        assert_eq!(m.min, xs.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(m.max, xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        assert_eq!(m.zeros, xs.iter().filter(|&&x| x == 0.0).count() as u64);
        // bins as the scalar formula has them, edges and the top included
        let (lo, hi) = (m.min, m.max);
        let n = 13;
        let scale = n as f64 / (hi - lo);
        let mut counts = Counts::new(n);
        bins(Isa::detect(), &xs, lo, scale, &mut counts);
        let mut want = vec![0u64; n];
        for &x in &xs {
            want[(((x - lo) * scale) as usize).min(n - 1)] += 1;
        }
        assert_eq!(counts.totals(), want);
    }

    /// The `f32` fast path against the `f64` formula, on values a few steps either side of every bin
    /// edge, of both ends and of zero, for bin counts by pairs and not, and ranges whose scale is or
    /// is not a normal `f32`.
    #[test]
    fn f32_bins_are_the_f64_formula_at_every_edge() {
        fn steps(x: f32) -> impl Iterator<Item = f32> {
            (-3i32..=3).map(move |d| f32::from_bits(x.to_bits().wrapping_add_signed(d)))
        }
        let ranges = [
            (-0.02f32, 0.02f32),
            (0.0, 1.0),
            (-1e-38, 3e-39),
            (1e-45, 4e-45),
            (-3e38, 3.4e38),
            (7.0, 7.5),
        ];
        for (lo32, hi32) in ranges {
            let (lo, hi) = (f64::from(lo32), f64::from(hi32));
            for n in [1usize, 2, 3, 20, 40, 64, 65, 1000, 1 << 16, (1 << 16) + 1] {
                let scale = n as f64 / (hi - lo);
                let mut xs: Vec<f32> = (0..=n.min(2000))
                    .map(|j| (lo + j as f64 * (hi - lo) / n.min(2000) as f64) as f32)
                    .chain([lo32, hi32, 0.0, -0.0])
                    .flat_map(steps)
                    .filter(|x| x.is_finite() && *x >= lo32 && *x <= hi32)
                    .collect();
                xs.extend(
                    awkward(1001, false)
                        .iter()
                        .map(|&r| lo32 + (r as f32 - 998.5).abs() / 3.0 * (hi32 - lo32)),
                );
                xs.retain(|x| x.is_finite() && *x >= lo32 && *x <= hi32);
                let mut want = vec![0u64; n];
                for &x in &xs {
                    want[(((f64::from(x) - lo) * scale) as usize).min(n - 1)] += 1;
                }
                for isa in Isa::available() {
                    let mut got = Counts::new(n);
                    // in pieces of odd lengths, so that blocks end mid-pair
                    for piece in xs.chunks(777) {
                        bins(isa, piece, lo, scale, &mut got);
                    }
                    assert_eq!(got.totals(), want, "{isa:?} [{lo}, {hi}] {n} bins");
                }
            }
        }
    }
}
