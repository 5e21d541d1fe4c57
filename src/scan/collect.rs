//! Findings, pickle summaries and the import inventory of one file, gathered while its containers
//! are walked; the verdict of each global (allowlist, the user's own allow list, dangerous list).

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use serde::Serialize;

use super::walk::{self, GlobalRef, How, Mode, Stream};
use super::{FileScan, Finding, PickleSummary, Severity, Verdict};
use crate::formats::pickle::{allowlist, dangerous};

/// Most findings listed per file (and pickles summarised); the verdict still counts every one.
pub const MAX_FINDINGS: usize = 10_000;

/// What a scan accepts beyond the built-in allowlist, and how it reads remote paths.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Globals (`module.name`) a team allows for its own classes. A global on the dangerous list
    /// stays dangerous even when named here.
    pub allow: HashSet<String>,
    /// How remote paths are read; `None`: local paths only (a remote path is an error).
    pub remote: Option<crate::remote::Env>,
}

impl ScanOptions {
    /// Read an allow file: one `module.name` per line, `#` starts a comment, blank lines ignored.
    ///
    /// ```
    /// let o = tensorscope::scan::ScanOptions::from_allow_text("# ours\nmylib.Config\n\n  mylib.Block # v2\n");
    /// assert!(o.allow.contains("mylib.Config") && o.allow.contains("mylib.Block"));
    /// ```
    pub fn from_allow_text(text: &str) -> Self {
        let mut o = Self::default();
        o.add_allow_text(text);
        o
    }

    /// Add the names of an allow file's text (see [`ScanOptions::from_allow_text`]).
    pub fn add_allow_text(&mut self, text: &str) {
        for line in text.lines() {
            let name = line.split('#').next().unwrap_or("").trim();
            if !name.is_empty() {
                self.allow.insert(name.to_owned());
            }
        }
    }
}

/// One global a file imports, as in the Hub's "Detected Pickle imports".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    /// The global as `module.name` (`ext:N` for a copyreg extension code).
    pub global: String,
    /// Its verdict: `safe` when allowlisted (or allowed by the user), else suspicious or dangerous.
    pub verdict: Verdict,
    /// Whether the user's allow list (`--allow`, `--allow-file`) made it safe.
    pub allowed: bool,
    /// Why, in a few words.
    pub why: String,
    /// How many pickles of the file name it.
    pub count: usize,
    /// The entries naming it (zip entries, `pickle N`), at most `MAX_ENTRIES_PER_IMPORT`.
    pub entries: Vec<String>,
}

/// Most entries listed per import.
pub const MAX_ENTRIES_PER_IMPORT: usize = 16;

/// Imports of a file by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Allowlisted (or allowed by the user).
    pub safe: usize,
    /// On no list.
    pub suspicious: usize,
    /// Known harmful.
    pub dangerous: usize,
    /// Of the safe ones, how many only because of the user's allow list.
    pub allowed: usize,
}

/// Collects findings and pickles of one file while containers are walked.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    findings: Vec<Finding>,
    pickles: Vec<PickleSummary>,
    imports: BTreeMap<String, Import>,
    allow: Rc<HashSet<String>>,
    /// The worst severity seen, also among findings left out past [`MAX_FINDINGS`].
    worst: Option<Severity>,
    /// Findings left out.
    dropped: usize,
}

impl Collector {
    pub(crate) fn new(opts: &ScanOptions) -> Self {
        Self {
            allow: Rc::new(opts.allow.clone()),
            ..Self::default()
        }
    }

    /// How many findings are listed so far (a mark for [`Collector::loaders_since`]).
    pub(crate) fn mark(&self) -> usize {
        self.findings.len()
    }

    /// The loaders of the findings listed since `mark`, where the file's format would name others
    /// (an `.npy` member of a torch zip is read by `np.load`, not `torch.load`).
    pub(crate) fn loaders_since(&mut self, mark: usize, loaders: &[&str]) {
        for f in self.findings.iter_mut().skip(mark).filter(|f| f.loaders.is_empty()) {
            f.loaders = loaders.iter().map(|l| (*l).to_owned()).collect();
        }
    }

    /// A finding that is not a global.
    pub(crate) fn problem(&mut self, entry: &str, offset: Option<u64>, severity: Severity, why: impl Into<String>) {
        self.push(Finding {
            entry: entry.to_owned(),
            global: None,
            severity,
            offset,
            why: why.into(),
            loaders: Vec::new(),
        });
    }

    /// Take in the scan of a file nested in `entry` (a `torch.save` archive inside a `.pt2`): its
    /// findings, pickles and imports, each entry named under `entry`.
    pub(crate) fn absorb(&mut self, entry: &str, nested: FileScan) {
        let under = |e: &str| {
            if e.is_empty() {
                entry.to_owned()
            } else {
                format!("{entry}/{e}")
            }
        };
        for mut f in nested.findings {
            f.entry = under(&f.entry);
            self.push(f);
        }
        if let Some(why) = nested.error {
            self.problem(
                entry,
                None,
                Severity::Suspicious,
                format!("cannot scan the nested file: {why}"),
            );
        }
        for mut p in nested.pickles {
            p.entry = under(&p.entry);
            self.pickles.push(p);
        }
        for i in nested.imports {
            for e in &i.entries {
                self.inventory(
                    &under(e),
                    Import {
                        count: 0,
                        entries: Vec::new(),
                        ..i.clone()
                    },
                );
            }
        }
    }

    /// Record the pickles and globals of a walked stream; `base` is added to its offsets.
    pub(crate) fn stream(&mut self, entry: &str, base: u64, s: &Stream<'_>) {
        let first = self.findings.len();
        for p in &s.pickles {
            let mut verdict = if p.complete { Verdict::Safe } else { Verdict::Suspicious };
            for g in &p.globals {
                let (f, import) = self.classify(entry, base, g);
                self.inventory(entry, import);
                if let Some(f) = f {
                    verdict = verdict.max(f.severity.verdict());
                    self.push(f);
                }
            }
            for h in &p.hazards {
                let severity = if h.dangerous {
                    Severity::Dangerous
                } else {
                    Severity::Suspicious
                };
                verdict = verdict.max(severity.verdict());
                self.push(Finding {
                    entry: entry.to_owned(),
                    // a hazard of the stream itself (an argument across a frame's end) names none
                    global: (!h.global.is_empty()).then(|| h.global.clone()),
                    severity,
                    offset: Some(base + h.offset as u64),
                    why: h.why.clone(),
                    loaders: Vec::new(),
                });
            }
            if let Some(end) = p.frame_end {
                verdict = verdict.max(Verdict::Suspicious);
                let why = format!(
                    "the frame holding STOP runs {} past it: CPython's C unpickler resumes the next pickle at \
                     the frame's end when it read the frame with one read() (always from io.BytesIO; from a file from \
                     open() when the frame is 8192 bytes or more, or more than the file's buffer holds), right after \
                     STOP otherwise (the pickles from both places were scanned)",
                    crate::text::plural((end - p.end) as u64, "byte")
                );
                self.problem(entry, Some(base + p.end as u64), Severity::Suspicious, why);
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

    /// The dangerous globals that a plain unpickler (`pickle.load`, `pandas.read_pickle`) reaches
    /// where joblib's unpickler steps over array data: only dangerous ones count, since array data
    /// read as opcodes is noise that a plain unpickler refuses long before anything else it names.
    /// Walk `bytes` as pickles (`mode`) into the report, then [`Collector::plain_if_joblib`].
    pub(crate) fn walk(&mut self, entry: &str, base: u64, bytes: &[u8], mode: Mode) {
        let s = walk::walk_stream(bytes, mode);
        self.stream(entry, base, &s);
        self.plain_if_joblib(entry, base, bytes, s.globals());
    }

    /// Where `globals` (walked from `bytes`) name joblib's array wrapper, the pickles of `bytes` once
    /// more as a plain unpickler reads them ([`Collector::plain_reading`]): only `joblib.load`
    /// steps over the array data after the wrapper's BUILD; `pickle.load`, `torch.load`,
    /// `numpy.load` and `pandas.read_pickle` read those bytes as opcodes.
    pub(crate) fn plain_if_joblib<'g>(
        &mut self,
        entry: &str,
        base: u64,
        bytes: &[u8],
        mut globals: impl Iterator<Item = &'g GlobalRef>,
    ) {
        if globals.any(|g| g.module == "joblib.numpy_pickle" && g.name == "NumpyArrayWrapper") {
            self.plain_reading(entry, base, &walk::walk_stream(bytes, Mode::Plain));
        }
    }

    pub(crate) fn plain_reading(&mut self, entry: &str, base: u64, s: &Stream<'_>) {
        for g in s.globals() {
            let (Some(mut f), _) = self.classify(entry, base, g) else {
                continue;
            };
            if f.severity != Severity::Dangerous {
                continue;
            }
            f.why = format!(
                "read by a plain unpickler, which takes joblib's array data for opcodes: {}",
                f.why
            );
            f.loaders = vec![super::loaders::PICKLE.to_owned(), super::loaders::PANDAS.to_owned()];
            self.push(f);
        }
    }

    fn inventory(&mut self, entry: &str, import: Import) {
        let i = self.imports.entry(import.global.clone()).or_insert(Import {
            count: 0,
            entries: Vec::new(),
            ..import
        });
        i.count += 1;
        if !i.entries.iter().any(|e| e == entry) && i.entries.len() < MAX_ENTRIES_PER_IMPORT {
            i.entries.push(entry.to_owned());
        }
    }

    fn push(&mut self, f: Finding) {
        self.worst = self.worst.max(Some(f.severity));
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        } else {
            self.dropped += 1;
        }
    }

    /// The finding for one global (`None` when it is allowlisted or allowed) and its inventory row.
    pub(super) fn classify(&self, entry: &str, base: u64, g: &GlobalRef) -> (Option<Finding>, Import) {
        let global = if g.how == How::Extension {
            format!("ext:{}", g.name)
        } else {
            format!("{}.{}", g.module, g.name)
        };
        let import = |verdict, allowed, why: &str| Import {
            global: global.clone(),
            verdict,
            allowed,
            why: why.to_owned(),
            count: 0,
            entries: Vec::new(),
        };
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
            How::Global | How::Inst | How::StackGlobal if g.cut => (
                Severity::Dangerous,
                format!(
                    "a module or name over {} bytes, cut here: the attribute path past the cut, which Python \
                     follows to its end, was not checked (no checkpoint needs such a name)",
                    crate::scan::walk::MAX_NAME
                ),
            ),
            How::Global | How::Inst | How::StackGlobal => {
                if (g.module.as_str(), g.name.as_str()) == ("joblib.numpy_pickle", "NumpyArrayWrapper") {
                    // the walk follows the array data after its BUILD (stepped over when numeric,
                    // walked as a pickle when it holds objects) or stops there, which is suspicious
                    let why = "joblib's array wrapper: the array's data that follows it was stepped over (numeric) \
                               or scanned as a pickle (objects)";
                    return (None, import(Verdict::Safe, false, why));
                }
                if allowlist::is_safe(&g.module, &g.name) {
                    return (
                        None,
                        import(
                            Verdict::Safe,
                            false,
                            "on the allowlist (rebuilds tensors or containers)",
                        ),
                    );
                }
                match dangerous::why(&g.module, &g.name) {
                    Some(w) if self.allow.contains(&global) => (
                        Severity::Dangerous,
                        format!("{w} (the allow list does not cover known-dangerous globals)"),
                    ),
                    Some(w) => (Severity::Dangerous, w.to_owned()),
                    None if self.allow.contains(&global) => {
                        let why =
                            "allowed by the user's allow list (--allow / --allow-file); not on the built-in allowlist";
                        return (None, import(Verdict::Safe, true, why));
                    }
                    None => match allowlist::suspicious_why(&g.module, &g.name) {
                        Some(w) => (Severity::Suspicious, w.to_owned()),
                        None => (
                            Severity::Suspicious,
                            "not needed to rebuild tensors (not on the allowlist)".to_owned(),
                        ),
                    },
                }
            }
        };
        let why = if g.nested {
            format!("in a pickle inside a bytes value: {why}")
        } else {
            why
        };
        let row = import(severity.verdict(), false, &why);
        let finding = Finding {
            entry: entry.to_owned(),
            global: Some(global),
            severity,
            offset: Some(base + g.offset as u64),
            why,
            loaders: Vec::new(),
        };
        (Some(finding), row)
    }

    pub(crate) fn finish(mut self, path: String, format: &str) -> FileScan {
        if self.dropped > 0 {
            let why = format!("{} more findings are not listed", self.dropped);
            let severity = self.worst.unwrap_or(Severity::Suspicious);
            self.findings.push(Finding {
                entry: String::new(),
                global: None,
                severity,
                offset: None,
                why,
                loaders: Vec::new(),
            });
        }
        let verdict = self.worst.map_or(Verdict::Safe, Severity::verdict);
        let imports: Vec<Import> = self.imports.into_values().collect();
        let mut counts = ImportCounts::default();
        for i in &imports {
            match i.verdict {
                Verdict::Safe => counts.safe += 1,
                Verdict::Suspicious => counts.suspicious += 1,
                Verdict::Dangerous => counts.dangerous += 1,
                Verdict::Error => {}
            }
            counts.allowed += usize::from(i.allowed);
        }
        FileScan {
            path,
            format: format.to_owned(),
            verdict,
            findings: self.findings,
            pickles: self.pickles,
            imports,
            import_counts: counts,
            error: None,
            also: Vec::new(),
            templates: None,
        }
    }
}
