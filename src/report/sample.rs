//! A small hand-made report for the format tests.

use super::*;

fn row(method: &str, touched: bool, median: f64) -> BenchResult {
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
        gbps: 0.5 / median,
        peak_rss_bytes: Some(600_000_000),
        rank: None,
        ranks: None,
        cache_dropped: None,
        checksum: touched.then(|| "0x1234".into()),
        samples_s: vec![median * 0.9, median, median * 1.1],
        memory: (method == "pickle-eager").then(|| "fresh".into()),
        upload: None,
        ceiling: (method == "pickle-eager").then(|| "memcpy-fresh".into()),
        percent_of_ceiling: (method == "pickle-eager").then_some(50.0),
        major_faults: Some(0),
        note: None,
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
            "cpu, touched, warm: safetensors-mmap loads 3.0x faster than pickle-eager (fresh memory)".into(),
        ],
        ceilings: vec![
            Ceiling {
                name: "memcpy-pretouched".into(),
                device: "cpu".into(),
                gbps: 10.0,
                what: "memcpy from warm memory into pre-touched memory".into(),
            },
            Ceiling {
                name: "memcpy-fresh".into(),
                device: "cpu".into(),
                gbps: 1.0,
                what: "memcpy from warm memory into fresh memory".into(),
            },
            Ceiling {
                name: "memory-read".into(),
                device: "cpu".into(),
                gbps: 20.0,
                what: "read every byte of warm memory on 2 threads".into(),
            },
        ],
    }
}
