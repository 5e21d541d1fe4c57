//! A small hand-made report for the format tests.

use super::*;

/// The ceilings of the sample: every row's `% of ceiling` is derived from them.
fn ceilings() -> Vec<Ceiling> {
    vec![
        Ceiling {
            name: "memcpy-pretouched".into(),
            device: "cpu".into(),
            gbps: 10.0,
            what: "memcpy from warm memory into pre-touched memory".into(),
        },
        Ceiling {
            name: "memcpy-fresh".into(),
            device: "cpu".into(),
            gbps: 6.0,
            what: "memcpy from warm memory into fresh memory".into(),
        },
        Ceiling {
            name: "memory-read".into(),
            device: "cpu".into(),
            gbps: 20.0,
            what: "read every byte of warm memory on 2 threads".into(),
        },
    ]
}

fn row(method: &str, touched: bool, median: f64) -> BenchResult {
    let eager = method == "pickle-eager";
    // the bench's rules: views read nothing until touched; eager loads copy into fresh memory
    let reads = eager || touched;
    let ceiling = match (eager, touched) {
        (true, _) => Some("memcpy-fresh"),
        (false, true) => Some("memory-read"),
        (false, false) => None,
    };
    let gbps = reads.then_some(0.5 / median);
    let percent = ceiling.and_then(|c| {
        let c = ceilings().into_iter().find(|x| x.name == c)?;
        Some(gbps? / c.gbps * 100.0)
    });
    BenchResult {
        checkpoint: "/tmp/m.safetensors".into(),
        method: method.into(),
        device: "cpu".into(),
        cache: "warm".into(),
        touched,
        runs: 3,
        median_s: median,
        min_s: median * 0.9,
        max_s: median * 1.1,
        bytes: 500_000_000,
        gbps,
        peak_rss_bytes: Some(600_000_000),
        rank: None,
        ranks: None,
        cache_dropped: None,
        checksum: touched.then(|| "0x1234".into()),
        samples_s: vec![median * 0.9, median, median * 1.1],
        memory: eager.then(|| "fresh".into()),
        upload: None,
        ceiling: ceiling.map(Into::into),
        percent_of_ceiling: percent,
        major_faults: Some(0),
        note: None,
        gpu_split: None,
    }
}

/// A fixed report: two methods, untouched and touched, with speedups and one caveat.
pub fn report() -> Report {
    let results = vec![
        row("safetensors-mmap", false, 0.0002),
        row("safetensors-mmap", true, 0.05),
        row("pickle-eager", false, 0.1),
        row("pickle-eager", true, 0.15),
    ];
    Report {
        tool: "tensorscope 0.1.0".into(),
        system: System {
            os: "Linux <test>".into(),
            kernel: "6.1".into(),
            cpu: "Test CPU".into(),
            cores: 2,
            memory_bytes: 8 << 30,
            available_memory_bytes: 4 << 30,
            gpu: Vec::new(),
            fresh_memory_gbps: 1.0,
            mapped_memory_gbps: 10.0,
        },
        config: RunConfig {
            runs: 3,
            warmup: 1,
            cold: false,
            ranks: 1,
            synthetic: Some("gpt2 500.0 MB".into()),
            isolated: true,
            touch_threads: 2,
            drop_cache_after: false,
        },
        checkpoints: vec![CheckpointFacts {
            path: "/tmp/m.safetensors".into(),
            format: "safetensors".into(),
            bytes: 500_000_100,
            tensors: 148,
            filesystem: Some("ext4".into()),
        }],
        results,
        speedups: vec![
            Speedup {
                checkpoint: "/tmp/m.safetensors".into(),
                device: "cpu".into(),
                cache: "warm".into(),
                touched: false,
                baseline: "pickle-eager".into(),
                method: "safetensors-mmap".into(),
                rank: None,
                ratio: 500.0,
                memory: None,
                baseline_memory: Some("fresh".into()),
            },
            Speedup {
                checkpoint: "/tmp/m.safetensors".into(),
                device: "cpu".into(),
                cache: "warm".into(),
                touched: true,
                baseline: "pickle-eager".into(),
                method: "safetensors-mmap".into(),
                rank: None,
                ratio: 3.0,
                memory: None,
                baseline_memory: Some("fresh".into()),
            },
        ],
        caveats: vec!["a <caveat> & more".into()],
        headline: vec![
            "cpu, touched, warm: safetensors-mmap loads 3.00 ± 0.63 times faster than pickle-eager (fresh memory, \
             as torch.load gets): 50.00 ms ± 7.41 ms against 150.00 ms ± 22.24 ms (10.00 GB/s, 50% of the \
             memory-read ceiling)"
                .into(),
        ],
        ceilings: ceilings(),
    }
}
