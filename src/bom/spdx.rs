//! The BOM as SPDX 3.0.1 JSON-LD with the AI profile: an `SpdxDocument` holding a `software_Sbom`,
//! one `ai_AIPackage` per checkpoint file (its SHA-256 as `verifiedUsing`, its purl, what was read
//! from the bytes as `ai_hyperparameter` entries, the architecture as `ai_typeOfModel`), its
//! declared licence as a `hasDeclaredLicense` relationship, and the scan verdict and each finding as
//! `review` annotations on the package. A finding that is an instance of a CVE
//! ([`crate::scan::cves`]) links the package to a `security_Vulnerability` (its CVE as an
//! `ExternalIdentifier`) by a `hasAssociatedVulnerability` relationship. A file's verification
//! ([`super::verification`]) is one more `review` annotation: `tensorscope verification: …`.
//!
//! Identifiers are derived from the content (`urn:tensorscope:UUID#…`); the one time stamp, the
//! required `created`, is [`super::timestamp`] (`SOURCE_DATE_EPOCH` when set).

use serde_json::{Value, json};

use super::{Bom, Entry};

const CREATION: &str = "_:creationinfo";

fn entry(key: &str, value: impl ToString) -> Value {
    json!({ "type": "DictionaryEntry", "key": key, "value": value.to_string() })
}

/// The `ai_hyperparameter` entries of a file: what the bytes say about the model.
fn facts(e: &Entry) -> Vec<Value> {
    let mut v = Vec::new();
    if let Some(p) = e.params {
        v.push(entry("parameters", p));
    }
    if let Some(t) = e.tensors {
        v.push(entry("tensors", t));
    }
    for (d, n) in &e.dtypes {
        v.push(entry(&format!("dtype:{d}"), n));
    }
    if let Some(q) = &e.quantization {
        v.push(entry("quantization", q));
    }
    if let Some(c) = e.context_length {
        v.push(entry("context_length", c));
    }
    for t in &e.templates {
        v.push(entry(&format!("chat_template_sha256:{}", t.name), &t.sha256));
    }
    v
}

fn package(e: &Entry, id: &str) -> Value {
    // a chat-template file is a file of the model (its fingerprints in the comment), not a model
    let model = e.format != crate::scan::template_files::FORMAT;
    let mut p = json!({
        "type": if model { "ai_AIPackage" } else { "software_File" },
        "spdxId": id,
        "creationInfo": CREATION,
        "name": e.name,
        "software_primaryPurpose": if model { "model" } else { "configuration" },
    });
    let mut comment = format!("scanned as {}; format {}", e.path, e.format);
    if let Some(c) = &e.container {
        comment.push_str(&format!(", container {c}"));
    }
    if let Some(b) = e.bytes {
        comment.push_str(&format!(", {b} bytes"));
    }
    if let Some(from) = e.sha256_from {
        comment.push_str(&format!("; sha256 {}", from.as_str()));
    }
    for n in &e.notes {
        comment.push_str(&format!("; {n}"));
    }
    if !model {
        for t in &e.templates {
            comment.push_str(&format!("; chat template {} sha256 {}", t.name, t.sha256));
        }
    }
    p["comment"] = json!(comment);
    if let Some(sha) = &e.sha256 {
        p["verifiedUsing"] = json!([{ "type": "Hash", "algorithm": "sha256", "hashValue": sha }]);
    }
    if let Some(purl) = &e.purl {
        p["software_packageUrl"] = json!(purl);
    }
    if !model {
        return p;
    }
    if let Some(a) = &e.architecture {
        p["ai_typeOfModel"] = json!([a]);
    }
    let facts = facts(e);
    if !facts.is_empty() {
        p["ai_hyperparameter"] = Value::Array(facts);
    }
    p
}

fn annotation(id: String, subject: &str, statement: String) -> Value {
    json!({
        "type": "Annotation",
        "spdxId": id,
        "creationInfo": CREATION,
        "annotationType": "review",
        "subject": subject,
        "statement": statement,
    })
}

/// A CVE as an SPDX security element.
fn vulnerability(id: &str, c: crate::scan::cves::Cve) -> Value {
    json!({
        "type": "security_Vulnerability",
        "spdxId": id,
        "creationInfo": CREATION,
        "name": c.id,
        "summary": c.what,
        "externalIdentifier": [{
            "type": "ExternalIdentifier",
            "externalIdentifierType": "cve",
            "identifier": c.id,
            "identifierLocator": [c.url()],
        }],
    })
}

/// The SPDX 3.0.1 JSON-LD document of `bom`, created at `created` (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn document_at(bom: &Bom, created: &str) -> Value {
    // the namespace is the content's: the same files give the same identifiers
    let seed = serde_json::to_vec(&bom.files).unwrap_or_default();
    let ns = format!("urn:tensorscope:{}", super::uuid_from(&seed));
    let agent = format!("{ns}#agent");
    let tool = format!("{ns}#tool");
    let sbom = format!("{ns}#sbom");
    let mut graph = vec![
        json!({
            "type": "CreationInfo",
            "@id": CREATION,
            "specVersion": "3.0.1",
            "created": created,
            "createdBy": [agent],
            "createdUsing": [tool],
        }),
        json!({
            "type": "SoftwareAgent",
            "spdxId": agent,
            "creationInfo": CREATION,
            "name": "tensorscope",
        }),
        json!({
            "type": "Tool",
            "spdxId": tool,
            "creationInfo": CREATION,
            "name": format!("tensorscope {}", bom.tool_version),
        }),
    ];
    let mut elements = vec![agent.clone(), tool.clone()];
    let mut roots = Vec::new();
    for (i, e) in bom.files.iter().enumerate() {
        let id = format!("{ns}#model-{i}");
        graph.push(package(e, &id));
        roots.push(id.clone());
        elements.push(id.clone());
        if let Some(l) = &e.license {
            let lic = format!("{ns}#license-{i}");
            let rel = format!("{ns}#declared-license-{i}");
            graph.push(json!({
                "type": "simplelicensing_LicenseExpression",
                "spdxId": lic,
                "creationInfo": CREATION,
                "simplelicensing_licenseExpression": l,
            }));
            graph.push(json!({
                "type": "Relationship",
                "spdxId": rel,
                "creationInfo": CREATION,
                "from": id,
                "relationshipType": "hasDeclaredLicense",
                "to": [lic],
            }));
            elements.push(lic);
            elements.push(rel);
        }
        let verdict = format!("{ns}#verdict-{i}");
        graph.push(annotation(
            verdict.clone(),
            &id,
            format!("tensorscope scan verdict: {}", e.verdict),
        ));
        elements.push(verdict);
        for (k, f) in e.findings.iter().enumerate() {
            let aid = format!("{ns}#finding-{i}-{k}");
            let mut s = format!("{} finding", f.severity.as_str());
            if !f.entry.is_empty() {
                s.push_str(&format!(" in {}", f.entry));
            }
            if let Some(g) = &f.global {
                s.push_str(&format!(" ({g})"));
            }
            s.push_str(&format!(": {}", f.why));
            if !f.loaders.is_empty() {
                s.push_str(&format!("; run by: {}", f.loaders.join(", ")));
            }
            let cves = crate::scan::cves::of(&e.format, f);
            if !cves.is_empty() {
                s.push_str(&format!(
                    "; {}",
                    cves.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
                ));
            }
            graph.push(annotation(aid.clone(), &id, s));
            elements.push(aid);
            for c in cves {
                let vid = format!("{ns}#{}", c.id);
                if !elements.contains(&vid) {
                    graph.push(vulnerability(&vid, c));
                    elements.push(vid.clone());
                }
                let rel = format!("{ns}#vulnerability-{i}-{k}-{}", c.id);
                graph.push(json!({
                    "type": "Relationship",
                    "spdxId": rel,
                    "creationInfo": CREATION,
                    "from": id,
                    "relationshipType": "hasAssociatedVulnerability",
                    "to": [vid],
                }));
                elements.push(rel);
            }
        }
        if let Some(v) = &e.verification {
            let vid = format!("{ns}#verification-{i}");
            let mut s = format!("tensorscope verification: {}; method: {}", v.state.as_str(), v.method);
            if !v.detail.is_empty() {
                s.push_str(&format!("; {}", v.detail));
            }
            graph.push(annotation(vid.clone(), &id, s));
            elements.push(vid);
        }
    }
    graph.push(json!({
        "type": "software_Sbom",
        "spdxId": sbom,
        "creationInfo": CREATION,
        "rootElement": roots,
        "element": elements,
        "software_sbomType": ["analyzed"],
    }));
    graph.push(json!({
        "type": "SpdxDocument",
        "spdxId": format!("{ns}#document"),
        "creationInfo": CREATION,
        "name": "tensorscope AI bill of materials",
        "rootElement": [sbom],
        "element": [sbom],
        "profileConformance": ["ai", "core", "security", "simpleLicensing", "software"],
    }));
    json!({
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": graph,
    })
}

/// [`document_at`] the time [`super::timestamp`] gives.
pub fn document(bom: &Bom) -> Value {
    document_at(bom, &super::timestamp())
}
