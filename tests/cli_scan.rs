//! `tensorscope scan` as a process: exit codes, the human table, `--json`, folders.

mod scan_corpus;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scan_corpus::*;

fn scan(args: &[&Path], json: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tensorscope"));
    c.arg("scan");
    if json {
        c.arg("--json");
    }
    c.args(args).output().expect("run tensorscope")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn every_malicious_case_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases = malicious();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for c in &cases {
        let p = write(dir.path(), c.file, &c.bytes);
        let out = scan(&[&p], true);
        let v = json(&out);
        let verdict = v["files"][0]["verdict"].as_str().unwrap_or("").to_owned();
        let want = if c.dangerous { "dangerous" } else { "suspicious" };
        if out.status.code() != Some(1) || verdict != want {
            failures.push(format!("{}: exit {:?}, verdict {verdict}", c.name, out.status.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn human_table_lists_entry_global_severity_offset_why() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "evil.pt", &torch_zip(&call("posix", "system")));
    let out = scan(&[&p], false);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    println!("{text}");
    assert!(text.contains("DANGEROUS"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("posix.system"))
        .expect("a row for posix.system");
    for want in ["archive/data.pkl", "dangerous", " 2 ", "shell"] {
        assert!(row.contains(want), "{want:?} missing in {row:?}");
    }
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["entry", "global", "severity", "offset", "why"])
    );
    assert!(
        text.contains("1 file: 0 safe, 0 suspicious, 1 dangerous, 0 errors"),
        "{text}"
    );
}

#[test]
fn json_matches_the_design_shape() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "evil.pt", &torch_zip(&call("posix", "system")));
    let v = json(&scan(&[&p], true));
    let f = &v["files"][0];
    assert_eq!(f["path"], p.to_str().unwrap());
    assert_eq!(f["format"], "pytorch-zip");
    assert_eq!(f["verdict"], "dangerous");
    let x = &f["findings"][0];
    assert_eq!(x["entry"], "archive/data.pkl");
    assert_eq!(x["global"], "posix.system");
    assert_eq!(x["severity"], "dangerous");
    assert_eq!(x["offset"], 2);
    assert!(x["why"].as_str().unwrap().contains("shell"));
    assert_eq!(f["pickles"][0]["entry"], "archive/data.pkl");
    assert_eq!(f["pickles"][0]["verdict"], "dangerous");
}

#[test]
fn benign_files_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "model.pt", &torch_zip(&torch_data_pkl()));
    let b = write(dir.path(), "legacy.bin", &legacy(&legacy_magic(), &torch_data_pkl()));
    let out = scan(&[&a, &b], false);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let v = json(&scan(&[&a, &b], true));
    assert_eq!(v["files"][0]["verdict"], "safe");
    assert_eq!(v["files"][1]["verdict"], "safe");
    assert_eq!(v["files"][1]["format"], "pytorch-legacy");
    assert_eq!(v["files"][0]["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn folders_are_scanned_recursively_and_skip_non_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    write(dir.path(), "config.json", b"{\"x\": 1}");
    write(dir.path(), "README.md", b"# model\n");
    write(dir.path(), "a/model.pt", &torch_zip(&torch_data_pkl()));
    write(dir.path(), "a/b/evil.bin", &call("os", "system"));
    let v = json(&scan(&[dir.path()], true));
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{v:#}");
    assert!(files[0]["path"].as_str().unwrap().ends_with("a/b/evil.bin"));
    assert_eq!(files[0]["verdict"], "dangerous");
    assert_eq!(files[1]["verdict"], "safe");
    assert_eq!(scan(&[dir.path()], false).status.code(), Some(1));
}

#[test]
fn safetensors_valid_is_safe_invalid_is_error_2() {
    let dir = tempfile::tempdir().unwrap();
    let header = b"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    let mut good = (header.len() as u64).to_le_bytes().to_vec();
    good.extend_from_slice(header);
    good.extend_from_slice(&[0; 8]);
    let g = write(dir.path(), "good.safetensors", &good);
    assert_eq!(scan(&[&g], false).status.code(), Some(0));
    let bad = write(dir.path(), "bad.safetensors", &good[..good.len() - 4]);
    let out = scan(&[&bad], true);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["files"][0]["verdict"], "error");
    // a dangerous file next to an error is still a finding
    let e = write(dir.path(), "evil.pkl", &call("os", "system"));
    assert_eq!(scan(&[&bad, &e], false).status.code(), Some(1));
}

#[test]
fn no_loader_reads_it_is_not_a_checkpoint_missing_is_an_error() {
    // no loader reads bytes whose first byte starts no pickle and no format: exit 2, never "safe"
    // (unreadable files stay suspicious: see bad_corpus.rs)
    let dir = tempfile::tempdir().unwrap();
    let u = write(dir.path(), "weights.bin", b"\x00\x01\x02\x03 no format");
    let out = scan(&[&u], true);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a checkpoint: ") && err.contains("(looks like: binary data"),
        "{err}"
    );
    let out = scan(&[&dir.path().join("missing.pt")], false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error:"));
}

#[test]
fn names_are_escaped_in_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let evil = P::new()
        .proto(4)
        .sbu("os\x1b[2J")
        .sbu("system")
        .stack_global()
        .stop()
        .build();
    let p = write(dir.path(), "esc.pkl", &evil);
    let out = scan(&[&p], false);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(text.contains("os\\x1b[2J.system"), "{text}");
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Every fixture of tests/data/torch: safe ones exit 0, unsafe ones exit 1 and name each untrusted global.
#[test]
fn torch_fixtures_match_their_manifests() {
    let dir = repo("tests/data/torch");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".manifest.json") {
            continue;
        }
        let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let file = dir.join(name.trim_end_matches(".manifest.json"));
        let out = scan(&[&file], true);
        let v = json(&out);
        let f = &v["files"][0];
        assert_eq!(f["format"], m["format"], "{name}");
        if m["safe"] == true {
            assert_eq!(out.status.code(), Some(0), "{name}: {f:#}");
            assert_eq!(f["verdict"], "safe", "{name}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{name}");
            let named: Vec<&str> = f["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x["global"].as_str())
                .collect();
            for g in m["untrusted_globals"].as_array().unwrap() {
                assert!(named.contains(&g.as_str().unwrap()), "{name}: {g} not in {named:?}");
            }
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} fixtures");
}

/// The samples folder: everything safe except the files made to be malicious (and its generator script,
/// which is code).
#[test]
fn samples_are_safe_except_the_malicious_ones() {
    let v = json(&scan(&[&repo("samples")], true));
    let files = v["files"].as_array().unwrap();
    assert!(files.len() >= 10, "{}", files.len());
    for f in files {
        let path = f["path"].as_str().unwrap();
        let want = if path.ends_with("malicious.bin") || path.ends_with("mixed-folder/extra.bin") {
            "dangerous"
        } else if path.ends_with("malicious.pkl") || path.ends_with(".py") {
            // make_samples.py: Python code in a folder, which trust_remote_code loaders may import
            "suspicious"
        } else {
            "safe"
        };
        assert_eq!(f["verdict"], want, "{path}: {f:#}");
    }
}
