//! Truncation under a live map: another process shrinks a file while tensorscope reads it. The reader
//! must end with a clean error (or, if it finished first, a normal result), never die of SIGBUS.

mod common;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tensorscope::checkpoint;
use tensorscope::tensor::{StatsOptions, View};

/// A safetensors file holding one F32 tensor of `n` ones.
fn ones(path: &Path, n: usize) {
    let header = format!(
        r#"{{"t":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{}]}}}}"#,
        n * 4
    );
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&(header.len() as u64).to_le_bytes()).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    let chunk: Vec<u8> = std::iter::repeat_n(1f32.to_le_bytes(), 1 << 16).flatten().collect();
    let mut left = n;
    while left > 0 {
        let k = left.min(1 << 16);
        f.write_all(&chunk[..k * 4]).unwrap();
        left -= k;
    }
    f.flush().unwrap();
}

#[test]
fn statistics_and_diff_over_a_truncated_map_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.safetensors");
    ones(&p, 2 << 20);
    let ck = checkpoint::open(&p).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let t = ck.tensor("t").unwrap();
    let stats = View::of(&ck, t).unwrap().stats(&StatsOptions { bins: 8, sample: None });
    assert!(
        stats.zeros > 0,
        "the vanished pages read as zeros instead of killing the process"
    );
    let e = ck.check_intact().unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
    let e = tensorscope::diff::diff(&ck, &ck).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn show_survives_a_file_truncated_while_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.safetensors");
    ones(&p, 48 << 20); // 192 MB: exact statistics take a while even in release builds
    let child = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(["show", p.to_str().unwrap(), "t", "--bins", "64"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(4096)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), None, "killed by a signal: {stderr}");
    match out.status.code() {
        Some(0) => {} // finished before the truncation reached it
        Some(2) => {
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("error:") && stderr.contains("truncated"), "{stderr}");
        }
        other => panic!("unexpected exit {other:?}: {stderr}"),
    }
}
