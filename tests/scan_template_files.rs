//! Chat templates in their own files: a folder scan judges `chat_template.jinja`,
//! `additional_chat_templates/*.jinja`, `tokenizer_config.json`'s `chat_template` (string or named
//! list) and `chat_template.json` with the template check, and lists each with a verdict. The
//! folders under `tests/data/scan/template_files/` are written by `gen.py` there, which confirms
//! every malicious file against jinja2 (it runs a shell command when rendered without the sandbox)
//! and renders every benign one in the sandbox transformers uses. Other `.jinja` names and
//! template-less `tokenizer_config.json` files stay skipped.

mod common;

use std::path::{Path, PathBuf};

use common::run;
use serde_json::Value;
use tensorscope::scan::{Severity, Verdict, cves, loaders, scan_paths};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan/template_files")
}

fn manifest() -> Vec<Value> {
    common::manifest::read(&data())
}

#[test]
fn each_template_file_gets_its_manifest_verdict() {
    let entries = manifest();
    assert!(entries.len() >= 12, "{}", entries.len());
    let report = scan_paths(&[data().join("malicious"), data().join("benign")]).unwrap();
    let mut failures = Vec::new();
    for e in &entries {
        let rel = e["file"].as_str().unwrap();
        let path = data().join(rel).to_string_lossy().into_owned();
        let want = e["verdict"].as_str().unwrap();
        let scanned = report.files.iter().find(|f| f.path == path);
        let skipped = report.skipped.iter().any(|s| s.path == path);
        let ok = match (want, scanned) {
            ("skipped", None) => skipped,
            ("skipped", Some(_)) => false,
            (_, Some(f)) => {
                f.format == "chat-template"
                    && f.verdict.as_str() == want
                    && f.templates.is_some_and(|n| n >= 1)
                    && f.findings.iter().all(|x| !x.loaders.is_empty())
            }
            (_, None) => false,
        };
        if !ok {
            failures.push(format!("{rel}: want {want}, got {scanned:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_named_template_is_reported_under_its_name_with_the_loaders_that_render_it() {
    let path = data().join("malicious/named-list/tokenizer_config.json");
    let report = scan_paths(&[path]).unwrap();
    let f = &report.files[0];
    assert_eq!(f.templates, Some(2));
    assert_eq!(f.verdict, Verdict::Dangerous);
    let hit = f.findings.iter().find(|x| x.severity == Severity::Dangerous).unwrap();
    assert_eq!(hit.entry, "tokenizer_config.json:tool_use", "{hit:?}");
    assert_eq!(hit.loaders, [loaders::TEMPLATE_FILE]);
    // transformers renders these in a sandbox, llama-cpp-python reads only GGUF templates
    assert!(cves::of(&f.format, hit).is_empty());
    // the benign default template beside it has no finding
    assert!(f.findings.iter().all(|x| x.entry != "tokenizer_config.json:default"));
}

#[test]
fn the_cli_lists_template_files_with_a_verdict_and_fails_on_them() {
    let r = run(&["scan", &data().join("malicious/jinja").to_string_lossy()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = r.stdout.lines().next().unwrap();
    assert!(
        line.contains("chat_template.jinja") && line.contains("[chat-template]") && line.contains("DANGEROUS"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 chat template checked"), "{}", r.stdout);
    assert!(r.stdout.contains("run by: renderers without a sandbox"), "{}", r.stdout);
    let ok = run(&["scan", &data().join("benign").to_string_lossy(), "--json"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    let j: Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(j["files"].as_array().unwrap().len(), 4, "{j:#}");
    assert!(
        j["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["path"].as_str().unwrap().ends_with("llama3.jinja"))
    );
}

/// The template corpus' `.jinja` files are not files a model's template is loaded from: in a copy of
/// the corpus with a `chat_template.jinja` added, that one file is scanned and the rest stay
/// skipped, so the folder scans that walk the corpora keep their meaning.
#[test]
fn in_a_template_corpus_only_the_names_transformers_loads_are_scanned() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan/templates/malicious");
    let dir = tempfile::tempdir().unwrap();
    let mut jinja = 0;
    for e in std::fs::read_dir(&corpus).unwrap() {
        let p = e.unwrap().path();
        jinja += usize::from(p.extension().is_some_and(|x| x == "jinja"));
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(corpus.join("join-list.jinja"), dir.path().join("chat_template.jinja")).unwrap();
    let report = scan_paths(&[dir.path().to_path_buf()]).unwrap();
    // (the corpus' generator script is Python code in a folder, reported as such)
    let names: Vec<&str> = report
        .files
        .iter()
        .map(|f| f.path.rsplit('/').next().unwrap())
        .filter(|n| !n.ends_with(".py"))
        .collect();
    assert_eq!(names, ["chat_template.jinja"]);
    let template = report
        .files
        .iter()
        .find(|f| f.path.ends_with("chat_template.jinja"))
        .unwrap();
    assert_eq!(template.verdict, Verdict::Dangerous);
    let skipped = report.skipped.iter().filter(|s| s.path.ends_with(".jinja")).count();
    assert_eq!(skipped, jinja, "every corpus template stays skipped");
}
