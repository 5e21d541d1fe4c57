//! Atomic outputs: `convert` killed midway (SIGKILL, no chance to clean up) leaves nothing under the
//! final name, and the input is unchanged; the next run still converts.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tensorscope::bench::synth::{Family, layout, write_torch};

fn checksum(p: &Path) -> u64 {
    // FNV-1a over the whole file: enough to see any change
    std::fs::read(p).unwrap().iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn temp_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".tensorscope-tmp-"))
        .collect()
}

/// A conversion of a 256 MB `torch.save` file under `dir`, started and caught while it writes (its
/// temporary file exists): the child, the input and its checksum before the run, the output's
/// folder and the output. `writing` is false when it finished or failed before that.
struct Started {
    child: std::process::Child,
    input: std::path::PathBuf,
    before: u64,
    out_dir: std::path::PathBuf,
    output: std::path::PathBuf,
    writing: bool,
}

fn start_converting(dir: &Path) -> Started {
    let input = dir.join("model.bin");
    write_torch(&input, &layout(Family::Gpt2, 256_000_000)).unwrap();
    let before = checksum(&input);
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join("model.safetensors");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(["convert", input.to_str().unwrap(), output.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut writing = false;
    while start.elapsed() < Duration::from_secs(20) {
        if !temp_entries(&out_dir).is_empty() {
            writing = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Started {
        child,
        input,
        before,
        out_dir,
        output,
        writing,
    }
}

#[test]
fn killed_convert_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    // wait until it is writing (its temporary file exists), then kill it without warning
    let Started {
        mut child,
        input,
        before,
        out_dir,
        output,
        writing,
    } = start_converting(dir.path());
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        writing,
        "convert finished or failed before it could be killed ({status:?}); use a bigger input"
    );
    assert!(!output.exists(), "a partial file was left under the final name");
    assert_eq!(checksum(&input), before, "the input changed");

    // a later run is not confused by the leftover temporary file and publishes a complete output
    let r = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(["convert", input.to_str().unwrap(), output.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(
        temp_entries(&out_dir),
        Vec::<String>::new(),
        "the killed run's temporary file was swept"
    );
    let ck = tensorscope::checkpoint::open(&output).unwrap();
    assert_eq!(
        ck.tensors.len(),
        tensorscope::checkpoint::open(&input).unwrap().tensors.len()
    );
}

/// review 37: SIGTERM (likewise SIGINT and SIGHUP) removes the temporary output and its lock file
/// before the process ends as the signal says; only SIGKILL leaves them for the next run to sweep.
#[test]
fn terminated_convert_removes_its_temporary() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let Started {
        mut child,
        out_dir,
        writing,
        ..
    } = start_converting(dir.path());
    // SAFETY: kill(2) of our own child, not yet reaped
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(
        writing,
        "convert finished or failed before the signal ({status:?}); use a bigger input"
    );
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let left: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
