//! Verify a model against an OpenSSF Model Signing v1.0 bundle (key or certificate method).
//!
//! Order: bundle -> key hint (key method) or certificate chain (certificate method, [`super::cert`])
//! -> DSSE signature over PAE(payload) -> statement -> manifest; then the
//! model is walked (default git exclusions, the predicate's `ignore_paths`, the signature file
//! itself), every signed file or shard is hashed in parallel and compared byte for byte by name.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::bundle::{self, Manifest, Method, Resource};
use super::cert::{self, Cert, TrustStore};
use super::hash::{self, Job};
use super::keys::PublicKey;
use super::walk::{self, Entry, Ignores};
use super::{FileCheck, Report, SignatureInfo, Status, short};
use crate::Error;

/// What `verify` needs besides the model.
#[derive(Debug, Clone)]
pub struct Options {
    /// The bundle (`model.sig`).
    pub signature: PathBuf,
    /// The signer's public key, or the certificates to trust.
    pub signer: Signer,
    /// Accept files that the signature does not list.
    pub ignore_unsigned_files: bool,
    /// More model-relative paths to leave out.
    pub ignore_paths: Vec<PathBuf>,
    /// Hashing threads (0 = one per core).
    pub threads: usize,
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Signer {
    /// Key method: this public key.
    Key(PublicKey),
    /// Certificate method: a leaf that chains to a root among these certificates.
    Certificates(TrustStore),
}

impl From<PublicKey> for Signer {
    fn from(k: PublicKey) -> Self {
        Signer::Key(k)
    }
}

impl From<TrustStore> for Signer {
    fn from(t: TrustStore) -> Self {
        Signer::Certificates(t)
    }
}

impl Options {
    /// Defaults: unsigned files fail, no extra ignores, every core.
    pub fn new(signature: impl Into<PathBuf>, signer: impl Into<Signer>) -> Self {
        Options {
            signature: signature.into(),
            signer: signer.into(),
            ignore_unsigned_files: false,
            ignore_paths: Vec::new(),
            threads: 0,
        }
    }
}

/// Check the bundle at `opts.signature` with `opts.signer`, then the model at `model` against it.
pub fn verify(model: &Path, opts: &Options) -> Result<Report, Error> {
    let sig_path = &opts.signature;
    let bytes = read_limited(sig_path)?;
    let b = bundle::parse(&bytes).map_err(|m| Error::format(sig_path, m))?;
    let mut report = Report {
        path: model.display().to_string(),
        kind: "oms",
        verified: false,
        against: None,
        signature: Some(SignatureInfo {
            file: sig_path.display().to_string(),
            method: "key",
            key: "",
            certificate: None,
            valid: false,
            model_name: None,
            serialization: None,
            resources: 0,
        }),
        problem: None,
        files: Vec::new(),
        bytes_hashed: 0,
        hash_seconds: 0.0,
        threads: 0,
    };
    let key = match &opts.signer {
        Signer::Key(key) => {
            if let Some(p) = key_hint_problem(&b, key) {
                report.problem = Some(p);
                return Ok(report);
            }
            key.clone()
        }
        Signer::Certificates(store) => {
            let certs = bundle_certificates(&b).map_err(|m| Error::format(sig_path, m))?;
            if certs.is_empty() {
                report.problem = Some(
                    "no certificate: the bundle was signed with a key (key method), not a certificate; \
                     verify it with --public-key"
                        .into(),
                );
                return Ok(report);
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let info = report.signature.as_mut().map(|s| {
                s.method = "certificate";
                s.certificate.insert(cert::describe(&certs[0], now))
            });
            match cert::verify_chain(&certs, store, now) {
                Ok((key, chain)) => {
                    if let Some(i) = info {
                        i.chain = chain;
                    }
                    key
                }
                Err(why) => {
                    report.problem = Some(format!("certificate not trusted: {why}"));
                    return Ok(report);
                }
            }
        }
    };
    if let Some(s) = report.signature.as_mut() {
        s.key = key.describe();
    }
    let env = &b.dsse_envelope;
    let payload = bundle::b64(&env.payload, "the DSSE payload").map_err(|m| Error::format(sig_path, m))?;
    let sig = bundle::b64(&env.signatures[0].sig, "the DSSE signature").map_err(|m| Error::format(sig_path, m))?;
    let current = key.verify(&bundle::pae(&env.payload_type, &payload), &sig);
    // model_signing v0.2's encoding, SHA-256 on every curve, as the reference still accepts it
    let v02 = || {
        let pae = super::compat::pae(&env.payload_type, &payload);
        key.verify_prehash(&hash::digest(hash::Algorithm::Sha256, &pae), &sig)
    };
    if !current && !v02() {
        let whose = match opts.signer {
            Signer::Key(_) => "key",
            Signer::Certificates(_) => "signing certificate's key",
        };
        report.problem = Some(format!(
            "bad signature: the envelope does not verify with this {} {whose} (wrong key, or the bundle was altered)",
            key.describe()
        ));
        return Ok(report);
    }
    let manifest = super::compat::statement_to_manifest(&payload).map_err(|m| Error::format(sig_path, m))?;
    if let Some(info) = report.signature.as_mut() {
        info.valid = true;
        info.model_name = Some(manifest.model_name.clone()).filter(|n| !n.is_empty());
        info.serialization = Some(manifest.serialization.clone());
        info.resources = manifest.resources.len();
    }
    let mut ignores = Ignores::default();
    for p in walk::DEFAULT_IGNORES {
        ignores.add(Path::new(p));
    }
    for p in &manifest.serialization.ignore_paths {
        ignores.add(Path::new(p));
    }
    for p in &opts.ignore_paths {
        ignores.add(p);
    }
    if let Some(rel) = walk::relative_inside(model, sig_path) {
        ignores.add(&rel);
    }
    let entries = walk::walk(model, &ignores, manifest.serialization.allow_symlinks)?;
    compare(&mut report, &manifest, &entries, opts);
    report.verified = report.files.iter().all(|f| f.status == Status::Ok);
    Ok(report)
}

/// Whether the signature at `sig` signs one file alone (what `sign FILE` writes: its manifest's only
/// resource is `.`), read from the envelope's payload without checking the signature: only to pick
/// what [`verify`] then checks in full. `None` when the bundle cannot be read.
pub fn signs_one_file(sig: &Path) -> Option<bool> {
    let b = bundle::parse(&read_limited(sig).ok()?).ok()?;
    let payload = bundle::b64(&b.dsse_envelope.payload, "the DSSE payload").ok()?;
    let m = super::compat::statement_to_manifest(&payload).ok()?;
    Some(matches!(m.resources.as_slice(), [r] if r.name == "."))
}

/// The key method's hint against the key given: a problem when they differ.
fn key_hint_problem(b: &bundle::Bundle, key: &PublicKey) -> Option<String> {
    let hint = b
        .verification_material
        .public_key
        .as_ref()
        .and_then(|k| k.hint.as_deref())
        .filter(|h| !h.is_empty())?;
    let ours = key.hint();
    (!hint.eq_ignore_ascii_case(&ours)).then(|| {
        format!(
            "wrong key: the bundle was signed by key {}…, --public-key is {}…",
            short(&crate::text::escape(hint)),
            short(&ours)
        )
    })
}

/// The certificates of a certificate-method bundle, leaf first (none for the key method); `Err` when
/// one is not a certificate.
fn bundle_certificates(b: &bundle::Bundle) -> Result<Vec<Cert>, String> {
    let raw = b.verification_material.certificates();
    if raw.len() > cert::MAX_DEPTH {
        return Err(format!(
            "the bundle holds {} certificates, more than {}",
            raw.len(),
            cert::MAX_DEPTH
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, r)| {
            let der = bundle::b64(r, "a certificate")?;
            Cert::from_der(der).map_err(|m| format!("certificate {} of the bundle: {m}", i + 1))
        })
        .collect()
}

fn read_limited(p: &Path) -> Result<Vec<u8>, Error> {
    let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
    if meta.len() > bundle::MAX_SIGNATURE_BYTES {
        return Err(Error::Limit {
            path: p.to_path_buf(),
            what: "signature file size",
            value: meta.len(),
            limit: bundle::MAX_SIGNATURE_BYTES,
            hint: ": is this the model rather than its signature?",
        });
    }
    std::fs::read(p).map_err(|e| Error::io(p, e))
}

/// A signed shard of a file.
struct Shard<'a> {
    start: u64,
    end: u64,
    res: &'a Resource,
}

/// Split a shard name `path:start:end` from the right, so a path holding `:` still parses.
fn shard_key(name: &str) -> Option<(&str, u64, u64)> {
    let mut it = name.rsplitn(3, ':');
    let end = it.next()?.parse().ok()?;
    let start = it.next()?.parse().ok()?;
    let path = it.next()?;
    (start < end).then_some((path, start, end))
}

fn compare(report: &mut Report, m: &Manifest, entries: &[Entry], opts: &Options) {
    // expected, by file path
    let mut files: BTreeMap<&str, Vec<Shard>> = BTreeMap::new();
    let mut malformed = Vec::new();
    for r in &m.resources {
        match m.serialization.method {
            Method::Files => files.entry(r.name.as_str()).or_default().push(Shard {
                start: 0,
                end: u64::MAX,
                res: r,
            }),
            Method::Shards { .. } => match shard_key(&r.name) {
                Some((p, start, end)) => files.entry(p).or_default().push(Shard { start, end, res: r }),
                None => malformed.push(r.name.clone()),
            },
        }
    }
    for name in malformed {
        report.files.push(FileCheck::new(
            name,
            Status::Missing,
            "a shard name that is not path:start:end",
        ));
    }
    let found: HashMap<&str, &Entry> = entries
        .iter()
        .filter(|e| e.utf8)
        .map(|e| (e.name.as_str(), e))
        .collect();
    let mut jobs = Vec::new();
    // (file name, resource, job index) for every job
    let mut owners: Vec<(&str, &Resource, u64, u64)> = Vec::new();
    for e in entries {
        let signed = files.get(e.name.as_str()).filter(|_| e.utf8);
        let Some(shards) = signed else {
            let empty_shardless = matches!(m.serialization.method, Method::Shards { .. }) && e.len == 0;
            if opts.ignore_unsigned_files || (empty_shardless && e.not_regular.is_none()) {
                continue;
            }
            let why = match (e.not_regular, e.utf8) {
                (Some(k), _) => format!("not in the signature, and {k}"),
                (None, false) => "not in the signature (its name is not UTF-8)".to_string(),
                (None, true) => "not in the signature (pass --ignore-unsigned-files to accept extra files)".into(),
            };
            report.files.push(FileCheck::new(&e.name, Status::Unsigned, why));
            continue;
        };
        if let Some(k) = e.not_regular {
            report.files.push(FileCheck::new(
                &e.name,
                Status::NotRegular,
                format!("signed, but now {k}"),
            ));
            continue;
        }
        if let Method::Shards { shard_size } = m.serialization.method {
            let mut want: Vec<(u64, u64)> = shards.iter().map(|s| (s.start, s.end)).collect();
            want.sort_unstable();
            let have = shard_ranges(e.len, shard_size);
            if want != have {
                let signed_len = want.last().map_or(0, |w| w.1);
                let mut c = FileCheck::new(
                    &e.name,
                    Status::Changed,
                    format!("size changed: {signed_len} bytes signed, {} now", e.len),
                );
                c.bytes = Some(e.len);
                report.files.push(c);
                continue;
            }
        }
        for s in shards {
            let end = (s.end != u64::MAX).then_some(s.end);
            jobs.push(Job {
                path: e.path.clone(),
                start: s.start,
                end,
                algo: s.res.algo,
            });
            owners.push((e.name.as_str(), s.res, s.start, end.unwrap_or(e.len)));
        }
    }
    for name in files.keys() {
        if !found.contains_key(name) {
            report.files.push(FileCheck::new(
                *name,
                Status::Missing,
                "signed, but not found in the model",
            ));
        }
    }
    let results = hash::hash_all_into(&jobs, opts.threads, report);
    // fold shards into one verdict per file
    let mut per_file: BTreeMap<&str, FileCheck> = BTreeMap::new();
    let sharded = matches!(m.serialization.method, Method::Shards { .. });
    for ((name, res, start, end), r) in owners.into_iter().zip(results) {
        let check = per_file.entry(name).or_insert_with(|| {
            let mut c = FileCheck::new(name, Status::Ok, "");
            c.bytes = found.get(name).map(|e| e.len);
            c
        });
        match r {
            Ok((d, n)) => {
                report.bytes_hashed += n;
                if !sharded {
                    check.digest = Some(format!("{}:{}", res.algo.name(), hash::hex(&d)));
                }
                if d != res.digest && check.status == Status::Ok {
                    check.status = Status::Changed;
                    check.why = if sharded {
                        format!(
                            "shard {start}..{end} differs ({} signed {}…, now {}…)",
                            res.algo.name(),
                            short(&hash::hex(&res.digest)),
                            short(&hash::hex(&d))
                        )
                    } else {
                        format!(
                            "{} differs: signed {}…, now {}…",
                            res.algo.name(),
                            short(&hash::hex(&res.digest)),
                            short(&hash::hex(&d))
                        )
                    };
                }
            }
            Err(e) => {
                check.status = Status::Unreadable;
                check.why = format!("cannot read: {e}");
            }
        }
    }
    report.files.extend(per_file.into_values());
    report.files.sort_by(|a, b| a.name.cmp(&b.name));
}

/// The shard ranges `model_signing` cuts a file of `len` bytes into (none for an empty file).
pub fn shard_ranges(len: u64, shard_size: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    let mut start = 0;
    while start < len {
        let end = start.saturating_add(shard_size).min(len);
        v.push((start, end));
        start = end;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_and_ranges() {
        assert_eq!(shard_key("a/b:c:0:10"), Some(("a/b:c", 0, 10)));
        assert_eq!(shard_key("x:10:0"), None);
        assert_eq!(shard_key("x:1"), None);
        assert_eq!(shard_ranges(0, 4), vec![]);
        assert_eq!(shard_ranges(9, 4), vec![(0, 4), (4, 8), (8, 9)]);
    }
}
