//! `e`: write what a tab shows to the current folder, through the core's own writers: the tensors as
//! `inspect --json` prints them (`checkpoint::summary`), the files as an AI bill of materials, the
//! same CycloneDX 1.6 and SPDX 3.0.1 documents as `scan --format cyclonedx|spdx` (`bom`), the scan as
//! JSON and SARIF (`scan::sarif`), the comparison as JSON, the bench in every report format
//! (`bench::export`). Names say what and when (`tensorscope-scan-20261207-0155.sarif`, UTC); every
//! file goes through a temporary file and a rename.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tensorscope::checkpoint::Checkpoint;
use tensorscope::checkpoint::summary::{Remote, Summary};
use tensorscope::diff::DiffReport;
use tensorscope::remote::Env;
use tensorscope::scan::ScanReport;

/// What a tab hands over to be written.
#[derive(Debug, Clone)]
pub enum Export {
    /// The Tensors tab: the `inspect --json` document.
    Inspect(Arc<Checkpoint>),
    /// The Files tab: the bill of materials of the scanned files, CycloneDX and SPDX.
    Bom(ScanReport),
    /// The Scan tab: JSON and SARIF.
    Scan(ScanReport),
    /// The Diff tab: JSON.
    Diff(Box<DiffReport>),
}

impl Export {
    /// Write the files into `dir`; their paths, or why not (one line). `remote` is how remote
    /// paths were opened (the `remote` block of the inspect document, Hub hashes in the BOM).
    pub fn write(&self, dir: &Path, remote: Option<&Env>) -> Result<Vec<PathBuf>, String> {
        let stamp = stamp(now());
        match self {
            Export::Inspect(ck) => {
                let doc = Summary::new(ck, remote.and_then(|env| Remote::of(ck, env)));
                let text = doc.to_json().map_err(|e| e.to_string())?;
                Ok(vec![write(dir, &format!("tensorscope-inspect-{stamp}.json"), &text)?])
            }
            Export::Bom(r) => {
                let bom = tensorscope::bom::collect(r, remote);
                Ok(vec![
                    write(
                        dir,
                        &format!("tensorscope-bom-{stamp}.cdx.json"),
                        &json(&tensorscope::bom::cyclonedx::document(&bom))?,
                    )?,
                    write(
                        dir,
                        &format!("tensorscope-bom-{stamp}.spdx.json"),
                        &json(&tensorscope::bom::spdx::document(&bom))?,
                    )?,
                ])
            }
            Export::Scan(r) => Ok(vec![
                write(dir, &format!("tensorscope-scan-{stamp}.json"), &json(r)?)?,
                write(
                    dir,
                    &format!("tensorscope-scan-{stamp}.sarif"),
                    &json(&tensorscope::scan::sarif::log(r))?,
                )?,
            ]),
            Export::Diff(r) => Ok(vec![write(dir, &format!("tensorscope-diff-{stamp}.json"), &json(r)?)?]),
        }
    }
}

/// The status line after an export: the file names first (what fits at 80 columns), then the folder.
pub fn wrote(paths: &[PathBuf]) -> String {
    let name = |p: &PathBuf| {
        p.file_name().map_or_else(
            || tensorscope::text::path(p),
            |n| tensorscope::text::escape(&n.to_string_lossy()).into_owned(),
        )
    };
    let names: Vec<String> = paths.iter().map(name).collect();
    match paths.first().and_then(|p| p.parent()) {
        Some(dir) if paths.iter().all(|p| p.parent() == Some(dir)) => {
            format!("wrote {} in {}", names.join(", "), tensorscope::text::path(dir))
        }
        _ => format!(
            "wrote {}",
            paths
                .iter()
                .map(|p| tensorscope::text::path(p))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Pretty JSON with a final newline.
fn json<T: serde::Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `20261207-0155`: the UTC date and minute of `unix` seconds, for file names that sort by time.
pub fn stamp(unix: u64) -> String {
    let (y, mo, d, h, m, _) = tensorscope::text::utc(unix);
    format!("{y:04}{mo:02}{d:02}-{h:02}{m:02}")
}

/// Write `text` to `dir/name` whole or not at all (a temporary file and a rename).
pub fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    tensorscope::source::atomic::write_atomic(&path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", tensorscope::text::path(&path)))?;
    Ok(path)
}

// the vendored schemas and their validator, shared with the BOM tests in tests/
#[cfg(test)]
#[path = "../../tests/common/schema.rs"]
mod test_schema;

#[cfg(test)]
mod tests {
    use super::*;
    use test_schema::{Schema, validate};

    #[test]
    fn the_status_line_names_the_files_then_their_folder() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            wrote(&[p("/tmp/x/a.cdx.json"), p("/tmp/x/a.spdx.json")]),
            "wrote a.cdx.json, a.spdx.json in /tmp/x"
        );
        assert_eq!(wrote(&[p("/a/b.json"), p("/c/d.json")]), "wrote /a/b.json, /c/d.json");
    }

    #[test]
    fn stamps_are_utc_dates_and_minutes() {
        assert_eq!(stamp(0), "19700101-0000");
        // 2026-12-07 01:55:30 UTC
        assert_eq!(stamp(1_796_608_530), "20261207-0155");
        assert_eq!(stamp(951_782_400), "20000229-0000");
    }

    #[test]
    fn the_files_tab_writes_a_bom_that_validates_against_cyclonedx_1_6_and_spdx_3() {
        let dir = tempfile::tempdir().unwrap();
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let r = tensorscope::scan::scan_paths(&[samples.join("gpt2-tiny.safetensors"), samples.join("malicious.bin")])
            .unwrap();
        let paths = Export::Bom(r.clone()).write(dir.path(), None).unwrap();
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            names[0].starts_with("tensorscope-bom-") && names[0].ends_with(".cdx.json"),
            "{names:?}"
        );
        assert!(names[1].ends_with(".spdx.json"), "{names:?}");
        let text = std::fs::read_to_string(&paths[0]).unwrap();
        let cdx: serde_json::Value = serde_json::from_str(&text).unwrap();
        validate(&cdx, Schema::CycloneDx16);
        assert_eq!(cdx["specVersion"], "1.6");
        // both files with the SHA-256 of their bytes, the dangerous one's finding as a vulnerability
        for c in cdx["components"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            use sha2::Digest as _;
            let want =
                tensorscope::verify::hash::hex(&sha2::Sha256::digest(std::fs::read(samples.join(name)).unwrap()));
            assert_eq!(c["hashes"][0]["content"], want.as_str(), "{name}");
        }
        assert!(!cdx["vulnerabilities"].as_array().unwrap().is_empty());
        // the document `scan --format cyclonedx` prints, byte for byte
        let doc = tensorscope::bom::cyclonedx::document(&tensorscope::bom::collect(&r, None));
        assert_eq!(text, serde_json::to_string_pretty(&doc).unwrap() + "\n");
        let spdx: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&paths[1]).unwrap()).unwrap();
        validate(&spdx, Schema::Spdx301);
    }

    #[test]
    fn the_tensors_tab_writes_the_inspect_document() {
        let dir = tempfile::tempdir().unwrap();
        let ck = tensorscope::checkpoint::open(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/tiny.gguf")).unwrap();
        let ck = Arc::new(ck);
        let paths = Export::Inspect(ck.clone()).write(dir.path(), None).unwrap();
        let name = paths[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("tensorscope-inspect-") && name.ends_with(".json"),
            "{name}"
        );
        assert_eq!(
            std::fs::read_to_string(&paths[0]).unwrap(),
            Summary::new(&ck, None).to_json().unwrap()
        );
    }

    #[test]
    fn the_scan_is_written_as_json_and_sarif() {
        let dir = tempfile::tempdir().unwrap();
        let r = tensorscope::scan::scan_paths(&[concat!(env!("CARGO_MANIFEST_DIR"), "/samples/malicious.bin").into()])
            .unwrap();
        let paths = Export::Scan(r).write(dir.path(), None).unwrap();
        assert_eq!(paths.len(), 2);
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&paths[0]).unwrap()).unwrap();
        assert_eq!(json["files"][0]["verdict"], "dangerous");
        let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&paths[1]).unwrap()).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        let name = paths[1].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("tensorscope-scan-") && name.ends_with(".sarif"),
            "{name}"
        );
        assert!(
            Export::Scan(Default::default())
                .write(&dir.path().join("missing"), None)
                .is_err()
        );
    }
}
