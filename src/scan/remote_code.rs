//! Code a model folder asks transformers to run. `auto_map` in `config.json` (and in the tokenizer,
//! processor and feature-extractor configs) names Python classes that
//! `from_pretrained(…, trust_remote_code=True)` imports: from the folder's own `.py` files, or, as
//! `org/repo--module.Class`, from another Hub repository. There is no pickle to walk, but it is code
//! that runs on load: each class is a suspicious finding that names the file it comes from, so a
//! folder that ships code is never called safe without saying so.

use std::path::Path;

use serde_json::Value;

use super::{Collector, FileScan, ScanOptions, Severity, Verdict};

/// The configs transformers reads `auto_map` from.
const CONFIG_FILES: [&str; 8] = [
    "config.json",
    "adapter_config.json",
    "tokenizer_config.json",
    "processor_config.json",
    "preprocessor_config.json",
    "feature_extractor_config.json",
    "image_processor_config.json",
    "video_preprocessor_config.json",
];

/// Most classes listed per file; more are counted in one finding.
const MAX_CLASSES: usize = 64;

/// Whether transformers would read `auto_map` from `path` (by its name).
pub fn is_config(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| CONFIG_FILES.contains(&n))
}

/// Add the classes `path`'s `auto_map` names to `scan` (the template scan of the same file, if it
/// had one), or make a scan of them: `None` when the file is no such config or names no code.
pub(super) fn scan_local(path: &Path, opts: &ScanOptions, scan: Option<FileScan>) -> Option<FileScan> {
    let mut c = Collector::new(opts);
    if path.extension().is_some_and(|e| e == "py") {
        // named by no config at all, a folder's code still runs: diffusers components, custom
        // pipelines and sentence-transformers modules name theirs elsewhere, and transformers imports
        // custom_generate/generate.py on its own
        c.problem("", None, Severity::Suspicious, PYTHON);
        return Some(finish(c, path, scan));
    }
    if !is_config(path) {
        return scan;
    }
    let bytes = match super::template_files::read_bounded(path) {
        Ok(b) => b,
        Err(e) => {
            c.problem("", None, Severity::Suspicious, format!("cannot check it for code: {e}"));
            return Some(finish(c, path, scan));
        }
    };
    let Some(json) = super::pyjson::parse(&bytes) else {
        // Python's json may read what serde_json refuses (nesting past 128, 1e400): not "no code"
        let why = "cannot check it for code: not JSON that tensorscope can read, which Python's json may still read";
        c.problem("", None, Severity::Suspicious, why);
        return Some(finish(c, path, scan));
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    if let Some(base) = json.get("base_model_name_or_path").and_then(Value::as_str)
        && base_outside(base)
    {
        let why = format!(
            "the adapter's base model is {}, outside this folder: a loader following it (with its code) reads \
             what this scan did not cover",
            crate::text::escape(base)
        );
        c.problem("base_model_name_or_path", None, Severity::Suspicious, why);
    }
    let mut classes = Vec::new();
    walk(&json, "", 0, &mut classes);
    if classes.is_empty() && c.mark() == 0 {
        return scan;
    }
    for (key, class) in classes.iter().take(MAX_CLASSES) {
        // the key already says where: `auto_map.AutoModel`, `custom_pipelines.TASK.impl`
        c.problem(key, None, Severity::Suspicious, why(folder, class));
    }
    if classes.len() > MAX_CLASSES {
        let more = format!("{} more auto_map classes are not listed", classes.len() - MAX_CLASSES);
        c.problem("auto_map", None, Severity::Suspicious, more);
    }
    Some(finish(c, path, scan))
}

/// Why a `.py` file of a model folder is not safe.
const PYTHON: &str = "Python code in the model folder: transformers, diffusers and sentence-transformers import a \
                      folder's code with trust_remote_code=True (auto_map, custom pipelines and components, custom \
                      modules, custom_generate)";

/// The findings gathered in `c` as the scan of `path`, or added to `scan` (its template scan).
fn finish(c: Collector, path: &Path, scan: Option<FileScan>) -> FileScan {
    let mut own = c.finish(path.to_string_lossy().into_owned(), super::loaders::REMOTE_CODE_FORMAT);
    for f in &mut own.findings {
        f.loaders = vec![super::loaders::REMOTE_CODE.to_owned()];
    }
    match scan {
        None => own,
        Some(mut s) => {
            s.verdict = s.verdict.max(Verdict::Suspicious);
            s.findings.extend(own.findings);
            s
        }
    }
}

/// Whether an adapter's base model path names a local folder outside the adapter's own (absolute,
/// or reaching up with `..`); a Hub id (`org/name`) is not a path here.
fn base_outside(base: &str) -> bool {
    let p = Path::new(base);
    p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) || base.starts_with('~')
}

/// Why one `auto_map` class is code that runs.
fn why(folder: &Path, class: &str) -> String {
    let shown = crate::text::escape(class);
    if let Some((repo, _)) = class.split_once("--") {
        return format!(
            "trust_remote_code=True imports {shown}: code from another Hub repository ({})",
            crate::text::escape(repo)
        );
    }
    let module = class.rsplit_once('.').map_or(class, |(m, _)| m);
    let file = format!("{}.py", module.replace('.', "/"));
    let here = folder.join(&file).is_file();
    format!(
        "trust_remote_code=True imports {shown} and runs {} {}",
        crate::text::escape(&file),
        if here {
            "from this folder"
        } else {
            "(not in this folder: fetched from the model's repository)"
        }
    )
}

/// Deepest nesting searched for `auto_map` (a composite model's `text_config.auto_map`).
const MAX_DEPTH: usize = 8;

/// Every class the config names as code, with where (`auto_map.AutoModelForCausalLM`,
/// `auto_map.AutoTokenizer.0`, `text_config.auto_map.AutoModel`, `custom_pipelines.TASK.impl`): an
/// `auto_map` value is a class or a list of them (the tokenizer's slow and fast classes, or null); a
/// custom pipeline names its class under `impl`. Nested configs are searched too.
fn walk(v: &Value, at: &str, depth: usize, out: &mut Vec<(String, String)>) {
    let Value::Object(map) = v else { return };
    if depth > MAX_DEPTH {
        return;
    }
    let join = |k: &str| {
        if at.is_empty() {
            k.to_owned()
        } else {
            format!("{at}.{k}")
        }
    };
    for (key, v) in map {
        match (key.as_str(), v) {
            ("auto_map", Value::Object(classes)) => {
                for (name, c) in classes {
                    push_classes(c, join(&format!("auto_map.{name}")), out);
                }
            }
            // the tokenizer's legacy form: [slow class, fast class]
            ("auto_map", Value::Array(_)) => push_classes(v, join("auto_map"), out),
            ("custom_pipelines", Value::Object(tasks)) => {
                for (task, spec) in tasks {
                    if let Some(Value::String(s)) = spec.get("impl") {
                        out.push((join(&format!("custom_pipelines.{task}.impl")), s.clone()));
                    }
                }
            }
            _ => walk(v, &join(key), depth + 1, out),
        }
    }
}

/// A class (`here`) or a list of them (`here.0`, `here.1`, …; nulls skipped), onto `out`.
fn push_classes(v: &Value, here: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((here, s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Value::String(s) = item {
                    out.push((format!("{here}.{i}"), s.clone()));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto_map(bytes: &[u8]) -> Vec<(String, String)> {
        let Some(top) = crate::scan::pyjson::parse(bytes) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        walk(&top, "", 0, &mut out);
        out
    }

    #[test]
    fn classes_of_an_auto_map_are_found_with_their_keys() {
        let cfg = br#"{"model_type":"x","auto_map":{"AutoConfig":"configuration_x.XConfig",
            "AutoModel":"org/other--modeling_x.XModel","AutoTokenizer":["tokenization_x.XTok",null]}}"#;
        let found = auto_map(cfg);
        assert_eq!(
            found,
            [
                ("auto_map.AutoConfig".into(), "configuration_x.XConfig".into()),
                ("auto_map.AutoModel".into(), "org/other--modeling_x.XModel".into()),
                ("auto_map.AutoTokenizer.0".into(), "tokenization_x.XTok".into()),
            ]
        );
        // nested configs, custom pipelines, and Python's NaN beside them
        let cfg = br#"{"x": NaN, "text_config": {"auto_map": {"AutoModel": "m.T"}},
            "custom_pipelines": {"pwn-task": {"impl": "pwn_pipe.PwnPipeline", "pt": ["AutoModel"]}}}"#;
        assert_eq!(
            auto_map(cfg),
            [
                ("text_config.auto_map.AutoModel".into(), "m.T".into()),
                ("custom_pipelines.pwn-task.impl".into(), "pwn_pipe.PwnPipeline".into()),
            ]
        );
        assert!(auto_map(br#"{"model_type":"llama"}"#).is_empty());
        assert!(auto_map(b"not json").is_empty());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("modeling_x.py"), "import os").unwrap();
        assert!(why(dir.path(), "modeling_x.XModel").contains("modeling_x.py from this folder"));
        assert!(why(dir.path(), "configuration_x.XConfig").contains("not in this folder"));
        assert!(why(dir.path(), "org/other--modeling_x.XModel").contains("another Hub repository (org/other)"));
    }
}
