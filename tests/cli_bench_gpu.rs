//! `tensorscope bench --gpu`: real wgpu uploads on whatever adapter the machine has (lavapipe, the
//! software Vulkan driver, in CI). Without an adapter the upload test says why it skipped; the
//! no-adapter error is tested everywhere by hiding every Vulkan driver from the loader.

mod common;

use serde_json::Value;

/// Why GPU tests cannot run here, or `None` when an adapter exists.
fn no_gpu() -> Option<String> {
    match tensorscope::bench::gpu::probe() {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

#[test]
fn synthetic_pair_uploads_and_reads_back_the_same_bytes() {
    if let Some(why) = no_gpu() {
        common::skip(&why);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let r = common::run(&[
        "bench",
        "--synthetic",
        "3MB",
        "--shape",
        "lora",
        "--runs",
        "2",
        "--gpu",
        "--report",
        json.to_str().unwrap(),
        "--report",
        md.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "nothing on stderr: {}", r.stderr);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(!v["system"]["gpu"].as_array().unwrap().is_empty(), "adapters listed");
    let rows: Vec<&Value> = v["results"].as_array().unwrap().iter().collect();
    let gpu: Vec<&str> = rows
        .iter()
        .filter(|r| r["device"] == "gpu")
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        gpu,
        [
            "safetensors-mmap",
            "safetensors-read",
            "safetensors-lazy-one",
            "pickle-eager",
            "pickle-mmap"
        ]
    );
    // every whole GPU load read back equal to the CPU's touched rows
    let cpu_sum = rows
        .iter()
        .find(|r| r["device"] == "cpu" && r["method"] == "pickle-eager" && r["touched"] == true)
        .unwrap()["checksum"]
        .clone();
    for r in rows
        .iter()
        .filter(|r| r["device"] == "gpu" && r["method"] != "safetensors-lazy-one")
    {
        assert_eq!(r["checksum"], cpu_sum, "{}", r["method"]);
        assert_eq!(r["touched"], false);
        assert!(r["median_s"].as_f64().unwrap() > 0.0);
    }
    let speedups = v["speedups"].as_array().unwrap();
    assert!(
        speedups
            .iter()
            .any(|s| s["device"] == "gpu" && s["method"] == "safetensors-mmap" && s["baseline"] == "pickle-eager")
    );
    let caveats = v["caveats"].to_string();
    assert!(caveats.contains("read back after its runs: 4 row(s)"), "{caveats}");
    // the ring by default, each row against the ring's own rate measured in the same run
    let ceiling = v["ceilings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gpu-ring")
        .unwrap()["gbps"]
        .as_f64()
        .unwrap();
    assert!(ceiling > 0.0);
    for r in rows
        .iter()
        .filter(|r| r["device"] == "gpu" && r["method"] != "safetensors-lazy-one")
    {
        assert_eq!(r["upload"], "ring");
        assert_eq!(r["ceiling"], "gpu-ring");
        assert!(r["percent_of_ceiling"].as_f64().unwrap() > 0.0);
    }
    assert!(
        v["headline"]
            .to_string()
            .contains("gpu (ring upload), warm: safetensors-mmap loads")
    );
    assert!(r.stdout.contains("safetensors-mmap to gpu"), "{}", r.stdout);
    assert!(std::fs::read_to_string(&md).unwrap().contains("to gpu"));
}

#[test]
fn write_buffer_stays_selectable() {
    if let Some(why) = no_gpu() {
        common::skip(&why);
        return;
    }
    let r = common::run(&[
        "bench",
        "--synthetic",
        "1MB",
        "--runs",
        "1",
        "--gpu",
        "--upload",
        "write-buffer",
        "--method",
        "safetensors-mmap",
        "--in-process",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("safetensors-mmap to gpu via write-buffer"),
        "{}",
        r.stdout
    );
    // the ceiling is the ring's, whichever path the rows took
    assert!(r.stdout.contains("of the gpu-ring ceiling"), "{}", r.stdout);
    assert!(!r.stdout.contains("gpu-write-buffer"), "{}", r.stdout);
    let r = common::run(&["bench", "--synthetic", "1MB", "--upload", "carrier-pigeon"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn no_adapter_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let r = common::run_env(
        &[
            "bench",
            "--synthetic",
            "1MB",
            "--gpu",
            "--report",
            report.to_str().unwrap(),
        ],
        &[
            ("VK_ICD_FILENAMES", "/nonexistent/icd.json"),
            ("VK_DRIVER_FILES", "/nonexistent/icd.json"),
            ("WGPU_BACKEND", "vulkan"),
        ],
    );
    common::assert_clean_error(&r, "no GPU adapter");
    assert!(
        r.stderr.contains("no GPU adapter") || r.stderr.contains("without the `gpu` feature"),
        "{}",
        r.stderr
    );
    assert!(!report.exists(), "no report without a run");
}
