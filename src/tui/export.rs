//! `e`: write what a tab shows to the current folder, through the core's own writers: the tensors as
//! `inspect --json` prints them (`checkpoint::summary`), the files as an AI bill of materials, the
//! same CycloneDX 1.6 and SPDX 3.0.1 documents as `scan --format cyclonedx|spdx` (`bom`), the scan as
//! JSON and SARIF (`scan::sarif`), the comparison as JSON, the bench in every report format
//! (`bench::export`). Names say what and when (`tensorscope-scan-20261207-015530.sarif`, UTC, to the
//! second); a name taken already gets `-2`, `-3`, … (the files of one export share it), so nothing is
//! overwritten; every file goes through a temporary file and a link to its name.

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
        match self {
            Export::Inspect(ck) => {
                let doc = Summary::new(ck, remote.and_then(|env| Remote::of(ck, env)));
                let text = doc.to_json().map_err(|e| e.to_string())?;
                write_all(dir, "tensorscope-inspect", vec![("json", text)])
            }
            Export::Bom(r) => {
                let bom = tensorscope::bom::collect(r, remote);
                let files = vec![
                    ("cdx.json", json(&tensorscope::bom::cyclonedx::document(&bom))?),
                    ("spdx.json", json(&tensorscope::bom::spdx::document(&bom))?),
                ];
                write_all(dir, "tensorscope-bom", files)
            }
            Export::Scan(r) => {
                let sarif = json(&tensorscope::scan::sarif::log(r))?;
                write_all(dir, "tensorscope-scan", vec![("json", json(r)?), ("sarif", sarif)])
            }
            Export::Diff(r) => write_all(dir, "tensorscope-diff", vec![("json", json(r)?)]),
        }
    }
}

/// The status line after an export: the file names first (what fits at 80 columns), then the folder.
pub fn wrote(paths: &[PathBuf]) -> String {
    let name = |p: &PathBuf| {
        p.file_name()
            .map_or_else(|| tensorscope::text::path(p), tensorscope::text::os_text)
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

/// `20261207-015530`: the UTC date and second of `unix` seconds, for file names that sort by time.
pub fn stamp(unix: u64) -> String {
    let (y, mo, d, h, m, sec) = tensorscope::text::utc(unix);
    format!("{y:04}{mo:02}{d:02}-{h:02}{m:02}{sec:02}")
}

/// Write `files` (extension, text) to `dir` as `{prefix}-{stamp}.{ext}`, the stamp of now, or with
/// `-2`, `-3`, … after it where a file of that name exists: one suffix for all of them, nothing
/// overwritten.
pub fn write_all(dir: &Path, prefix: &str, files: Vec<(&str, String)>) -> Result<Vec<PathBuf>, String> {
    write_stamped(dir, prefix, &stamp(now()), files)
}

fn write_stamped(dir: &Path, prefix: &str, stamp: &str, files: Vec<(&str, String)>) -> Result<Vec<PathBuf>, String> {
    for n in 1..=1000u32 {
        let stem = match n {
            1 => format!("{prefix}-{stamp}"),
            n => format!("{prefix}-{stamp}-{n}"),
        };
        if files.iter().any(|(ext, _)| dir.join(format!("{stem}.{ext}")).exists()) {
            continue;
        }
        return files
            .iter()
            .map(|(ext, text)| write(dir, &format!("{stem}.{ext}"), text))
            .collect();
    }
    Err(format!("cannot write {prefix}-{stamp}: 1000 names taken"))
}

/// Write `text` to `dir/name` whole or not at all, and never over a file there: a temporary file,
/// then a hard link to the name (which fails where the name exists), or a rename where the file
/// system has no hard links.
pub fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    use std::io::Write as _;
    let path = dir.join(name);
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", tensorscope::text::path(&path));
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written =
        std::fs::File::create(&tmp).and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()));
    let placed = written.and_then(|()| match std::fs::hard_link(&tmp, &path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !path.exists() => std::fs::rename(&tmp, &path),
        r => r,
    });
    let _ = std::fs::remove_file(&tmp);
    placed.map_err(fail)?;
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
    fn stamps_are_utc_dates_and_seconds() {
        assert_eq!(stamp(0), "19700101-000000");
        // 2026-12-07 01:55:30 UTC
        assert_eq!(stamp(1_796_608_530), "20261207-015530");
        assert_eq!(stamp(951_782_400), "20000229-000000");
    }

    /// Exports in one second: the second gets `-2` on each of its files, the third `-3`; a file in
    /// the way is never overwritten and no temporary file is left.
    #[test]
    fn an_export_never_overwrites_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = || vec![("json", "{}".to_string()), ("sarif", "{}".to_string())];
        let names = |paths: Vec<PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let at = |files| names(write_stamped(dir.path(), "t", "20261207-015530", files).unwrap());
        assert_eq!(at(files()), ["t-20261207-015530.json", "t-20261207-015530.sarif"]);
        // only the SARIF of the next name is in the way: both files take the next suffix
        std::fs::write(dir.path().join("t-20261207-015530-2.sarif"), "kept").unwrap();
        assert_eq!(at(files()), ["t-20261207-015530-3.json", "t-20261207-015530-3.sarif"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("t-20261207-015530-2.sarif")).unwrap(),
            "kept"
        );
        assert!(
            write(dir.path(), "t-20261207-015530.json", "new").is_err(),
            "never over a file"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("t-20261207-015530.json")).unwrap(),
            "{}"
        );
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(left, 5, "no temporary file left");
        // twice through the tab's path: two sets of files whatever the clock did
        let r = ScanReport::default();
        let a = Export::Scan(r.clone()).write(dir.path(), None).unwrap();
        let b = Export::Scan(r).write(dir.path(), None).unwrap();
        assert!(a.iter().all(|p| !b.contains(p)), "{a:?} {b:?}");
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
