//! Safety verdicts for checkpoint files, from an allowlist: only the globals needed to rebuild
//! tensors and containers are safe; a global known to run code, touch files, the network or
//! processes, or to load another pickle is dangerous; everything else — any other global, or
//! anything that could not be scanned completely — is suspicious.
//!
//! Every pickle in every container is walked opcode by opcode without calling anything (see
//! [`walk`]): every entry of a zip (pickles are found by content, not by name), all stacked pickles
//! of a legacy `torch.save` file, every pickle of a raw pickle file, the pickles of numpy object
//! arrays. Tensor data is never read: a 500 MB checkpoint is scanned in milliseconds.
//!
//! # Loader behaviours modelled
//!
//! A file is read the way each real loader reads it and the union is scanned; where two readings
//! disagree, or a probe stops at something a loader would accept, the file is never safe.
//!
//! - CPython `pickle` (the C unpickler): `INT`, `LONG` and `FLOAT` text parsed as C `strtol` (base
//!   0) / `int(text, 0)` / `PyOS_string_to_double` on a C string that ends at the first NUL
//!   ([`crate::formats::pickle::ops`]); the next `pickle.load` of a stream starts right after STOP
//!   for a file from `open()` (the unpickler peeks) and at the end of the frame holding STOP for an
//!   `io.BytesIO` or a raw file (it reads whole frames): both are walked ([`walk::walk_stream`]).
//! - `torch.load`: zip first (`PK\x03\x04`), then Python's `tarfile` (a valid checksum in the first
//!   512 bytes suffices: members `storages`, `tensors`, `pickle`; torch skips this for in-memory
//!   streams, so the legacy reading is scanned too), then the legacy stacked pickles. TorchScript
//!   archives (`constants.pkl`, `code/`) are dangerous: `torch.load` hands them to `torch.jit.load`
//!   (CVE-2025-32434). `mmap=True` changes how storages are read, not which pickles are loaded.
//!   Tensor metadata is checked by the reader (views inside their storage, no negative strides,
//!   storage sizes matching their entries).
//! - safetensors: a header length whose bytes also start a pickle (CPython's `INT` accepts
//!   `I1\0…` and reads on to the next newline) is probed as a pickle.
//! - `np.load`: `.npy` headers as the Python literal numpy evaluates
//!   ([`crate::formats::pickle::pyliteral`]); `.npz` directories as Python's `zipfile` finds them
//!   (the "concat" offset when data precedes the archive, the zip64 record read just before its
//!   locator) besides the absolute offsets torch and our reader use.
//! - gzip (joblib, `pickle.load(gzip.open(…))`): every member, up to
//!   [`compress::MAX_DECOMPRESSED`]; bzip2, xz and zstd are opened as their loaders open them. The
//!   raw bytes, which `pickle.load` and `torch.load` read undecompressed, are walked too (the
//!   `raw_view` module).
//! - Allowlisted globals misused: a BUILD on a class or function object, `numpy.dtype` states whose
//!   object flags disagree with the type code, `bytes(n)` / `bytearray(n)` above
//!   [`walk::MAX_BYTES_CALL`].
//!
//! ```
//! use tensorscope::scan::{scan_bytes, Verdict};
//! let evil = b"cposix\nsystem\n(S'echo pwned'\ntR.";
//! let report = scan_bytes("evil.pkl", evil);
//! assert_eq!(report.verdict, Verdict::Dangerous);
//! assert_eq!(report.findings[0].global.as_deref(), Some("posix.system"));
//! ```

mod collect;
pub mod compress;
mod container;
pub mod cves;
pub mod decoded;
mod gguf;
mod index_refs;
pub mod loaders;
mod lz4;
mod lzma;
mod paths;
mod pyjson;
mod raw_view;
pub mod remote_code;
pub mod sarif;
mod shipped_code;
mod tar;
mod template;
pub mod template_files;
pub mod walk;

use collect::Collector;
pub use collect::{Import, ImportCounts, MAX_FINDINGS, ScanOptions};
pub use paths::{scan_paths, scan_paths_with};

use std::path::Path;

use serde::Serialize;

use crate::Error;
use crate::formats::sniff::{self, Kind};
use crate::remote::Opener;
use walk::Mode;

/// The verdict for a file (and for each pickle in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every global is on the allowlist and everything was scanned.
    Safe,
    /// A global that is on no list, or something that could not be scanned completely.
    Suspicious,
    /// A global known to run code, touch files, the network or processes, or load a pickle.
    Dangerous,
    /// The file is not what it claims to be (an invalid `.safetensors` header).
    Error,
}

impl Verdict {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Suspicious => "suspicious",
            Verdict::Dangerous => "dangerous",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad one finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not known to be harmful, but not known to be needed either, or not fully scanned.
    Suspicious,
    /// Known to be harmful.
    Dangerous,
}

impl Severity {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Suspicious => "suspicious",
            Severity::Dangerous => "dangerous",
        }
    }

    fn verdict(self) -> Verdict {
        match self {
            Severity::Suspicious => Verdict::Suspicious,
            Severity::Dangerous => Verdict::Dangerous,
        }
    }
}

/// One thing that keeps a file from being safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The zip entry (`archive/data.pkl`), `pickle N` of a legacy file, or empty for the file itself.
    pub entry: String,
    /// The global as `module.name` (`?` for a part only known at load time); `null` for findings
    /// that are not globals (a broken stream, a zip header mismatch).
    pub global: Option<String>,
    /// How bad it is.
    pub severity: Severity,
    /// Byte offset of the opcode (or problem) within the entry (within the file when `entry` is a
    /// legacy pickle or empty).
    pub offset: Option<u64>,
    /// Why, in a few words.
    pub why: String,
    /// Which loaders would run it or be harmed by it, with the settings and versions concerned
    /// (`torch.load(weights_only=False)`, `pickle.load`, …; see [`loaders`]).
    pub loaders: Vec<String>,
}

/// One pickle found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickleSummary {
    /// Where it is (as in [`Finding::entry`]).
    pub entry: String,
    /// Offset of its first byte.
    pub offset: u64,
    /// Protocol from its PROTO opcode (0 when absent).
    pub protocol: u8,
    /// Globals it names.
    pub globals: usize,
    /// Whether it parsed through STOP.
    pub complete: bool,
    /// Its own verdict (from the findings located in it).
    pub verdict: Verdict,
}

/// The scan of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileScan {
    /// The path as given or found.
    pub path: String,
    /// `pytorch-zip`, `pytorch-legacy`, `pickle`, `numpy`, `numpy-zip`, `zip`, `safetensors`, `unknown`.
    pub format: String,
    /// The verdict: the worst finding, or `error`.
    pub verdict: Verdict,
    /// What keeps it from being safe (empty when safe).
    pub findings: Vec<Finding>,
    /// Every pickle walked.
    pub pickles: Vec<PickleSummary>,
    /// Every global every pickle names, once each, with its verdict (the import inventory).
    pub imports: Vec<Import>,
    /// The imports by verdict.
    pub import_counts: ImportCounts,
    /// Why the file is an error (verdict `error` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Other names of the same file (same device and inode), e.g. a cache blob.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// GGUF: the chat templates checked (a GGUF holds no pickle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates: Option<usize>,
}

/// The scan of every file asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// One entry per file, in the order given (folders: sorted by path).
    pub files: Vec<FileScan>,
    /// Files that are positively not checkpoints (JSON, text, images, indexes), not scanned.
    pub skipped: Vec<Skipped>,
}

impl ScanReport {
    /// Whether every file is safe.
    pub fn all_safe(&self) -> bool {
        self.files.iter().all(|f| f.verdict == Verdict::Safe)
    }
}

/// Scan the file at `path`. Never fails: a file that cannot be read is `suspicious` ("cannot scan"),
/// and so is one that another process truncates while it is being scanned (the map is guarded).
pub fn scan_file(path: &Path) -> FileScan {
    scan_file_with(path, &ScanOptions::default())
}

/// [`scan_file`] with options (the user's allow list).
pub fn scan_file_with(path: &Path, opts: &ScanOptions) -> FileScan {
    scan_opened(&Opener::default(), path, opts)
}

/// Scan the file at `path`, opened by `opener` (a file of a remote mirror is fetched first and
/// reported under its remote path).
fn scan_opened(opener: &Opener, path: &Path, opts: &ScanOptions) -> FileScan {
    let label = match opener.remote_file(path) {
        Some(f) => f.label.clone(),
        None => crate::text::os_lossless(path.as_os_str()),
    };
    let src = match opener.source(path) {
        Ok((src, _)) => src,
        Err(e) => {
            let why = match e {
                Error::Io { source, .. } => format!("cannot open: {source}"),
                Error::Format { msg, .. } => msg,
                e => e.to_string(),
            };
            // not read at all (permissions, a fetch that failed): an error, as a file no reader
            // understands is, never safe either way
            let mut scan = Collector::default().finish(label, "unknown");
            scan.verdict = Verdict::Error;
            scan.error = Some(format!("cannot scan: {why}"));
            if let Some(f) = opener.remote_file(path) {
                mark_incomplete(&mut scan, f.as_ref());
            }
            return scan;
        }
    };
    let mut scan = scan_source(&src, label, opts);
    // the source says whether it is a remote file's copy, and whether that copy is complete
    if let Some(f) = src.sparse() {
        mark_incomplete(&mut scan, f.as_ref());
    }
    loaders::assign(&mut scan);
    scan
}

fn scan_source(src: &crate::source::Source, label: String, opts: &ScanOptions) -> FileScan {
    if src.bytes().is_empty() {
        return cannot_scan(label, "unknown", EMPTY);
    }
    let scan = scan_bytes_with(label, src.bytes(), opts);
    if src.damaged() {
        return cannot_scan(scan.path, &scan.format, TRUNCATED);
    }
    scan
}

/// Scan file `file` of an opened checkpoint. The checkpoint knows whether the file is the copy of a
/// remote file: then its bytes as opened are scanned, reported under the remote path, and never
/// called safe when the copy is incomplete. A local file is scanned as [`scan_file_with`] scans it.
pub fn scan_checkpoint_file(ck: &crate::model::Checkpoint, file: usize, opts: &ScanOptions) -> FileScan {
    let src = ck.sources.get(file);
    let Some((src, f)) = src.and_then(|s| Some((s, s.sparse()?))) else {
        return scan_file_with(ck.file_path(file), opts);
    };
    let mut scan = scan_source(src, f.label().to_owned(), opts);
    mark_incomplete(&mut scan, f.as_ref());
    loaders::assign(&mut scan);
    scan
}

/// Scan a file's bytes; `path` is only the label in the report.
pub fn scan_bytes(path: impl Into<String>, data: &[u8]) -> FileScan {
    scan_bytes_with(path, data, &ScanOptions::default())
}

/// [`scan_bytes`] with options (the user's allow list).
pub fn scan_bytes_with(path: impl Into<String>, data: &[u8], opts: &ScanOptions) -> FileScan {
    let mut scan = scan_depth(path.into(), data, opts, 0);
    loaders::assign(&mut scan);
    scan
}

/// How many compression layers (`.pkl.gz.gz`) are opened.
pub const MAX_LAYERS: u32 = 2;

fn scan_depth(path: String, data: &[u8], opts: &ScanOptions, depth: u32) -> FileScan {
    let first = scan_format(path.clone(), data, opts, depth);
    // pandas opens `x.zip` with Python's zipfile, which finds an archive at the end of any file
    // (after a safetensors header and data, or text): that view is scanned too
    if depth > 0 || !container::zip_by_name(&path, data) {
        return first;
    }
    let unknown = first.findings.iter().any(|f| f.why.ends_with(UNKNOWN_FORMAT));
    container::zip_by_python(Collector::new(opts), path, data, (!unknown).then_some(first))
}

/// [`scan_depth`] by the format the bytes start as.
fn scan_format(path: String, data: &[u8], opts: &ScanOptions, depth: u32) -> FileScan {
    if data.is_empty() {
        return cannot_scan(path, "unknown", EMPTY);
    }
    let c = Collector::new(opts);
    // torch.load tries its pre-1.6 tar loader before anything else but zip: a file that Python's
    // tarfile opens is unpickled from its members, whatever else it also is
    if container::is_tar(data) && !data.starts_with(b"PK") {
        return container::tar(c, path, data);
    }
    let head = &data[..data.len().min(sniff::SNIFF_LEN)];
    // torch.load opens a file as a zip by its first four bytes, before anything else: a header
    // length of 0x04034B50 makes a safetensors file that torch.load reads as a zip archive
    if data.starts_with(b"PK\x03\x04") {
        let mut c = c;
        if data.get(8) == Some(&b'{') && ::safetensors::SafeTensors::read_metadata(data).is_ok() {
            c.problem(
                "",
                None,
                Severity::Suspicious,
                "a valid safetensors file whose header length reads as a zip's first bytes: safetensors \
                 loads it as tensors, torch.load opens it as a zip archive (scanned as one here)"
                    .to_owned(),
            );
        }
        return container::zip(c, path, data);
    }
    // a header length such as 0x280 starts with the bytes of a PROTO opcode: the header decides
    if data.get(8) == Some(&b'{') && ::safetensors::SafeTensors::read_metadata(data).is_ok() {
        return safetensors(c, path, data);
    }
    if let Some(kind) = compress::kind(data).or_else(|| compress::kind_by_name(&path, data).filter(|_| depth == 0)) {
        let opened = compress::scan(c, path.clone(), data, kind, depth, |p, d| {
            scan_depth(p, d, opts, depth + 1)
        });
        // pickle.load and torch.load read the same bytes undecompressed: that view counts too
        return raw_view::both(opts, path, data, opened);
    }
    match sniff::detect(head) {
        Kind::Safetensors => safetensors(c, path, data),
        Kind::Zip => container::zip(c, path, data),
        Kind::Npy => container::npy(c, path, data),
        Kind::Gguf => gguf::scan(c, path, data),
        Kind::Pickle => container::pickle_file(c, path, data),
        Kind::GitLfsPointer => cannot_scan(path, "unknown", "this is a Git LFS pointer, not the weights"),
        Kind::Html => cannot_scan(path, "unknown", "this is an HTML page, not weights"),
        Kind::Tar => cannot_scan(
            path,
            "tar",
            "it looks like a tar archive, but Python's tarfile would not open it (bad checksum)",
        ),
        Kind::Compressed => cannot_scan(path, "compressed", "compressed, but no decompressor recognised it"),
        Kind::Unknown => match probe_pickle(data) {
            true => container::pickle_file(c, path, data),
            false => cannot_scan(path, "unknown", UNKNOWN_FORMAT),
        },
    }
}

/// Whether bytes of no known format hold a pickle anyway (a protocol-0 pickle, a renamed file).
/// A walk that stopped at a limit of the walker (a million NONEs before the payload) counts: CPython
/// would go on, so the file is scanned and reported, never dropped as "unknown".
fn probe_pickle(data: &[u8]) -> bool {
    let s = walk::walk_stream(data, Mode::Probe);
    s.pickles.iter().any(|p| p.complete || !p.globals.is_empty()) || s.errors.iter().any(|e| walk::is_limit(&e.msg))
}

/// Reasons that, in a folder, mean "not a checkpoint at all" (left out of the report).
const UNKNOWN_FORMAT: &str = "unknown format";
const EMPTY: &str = "the file is empty";
const TRUNCATED: &str = "the file was truncated while it was being scanned (another process changed it)";
const NOT_A_CHECKPOINT: [&str; 2] = ["cannot scan: unknown format", "cannot scan: the file is empty"];

fn cannot_scan(path: String, format: &str, why: &str) -> FileScan {
    let mut c = Collector::default();
    c.problem("", None, Severity::Suspicious, format!("cannot scan: {why}"));
    c.finish(path, format)
}

fn safetensors(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    // our own header checks include every check of the safetensors crate and more (dimension limit,
    // duplicate names, …; tested on every committed file): a header `inspect` refuses is not called
    // safe. The crate is not asked again: it doubled the time and memory of a million-tensor header.
    let ours = crate::formats::safetensors::parse_header(Path::new(&path), data).map_err(|e| match e {
        Error::Format { msg, .. } => msg,
        e => e.to_string(),
    });
    match ours {
        Ok(_) => {
            // a polyglot whose first bytes also unpickle (what torch.load and pickle.load would
            // try: CPython's INT text ends at a NUL, so `I1\0…` runs on into the header and data)
            //
            // A pickle that breaks before it reaches any global runs nothing: CPython raises at the
            // same opcode (any real header length starts with some opcode byte, `P` or `c` read on
            // into the JSON, so breaking past the 8 bytes alone is no sign of a polyglot). What
            // counts: a complete pickle, a global reached, or a stop at one of the walker's own
            // limits, past which CPython could still go on. Every low byte of a length is tested.
            let (first, err) = walk::walk_one(data, 0);
            let past_length = first.complete
                // an extension code (EXT1/2/4) names nothing in a stock interpreter, whose copyreg
                // registry is empty: CPython raises right there
                || first.globals.iter().any(|g| g.how != walk::How::Extension)
                || err.as_ref().is_some_and(|e| walk::is_limit(&e.msg));
            if past_length {
                c.walk("", 0, data, Mode::Probe);
                let why = if first.complete {
                    "the header length is also the start of a pickle that runs through the header into the data \
                     (pickle.load and torch.load would unpickle it)"
                } else {
                    "the header length is also the start of a pickle that runs on past it; the scan stopped where \
                     CPython might go on"
                };
                c.problem("", Some(0), Severity::Suspicious, why);
            }
            c.finish(path, "safetensors")
        }
        // no safetensors reader opens it, but pickle.load may: what it reads is judged
        Err(e) if probe_pickle(data) => {
            let mut f = container::pickle_file(c, path, data);
            let why = format!("invalid safetensors header ({e}), but the bytes unpickle: scanned as a pickle");
            f.findings.insert(
                0,
                Finding {
                    entry: String::new(),
                    global: None,
                    severity: Severity::Suspicious,
                    offset: Some(0),
                    why,
                    loaders: Vec::new(),
                },
            );
            f.verdict = f.verdict.max(Verdict::Suspicious);
            f
        }
        Err(e) => {
            let mut f = c.finish(path, "safetensors");
            f.verdict = Verdict::Error;
            f.error = Some(format!("invalid safetensors header: {e}"));
            f
        }
    }
}

/// A remote file that could not be fetched completely is never safe.
fn mark_incomplete(scan: &mut FileScan, f: &dyn crate::source::Sparse) {
    if let Some(why) = f.incomplete() {
        scan.verdict = scan.verdict.max(Verdict::Suspicious);
        scan.findings.push(Finding {
            entry: String::new(),
            global: None,
            severity: Severity::Suspicious,
            offset: None,
            why: format!("not scanned completely over HTTP ranges: {why}"),
            loaders: Vec::new(),
        });
    }
}

/// A file left out of a scan because it is positively not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The path as found.
    pub path: String,
    /// What it looks like (`JSON`, `text`, `image`, `index`, …).
    pub looks: String,
    /// Whether it is a layout index (`*.safetensors.index.json`, `model_index.json`).
    #[serde(skip)]
    pub index: bool,
}

#[cfg(test)]
mod tests;
