//! Every file of the malformed-input corpus (tests/data/bad/, described line by line in its README)
//! through the CLI as a child process, under a 2 GB address-space limit and a 10 s deadline:
//! `inspect` exits 2 with exactly one `error:` line; `scan` exits 1 or 2 (0 only where the README
//! says the file is harmless for scan); `show`, `convert` and `diff` exit 2 with one `error:` line
//! (convert may instead exit 1, "refused by the scanner", for a file scan did not call safe), and a
//! failed convert leaves nothing behind; nothing panics.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ADDRESS_SPACE: u64 = 2 << 30;
const DEADLINE: Duration = Duration::from_secs(10);

struct Outcome {
    code: Option<i32>,
    stderr: String,
    took: Duration,
}

/// Run the binary with `args` under the address-space limit; kill it at the deadline.
fn run(args: &[&str]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tensorscope"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec only setrlimit runs, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn tensorscope");
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.and_then(|s| s.code()),
        stderr: reader.join().unwrap(),
        took: start.elapsed(),
    }
}

/// `(path, reason, scan may exit 0)` for every README line.
fn corpus() -> Vec<(PathBuf, String, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let cases: Vec<_> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .map(|l| {
            let (name, reason) = l.split_once("`: ").expect("- `name`: reason");
            (dir.join(name), reason.to_string(), reason.contains("(scan exits 0: "))
        })
        .collect();
    // README and folder agree both ways
    let mut listed: Vec<String> = cases
        .iter()
        .map(|(p, _, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !matches!(n.as_str(), "README.md" | "make_bad.py" | "EXPECTED.txt"))
        .collect();
    listed.sort();
    present.sort();
    assert_eq!(listed, present, "tests/data/bad/README.md and the folder disagree");
    cases
}

#[test]
fn every_bad_input_is_one_clean_error() {
    let cases = corpus();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (path, reason, scan_may_pass) in &cases {
        let p = path.to_str().unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("out.safetensors");
        let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gpt2-tiny.safetensors");
        let commands: [(&str, Vec<&str>); 5] = [
            ("inspect", vec!["inspect", p]),
            ("scan", vec!["scan", p]),
            ("show", vec!["show", p, "w"]),
            ("convert", vec!["convert", p, target.to_str().unwrap()]),
            ("diff", vec!["diff", p, good.to_str().unwrap()]),
        ];
        let mut scan_code = None;
        for (cmd, args) in &commands {
            let cmd = *cmd;
            let o = run(args);
            if cmd == "scan" {
                scan_code = o.code;
            }
            let refused = cmd == "convert" && o.code == Some(1) && scan_code != Some(0);
            let lines: Vec<&str> = o.stderr.lines().collect();
            let problem = if o.code.is_none() {
                Some(format!("no exit code (killed or timed out after {:?})", o.took))
            } else if o.stderr.contains("panicked") {
                Some("panicked".to_string())
            } else if o.took > DEADLINE {
                Some(format!("took {:?}", o.took))
            } else if cmd != "scan" && o.code != Some(2) && !refused {
                Some(format!("exit {:?}, want 2", o.code))
            } else if cmd != "scan" && !refused && (lines.len() != 1 || !lines[0].starts_with("error: ")) {
                Some("stderr is not exactly one `error:` line".to_string())
            } else if cmd == "convert" && std::fs::read_dir(out.path()).unwrap().next().is_some() {
                Some("a failed convert left files behind".to_string())
            } else if cmd == "scan" && !matches!(o.code, Some(1 | 2)) && !(*scan_may_pass && o.code == Some(0)) {
                Some(format!("exit {:?}, want 1 or 2", o.code))
            } else {
                None
            };
            if let Some(why) = problem {
                failures.push(format!("{cmd} {name} ({reason}): {why}\n  stderr: {}", o.stderr.trim()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_address_space_limit_is_in_force() {
    // a test that cannot fail is no test: the limit must stop a child that maps more than 2 GB
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.safetensors");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(3 << 30).unwrap(); // sparse: no disk used
    let o = run(&["inspect", big.to_str().unwrap()]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(
        o.stderr.contains("Cannot allocate memory") || o.stderr.contains("os error 12"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_fifo_named_like_a_checkpoint_does_not_hang() {
    // opening a FIFO for reading waits for a writer: inspect and scan hung on these before
    let tmp = tempfile::tempdir().unwrap();
    let fifo = |p: &Path| {
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    let weights = tmp.path().join("weights");
    std::fs::create_dir(&weights).unwrap();
    fifo(&weights.join("model.safetensors"));
    let index = tmp.path().join("index");
    std::fs::create_dir(&index).unwrap();
    std::fs::write(index.join("model.safetensors"), b"").unwrap();
    fifo(&index.join("model.safetensors.index.json"));
    for dir in [&weights, &index] {
        let o = run(&["inspect", dir.to_str().unwrap()]);
        assert_eq!(o.code, Some(2), "{}", o.stderr);
        assert!(
            o.stderr.trim().ends_with("not a regular file") && o.stderr.lines().count() == 1,
            "{}",
            o.stderr
        );
    }
    // a file that cannot be read is an error (exit 2), never safe, also under --fail-on dangerous
    // (review 38: it was suspicious, which `--fail-on dangerous` let pass with exit 0)
    let file = weights.join("model.safetensors");
    for extra in [None, Some("--fail-on=dangerous")] {
        let mut args = vec!["scan", file.to_str().unwrap()];
        args.extend(extra);
        let o = run(&args);
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.stderr);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(["scan", "--json", weights.to_str().unwrap()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["verdict"], "error", "{v}");
    assert!(
        v["files"][0]["error"].as_str().unwrap().contains("not a regular file"),
        "{v}"
    );
}
