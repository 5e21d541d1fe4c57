//! The golden error-message test: every entry of the malformed-input corpus (tests/data/bad/) through
//! the real binary (`inspect`, and `scan`), with its exit code and its one stderr line compared against
//! tests/data/bad/EXPECTED.txt. Any change to a message shows in review as a change to that file.
//!
//! After changing a message on purpose, rewrite the file with
//! `UPDATE_EXPECTED=1 cargo test --test error_messages` and read the diff.
//!
//! Beyond the exact text, every message must be one `error:` line with exit 2, carry no Rust debug
//! output, no stutter and no raw control character, and every limit must say how to get past it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one command printed: exit code and stderr.
struct Out {
    code: i32,
    stderr: String,
    stdout: String,
}

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

/// Run `tensorscope ARGS` from `dir` (so paths print as the short names given).
fn run_in(dir: &Path, args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run tensorscope");
    Out {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

/// Every corpus entry by name, sorted (the folder, not the README: bad_corpus.rs checks they agree).
fn entries() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(bad_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !matches!(n.as_str(), "README.md" | "make_bad.py" | "EXPECTED.txt"))
        .collect();
    names.sort();
    names
}

/// The golden line of one command: `COMMAND NAME -> exit N: STDERR`, or for a scan that printed no
/// error, its report (verdict and findings, without the table's header and the summary) on one line.
fn golden_line(cmd: &str, name: &str, o: &Out) -> String {
    let err = o.stderr.trim_end();
    let said = if err.is_empty() {
        let rows: Vec<String> = o
            .stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty() && !l.starts_with("entry global") && !l.contains(" safe, "))
            .collect();
        format!("(stdout) {}", rows.join(" | "))
    } else {
        err.replace('\n', "\\n")
    };
    format!("{cmd} {name} -> exit {}: {said}", o.code)
}

/// Rust debug output and stutters a user should never see.
fn defects(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for bad in [
        "Int(", "Str(", "BigInt(", "Some(", "None)", "Node(", "Kind::", "{ ", "\\\"",
    ] {
        if line.contains(bad) {
            found.push(format!("debug output {bad:?}"));
        }
    }
    for (a, b) in [
        ("pickle: pickle", ""),
        ("zip archive: not a zip archive", ""),
        ("zip archive: zip archive", ""),
        ("pickle: unknown pickle", ""),
    ] {
        let _ = b;
        if line.contains(a) {
            found.push(format!("stutter {a:?}"));
        }
    }
    if line.contains("exceeds the limit")
        && !(line.contains("TENSORSCOPE_") || line.contains("--") || line.contains("fixed limit"))
    {
        found.push("a limit that names no option, variable or the fact that it is fixed".into());
    }
    if line.chars().any(|c| c.is_control() && c != '\t') {
        found.push("a raw control character".into());
    }
    found
}

#[test]
fn every_bad_input_matches_the_golden_messages() {
    let dir = bad_dir();
    let names = entries();
    assert!(names.len() >= 60, "only {} corpus entries", names.len());
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    for name in &names {
        let inspect = run_in(&dir, &["inspect", name]);
        let scan = run_in(&dir, &["scan", name]);
        for (cmd, o) in [("inspect", &inspect), ("scan", &scan)] {
            let line = golden_line(cmd, name, o);
            if o.stderr.contains("panicked") {
                failures.push(format!("{line}: panicked"));
            }
            if cmd == "inspect" {
                if o.code != 2 {
                    failures.push(format!("{line}: exit {}, want 2", o.code));
                }
                if o.stderr.lines().count() != 1 || !o.stderr.starts_with("error: ") {
                    failures.push(format!("{line}: stderr is not one `error:` line"));
                }
            } else if !o.stderr.is_empty() && (o.stderr.lines().count() != 1 || o.code != 2) {
                failures.push(format!("{line}: a scan error must be one line with exit 2"));
            }
            for d in defects(o.stderr.trim_end()) {
                failures.push(format!("{line}: {d}"));
            }
            lines.push(line);
        }
    }
    let got = lines.join("\n") + "\n";
    let golden = dir.join("EXPECTED.txt");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    if got != want {
        let want_lines: Vec<&str> = want.lines().collect();
        for l in got.lines() {
            if !want_lines.contains(&l) {
                failures.push(format!("new or changed: {l}"));
            }
        }
        let got_lines: Vec<&str> = got.lines().collect();
        for l in &want_lines {
            if !got_lines.contains(l) {
                failures.push(format!("expected, not printed: {l}"));
            }
        }
        failures.push("messages differ from tests/data/bad/EXPECTED.txt (UPDATE_EXPECTED=1 rewrites it)".into());
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_name_with_control_characters_prints_escaped() {
    // a terminal escape and a newline in a file name must not reach the terminal raw, nor split the line
    let tmp = tempfile::tempdir().unwrap();
    let name = "evil\u{1b}[31m\nname.safetensors";
    std::fs::copy(bad_dir().join("len-max.safetensors"), tmp.path().join(name)).unwrap();
    let o = run_in(tmp.path(), &["inspect", name]);
    let line = golden_line("inspect", "evil", &o);
    assert_eq!(o.code, 2, "{line}");
    assert_eq!(o.stderr.lines().count(), 1, "{line}");
    assert!(
        defects(o.stderr.trim_end()).is_empty(),
        "{line}: {:?}",
        defects(&o.stderr)
    );
    assert!(
        o.stderr
            .contains("evil\\x1b[31m\\x0aname.safetensors: not a safetensors file"),
        "{line}"
    );
    // scan reports a file it cannot read on stdout, with exit 2: its lines carry the name escaped too
    let o = run_in(tmp.path(), &["scan", name]);
    let line = golden_line("scan", "evil", &o);
    assert_eq!(o.code, 2, "{line}");
    for l in o.stdout.lines().chain(o.stderr.lines()) {
        assert!(defects(l).is_empty(), "{line}: {:?}", defects(l));
    }
    assert!(o.stdout.contains("evil\\x1b[31m\\x0aname.safetensors"), "{line}");
}

#[test]
fn every_limit_error_in_the_source_says_how_to_get_past_it() {
    // the corpus cannot reach every limit (a million folder entries, 4 GB of config.json), so the
    // constructors are read: each `Error::Limit` carries a hint naming its option or variable, or
    // saying it is a fixed limit
    let mut files = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut bare = Vec::new();
    let mut seen = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        for (i, _) in text.match_indices("Error::Limit {") {
            let body = &text[i..];
            let fields = &body[..body.find('}').unwrap_or(body.len())];
            if fields.contains("..") || !fields.contains("hint") {
                continue; // a pattern (`Error::Limit { what, .. }`), not a constructor
            }
            seen += 1;
            let hint = &fields[fields.find("hint").unwrap()..];
            let ok = hint.contains("fixed limit") || hint.contains("TENSORSCOPE_") || hint.starts_with("hint,");
            let rel = p
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap()
                .display()
                .to_string();
            // verify/ is another helper's room: its signature-size hint asks "is this the model?"
            if !ok && rel != "src/verify/oms.rs" {
                bare.push(format!("{rel}: {}", hint.lines().next().unwrap_or("")));
            }
        }
    }
    assert!(
        seen >= 20,
        "only {seen} limit errors found: did the constructor change?"
    );
    assert!(
        bare.is_empty(),
        "limit errors without a way past them:\n{}",
        bare.join("\n")
    );
}

#[test]
fn an_lfs_pointer_named_like_torch_weights_says_run_git_lfs_pull() {
    // the hint was cut at ", not" for a pointer named .bin, and scan of the folder said nothing of LFS
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(bad_dir().join("lfs-pointer.bin"), tmp.path().join("pytorch_model.bin")).unwrap();
    std::fs::write(tmp.path().join("config.json"), br#"{"model_type": "gpt2"}"#).unwrap();
    for args in [
        ["inspect", "pytorch_model.bin"],
        ["inspect", "."],
        ["scan", "pytorch_model.bin"],
        ["scan", "."],
    ] {
        let o = run_in(tmp.path(), &args);
        let line = golden_line(args[0], args[1], &o);
        assert_eq!(o.code, 2, "{line}");
        assert_eq!(o.stderr.lines().count(), 1, "{line}");
        assert!(o.stderr.contains("run `git lfs pull`"), "{line}");
    }
}
