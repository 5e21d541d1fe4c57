//! The twin of a checkpoint: the same tensors in the format a load is compared against, written
//! before a benchmark so that `bench model.safetensors` is charted against `torch.load`, as people
//! ask. A safetensors checkpoint gets a `torch.save` zip (the synthetic writer: same names and
//! bytes, synthetic values); a pickle gets a safetensors file (`convert`, the same tensors). A GGUF
//! gets none: neither `torch.load` nor safetensors loads GGUF's blocks, so nothing comparable exists.

use std::path::{Path, PathBuf};

use super::plan::Kind;
use super::synth;
use crate::checkpoint::{self, Checkpoint};
use crate::{Error, Result};

/// What [`write()`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Twin {
    /// A twin was written at `path`; `what` says how it was made.
    Written {
        /// The twin's file.
        path: PathBuf,
        /// How it was made, in a few words.
        what: String,
    },
    /// Both safetensors and pickle files are here already: no twin is needed.
    Present,
    /// Nothing comparable can be written; the reason, in one line for the user.
    None(String),
}

/// Why a GGUF has no twin, as the notes say it.
pub const GGUF_NONE: &str = "a GGUF has no twin: torch.load and safetensors do not load GGUF's (often quantized) \
blocks, so no speedup is computed for its rows (gguf-mmap, gguf-read): set their times beside each other's, \
file-read's (the reference read) and their ceilings";

/// The formats among `ck`'s weight files.
pub fn kinds(ck: &Checkpoint) -> Vec<Kind> {
    let mut k: Vec<Kind> = ck.files.iter().map(|f| Kind::of(f.format)).collect();
    k.sort_by_key(|k| k.as_str());
    k.dedup();
    k
}

/// Write the twin of the checkpoint `ck` (opened from `path`) into the folder `dir` (created) as
/// `twin.bin` or `twin.safetensors`, when it holds one format only.
pub fn write(path: &Path, ck: &Checkpoint, dir: &Path) -> Result<Twin> {
    write_named(path, ck, dir, "twin")
}

/// [`write()`] into `dir/STEM.bin` or `dir/STEM.safetensors`.
pub fn write_named(path: &Path, ck: &Checkpoint, dir: &Path, stem: &str) -> Result<Twin> {
    let kinds = kinds(ck);
    let has = |k: Kind| kinds.contains(&k);
    if has(Kind::Safetensors) && has(Kind::Pickle) {
        return Ok(Twin::Present);
    }
    if has(Kind::Gguf) {
        return Ok(Twin::None(GGUF_NONE.into()));
    }
    if kinds.is_empty() || ck.tensors.is_empty() {
        return Ok(Twin::None("no tensors here: no twin to write".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    if has(Kind::Safetensors) {
        let tensors: Vec<synth::SynthTensor> = ck
            .tensors
            .iter()
            .map(|t| {
                // same bytes as the original: F32 keeps its shape, other dtypes become flat F32
                let shape = if t.dtype == checkpoint::DType::F32 {
                    t.shape.clone()
                } else {
                    vec![t.nbytes().unwrap_or(0).div_ceil(4)]
                };
                synth::SynthTensor {
                    name: t.name.clone(),
                    shape,
                }
            })
            .collect();
        let out = dir.join(format!("{stem}.bin"));
        synth::write_torch(&out, &tensors)?;
        Ok(Twin::Written {
            path: out,
            what: "torch.save zip, synthetic values, same names and bytes".into(),
        })
    } else {
        let out = dir.join(format!("{stem}.safetensors"));
        let opts = crate::convert::Options {
            verify: false,
            ..Default::default()
        };
        crate::convert::convert(path, &out, &opts)?;
        Ok(Twin::Written {
            path: out,
            what: "safetensors by convert, same tensors".into(),
        })
    }
}

/// Write the twin of each path into its own folder under `dir` when the paths, all together, hold
/// only one of safetensors and pickle (`None` for a path that gets none); the notes say what was
/// written or why not.
pub(super) fn write_twins(
    paths: &[PathBuf],
    dir: &Path,
    caveats: &mut Vec<String>,
    on_event: &mut dyn FnMut(&super::Event),
) -> Vec<Option<PathBuf>> {
    let opened: Vec<Option<crate::checkpoint::Checkpoint>> =
        paths.iter().map(|p| super::plan::open_local(p).ok()).collect();
    let all: Vec<Kind> = opened.iter().flatten().flat_map(kinds).collect();
    if all.contains(&Kind::Safetensors) && all.contains(&Kind::Pickle) {
        return vec![None; paths.len()];
    }
    let mut out = Vec::with_capacity(paths.len());
    for (i, (p, ck)) in paths.iter().zip(&opened).enumerate() {
        let Some(ck) = ck else {
            out.push(None);
            continue;
        };
        on_event(&super::Event::Writing {
            bytes: ck.total_bytes(),
            twin_of: Some(p.clone()),
        });
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "model".into());
        let sub = dir.join(format!("tensorscope-bench-twin-{i}"));
        match write_named(p, ck, &sub, &format!("{stem}.twin")) {
            Ok(Twin::Written { path, what }) => {
                caveats.push(format!(
                    "{} is compared with its twin {} ({what}), written to a temporary folder and removed after \
                     (--no-twin: none).",
                    crate::text::path(p),
                    crate::text::path(path.file_name().map(Path::new).unwrap_or(&path)),
                ));
                out.push(Some(path));
            }
            Ok(Twin::Present) => out.push(None),
            Ok(Twin::None(why)) => {
                caveats.push(format!("{}: {why}.", crate::text::path(p)));
                out.push(None);
            }
            Err(e) => {
                caveats.push(format!("{}: no twin: {e}", crate::text::path(p)));
                out.push(None);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)
    }

    #[test]
    fn each_format_gets_its_twin_and_a_gguf_none() {
        let dir = tempfile::tempdir().unwrap();
        for (name, twin) in [
            ("gpt2-tiny.safetensors", "twin.bin"),
            ("gpt2-tiny.bin", "twin.safetensors"),
        ] {
            let p = sample(name);
            let ck = checkpoint::open(&p).unwrap();
            match write(&p, &ck, dir.path()).unwrap() {
                Twin::Written { path, .. } => assert_eq!(path, dir.path().join(twin)),
                other => panic!("{name}: {other:?}"),
            }
            let back = checkpoint::open(dir.path().join(twin)).unwrap();
            // a converted pickle keeps one copy of tied weights: at least one tensor, at most as many
            assert!(!back.tensors.is_empty() && back.tensors.len() <= ck.tensors.len());
        }
        let p = sample("tiny.gguf");
        let ck = checkpoint::open(&p).unwrap();
        assert_eq!(write(&p, &ck, dir.path()).unwrap(), Twin::None(GGUF_NONE.into()));
    }
}
