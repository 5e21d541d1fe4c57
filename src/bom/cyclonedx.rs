//! The BOM as CycloneDX 1.6 JSON: one `machine-learning-model` component per checkpoint file (its
//! SHA-256, purl, licence, properties and a model card filled from the bytes), and one
//! `vulnerabilities` entry per scan finding, with the loaders that would run it as properties and
//! CWE-502 (deserialization of untrusted data) for a pickle global, and the CVEs it is an instance
//! of as `references` ([`crate::scan::cves`]).
//!
//! A file's verification ([`super::verification`]) is recorded twice: as `tensorscope:verification*`
//! properties, and, when it was checked, as identity evidence of the component's hash
//! (`evidence.identity`, field `hash`): the technique is `attestation` for an OMS signature and
//! `hash-comparison` for a cache blob checked against its name, with confidence 1 when verified
//! and 0 when it failed.
//!
//! No time stamp is written and the serial number is derived from the content, so two BOMs of the
//! same files are byte-identical.

use serde_json::{Value, json};

use super::verification::{State, Verification};
use super::{Bom, Entry};
use crate::scan::{Finding, Severity};

/// The rule a finding falls under, as in the SARIF output: id, name, description.
fn rule(f: &Finding) -> (&'static str, &'static str, &'static str) {
    let i = match (f.global.is_some(), f.severity) {
        (true, Severity::Dangerous) => 0,
        (true, Severity::Suspicious) => 1,
        (false, Severity::Dangerous) => 2,
        (false, Severity::Suspicious) => 3,
    };
    let (id, name, _, text) = crate::scan::sarif::RULES[i];
    (id, name, text)
}

/// The component's `bom-ref`: the path it was scanned under.
pub fn bom_ref(e: &Entry) -> String {
    format!("model:{}", e.path)
}

fn prop(name: &str, value: impl ToString) -> Value {
    json!({ "name": name, "value": value.to_string() })
}

fn component(e: &Entry) -> Value {
    // a chat-template file is a file of the model, not a model
    let model = e.format != crate::scan::template_files::FORMAT;
    let mut c = json!({
        "type": if model { "machine-learning-model" } else { "file" },
        "bom-ref": bom_ref(e),
        "name": e.name,
    });
    if let Some(sha) = &e.sha256 {
        c["hashes"] = json!([{ "alg": "SHA-256", "content": sha }]);
    }
    if let Some(p) = &e.purl {
        c["purl"] = json!(p);
    }
    if let Some(l) = &e.license {
        c["licenses"] = json!([{ "license": { "name": l } }]);
    }
    let mut props = vec![prop("tensorscope:path", &e.path)];
    if let Some(from) = e.sha256_from {
        props.push(prop("tensorscope:sha256-source", from.as_str()));
    }
    if let Some(b) = e.bytes {
        props.push(prop("tensorscope:bytes", b));
    }
    props.push(prop("tensorscope:format", &e.format));
    if let Some(c) = &e.container {
        props.push(prop("tensorscope:container", c));
    }
    props.push(prop("tensorscope:scan-verdict", &e.verdict));
    for n in &e.notes {
        props.push(prop("tensorscope:note", n));
    }
    if let Some(v) = &e.verification {
        props.push(prop("tensorscope:verification", v.state.as_str()));
        props.push(prop("tensorscope:verification-method", &v.method));
        if !v.detail.is_empty() {
            props.push(prop("tensorscope:verification-detail", &v.detail));
        }
        if let (Some(sha), Some(evidence)) = (&e.sha256, evidence(v)) {
            let mut id = evidence;
            id["concludedValue"] = json!(sha);
            c["evidence"] = json!({ "identity": [id] });
        }
    }
    if model {
        c["modelCard"] = model_card(e);
    } else {
        props.extend(e.templates.iter().map(template_prop));
    }
    c["properties"] = Value::Array(props);
    c
}

/// The identity evidence a checked verification gives the component's hash.
fn evidence(v: &Verification) -> Option<Value> {
    let confidence = match v.state {
        State::Verified => 1.0,
        State::Failed => 0.0,
        State::NotChecked => return None,
    };
    let technique = if v.kind == "oms" {
        "attestation"
    } else {
        "hash-comparison"
    };
    let mut value = format!("{}: {}", v.method, v.state.as_str());
    if !v.detail.is_empty() {
        value.push_str(&format!(" ({})", v.detail));
    }
    Some(json!({
        "field": "hash",
        "confidence": confidence,
        "methods": [{ "technique": technique, "confidence": confidence, "value": value }],
    }))
}

fn template_prop(t: &super::Template) -> Value {
    prop(&format!("tensorscope:chat-template-sha256:{}", t.name), &t.sha256)
}

fn model_card(e: &Entry) -> Value {
    let mut card = json!({ "bom-ref": format!("model-card:{}", e.path) });
    if let Some(a) = &e.architecture {
        card["modelParameters"] = json!({ "modelArchitecture": a });
    }
    let mut props = Vec::new();
    if let Some(p) = e.params {
        props.push(prop("tensorscope:parameters", p));
    }
    if let Some(t) = e.tensors {
        props.push(prop("tensorscope:tensors", t));
    }
    for (d, n) in &e.dtypes {
        props.push(prop(&format!("tensorscope:dtype:{d}"), n));
    }
    if let Some(q) = &e.quantization {
        props.push(prop("tensorscope:quantization", q));
    }
    if let Some(c) = e.context_length {
        props.push(prop("tensorscope:context-length", c));
    }
    props.extend(e.templates.iter().map(template_prop));
    if !props.is_empty() {
        card["properties"] = Value::Array(props);
    }
    card
}

fn vulnerability(e: &Entry, k: usize, f: &Finding) -> Value {
    let (id, name, text) = rule(f);
    let severity = match f.severity {
        Severity::Dangerous => "critical",
        Severity::Suspicious => "medium",
    };
    let mut v = json!({
        "bom-ref": format!("finding:{}:{k}", e.path),
        "id": id,
        "source": { "name": "tensorscope" },
        "ratings": [{ "source": { "name": "tensorscope" }, "severity": severity, "method": "other" }],
        "description": format!("{name}: {text}"),
        "detail": f.why,
        "affects": [{ "ref": bom_ref(e) }],
    });
    if f.global.is_some() {
        v["cwes"] = json!([502]);
    }
    let cves = crate::scan::cves::of(&e.format, f);
    if !cves.is_empty() {
        v["references"] = cves
            .iter()
            .map(|c| json!({ "id": c.id, "source": { "name": "NVD", "url": c.url() } }))
            .collect();
    }
    let mut props = Vec::new();
    if !f.entry.is_empty() {
        props.push(prop("tensorscope:entry", &f.entry));
    }
    if let Some(g) = &f.global {
        props.push(prop("tensorscope:global", g));
    }
    if let Some(o) = f.offset {
        props.push(prop("tensorscope:offset", o));
    }
    for l in &f.loaders {
        props.push(prop("tensorscope:loader", l));
    }
    if !props.is_empty() {
        v["properties"] = Value::Array(props);
    }
    v
}

/// The CycloneDX 1.6 document of `bom`.
pub fn document(bom: &Bom) -> Value {
    let components: Vec<Value> = bom.files.iter().map(component).collect();
    let vulnerabilities: Vec<Value> = bom
        .files
        .iter()
        .flat_map(|e| e.findings.iter().enumerate().map(move |(k, f)| vulnerability(e, k, f)))
        .collect();
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "tools": { "components": [{
                "type": "application",
                "name": "tensorscope",
                "version": bom.tool_version,
            }] },
        },
        "components": components,
    });
    if !vulnerabilities.is_empty() {
        doc["vulnerabilities"] = Value::Array(vulnerabilities);
    }
    // the serial number is the content's: the same files give the same BOM
    let seed = serde_json::to_vec(&doc).unwrap_or_default();
    doc["serialNumber"] = json!(format!("urn:uuid:{}", super::uuid_from(&seed)));
    doc
}
