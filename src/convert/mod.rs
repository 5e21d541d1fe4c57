//! Pickle checkpoints to `.safetensors`, without Python, without executing the pickle, and proved
//! byte for byte.
//!
//! [`convert`] runs in five steps, and nothing is written before the third:
//! 1. **Find** what the input holds ([`layout::discover`]): one pickle file, a folder with a sharded
//!    pickle index, or a diffusers folder whose components hold pickles (a Hugging Face cache
//!    folder is its snapshot); other files (configs, tokenizers, the files of sub-folders) are
//!    copied unchanged, and what is neither converted nor copied is named.
//! 2. **Scan and plan**: every input file is scanned (dangerous refuses, suspicious refuses unless
//!    allowed); every tensor is checked (a torch-only dtype, a view outside its storage, an absurd
//!    expansion ([`crate::tensor::read::MAX_EXPANSION_BYTES`]) stop here); exact aliases — same file, storage,
//!    offset, shape, strides and dtype — are written once and recorded as `"dropped": "kept"` in
//!    `__metadata__`; every other view is its own contiguous copy; shards are cut as
//!    huggingface_hub cuts them.
//! 3. **Write** into a temporary file (file output) or temporary folder (folder output) *beside* OUT,
//!    streaming tensor by tensor ([`crate::tensor::read::TensorReader::copy_to`]: 1 MiB `pread`/`write` chunks for
//!    contiguous tensors, a bounded gather for views); the kernel is asked to start writing back
//!    behind the writer (`sync_file_range`), then every file is fsynced.
//! 4. **Verify** (unless turned off), as the write goes ([`verify`]): each file is reopened by the
//!    ordinary reader as soon as its header is written (names, dtypes, shapes, offsets, metadata
//!    checked against the plan); each chunk is read back from where the reopened header puts it and
//!    compared byte for byte with the source view's chunk while both are still in the cache
//!    ([`crate::tensor::read::ReadBack`]); each alias is compared with the tensor written for it
//!    ([`crate::tensor::equal::tensors_equal`]).
//! 5. **Publish**: one `rename` puts the file or the whole folder in place, then the parent folder is
//!    fsynced. A folder is renamed as a whole (rather than file by file with the index last) so that
//!    a reader never sees a folder with some shards. A failed run removes its temporary entry (so
//!    does `tensorscope convert` on SIGTERM, SIGINT and SIGHUP, through [`remove_temporaries`]); a
//!    killed one (SIGKILL) leaves a `.tensorscope-tmp-<pid>-…` entry, which the next run to the same output
//!    removes once nobody holds the `flock` each run keeps on the entry's `.lock` file (a lock
//!    dies with its process, and works across containers and network folders where a pid does not).

pub mod layout;
mod output;
pub use temp::alive as process_alive;
pub use temp::remove_temporaries;
pub mod plan;
mod target;
mod temp;
pub mod verify;
pub mod writer;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checkpoint::{self, OpenOptions};
use crate::scan::{self, Finding, Verdict};
use crate::text::path as show;
use crate::{Error, Result};
use plan::{Layout, PlanOptions};

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
    /// Leave out tensors of torch-only dtypes (and the parts of sparse tensors) instead of failing.
    pub skip_unsupported: bool,
    /// Replace an existing regular output file (never anything else: a device, FIFO, socket, symbolic
    /// link or folder where a file is expected is always refused).
    pub force: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_shard_size: DEFAULT_MAX_SHARD_SIZE,
            shard_size_given: false,
            verify: true,
            allow_suspicious: false,
            skip_unsupported: false,
            force: false,
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
    /// Time spent reading back and comparing (interleaved with the writing).
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
    /// Tensors left out with `--skip-unsupported`: `[name, why]` (the dtype, or what it is part of:
    /// `part of the sparse_coo tensor emb`).
    pub skipped: Vec<(String, String)>,
    /// The reader's warnings (what it did not rebuild, names it gave to tensors whose key paths
    /// flatten alike) and metadata left out.
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
/// the input is a folder or `output` ends with `/`). A file converted into an existing folder becomes
/// `<folder>/<stem>.safetensors` (`model.safetensors` for most names), beside what the folder holds;
/// when its tensors need more than one shard of `--max-shard-size`, the shards and their index are
/// written into that folder instead, which must then be empty (it is replaced as a whole).
pub fn convert(input: &Path, output: &Path, opts: &Options) -> Result<Outcome> {
    let in_meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
    // a Hugging Face cache folder (`models--org--name`) is its snapshot, as `inspect` opens it
    let snapshot = match in_meta.is_dir() {
        true => checkpoint::layout::hub_cache_snapshot(input)?,
        false => None,
    };
    let input = snapshot.as_deref().unwrap_or(input);
    let into_existing_folder = !in_meta.is_dir() && output.is_dir();
    let (layout, mut target, mut to_folder) = if in_meta.is_dir() {
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
            ..Layout::default()
        };
        (layout, target, to_folder)
    };
    // a file converted into an existing folder is checked once the shard count is known: the
    // shards need the folder empty, one file only its own name free (so the hint says what works)
    if !into_existing_folder {
        check_target(&layout, input, &target, to_folder, opts.force)?;
    }

    // scan and open everything before writing anything: dangerous input is refused even when the
    // reader could not make sense of it, suspicious input unless allowed; unreadable input that the
    // scanner did not flag is an error
    let mut opened = Vec::with_capacity(layout.units.len());
    let (mut dangerous, mut suspicious) = (Vec::new(), Vec::new());
    // the first file the scanner could not read as what it claims to be (a truncated safetensors or
    // GGUF): bad input, an error rather than a refusal (no option would convert it)
    let mut damaged: Option<Error> = None;
    for unit in &layout.units {
        for f in &unit.files {
            if f.extension().is_some_and(|e| e == "json") {
                continue;
            }
            let s = scan::scan_file(f);
            if s.verdict == Verdict::Error {
                if damaged.is_none() {
                    damaged = Some(unreadable(f, s.error.as_deref()));
                }
                continue;
            }
            let item = Flagged {
                path: f.to_string_lossy().into_owned(),
                verdict: s.verdict,
                findings: s.findings,
            };
            match s.verdict {
                Verdict::Safe => {}
                Verdict::Suspicious => suspicious.push(item),
                _ => dangerous.push(item),
            }
        }
    }
    if !dangerous.is_empty() {
        return Ok(Outcome::Refused { files: dangerous });
    }
    if let Some(e) = damaged {
        return Err(e);
    }
    for unit in &layout.units {
        let opened_unit = checkpoint::open_with(
            &unit.input,
            &OpenOptions {
                variant: unit.variant.clone(),
                ..Default::default()
            },
        );
        let ck = match opened_unit {
            Ok(ck) => ck,
            // the scanner's finding says more than the reader's complaint about the same file
            Err(_) if names_globals(&suspicious) && !opts.allow_suspicious => {
                return Ok(Outcome::Refused { files: suspicious });
            }
            Err(e) => return Err(e),
        };
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
    if !suspicious.is_empty() && !opts.allow_suspicious {
        return Ok(Outcome::Refused { files: suspicious });
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
    let shards = plans.iter().map(|p| p.files.len()).max().unwrap_or(0);
    if !to_folder && shards > 1 && into_existing_folder {
        // the existing folder receives the shards as a new folder would
        let empty = std::fs::read_dir(output)
            .map_err(|e| Error::io(output, e))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::Usage(format!(
                "{}: the tensors need {shards} shards of at most {} bytes, written as a whole folder, and this folder is not empty; give a new or empty folder",
                show(output),
                opts.max_shard_size
            )));
        }
        (target, to_folder) = (output.to_path_buf(), true);
    }
    if into_existing_folder {
        check_target(&layout, input, &target, to_folder, opts.force)?;
    }
    if !to_folder && shards > 1 {
        return Err(Error::Usage(format!(
            "the tensors need more than one shard of at most {} bytes: give a folder as OUT to write shards",
            opts.max_shard_size
        )));
    }

    let tmp = temp::Temp::beside(&target)?;
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
    report.left_out.extend(
        layout
            .left_out
            .iter()
            .map(|(rel, why)| format!("{}: {why}", show(&input.join(rel)))),
    );
    let work = output::Work {
        layout: &layout,
        opened: &opened,
        plans: &plans,
        input,
        to_folder,
        verify: opts.verify,
    };
    output::write_all(&work, &tmp.path, &mut report).map_err(|e| as_output(e, &tmp.path, &target))?;
    // a source truncated by another process while it was copied read partly as zeros: publish nothing
    for ck in &opened {
        ck.check_intact()?;
    }
    tmp.publish(&target, opts.force)?;
    Ok(Outcome::Converted(Box::new(report)))
}

/// An error met while writing the temporary `tmp`, told with the output's final name (`tmp/x` is
/// `target/x`: the temporary is gone when the user reads it), and a full disk said as such.
fn as_output(e: Error, tmp: &Path, target: &Path) -> Error {
    let rename = |p: PathBuf| match p.strip_prefix(tmp) {
        Ok(rest) if rest.as_os_str().is_empty() => target.to_path_buf(),
        Ok(rest) => target.join(rest),
        Err(_) => p,
    };
    match e {
        Error::Io { path, source } => {
            let full = match source.raw_os_error() {
                Some(libc::ENOSPC) => Some("the disk is full (no space left on device)"),
                Some(libc::EDQUOT) => Some("the disk quota is exceeded"),
                _ => None,
            };
            let source = match full {
                Some(why) => std::io::Error::new(source.kind(), format!("{why}; nothing was written")),
                None => source,
            };
            Error::Io {
                path: rename(path),
                source,
            }
        }
        Error::Format { path, msg } => Error::Format {
            path: rename(path),
            msg,
        },
        Error::Limit {
            path,
            what,
            value,
            limit,
            hint,
        } => Error::Limit {
            path: rename(path),
            what,
            value,
            limit,
            hint,
        },
        e => e,
    }
}

/// Why `file`, which the scanner could not read as what it claims to be, is bad input: the reader's
/// own words when it refuses it too (as `inspect` says it: `truncated at 5.0 kB of 691.4 kB`), else the
/// scanner's.
fn unreadable(file: &Path, scanner: Option<&str>) -> Error {
    match checkpoint::open(file) {
        Err(e) => e,
        Ok(_) => Error::format(file, scanner.unwrap_or("the scanner cannot read this file")),
    }
}

/// Whether a flagged file names a global (rather than only "cannot scan": an unknown format).
fn names_globals(flagged: &[Flagged]) -> bool {
    flagged.iter().any(|f| f.findings.iter().any(|x| x.global.is_some()))
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

/// Refuse an output that is an input, lies inside the input folder (or holds it), is a folder that
/// is not empty, is anything but a regular file (or an empty folder for a folder output), or is an
/// existing regular file without `force`; name a missing output folder.
fn check_target(layout: &Layout, input: &Path, target: &Path, to_folder: bool, force: bool) -> Result<()> {
    target::check_kind(target, to_folder, force)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// review 37: a full disk named the temporary (or the input) and said only "No space left on
    /// device"; the user is told the output's final name and that the disk is full.
    #[test]
    fn a_write_error_names_the_final_output_and_a_full_disk() {
        let (tmp, target) = (Path::new("/d/.tensorscope-tmp-1-2-out"), Path::new("/d/out"));
        let enospc = || std::io::Error::from_raw_os_error(libc::ENOSPC);
        let e = as_output(Error::io(tmp, enospc()), tmp, target);
        assert_eq!(
            e.to_string(),
            "/d/out: the disk is full (no space left on device); nothing was written"
        );
        let e = as_output(
            Error::io(tmp.join("model-00001-of-00002.safetensors"), enospc()),
            tmp,
            target,
        );
        assert!(
            e.to_string()
                .starts_with("/d/out/model-00001-of-00002.safetensors: the disk is full"),
            "{e}"
        );
        let e = as_output(Error::format(tmp, "verification failed"), tmp, target);
        assert_eq!(e.to_string(), "/d/out: verification failed");
        // an input's error stays the input's
        let e = as_output(
            Error::io("/in.bin", std::io::Error::from_raw_os_error(libc::EIO)),
            tmp,
            target,
        );
        assert!(e.to_string().starts_with("/in.bin: "), "{e}");
    }
}
