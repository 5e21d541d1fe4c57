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
//! ```
//! use tensorscope::scan::{scan_bytes, Verdict};
//! let evil = b"cposix\nsystem\n(S'echo pwned'\ntR.";
//! let report = scan_bytes("evil.pkl", evil);
//! assert_eq!(report.verdict, Verdict::Dangerous);
//! assert_eq!(report.findings[0].global.as_deref(), Some("posix.system"));
//! ```

mod container;
pub mod walk;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::formats::pickle::{allowlist, dangerous};
use crate::formats::sniff::{self, Kind};
use crate::{Error, Result};
use walk::{GlobalRef, How, Mode, Stream};

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
    /// Why the file is an error (verdict `error` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The scan of every file asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// One entry per file, in the order given (folders: sorted by path).
    pub files: Vec<FileScan>,
}

impl ScanReport {
    /// Whether every file is safe.
    pub fn all_safe(&self) -> bool {
        self.files.iter().all(|f| f.verdict == Verdict::Safe)
    }
}

/// Collects findings and pickles of one file while containers are walked.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    findings: Vec<Finding>,
    pickles: Vec<PickleSummary>,
    /// The worst severity seen, also among findings left out past [`MAX_FINDINGS`].
    worst: Option<Severity>,
    /// Findings left out.
    dropped: usize,
}

/// Most findings listed per file (and pickles summarised); the verdict still counts every one.
pub const MAX_FINDINGS: usize = 10_000;

impl Collector {
    /// A finding that is not a global.
    pub(crate) fn problem(&mut self, entry: &str, offset: Option<u64>, severity: Severity, why: impl Into<String>) {
        self.push(Finding {
            entry: entry.to_owned(),
            global: None,
            severity,
            offset,
            why: why.into(),
        });
    }

    /// Record the pickles and globals of a walked stream; `base` is added to its offsets.
    pub(crate) fn stream(&mut self, entry: &str, base: u64, s: &Stream<'_>) {
        let first = self.findings.len();
        for p in &s.pickles {
            let mut verdict = if p.complete { Verdict::Safe } else { Verdict::Suspicious };
            for g in &p.globals {
                if let Some(f) = classify(entry, base, g) {
                    verdict = verdict.max(f.severity.verdict());
                    self.push(f);
                }
            }
            if self.pickles.len() >= MAX_FINDINGS {
                continue;
            }
            self.pickles.push(PickleSummary {
                entry: entry.to_owned(),
                offset: base + p.start as u64,
                protocol: p.protocol,
                globals: p.globals.len(),
                complete: p.complete,
                verdict,
            });
        }
        for e in &s.errors {
            let why = format!(
                "the pickle stream is broken, so it was not scanned to the end: {}",
                e.msg
            );
            self.problem(entry, Some(base + e.offset as u64), Severity::Suspicious, why);
        }
        self.findings[first..].sort_by_key(|f| f.offset);
    }

    fn push(&mut self, f: Finding) {
        self.worst = self.worst.max(Some(f.severity));
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self, path: String, format: &str) -> FileScan {
        if self.dropped > 0 {
            let why = format!("{} more findings are not listed", self.dropped);
            let severity = self.worst.unwrap_or(Severity::Suspicious);
            self.findings.push(Finding {
                entry: String::new(),
                global: None,
                severity,
                offset: None,
                why,
            });
        }
        let verdict = self.worst.map_or(Verdict::Safe, Severity::verdict);
        FileScan {
            path,
            format: format.to_owned(),
            verdict,
            findings: self.findings,
            pickles: self.pickles,
            error: None,
        }
    }
}

fn is_safe(module: &str, name: &str) -> bool {
    allowlist::is_safe(module, name)
}

/// The finding for one global, `None` when it is allowlisted.
fn classify(entry: &str, base: u64, g: &GlobalRef) -> Option<Finding> {
    let (severity, why): (Severity, String) = match g.how {
        How::Extension => (
            Severity::Suspicious,
            format!(
                "extension code {} names a global from the copyreg registry, chosen at load time",
                g.name
            ),
        ),
        How::Unresolved => match dangerous::why(&g.module, "") {
            Some(w) if g.module != "?" => (Severity::Dangerous, w.to_owned()),
            _ => (
                Severity::Suspicious,
                "STACK_GLOBAL with a name computed at load time".to_owned(),
            ),
        },
        How::Global | How::Inst | How::StackGlobal => {
            if is_safe(&g.module, &g.name) {
                return None;
            }
            match dangerous::why(&g.module, &g.name) {
                Some(w) => (Severity::Dangerous, w.to_owned()),
                None => (
                    Severity::Suspicious,
                    "not needed to rebuild tensors (not on the allowlist)".to_owned(),
                ),
            }
        }
    };
    let why = if g.nested {
        format!("in a pickle inside a bytes value: {why}")
    } else {
        why
    };
    let global = if g.how == How::Extension {
        format!("ext:{}", g.name)
    } else {
        format!("{}.{}", g.module, g.name)
    };
    Some(Finding {
        entry: entry.to_owned(),
        global: Some(global),
        severity,
        offset: Some(base + g.offset as u64),
        why,
    })
}

/// Scan the file at `path`. Never fails: a file that cannot be read is `suspicious` ("cannot scan"),
/// and so is one that another process truncates while it is being scanned (the map is guarded).
pub fn scan_file(path: &Path) -> FileScan {
    let label = path.to_string_lossy().into_owned();
    let src = match crate::source::Source::open(path) {
        Ok((src, _)) => src,
        Err(Error::Io { source, .. }) => return cannot_scan(label, "unknown", &format!("cannot open: {source}")),
        Err(Error::Format { msg, .. }) => return cannot_scan(label, "unknown", &msg),
        Err(e) => return cannot_scan(label, "unknown", &e.to_string()),
    };
    if src.bytes().is_empty() {
        return cannot_scan(label, "unknown", EMPTY);
    }
    let scan = scan_bytes(label, src.bytes());
    if src.damaged() {
        return cannot_scan(scan.path, &scan.format, TRUNCATED);
    }
    scan
}

/// Scan a file's bytes; `path` is only the label in the report.
pub fn scan_bytes(path: impl Into<String>, data: &[u8]) -> FileScan {
    let path = path.into();
    if data.is_empty() {
        return cannot_scan(path, "unknown", EMPTY);
    }
    let head = &data[..data.len().min(sniff::SNIFF_LEN)];
    // a header length such as 0x280 starts with the bytes of a PROTO opcode: the header decides
    if data.get(8) == Some(&b'{') && ::safetensors::SafeTensors::read_metadata(data).is_ok() {
        return safetensors(path, data);
    }
    match sniff::detect(head) {
        Kind::Safetensors => safetensors(path, data),
        Kind::Zip => container::zip(path, data),
        Kind::Npy => container::npy(path, data),
        Kind::Pickle => container::pickle_file(path, data),
        Kind::GitLfsPointer => cannot_scan(path, "unknown", "this is a Git LFS pointer, not the weights"),
        Kind::Html => cannot_scan(path, "unknown", "this is an HTML page, not weights"),
        Kind::Tar => cannot_scan(path, "unknown", "tar archives (torch before 1.6) are not supported"),
        Kind::Unknown => match probe_pickle(data) {
            true => container::pickle_file(path, data),
            false => cannot_scan(path, "unknown", UNKNOWN_FORMAT),
        },
    }
}

/// Whether bytes of no known format hold a pickle anyway (a protocol-0 pickle, a renamed file).
fn probe_pickle(data: &[u8]) -> bool {
    let s = walk::walk_stream(data, Mode::Probe);
    s.pickles.iter().any(|p| p.complete || !p.globals.is_empty())
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

fn safetensors(path: String, data: &[u8]) -> FileScan {
    // our own header checks are stricter than the crate's (dimension limit, duplicate names, …):
    // a header `inspect` refuses is not called safe
    let ours = crate::formats::safetensors::parse_header(Path::new(&path), data).map_err(|e| match e {
        Error::Format { msg, .. } => msg,
        e => e.to_string(),
    });
    match ::safetensors::SafeTensors::read_metadata(data)
        .map_err(|e| e.to_string())
        .and(ours)
    {
        Ok(_) => {
            // a polyglot whose first bytes also unpickle (what torch.load would try) is not safe
            let mut c = Collector::default();
            c.stream("", 0, &walk::walk_stream(data, Mode::Probe));
            c.pickles.clear();
            c.finish(path, "safetensors")
        }
        Err(e) => FileScan {
            path,
            format: "safetensors".into(),
            verdict: Verdict::Error,
            findings: Vec::new(),
            pickles: Vec::new(),
            error: Some(format!("invalid safetensors header: {e}")),
        },
    }
}

/// Scan files and folders (recursively, following links to files, files sorted by path).
///
/// In folders, files of no known format that hold no pickle (configs, tokenizers, READMEs) are
/// left out; a file named on the command line is always reported.
pub fn scan_paths(paths: &[PathBuf]) -> Result<ScanReport> {
    let mut report = ScanReport::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            collect(p, &mut files, 0, &mut HashSet::new())?;
            files.sort();
            for f in files {
                let scan = scan_file(&f);
                let skip = scan.format == "unknown"
                    && scan.findings.iter().all(|x| NOT_A_CHECKPOINT.contains(&x.why.as_str()));
                if !skip {
                    report.files.push(scan);
                }
            }
        } else {
            report.files.push(scan_file(p));
        }
    }
    Ok(report)
}

/// Deepest folder nesting followed (symlinked folders can loop).
const MAX_DEPTH: usize = 32;

/// Files under `dir`; a folder reached again through a link (`a -> .`) is walked once.
fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize, seen: &mut HashSet<(u64, u64)>) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !seen.insert((m.dev(), m.ino())) {
        return Ok(());
    }
    if depth > MAX_DEPTH {
        return Err(Error::Limit {
            path: dir.into(),
            what: "folder depth",
            value: depth as u64,
            limit: MAX_DEPTH as u64,
            hint: "",
        });
    }
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let path = e.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => collect(&path, out, depth + 1, seen)?,
            _ => out.push(path),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
