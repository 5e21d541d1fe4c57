//! `verify LOCAL --against hf://ORG/NAME[@REV][/PATH]`: local files against the Hub's listing (LFS
//! sha256 and sizes, git blob ids of small files), through the stand-in Hub of tests/common/hub.rs.

mod common;

use std::path::Path;

use common::hub::Hub;
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
        let cache = self.cache.path().to_str().unwrap();
        common::run_env(
            args,
            &[
                ("HF_ENDPOINT", self.hub.endpoint.as_str()),
                ("XDG_CACHE_HOME", cache),
                ("HOME", cache),
                ("TENSORSCOPE_HTTP_TIMEOUT", "10"),
            ],
        )
    }
}

/// A copy of samples/sharded (what the stand-in Hub serves as tiny/sharded).
fn sharded_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(common::sample("sharded")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    dir
}

fn json(r: &common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {} {}", r.stdout, r.stderr))
}

fn status_of<'a>(v: &'a Value, name: &str) -> &'a str {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {v:#}"))["status"]
        .as_str()
        .unwrap()
}

fn shard(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".safetensors"))
        .collect();
    names.sort();
    names[0].clone()
}

#[test]
fn an_unchanged_download_verifies_with_lfs_sha256_and_git_blob_ids() {
    let env = Env::new();
    let dir = sharded_copy();
    let d = dir.path().to_str().unwrap();
    let r = env.run(&["verify", d, "--against", "hf://tiny/sharded", "--json"]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    let v = json(&r);
    assert_eq!(v["kind"], "hf-hub");
    assert_eq!(v["verified"], true);
    assert_eq!(v["against"]["commit"], common::hub::COMMIT);
    let digest = |name: &str| {
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(digest(&shard(dir.path())).starts_with("sha256:"), "{v:#}");
    assert!(
        digest("config.json").starts_with("git-sha1:") || digest("config.json").contains("sha1"),
        "{v:#}"
    );
    // the text output says what it compared with, and --verbose lists every file
    let r = env.run(&["verify", d, "--against", "hf://tiny/sharded", "--verbose"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("VERIFIED") && r.stdout.contains("hf://tiny/sharded"),
        "{}",
        r.stdout
    );
    // nothing was downloaded to compare
    assert_eq!(env.hub.stats.cdn_bytes(), 0);
}

#[test]
fn a_changed_byte_a_missing_file_and_an_extra_file_fail_naming_the_file() {
    let env = Env::new();
    let dir = sharded_copy();
    let d = dir.path().to_str().unwrap();
    let s = shard(dir.path());
    // one byte of an LFS file (same size: only the sha256 tells)
    let p = dir.path().join(&s);
    let mut bytes = std::fs::read(&p).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&p, &bytes).unwrap();
    // one byte of a small file (the git blob id tells)
    let cfg = dir.path().join("config.json");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replacen("gelu_new", "gelu_old", 1);
    std::fs::write(&cfg, text).unwrap();
    let r = env.run(&["verify", d, "--against", "hf://tiny/sharded", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(status_of(&v, &s), "changed");
    assert_eq!(status_of(&v, "config.json"), "changed");
    let r = env.run(&["verify", d, "--against", "hf://tiny/sharded"]);
    assert!(
        r.stdout.contains("NOT VERIFIED") && r.stdout.contains(&s),
        "{}",
        r.stdout
    );

    let dir = sharded_copy();
    let d = dir.path().to_str().unwrap();
    std::fs::remove_file(dir.path().join("config.json")).unwrap();
    std::fs::write(dir.path().join("extra.txt"), "not from the Hub").unwrap();
    let r = env.run(&["verify", d, "--against", "hf://tiny/sharded", "--json"]);
    assert_eq!(r.code, 1);
    let v = json(&r);
    assert_eq!(status_of(&v, "config.json"), "missing");
    assert_eq!(status_of(&v, "extra.txt"), "unsigned");
    let r = env.run(&[
        "verify",
        d,
        "--against",
        "hf://tiny/sharded",
        "--ignore-missing-files",
        "--ignore-unsigned-files",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // a truncated file: the sizes differ, nothing is hashed
    std::fs::write(dir.path().join(&s), b"short").unwrap();
    let r = env.run(&[
        "verify",
        d,
        "--against",
        "hf://tiny/sharded",
        "--json",
        "--ignore-missing-files",
        "--ignore-unsigned-files",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(status_of(&json(&r), &s), "changed");
}

#[test]
fn a_single_file_against_a_repository_file() {
    let env = Env::new();
    let f = common::sample("gpt2-tiny.safetensors");
    let r = env.run(&["verify", &f, "--against", "hf://tiny/single/model.safetensors"]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    let r = env.run(&[
        "verify",
        &common::sample("gpt2-tiny.bin"),
        "--against",
        "hf://tiny/single/model.safetensors",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
}

#[test]
fn offline_and_non_hub_paths_are_errors() {
    let env = Env::new();
    let dir = sharded_copy();
    let d = dir.path().to_str().unwrap();
    let r = env.run(&["--offline", "verify", d, "--against", "hf://tiny/sharded"]);
    common::assert_clean_error(&r, "offline");
    assert!(r.stderr.contains("offline"), "{}", r.stderr);
    let r = env.run(&["verify", d, "--against", "https://example.invalid/model.safetensors"]);
    common::assert_clean_error(&r, "url");
    let r = env.run(&["verify", d, "--against", "hf://nobody/nothing"]);
    common::assert_clean_error(&r, "unknown repository");
    let r = env.run(&["verify", d, "--against", "hf://tiny/sharded", "--public-key", "k.pub"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
