//! The dtype decoders and the strided view over arbitrary bytes: any dtype, shape, strides, offset
//! and slice; every element decodes and formats, statistics and previews never read outside the
//! storage, an index past the end is `None`, never a panic.
//!
//! The one body of this check: the fuzz target and the corpus replay in `tests/fuzz_corpus.rs`
//! both call [`check`], so they cannot drift apart.

use tensorscope::checkpoint::dtype::SAFETENSORS_DTYPES;
use tensorscope::tensor::stats::StatsOptions;
use tensorscope::tensor::{View, decode, format, parse_slice};

/// Runs the check on one input; panics when an invariant fails.
pub fn check(data: &[u8]) {
    let Some((&[d, rank, off], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let dtype = SAFETENSORS_DTYPES[usize::from(d) % SAFETENSORS_DTYPES.len()];
    let rank = usize::from(rank % 5);
    let Some((dims, rest)) = rest.split_at_checked(2 * rank) else {
        return;
    };
    let shape: Vec<u64> = dims[..rank].iter().map(|&x| u64::from(x % 9)).collect();
    let strides: Vec<u64> = dims[rank..].iter().map(|&x| u64::from(x % 17)).collect();
    // the rest: a slice spec up to the first NUL, then the storage bytes
    let (spec, storage) = match rest.iter().position(|&b| b == 0) {
        Some(i) if i <= 32 => (&rest[..i], &rest[i + 1..]),
        _ => (&b""[..], rest),
    };
    let elements = (storage.len() as u64 * 8) / u64::from(dtype.bits());
    for i in 0..elements.min(2048) {
        let v = decode::element(dtype, storage, i).expect("an element inside the storage decodes");
        let _ = format::value(dtype, v);
        let _ = v.as_f64();
    }
    assert!(
        decode::element(dtype, storage, elements).is_none(),
        "{dtype} past the end"
    );
    assert!(decode::element(dtype, storage, u64::MAX).is_none());
    let Ok(view) = View::from_parts(dtype, &shape, &strides, u64::from(off % 33), storage) else {
        return;
    };
    let _ = view.first(64);
    let _ = view.stats(&StatsOptions { bins: 8, sample: None });
    let _ = view.stats(&StatsOptions {
        bins: 3,
        sample: Some(5),
    });
    if let Ok(dims) = parse_slice(&String::from_utf8_lossy(spec))
        && let Ok(s) = view.slice(&dims)
    {
        let _ = s.first(16);
        let _ = s.stats(&StatsOptions { bins: 4, sample: None });
    }
}
