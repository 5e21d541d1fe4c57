//! `tensorscope verify --certificate-chain`: the OMS certificate method. Bundles signed by the reference
//! tool (`model_signing sign certificate`, tests/data/verify/make_fixtures.sh) with throwaway CA
//! hierarchies (make_certs.py), and the reference repository's own certificate vectors (upstream/).
//! Each bad certificate gives exit 1 naming the problem; unusable inputs give exit 2; hostile DER in a
//! bundle never panics.

mod common;

use std::path::Path;

use base64::Engine as _;
use common::{Run, assert_clean_error, run};
use proptest::prelude::*;
use serde_json::Value;

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/verify")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn verify(model: &str, chain: &[&str], extra: &[&str]) -> Run {
    let mut args = vec!["verify", model, "--color", "never"];
    for c in chain {
        args.extend_from_slice(&["--certificate-chain", c]);
    }
    args.extend_from_slice(extra);
    let r = run(&args);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

fn root() -> String {
    data("certs/root.pem")
}

/// Exit 1, and the problem line says every one of `words`.
fn assert_untrusted(r: &Run, words: &[&str]) {
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("NOT VERIFIED"), "{}", r.stdout);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("  certificate not trusted: "))
        .unwrap_or_else(|| panic!("no problem line:\n{}", r.stdout));
    for w in words {
        assert!(line.contains(w), "{w:?} not in {line:?}");
    }
}

#[test]
fn a_chain_to_the_given_root_verifies() {
    for (case, curve) in [("cert-valid", "P-256"), ("cert-p521", "P-521")] {
        let r = verify(&data(case), &[&root()], &[]);
        assert_eq!(r.code, 0, "{case}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with("VERIFIED"), "{}", r.stdout);
        assert!(r.stdout.contains(&format!("ECDSA {curve}")), "{}", r.stdout);
        assert!(
            r.stdout
                .contains("tensorscope test intermediate -> CN=tensorscope test root, checked at 20"),
            "{}",
            r.stdout
        );
    }
    // the root and the intermediate given together (one file each), or the intermediate twice
    let r = verify(&data("cert-valid"), &[&data("certs/int.pem"), &root()], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn json_and_sarif_carry_the_method_and_the_signer() {
    let r = verify(&data("cert-valid"), &[&root()], &["--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    let s = &j["signature"];
    assert_eq!(s["method"], "certificate");
    assert_eq!(s["key"], "ECDSA P-256 SHA-256");
    assert_eq!(s["certificate"]["subject"], "CN=tensorscope test signer (leaf)");
    assert_eq!(s["certificate"]["issuer"], "CN=tensorscope test intermediate");
    assert_eq!(s["certificate"]["serial"], "0a");
    assert_eq!(s["certificate"]["not_after"], "2124-01-01T00:00:00Z");
    assert_eq!(s["certificate"]["chain"].as_array().map(Vec::len), Some(3));
    // a failure keeps the leaf's identity, and SARIF names it
    let r = verify(&data("cert-expired"), &[&root()], &["--json"]);
    assert_eq!(r.code, 1);
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        j["signature"]["certificate"]["subject"],
        "CN=tensorscope test signer (leaf-expired)"
    );
    assert!(j["problem"].as_str().unwrap().contains("expired on 2021-01-01"));
    let r = verify(&data("cert-expired"), &[&root()], &["--format", "sarif"]);
    assert_eq!(r.code, 1);
    let log: Value = serde_json::from_str(&r.stdout).unwrap();
    let res = &log["runs"][0]["results"][0];
    assert_eq!(res["ruleId"], "TSV001");
    assert!(res["message"]["text"].as_str().unwrap().contains("expired"), "{res}");
    assert_eq!(
        res["properties"]["signer"]["subject"],
        "CN=tensorscope test signer (leaf-expired)"
    );
    assert_eq!(log["runs"][0]["properties"]["signature"]["method"], "certificate");
    sarif_valid(&log);
    let r = verify(&data("cert-valid"), &[&root()], &["--format", "sarif"]);
    assert_eq!(r.code, 0);
    let log: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(log["runs"][0]["properties"]["signature"]["certificate"]["serial"], "0a");
    sarif_valid(&log);
}

/// The official SARIF 2.1.0 schema (vendored under tests/data/schemas/) accepts `log`.
fn sarif_valid(log: &Value) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schemas/sarif/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = v
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn each_bad_certificate_fails_naming_why() {
    // (fixture, anchors, words the problem names)
    let root = root();
    let forged = data("certs/forged-root.pem");
    let int = data("certs/int.pem");
    let upstream_root = data("upstream/ca-cert.pem");
    let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "cert-expired",
            vec![&root],
            vec!["(leaf-expired)", "expired on 2021-01-01T00:00:00Z"],
        ),
        (
            "cert-future",
            vec![&root],
            vec!["(leaf-future)", "not valid before 2100-01-01"],
        ),
        (
            "cert-keyagree",
            vec![&root],
            vec!["(leaf-keyagree)", "lacks digitalSignature"],
        ),
        (
            "cert-under-not-ca",
            vec![&root],
            vec!["plain intermediate", "is not a CA", "basicConstraints CA:TRUE"],
        ),
        (
            "cert-critical",
            vec![&root],
            vec!["(leaf-critical)", "critical extension 1.3.6.1.4.1.55555.1"],
        ),
        (
            "cert-pathlen",
            vec![&root],
            vec!["tensorscope test intermediate allows 0 intermediate CAs below it"],
        ),
        // a hierarchy with the same names and other keys: the signature of the link fails
        (
            "cert-forged",
            vec![&root],
            vec!["untrusted issuer", "signature does not verify"],
        ),
        // the right leaf, anchored on the forged root, or on another CA altogether
        (
            "cert-valid",
            vec![&forged],
            vec!["untrusted issuer", "signature does not verify"],
        ),
        (
            "cert-valid",
            vec![&upstream_root],
            vec!["untrusted issuer", "neither the bundle nor"],
        ),
        // an intermediate alone is not a root (as OpenSSL's default: the path ends self-signed)
        (
            "cert-valid",
            vec![&int],
            vec!["untrusted issuer", "CN=tensorscope test root"],
        ),
    ];
    for (case, anchors, words) in cases {
        let r = verify(&data(case), &anchors, &[]);
        assert_untrusted(&r, &words);
    }
    // a bundle whose root is in the bundle but not given: an untrusted root
    let dir = tempfile::tempdir().unwrap();
    let sig = bundle_with_chain(&data("cert-valid/model.sig"), &[&root], dir.path());
    let r = verify(&data("cert-valid"), &[&upstream_root], &["--signature", &sig]);
    assert_untrusted(&r, &["untrusted root", "CN=tensorscope test root", "self-signed"]);
}

#[test]
fn the_reference_tool_agrees_except_on_validity_time() {
    // certs/REFERENCE.txt: what `model_signing verify certificate` said of each fixture
    let text = std::fs::read_to_string(data("certs/REFERENCE.txt")).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let mut f = line.split('\t');
        let (case, code) = (f.next().unwrap(), f.next().unwrap());
        let r = verify(&data(case), &[&root()], &[]);
        // model_signing checks validity at the leaf's notBefore, so it accepts an expired leaf and
        // one not valid yet; tensorscope checks at the current time
        let want = match case {
            "cert-expired" | "cert-future" => 1,
            _ => code.parse().unwrap(),
        };
        assert_eq!(r.code, want, "{case}: {}", r.stdout);
        n += 1;
    }
    assert_eq!(n, 9);
}

#[test]
fn the_reference_repositorys_certificate_vectors_verify() {
    let ca = data("upstream/ca-cert.pem");
    // v0.2.0 is the pre-1.0 form: its envelope signed over a Python repr of the payload, with SHA-256
    // on P-384, and the `Digests/v0.1` predicate; the reference still accepts it, and so do we
    for v in ["v0.2.0", "v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"] {
        let model = data(&format!("upstream/{v}-certificate"));
        // the reference's own test passes --ignore-paths ignore-me (v1.0.1 did not record it)
        let r = verify(&model, &[&ca], &["--ignore-paths", "ignore-me"]);
        assert_eq!(r.code, 0, "{v}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("signing certificate CN=intermediate-ca"),
            "{}",
            r.stdout
        );
        // the same with the intermediate given too, and with only the intermediate (no root: untrusted)
        let r = verify(
            &model,
            &[&ca, &data("upstream/int-ca-cert.pem")],
            &["--ignore-paths", "ignore-me"],
        );
        assert_eq!(r.code, 0, "{v}: {}", r.stdout);
        let r = verify(
            &model,
            &[&data("upstream/int-ca-cert.pem")],
            &["--ignore-paths", "ignore-me"],
        );
        assert_untrusted(&r, &["untrusted issuer", "CN=root-ca"]);
    }
    // a changed byte still fails file by file after the certificate is trusted, in both forms; and a
    // payload changed under a v0.2 signature fails the signature
    for v in ["v0.2.0", "v1.1.0"] {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m");
        std::fs::create_dir(&model).unwrap();
        for f in ["model.sig", "signme-1", "signme-2"] {
            std::fs::copy(data(&format!("upstream/{v}-certificate/{f}")), model.join(f)).unwrap();
        }
        std::fs::write(model.join("signme-2"), b"changed").unwrap();
        let r = verify(&model.to_string_lossy(), &[&ca], &[]);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(
            r.stdout
                .lines()
                .any(|l| l.contains("changed") && l.contains("signme-2")),
            "{}",
            r.stdout
        );
        let sig = model.join("model.sig");
        let mut b: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
        let payload = B64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
        let altered = String::from_utf8(payload).unwrap().replacen("signme-1", "signme-3", 1);
        b["dsseEnvelope"]["payload"] = B64.encode(altered).into();
        std::fs::write(&sig, serde_json::to_vec(&b).unwrap()).unwrap();
        let r = verify(&model.to_string_lossy(), &[&ca], &[]);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(r.stdout.contains("bad signature"), "{v}: {}", r.stdout);
    }
}

#[test]
fn the_wrong_method_or_unusable_inputs() {
    // a key-method bundle checked with certificates: not verified, and says why
    let r = verify(&data("ref-p256"), &[&root()], &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("signed with a key"), "{}", r.stdout);
    // a certificate-method bundle checked with the leaf's public key works, as with the reference
    let r = run(&[
        "verify",
        &data("upstream/v1.1.0-certificate"),
        "--public-key",
        &data("upstream/signing-key-pub.pem"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    };
    let not_cert = write("key.pem", &std::fs::read(data("upstream/signing-key-pub.pem")).unwrap());
    let empty = write("empty.pem", b"");
    let garbage = write(
        "garbage.pem",
        b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
    );
    let absent = dir.path().join("absent.pem").to_string_lossy().into_owned();
    for (file, says) in [
        (&not_cert, "PUBLIC KEY, not a CERTIFICATE"),
        (&empty, "no PEM certificate"),
        (&garbage, "certificate 1"),
        (&absent, "absent.pem"),
    ] {
        let r = verify(&data("cert-valid"), &[file], &[]);
        assert_clean_error(&r, file);
        assert!(r.stderr.contains(says), "{says:?} not in {}", r.stderr);
    }
    // --public-key and --certificate-chain together are refused
    let r = run(&[
        "verify",
        &data("cert-valid"),
        "--certificate-chain",
        &root(),
        "--public-key",
        &data("keys/p256.pub"),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // a bundle whose certificate is not DER is an error, not a verdict
    let sig = bundle_with_certs(
        &data("cert-valid/model.sig"),
        &[b"\x30\x03\x02\x01\x00".to_vec()],
        dir.path(),
    );
    let r = verify(&data("cert-valid"), &[&root()], &["--signature", &sig]);
    assert_clean_error(&r, "bundle cert not DER");
    assert!(r.stderr.contains("certificate 1 of the bundle"), "{}", r.stderr);
}

#[test]
fn sign_with_a_certificate_then_verify() {
    let dir = tempfile::tempdir().unwrap();
    for (leaf, shards) in [("leaf", None), ("leaf-p521", Some("3"))] {
        let model = dir.path().join(leaf);
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join("w.bin"), b"weights of the model").unwrap();
        let m = model.to_string_lossy();
        let (k, c, int) = (
            data(&format!("certs/{leaf}.key")),
            data(&format!("certs/{leaf}.pem")),
            data("certs/int.pem"),
        );
        let mut args = vec![
            "sign",
            &m,
            "--private-key",
            &k,
            "--certificate",
            &c,
            "--certificate-chain",
            &int,
        ];
        if let Some(s) = shards {
            args.extend_from_slice(&["--shard-size", s]);
        }
        let r = run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let b: Value = serde_json::from_slice(&std::fs::read(model.join("model.sig")).unwrap()).unwrap();
        let certs = &b["verificationMaterial"]["x509CertificateChain"]["certificates"];
        assert_eq!(certs.as_array().map(Vec::len), Some(2), "{b}");
        assert!(b["verificationMaterial"].get("publicKey").is_none());
        let r = verify(&m, &[&root()], &[]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        std::fs::write(model.join("w.bin"), b"weights of the modeL").unwrap();
        let r = verify(&m, &[&root()], &[]);
        assert_eq!(r.code, 1, "{}", r.stdout);
    }
    // the certificate must hold the private key's public key, and be one certificate
    let m = dir.path().join("leaf").to_string_lossy().into_owned();
    let r = run(&[
        "sign",
        &m,
        "--private-key",
        &data("certs/leaf.key"),
        "--certificate",
        &data("certs/leaf-p521.pem"),
    ]);
    assert_clean_error(&r, "mismatched key");
    assert!(r.stderr.contains("another key"), "{}", r.stderr);
    let both = dir.path().join("both.pem");
    let mut pem = std::fs::read(data("certs/leaf.pem")).unwrap();
    pem.extend(std::fs::read(data("certs/int.pem")).unwrap());
    std::fs::write(&both, pem).unwrap();
    let r = run(&[
        "sign",
        &m,
        "--private-key",
        &data("certs/leaf.key"),
        "--certificate",
        &both.to_string_lossy(),
    ]);
    assert_clean_error(&r, "two certificates");
    assert!(r.stderr.contains("2 certificates"), "{}", r.stderr);
}

/// A copy of `sig` whose certificate list is the original's plus the PEM certificates of `extra`.
fn bundle_with_chain(sig: &str, extra: &[&str], dir: &Path) -> String {
    let b: Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
    let mut certs: Vec<Vec<u8>> = b["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| B64.decode(c["rawBytes"].as_str().unwrap()).unwrap())
        .collect();
    for p in extra {
        let text = std::fs::read_to_string(p).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        certs.push(B64.decode(body).unwrap());
    }
    bundle_with_certs(sig, &certs, dir)
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A copy of `sig` with these DER certificates in place of its own.
fn bundle_with_certs(sig: &str, certs: &[Vec<u8>], dir: &Path) -> String {
    let mut b: Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
    let list: Vec<Value> = certs
        .iter()
        .map(|c| serde_json::json!({"rawBytes": B64.encode(c)}))
        .collect();
    b["verificationMaterial"]["x509CertificateChain"]["certificates"] = Value::Array(list);
    let out = dir.join(format!(
        "bundle-{}.sig",
        certs.len() * 1000 + certs.iter().map(Vec::len).sum::<usize>()
    ));
    std::fs::write(&out, serde_json::to_vec(&b).unwrap()).unwrap();
    out.to_string_lossy().into_owned()
}

fn pem_der(rel: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(data(rel)).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Truncated, bit-flipped and random DER never panics the parser, and never parses into a
    /// certificate that a chain check then trips over.
    #[test]
    fn hostile_der_never_panics(which in 0usize..4, cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..6), noise in proptest::collection::vec(any::<u8>(), 0..300)) {
        let sources = ["certs/root.pem", "certs/int.pem", "certs/leaf.pem", "upstream/int-ca-cert.pem"];
        let mut der = if which < sources.len() { pem_der(sources[which]) } else { noise.clone() };
        for (at, x) in &flips {
            if !der.is_empty() {
                let i = at % der.len();
                der[i] ^= x;
            }
        }
        der.truncate(cut.max(1).min(der.len()));
        der.extend_from_slice(&noise[..noise.len().min(cut % 7)]);
        let _ = tensorscope::verify::cert::Cert::from_der(der.clone());
        let mut store = tensorscope::verify::cert::TrustStore::default();
        let pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", B64.encode(&der));
        let _ = store.add_pem(pem.as_bytes(), Path::new("fuzz.pem"));
        let _ = store.add_pem(&noise, Path::new("noise.pem"));
        if let Ok(c) = tensorscope::verify::cert::Cert::from_der(der) {
            let _ = tensorscope::verify::cert::verify_chain(&[c], &store, 1_800_000_000);
        }
    }
}
