//! Header parsing (safetensors, torch pickle) and one load of each method on a 64 MB synthetic
//! GPT-2-shaped pair, through the same code `tensorscope bench` times.
//! Run: `cargo bench --bench load` (the page cache is warm after the first iteration).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tensorscope::bench::cpu::load;
use tensorscope::bench::loading::{Arena, Load};
use tensorscope::bench::synth::{Family, write_pair};
use tensorscope::bench::{Device, Method};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pair = write_pair(dir.path(), "model", Family::Gpt2, 64_000_000).unwrap();
    let st_bytes = std::fs::read(&pair.safetensors).unwrap();
    let pt_bytes = std::fs::read(&pair.torch).unwrap();

    let mut g = c.benchmark_group("header");
    g.bench_function("safetensors", |b| {
        b.iter(|| tensorscope::checkpoint::safetensors::parse_header(&pair.safetensors, black_box(&st_bytes)).unwrap())
    });
    g.bench_function("pickle", |b| {
        b.iter(|| tensorscope::formats::pickle::torch::read(&pair.torch, black_box(&pt_bytes)).unwrap())
    });
    g.finish();
    drop((st_bytes, pt_bytes));

    // Throughput only for the loads that read the bytes: untouched views and one tensor read
    // nothing (or one tensor), and a rate of bytes never read would be no rate at all.
    let mut cases = Vec::new();
    for method in [
        Method::SafetensorsMmap,
        Method::SafetensorsRead,
        Method::SafetensorsLazyOne,
        Method::PickleEager,
        Method::PickleMmap,
        Method::FileRead,
    ] {
        let path: PathBuf = if method.is_pickle() {
            pair.torch.clone()
        } else {
            pair.safetensors.clone()
        };
        for touched in [false, true] {
            if method == Method::FileRead && touched {
                continue;
            }
            cases.push((method, touched, path.clone(), vec![path.clone()]));
        }
    }
    let mut arena = Arena::new();
    for reads in [true, false] {
        let mut g = c.benchmark_group(if reads {
            "load 64MB"
        } else {
            "load 64MB, reading nothing or one tensor"
        });
        g.sample_size(20);
        if reads {
            g.throughput(Throughput::Bytes(pair.bytes));
        }
        for (method, touched, path, files) in &cases {
            if method.reads(*touched, Device::Cpu) != reads {
                continue;
            }
            let l = Load {
                root: path,
                files,
                method: *method,
                touched: *touched,
                touch_threads: tensorscope::bench::touch::default_threads(),
                rank: None,
            };
            let name = format!("{}{}", method.as_str(), if *touched { " touched" } else { "" });
            g.bench_function(name, |b| b.iter(|| load(&mut arena, black_box(&l)).unwrap()));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
