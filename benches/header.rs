//! Opening a safetensors header of 200,000 tensors (the floor: under 1 s, under 500 MB), and
//! parsing it alone, with the names of a mixture-of-experts model
//! (`model.layers.{0..47}.mlp.experts.{0..1388}.{gate,up,down}_proj.weight`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// Write a file with `n` one-element F32 tensors named as the experts of a MoE model; return its path.
fn many_tensors(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let mut header = String::from("{\"__metadata__\":{\"format\":\"pt\"}");
    let proj = ["gate", "up", "down"];
    for i in 0..n {
        let s = i * 4;
        header.push_str(&format!(
            ",\"model.layers.{}.mlp.experts.{}.{}_proj.weight\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[{s},{}]}}",
            i / (1389 * 3),
            (i / 3) % 1389,
            proj[i % 3],
            s + 4
        ));
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.resize(bytes.len() + n * 4, 0);
    let path = dir.join("many.safetensors");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = many_tensors(dir.path(), 200_000);
    let mut g = c.benchmark_group("header");
    g.sample_size(10);
    g.bench_function("open 200k tensors", |b| {
        b.iter(|| {
            let ck = tensorscope::checkpoint::open(black_box(&path)).unwrap();
            assert_eq!(ck.tensors.len(), 200_000);
            ck
        })
    });
    let bytes = std::fs::read(&path).unwrap();
    g.bench_function("parse_header 200k", |b| {
        b.iter(|| {
            tensorscope::checkpoint::safetensors::parse_header(&path, black_box(&bytes))
                .unwrap()
                .tensors
                .len()
        })
    });
    // the reference crate alone, for comparison (no longer called when opening a file)
    g.bench_function("safetensors crate read_metadata 200k", |b| {
        b.iter(|| safetensors::SafeTensors::read_metadata(black_box(&bytes)).unwrap().0)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
