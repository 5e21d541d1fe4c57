//! Scanning `torch.save` files must take milliseconds, whatever their size: only the pickles are read.
//!
//! Always measured, on inputs the bench writes itself into a temporary folder (real `torch.save`
//! zip archives from [`tensorscope::bench::synth`], the writer `tensorscope bench` uses):
//! - a GPT-2 state dict of about 500 MB (148 tensors): the cost of a large file;
//! - a mixture of experts shaped like Qwen3-30B-A3B (about 19,000 tensors, 64 MB): the cost of a
//!   long pickle;
//! - the scanner's pickle walk alone (`walk_stream`) over that long pickle, without the archive.
//!
//! When `/tmp/ck/model.bin` (a real `torch.save` file), or the path in `TENSORSCOPE_BENCH_BIN`,
//! exists it is measured too.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use tensorscope::bench::synth::{Family, SynthTensor, layout, write_torch};
use tensorscope::bench::torchzip::state_dict_pickle;
use tensorscope::scan::walk::{Mode, walk_stream};
use tensorscope::scan::{Verdict, scan_file};

/// Write a synthetic `torch.save` file of `family` and about `bytes` bytes; its tensors.
fn synthetic(dir: &Path, name: &str, family: Family, bytes: u64) -> (PathBuf, Vec<SynthTensor>) {
    let tensors = layout(family, bytes);
    let path = dir.join(name);
    write_torch(&path, &tensors).expect("write the synthetic torch.save file");
    (path, tensors)
}

/// Scan `path` once (it must be safe), then measure `scan_file` on it.
fn bench_file(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, label: &str, path: &Path) {
    let first = scan_file(path);
    assert_eq!(first.verdict, Verdict::Safe, "{label}: {:?}", first.findings);
    let mb = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) / 1_000_000;
    g.bench_function(format!("scan_file {label} ({mb} MB)"), |b| {
        b.iter(|| black_box(scan_file(black_box(path))))
    });
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (gpt2, _) = synthetic(dir.path(), "gpt2.bin", Family::Gpt2, 500_000_000);
    let (moe, moe_tensors) = synthetic(dir.path(), "moe.bin", Family::Moe, 64_000_000);
    let mut g = c.benchmark_group("scan");
    g.sample_size(50);
    bench_file(&mut g, "synthetic GPT-2 torch.save", &gpt2);
    bench_file(
        &mut g,
        &format!("synthetic MoE torch.save, {} tensors", moe_tensors.len()),
        &moe,
    );

    // the pickle walk alone, on the same pickle the MoE archive holds
    let named: Vec<(String, Vec<u64>)> = moe_tensors.iter().map(|t| (t.name.clone(), t.shape.clone())).collect();
    let pickle = state_dict_pickle(&named);
    let walked = walk_stream(&pickle, Mode::Strict);
    assert!(walked.errors.is_empty(), "{:?}", walked.errors);
    assert_eq!(walked.pickles.len(), 1);
    assert!(walked.pickles[0].complete);
    g.bench_function(
        format!(
            "walk_stream MoE data.pkl ({} tensors, {} KB)",
            named.len(),
            pickle.len() / 1000
        ),
        |b| b.iter(|| black_box(walk_stream(black_box(&pickle), Mode::Strict))),
    );

    let real = std::env::var_os("TENSORSCOPE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/tmp/ck/model.bin".into());
    if real.exists() {
        bench_file(&mut g, &real.display().to_string(), &real);
    } else {
        eprintln!(
            "scan bench: {} not found (set TENSORSCOPE_BENCH_BIN): measuring the synthetic files only",
            real.display()
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
