//! `scan --format cyclonedx|spdx`: an AI bill of materials from the bytes. Every document the tests
//! write is validated against the official schemas vendored under tests/data/schemas/ (CycloneDX
//! 1.6 with its SPDX-licence and JSF sub-schemas, SPDX 3.0.1 JSON-LD, SARIF 2.1.0), with no
//! network (tests/common/schema.rs); the SARIF of `scan` and `verify` is validated too. The
//! verification statuses are tested in cli_bom_verify.rs.

#[path = "common/bom.rs"]
mod bom;
mod common;
#[path = "common/schema.rs"]
mod schema;

use std::path::Path;

use bom::{component, parse, property, safe_and_dangerous};
use common::hub::{self, Hub};
use schema::{Schema, validate};
use sha2::Digest;

fn sha256_of(p: &Path) -> String {
    hub::hex(&sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn cyclonedx_of_a_safe_and_a_dangerous_checkpoint_validates_and_carries_both_hashes_and_the_finding() {
    let dir = safe_and_dangerous();
    let folder = dir.path().to_str().unwrap();
    let r = common::run(&["scan", folder, "--format", "cyclonedx"]);
    assert_eq!(r.code, 1, "a dangerous file fails the scan: {}", r.stderr);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    assert_eq!(doc["specVersion"], "1.6");

    let safe = component(&doc, "model.safetensors");
    let evil = component(&doc, "evil.bin");
    for (c, file) in [(safe, "model.safetensors"), (evil, "evil.bin")] {
        assert_eq!(c["type"], "machine-learning-model");
        assert_eq!(c["hashes"][0]["alg"], "SHA-256");
        assert_eq!(c["hashes"][0]["content"], sha256_of(&dir.path().join(file)), "{file}");
        assert_eq!(
            property(&c["properties"], "tensorscope:sha256-source"),
            Some("computed-from-bytes")
        );
    }
    // the model card is filled from the bytes: the count `inspect` gives, the dtypes, the template
    let inspect = parse(&common::run(&[
        "inspect",
        &dir.path().join("model.safetensors").to_string_lossy(),
        "--json",
    ]));
    let card = &safe["modelCard"];
    let params = property(&card["properties"], "tensorscope:parameters").unwrap();
    assert_eq!(params, inspect["total_params"].to_string(), "inspect: {inspect:#}");
    assert!(
        property(&card["properties"], "tensorscope:dtype:F32").is_some(),
        "{card:#}"
    );
    assert_eq!(card["modelParameters"]["modelArchitecture"], "GPT2LMHeadModel");
    assert_eq!(property(&card["properties"], "tensorscope:context-length"), Some("128"));
    let template = "{% for m in messages %}{{ m.content }}{% endfor %}";
    assert_eq!(
        property(
            &card["properties"],
            "tensorscope:chat-template-sha256:tokenizer_config.json"
        ),
        Some(hub::hex(&sha2::Sha256::digest(template.as_bytes())).as_str())
    );
    assert_eq!(safe["licenses"][0]["license"]["name"], "apache-2.0");
    assert_eq!(property(&safe["properties"], "tensorscope:scan-verdict"), Some("safe"));

    // the dangerous finding is a vulnerability of the dangerous file, with the loaders that run it
    let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
    let v = vulns
        .iter()
        .find(|v| v["affects"][0]["ref"] == evil["bom-ref"] && v["ratings"][0]["severity"] == "critical")
        .unwrap_or_else(|| panic!("no critical finding on evil.bin: {doc:#}"));
    assert_eq!(v["id"], "TS001");
    assert_eq!(v["cwes"][0], 502);
    assert_eq!(property(&v["properties"], "tensorscope:global"), Some("posix.system"));
    assert!(property(&v["properties"], "tensorscope:loader").is_some(), "{v:#}");
    assert!(vulns.iter().all(|v| v["affects"][0]["ref"] != safe["bom-ref"]));

    // deterministic: the same files give the same bytes
    let again = common::run(&["scan", folder, "--format", "cyclonedx"]);
    assert_eq!(r.stdout, again.stdout);
}

#[test]
fn spdx_of_the_same_folder_validates_and_is_reproducible() {
    let dir = safe_and_dangerous();
    let folder = dir.path().to_str().unwrap();
    let env = [("SOURCE_DATE_EPOCH", "1733529600")];
    let r = common::run_env(&["scan", folder, "--format", "spdx"], &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = parse(&r);
    validate(&doc, Schema::Spdx301);
    let graph = doc["@graph"].as_array().unwrap();
    assert_eq!(graph[0]["created"], "2024-12-07T00:00:00Z");
    let pkg = |name: &str| {
        graph
            .iter()
            .find(|e| e["type"] == "ai_AIPackage" && e["name"] == name)
            .unwrap_or_else(|| panic!("no package {name}"))
    };
    let safe = pkg("model.safetensors");
    assert_eq!(safe["verifiedUsing"][0]["algorithm"], "sha256");
    assert_eq!(
        safe["verifiedUsing"][0]["hashValue"],
        sha256_of(&dir.path().join("model.safetensors"))
    );
    assert_eq!(safe["software_primaryPurpose"], "model");
    assert_eq!(safe["ai_typeOfModel"][0], "GPT2LMHeadModel");
    let evil = pkg("evil.bin");
    assert_eq!(
        evil["verifiedUsing"][0]["hashValue"],
        sha256_of(&dir.path().join("evil.bin"))
    );
    let finding = graph
        .iter()
        .find(|e| {
            e["type"] == "Annotation"
                && e["subject"] == evil["spdxId"]
                && e["statement"].as_str().unwrap().contains("posix.system")
        })
        .unwrap_or_else(|| panic!("no finding annotation: {doc:#}"));
    assert!(finding["statement"].as_str().unwrap().starts_with("dangerous finding"));
    let licence = graph
        .iter()
        .find(|e| e["type"] == "Relationship" && e["relationshipType"] == "hasDeclaredLicense")
        .unwrap();
    assert_eq!(licence["from"], safe["spdxId"]);
    let again = common::run_env(&["scan", folder, "--format", "spdx"], &env);
    assert_eq!(r.stdout, again.stdout);
}

#[test]
fn gguf_bom_reads_architecture_context_licence_quantization_and_template_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let template = "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}";
    let tool_use = "{{ tools }}";
    let g = common::gguf::Builder::default()
        .kv_str("general.architecture", "llama")
        .kv_u32("llama.context_length", 4096)
        .kv_str("general.license", "mit")
        .kv_str("tokenizer.chat_template", template)
        .kv_str("tokenizer.chat_template.tool_use", tool_use)
        // one Q8_0 block (type 8): 32 weights in 34 bytes
        .tensor("blk.0.attn_q.weight", &[32], 8, &[0u8; 34])
        .f32s("output_norm.weight", &[1.0; 4]);
    let path = dir.path().join("tiny.gguf");
    std::fs::write(&path, g.bytes()).unwrap();
    let r = common::run(&["scan", path.to_str().unwrap(), "--format", "cyclonedx"]);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    let c = &doc["components"][0];
    let card = &c["modelCard"]["properties"];
    assert_eq!(c["modelCard"]["modelParameters"]["modelArchitecture"], "llama");
    assert_eq!(property(card, "tensorscope:context-length"), Some("4096"));
    assert_eq!(property(card, "tensorscope:parameters"), Some("36"));
    assert_eq!(property(card, "tensorscope:quantization"), Some("GGML blocks: Q8_0"));
    assert_eq!(c["licenses"][0]["license"]["name"], "mit");
    let fp = |s: &str| hub::hex(&sha2::Sha256::digest(s.as_bytes()));
    assert_eq!(
        property(card, "tensorscope:chat-template-sha256:tokenizer.chat_template"),
        Some(fp(template).as_str())
    );
    assert_eq!(
        property(
            card,
            "tensorscope:chat-template-sha256:tokenizer.chat_template.tool_use"
        ),
        Some(fp(tool_use).as_str())
    );
    let spdx = parse(&common::run_env(
        &["scan", path.to_str().unwrap(), "--format", "spdx"],
        &[("SOURCE_DATE_EPOCH", "0")],
    ));
    validate(&spdx, Schema::Spdx301);
}

/// `hf://` paths: the SHA-256 is the Hub's LFS metadata (the file is not downloaded), the purl names
/// the commit.
#[test]
fn hub_bom_takes_hashes_from_the_lfs_listing_without_downloading() {
    let hub = Hub::start();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let env = [
        ("HF_ENDPOINT", hub.endpoint.as_str()),
        ("XDG_CACHE_HOME", c),
        ("HOME", c),
        ("TENSORSCOPE_HTTP_TIMEOUT", "10"),
        ("SOURCE_DATE_EPOCH", "0"),
    ];
    let r = common::run_env(&["scan", "hf://tiny/single", "--format", "cyclonedx"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    let m = component(&doc, "model.safetensors");
    let sample = Path::new(&common::sample("gpt2-tiny.safetensors")).to_path_buf();
    assert_eq!(m["hashes"][0]["content"], sha256_of(&sample));
    assert_eq!(
        property(&m["properties"], "tensorscope:sha256-source"),
        Some("hub-lfs-metadata")
    );
    assert_eq!(m["purl"], format!("pkg:huggingface/tiny/single@{}", hub::COMMIT));
    let size = std::fs::metadata(&sample).unwrap().len();
    assert!(
        hub.stats.cdn_bytes() < size / 2,
        "the file was downloaded: {} of {size} bytes",
        hub.stats.cdn_bytes()
    );
    let spdx = parse(&common::run_env(
        &["scan", "hf://tiny/single", "--format", "spdx"],
        &env,
    ));
    validate(&spdx, Schema::Spdx301);
    let pkg = spdx["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ai_AIPackage")
        .unwrap();
    assert_eq!(pkg["software_packageUrl"], m["purl"]);
    assert_eq!(pkg["verifiedUsing"][0]["hashValue"], m["hashes"][0]["content"]);
}

#[test]
fn scan_and_verify_sarif_validate_against_sarif_2_1_0() {
    // every sample: safe, suspicious and dangerous files, skipped files
    let r = common::run(&["scan", &common::sample(""), "--format", "sarif"]);
    let log = parse(&r);
    assert!(log["runs"][0]["results"].as_array().is_some_and(|r| !r.is_empty()));
    validate(&log, Schema::Sarif210);
    // a verify that fails (a changed blob of a cache folder)
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("models--o--n");
    let data = b"hello";
    let sha = hub::hex(&sha2::Sha256::digest(data));
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots/abc")).unwrap();
    std::fs::write(repo.join("blobs").join(&sha), b"hellO").unwrap();
    std::os::unix::fs::symlink(format!("../../blobs/{sha}"), repo.join("snapshots/abc/f.bin")).unwrap();
    let r = common::run(&["verify", repo.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = parse(&r);
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
    validate(&log, Schema::Sarif210);
}

#[test]
fn the_validator_rejects_what_the_schemas_forbid() {
    // the checks above mean something only if a wrong document fails
    let dir = safe_and_dangerous();
    let mut doc = parse(&common::run(&[
        "scan",
        dir.path().to_str().unwrap(),
        "--format",
        "cyclonedx",
    ]));
    doc["components"][0]["hashes"][0]["alg"] = "SHA-257".into();
    let caught = std::panic::catch_unwind(|| validate(&doc, Schema::CycloneDx16));
    assert!(caught.is_err());
    let mut spdx = parse(&common::run(&[
        "scan",
        dir.path().to_str().unwrap(),
        "--format",
        "spdx",
    ]));
    spdx["@graph"][0]["created"] = "yesterday".into();
    assert!(std::panic::catch_unwind(|| validate(&spdx, Schema::Spdx301)).is_err());
}

#[test]
fn findings_carry_the_cves_they_are_instances_of() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scan = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan");
    std::fs::copy(scan.join("malicious/torchscript.pt"), d.join("torchscript.pt")).unwrap();
    std::fs::copy(scan.join("malicious/object-word.npy"), d.join("object.npy")).unwrap();
    std::fs::copy(common::sample("malicious.bin"), d.join("evil.bin")).unwrap();
    let payload = std::fs::read_to_string(scan.join("templates/malicious/set-underscore-concat.jinja")).unwrap();
    let g = common::gguf::Builder::default()
        .kv_str("general.architecture", "llama")
        .kv_str("tokenizer.chat_template", &payload)
        .f32s("a", &[1.0; 4]);
    std::fs::write(d.join("evil.gguf"), g.bytes()).unwrap();
    std::fs::write(d.join("chat_template.jinja"), &payload).unwrap();
    let r = common::run(&["scan", d.to_str().unwrap(), "--format", "cyclonedx"]);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    let cves_of = |name: &str| -> Vec<String> {
        let c = component(&doc, name);
        doc["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["affects"][0]["ref"] == c["bom-ref"])
            .flat_map(|v| v["references"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                assert_eq!(
                    r["source"]["url"],
                    format!("https://nvd.nist.gov/vuln/detail/{}", r["id"].as_str().unwrap())
                );
                r["id"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    assert!(
        cves_of("torchscript.pt").contains(&"CVE-2025-32434".to_owned()),
        "{doc:#}"
    );
    assert!(cves_of("object.npy").contains(&"CVE-2019-6446".to_owned()), "{doc:#}");
    // one reference per finding: the template reaches Python internals three ways
    let gguf = cves_of("evil.gguf");
    assert!(
        !gguf.is_empty() && gguf.iter().all(|c| c == "CVE-2024-34359"),
        "{gguf:?}"
    );
    // by design, not a CVE: a pickle global under torch.load(weights_only=False); a template file
    assert!(cves_of("evil.bin").is_empty());
    assert!(cves_of("chat_template.jinja").is_empty());
    let t = component(&doc, "chat_template.jinja");
    assert_eq!(t["type"], "file");
    assert!(property(&t["properties"], "tensorscope:chat-template-sha256:chat_template.jinja").is_some());
    let spdx = parse(&common::run_env(
        &["scan", d.to_str().unwrap(), "--format", "spdx"],
        &[("SOURCE_DATE_EPOCH", "0")],
    ));
    validate(&spdx, Schema::Spdx301);
    let graph = spdx["@graph"].as_array().unwrap();
    let vuln = graph
        .iter()
        .find(|e| e["type"] == "security_Vulnerability" && e["name"] == "CVE-2024-34359")
        .unwrap();
    assert!(
        graph
            .iter()
            .any(|e| e["relationshipType"] == "hasAssociatedVulnerability" && e["to"][0] == vuln["spdxId"])
    );
    let sarif = parse(&common::run(&["scan", d.to_str().unwrap(), "--format", "sarif"]));
    validate(&sarif, Schema::Sarif210);
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["properties"]["cves"][0] == "CVE-2025-32434")
    );
}
