//! Weight variants and twins of a folder: which files `from_pretrained` reads (`model.safetensors`
//! before `pytorch_model.bin`, the files of the variant asked for), and the warning that names
//! every checkpoint file left out.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::{Builder, GGUF_EXT, PICKLE_EXTS, SAFETENSORS_EXT};
use crate::text::{escape, os_text, path as show, plural};

/// The parts of a weight file's name as transformers and diffusers write them: the base
/// (`model`, `pytorch_model`), the variant (`fp16`) and the extension. `model.fp16.safetensors`,
/// and a shard of a variant, `model.fp16-00001-of-00002.safetensors`, both have the variant `fp16`;
/// only [`is_variant_infix`] infixes count as variants.
pub(super) fn name_parts(name: &OsStr) -> (Option<&str>, Option<&str>, Option<&str>) {
    let p = Path::new(name);
    let ext = p.extension().and_then(OsStr::to_str);
    let stem = Path::new(p.file_stem().unwrap_or_default());
    let infix = stem.extension().and_then(OsStr::to_str).map(without_shard_suffix);
    match infix {
        Some(i) if is_variant_infix(i) => (stem.file_stem().and_then(OsStr::to_str), Some(i), ext),
        _ => (stem.to_str().map(without_shard_suffix), None, ext),
    }
}

/// `s` without a shard's `-00001-of-00002` at its end.
pub(super) fn without_shard_suffix(s: &str) -> &str {
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if let Some((rest, n)) = s.rsplit_once("-of-")
        && let Some((base, i)) = rest.rsplit_once('-')
        && digits(n)
        && digits(i)
    {
        return base;
    }
    s
}

/// The files of `variant` among `weights`; without one, the files that carry no variant.
pub(super) fn of_variant(weights: &[OsString], variant: Option<&str>) -> Vec<OsString> {
    weights.iter().filter(|n| name_parts(n).1 == variant).cloned().collect()
}

/// The files transformers' and diffusers' `from_pretrained` read among `weights` (of one variant):
/// `model.safetensors` before `pytorch_model.bin` (and its shards), `diffusion_pytorch_model.safetensors`
/// before `diffusion_pytorch_model.bin`: the same weights saved twice, as many Hub repositories hold
/// them, were counted twice. Returns the files read and the ones left out, each with the file read
/// in its place.
pub(super) fn transformers_choice(weights: Vec<OsString>) -> (Vec<OsString>, Vec<(OsString, OsString)>) {
    const PAIRS: [(&str, &str); 2] = [
        ("model", "pytorch_model"),
        ("diffusion_pytorch_model", "diffusion_pytorch_model"),
    ];
    let single = |n: &OsStr, base: &str| {
        let p = Path::new(n);
        p.extension().is_some_and(|e| e == SAFETENSORS_EXT)
            && name_parts(n).0 == Some(base)
            && p.file_stem().and_then(OsStr::to_str).map(without_shard_suffix) == p.file_stem().and_then(OsStr::to_str)
    };
    let mut left_out = Vec::new();
    let mut read = weights;
    for (st, pickle) in PAIRS {
        let Some(chosen) = read.iter().find(|n| single(n, st)).cloned() else {
            continue;
        };
        read.retain(|n| {
            let (base, _, ext) = name_parts(n);
            let twin = base == Some(pickle) && ext == Some("bin");
            if twin {
                left_out.push((n.clone(), chosen.clone()));
            }
            !twin
        });
    }
    (read, left_out)
}

/// The error for a `--variant` that no checkpoint file of a folder has: the variants it does have.
pub(super) fn no_such_variant(dir: &Path, asked: &str, all: &[OsString]) -> String {
    let mut have: Vec<(Option<&str>, u64)> = Vec::new();
    for n in all {
        let v = name_parts(n).1;
        match have.iter_mut().find(|(x, _)| *x == v) {
            Some((_, c)) => *c += 1,
            None => have.push((v, 1)),
        }
    }
    have.sort();
    let listed: Vec<String> = have
        .iter()
        .map(|&(v, c)| match v {
            None => format!("{} without a variant (read without --variant)", plural(c, "file")),
            Some(v) => format!(
                "{} of variant {} (--variant {})",
                plural(c, "file"),
                escape(v),
                escape(v)
            ),
        })
        .collect();
    format!(
        "{}: no checkpoint file of variant {} here; it holds {}",
        show(dir),
        escape(asked),
        listed.join(", ")
    )
}

/// The names with a weight file's extension (`.safetensors`, `.bin`, `.gguf`, …): the files beside
/// an index or a split set that may be left out, known without opening them (a remote folder's
/// files would be fetched).
pub(super) fn by_extension(names: &[OsString]) -> Vec<OsString> {
    names
        .iter()
        .filter(|n| {
            Path::new(n)
                .extension()
                .and_then(OsStr::to_str)
                .is_some_and(|e| e == SAFETENSORS_EXT || e == GGUF_EXT || PICKLE_EXTS.contains(&e))
        })
        .cloned()
        .collect()
}

/// Warn about the checkpoint files of `dir` (`all`) that the layout did not read (every file read
/// since `first_file` is one it did), so that no file is left out silently: `twins` are left out for
/// the file read in their place, files of another variant are named as such, and any other file with
/// `why` (none: they were reported as not opened). Files not of an asked variant are what was asked
/// for, and not named.
pub(super) fn note_left_out(
    b: &mut Builder,
    dir: &Path,
    first_file: usize,
    all: &[OsString],
    variant: Option<&str>,
    twins: &[(OsString, OsString)],
    why: &str,
) {
    let read: HashSet<&Path> = b.files[first_file..].iter().map(|f| f.full_path.as_path()).collect();
    let mut notes = Vec::new();
    let mut other_variants: Vec<(&str, Vec<String>)> = Vec::new();
    let mut unnamed = Vec::new();
    for n in all {
        if read.contains(dir.join(n).as_path()) {
            continue;
        }
        if let Some((_, chosen)) = twins.iter().find(|(t, _)| t == n) {
            notes.push(format!(
                "left out {} (transformers and diffusers read {} in its place when both are there)",
                os_text(n),
                os_text(chosen)
            ));
            continue;
        }
        match (name_parts(n).1, variant) {
            (Some(v), None) => match other_variants.iter_mut().find(|(x, _)| *x == v) {
                Some((_, files)) => files.push(os_text(n)),
                None => other_variants.push((v, vec![os_text(n)])),
            },
            (v, Some(_)) if v != variant => {}
            _ if !why.is_empty() => unnamed.push(os_text(n)),
            _ => {}
        }
    }
    for (v, files) in other_variants {
        notes.push(format!(
            "left out {} (the {v} variant; read it with --variant {v})",
            files.join(", ")
        ));
    }
    if !unnamed.is_empty() {
        notes.push(format!("left out {} ({why})", unnamed.join(", ")));
    }
    for n in notes {
        b.warnings.push(format!("{}: {n}", show(dir)));
    }
}

/// Infixes diffusers and transformers use for weight variants (`model.fp16.safetensors`).
fn is_variant_infix(s: &str) -> bool {
    matches!(
        s,
        "fp16" | "bf16" | "fp32" | "ema" | "non_ema" | "flax" | "onnx" | "int8" | "fp8"
    )
}
