//! The TUI's exports and hashing in a real terminal: tmux runs `tensorscope` at 80x24 in a temporary
//! folder, `e` on the Tensors tab must write what `inspect --json` prints, `h` on the Files tab the
//! files' SHA-256, and `e` there the BOM `scan --format cyclonedx` prints, byte for byte.
//! Skips (and says why) when tmux is absent; fails then under `TENSORSCOPE_REQUIRE_ALL=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::Session;
use sha2::Digest;

/// The one file in `dir` whose name starts with `prefix` and ends with `suffix`.
fn written(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).find(|p| {
        let n = p.file_name().unwrap_or_default().to_string_lossy();
        n.starts_with(prefix) && n.ends_with(suffix)
    })
}

fn wait_file(dir: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Some(p) = written(dir, prefix, suffix) {
            return p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no {prefix}*{suffix} in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stdout(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn e_writes_the_inspect_json_and_the_bom_and_h_hashes_every_file() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sharded");
    let folder_arg = folder.to_string_lossy().into_owned();
    let out = tempfile::tempdir().unwrap();
    let Some(s) = Session::start_in("ts-export", Some(out.path()), &[], &[&folder_arg]) else {
        return;
    };
    let first = s.wait(Duration::from_secs(20), |x| x.contains("SAFE"));
    assert!(first.contains("SAFE"), "{first}");

    // Tensors: e writes what inspect --json prints
    s.keys(&["e"]);
    let inspect = wait_file(out.path(), "tensorscope-inspect-", ".json");
    let screen = s.wait(Duration::from_secs(10), |x| x.contains("wrote "));
    assert!(
        screen.contains("wrote ") && screen.contains("tensorscope-inspect-"),
        "{screen}"
    );
    assert_eq!(
        std::fs::read_to_string(&inspect).unwrap(),
        stdout(&["inspect", "--json", &folder_arg]),
        "the Tensors export is `inspect --json`, byte for byte"
    );

    // Files: h shows each file's SHA-256
    s.keys(&["2", "h"]);
    let shard = folder.join("model-00001-of-00002.safetensors");
    let want = format!("sha256 {}", hex(&sha2::Sha256::digest(std::fs::read(&shard).unwrap())));
    let screen = s.wait(Duration::from_secs(20), |x| x.contains(&want));
    assert!(screen.contains(&want), "{screen}");
    assert!(screen.contains("not signed"), "{screen}");

    // Files: e writes the BOM scan --format cyclonedx prints
    s.keys(&["e"]);
    let cdx = wait_file(out.path(), "tensorscope-bom-", ".cdx.json");
    wait_file(out.path(), "tensorscope-bom-", ".spdx.json");
    let screen = s.wait(Duration::from_secs(10), |x| x.contains("wrote ") && x.contains("bom"));
    assert!(screen.contains("tensorscope-bom-"), "{screen}");
    // written whole (temporary file and rename), so it can be read as soon as it is there
    assert_eq!(
        std::fs::read_to_string(&cdx).unwrap(),
        stdout(&["scan", "--format", "cyclonedx", &folder_arg]),
        "the Files export is `scan --format cyclonedx`, byte for byte"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn public_key_lets_h_verify_a_signed_folder_and_a_wrong_key_fails() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/verify");
    let model = data.join("ref-p256").to_string_lossy().into_owned();
    for (key, want) in [("p256.pub", "verified: OMS v1.0 model.sig"), ("other.pub", "FAILED")] {
        let key = data.join("keys").join(key).to_string_lossy().into_owned();
        let out = tempfile::tempdir().unwrap();
        let Some(s) = Session::start_in("ts-verify", Some(out.path()), &[], &["--public-key", &key, &model]) else {
            return;
        };
        s.wait(Duration::from_secs(20), |x| x.contains("SAFE"));
        s.keys(&["2"]);
        let before = s.wait(Duration::from_secs(5), |x| x.contains("h hashes and verifies"));
        assert!(before.contains("signed (model.sig)"), "{before}");
        s.keys(&["h"]);
        let screen = s.wait(Duration::from_secs(20), |x| x.contains(want));
        assert!(screen.contains(want), "{screen}");
    }
}
