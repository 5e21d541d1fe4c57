//! Statistics throughput over a 512 MB tensor (F32 and BF16), with and without a histogram, and over
//! the 154 MB tensor (the size of GPT-2's token embedding) in F32 and F64. F32/F64 statistics
//! use every core (`tensor::stats` splits large tensors across threads and merges the parts exactly)
//! and the widest vector unit the CPU has (AVX-512 or AVX2, picked at run time); the 8- and 16-bit
//! path counts bit patterns on one core.
//!
//! `cargo bench --bench stats` (set `TENSORSCOPE_BENCH_MB` for another size of the first group; the
//! 154 MB cases are always that size). The tensors live in memory, so this measures decoding and
//! arithmetic, not the disk.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tensorscope::checkpoint::DType;
use tensorscope::tensor::{StatsOptions, View};

fn bytes_of(dtype: DType, total: usize) -> Vec<u8> {
    // a cheap deterministic spread of values around zero, a few zeros, no NaN
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.04
    };
    let mut out = Vec::with_capacity(total);
    match dtype {
        DType::F32 => (0..total / 4).for_each(|_| out.extend_from_slice(&next().to_le_bytes())),
        DType::F64 => (0..total / 8).for_each(|_| out.extend_from_slice(&f64::from(next()).to_le_bytes())),
        _ => (0..total / 2).for_each(|_| out.extend_from_slice(&half::bf16::from_f32(next()).to_le_bytes())),
    }
    out
}

fn bench(c: &mut Criterion) {
    let mb: usize = std::env::var("TENSORSCOPE_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    let total = mb << 20;
    let mut group = c.benchmark_group("stats");
    group.sample_size(10);
    let hist = StatsOptions { bins: 20, sample: None };
    let mut sizes = |label: &str, bytes: usize, dtypes: [DType; 2]| {
        group.throughput(Throughput::Bytes(bytes as u64));
        for dtype in dtypes {
            let data = bytes_of(dtype, bytes);
            let n = (bytes * 8 / dtype.bits() as usize) as u64;
            let view = View::from_parts(dtype, &[n], &[1], 0, &data).expect("view");
            group.bench_function(format!("{dtype} {label}"), |b| {
                b.iter(|| view.stats(&StatsOptions::default()))
            });
            group.bench_function(format!("{dtype} {label} + histogram"), |b| b.iter(|| view.stats(&hist)));
        }
    };
    sizes(&format!("{mb} MB"), total, [DType::F32, DType::BF16]);
    // the size of GPT-2's token embedding (50257 x 768 F32), warm in memory; the same bytes as F64
    const GPT2_WTE: usize = 154_389_504;
    sizes("154 MB", GPT2_WTE, [DType::F32, DType::F64]);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
