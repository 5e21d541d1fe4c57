//! 20,000 small float32 tensors (1-4 KB each, about 56 MB), the case of issue 15: per-tensor costs
//! (pickle machine, zip directory, header parsing, allocation) rather than bandwidth. The pair is
//! written into a temporary folder by tensorscope's own torch-like and safetensors writers.
//! Run: `cargo bench --bench small` (the page cache is warm after the first iteration).
//!
//! Measured: reading the whole `.bin` (the floor the issue compares with), the pickle-eager load
//! into fresh and into reused memory, the pickle-mmap load, `torch::read` (the parse alone, on
//! bytes already in memory) and safetensors-lazy-one (open the file, copy one tensor).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tensorscope::bench::Method;
use tensorscope::bench::cpu::load;
use tensorscope::bench::loading::{Arena, Load};
use tensorscope::bench::synth::{SynthTensor, write_safetensors, write_torch};

/// As `benches/peers/compare.py` part 3 builds it: 20,000 tensors of 256..=1024 floats, ten per layer.
fn small_tensors() -> Vec<SynthTensor> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..20_000)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            SynthTensor {
                name: format!("layers.{}.t{}", i / 10, i % 10),
                shape: vec![256 + x % 769],
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let tensors = small_tensors();
    let (bin, st) = (dir.path().join("small.bin"), dir.path().join("small.safetensors"));
    write_torch(&bin, &tensors).unwrap();
    write_safetensors(&st, &tensors).unwrap();
    let bin_bytes = std::fs::read(&bin).unwrap();
    eprintln!("20,000 small tensors: {} bytes (.bin)", bin_bytes.len());

    let mut g = c.benchmark_group("small 20k");
    g.sample_size(20);
    g.bench_function("read the .bin", |b| b.iter(|| std::fs::read(black_box(&bin)).unwrap()));
    g.bench_function("torch::read (parse only)", |b| {
        b.iter(|| tensorscope::formats::pickle::torch::read(&bin, black_box(&bin_bytes)).unwrap())
    });
    let case = |method: Method, path: &PathBuf| {
        let files = vec![path.clone()];
        (method, path.clone(), files)
    };
    for (name, fresh, (method, path, files)) in [
        ("pickle-eager fresh", true, case(Method::PickleEager, &bin)),
        ("pickle-eager reused", false, case(Method::PickleEager, &bin)),
        ("pickle-mmap", false, case(Method::PickleMmap, &bin)),
        ("safetensors-lazy-one", false, case(Method::SafetensorsLazyOne, &st)),
    ] {
        let l = Load {
            root: &path,
            files: &files,
            method,
            touched: false,
            touch_threads: tensorscope::bench::touch::default_threads(),
            rank: None,
        };
        if fresh {
            // a new arena per iteration, returned so that criterion drops it (the munmap) outside
            // the timing: the row times the load into fresh memory, not the release of it
            g.bench_function(name, |b| {
                b.iter_batched(
                    Arena::fresh,
                    |mut arena| {
                        let got = load(&mut arena, black_box(&l)).unwrap();
                        (arena, got)
                    },
                    BatchSize::PerIteration,
                )
            });
        } else {
            let mut arena = Arena::new();
            g.bench_function(name, |b| b.iter(|| load(&mut arena, black_box(&l)).unwrap()));
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
