//! Pickle checkpoints to `.safetensors`, without Python, without executing the pickle, and proved
//! byte for byte.
//!
//! [`convert`] runs in five steps, and nothing is written before the third:
//! 1. **Find** what the input holds ([`plan::discover`]): one pickle file, a folder with a sharded
//!    pickle index, or a diffusers folder whose components hold pickles; other files (configs,
//!    tokenizers) are copied unchanged.
//! 2. **Scan and plan**: every input file is scanned (dangerous refuses, suspicious refuses unless
//!    allowed); every tensor is checked (a torch-only dtype, a view outside its storage, an absurd
//!    expansion ([`read::MAX_EXPANSION_BYTES`]) stop here); exact aliases — same file, storage,
//!    offset, shape, strides and dtype — are written once and recorded as `"dropped": "kept"` in
//!    `__metadata__`; every other view is its own contiguous copy; shards are cut as
//!    huggingface_hub cuts them.
//! 3. **Write** into a temporary file (file output) or temporary folder (folder output) *beside* OUT,
//!    streaming tensor by tensor ([`read::TensorReader::copy_to`]), each file fsynced.
//! 4. **Verify** (unless turned off): reopen every written file and compare every tensor, aliases
//!    included, byte for byte with its source view ([`crate::diff::tensors_equal`]).
//! 5. **Publish**: one `rename` puts the file or the whole folder in place, then the parent folder is
//!    fsynced. A folder is renamed as a whole (rather than file by file with the index last) so that
//!    a reader never sees a folder with some shards, and a failed or interrupted run leaves only a
//!    `.tensorscope-tmp-*` entry, which the next run ignores and removes on failure.

pub mod plan;
pub mod read;
pub mod writer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::checkpoint::{self, Checkpoint, OpenOptions, TensorInfo};
use crate::pickle::scan::{self, Finding, Verdict};
use crate::text::{escape, path as show};
use crate::{Error, Result};
use plan::{Layout, PlanOptions, Unit, UnitPlan};
use read::TensorReader;

/// Default `--max-shard-size`: 5 GB, as transformers.
pub const DEFAULT_MAX_SHARD_SIZE: u64 = 5_000_000_000;

/// Settings of a conversion.
#[derive(Debug, Clone)]
pub struct Options {
    /// Largest shard (bytes of tensor data) in folder outputs.
    pub max_shard_size: u64,
    /// Whether `max_shard_size` was asked for (a file output that needs shards is then an error).
    pub shard_size_given: bool,
    /// Reopen the output and compare it with the input.
    pub verify: bool,
    /// Convert input the scanner calls suspicious (what was not rebuilt is left out).
    pub allow_suspicious: bool,
    /// Leave out tensors of torch-only dtypes instead of failing.
    pub skip_unsupported: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_shard_size: DEFAULT_MAX_SHARD_SIZE,
            shard_size_given: false,
            verify: true,
            allow_suspicious: false,
            skip_unsupported: false,
        }
    }
}

/// A file the scanner did not call safe.
#[derive(Debug, Clone, Serialize)]
pub struct Flagged {
    /// The file.
    pub path: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Why.
    pub findings: Vec<Finding>,
}

/// One file written.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// Path relative to OUT (the file name for a file output).
    pub path: PathBuf,
    /// Tensors in it.
    pub tensors: usize,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What verification checked.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Output files reopened.
    pub files: usize,
    /// Names checked (aliases included).
    pub tensors: usize,
    /// Bytes of tensor data compared.
    pub bytes: u64,
    /// How long it took.
    pub seconds: f64,
}

/// The result of a conversion that was carried out.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Input path.
    pub input: PathBuf,
    /// Output path.
    pub output: PathBuf,
    /// Files written (safetensors and indexes).
    pub files: Vec<Written>,
    /// Other files copied unchanged.
    pub copied: Vec<PathBuf>,
    /// Tensors written.
    pub tensors: usize,
    /// Bytes of tensor data written.
    pub data_bytes: u64,
    /// Exact aliases written once: `[dropped, kept]` (names prefixed by the unit folder).
    pub aliases: Vec<(String, String)>,
    /// Tensors left out with `--skip-unsupported`: `[name, dtype]`.
    pub skipped: Vec<(String, String)>,
    /// What the reader did not rebuild (opaque objects of suspicious input), and metadata left out.
    pub left_out: Vec<String>,
    /// Files the scanner called suspicious (converted because that was allowed).
    pub suspicious: Vec<Flagged>,
    /// Seconds spent writing.
    pub write_seconds: f64,
    /// Verification, unless turned off.
    pub verification: Option<Verification>,
}

/// What [`convert`] did. JSON: `{"status": "refused", "files": […]}` or `{"status": "converted", …}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// The scanner flagged the input: nothing was written.
    Refused {
        /// The files it did not call safe.
        files: Vec<Flagged>,
    },
    /// The output is in place.
    Converted(Box<Report>),
}

/// Convert `input` (a pickle file or a folder) to `output` (a `.safetensors` file, or a folder when
/// the input is a folder, `output` is an existing folder or ends with `/`).
pub fn convert(input: &Path, output: &Path, opts: &Options) -> Result<Outcome> {
    let in_meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
    let (layout, target, to_folder) = if in_meta.is_dir() {
        (plan::discover(input)?, output.to_path_buf(), true)
    } else {
        let unit = plan::file_unit(input, PathBuf::new(), true);
        let slash = output.as_os_str().to_string_lossy().ends_with('/');
        let (target, to_folder) = if output.is_dir() {
            (output.join(format!("{}.safetensors", unit.stem)), false)
        } else {
            (output.to_path_buf(), slash)
        };
        let layout = Layout {
            units: vec![unit],
            copies: Vec::new(),
        };
        (layout, target, to_folder)
    };
    check_target(&layout, input, &target, to_folder)?;

    // open and scan everything before writing anything
    let mut opened = Vec::with_capacity(layout.units.len());
    let (mut flagged, mut suspicious) = (Vec::new(), Vec::new());
    for unit in &layout.units {
        for f in &unit.files {
            if f.extension().is_some_and(|e| e == "json") {
                continue;
            }
            let s = scan::scan_file(f);
            let item = Flagged {
                path: f.to_string_lossy().into_owned(),
                verdict: s.verdict,
                findings: s.findings,
            };
            match s.verdict {
                Verdict::Safe => {}
                Verdict::Suspicious if opts.allow_suspicious => suspicious.push(item),
                _ => flagged.push(item),
            }
        }
    }
    if !flagged.is_empty() {
        return Ok(Outcome::Refused { files: flagged });
    }
    for unit in &layout.units {
        let ck = checkpoint::open_with(
            &unit.input,
            &OpenOptions {
                variant: unit.variant.clone(),
            },
        )?;
        // a single .safetensors file may be rewritten (re-sharded); folders must hold pickles
        if !ck.format.is_pickle() && ck.format != checkpoint::Format::Safetensors {
            return Err(Error::Usage(format!(
                "{}: this is {}, not a pickle checkpoint: nothing to convert",
                show(&unit.input),
                ck.format
            )));
        }
        let mut ck = ck;
        for t in &mut ck.tensors {
            if let std::borrow::Cow::Owned(v) = plan::safetensors_view(t) {
                *t = v;
            }
        }
        opened.push(ck);
    }
    let plan_opts = PlanOptions {
        max_shard_size: if to_folder || opts.shard_size_given {
            opts.max_shard_size
        } else {
            u64::MAX
        },
        skip_unsupported: opts.skip_unsupported,
    };
    let plans = layout
        .units
        .iter()
        .zip(&opened)
        .map(|(u, ck)| plan::plan_unit(ck, u, plan_opts))
        .collect::<Result<Vec<_>>>()?;
    if !to_folder && plans.iter().any(|p| p.files.len() > 1) {
        return Err(Error::Usage(format!(
            "the tensors need more than one shard of at most {} bytes: give a folder as OUT to write shards",
            opts.max_shard_size
        )));
    }

    let tmp = Temp::beside(&target)?;
    let mut report = Report {
        input: input.to_path_buf(),
        output: target.clone(),
        files: Vec::new(),
        copied: Vec::new(),
        tensors: 0,
        data_bytes: 0,
        aliases: Vec::new(),
        skipped: Vec::new(),
        left_out: Vec::new(),
        suspicious,
        write_seconds: 0.0,
        verification: None,
    };
    let started = Instant::now();
    if to_folder {
        std::fs::create_dir(&tmp.path).map_err(|e| Error::io(&tmp.path, e))?;
    }
    let mut unsynced = Vec::new();
    for ((unit, ck), plan) in layout.units.iter().zip(&opened).zip(&plans) {
        write_unit(unit, ck, plan, &tmp.path, to_folder, &mut report, &mut unsynced)?;
    }
    for rel in &layout.copies {
        let (from, to) = (input.join(rel), tmp.path.join(rel));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
        let file = std::fs::File::open(&to).map_err(|e| Error::io(&to, e))?;
        unsynced.push((to, file));
        report.copied.push(rel.clone());
    }
    report.write_seconds = started.elapsed().as_secs_f64();
    // flush to disk while verifying: the first waits on the disk, the second on memory
    let (synced, verified) = std::thread::scope(|s| {
        let syncing = s.spawn(|| {
            unsynced
                .iter()
                .try_for_each(|(p, f)| f.sync_all().map_err(|e| Error::io(p, e)))
        });
        let verified = opts
            .verify
            .then(|| verify(&layout, &opened, &plans, &tmp.path, to_folder))
            .transpose();
        let synced = syncing
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("the fsync thread panicked".into())));
        (synced, verified)
    });
    report.verification = verified?;
    synced?;
    tmp.publish(&target)?;
    Ok(Outcome::Converted(Box::new(report)))
}

/// `p` made absolute through its existing parent (the output need not exist yet).
fn absolute(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(p) {
        return Some(c);
    }
    let parent = match p.parent() {
        Some(x) if !x.as_os_str().is_empty() => x,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
}

/// Refuse an output that is an input, lies inside the input folder (or holds it), or is a folder
/// that is not empty.
fn check_target(layout: &Layout, input: &Path, target: &Path, to_folder: bool) -> Result<()> {
    let (Some(out), Some(inp)) = (absolute(target), absolute(input)) else {
        return Err(Error::Usage(format!(
            "{}: cannot resolve the output path",
            show(target)
        )));
    };
    let overlaps = out == inp
        || (to_folder && (out.starts_with(&inp) || inp.starts_with(&out)))
        || layout
            .units
            .iter()
            .flat_map(|u| &u.files)
            .any(|f| absolute(f).is_some_and(|f| f == out));
    if overlaps {
        return Err(Error::Usage(format!(
            "{}: the output would overwrite or sit inside the input; choose another path",
            show(target)
        )));
    }
    if target.is_dir() {
        let empty = std::fs::read_dir(target)
            .map_err(|e| Error::io(target, e))?
            .next()
            .is_none();
        if !to_folder || !empty {
            return Err(Error::Usage(format!(
                "{}: the output folder exists and is not empty; give a new or empty folder",
                show(target)
            )));
        }
    }
    Ok(())
}

fn write_unit(
    unit: &Unit,
    ck: &Checkpoint,
    plan: &UnitPlan<'_>,
    tmp: &Path,
    to_folder: bool,
    r: &mut Report,
    unsynced: &mut Vec<(PathBuf, std::fs::File)>,
) -> Result<()> {
    let reader = TensorReader::new(ck);
    let dir = if to_folder {
        tmp.join(&unit.dir)
    } else {
        tmp.to_path_buf()
    };
    if to_folder {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let prefix = prefix(unit);
    for f in &plan.files {
        let path = if to_folder {
            dir.join(&f.name)
        } else {
            tmp.to_path_buf()
        };
        let (bytes, file) = writer::write_file(&path, &reader, &f.entries, &plan.metadata)?;
        unsynced.push((path, file));
        r.files.push(Written {
            path: if to_folder {
                unit.dir.join(&f.name)
            } else {
                r.output.file_name().map(PathBuf::from).unwrap_or_default()
            },
            tensors: f.entries.len(),
            bytes,
        });
        r.tensors += f.entries.len();
    }
    if let Some((name, text)) = &plan.index {
        let path = dir.join(name);
        write_small(&path, text.as_bytes())?;
        r.files.push(Written {
            path: unit.dir.join(name),
            tensors: 0,
            bytes: text.len() as u64,
        });
    }
    r.data_bytes += plan.data_bytes;
    r.aliases.extend(
        plan.aliases
            .iter()
            .map(|(d, k)| (format!("{prefix}{d}"), format!("{prefix}{k}"))),
    );
    r.skipped.extend(
        plan.skipped
            .iter()
            .map(|(n, d)| (format!("{prefix}{n}"), d.to_string())),
    );
    r.left_out.extend(ck.warnings.iter().cloned());
    r.left_out.extend(plan.dropped_metadata.iter().map(|k| {
        format!(
            "{}: metadata value {} (the key is taken by the converter)",
            show(&unit.input),
            escape(k)
        )
    }));
    Ok(())
}

fn prefix(unit: &Unit) -> String {
    if unit.dir.as_os_str().is_empty() {
        String::new()
    } else {
        format!("{}/", unit.dir.to_string_lossy())
    }
}

fn write_small(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create_new(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Threads that compare tensors during verification.
const VERIFY_THREADS: usize = 2;

/// One comparison: source tensor (unit, tensor) against output tensor (output file, tensor).
struct Job<'a> {
    unit: usize,
    source: &'a TensorInfo,
    out: usize,
    written: usize,
    bytes: u64,
}

/// Reopen every written file, check its names, dtypes, shapes and metadata, and compare each name
/// (aliases included) byte for byte with its source view, on [`VERIFY_THREADS`] threads.
fn verify(
    layout: &Layout,
    opened: &[Checkpoint],
    plans: &[UnitPlan<'_>],
    tmp: &Path,
    to_folder: bool,
) -> Result<Verification> {
    let started = Instant::now();
    let mut outs = Vec::new();
    let mut jobs = Vec::new();
    for (u, ((unit, ck), plan)) in layout.units.iter().zip(opened).zip(plans).enumerate() {
        let sources: HashMap<&str, &TensorInfo> = ck.tensors.iter().map(|t| (t.name.as_str(), t)).collect();
        for f in &plan.files {
            let path = if to_folder {
                tmp.join(&unit.dir).join(&f.name)
            } else {
                tmp.to_path_buf()
            };
            let out = checkpoint::open(&path)?;
            let bad = |m: String| Error::format(&path, format!("verification failed: {m}"));
            if out.tensors.len() != f.entries.len() {
                return Err(bad(format!(
                    "{} tensors written, {} read back",
                    f.entries.len(),
                    out.tensors.len()
                )));
            }
            let meta: BTreeMap<String, String> = out.metadata.iter().cloned().collect();
            if meta != plan.metadata {
                return Err(bad("the metadata read back differs".into()));
            }
            let written: HashMap<&str, usize> = out
                .tensors
                .iter()
                .enumerate()
                .map(|(i, t)| (t.name.as_str(), i))
                .collect();
            for e in &f.entries {
                let Some(&w) = written.get(e.name.as_str()) else {
                    return Err(bad(format!("tensor {} is missing", escape(&e.name))));
                };
                let t = &out.tensors[w];
                let names =
                    std::iter::once(&e.name).chain(plan.aliases.iter().filter(|(_, k)| *k == e.name).map(|(d, _)| d));
                for name in names {
                    let Some(&source) = sources.get(name.as_str()) else {
                        return Err(bad(format!("no source tensor {}", escape(name))));
                    };
                    if t.dtype != source.dtype || t.shape != source.shape {
                        return Err(bad(format!("tensor {}: dtype or shape differs", escape(name))));
                    }
                    let bytes = t.nbytes().unwrap_or(0);
                    jobs.push(Job {
                        unit: u,
                        source,
                        out: outs.len(),
                        written: w,
                        bytes,
                    });
                }
            }
            outs.push((path, out));
        }
    }
    // largest first, each to the least loaded thread
    jobs.sort_by_key(|j| std::cmp::Reverse(j.bytes));
    let mut shares: Vec<(u64, Vec<&Job>)> = (0..VERIFY_THREADS).map(|_| (0, Vec::new())).collect();
    for j in &jobs {
        if let Some(share) = shares.iter_mut().min_by_key(|s| s.0) {
            share.0 += j.bytes;
            share.1.push(j);
        }
    }
    let outs = &outs;
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .iter()
            .map(|(_, share)| {
                s.spawn(move || -> Result<()> {
                    let sources: Vec<TensorReader> = opened.iter().map(TensorReader::new).collect();
                    let written: Vec<TensorReader> = outs.iter().map(|(_, ck)| TensorReader::new(ck)).collect();
                    for j in share {
                        let t = &outs[j.out].1.tensors[j.written];
                        if !crate::diff::tensors_equal(&sources[j.unit], j.source, &written[j.out], t)? {
                            return Err(Error::format(
                                &outs[j.out].0,
                                format!("verification failed: tensor {}: bytes differ", escape(&j.source.name)),
                            ));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Usage("a verification thread panicked".into())))
            })
            .collect()
    });
    results.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(Verification {
        files: outs.len(),
        tensors: jobs.len(),
        bytes: jobs.iter().map(|j| j.bytes).sum(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A temporary file or folder beside the output, removed unless published.
struct Temp {
    path: PathBuf,
    published: bool,
}

impl Temp {
    fn beside(target: &Path) -> Result<Temp> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(Error::Usage(format!(
                "{}: the output's folder does not exist",
                show(&parent)
            )));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .subsec_nanos();
        let path = parent.join(format!(".tensorscope-tmp-{}-{nanos}-{name}", std::process::id()));
        Ok(Temp { path, published: false })
    }

    fn publish(mut self, target: &Path) -> Result<()> {
        std::fs::rename(&self.path, target).map_err(|e| Error::io(target, e))?;
        self.published = true;
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // make the rename itself durable
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.published {
            if self.path.is_dir() {
                let _ = std::fs::remove_dir_all(&self.path);
            } else {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}
