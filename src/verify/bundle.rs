//! The OMS v1.0 signature file: a Sigstore bundle (v0.3 JSON) holding a DSSE envelope whose payload
//! is an in-toto v1 statement with predicate type `https://model_signing/signature/v1.0`.
//!
//! Reading goes in the order trust is earned: the envelope is parsed, its signature checked over the
//! DSSE pre-authentication encoding (PAE) of the payload bytes, and only then is the payload read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::hash::{self, Algorithm};

/// Sigstore bundle media types accepted (v0.3, both spellings).
pub const BUNDLE_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
];
/// The media type written.
pub const BUNDLE_MEDIA_TYPE: &str = BUNDLE_MEDIA_TYPES[0];
/// DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// OMS predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// A signature file larger than this is not a signature (a manifest of a million shards is ~150 MB).
pub const MAX_SIGNATURE_BYTES: u64 = 512 << 20;

/// The parts of a Sigstore bundle the key and certificate methods use.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Bundle media type (v0.3).
    pub media_type: String,
    /// Key hint or certificates.
    #[serde(default)]
    pub verification_material: VerificationMaterial,
    /// The signed envelope.
    pub dsse_envelope: Envelope,
}

/// What identifies the signer.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// Key method: a hint naming the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<KeyHint>,
    /// Certificate method: the signing certificate first, then intermediates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// Sigstore's single-certificate form (a leaf alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawCertificate>,
    /// Transparency log entries (empty for the key method).
    #[serde(default)]
    pub tlog_entries: Vec<Value>,
}

impl VerificationMaterial {
    /// The base64 DER certificates the bundle carries, leaf first (none for the key method).
    pub fn certificates(&self) -> Vec<&str> {
        match (&self.x509_certificate_chain, &self.certificate) {
            (Some(c), _) => c.certificates.iter().map(|r| r.raw_bytes.as_str()).collect(),
            (None, Some(r)) => vec![r.raw_bytes.as_str()],
            (None, None) => Vec::new(),
        }
    }
}

/// `x509CertificateChain`.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct CertificateChain {
    /// Leaf first.
    #[serde(default)]
    pub certificates: Vec<RawCertificate>,
}

/// One certificate: base64 of its DER.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RawCertificate {
    /// Base64 DER.
    #[serde(default)]
    pub raw_bytes: String,
}

/// The key method's key identifier.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct KeyHint {
    /// Hex SHA-256 of the public key's PEM.
    #[serde(default)]
    pub hint: Option<String>,
}

/// A DSSE envelope.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Base64 of the statement bytes.
    pub payload: String,
    /// Must be [`PAYLOAD_TYPE`].
    pub payload_type: String,
    /// One signature for OMS.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Debug, Deserialize, Serialize)]
pub struct EnvelopeSignature {
    /// Base64 of the DER signature.
    pub sig: String,
    /// Empty for OMS.
    #[serde(default)]
    pub keyid: Option<String>,
}

/// DSSE v1 pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, body.len()).into_bytes();
    v.extend_from_slice(body);
    v
}

/// Parse a bundle, reporting the problem in one line.
pub fn parse(bytes: &[u8]) -> Result<Bundle, String> {
    let b: Bundle = serde_json::from_slice(bytes).map_err(|e| format!("not a Sigstore bundle: {e}"))?;
    if !BUNDLE_MEDIA_TYPES.contains(&b.media_type.as_str()) {
        return Err(format!(
            "bundle media type {:?} is not {BUNDLE_MEDIA_TYPE}",
            crate::text::escape(&b.media_type)
        ));
    }
    if b.dsse_envelope.payload_type != PAYLOAD_TYPE {
        return Err(format!(
            "DSSE payload type {:?} is not {PAYLOAD_TYPE}",
            crate::text::escape(&b.dsse_envelope.payload_type)
        ));
    }
    if b.dsse_envelope.signatures.len() != 1 {
        return Err(format!(
            "the envelope holds {} signatures, OMS signs with exactly one",
            b.dsse_envelope.signatures.len()
        ));
    }
    Ok(b)
}

/// Base64 (standard alphabet, padding optional), one-line error.
pub fn b64(s: &str, what: &str) -> Result<Vec<u8>, String> {
    B64.decode(s.trim_end_matches('='))
        .or_else(|_| B64.decode(s))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s.trim_end_matches('=')))
        .map_err(|e| format!("{what} is not base64: {e}"))
}

/// How the model was cut into resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Serialization {
    /// `files` or `shards`.
    #[serde(flatten)]
    pub method: Method,
    /// The algorithm every resource is hashed with.
    pub hash_type: String,
    /// Whether symbolic links were followed when signing.
    pub allow_symlinks: bool,
    /// Paths (relative to the model) left out when signing.
    pub ignore_paths: Vec<String>,
}

/// Serialization method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "method")]
pub enum Method {
    /// One resource per file, named by its path.
    Files,
    /// One resource per shard `path:start:end` of `shard_size` bytes.
    Shards {
        /// Bytes per shard (the last one of a file may be shorter).
        shard_size: u64,
    },
}

/// One signed resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// As written in the predicate.
    pub name: String,
    /// Its algorithm.
    pub algo: Algorithm,
    /// Raw digest bytes.
    pub digest: Vec<u8>,
}

/// The signed content: what the statement says about the model.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The subject's name (informative only: renaming the model folder keeps signatures valid).
    pub model_name: String,
    /// How resources were made.
    pub serialization: Serialization,
    /// The resources, in the predicate's order.
    pub resources: Vec<Resource>,
}

/// Read the statement (already authenticated) into a manifest. `Err` names what is malformed.
pub fn statement_to_manifest(payload: &[u8]) -> Result<Manifest, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    if s("_type") != STATEMENT_TYPE {
        return Err(format!(
            "statement type {:?} is not {STATEMENT_TYPE}",
            crate::text::escape(s("_type"))
        ));
    }
    if s("predicateType") != PREDICATE_TYPE {
        return Err(format!(
            "predicate type {:?} is not {PREDICATE_TYPE} (OMS v1.0)",
            crate::text::escape(s("predicateType"))
        ));
    }
    let subjects = v
        .get("subject")
        .and_then(Value::as_array)
        .map_or(&[][..], |a| a.as_slice());
    let [subject] = subjects else {
        return Err(format!(
            "the statement has {} subjects, OMS v1.0 has one",
            subjects.len()
        ));
    };
    let model_name = subject
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let root = subject
        .pointer("/digest/sha256")
        .and_then(Value::as_str)
        .ok_or("the subject has no sha256 digest")?;
    let pred = v.get("predicate").ok_or("the statement has no predicate")?;
    let ser = pred.get("serialization").ok_or("the predicate has no serialization")?;
    let serialization = read_serialization(ser)?;
    let items = pred
        .get("resources")
        .and_then(Value::as_array)
        .ok_or("the predicate has no resources list")?;
    let mut resources = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    let mut root_hasher = Vec::with_capacity(items.len() * 32);
    for r in items {
        let field = |k: &str| r.get(k).and_then(Value::as_str).ok_or(format!("a resource has no {k}"));
        let name = field("name")?.to_string();
        let algo_name = field("algorithm")?;
        // shard digests are named `sha256-sharded-SHARD_SIZE` by model_signing
        let (base, sharded) = match algo_name.split_once("-sharded-") {
            Some((b, n)) => (b, Some(n.parse::<u64>().ok())),
            None => (algo_name, None),
        };
        if let Some(n) = sharded
            && !matches!(serialization.method, Method::Shards { shard_size } if Some(shard_size) == n)
        {
            return Err(format!(
                "resource {} is hashed as {:?}, which does not match the serialization's shard size",
                crate::text::escape(&name),
                crate::text::escape(algo_name)
            ));
        }
        let algo = Algorithm::from_oms(base).ok_or_else(|| {
            format!(
                "resource {} uses {:?}, which tensorscope does not implement (sha256, blake2b)",
                crate::text::escape(&name),
                crate::text::escape(algo_name)
            )
        })?;
        let digest = unhex(field("digest")?).ok_or(format!(
            "resource {} has a digest that is not hex",
            crate::text::escape(&name)
        ))?;
        if !seen.insert(name.clone()) {
            return Err(format!("resource {} is listed twice", crate::text::escape(&name)));
        }
        root_hasher.extend_from_slice(&digest);
        resources.push(Resource { name, algo, digest });
    }
    let got = hash::hex(&hash::digest(Algorithm::Sha256, &root_hasher));
    if !got.eq_ignore_ascii_case(root) {
        return Err(format!(
            "the manifest is inconsistent: the subject's digest is {root}, the resources hash to {got}"
        ));
    }
    Ok(Manifest {
        model_name,
        serialization,
        resources,
    })
}

fn read_serialization(ser: &Value) -> Result<Serialization, String> {
    let method = ser.get("method").and_then(Value::as_str).unwrap_or_default();
    let hash_type = ser
        .get("hash_type")
        .and_then(Value::as_str)
        .ok_or("the serialization has no hash_type")?
        .to_string();
    // protobuf's Struct carries numbers as doubles and some writers put booleans in strings
    let allow_symlinks = match ser.get("allow_symlinks") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let ignore_paths = ser
        .get("ignore_paths")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let method = match method {
        "files" => Method::Files,
        "shards" => {
            let n = ser
                .get("shard_size")
                .ok_or("the shards serialization has no shard_size")?;
            let shard_size = n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 1.8e19)
                        .map(|f| f as u64)
                })
                .filter(|&s| s > 0)
                .ok_or("shard_size is not a positive whole number")?;
            Method::Shards { shard_size }
        }
        other => {
            return Err(format!(
                "serialization method {:?} is not files or shards",
                crate::text::escape(other)
            ));
        }
    };
    Ok(Serialization {
        method,
        hash_type,
        allow_symlinks,
        ignore_paths,
    })
}

/// Hex digits to bytes (`None` when odd, empty or not hex).
pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.is_empty() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md#test-case
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn statement_checks() {
        let d = hash::hex(&[7u8; 32]);
        let root = hash::hex(&hash::digest(Algorithm::Sha256, &[7u8; 32]));
        let st = |root: &str, pt: &str| {
            serde_json::json!({"_type": STATEMENT_TYPE, "predicateType": pt,
                "subject": [{"name": "m", "digest": {"sha256": root}}],
                "predicate": {"serialization": {"method": "shards", "hash_type": "sha256", "shard_size": 1.0e9,
                    "allow_symlinks": false}, "resources": [{"name": "a:0:5", "algorithm": "sha256", "digest": d}]}})
            .to_string()
        };
        let m = statement_to_manifest(st(&root, PREDICATE_TYPE).as_bytes()).unwrap();
        assert_eq!(
            m.serialization.method,
            Method::Shards {
                shard_size: 1_000_000_000
            }
        );
        assert!(
            statement_to_manifest(st(&d, PREDICATE_TYPE).as_bytes())
                .unwrap_err()
                .contains("inconsistent")
        );
        assert!(
            statement_to_manifest(st(&root, "x").as_bytes())
                .unwrap_err()
                .contains("predicate type")
        );
    }
}
