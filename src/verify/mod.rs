//! Provenance: is this the file its publisher released?
//!
//! - [`oms`]: OpenSSF Model Signing v1.0 bundles: the Sigstore bundle's DSSE envelope is checked with
//!   an ECDSA public key (key method) or a certificate that chains to a trusted root ([`cert`]), then every file (or shard) of the model is hashed on every core
//!   and compared with the signed manifest.
//! - [`sign`]: write such a bundle with a private key.
//! - [`hf`]: a Hugging Face cache folder, each blob against the hash that names it.
//! - [`against`]: local files against a Hub repository's listing (LFS SHA-256, git blob ids).
//!
//! Every check returns a [`Report`]: verified or not, and file by file what failed and why. Problems
//! with the input itself (an unreadable signature file, a malformed bundle) are [`crate::Error`]s.
//!
//! ```no_run
//! use tensorscope::verify::{keys::PublicKey, oms};
//! let key = PublicKey::from_pem(&std::fs::read_to_string("key.pub")?)?;
//! let report = oms::verify(std::path::Path::new("model"), &oms::Options::new("model/model.sig", key))?;
//! println!("verified: {}", report.verified);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod against;
mod bundle;
pub mod cert;
mod certsig;
mod compat;
pub mod hash;
pub mod hf;
pub mod keys;
pub mod oms;
pub mod sarif;
pub mod sign;
mod walk;

pub use bundle::{Manifest, Method, Resource, Serialization};

use serde::Serialize;

/// What a verify found, for every output format.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The model (file or folder) verified.
    pub path: String,
    /// `oms`, `hf-cache` or `hf-hub`.
    pub kind: &'static str,
    /// True only when the signature (if any) holds and every file matched.
    pub verified: bool,
    /// Details of the signature checked (OMS only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureInfo>,
    /// The repository compared with (`--against` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<Against>,
    /// Why the whole model failed before any file was compared (bad signature, wrong key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// One line per file, sorted by name.
    pub files: Vec<FileCheck>,
    /// Bytes read and hashed.
    pub bytes_hashed: u64,
    /// Wall time spent hashing, in seconds.
    pub hash_seconds: f64,
    /// Threads used for hashing.
    pub threads: usize,
}

impl Report {
    /// The files that failed.
    pub fn failures(&self) -> impl Iterator<Item = &FileCheck> {
        self.files.iter().filter(|f| f.status != Status::Ok)
    }

    /// Hashing throughput in GB/s (10^9 bytes), when something was hashed.
    pub fn gbps(&self) -> Option<f64> {
        (self.bytes_hashed > 0 && self.hash_seconds > 0.0).then(|| self.bytes_hashed as f64 / self.hash_seconds / 1e9)
    }
}

/// The Hub repository a model was compared with.
#[derive(Debug, Clone, Serialize)]
pub struct Against {
    /// The remote path as given (`hf://ORG/NAME@REV`).
    pub remote: String,
    /// The commit the revision resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// What was signed and how (OMS).
#[derive(Debug, Clone, Serialize)]
pub struct SignatureInfo {
    /// The signature file.
    pub file: String,
    /// `key` or `certificate` (the OMS signing method).
    pub method: &'static str,
    /// The key's curve and hash (empty when no key was reached).
    pub key: &'static str,
    /// The signing certificate and its path to a trusted root (certificate method).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<cert::CertificateInfo>,
    /// Whether the envelope's signature verified with the key.
    pub valid: bool,
    /// The subject name in the statement (informative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// How the model was serialized when signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialization: Option<Serialization>,
    /// Signed resources (files or shards).
    pub resources: usize,
}

/// The verdict on one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    /// Name relative to the model (`/`-separated).
    pub name: String,
    /// Verdict.
    pub status: Status,
    /// Why it failed, in words (empty when ok).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub why: String,
    /// `algorithm:hex` of the bytes found, when they were hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Size in bytes, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// Verdict on one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Matches what was signed (or its blob name).
    Ok,
    /// The bytes differ from what was signed (or from the blob's name).
    Changed,
    /// Signed but not found.
    Missing,
    /// Found but not signed (an extra file).
    Unsigned,
    /// Not a regular file (link, FIFO, device) where one is required.
    NotRegular,
    /// A link that points nowhere, or outside the blob store.
    BrokenLink,
    /// Could not be read.
    Unreadable,
}

impl Status {
    /// The word printed in text output.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Missing => "missing",
            Status::Unsigned => "unsigned",
            Status::NotRegular => "not-regular",
            Status::BrokenLink => "broken-link",
            Status::Unreadable => "unreadable",
        }
    }
}

impl FileCheck {
    /// A file's check with no digest or size.
    pub(crate) fn new(name: impl Into<String>, status: Status, why: impl Into<String>) -> Self {
        FileCheck {
            name: name.into(),
            status,
            why: why.into(),
            digest: None,
            bytes: None,
        }
    }
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}
