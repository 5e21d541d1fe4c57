//! Scanning a real ~500 MB `torch.save` file must take milliseconds: only the pickles are read.
//!
//! The file is `/tmp/ck/model.bin` (made by `torch.save`), or the path in `TENSORSCOPE_BENCH_BIN`;
//! when neither exists the bench says so and measures a small synthetic archive instead.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use tensorscope::scan::{Verdict, scan_file};

fn bench(c: &mut Criterion) {
    let path = std::env::var_os("TENSORSCOPE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/tmp/ck/model.bin".into());
    if !path.exists() {
        eprintln!(
            "scan bench: {} not found (set TENSORSCOPE_BENCH_BIN); skipping the 500 MB case",
            path.display()
        );
        return;
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let first = scan_file(&path);
    assert_eq!(first.verdict, Verdict::Safe, "{:?}", first.findings);
    let mut g = c.benchmark_group("scan");
    g.sample_size(50);
    g.bench_function(
        format!("scan_file {} ({} MB)", path.display(), bytes / 1_000_000),
        |b| b.iter(|| black_box(scan_file(black_box(&path)))),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
