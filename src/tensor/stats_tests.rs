//! Tests of the statistics (beside stats.rs, which would otherwise pass 500 lines).

use super::*;

fn view<'a>(dtype: DType, data: &'a [u8]) -> View<'a> {
    let n = data.len() as u64 * 8 / u64::from(dtype.bits());
    View::from_parts(dtype, &[n], &[1], 0, data).unwrap()
}

fn f32_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn reference(xs: &[f64]) -> (f64, f64) {
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (xs.len() - 1) as f64;
    (mean, var.sqrt())
}

#[test]
fn counts_and_moments_skip_non_finite_values() {
    let data = f32_bytes(&[
        1.0,
        2.0,
        f32::NAN,
        3.0,
        f32::INFINITY,
        4.0,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
    ]);
    let s = view(DType::F32, &data).stats(&StatsOptions { bins: 4, sample: None });
    assert_eq!(
        (s.count, s.finite, s.nan, s.posinf, s.neginf, s.zeros),
        (9, 6, 1, 1, 1, 2)
    );
    assert_eq!((s.min, s.max), (Some(Value::Float(0.0)), Some(Value::Float(4.0))));
    assert_eq!(s.mean, Some(10.0 / 6.0));
    let (_, sd) = reference(&[1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
    assert!((s.std.unwrap() - sd).abs() < 1e-12);
    let h = s.histogram.unwrap();
    assert_eq!((h.lo, h.hi, h.counts), (0.0, 4.0, vec![2, 1, 1, 2]));
    assert!(!s.sampled);
}

#[test]
fn long_tensors_match_a_two_pass_reference_in_both_lanes() {
    // a large offset with small noise: naive sum-of-squares would lose every digit of the variance
    let xs: Vec<f64> = (0..50_000u32)
        .map(|i| 1e6 + f64::from((i.wrapping_mul(2_654_435_761) >> 20) % 1000) / 7.0)
        .collect();
    let (mean, sd) = reference(&xs);
    let bytes: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
    let s = view(DType::F64, &bytes).stats(&StatsOptions::default());
    assert!((s.mean.unwrap() - mean).abs() < 1e-9 * mean, "{:?} {mean}", s.mean);
    assert!((s.std.unwrap() - sd).abs() < 1e-9 * sd, "{:?} {sd}", s.std);
    let xs32: Vec<f32> = xs.iter().map(|&x| (x - 1e6) as f32).collect();
    let (mean, sd) = reference(&xs32.iter().map(|&x| f64::from(x)).collect::<Vec<_>>());
    let s = view(DType::F32, &f32_bytes(&xs32)).stats(&StatsOptions::default());
    assert!((s.mean.unwrap() - mean).abs() < 1e-12 * mean && (s.std.unwrap() - sd).abs() < 1e-12 * sd);
}

#[test]
fn strided_views_give_the_statistics_of_their_elements() {
    let xs: Vec<f32> = (0..6000).map(|i| (i % 97) as f32 - 40.0).collect();
    let data = f32_bytes(&xs);
    // transposed [3000, 2] view of a [2, 3000] tensor
    let t = View::from_parts(DType::F32, &[3000, 2], &[1, 3000], 0, &data).unwrap();
    let a = t.stats(&StatsOptions { bins: 10, sample: None });
    let b = view(DType::F32, &data).stats(&StatsOptions { bins: 10, sample: None });
    assert_eq!(
        (a.count, a.min, a.max, a.zeros, a.histogram),
        (b.count, b.min, b.max, b.zeros, b.histogram)
    );
    assert!((a.mean.unwrap() - b.mean.unwrap()).abs() < 1e-9 && (a.std.unwrap() - b.std.unwrap()).abs() < 1e-9);
}

#[test]
fn wide_integers_keep_exact_extremes() {
    let bytes: Vec<u8> = [i64::MIN, 0, i64::MAX, i64::MAX - 1]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let s = view(DType::I64, &bytes).stats(&StatsOptions::default());
    assert_eq!((s.min, s.max), (Some(Value::Int(i64::MIN)), Some(Value::Int(i64::MAX))));
    // the mean of values spanning the whole i64 range keeps its digits (as torch's f64 mean gives it:
    // the extremes cancel, 2^40 / 6 is left); a shift at the first element used to lose them
    let wide = [i64::MIN, -1, 0, 1, i64::MAX, 1 << 40];
    let bytes: Vec<u8> = wide.iter().flat_map(|x| x.to_le_bytes()).collect();
    let s = view(DType::I64, &bytes).stats(&StatsOptions::default());
    let want = wide.iter().map(|&x| x as f64).sum::<f64>() / 6.0;
    assert!((s.mean.unwrap() - want).abs() <= want * 1e-12, "{:?} vs {want}", s.mean);
    let bytes: Vec<u8> = [u64::MAX, 1].iter().flat_map(|x| x.to_le_bytes()).collect();
    let s = view(DType::U64, &bytes).stats(&StatsOptions::default());
    assert_eq!((s.min, s.max), (Some(Value::UInt(1)), Some(Value::UInt(u64::MAX))));
    let s = view(DType::I8, &[0x80, 0x7f, 0]).stats(&StatsOptions::default());
    assert_eq!(
        (s.min, s.max, s.zeros),
        (Some(Value::Int(-128)), Some(Value::Int(127)), 1)
    );
    let s = view(DType::BOOL, &[1, 0, 1, 1]).stats(&StatsOptions::default());
    assert_eq!(
        (s.min, s.max, s.mean),
        (Some(Value::UInt(0)), Some(Value::UInt(1)), Some(0.75))
    );
}

#[test]
fn complex_statistics_are_of_magnitudes() {
    let data = f32_bytes(&[3.0, 4.0, 0.0, -1.0]);
    let s = view(DType::C64, &data).stats(&StatsOptions::default());
    assert_eq!(
        (s.of, s.min, s.max, s.mean),
        (
            "magnitudes",
            Some(Value::Float(1.0)),
            Some(Value::Float(5.0)),
            Some(3.0)
        )
    );
}

#[test]
fn sampling_reads_evenly_spaced_blocks_and_says_so() {
    let xs: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
    let data = f32_bytes(&xs);
    let s = view(DType::F32, &data).stats(&StatsOptions {
        bins: 0,
        sample: Some(10_000),
    });
    assert!(s.sampled);
    let sample = s.sample.unwrap();
    assert_eq!((sample.blocks, sample.block, sample.stride), (3, SAMPLE_BLOCK, 33_333));
    assert_eq!(s.count, 3 * SAMPLE_BLOCK);
    assert_eq!(s.min, Some(Value::Float(0.0)));
    assert_eq!(s.max, Some(Value::Float((2 * 33_333 + SAMPLE_BLOCK - 1) as f64)));
    // small tensors are never sampled
    let s = view(DType::F32, &data[..400]).stats(&StatsOptions {
        bins: 0,
        sample: Some(10),
    });
    assert!(!s.sampled && s.count == 100);
}

#[test]
fn empty_and_constant_tensors() {
    let s = view(DType::F32, &[]).stats(&StatsOptions { bins: 5, sample: None });
    assert_eq!(
        (s.count, s.min, s.mean, s.std, s.histogram),
        (0, None, None, None, None)
    );
    let data = f32_bytes(&[2.5; 3]);
    let s = view(DType::F32, &data).stats(&StatsOptions { bins: 5, sample: None });
    assert_eq!((s.std, s.histogram.unwrap().counts), (Some(0.0), vec![3, 0, 0, 0, 0]));
    let s = view(DType::F32, &f32_bytes(&[f32::NAN])).stats(&StatsOptions { bins: 5, sample: None });
    assert_eq!((s.nan, s.min, s.mean, s.histogram), (1, None, None, None));
}

/// Pattern counting gives what decoding every element gives, for every 8- and 16-bit dtype, over
/// contiguous and strided views and samples, NaN and infinities included.
#[test]
fn pattern_counts_agree_with_decoding() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let dtypes = [
        DType::F16,
        DType::BF16,
        DType::I16,
        DType::U16,
        DType::I8,
        DType::U8,
        DType::BOOL,
        DType::F8_E4M3,
        DType::F8_E5M2,
        DType::F8_E8M0,
        DType::F8_E4M3FNUZ,
        DType::F8_E5M2FNUZ,
    ];
    for dtype in dtypes {
        assert!(counts::applies(dtype), "{dtype}");
        let width = (dtype.bits() / 8) as usize;
        // random bit patterns (NaN and infinities included for the float kinds), plus a long run of one value
        let mut data: Vec<u8> = (0..50_000).map(|_| next() as u8).collect();
        data.extend(std::iter::repeat_n(0x3c, 8_000));
        let n = (data.len() / width) as u64;
        let contiguous = View::from_parts(dtype, &[n], &[1], 0, &data).unwrap();
        let strided = View::from_parts(dtype, &[n / 6, 2], &[3, 2], 1, &data).unwrap();
        for (what, v) in [("contiguous", &contiguous), ("strided", &strided)] {
            for sample in [None, Some(5000)] {
                let (ranges, _) = plan(v.numel(), sample);
                let (a, ha) = counts::run(v, &ranges, 16, &Control::none()).unwrap();
                let (b, hb) = run_lanes::<f32>(v, &ranges, 16, &Control::none()).unwrap();
                let at = format!("{dtype} {what} sample {sample:?}");
                assert_eq!(
                    (a.count, a.n, a.nan, a.posinf, a.neginf, a.zeros),
                    (b.count, b.n, b.nan, b.posinf, b.neginf, b.zeros),
                    "{at}"
                );
                assert_eq!((a.min, a.max), (b.min, b.max), "{at}");
                let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300);
                assert!(close(a.mean, b.mean), "{at}: mean {} vs {}", a.mean, b.mean);
                assert!(close(a.m2, b.m2), "{at}: m2 {} vs {}", a.m2, b.m2);
                assert_eq!(ha, hb, "{at}");
            }
        }
    }
    assert!(!counts::applies(DType::F32) && !counts::applies(DType::F4) && !counts::applies(DType::I32));
}

/// Statistics of `data` viewed with `shape`/`strides`, and of the same elements written out in full.
fn expanded_pair(
    dtype: DType,
    data: &[u8],
    shape: &[u64],
    strides: &[u64],
    offset: u64,
    bins: usize,
) -> (Stats, Stats) {
    let v = View::from_parts(dtype, shape, strides, offset, data).unwrap();
    let width = (dtype.bits() / 8) as usize;
    let mut full = Vec::new();
    for run in v.runs(0, v.numel()) {
        for i in 0..run.len {
            let at = ((run.start + i * run.step) as usize) * width;
            full.extend_from_slice(&data[at..at + width]);
        }
    }
    let n = v.numel();
    let opts = StatsOptions { bins, sample: None };
    let repeated = v.stats(&opts);
    let written = View::from_parts(dtype, &[n], &[1], 0, &full).unwrap().stats(&opts);
    (repeated, written)
}

fn assert_close(a: &Stats, b: &Stats) {
    assert_eq!(
        (a.count, a.finite, a.nan, a.posinf, a.neginf, a.zeros, &a.min, &a.max),
        (b.count, b.finite, b.nan, b.posinf, b.neginf, b.zeros, &b.min, &b.max)
    );
    let near = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300),
        (x, y) => x == y,
    };
    assert!(near(a.mean, b.mean), "{:?} {:?}", a.mean, b.mean);
    assert!(near(a.std, b.std), "{:?} {:?}", a.std, b.std);
    assert_eq!(a.histogram, b.histogram);
}

#[test]
fn zero_stride_views_equal_the_expanded_tensor() {
    // a 3x4 F32 storage with a NaN, an infinity and a zero, expanded along new and existing axes
    let xs = [
        1.5f32,
        -2.0,
        0.0,
        7.25,
        f32::NAN,
        3.0,
        f32::INFINITY,
        -0.5,
        9.0,
        1.0,
        2.0,
        -8.0,
    ];
    let data = f32_bytes(&xs);
    for (shape, strides, offset) in [
        (vec![5, 3, 4], vec![0, 4, 1], 0),  // expand(5, 3, 4)
        (vec![3, 6, 4], vec![4, 0, 1], 0),  // a middle axis broadcast
        (vec![2, 3, 7], vec![0, 1, 0], 5),  // only a column, repeated twice over
        (vec![4, 1, 3], vec![0, 99, 4], 1), // a size-1 axis with any stride
        (vec![1000, 1000], vec![0, 0], 3),  // one element a million times
    ] {
        let (a, b) = expanded_pair(DType::F32, &data, &shape, &strides, offset, 7);
        assert_close(&a, &b);
    }
    // the pattern-counting dtypes and the exact 64-bit integers take other roads
    let h: Vec<u8> = [1.0f32, -3.0, 0.5, 65504.0]
        .iter()
        .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
        .collect();
    let (a, b) = expanded_pair(DType::F16, &h, &[3, 4], &[0, 1], 0, 5);
    assert_close(&a, &b);
    let ints: Vec<u8> = [-1_000_000_007i64, 5, 123_456_789_012, -7]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let (a, b) = expanded_pair(DType::I64, &ints, &[2, 4, 3], &[0, 1, 0], 0, 3);
    assert_close(&a, &b);
    // extremes stay exact beyond f64's 53 bits (the mean of such values is rounded either way)
    let ints: Vec<u8> = [i64::MIN, 5, i64::MAX, -7]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let (a, b) = expanded_pair(DType::I64, &ints, &[2, 4, 3], &[0, 1, 0], 0, 0);
    assert_eq!((a.count, a.min, a.max), (b.count, b.min, b.max));
    assert_eq!(a.min, Some(Value::Int(i64::MIN)));
}

#[test]
fn huge_zero_stride_views_are_exact_and_instant() {
    // 4096 stored values expanded to 2^40 elements: the work is the 4096 values
    let xs: Vec<f32> = (0..4096).map(|i| i as f32).collect();
    let data = f32_bytes(&xs);
    let v = View::from_parts(DType::F32, &[1 << 28, 4096], &[0, 1], 0, &data).unwrap();
    let work = std::sync::atomic::AtomicU64::new(0);
    let report = |done: u64, _: u64| work.store(done, std::sync::atomic::Ordering::Relaxed);
    let s = v
        .stats_with(
            &StatsOptions { bins: 4, sample: None },
            &Control::none().with_progress(&report),
        )
        .unwrap();
    assert_eq!(s.count, 1 << 40);
    assert_eq!(s.mean, Some(2047.5));
    let (_, sd) = reference(&xs.iter().map(|&x| f64::from(x)).collect::<Vec<_>>());
    // n·(4096-1) / (n·4096 - 1) of the small sample's variance
    let want = sd * ((4095.0 * (1u64 << 28) as f64) / ((1u64 << 40) as f64 - 1.0)).sqrt();
    assert!((s.std.unwrap() - want).abs() < 1e-9 * want);
    assert_eq!(s.histogram.unwrap().counts, vec![1u64 << 38; 4]);
    // two passes over the 4096 distinct elements, reported at the end
    assert_eq!(work.load(std::sync::atomic::Ordering::Relaxed), 2 * 4096);
}

#[test]
fn cancelled_statistics_stop_with_cancelled() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let data = vec![0u8; 1 << 22];
    for dtype in [DType::F32, DType::BF16, DType::I64, DType::U8] {
        let v = view(dtype, &data);
        // cancel from the progress callback, as a UI thread would between two reports
        let flag = AtomicBool::new(false);
        let calls = AtomicU64::new(0);
        let report = |done: u64, total: u64| {
            assert!(done <= total);
            calls.fetch_add(1, Ordering::Relaxed);
            flag.store(true, Ordering::Relaxed);
        };
        let ctl = Control::none().with_cancel(&flag).with_progress(&report);
        let opts = StatsOptions { bins: 8, sample: None };
        // 4 MiB of data is below the first report for the wide types: set the flag up front for them
        if v.numel() < control_report_every() {
            flag.store(true, Ordering::Relaxed);
        }
        assert_eq!(v.stats_with(&opts, &ctl), Err(Cancelled), "{dtype}");
        // without the flag the same call finishes, and agrees with stats()
        let ok = v.stats_with(&opts, &Control::none()).unwrap();
        assert_eq!(ok, v.stats(&opts));
    }
}

fn control_report_every() -> u64 {
    control::REPORT_EVERY
}

#[test]
fn misaligned_bytes_give_the_same_statistics_as_aligned_ones() {
    // aligned F32/F64 data is read in place, misaligned data through the copy: the same chunks, so the
    // same bits; with a NaN, a strided view and a tail shorter than a chunk
    let n = 3 * super::CHUNK + 77;
    let xs: Vec<f64> = (0..n)
        .map(|i| {
            if i == 5000 {
                f64::NAN
            } else {
                1000.0 + (i as f64 * 0.37).sin() * 3.0
            }
        })
        .collect();
    for (dtype, bytes) in [
        (
            DType::F32,
            xs.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect::<Vec<u8>>(),
        ),
        (DType::F64, xs.iter().flat_map(|&x| x.to_le_bytes()).collect()),
    ] {
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(&bytes);
        let size = (dtype.bits() / 8) as usize;
        // a Vec<u8> of this size is at least 8-aligned; shifted by one it is misaligned
        assert_eq!(
            (
                bytes.as_ptr() as usize % size,
                (shifted[1..].as_ptr() as usize).is_multiple_of(size)
            ),
            (0, false)
        );
        let opts = StatsOptions { bins: 20, sample: None };
        let a = view(dtype, &bytes).stats(&opts);
        let b = view(dtype, &shifted[1..]).stats(&opts);
        assert_eq!(a, b);
        assert_eq!((a.nan, a.finite), (1, n as u64 - 1));
        let m = n as u64 / 2;
        let [sa, sb] =
            [&bytes[..], &shifted[1..]].map(|d| View::from_parts(dtype, &[m, 2], &[1, m], 0, d).unwrap().stats(&opts));
        assert_eq!(sa, sb);
    }
}

/// 64-bit integers past 2^53 have their spread and mean from exact integer sums (f64 lanes read
/// 2^60 plus 0, 1, 2 and 3 as four equal values: a std of 0 under "exact"), and no histogram where
/// f64 cannot tell the values apart.
#[test]
fn wide_integers_have_exact_mean_and_spread() {
    let ints = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let bins = StatsOptions {
        bins: 20,
        ..StatsOptions::default()
    };
    let close = ints(&[(1 << 60), (1 << 60) + 1, (1 << 60) + 2, (1 << 60) + 3]);
    let s = view(DType::I64, &close).stats(&bins);
    assert!((s.std.unwrap() - 1.290_994_448_735_805_6).abs() < 1e-12, "{:?}", s.std);
    assert_eq!(s.mean, Some((1u64 << 60) as f64 + 1.5));
    assert_eq!(
        s.histogram, None,
        "bins over an f64 range of 0 would say the values are equal"
    );
    let ext = ints(&[i64::MAX, i64::MAX, i64::MIN, i64::MIN]);
    let s = view(DType::I64, &ext).stats(&StatsOptions::default());
    assert_eq!(s.mean, Some(-0.5));
    let uints: Vec<u8> = [u64::MAX, u64::MAX - 1, u64::MAX - 2, u64::MAX - 3]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let s = view(DType::U64, &uints).stats(&StatsOptions::default());
    assert!((s.std.unwrap() - 1.290_994_448_735_805_6).abs() < 1e-12, "{:?}", s.std);
    // small integers keep their histogram
    let s = view(DType::I64, &ints(&[1, 2, 3, 4])).stats(&bins);
    assert!(s.histogram.is_some());
}

/// F64 values whose sums or squares leave the f64 range (past about 1e154, below about 1e-154) get
/// their mean and std from values scaled by a power of two: no `inf` mean or NaN std from finite
/// values, no std of 0 for values that differ.
#[test]
fn huge_and_tiny_f64_values_keep_their_mean_and_std() {
    let f64s = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let s = view(DType::F64, &f64s(&[1.7e308, 1.7e308])).stats(&StatsOptions::default());
    assert_eq!((s.mean, s.std), (Some(1.7e308), Some(0.0)));
    let s = view(DType::F64, &f64s(&[1e160, -1e160, 1e160])).stats(&StatsOptions::default());
    let want = 1.154_700_538_379_251_7e160;
    assert!((s.std.unwrap() - want).abs() < want * 1e-12, "{:?}", s.std);
    let tiny: Vec<f64> = (0..30).map(|i| [1e-300, 2e-300, 3e-300][i % 3]).collect();
    let s = view(DType::F64, &f64s(&tiny)).stats(&StatsOptions::default());
    let want = 8.304_547_985_373_997e-301;
    assert!((s.std.unwrap() - want).abs() < want * 1e-12, "{:?}", s.std);
    assert!((s.mean.unwrap() - 2e-300).abs() < 2e-300 * 1e-12);
    // a range wider than the largest f64: no histogram rather than bins of NaN width
    let bins = StatsOptions {
        bins: 20,
        ..StatsOptions::default()
    };
    let s = view(DType::F64, &f64s(&[1.7e308, -1.7e308, 1.7e308])).stats(&bins);
    assert_eq!(s.histogram, None);
    assert_eq!(s.std, Some(f64::INFINITY), "the std itself overflows");
    // ordinary values are untouched by the fallback
    let s = view(DType::F64, &f64s(&[1.0, 2.0, 3.0])).stats(&StatsOptions::default());
    assert_eq!((s.mean, s.std), (Some(2.0), Some(1.0)));
}

/// Huge values of both signs cancel exactly, so the small ones still count in the mean (the fast
/// pass gave 0.875, 0.5 and 0 for a true 0.75 in F64, F32 and BF16).
#[test]
fn the_mean_survives_huge_values_that_cancel() {
    let f64s: Vec<u8> = [1e300f64, 1.0, -1e300, 2.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let f32s = f32_bytes(&[3.4e38, 1.0, -3.4e38, 2.0]);
    let bf16s: Vec<u8> = [3.38e38f32, 1.0, -3.38e38, 2.0]
        .iter()
        .flat_map(|&x| half::bf16::from_f32(x).to_le_bytes())
        .collect();
    for (dtype, data) in [(DType::F64, &f64s), (DType::F32, &f32s), (DType::BF16, &bf16s)] {
        let s = view(dtype, data).stats(&StatsOptions { bins: 0, sample: None });
        assert_eq!(s.mean, Some(0.75), "{dtype:?}");
    }
}

/// A range of subnormals (or any below `bins / f64::MAX`): `bins / (hi - lo)` overflowed to infinity and
/// every value but the least fell in the last bin (`[1e-310, 2e-310, 3e-310]`: 1/0/2). The counts are
/// numpy 2.4's `np.histogram(x, bins)` for these values (whose edges fall between values), also when
/// the values are many (the threaded path) and when there are non-finite ones (the scalar loop).
#[test]
fn histograms_of_subnormal_ranges_match_numpy() {
    let f64s = |xs: &[f64]| -> Vec<u8> { xs.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let hist = |xs: &[f64], bins: usize| {
        let data = f64s(xs);
        view(DType::F64, &data)
            .stats(&StatsOptions { bins, sample: None })
            .histogram
            .unwrap()
            .counts
    };
    assert_eq!(hist(&[1e-310, 2e-310, 3e-310], 3), vec![1, 1, 1]);
    assert_eq!(hist(&[-3e-310, 0.0, 1e-310, 3e-310], 6), vec![1, 0, 0, 1, 1, 1]);
    assert_eq!(
        hist(&[3e-310, f64::NAN, 1e-310, f64::INFINITY, 2e-310], 3),
        vec![1, 1, 1]
    );
    // np.histogram([0, 1e-309, 2.5e-309, 5e-309, 1e-308], 100): normal ends, a range below 100 / f64::MAX
    let got = hist(&[0.0, 1e-309, 2.5e-309, 5e-309, 1e-308], 100);
    let filled: Vec<usize> = (0..100).filter(|&i| got[i] > 0).collect();
    assert_eq!(filled, vec![0, 10, 25, 50, 99]);
    // many values, each repeated: the threaded path bins them the same way
    let many: Vec<f64> = (0..(3 * super::parallel::PARALLEL_MIN as usize))
        .map(|i| [1e-310, 2e-310, 3e-310][i % 3])
        .collect();
    let third = many.len() as u64 / 3;
    assert_eq!(hist(&many, 3), vec![third; 3]);
    // the scale stays as it was where it does not overflow
    assert_eq!(BinScale::new(0.0, 4.0, 4), BinScale { pre: 1.0, scale: 1.0 });
}
