//! The scan report as SARIF 2.1.0 (Static Analysis Results Interchange Format), which code-scanning
//! services (GitHub code scanning, GitLab, Azure DevOps) ingest: one run, one result per finding
//! with a rule id, the file as the location (a byte offset when the finding is located in the file
//! itself rather than inside a zip entry), and the entry, global, loaders and CVEs
//! ([`super::cves`]) as properties.
//!
//! ```
//! let report = tensorscope::scan::ScanReport {
//!     files: vec![tensorscope::scan::scan_bytes("evil.pkl", b"cposix\nsystem\n(S'x'\ntR.")],
//!     ..Default::default()
//! };
//! let log = tensorscope::scan::sarif::log(&report);
//! assert_eq!(log["version"], "2.1.0");
//! assert_eq!(log["runs"][0]["results"][0]["ruleId"], "TS001");
//! ```

use serde_json::{Value, json};

use super::{FileScan, Finding, ScanReport, Severity, Verdict};

/// The rules: id, name, level, short description.
pub const RULES: [(&str, &str, &str, &str); 5] = [
    (
        "TS001",
        "dangerous-global",
        "error",
        "A pickle names a global known to run code, touch files, the network or processes, or load another pickle.",
    ),
    (
        "TS002",
        "suspicious-global",
        "warning",
        "A pickle names a global that is not needed to rebuild tensors (not on the allowlist).",
    ),
    (
        "TS003",
        "dangerous-content",
        "error",
        "The file holds something known to be harmful that is not a global: a chat template (in a GGUF or a model folder's template file) that reaches Python internals, a TorchScript archive, a BUILD on a class, a hostile dtype.",
    ),
    (
        "TS004",
        "not-fully-scanned",
        "warning",
        "Part of the file could not be scanned, readers would interpret it differently, or a chat template uses a construct outside the allowlist (a computed name, unbounded work, another template, a template that does not parse).",
    ),
    (
        "TS005",
        "invalid-file",
        "error",
        "The file is not what it claims to be (an invalid safetensors header).",
    ),
];

fn rule_of(f: &Finding) -> usize {
    match (f.global.is_some(), f.severity) {
        (true, Severity::Dangerous) => 0,
        (true, Severity::Suspicious) => 1,
        (false, Severity::Dangerous) => 2,
        (false, Severity::Suspicious) => 3,
    }
}

/// A file path as a URI reference: percent-encode everything but unreserved characters and `/`.
/// A remote path (`hf://…`, `https://…`) is already a URI: its scheme is kept, the rest encoded.
pub fn uri(path: &str) -> String {
    let (scheme, rest) = match path.split_once("://") {
        Some((s, r)) if crate::remote::is_remote(path) => (Some(s), r),
        _ => (None, path),
    };
    let mut out = scheme.map(|s| format!("{s}://")).unwrap_or_default();
    for b in rest.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(file: &FileScan, offset: Option<u64>, in_file: bool) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": uri(&file.path) } });
    if let (Some(o), true) = (offset, in_file) {
        physical["region"] = json!({ "byteOffset": o });
    }
    json!({ "physicalLocation": physical })
}

/// The SARIF 2.1.0 log of a scan report.
pub fn log(report: &ScanReport) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, name, level, text)| {
            json!({
                "id": id,
                "name": name,
                "shortDescription": { "text": text },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    let mut results = Vec::new();
    for file in &report.files {
        if file.verdict == Verdict::Error {
            let text = file.error.clone().unwrap_or_else(|| "invalid file".into());
            results.push(json!({
                "ruleId": RULES[4].0,
                "ruleIndex": 4,
                "level": RULES[4].2,
                "message": { "text": text },
                "locations": [location(file, None, false)],
            }));
        }
        for f in &file.findings {
            let r = rule_of(f);
            let mut text = String::new();
            if !f.entry.is_empty() {
                text.push_str(&format!("{}: ", f.entry));
            }
            if let Some(g) = &f.global {
                text.push_str(&format!("{g}: "));
            }
            text.push_str(&f.why);
            let cves: Vec<String> = super::cves::of(&file.format, f)
                .iter()
                .map(|c| c.id.to_owned())
                .collect();
            results.push(json!({
                "ruleId": RULES[r].0,
                "ruleIndex": r,
                "level": RULES[r].2,
                "message": { "text": text },
                "locations": [location(file, f.offset, f.entry.is_empty())],
                "properties": {
                    "entry": f.entry,
                    "global": f.global,
                    "loaders": f.loaders,
                    "cves": cves,
                    "severity": f.severity.as_str(),
                    "fileVerdict": file.verdict.as_str(),
                    "format": file.format,
                },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "tensorscope",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "artifacts": report.files.iter().map(|f| json!({ "location": { "uri": uri(&f.path) } })).collect::<Vec<_>>(),
            "results": results,
        }],
    })
}
