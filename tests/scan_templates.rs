//! Chat templates judged by their syntax tree (issue 23, class 2), on two corpora:
//! - `tests/data/scan/templates/real/`: chat templates shipped by real models (`SOURCES` names the
//!   repository, commit and path of each; `collect.py` copied them). Every one must scan safe: the
//!   false-alarm rate on real templates is 0.
//! - `tests/data/scan/templates/malicious/`: templates that build their dunder names while they
//!   render, rename gadget globals, or exhaust memory inside the sandbox, each confirmed against
//!   jinja2 by `gen.py` (the code-running ones print a shell command's output when rendered without
//!   the sandbox). Every one must scan at its manifest's verdict or worse.
//!
//! Each template is put in a GGUF as `tokenizer.chat_template` and scanned as a file; the CLI runs
//! on a folder of them; random cuts and splices of the corpus never panic.

mod common;

use std::path::{Path, PathBuf};

use common::gguf::Builder;
use common::{run, write};
use proptest::prelude::*;
use serde_json::Value;
use tensorscope::scan::{Severity, Verdict, loaders, scan_bytes};

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scan/templates")
        .join(sub)
}

fn gguf(template: &str) -> Vec<u8> {
    Builder::default()
        .kv_str("general.architecture", "llama")
        .kv_str("tokenizer.chat_template", template)
        .f32s("a", &[1.0; 8])
        .bytes()
}

fn real() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir("real"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jinja"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn malicious() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir("malicious").join("manifest.json")).unwrap();
    let m: Vec<Value> = serde_json::from_str(&text).unwrap();
    m.iter()
        .map(|e| {
            let file = e["file"].as_str().unwrap().to_owned();
            let t = std::fs::read_to_string(dir("malicious").join(&file)).unwrap();
            (file, t, e["verdict"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn the_real_corpus_is_large_and_named() {
    let real = real();
    assert!(real.len() >= 100, "only {} real templates", real.len());
    let sources = std::fs::read_to_string(dir("real").join("SOURCES")).unwrap();
    for (name, _) in &real {
        let line = sources.lines().find(|l| l.starts_with(&format!("{name}\t")));
        let fields: Vec<&str> = line
            .unwrap_or_else(|| panic!("{name} not in SOURCES"))
            .split('\t')
            .collect();
        assert_eq!(fields.len(), 4, "{name}: file, model, repository@commit, path");
        assert!(fields[2].contains('@'), "{name}: {}", fields[2]);
    }
}

#[test]
fn every_real_template_scans_safe() {
    let mut alarms = Vec::new();
    for (name, t) in real() {
        let r = scan_bytes(format!("{name}.gguf"), &gguf(&t));
        assert_eq!(r.templates, Some(1), "{name}");
        if r.verdict != Verdict::Safe {
            alarms.push(format!("{name}: {:?}: {:#?}", r.verdict, r.findings));
        }
    }
    assert!(
        alarms.is_empty(),
        "{} false alarms:\n{}",
        alarms.len(),
        alarms.join("\n")
    );
}

#[test]
fn every_malicious_template_is_caught() {
    let mut missed = Vec::new();
    for (file, t, verdict) in malicious() {
        let r = scan_bytes(format!("{file}.gguf"), &gguf(&t));
        let ok = match verdict.as_str() {
            "dangerous" => r.verdict == Verdict::Dangerous,
            _ => matches!(r.verdict, Verdict::Suspicious | Verdict::Dangerous),
        };
        if !ok {
            missed.push(format!(
                "{file}: expected {verdict}, got {:?} {:#?}",
                r.verdict, r.findings
            ));
        }
        for f in &r.findings {
            assert_eq!(f.entry, "tokenizer.chat_template", "{file}");
            assert!(
                f.loaders.iter().any(|l| l == loaders::TEMPLATE),
                "{file}: {:?}",
                f.loaders
            );
        }
        if verdict == "suspicious" {
            // memory exhaustion is not stopped by the sandbox: sandboxed renderers are named too
            let sandboxed = r
                .findings
                .iter()
                .any(|f| f.loaders.iter().any(|l| l == loaders::TEMPLATE_SANDBOXED));
            assert!(sandboxed, "{file}: {:#?}", r.findings);
        }
        let worst = r.findings.iter().map(|f| f.severity).max();
        if verdict == "dangerous" {
            assert_eq!(worst, Some(Severity::Dangerous), "{file}");
        }
    }
    assert!(missed.is_empty(), "{} missed:\n{}", missed.len(), missed.join("\n"));
}

#[test]
fn the_cli_scans_a_folder_of_templates() {
    let d = tempfile::tempdir().unwrap();
    for (name, t) in real().iter().take(20) {
        write(d.path(), &format!("{name}.gguf"), &gguf(t));
    }
    let r = run(&["scan", d.path().to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let (file, t, _) = &malicious()[0];
    write(d.path(), "evil.gguf", &gguf(t));
    let r = run(&["scan", d.path().join("evil.gguf").to_str().unwrap()]);
    assert_eq!(r.code, 1, "{file}: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("built while the template renders"), "{}", r.stdout);
    assert!(r.stdout.contains("CVE-2024-34359"), "{}", r.stdout);
}

/// Review 37's two evasions, as the reviewer made them (`templates/review37/`, confirmed with
/// llama-cpp-python 0.2.71 running the payload): dunders spelled with `\U0000005f` string escapes,
/// and a raw block that Jinja2 ends at `{%<U+00A0>endraw %}`. Each GGUF, each template file of
/// its folder and the plain control scan dangerous; both scanned safe before.
#[test]
fn the_review_37_templates_are_read_as_jinja2_reads_them() {
    for case in ["gguf-template-unicode-escape", "gguf-template-raw-unicode-space"] {
        let d = dir("review37").join(case);
        let r = tensorscope::scan::scan_file(&d.join("tiny-chat.gguf"));
        assert_eq!(r.verdict, Verdict::Dangerous, "{case}: {:#?}", r.findings);
        assert_eq!(r.templates, Some(1), "{case}");
        let report = tensorscope::scan::scan_paths(&[d.join("folder"), d.join("control")]).unwrap();
        let verdicts: Vec<_> = report
            .files
            .iter()
            .map(|f| (f.path.rsplit_once("/review37/").unwrap().1, f.verdict))
            .collect();
        assert_eq!(verdicts.len(), 3, "{case}: {verdicts:?}");
        assert!(
            verdicts.iter().all(|v| v.1 == Verdict::Dangerous),
            "{case}: {verdicts:?}"
        );
    }
    // the raw block's odd whitespace is named on its own, at its offset
    let t = std::fs::read_to_string(dir("review37").join("gguf-template-raw-unicode-space/folder/chat_template.jinja"))
        .unwrap();
    let r = scan_bytes("raw.gguf", &gguf(&t));
    let at = t.find('\u{a0}').unwrap();
    assert!(
        r.findings
            .iter()
            .any(|f| f.offset == Some(at as u64) && f.why.contains("U+00A0")),
        "{:#?}",
        r.findings
    );
}

/// Cut a string at a byte index, rounded down to a character boundary.
fn cut(s: &str, at: usize) -> &str {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Pieces of real and malicious templates spliced together at random: the check never panics
    /// and never calls a broken template safe unless it parses.
    #[test]
    fn spliced_templates_never_panic(a in 0usize..1000, b in 0usize..1000, x in 0usize..100_000, y in 0usize..100_000, junk in "[{}%#()\\[\\]'\"~|._a-z0-9 ]{0,40}") {
        let real = real();
        let bad = malicious();
        let first = &real[a % real.len()].1;
        let second = if b % 2 == 0 { &real[b % real.len()].1 } else { &bad[b % bad.len()].1 };
        let from = cut(second, y % (second.len() + 1)).len();
        let t = format!("{}{junk}{}", cut(first, x % (first.len() + 1)), &second[from..]);
        let r = scan_bytes("spliced.gguf", &gguf(&t));
        prop_assert!(r.templates == Some(1));
    }
}
