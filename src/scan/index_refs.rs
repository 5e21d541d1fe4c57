//! Shard indexes (`*.index.json`) hold no code, but they tell a loader which files to read:
//! transformers joins each `weight_map` file name onto the folder, so a name such as
//! `../outside.bin` or `/abs/path.bin` makes it load a file that a scan of the folder never
//! covered. Each such name is a suspicious finding on the index.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::{Collector, FileScan, ScanOptions, Severity};

/// Most names listed per index; more are counted in one finding.
const MAX_NAMES: usize = 16;

/// The scan of the index at `path` when its `weight_map` names files outside its folder, else `None`.
pub(super) fn scan_local(path: &Path, opts: &ScanOptions) -> Option<FileScan> {
    let bytes = super::template_files::read_bounded(path).ok()?;
    let Some(Value::Object(top)) = super::pyjson::parse(&bytes) else {
        return None;
    };
    let Some(Value::Object(map)) = top.get("weight_map") else {
        return None;
    };
    let outside: BTreeSet<&str> = map
        .values()
        .filter_map(Value::as_str)
        .filter(|n| !crate::checkpoint::layout::stays_inside(n))
        .collect();
    if outside.is_empty() {
        return None;
    }
    let mut c = Collector::new(opts);
    for name in outside.iter().take(MAX_NAMES) {
        let why = format!(
            "the weight map names {}, outside this folder: a loader following the index reads a file this scan \
             did not cover",
            crate::text::escape(name)
        );
        c.problem("weight_map", None, Severity::Suspicious, why);
    }
    if outside.len() > MAX_NAMES {
        let more = format!("{} more file names outside the folder", outside.len() - MAX_NAMES);
        c.problem("weight_map", None, Severity::Suspicious, more);
    }
    Some(c.finish(path.to_string_lossy().into_owned(), super::loaders::SHARD_INDEX_FORMAT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_folder_are_findings_and_inside_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.safetensors.index.json");
        std::fs::write(
            &p,
            r#"{"weight_map":{"a":"model-1.safetensors","b":"sub/model-2.safetensors"}}"#,
        )
        .unwrap();
        assert!(scan_local(&p, &ScanOptions::default()).is_none());
        std::fs::write(
            &p,
            r#"{"weight_map":{"a":"../x.bin","b":"/abs/y.bin","c":"../x.bin","d":""}}"#,
        )
        .unwrap();
        let f = scan_local(&p, &ScanOptions::default()).unwrap();
        assert_eq!(f.findings.len(), 3, "{:?}", f.findings);
        assert!(f.findings.iter().any(|x| x.why.contains("../x.bin")));
    }
}
