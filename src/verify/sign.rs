//! Write an OpenSSF Model Signing v1.0 bundle with an ECDSA private key, in the form `model_signing
//! verify key` (key method: the key's hint) or `model_signing verify certificate` (certificate method:
//! the signing certificate and its chain) accepts: a Sigstore v0.3 bundle, a DSSE envelope and an
//! in-toto statement listing every file (or shard) with its SHA-256.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;

use super::bundle::{self, Method};
use super::cert::{self, Cert};
use super::hash::{self, Algorithm, Job};
use super::keys::PrivateKey;
use super::oms::shard_ranges;
use super::walk::{self, Ignores};
use crate::Error;

/// What `sign` needs besides the model.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the bundle goes.
    pub signature: PathBuf,
    /// The signer's key.
    pub key: PrivateKey,
    /// Certificate method: the signing certificate (whose key must be `key`'s), then the rest of its
    /// chain, written into the bundle. Empty: the key method.
    pub certificates: Vec<Cert>,
    /// `files` (default) or `shards`.
    pub method: Method,
    /// More model-relative paths to leave out.
    pub ignore_paths: Vec<PathBuf>,
    /// Hashing threads (0 = one per core).
    pub threads: usize,
}

/// What was signed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Signed {
    /// The bundle written.
    pub signature: String,
    /// Resources (files or shards) listed.
    pub resources: usize,
    /// Bytes hashed.
    pub bytes: u64,
    /// The root digest (SHA-256 over the resource digests).
    pub root_sha256: String,
}

/// Hash the model at `model`, sign the statement and write the bundle to `opts.signature`.
pub fn sign(model: &Path, opts: &Options) -> Result<Signed, Error> {
    if let Some(leaf) = opts.certificates.first() {
        let theirs = cert::key_of(leaf).map_err(|m| Error::Usage(format!("the signing certificate: {m}")))?;
        if theirs.to_pem() != opts.key.public_key().to_pem() {
            return Err(Error::Usage(format!(
                "the signing certificate {} holds another key than --private-key",
                crate::text::escape(&leaf.subject())
            )));
        }
    }
    let mut ignores = Ignores::default();
    let mut recorded: Vec<String> = Vec::new();
    let mut add = |ig: &mut Ignores, p: &Path| {
        ig.add(p);
        recorded.push(p.to_string_lossy().into_owned());
    };
    let is_dir = model.is_dir();
    if let Some(rel) = walk::relative_inside(model, &opts.signature).filter(|_| is_dir) {
        add(&mut ignores, &rel);
    }
    if is_dir {
        for p in walk::DEFAULT_IGNORES {
            add(&mut ignores, Path::new(p));
        }
    }
    for p in &opts.ignore_paths {
        add(&mut ignores, p);
    }
    recorded.sort();
    recorded.dedup();
    let entries = walk::walk(model, &ignores, false)?;
    if let Some(bad) = entries.iter().find(|e| e.not_regular.is_some() || !e.utf8) {
        let what = bad.not_regular.unwrap_or("a name that is not UTF-8");
        return Err(Error::Usage(format!(
            "{}: {what}: OMS signs regular files with UTF-8 names only (leave it out with --ignore-paths)",
            crate::text::escape(&bad.name)
        )));
    }
    // (name, start, end) per resource, in OMS order: path components, then offsets
    let mut items: Vec<(Vec<&str>, String, Job)> = Vec::new();
    for e in &entries {
        let parts: Vec<&str> = e.name.split('/').collect();
        let job = |start, end| Job {
            path: e.path.clone(),
            start,
            end,
            algo: Algorithm::Sha256,
        };
        match opts.method {
            Method::Files => items.push((parts, e.name.clone(), job(0, Some(e.len)))),
            Method::Shards { shard_size } => {
                for (s, t) in shard_ranges(e.len, shard_size) {
                    items.push((parts.clone(), format!("{}:{s}:{t}", e.name), job(s, Some(t))));
                }
            }
        }
    }
    items.sort_by(|a, b| (&a.0, a.2.start).cmp(&(&b.0, b.2.start)));
    let jobs: Vec<Job> = items.iter().map(|i| i.2.clone()).collect();
    let results = hash::hash_all(&jobs, opts.threads);
    // model_signing names a shard's digest after the shard size too
    let algorithm = match opts.method {
        Method::Files => "sha256".to_string(),
        Method::Shards { shard_size } => format!("sha256-sharded-{shard_size}"),
    };
    let mut resources = Vec::with_capacity(items.len());
    let mut root = Vec::with_capacity(items.len() * 32);
    let mut bytes = 0;
    for ((_, name, job), r) in items.iter().zip(results) {
        let (d, n) = r.map_err(|e| Error::io(&job.path, e))?;
        bytes += n;
        root.extend_from_slice(&d);
        resources.push(json!({"name": name, "algorithm": algorithm, "digest": hash::hex(&d)}));
    }
    let root_sha256 = hash::hex(&hash::digest(Algorithm::Sha256, &root));
    let mut serialization = json!({"method": "files", "hash_type": "sha256", "allow_symlinks": false});
    if let Method::Shards { shard_size } = opts.method {
        serialization["method"] = json!("shards");
        serialization["shard_size"] = json!(shard_size);
    }
    if !recorded.is_empty() {
        serialization["ignore_paths"] = json!(recorded);
    }
    let statement = json!({
        "_type": bundle::STATEMENT_TYPE,
        "subject": [{"name": model_name(model), "digest": {"sha256": root_sha256}}],
        "predicateType": bundle::PREDICATE_TYPE,
        "predicate": {"serialization": serialization, "resources": resources},
    });
    let payload = serde_json::to_vec_pretty(&statement).map_err(|e| Error::Unsupported(e.to_string()))?;
    let sig = opts.key.sign(&bundle::pae(bundle::PAYLOAD_TYPE, &payload))?;
    let out = json!({
        "mediaType": bundle::BUNDLE_MEDIA_TYPE,
        "verificationMaterial": verification_material(opts),
        "dsseEnvelope": {
            "payload": B64.encode(&payload),
            "payloadType": bundle::PAYLOAD_TYPE,
            "signatures": [{"sig": B64.encode(&sig), "keyid": ""}],
        },
    });
    let text = serde_json::to_string_pretty(&out).map_err(|e| Error::Unsupported(e.to_string()))? + "\n";
    write_atomic(&opts.signature, text.as_bytes())?;
    Ok(Signed {
        signature: opts.signature.display().to_string(),
        resources: resources.len(),
        bytes,
        root_sha256,
    })
}

/// The key's hint (key method), or the certificates, leaf first (certificate method).
fn verification_material(opts: &Options) -> serde_json::Value {
    if opts.certificates.is_empty() {
        return json!({"publicKey": {"hint": opts.key.public_key().hint()}, "tlogEntries": []});
    }
    let certs: Vec<_> = opts
        .certificates
        .iter()
        .map(|c| json!({"rawBytes": B64.encode(cert::der_of(c))}))
        .collect();
    json!({"x509CertificateChain": {"certificates": certs}, "tlogEntries": []})
}

/// The subject name: the model's last path component (of its absolute path for `.` and `..`).
fn model_name(model: &Path) -> String {
    let name = model.file_name().map(|n| n.to_string_lossy().into_owned());
    name.or_else(|| {
        std::fs::canonicalize(model)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    })
    .unwrap_or_default()
}

/// Write the bundle whole or not at all ([`crate::source::atomic::write_atomic`]).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if path.file_name().is_none() {
        return Err(Error::Usage(format!("{}: not a file name", crate::text::path(path))));
    }
    crate::source::atomic::write_atomic(path, bytes).map_err(|e| Error::io(path, e))
}
