//! The GGML dequantizers over arbitrary blocks: any type, any bytes (NaN scales, codes past the
//! grids' ends). Whole-block, element and strided reads agree bit for bit; reads past the data are
//! refused, never a panic; the scale check counts every block.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use tensorscope::checkpoint::DType;
use tensorscope::checkpoint::dtype::GGML_BLOCK_TYPES;
use tensorscope::tensor::stats::StatsOptions;
use tensorscope::tensor::{View, ggml};

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    let Some((&[t, step], blocks)) = data.split_first_chunk::<2>() else {
        return;
    };
    let ty = GGML_BLOCK_TYPES[usize::from(t) % GGML_BLOCK_TYPES.len()];
    let Some((n, size)) = ty.block() else { return };
    let (n, size) = (n as usize, size as usize);
    let whole = blocks.len() / size;
    let bytes = &blocks[..whole * size];
    let mut out = vec![0f32; whole * n];
    if !ggml::dequantize(ty, bytes, &mut out) {
        assert!(!ggml::can_dequantize(ty));
        return;
    }
    let dtype = DType::Ggml(ty);
    let Ok(view) = View::from_parts(dtype, &[out.len() as u64], &[1], 0, bytes) else {
        panic!("a whole number of blocks is a valid view");
    };
    let first = view.first(300);
    for (i, v) in first.iter().enumerate() {
        let (a, b) = (v.as_f64(), f64::from(out[i]));
        assert!(a == b || (a.is_nan() && b.is_nan()), "{ty:?} element {i}");
    }
    let step = u64::from(step % 7) + 1;
    let k = out.len() as u64 / step;
    let view = View::from_parts(dtype, &[k], &[step], 0, bytes).expect("strided view inside");
    for (i, v) in view.first(64).iter().enumerate() {
        let w = out[i * step as usize];
        assert!(v.as_f64() == f64::from(w) || w.is_nan(), "{ty:?} strided {i}");
    }
    let _ = view.stats(&StatsOptions { bins: 5, sample: None });
    let check = ggml::scale_check(ty, bytes).expect("a type with a dequantizer is checked");
    assert_eq!(check.blocks, whole as u64);
    // one block short: the view is refused
    if whole > 0 {
        assert!(View::from_parts(dtype, &[out.len() as u64 + 1], &[1], 0, bytes).is_err());
    }
}
