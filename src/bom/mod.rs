//! An AI bill of materials from the bytes: what each checkpoint file of a scan is, read from the
//! file itself rather than copied from a model card, written as CycloneDX 1.6 ([`cyclonedx`]) or
//! SPDX 3.0.1 with the AI profile ([`spdx`]).
//!
//! For every file the scan reported, [`collect`] gathers:
//! - its SHA-256: computed from the bytes for a local file, or the Hub's LFS `sha256` for a file of
//!   an `hf://` path (nothing is downloaded for it; [`Entry::sha256_from`] says which);
//! - its size, format and container, and for a Hub file its `pkg:huggingface` purl at the commit;
//! - the parameter count as [`crate::model::count`] counts it (tied weights once, packed weights
//!   unpacked), the dtypes with their tensor counts, the quantization scheme (config.json beside the
//!   file, or GGML block types), the architecture and context length (config.json beside the file,
//!   or the GGUF's `general.architecture` and `ARCH.context_length`) and the licence where the files
//!   state one (GGUF `general.license`, safetensors `__metadata__`, README front matter beside it);
//! - the SHA-256 of every chat template (GGUF `tokenizer.chat_template*`, `tokenizer_config.json`'s
//!   `chat_template` and `chat_template.jinja` beside the file);
//! - the scan's verdict and findings, with CVE references where one applies
//!   ([`crate::scan::cves`]);
//! - the file's verification status, when a signature or a cache folder vouches for it
//!   ([`verification`]).
//!
//! Output is deterministic: files sorted by path, identifiers derived from the content. The one
//! time stamp SPDX requires is `SOURCE_DATE_EPOCH` when set (reproducible-builds convention).
//!
//! ```
//! let report = tensorscope::scan::ScanReport {
//!     files: vec![tensorscope::scan::scan_bytes("evil.pkl", b"cposix\nsystem\n(S'x'\ntR.")],
//!     ..Default::default()
//! };
//! let bom = tensorscope::bom::collect(&report, None);
//! let doc = tensorscope::bom::cyclonedx::document(&bom);
//! assert_eq!(doc["specVersion"], "1.6");
//! assert_eq!(doc["vulnerabilities"][0]["affects"][0]["ref"], doc["components"][0]["bom-ref"]);
//! ```

pub mod cyclonedx;
mod read;
pub mod spdx;
pub mod verification;

use std::path::Path;

use serde::Serialize;

use crate::scan::{Finding, ScanReport};

/// Where an entry's SHA-256 comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashSource {
    /// Computed from the bytes on this machine.
    Bytes,
    /// The `lfs.oid` of the Hub's file listing (the file was not downloaded).
    HubLfs,
}

impl HashSource {
    /// The spelling in the BOM's properties.
    pub fn as_str(self) -> &'static str {
        match self {
            HashSource::Bytes => "computed-from-bytes",
            HashSource::HubLfs => "hub-lfs-metadata",
        }
    }
}

/// A chat template's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    /// Where it is: the GGUF key, `tokenizer_config.json`, `tokenizer_config.json:NAME` or
    /// `chat_template.jinja`.
    pub name: String,
    /// SHA-256 of its UTF-8 bytes, lower-case hex.
    pub sha256: String,
}

/// One checkpoint file of the BOM.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The path as the scan reported it (`hf://ORG/NAME/FILE` for a Hub file).
    pub path: String,
    /// The file name.
    pub name: String,
    /// Size in bytes, when known.
    pub bytes: Option<u64>,
    /// SHA-256, lower-case hex, when known.
    pub sha256: Option<String>,
    /// Where [`Entry::sha256`] comes from.
    pub sha256_from: Option<HashSource>,
    /// `pkg:huggingface/ORG/NAME@COMMIT` for a Hub file.
    pub purl: Option<String>,
    /// What the scanner found the file to be (`pytorch-zip`, `safetensors`, `gguf`, `pickle`, …).
    pub format: String,
    /// The container the checkpoint reader opened (`safetensors`, `pytorch-zip`, `gguf`, …).
    pub container: Option<String>,
    /// Tensors in the file.
    pub tensors: Option<usize>,
    /// Parameters as the model defines them ([`crate::model::count`]).
    pub params: Option<u64>,
    /// Each dtype and how many tensors have it, sorted by name.
    pub dtypes: Vec<(String, usize)>,
    /// The quantization scheme, in words.
    pub quantization: Option<String>,
    /// The architecture (config.json `architectures`, GGUF `general.architecture`).
    pub architecture: Option<String>,
    /// The context length (config.json `max_position_embeddings`/`n_positions`, GGUF
    /// `ARCH.context_length`).
    pub context_length: Option<u64>,
    /// The licence the files state.
    pub license: Option<String>,
    /// Chat template fingerprints, sorted by name.
    pub templates: Vec<Template>,
    /// The scan verdict (`safe`, `suspicious`, `dangerous`, `error`).
    pub verdict: String,
    /// The scan findings.
    pub findings: Vec<Finding>,
    /// What could not be read for the BOM (the file could not be opened as a checkpoint, …).
    pub notes: Vec<String>,
    /// The file's provenance check ([`verification`]), when one ran or a signature is there.
    pub verification: Option<verification::Verification>,
}

/// A bill of materials: one entry per checkpoint file, sorted by path.
#[derive(Debug, Clone, Serialize)]
pub struct Bom {
    /// The tool's version (`CARGO_PKG_VERSION`).
    pub tool_version: String,
    /// The files.
    pub files: Vec<Entry>,
}

/// Build the BOM of a scan: every file of `report`, read again for what the scan does not keep
/// (counts, dtypes, hashes). `remote` opens `hf://` files through the same context as the scan
/// (their hashes come from the Hub's listing; nothing is downloaded beyond what the scan fetched).
pub fn collect(report: &ScanReport, remote: Option<&crate::remote::Env>) -> Bom {
    let mut files: Vec<Entry> = report.files.iter().map(|f| read::entry(f, remote)).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Bom {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        files,
    }
}

/// A version-4-shaped UUID made from a SHA-256 of `seed` (so the same content gives the same id).
pub fn uuid_from(seed: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::verify::hash::hex(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The file name of a path or label.
fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (UTC, proleptic Gregorian).
pub fn rfc3339(secs: u64) -> String {
    let (y, m, d, hh, mm, ss) = crate::text::utc(secs);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// The time stamp of a BOM: `SOURCE_DATE_EPOCH` when it is set to a number, else now.
pub fn timestamp() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    rfc3339(secs.min(253_402_300_799))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_733_529_600 + 3_661), "2024-12-07T01:01:01Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn uuids_come_from_the_content() {
        let a = uuid_from(b"x");
        assert_eq!(a, uuid_from(b"x"));
        assert_ne!(a, uuid_from(b"y"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
