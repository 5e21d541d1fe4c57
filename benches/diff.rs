//! `diff` of two byte-identical checkpoints (a file and its copy, not the same inode), the case of
//! issue 28 against `torch.equal` over every tensor pair, and of two files that differ in the last
//! byte of the last tensor (every byte compared, then the one tensor's values). The pair is written
//! into a temporary folder by tensorscope's own safetensors writer: 24 tensors of 4 M F32 each,
//! about 400 MB (set `TENSORSCOPE_BENCH_MB` for another total). Warm page cache after the first
//! iteration, so this measures the compare, not the disk.
//!
//! `cargo bench --bench diff`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tensorscope::bench::synth::{SynthTensor, write_safetensors};
use tensorscope::{checkpoint, diff};

fn bench(c: &mut Criterion) {
    let mb: u64 = std::env::var("TENSORSCOPE_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let per = 16u64 << 20; // bytes per tensor
    let count = (mb << 20).div_ceil(per).max(1);
    let tensors: Vec<SynthTensor> = (0..count)
        .map(|i| SynthTensor {
            name: format!("layers.{i}.weight"),
            shape: vec![per / 4],
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c2) = (
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
        dir.path().join("c.safetensors"),
    );
    write_safetensors(&a, &tensors).unwrap();
    std::fs::copy(&a, &b).unwrap();
    let mut last = std::fs::read(&a).unwrap();
    *last.last_mut().unwrap() ^= 1;
    std::fs::write(&c2, &last).unwrap();
    drop(last);
    let bytes = std::fs::metadata(&a).unwrap().len();

    let mut g = c.benchmark_group("diff");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    let open = |p: &std::path::Path| checkpoint::open(p).unwrap();
    g.bench_function(format!("identical copies {} MB", bytes >> 20), |bn| {
        bn.iter(|| {
            let r = diff::diff(&open(&a), &open(&b)).unwrap();
            assert!(r.identical && r.files_identical);
            black_box(r)
        })
    });
    g.bench_function(format!("last byte differs {} MB", bytes >> 20), |bn| {
        bn.iter(|| {
            let r = diff::diff(&open(&a), &open(&c2)).unwrap();
            assert_eq!(r.different, 1);
            black_box(r)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
