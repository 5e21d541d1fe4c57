//! The official schemas vendored under tests/data/schemas/ (CycloneDX 1.6 with its SPDX-licence and
//! JSF sub-schemas, SPDX 3.0.1 JSON-LD, SARIF 2.1.0), and validation against them with no network.
//! Used by the BOM tests through `#[path = "common/schema.rs"] mod schema;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schemas")
}

fn load(rel: &str) -> Value {
    let p = schema_dir().join(rel);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Which official schema a document must satisfy.
#[derive(Clone, Copy, Debug)]
pub enum Schema {
    CycloneDx16,
    Spdx301,
    Sarif210,
}

/// Validate `doc` against `schema` (formats checked too), panicking with every error found.
pub fn validate(doc: &Value, schema: Schema) {
    let errors: Vec<String> = match schema {
        Schema::CycloneDx16 => {
            // the BOM schema refers to its two sub-schemas by relative URI: served from the files
            let registry = jsonschema::Registry::new()
                .add(
                    "http://cyclonedx.org/schema/spdx.schema.json",
                    load("cyclonedx/spdx.schema.json"),
                )
                .unwrap()
                .add(
                    "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                    load("cyclonedx/jsf-0.82.schema.json"),
                )
                .unwrap()
                .prepare()
                .unwrap();
            let v = jsonschema::options()
                .should_validate_formats(true)
                .with_registry(&registry)
                .build(&load("cyclonedx/bom-1.6.schema.json"))
                .expect("the CycloneDX 1.6 schema compiles");
            v.iter_errors(doc)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect()
        }
        Schema::Spdx301 | Schema::Sarif210 => {
            let file = match schema {
                Schema::Spdx301 => "spdx/spdx-json-schema-3.0.1.json",
                _ => "sarif/sarif-schema-2.1.0.json",
            };
            let v = jsonschema::options()
                .should_validate_formats(true)
                .build(&load(file))
                .unwrap_or_else(|e| panic!("{file} compiles: {e}"));
            v.iter_errors(doc)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect()
        }
    };
    assert!(
        errors.is_empty(),
        "{schema:?}: {} errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
