//! `hf://` and `http(s)://` paths against a local stand-in for the Hub (tests/common/hub.rs):
//! what is printed matches the local samples, and the bytes and requests it cost are counted.

mod common;

use common::hub::{self, Hub};
use serde_json::Value;

struct Env {
    hub: Hub,
    cache: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            hub: Hub::start(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> common::Run {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> common::Run {
        let cache = self.cache.path().to_str().unwrap();
        let mut env = vec![
            ("HF_ENDPOINT", self.hub.endpoint.as_str()),
            ("XDG_CACHE_HOME", cache),
            ("HOME", cache),
            ("HF_TOKEN", "hf_secret_token"),
            ("TENSORSCOPE_HTTP_TIMEOUT", "10"),
        ];
        env.extend_from_slice(extra);
        common::run_env(args, &env)
    }
}

fn json(r: &common::Run) -> Value {
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// (name, dtype, shape) of every tensor, sorted.
fn tensors(v: &Value) -> Vec<(String, String, String)> {
    let mut t: Vec<_> = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].to_string(), t["dtype"].to_string(), t["shape"].to_string()))
        .collect();
    t.sort();
    t
}

fn local(path: &str) -> Value {
    json(&common::run(&["inspect", &common::sample(path), "--json"]))
}

#[test]
fn sharded_inspect_reads_only_headers_keeps_the_token_home_and_caches_by_commit() {
    let env = Env::new();
    env.hub
        .stats
        .throttle_once
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let v = json(&env.run(&["inspect", "hf://tiny/sharded", "--json"]));
    assert_eq!(tensors(&v), tensors(&local("sharded")));
    assert_eq!(v["format"], "safetensors-sharded");
    let r = &v["remote"];
    assert_eq!(r["commit"], hub::COMMIT);
    assert_eq!(r["revision"], "main");
    assert_eq!(r["files"].as_array().unwrap().len(), 4);
    let total: u64 = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(r["repository_bytes"].as_u64().unwrap(), total);
    // the 690 kB of shards cost their two headers and the index: under 5 kB
    let sent = env.hub.stats.cdn_bytes();
    assert!(sent < 5_000, "fetched {sent} bytes");
    // the 429 was retried; the token went to the Hub but never to the host the files redirect to
    assert!(
        env.hub
            .stats
            .api_auth
            .lock()
            .unwrap()
            .iter()
            .all(|a| a == "Bearer hf_secret_token")
    );
    assert!(!env.hub.stats.api_auth.lock().unwrap().is_empty());
    assert!(
        env.hub.stats.cdn_auth.lock().unwrap().is_empty(),
        "token leaked to the redirect target"
    );

    // a second run: one API call (the revision), nothing else
    env.hub.stats.reset();
    let again = json(&env.run(&["inspect", "hf://tiny/sharded", "--json"]));
    assert_eq!(tensors(&again), tensors(&v));
    assert_eq!(env.hub.stats.requests(), 1, "{:?}", env.hub.stats.log.lock().unwrap());
    assert_eq!(
        again["remote"]["fetched_bytes"].as_u64().unwrap(),
        env.hub.stats.api_bytes.load(std::sync::atomic::Ordering::SeqCst)
    );

    // --offline: no request at all
    env.hub.stats.reset();
    let off = json(&env.run(&["inspect", "--offline", "hf://tiny/sharded", "--json"]));
    assert_eq!(tensors(&off), tensors(&v));
    assert_eq!(env.hub.stats.requests(), 0);
    // a commit pinned by hash is found offline too
    let pinned = json(&env.run(&[
        "inspect",
        "--offline",
        &format!("hf://tiny/sharded@{}", hub::COMMIT),
        "--json",
    ]));
    assert_eq!(tensors(&pinned), tensors(&v));
    assert_eq!(env.hub.stats.requests(), 0);
    // and what is not cached is a clean error
    let miss = env.run(&["inspect", "--offline", "hf://tiny/single"]);
    assert_eq!(miss.code, 2);
    assert!(
        miss.stderr.starts_with("error: ") && miss.stderr.contains("cache"),
        "{}",
        miss.stderr
    );
    assert_eq!(env.hub.stats.requests(), 0);
}

#[test]
fn single_zip_legacy_and_diffusers_match_the_local_samples_from_headers_and_pickles() {
    let env = Env::new();
    for (repo, sample, fmt, budget) in [
        ("tiny/single", "gpt2-tiny.safetensors", "folder", 3_000),
        (
            "tiny/single/model.safetensors",
            "gpt2-tiny.safetensors",
            "safetensors",
            3_000,
        ),
        ("tiny/zip/pytorch_model.bin", "gpt2-tiny.bin", "pytorch-zip", 20_000),
        (
            "tiny/legacy/pytorch_model.bin",
            "gpt2-tiny-legacy.bin",
            "pytorch-legacy",
            20_000,
        ),
        ("tiny/diffusers", "diffusers-tiny", "diffusers", 40_000),
        ("tiny/gguf/tiny.gguf", "tiny.gguf", "gguf", 20_000),
    ] {
        env.hub.stats.reset();
        let v = json(&env.run(&["inspect", &format!("hf://{repo}"), "--json"]));
        assert_eq!(v["format"], fmt, "{repo}");
        assert_eq!(tensors(&v), tensors(&local(sample)), "{repo}");
        let sent = env.hub.stats.cdn_bytes();
        assert!(sent < budget, "{repo}: fetched {sent} bytes");
        assert_eq!(
            v["remote"]["download_bytes"],
            local(sample)["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["bytes"].as_u64().unwrap())
                .sum::<u64>(),
            "{repo}"
        );
    }
    // a path inside the repository
    let v = json(&env.run(&["inspect", "hf://tiny/diffusers/unet", "--json"]));
    assert_eq!(tensors(&v), tensors(&local("diffusers-tiny/unet")));
    let human = env.run(&["inspect", "hf://tiny/single"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("remote      hf://tiny/single (revision main, commit 0123"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("model.safetensors"));
}

#[test]
fn show_fetches_only_the_values_shown() {
    let env = Env::new();
    json(&env.run(&["inspect", "hf://tiny/single", "--json"]));
    env.hub.stats.reset();
    let name = "h.0.attn.c_attn.weight";
    let remote = json(&env.run(&["show", "hf://tiny/single", name, "--limit", "4", "--json"]));
    assert_eq!(env.hub.stats.cdn_bytes(), 16, "4 F32 values");
    let mine = json(&common::run(&[
        "show",
        &common::sample("gpt2-tiny.safetensors"),
        name,
        "--limit",
        "4",
        "--json",
    ]));
    assert_eq!(remote["values"], mine["values"]);
    assert!(remote["stats"].is_null());
    // a strided slice: only the elements shown
    env.hub.stats.reset();
    let col = json(&env.run(&[
        "show",
        "hf://tiny/single",
        name,
        "--slice",
        ":,0",
        "--limit",
        "3",
        "--json",
    ]));
    let mine = json(&common::run(&[
        "show",
        &common::sample("gpt2-tiny.safetensors"),
        name,
        "--slice",
        ":,0",
        "--limit",
        "3",
        "--json",
    ]));
    assert_eq!(col["values"], mine["values"]);
    // elements 192 and 384 (element 0 was fetched by the first show)
    assert_eq!(env.hub.stats.cdn_bytes(), 8);
    // GGML blocks: the whole blocks the values fall in (a Q4_K block: 256 values in 144 bytes, IQ4_NL: 32 in 18)
    json(&env.run(&["inspect", "hf://tiny/gguf/tiny.gguf", "--json"]));
    for (name, limit, bytes) in [("blk.0.attn_q.weight", "4", 144), ("blk.0.ffn_down.weight", "40", 36)] {
        env.hub.stats.reset();
        let remote = json(&env.run(&["show", "hf://tiny/gguf/tiny.gguf", name, "--limit", limit, "--json"]));
        let mine = json(&common::run(&[
            "show",
            &common::sample("tiny.gguf"),
            name,
            "--limit",
            limit,
            "--json",
        ]));
        assert_eq!(remote["values"], mine["values"], "{name}");
        assert_eq!(env.hub.stats.cdn_bytes(), bytes, "{name}");
    }
}

#[test]
fn scan_from_afar_gives_the_local_verdicts() {
    let env = Env::new();
    let r = env.run(&["scan", "hf://tiny/evil", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    // the same verdicts and findings as the local files
    for (f, local) in files.iter().zip(["malicious.bin", "malicious.pkl"]) {
        let mine: Value =
            serde_json::from_str(&common::run(&["scan", &common::sample(local), "--json"]).stdout).unwrap();
        assert_eq!(f["path"], format!("hf://tiny/evil/{local}"));
        assert_eq!(f["verdict"], mine["files"][0]["verdict"], "{f}");
        assert_eq!(f["findings"], mine["files"][0]["findings"], "{f}");
    }
    assert_eq!(files[0]["verdict"], "dangerous");
    for repo in ["tiny/zip", "tiny/legacy", "tiny/sharded", "tiny/single"] {
        env.hub.stats.reset();
        let r = env.run(&["scan", &format!("hf://{repo}"), "--json"]);
        assert_eq!(r.code, 0, "{repo}: {} {}", r.stdout, r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(v["files"].as_array().unwrap().iter().all(|f| f["verdict"] == "safe"));
        assert!(
            env.hub.stats.cdn_bytes() < 40_000,
            "{repo}: {}",
            env.hub.stats.cdn_bytes()
        );
    }
    let sarif = env.run(&["scan", "hf://tiny/evil", "--format", "sarif"]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    assert!(
        sarif.stdout.contains("\"uri\": \"hf://tiny/evil/malicious.pkl\""),
        "{}",
        sarif.stdout
    );
}

#[test]
fn plain_urls_are_read_with_ranges_and_revalidated_with_one_request() {
    let env = Env::new();
    let url = format!("{}/files/gpt2-tiny.safetensors", env.hub.endpoint);
    let v = json(&env.run(&["inspect", &url, "--json"]));
    assert_eq!(tensors(&v), tensors(&local("gpt2-tiny.safetensors")));
    assert!(env.hub.stats.api_bytes.load(std::sync::atomic::Ordering::SeqCst) < 3_000);
    env.hub.stats.reset();
    json(&env.run(&["inspect", &url, "--json"]));
    assert_eq!(env.hub.stats.requests(), 1);
    let diff = env.run(&["diff", &url, &common::sample("gpt2-tiny.safetensors")]);
    assert_eq!(diff.code, 0, "{} {}", diff.stdout, diff.stderr);
}

fn fails_cleanly(r: &common::Run, what: &str) {
    assert_eq!(r.code, 2, "{what}: {} {}", r.stdout, r.stderr);
    assert!(r.stderr.starts_with("error: "), "{what}: {}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{what}: {}", r.stderr);
}

#[test]
fn hostile_servers_fail_cleanly_and_are_never_safe() {
    let env = Env::new();
    for (mode, says) in [
        ("norange", "range requests"),
        ("wrongrange", "asked for bytes"),
        ("size", "the listing said"),
        ("oversize", "more than"),
        ("slow", "within"),
    ] {
        let extra: &[(&str, &str)] = if mode == "slow" {
            &[("TENSORSCOPE_HTTP_TIMEOUT", "0.5")]
        } else {
            &[]
        };
        let r = env.run_with(&["inspect", &format!("hf://bad/{mode}")], extra);
        fails_cleanly(&r, mode);
        assert!(r.stderr.contains(says), "{mode}: {}", r.stderr);
        // a file that could not be read is an error (exit 2), never safe
        let s = env.run_with(&["scan", &format!("hf://bad/{mode}"), "--json"], extra);
        assert_eq!(s.code, 2, "{mode}: {} {}", s.stdout, s.stderr);
        let v: Value = serde_json::from_str(&s.stdout).unwrap();
        assert!(
            v["files"].as_array().unwrap().iter().all(|f| f["verdict"] != "safe"),
            "{mode}: {}",
            s.stdout
        );
    }
    // a connection dropped without an answer is retried
    let r = env.run(&["inspect", "hf://bad/dropfirst", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.hub.stats.dropped.load(std::sync::atomic::Ordering::SeqCst));
    let r = env.run_with(&["inspect", "hf://tiny/sharded"], &[("TENSORSCOPE_MAX_REQUESTS", "3")]);
    fails_cleanly(&r, "request limit");
    assert!(r.stderr.contains("HTTP request count"), "{}", r.stderr);
    let r = env.run_with(
        &["inspect", "hf://tiny/zip"],
        &[("TENSORSCOPE_MAX_FETCH_BYTES", "2000")],
    );
    fails_cleanly(&r, "byte limit");
    fails_cleanly(&env.run(&["inspect", "hf://no/such"]), "missing repo");
    fails_cleanly(&env.run(&["inspect", "hf://tiny/single/nothing.bin"]), "missing file");
    fails_cleanly(&env.run(&["inspect", "hf://bad name/x"]), "bad name");
    // bench times local files only: a sparse copy would time holes
    fails_cleanly(&env.run(&["bench", "hf://tiny/single", "--runs", "1"]), "bench");
}

#[test]
fn scanning_the_damaged_corpus_from_afar_gives_the_local_verdicts() {
    let env = Env::new();
    assert!(same_scans(&env, "tiny/corpus", "tests/data/bad") >= 30);
    assert!(same_scans(&env, "tiny/gguf-corpus", "tests/data/gguf") >= 7);
    // a gguf-split set from afar: the three shards' headers make one checkpoint
    let split = json(&env.run(&["inspect", "hf://tiny/gguf-corpus/split", "--json"]));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gguf/split");
    let mine = json(&common::run(&["inspect", dir.to_str().unwrap(), "--json"]));
    assert_eq!(tensors(&split), tensors(&mine));
    assert_eq!(split["format"], mine["format"]);
}

/// Scan `hf://REPO` and each local file of `local`; every verdict and finding must match. Returns
/// how many files were compared.
fn same_scans(env: &Env, repo: &str, local: &str) -> usize {
    let r = env.run(&["scan", &format!("hf://{repo}"), "--json"]);
    // 2 when a file is an error (a damaged header), as for local files
    assert!(
        (0..=2).contains(&r.code),
        "{repo}: exit {} {} {}",
        r.code,
        r.stderr,
        r.stdout
    );
    let remote: Value = serde_json::from_str(&r.stdout).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(local);
    let prefix = format!("hf://{repo}/");
    let mut checked = 0;
    for f in remote["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        let name = path.strip_prefix(prefix.as_str()).unwrap();
        let mine = common::run(&["scan", dir.join(name).to_str().unwrap(), "--json"]);
        let mine: Value = serde_json::from_str(&mine.stdout).unwrap();
        let mine = &mine["files"][0];
        assert_eq!(f["format"], mine["format"], "{name}");
        assert_eq!(f["verdict"], mine["verdict"], "{name}");
        // messages that name the file name it by its remote path
        let local_findings = mine["findings"]
            .to_string()
            .replace(dir.to_str().unwrap(), &format!("hf://{repo}"));
        assert_eq!(f["findings"].to_string(), local_findings, "{name}");
        checked += 1;
    }
    checked
}

#[test]
fn the_token_file_of_huggingface_hub_is_used_when_hf_token_is_unset() {
    let env = Env::new();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("token"), "hf_from_file\n").unwrap();
    let r = env.run_with(
        &["inspect", "hf://tiny/single"],
        &[("HF_TOKEN", ""), ("HF_HOME", home.path().to_str().unwrap())],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let seen = env.hub.stats.api_auth.lock().unwrap().clone();
    assert!(
        !seen.is_empty() && seen.iter().all(|a| a == "Bearer hf_from_file"),
        "{seen:?}"
    );
    assert!(env.hub.stats.cdn_auth.lock().unwrap().is_empty());
}

#[test]
fn large_files_of_no_known_format_are_probed_from_a_prefix_as_the_local_scan_probes_them() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut junk = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    // an HDF5-like file (what tf_model.h5 is): no pickle, left out of the report as locally
    let mut h5 = b"\x89HDF\r\n\x1a\n".to_vec();
    h5.extend(junk(3 << 20));
    std::fs::write(dir.path().join("tf_model.h5"), &h5).unwrap();
    // a renamed pickle in front of megabytes of junk: dangerous, as locally
    let mut evil = b"cposix\nsystem\n(S'echo pwned'\ntR.".to_vec();
    evil.extend(junk(2 << 20));
    std::fs::write(dir.path().join("weights.dat"), &evil).unwrap();
    let name = dir.path().file_name().unwrap().to_str().unwrap();
    let repo = format!("gen/{name}");
    let n = same_scans(&env, &repo, dir.path().to_str().unwrap());
    assert_eq!(n, 1, "only the pickle is reported");
    assert!(
        env.hub.stats.cdn_bytes() < 64 << 10,
        "{} bytes of 5 MB fetched",
        env.hub.stats.cdn_bytes()
    );
}
