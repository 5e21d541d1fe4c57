//! The one helper module of the integration tests (`mod common;` in a test file):
//! - here: run the real binary and capture what it printed, sample paths, small files;
//! - [`build`]: hand-made inputs (stored zips, `torch.save` archives, pickles opcode by opcode,
//!   safetensors files from tensors);
//! - [`fit`]: the `fit` fixtures and its JSON answer;
//! - [`gguf`]: a GGUF writer for hand-made and deliberately broken files;
//! - [`hub`]: a local stand-in for the Hugging Face Hub;
//! - [`manifest`]: the scan corpora's manifests and what an entry expects;
//! - [`tmux`]: the program in a real terminal, for the TUI tests.
#![allow(dead_code)]

pub mod build;
pub mod fit;
pub mod gguf;
pub mod hub;
pub mod manifest;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `tensorscope ARGS` from the repository root.
pub fn run(args: &[&str]) -> Run {
    run_env(args, &[])
}

/// Run `tensorscope ARGS` from the repository root with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tensorscope");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A path under the repository's samples/ folder.
pub fn sample(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// Assert a run failed the contract way: exit 2, exactly one stderr line starting `error:`.
pub fn assert_clean_error(r: &Run, what: &str) {
    assert_eq!(r.code, 2, "{what}: exit code {} stderr {}", r.code, r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: stderr must be one line: {:?}", r.stderr);
    assert!(lines[0].starts_with("error: "), "{what}: {:?}", lines[0]);
    assert!(!r.stderr.contains("panicked"), "{what}: panic: {}", r.stderr);
}

/// Write `bytes` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A safetensors file from a header string and a data length (zero bytes).
pub fn safetensors(header: &str, data_len: usize) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.resize(v.len() + data_len, 0);
    v
}

/// A test that cannot run here says why on stderr and returns; with `TENSORSCOPE_REQUIRE_ALL=1`
/// (set by `.ci/run` after installing lavapipe and tmux) it fails instead, so no skip passes on CI.
pub fn skip(why: &str) {
    assert!(
        std::env::var("TENSORSCOPE_REQUIRE_ALL").as_deref() != Ok("1"),
        "TENSORSCOPE_REQUIRE_ALL=1, and this test cannot run: {why}"
    );
    eprintln!("skipped: {why}");
}

/// The row of `v["tensors"]` (a `--json` answer) whose `name` is `name`; panics naming it when none is.
pub fn row(v: &serde_json::Value, name: &str) -> serde_json::Value {
    v["tensors"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no tensor {name} in {v:#}"))
        .clone()
}
