//! Statistics throughput over a 512 MB tensor on one core (F32 and BF16), with and without a histogram.
//!
//! `cargo bench --bench stats` (set `TENSORSCOPE_BENCH_MB` for another size). The tensor lives in memory,
//! so this measures decoding and arithmetic, not the disk.

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
    group.throughput(Throughput::Bytes(total as u64));
    for dtype in [DType::F32, DType::BF16] {
        let data = bytes_of(dtype, total);
        let n = (total * 8 / dtype.bits() as usize) as u64;
        let view = View::from_parts(dtype, &[n], &[1], 0, &data).expect("view");
        group.bench_function(format!("{dtype} {mb} MB"), |b| {
            b.iter(|| view.stats(&StatsOptions::default()))
        });
        let hist = StatsOptions { bins: 40, sample: None };
        group.bench_function(format!("{dtype} {mb} MB + histogram"), |b| b.iter(|| view.stats(&hist)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
