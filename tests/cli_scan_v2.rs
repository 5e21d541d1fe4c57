//! `tensorscope scan` flags of scanner v2 as a process: `--verbose` lists every import,
//! `--allow`/`--allow-file`, `--fail-on`, and `--format sarif` (checked against the fields SARIF
//! 2.1.0's schema requires).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .arg("scan")
        .args(args)
        .output()
        .expect("run tensorscope")
}

fn path(name: &str) -> String {
    corpus(name).to_string_lossy().into_owned()
}

#[test]
fn verbose_lists_every_import_with_its_verdict() {
    let out = run(&[&path("benign/plain.pt"), &path("benign/namespace.pt"), "--verbose"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "imports: 3 safe, 0 suspicious, 0 dangerous",
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage",
        "collections.OrderedDict",
        "argparse.Namespace",
        "imports: 0 safe, 1 suspicious, 0 dangerous",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
    let plain = run(&[&path("benign/plain.pt")]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("imports:"));
}

#[test]
fn fail_on_sets_the_exit_code() {
    let suspicious = path("benign/namespace.pt");
    let dangerous = path("malicious/int-hex.pkl");
    assert_eq!(run(&[&suspicious]).status.code(), Some(1));
    assert_eq!(run(&[&suspicious, "--fail-on", "suspicious"]).status.code(), Some(1));
    assert_eq!(run(&[&suspicious, "--fail-on", "dangerous"]).status.code(), Some(0));
    assert_eq!(run(&[&dangerous, "--fail-on", "dangerous"]).status.code(), Some(1));
    assert_eq!(run(&[&suspicious, "--fail-on", "never"]).status.code(), Some(2));
}

#[test]
fn allow_and_allow_file_make_a_teams_class_safe_and_say_so() {
    let p = path("benign/namespace.pt");
    let out = run(&[&p, "--allow", "argparse.Namespace", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let imp = &v["files"][0]["imports"][0];
    assert_eq!(imp["global"], "argparse.Namespace");
    assert_eq!(imp["verdict"], "safe");
    assert_eq!(imp["allowed"], true);
    assert_eq!(v["files"][0]["import_counts"]["allowed"], 1);

    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("allow.txt");
    std::fs::write(&f, "# our classes\nargparse.Namespace  # training args\nposix.system\n").unwrap();
    let fs = f.to_string_lossy().into_owned();
    assert_eq!(run(&[&p, "--allow-file", &fs]).status.code(), Some(0));
    // a known gadget is never allowed
    let out = run(&[&path("malicious/int-hex.pkl"), "--allow-file", &fs, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["verdict"], "dangerous");
    let missing = run(&[&p, "--allow-file", "/nonexistent/allow.txt"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error:"));
}

/// The properties SARIF 2.1.0's schema marks as required, and the types it gives them, for every
/// object this output uses (sarifLog, run, tool, toolComponent, reportingDescriptor, result,
/// message, location, physicalLocation, artifactLocation, region, artifact).
#[test]
fn sarif_has_the_structure_sarif_2_1_0_requires() {
    let out = run(&[
        &path("malicious/int-hex.pkl"),
        &path("malicious/torchscript.pt"),
        &path("benign/namespace.pt"),
        &path("benign/plain.pt"),
        "--format",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "tensorscope");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for r in rules {
        assert!(r["shortDescription"]["text"].is_string());
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["none", "note", "warning", "error"].contains(&level));
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert!(results.len() >= 3, "{results:?}");
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[idx], id);
        assert!(["none", "note", "warning", "error"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        for loc in r["locations"].as_array().unwrap() {
            let uri = loc["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                !uri.contains(' ') && uri.ends_with(|c: char| c.is_ascii_alphanumeric()),
                "{uri}"
            );
            if let Some(region) = loc["physicalLocation"].get("region") {
                assert!(region["byteOffset"].is_u64());
            }
        }
    }
    let rule_of = |file: &str| -> Vec<&str> {
        results
            .iter()
            .filter(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .ends_with(file)
            })
            .map(|r| r["ruleId"].as_str().unwrap())
            .collect()
    };
    assert!(rule_of("int-hex.pkl").contains(&"TS001"));
    assert!(rule_of("torchscript.pt").contains(&"TS003"));
    assert_eq!(rule_of("namespace.pt"), ["TS002"]);
    assert!(rule_of("plain.pt").is_empty());
    assert_eq!(runs[0]["artifacts"].as_array().unwrap().len(), 4);
}

/// A folder of a benign safetensors file and the files a folder scan used to drop (protocol-0
/// pickles starting `I0x1` and `L0x1L`, a V7 tar, a `.pkl.gz`): each is scanned and dangerous.
#[test]
fn a_folder_drops_none_of_the_files_it_used_to_drop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gpt2-tiny.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    for f in ["int-hex.pkl", "long-hex.pkl", "v7-tar.pt", "payload.pkl.gz"] {
        std::fs::copy(corpus(&format!("malicious/{f}")), dir.path().join(f)).unwrap();
    }
    let out = run(&[&dir.path().to_string_lossy(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    let verdict = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .map(|f| f["verdict"].as_str().unwrap().to_owned())
    };
    assert_eq!(verdict("model.safetensors").as_deref(), Some("safe"));
    for f in ["int-hex.pkl", "long-hex.pkl", "v7-tar.pt", "payload.pkl.gz"] {
        assert_eq!(verdict(f).as_deref(), Some("dangerous"), "{f}: {files:?}");
    }
}
