//! `tensorscope fit` end to end on the fixtures of scripts/make_fit_fixtures.py (tests/data/fit):
//! each architecture as safetensors + config.json and as GGUF, KV figures equal to the formula to the
//! byte, plans that never exceed a budget, and refusals that exit 2.

mod common;

use common::fit::{GIB, data, fit, u};
use common::{assert_clean_error, hub, run, write};
use serde_json::Value;

/// Sum of the tensor bytes `inspect --json` lists.
fn tensor_bytes(path: &str) -> u64 {
    let r = run(&["inspect", path, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["bytes"].as_u64().unwrap())
        .sum()
}

/// Every GPU holds no more than its budget; the host (which takes the rest) only when it fits.
fn within_budgets(v: &Value) {
    for d in v["devices"].as_array().unwrap() {
        let (b, used) = (u(d, "budget_bytes"), u(d, "bytes"));
        if d["name"] != "host" || v["fits"] == true {
            assert!(b > 0 || used == 0, "{} holds {used} without a budget", d["name"]);
            assert!(used <= b, "{} holds {used} > budget {b}", d["name"]);
        }
    }
}

fn both(name: &str) -> [String; 2] {
    [data(name), data(&format!("{name}.gguf"))]
}

#[test]
fn llama4_weights_and_kv_equal_the_formula_in_both_formats() {
    let (layers, kv_heads, head_dim, ctx) = (4u64, 2u64, 16u64, 4096u64);
    let mut weights = Vec::new();
    for p in both("llama4") {
        let v = fit(&p, &["--ctx", "4096", "--device", "24GiB"]);
        assert_eq!(u(&v, "weights_bytes"), tensor_bytes(&p), "{p}");
        assert_eq!(
            u(&v, "kv_cache_bytes"),
            2 * layers * kv_heads * head_dim * ctx * 2,
            "{p}"
        );
        assert_eq!(u(&v, "context"), 4096);
        assert_eq!(v["kv_type"], "f16");
        assert_eq!(
            u(&v, "total_bytes"),
            u(&v, "weights_bytes") + u(&v, "kv_cache_bytes") + u(&v, "compute_bytes")
        );
        let per_layer: Vec<u64> = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| u(l, "kv_bytes"))
            .collect();
        assert_eq!(per_layer, vec![2 * kv_heads * head_dim * ctx * 2; 4]);
        let layer_sum: u64 = v["layers"].as_array().unwrap().iter().map(|l| u(l, "bytes")).sum();
        assert_eq!(layer_sum + u(&v, "non_layer_bytes"), u(&v, "weights_bytes"));
        assert_eq!(v["fits"], true);
        weights.push(u(&v, "weights_bytes"));

        // --batch multiplies, q8_0 is 34 bytes per 32 values
        let b = fit(&p, &["--ctx", "4096", "--batch", "3", "--device", "24GiB"]);
        assert_eq!(u(&b, "kv_cache_bytes"), 3 * 2 * layers * kv_heads * head_dim * ctx * 2);
        assert!(b["llama_cpp_flags"].as_str().unwrap().contains("-c 12288 -np 3"));
        let q = fit(&p, &["--ctx", "4096", "--kv-type", "q8_0", "--device", "24GiB"]);
        assert_eq!(
            u(&q, "kv_cache_bytes"),
            2 * layers * (kv_heads * head_dim / 32 * 34) * ctx
        );
        assert!(q["llama_cpp_flags"].as_str().unwrap().contains("-ctk q8_0 -ctv q8_0"));
        let q4 = fit(&p, &["--ctx", "4096", "--kv-type", "q4_0", "--device", "24GiB"]);
        assert_eq!(
            u(&q4, "kv_cache_bytes"),
            2 * layers * (kv_heads * head_dim / 32 * 18) * ctx
        );
        let f32 = fit(&p, &["--ctx", "4096", "--kv-type", "f32", "--device", "24GiB"]);
        assert_eq!(u(&f32, "kv_cache_bytes"), 2 * u(&v, "kv_cache_bytes"));
    }
    assert_eq!(weights[0], weights[1], "safetensors and GGUF hold the same bytes");
}

#[test]
fn sliding_layers_cache_the_window_and_a_ubatch() {
    let row = 2 * 2 * 16 * 2; // K and V, 2 kv heads x 16, f16
    // llama.cpp: GGML_PAD(min(ctx, window + 512), 256) cells for a sliding layer of window 1024
    for (ctx, swa) in [(512u64, 512u64), (1024, 1024), (4096, 1536)] {
        let v = fit(&data("llama4-swa"), &["--ctx", &ctx.to_string(), "--device", "24GiB"]);
        assert_eq!(u(&v, "kv_cache_bytes"), 2 * row * ctx + 2 * row * swa, "ctx {ctx}");
        assert_eq!(u(&v["layers"][0], "kv_bytes"), row * swa);
        assert_eq!(u(&v["layers"][1], "kv_bytes"), row * ctx);
    }
}

#[test]
fn two_devices_of_half_the_weights_do_not_fit_and_stay_within_budget() {
    for p in both("llama4") {
        let w = u(&fit(&p, &["--ctx", "4096", "--device", "24GiB"]), "weights_bytes");
        let half = (w / 2).to_string();
        let v = fit(&p, &["--ctx", "4096", "--device", &half, "--device", &half]);
        assert_eq!(v["fits"], false, "{p}");
        within_budgets(&v);
        let host = v["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "host")
            .unwrap();
        assert!(u(host, "bytes") > 0);
        // a host budget large enough makes it fit
        let v = fit(
            &p,
            &[
                "--ctx",
                "4096",
                "--device",
                &half,
                "--device",
                &half,
                "--device",
                "host:64GiB",
            ],
        );
        assert_eq!(v["fits"], true);
        within_budgets(&v);
    }
}

#[test]
fn llama3_8b_f16_kv_at_8192_tokens_is_one_gib() {
    for p in both("llama3-8b") {
        let v = fit(&p, &["--ctx", "8192", "--device", "80GB"]);
        assert_eq!(u(&v, "kv_cache_bytes"), GIB, "{p}");
        assert_eq!(v["layers"].as_array().unwrap().len(), 32);
        assert_eq!(u(&v, "max_context"), 8192, "the model's own limit");
        assert!(
            v["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().starts_with("GQA: 2 x 8 kv heads x 128"))
        );
    }
}

#[test]
fn qwen25_72b_is_gqa_on_every_layer() {
    for p in both("qwen2.5-72b") {
        let v = fit(&p, &["--ctx", "32768", "--device", "80GB"]);
        assert_eq!(u(&v, "kv_cache_bytes"), 2 * 80 * 8 * 128 * 32768 * 2, "{p}");
    }
}

#[test]
fn gemma3_slides_five_layers_in_six() {
    let row = 2 * 16 * 128 * 2;
    for p in both("gemma3-27b") {
        // llama.cpp's cells: the context padded to 256; a sliding layer (window 1024)
        // GGML_PAD(min(that, 1024 + 512), 256). At 8192: 1,325,400,064 bytes (min(ctx, 1024) said 1,107,296,256)
        for (ctx, cells, swa) in [(1000u64, 1024u64, 1024u64), (8192, 8192, 1536), (131072, 131072, 1536)] {
            let v = fit(&p, &["--ctx", &ctx.to_string(), "--device", "80GB"]);
            assert_eq!(
                u(&v, "kv_cache_bytes"),
                10 * row * cells + 52 * row * swa,
                "{p} ctx {ctx}"
            );
            assert_eq!(u(&v["layers"][5], "kv_bytes"), row * cells);
            assert_eq!(u(&v["layers"][4], "kv_bytes"), row * swa);
        }
        assert_eq!(
            u(&fit(&p, &["--ctx", "8192", "--device", "80GB"]), "kv_cache_bytes"),
            1_325_400_064
        );
    }
    // the vision tower's numbered layers are not language layers
    let v = fit(&data("gemma3-27b"), &["--device", "80GB"]);
    assert_eq!(v["layers"].as_array().unwrap().len(), 62);
}

#[test]
fn deepseek_v3_caches_the_mla_latent_and_keeps_experts_on_the_host() {
    for p in both("deepseek-v3") {
        let v = fit(&p, &["--ctx", "4096", "--device", "80GB"]);
        assert_eq!(u(&v, "kv_cache_bytes"), 61 * (512 + 64) * 4096 * 2, "{p}");
        assert_eq!(v["layers"].as_array().unwrap().len(), 61);
        // a GPU just too small for everything: every layer on it, some experts on the host
        let need = u(&v, "weights_bytes") + u(&v, "kv_cache_bytes") + u(&v, "compute_bytes");
        let gpu = (need * 100 / 95 - 1000).to_string();
        let v = fit(&p, &["--ctx", "4096", "--device", &gpu, "--device", "host:64GiB"]);
        within_budgets(&v);
        assert_eq!(v["fits"], true, "{p}");
        let flags = v["llama_cpp_flags"].as_str().unwrap();
        assert!(flags.starts_with("-ngl 62 "), "{flags}");
        assert!(flags.contains("-ot \"blk\\.(3"), "{flags}");
        assert_eq!(v["layers"][3]["experts_device"], "host");
        assert_eq!(v["layers"][3]["device"], "gpu0");
    }
}

#[test]
fn qwen3_next_counts_the_recurrent_state_once_per_sequence() {
    let state = (32 * 128 * 128 + 3 * (2 * 16 * 128 + 32 * 128)) * 4;
    for p in both("qwen3-next") {
        for (ctx, batch) in [(4096u64, 1u64), (65536, 2)] {
            let v = fit(
                &p,
                &[
                    "--ctx",
                    &ctx.to_string(),
                    "--batch",
                    &batch.to_string(),
                    "--device",
                    "80GB",
                ],
            );
            let full = 12 * 2 * 2 * 256 * ctx * 2;
            assert_eq!(u(&v, "kv_cache_bytes"), batch * (full + 36 * state), "{p}");
            assert_eq!(u(&v["layers"][0], "kv_bytes"), batch * state);
        }
    }
}

#[test]
fn bert_has_no_kv_cache() {
    for p in both("bert-base") {
        let v = fit(&p, &["--ctx", "512", "--device", "8GB"]);
        assert_eq!(u(&v, "kv_cache_bytes"), 0, "{p}");
        assert!(
            v["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().contains("encoder-only"))
        );
    }
}

#[test]
fn json_follows_the_contract() {
    let v = fit(&data("llama4"), &["--device", "24GiB"]);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let contract = [
        "context",
        "batch",
        "kv_type",
        "weights_bytes",
        "kv_cache_bytes",
        "compute_bytes",
        "total_bytes",
        "fits",
        "max_context",
        "layers",
        "devices",
        "llama_cpp_flags",
        "rules",
    ];
    assert_eq!(&keys[..contract.len()], contract);
    for l in v["layers"].as_array().unwrap() {
        for k in ["index", "bytes", "kv_bytes", "device"] {
            assert!(l.get(k).is_some(), "{k}");
        }
    }
    let d = &v["devices"][0];
    assert_eq!(d["name"], "gpu0");
    assert_eq!(u(d, "budget_bytes"), 24 * GIB);
    assert_eq!(d["layers"], serde_json::json!([0, 3]));
    assert!(
        v["vllm"]["flags"]
            .as_str()
            .unwrap()
            .starts_with("--max-model-len 8192 ")
    );
    assert!(fit(&data("llama4.gguf"), &["--device", "24GiB"]).get("vllm").is_none());
}

#[test]
fn plans_never_exceed_a_budget_and_max_context_is_the_edge() {
    for p in [
        data("llama3-8b"),
        data("gemma3-27b.gguf"),
        data("deepseek-v3"),
        data("qwen3-next"),
    ] {
        for budgets in [
            &["1GB"][..],
            &["3GB", "2GB"],
            &["500MB", "host:1GB"],
            &["100MB", "100MB", "100MB"],
        ] {
            let mut args = vec!["--ctx", "8192"];
            for b in budgets {
                args.extend(["--device", b]);
            }
            let v = fit(&p, &args);
            within_budgets(&v);
            let max = u(&v, "max_context");
            if max > 0 {
                let m = max.to_string();
                let mut at = args.clone();
                at[1] = &m;
                assert_eq!(fit(&p, &at)["fits"], true, "{p} {budgets:?} at {max}");
                if Some(max) != v["model_max_context"].as_u64() {
                    let m1 = (max + 1).to_string();
                    at[1] = &m1;
                    assert_eq!(fit(&p, &at)["fits"], false, "{p} {budgets:?} at {max}+1");
                }
            }
        }
    }
}

#[test]
fn refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let st = std::fs::read(data("llama4/model.safetensors")).unwrap();
    let cases = [
        (
            "mamba",
            r#"{"model_type":"mamba","num_hidden_layers":4,"hidden_size":64,"num_attention_heads":4}"#,
        ),
        (
            "odd-layer-type",
            r#"{"model_type":"llama","num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"layer_types":["full_attention","mystery"]}"#,
        ),
        (
            "window-without-pattern",
            r#"{"model_type":"newthing","num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"sliding_window":512}"#,
        ),
        (
            "no-heads",
            r#"{"model_type":"llama","num_hidden_layers":2,"hidden_size":64}"#,
        ),
        (
            "hybrid",
            r#"{"model_type":"x","num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"hybrid_override_pattern":"M*"}"#,
        ),
    ];
    for (name, cfg) in cases {
        write(dir.path(), &format!("{name}/config.json"), cfg.as_bytes());
        write(dir.path(), &format!("{name}/model.safetensors"), &st);
        let p = dir.path().join(name);
        let r = run(&["fit", p.to_str().unwrap(), "--device", "24GiB"]);
        assert_clean_error(&r, name);
        assert!(r.stderr.contains("cannot plan"), "{name}: {}", r.stderr);
    }
    // no config.json at all
    write(dir.path(), "bare/model.safetensors", &st);
    let r = run(&["fit", dir.path().join("bare").to_str().unwrap(), "--device", "24GiB"]);
    assert_clean_error(&r, "bare");
    assert!(r.stderr.contains("config.json"), "{}", r.stderr);
    let r = run(&["fit", &data("llama4"), "--device", "lots"]);
    assert_clean_error(&r, "bad size");
    let r = run(&["fit", &data("llama4"), "--kv-type", "q5_1"]);
    assert_eq!(r.code, 2);
}

#[test]
fn human_output_names_the_plan() {
    let r = run(&[
        "fit",
        &data("llama3-8b"),
        "--ctx",
        "8192",
        "--device",
        "24GiB",
        "--device",
        "24GiB",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "KV cache",
        "1.1 GB",
        "fits: yes",
        "llama.cpp: -ngl 33 -c 8192 --tensor-split",
        "vLLM: --max-model-len",
        "GQA",
    ] {
        assert!(r.stdout.contains(want), "{want} in {}", r.stdout);
    }
}

/// `fit --probe` allocates the planned bytes on the adapter (lavapipe on CI: host memory) and
/// reports predicted against allocated; without an adapter it says so (and fails under
/// `TENSORSCOPE_REQUIRE_ALL=1`).
#[test]
fn probe_reports_predicted_against_allocated_or_says_why_not() {
    let r = run(&["fit", &data("llama4"), "--device", "1GB", "--probe", "--json"]);
    if r.code == 0 {
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let d = &v["probe"]["devices"][0];
        assert_eq!(u(d, "predicted_bytes"), u(&v["devices"][0], "bytes"));
        let error = d["error_percent"].as_f64().expect("an error figure");
        assert!(
            error.abs() < 5.0,
            "allocated differs from predicted by {error}%: {}",
            r.stdout
        );
    } else {
        assert_clean_error(&r, "probe");
        assert!(
            r.stderr.contains("no GPU adapter") || r.stderr.contains("without the `gpu` feature"),
            "{}",
            r.stderr
        );
        common::skip(&format!("fit --probe: {}", r.stderr.trim()));
    }
}

#[test]
fn remote_paths_read_only_the_config_and_headers() {
    let hub = hub::Hub::start();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let env = [
        ("HF_ENDPOINT", hub.endpoint.as_str()),
        ("XDG_CACHE_HOME", c),
        ("HOME", c),
        ("TENSORSCOPE_HTTP_TIMEOUT", "10"),
    ];
    for (remote, local) in [("hf://tiny/sharded", "sharded"), ("hf://tiny/gguf", "tiny.gguf")] {
        hub.stats.reset();
        let r = common::run_env(&["fit", remote, "--json", "--device", "1GB"], &env);
        assert_eq!(r.code, 0, "{remote}: {}", r.stderr);
        let far: Value = serde_json::from_str(&r.stdout).unwrap();
        let near = fit(&common::sample(local), &["--device", "1GB"]);
        for k in ["weights_bytes", "kv_cache_bytes", "compute_bytes", "max_context"] {
            assert_eq!(far[k], near[k], "{remote} {k}");
        }
        let read = hub.stats.cdn_bytes();
        assert!(read < 64 * 1024, "{remote}: {read} bytes fetched");
        assert!(read < u(&near, "weights_bytes") / 4, "{remote}: {read} bytes fetched");
    }
}
