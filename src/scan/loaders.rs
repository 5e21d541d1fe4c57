//! Which loaders a finding concerns: every finding says which real loaders (and under what settings
//! and versions) would run it, or be harmed by it, so that a user deciding whether
//! `torch.load(weights_only=True)` on torch 2.10 is safe for this file gets a direct answer.
//!
//! The answer is decided by the file's format (what loaders read such a file at all) and by the
//! kind of finding: a global that torch's `weights_only` unpickler refuses concerns only
//! `weights_only=False`; a TorchScript archive reaches `torch.jit.load` even with `weights_only=True`
//! before torch 2.6 (CVE-2025-32434); tensor metadata that torch trusts (storage sizes, views) is
//! harmful with `weights_only=True` before torch 2.10 (CVE-2026-24747); a memo index or an
//! allocation asked for by allowlisted globals concerns every unpickler that honours them.

use super::{FileScan, Finding};

/// `torch.load` with `weights_only=False` (the default before torch 2.6).
pub const TORCH_FULL: &str = "torch.load(weights_only=False)";
/// `torch.load(weights_only=True)` on any torch version.
pub const TORCH_WEIGHTS_ONLY: &str = "torch.load(weights_only=True), every torch version";
/// TorchScript archives under `weights_only=True`.
pub const TORCH_BEFORE_2_6: &str = "torch.load(weights_only=True) before torch 2.6 (CVE-2025-32434)";
/// Storage-size and view tricks under `weights_only=True`.
pub const TORCH_BEFORE_2_10: &str = "torch.load(weights_only=True) before torch 2.10 (CVE-2026-24747)";
/// `torch.jit.load`, which runs TorchScript code.
pub const TORCH_JIT: &str = "torch.jit.load";
/// `torch.package`'s importer, which imports the modules an archive ships.
pub const TORCH_PACKAGE: &str = "torch.package.PackageImporter (load_pickle imports the archive's own modules)";
/// AOTInductor packages, whose shared libraries are loaded.
pub const AOTI: &str = "torch._inductor.aoti_load_package (dlopen of the archive's libraries)";
/// `torch.export.load`, which evaluates the shape expressions of its model description.
pub const TORCH_EXPORT: &str = "torch.export.load (sympy.sympify of the archive's shape expressions)";
/// Python's `pickle.load` / `pickle.loads`.
pub const PICKLE: &str = "pickle.load";
/// `numpy.load` with pickles allowed.
pub const NUMPY: &str = "np.load(allow_pickle=True)";
/// `joblib.load`.
pub const JOBLIB: &str = "joblib.load";
/// `pandas.read_pickle`.
pub const PANDAS: &str = "pandas.read_pickle";
/// Chat templates rendered outside Jinja's sandbox.
pub const TEMPLATE: &str =
    "llama.cpp / renderers without a sandbox (llama-cpp-python up to 0.2.71, CVE-2024-34359; hand-written renderers)";
/// Chat templates rendered by any Jinja renderer: unbounded work is not stopped by the sandbox.
pub const TEMPLATE_SANDBOXED: &str = "every chat-template renderer, sandboxed ones included (transformers' apply_chat_template, Jinja's ImmutableSandboxedEnvironment)";
/// Chat templates in a model folder's own files, which transformers renders in its sandbox.
pub const TEMPLATE_FILE: &str = "renderers without a sandbox (hand-written jinja2.Environment renderers; \
     transformers' apply_chat_template renders in a sandbox)";
/// The format of a config whose `auto_map` names code ([`super::remote_code`]).
pub const REMOTE_CODE_FORMAT: &str = "hf-config";
/// The format of a `.zip` that only Python's zipfile opens, as pandas does by the name
/// (the scan of containers: bytes precede the archive, so torch and numpy refuse it).
pub const PANDAS_ZIP_FORMAT: &str = "pandas-zip";
/// The format of a shard index whose file names leave its folder (the `index_refs` module).
pub const SHARD_INDEX_FORMAT: &str = "shard-index";
/// Python code a config's `auto_map` names ([`super::remote_code`]).
pub const REMOTE_CODE: &str = "transformers from_pretrained(trust_remote_code=True)";
/// Loaders that follow a shard index's file names.
pub const SHARD_INDEX: &str =
    "transformers from_pretrained (sharded checkpoints: it joins each file name onto the folder)";
/// The format of a chat-template file of a model folder ([`super::template_files`]).
pub const CHAT_TEMPLATE_FORMAT: &str = "chat-template";
/// A GGUF key looked up as a C string.
pub const GGUF_KEYS: &str =
    "llama.cpp and bindings reading its metadata map (gguf_find_key compares keys as C strings)";

/// Globals that torch's `weights_only` unpickler calls with whatever arguments the file gives, so
/// a harm done through their arguments reaches it too (`bytearray(2**34)`). A BUILD on a class or
/// function is not among them: that unpickler refuses to BUILD anything but tensors, parameters
/// and `OrderedDict`s.
const WEIGHTS_ONLY_GLOBALS: [&str; 2] = ["builtins.bytearray", "builtins.bytes"];

/// Fill in [`Finding::loaders`] of every finding of a scanned file.
pub(super) fn assign(scan: &mut FileScan) {
    let format = scan.format.clone();
    for f in &mut scan.findings {
        if f.loaders.is_empty() {
            f.loaders = of(&format, f).into_iter().map(str::to_owned).collect();
        }
    }
}

/// The loaders that read a file of this format (compression layers first, then the contents).
fn by_format(format: &str) -> Vec<&'static str> {
    let (layers, inner) = match format.rsplit_once('/') {
        Some((l, i)) => (l, i),
        None => ("", format),
    };
    let mut out: Vec<&'static str> = match inner {
        "pytorch-zip" => vec![TORCH_FULL],
        "pytorch-legacy" | "pytorch-tar" | "tar" => vec![TORCH_FULL, PICKLE],
        "pickle" => vec![PICKLE, JOBLIB, PANDAS, TORCH_FULL],
        "numpy" | "numpy-zip" => vec![NUMPY],
        "zip" => vec![TORCH_FULL, PANDAS, NUMPY],
        PANDAS_ZIP_FORMAT => vec![PANDAS],
        "safetensors" => vec![PICKLE, TORCH_FULL],
        "gguf" | "gguf-sharded" => vec![TEMPLATE],
        // joblib's own compressed formats, when they could not be opened
        "lz4" | "joblib-zf" => vec![JOBLIB],
        REMOTE_CODE_FORMAT => vec![REMOTE_CODE],
        SHARD_INDEX_FORMAT => vec![SHARD_INDEX],
        CHAT_TEMPLATE_FORMAT => vec![TEMPLATE_FILE],
        _ => vec![PICKLE, JOBLIB, PANDAS, TORCH_FULL],
    };
    if !layers.is_empty() {
        // what opens the compression itself: joblib sniffs every one of these; pandas infers
        // gzip, bz2, xz and zstd from the name; torch and numpy open none
        out.retain(|l| ![TORCH_FULL, NUMPY].contains(l));
        for l in [JOBLIB, PICKLE] {
            if !out.contains(&l) {
                out.push(l);
            }
        }
        if layers.split('/').any(|l| l == "zlib" || l == "lzma") {
            out.retain(|l| *l != PANDAS);
        }
        // joblib's own formats: only joblib.load opens them
        if layers.split('/').any(|l| l == "joblib-zf" || l == "lz4") {
            out.retain(|l| *l == JOBLIB);
        }
    }
    out
}

/// The loaders one finding concerns.
fn of(format: &str, f: &Finding) -> Vec<&'static str> {
    let mut out = by_format(format);
    let why = f.why.as_str();
    if why.contains("TorchScript") {
        return vec![TORCH_FULL, TORCH_BEFORE_2_6, TORCH_JIT];
    }
    if why.starts_with("tensor metadata that torch would have to trust") {
        return vec![TORCH_FULL, TORCH_BEFORE_2_10];
    }
    if why.contains("inside the sandbox") {
        return vec![out.first().copied().unwrap_or(TEMPLATE), TEMPLATE_SANDBOXED];
    }
    if why.contains("GGUF key") {
        return vec![GGUF_KEYS, TEMPLATE];
    }
    if why.contains("memo") && why.contains("pickle.load") {
        // the C unpickler's memo; torch's weights_only unpickler keeps a dict
        out.retain(|l| *l != TORCH_WEIGHTS_ONLY);
        return out;
    }
    if format.ends_with("pytorch-zip") && f.global.as_deref().is_some_and(|g| WEIGHTS_ONLY_GLOBALS.contains(&g)) {
        out.push(TORCH_WEIGHTS_ONLY);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Severity;

    fn finding(global: Option<&str>, why: &str) -> Finding {
        Finding {
            entry: String::new(),
            global: global.map(str::to_owned),
            severity: Severity::Dangerous,
            offset: None,
            why: why.to_owned(),
            loaders: Vec::new(),
        }
    }

    #[test]
    fn loaders_follow_the_format_and_the_finding() {
        let g = finding(Some("posix.system"), "runs shell commands");
        assert_eq!(of("pytorch-zip", &g), [TORCH_FULL]);
        assert_eq!(of("pickle", &g), [PICKLE, JOBLIB, PANDAS, TORCH_FULL]);
        assert_eq!(of("zlib/pickle", &g), [PICKLE, JOBLIB]);
        assert_eq!(of("gzip/pickle", &g), [PICKLE, JOBLIB, PANDAS]);
        assert_eq!(of("numpy", &g), [NUMPY]);
        let ts = finding(None, "a TorchScript archive: …");
        assert!(of("pytorch-zip", &ts).contains(&TORCH_BEFORE_2_6));
        let meta = finding(None, "tensor metadata that torch would have to trust: …");
        assert!(of("pytorch-zip", &meta).contains(&TORCH_BEFORE_2_10));
        let ba = finding(Some("builtins.bytearray"), "called with an integer above …");
        assert!(of("pytorch-zip", &ba).contains(&TORCH_WEIGHTS_ONLY));
        assert_eq!(of("gguf", &finding(None, "template")), [TEMPLATE]);
        let memory = finding(
            None,
            "a range of 1000000 items (limit 100000): unbounded work inside the sandbox",
        );
        assert_eq!(of("gguf", &memory), [TEMPLATE, TEMPLATE_SANDBOXED]);
    }
}
