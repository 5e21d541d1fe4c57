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
    assert!(caveats.contains("read back after its runs: 4 rows"), "{caveats}");
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
    // which is faster is the machine's to say (a busy one overlaps the two, and the headline says
    // so): the sentence is about the GPU rows and the safetensors map
    let headline = v["headline"].to_string();
    assert!(
        [
            "gpu (ring upload), warm: safetensors-mmap loads",
            "gpu (ring upload), warm: no measurable difference between safetensors-mmap"
        ]
        .iter()
        .any(|h| headline.contains(h)),
        "{headline}"
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

/// `--verbose` and the JSON say where each ring row's time went: every part present and not
/// negative, the host-side parts within the upload, the upload within the run; write-buffer rows
/// have no split. A bad tuning variable is one clear error.
#[test]
fn ring_rows_carry_the_time_split() {
    if let Some(why) = no_gpu() {
        common::skip(&why);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let r = common::run(&[
        "bench",
        "--synthetic",
        "12MB",
        "--runs",
        "2",
        "--gpu",
        "--no-twin",
        "--method",
        "safetensors-mmap",
        "--method",
        "pickle-eager",
        "--verbose",
        "--report",
        json.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("where each GPU row's time went"), "{}", r.stdout);
    assert!(
        r.stdout.contains("safetensors-mmap to gpu (warm): upload "),
        "{}",
        r.stdout
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let gpu: Vec<&Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["device"] == "gpu")
        .collect();
    assert_eq!(gpu.len(), 2);
    for row in gpu {
        let s = &row["gpu_split"];
        let f = |k: &str| {
            let x = s[k].as_f64().unwrap_or_else(|| panic!("{k} missing in {s}"));
            assert!(x >= 0.0 && x.is_finite(), "{k} = {x}");
            x
        };
        let host = f("fill_s") + f("map_s") + f("submit_s") + f("wait_s") + f("sync_s");
        let (upload, run) = (f("upload_s"), f("run_s"));
        let tol = 1e-3;
        assert!(host <= upload * 1.01 + tol, "{host} > {upload}: {s}");
        assert!(upload <= run * 1.01 + tol, "{upload} > {run}: {s}");
        assert!(upload > 0.0 && f("fill_s") > 0.0, "{s}");
        f("copy_s");
        assert!(["timestamps", "submit-to-mapped"].contains(&s["copy_from"].as_str().unwrap()));
        assert!(s["fill_threads"].as_u64().unwrap() >= 1);
        assert!(s["slots"].as_u64().unwrap() >= 1);
        assert!(s["ring_slots"].as_u64().unwrap() >= 2);
        // the mean run of the split is one of the row's runs' scale
        let median = row["median_s"].as_f64().unwrap();
        assert!(
            run <= row["max_s"].as_f64().unwrap() * 1.01 + tol && run > 0.0,
            "{run} vs {median}"
        );
    }

    let r = common::run(&[
        "bench",
        "--synthetic",
        "1MB",
        "--runs",
        "1",
        "--gpu",
        "--no-twin",
        "--upload",
        "write-buffer",
        "--method",
        "safetensors-mmap",
        "--in-process",
        "--report",
        json.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for row in v["results"].as_array().unwrap() {
        assert!(row["gpu_split"].is_null(), "{row}");
    }

    let r = common::run_env(
        &["bench", "--synthetic", "1MB", "--runs", "1", "--gpu", "--in-process"],
        &[("TENSORSCOPE_RING_SLOTS", "1")],
    );
    common::assert_clean_error(&r, "TENSORSCOPE_RING_SLOTS");
    // each within its limit, together 64 GiB of staging memory: refused before anything is mapped
    let r = common::run_env(
        &["bench", "--synthetic", "1MB", "--runs", "1", "--gpu", "--in-process"],
        &[("TENSORSCOPE_RING_SLOTS", "64"), ("TENSORSCOPE_RING_SLOT", "1GiB")],
    );
    common::assert_clean_error(&r, "staging memory");
    assert!(r.stderr.contains("staging memory"), "{}", r.stderr);
}
