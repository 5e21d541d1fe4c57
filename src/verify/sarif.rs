//! A verify report as SARIF 2.1.0: one result per file that failed (and one for a signature that
//! failed), so code-scanning services show provenance failures beside scan findings.
//!
//! ```
//! let report = tensorscope::verify::Report {
//!     path: "m".into(), kind: "oms", verified: false, signature: None, against: None,
//!     problem: Some("bad signature".into()), files: vec![], bytes_hashed: 0, hash_seconds: 0.0, threads: 1,
//! };
//! let log = tensorscope::verify::sarif::log(&report);
//! assert_eq!(log["runs"][0]["results"][0]["ruleId"], "TSV001");
//! ```

use serde_json::{Value, json};

use super::{Report, Status};

/// The rules: id, name, short description.
pub const RULES: [(&str, &str, &str); 4] = [
    (
        "TSV001",
        "bad-signature",
        "The signature does not verify with the given key, names another key, or its certificate is not trusted.",
    ),
    (
        "TSV002",
        "changed-file",
        "A file's bytes differ from what was signed (or from the hash that names the blob).",
    ),
    ("TSV003", "missing-file", "A signed file is not in the model."),
    (
        "TSV004",
        "unexpected-file",
        "A file is in the model but not in the signature, is not a regular file, or is a broken link.",
    ),
];

fn rule(s: Status) -> usize {
    match s {
        Status::Changed | Status::Unreadable => 1,
        Status::Missing => 2,
        _ => 3,
    }
}

/// The SARIF log.
pub fn log(r: &Report) -> Value {
    let mut results = Vec::new();
    if let Some(p) = &r.problem {
        let file = r.signature.as_ref().map_or(r.path.clone(), |s| s.file.clone());
        let mut res = result(0, p, &crate::scan::sarif::uri(&file));
        if let Some(c) = r.signature.as_ref().and_then(|s| s.certificate.as_ref()) {
            res["properties"] = json!({"signer": {"subject": c.subject, "issuer": c.issuer, "serial": c.serial}});
        }
        results.push(res);
    }
    for f in r.failures() {
        let uri = if r.path.ends_with('/') || f.name == "." {
            if f.name == "." {
                r.path.clone()
            } else {
                format!("{}{}", r.path, f.name)
            }
        } else {
            format!("{}/{}", r.path, f.name)
        };
        let text = format!("{}: {}", f.status.word(), f.why);
        results.push(result(rule(f.status), &text, &crate::scan::sarif::uri(&uri)));
    }
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, name, text)| json!({"id": id, "name": name, "shortDescription": {"text": text}}))
        .collect();
    let mut run = json!({
        "tool": {"driver": {"name": "tensorscope", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
        "results": results,
    });
    if let Some(s) = &r.signature {
        // the signing method and, for certificates, who signed (verified or not)
        run["properties"] = json!({"signature": {"method": s.method, "key": s.key, "certificate": s.certificate}});
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

fn result(rule: usize, text: &str, uri: &str) -> Value {
    json!({
        "ruleId": RULES[rule].0,
        "ruleIndex": rule,
        "level": "error",
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
    })
}
