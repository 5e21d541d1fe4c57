//! What the BOM tests share: parsing a run's document, a folder with a safe and a dangerous
//! checkpoint, and finding components and properties. Used through
//! `#[path = "common/bom.rs"] mod bom;` beside `mod common;`.
#![allow(dead_code)]

use serde_json::Value;

use super::common;

pub fn parse(r: &common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", r.stdout, r.stderr))
}

/// A folder holding a safe checkpoint (with config.json, tokenizer_config.json and a README beside
/// it) and a dangerous one.
pub fn safe_and_dangerous() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(common::sample("gpt2-tiny.safetensors"), d.join("model.safetensors")).unwrap();
    std::fs::copy(common::sample("malicious.bin"), d.join("evil.bin")).unwrap();
    std::fs::copy(common::sample("sharded/config.json"), d.join("config.json")).unwrap();
    std::fs::write(
        d.join("tokenizer_config.json"),
        r#"{"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("README.md"),
        "---\nlanguage: en\nlicense: apache-2.0\n---\n# tiny\n",
    )
    .unwrap();
    dir
}

pub fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}: {doc:#}"))
}

pub fn property<'a>(list: &'a Value, name: &str) -> Option<&'a str> {
    list.as_array()?.iter().find(|p| p["name"] == name)?["value"].as_str()
}
