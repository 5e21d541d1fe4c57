//! Chat templates in their own files. transformers loads a model folder's chat template from
//! `chat_template.jinja`, from `additional_chat_templates/NAME.jinja` (named templates), from the
//! `chat_template` of `tokenizer_config.json` (a string, or a list of `{name, template}`), and a
//! processor's from `chat_template.json`; servers render it on every request. A folder scan
//! judges each with the template check (`scan::template`) and lists the file with a verdict.
//!
//! Only those names are template files: other `.jinja` files (template collections, test
//! corpora) are not loaded by anything as a model's template and stay skipped, and so does a
//! `tokenizer_config.json` or `chat_template.json` that holds no template (or is not JSON, which
//! is transformers' error to report, not a template to judge).

use std::io::Read;
use std::path::Path;

use super::{Collector, FileScan, ScanOptions, Severity, template};

/// The folder named templates are read from.
pub const ADDITIONAL: &str = "additional_chat_templates";
/// Most bytes of a template file read (`tokenizer_config.json` can carry a large vocabulary).
pub const MAX_FILE_BYTES: u64 = 32 << 20;
/// Most files of `additional_chat_templates/` read per folder (in name order).
pub const MAX_ADDITIONAL: usize = 256;
/// Most bytes of template files read per folder, all files together.
pub const MAX_FOLDER_BYTES: u64 = 128 << 20;
/// The format a template file is reported as.
pub const FORMAT: &str = super::loaders::CHAT_TEMPLATE_FORMAT;

/// Whether transformers would load `path` for a chat template (by its name and folder).
pub fn is_template_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    match name {
        "chat_template.jinja" | "chat_template.json" | "tokenizer_config.json" => true,
        _ => {
            name.ends_with(".jinja")
                && path
                    .parent()
                    .and_then(|p| p.file_name())
                    .is_some_and(|d| d == ADDITIONAL)
        }
    }
}

/// The templates a template file holds, each with the name it is reported under
/// (`chat_template.jinja`, `additional_chat_templates/NAME.jinja`, `tokenizer_config.json`,
/// `tokenizer_config.json:NAME`, `chat_template.json`). `None` when the file holds none.
pub fn templates(path: &Path, bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".jinja") {
        let shown = match path.parent().and_then(|p| p.file_name()) {
            Some(d) if d == ADDITIONAL && name != "chat_template.jinja" => format!("{ADDITIONAL}/{name}"),
            _ => name.to_owned(),
        };
        return Some(vec![(shown, String::from_utf8_lossy(bytes).into_owned())]);
    }
    let json: serde_json::Value = super::pyjson::parse(bytes)?;
    let mut out = Vec::new();
    match json.get("chat_template")? {
        serde_json::Value::String(t) => out.push((name.to_owned(), t.clone())),
        serde_json::Value::Array(list) => {
            for item in list {
                if let (Some(n), Some(t)) = (
                    item.get("name").and_then(|n| n.as_str()),
                    item.get("template").and_then(|t| t.as_str()),
                ) {
                    out.push((format!("{name}:{}", crate::text::escape(n)), t.to_owned()));
                }
            }
        }
        _ => return None,
    }
    (!out.is_empty()).then_some(out)
}

/// The templates of the template files in `dir` (not below it but for
/// `additional_chat_templates/`), sorted by name. Unreadable or oversized files are left out.
pub fn in_folder(dir: &Path) -> Vec<(String, String)> {
    let mut files = vec![
        dir.join("tokenizer_config.json"),
        dir.join("chat_template.json"),
        dir.join("chat_template.jinja"),
    ];
    if let Ok(rd) = std::fs::read_dir(dir.join(ADDITIONAL)) {
        let mut more: Vec<_> = rd.flatten().map(|e| e.path()).filter(|p| is_template_file(p)).collect();
        more.sort();
        more.truncate(MAX_ADDITIONAL);
        files.extend(more);
    }
    // the files are read one at a time, and no more than MAX_FOLDER_BYTES in all
    let mut budget = MAX_FOLDER_BYTES;
    let mut out: Vec<(String, String)> = Vec::new();
    for p in &files {
        let Ok(bytes) = read_bounded(p) else { continue };
        let Some(left) = budget.checked_sub(bytes.len() as u64) else {
            break;
        };
        budget = left;
        out.extend(templates(p, &bytes).into_iter().flatten());
    }
    out.sort();
    out
}

/// A regular file's bytes, when it is no larger than [`MAX_FILE_BYTES`].
pub fn read_bounded(p: &Path) -> Result<Vec<u8>, String> {
    // checked before opening, and opened without blocking: a FIFO named like a template file must
    // not hang the scan
    let f = crate::source::open_regular(p).map_err(|e| match e {
        crate::Error::Io { source, .. } => format!("cannot open: {source}"),
        _ => "not a regular file".into(),
    })?;
    let meta = f.metadata().map_err(|e| format!("cannot open: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is {} bytes, over the {MAX_FILE_BYTES}-byte limit of the template check (not checked)",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(bytes)
}

/// Scan a local template file a folder walk found: `None` when it is not one (or holds no
/// template, or is a remote file: the Hub's files are fetched only as checkpoints need them).
pub(super) fn scan_local(opener: &crate::remote::Opener, path: &Path, opts: &ScanOptions) -> Option<FileScan> {
    if !is_template_file(path) || opener.remote_file(path).is_some() {
        return None;
    }
    let mut f = scan(path, opts)?;
    super::loaders::assign(&mut f);
    Some(f)
}

/// Scan a template file: `None` when it holds no template (it stays a skipped file).
fn scan(path: &Path, opts: &ScanOptions) -> Option<FileScan> {
    let label = path.to_string_lossy().into_owned();
    let mut c = Collector::new(opts);
    let bytes = match read_bounded(path) {
        Ok(b) => b,
        Err(why) => {
            // too large or unreadable: a template that cannot be judged is not safe
            c.problem("", None, Severity::Suspicious, why);
            let mut f = c.finish(label, FORMAT);
            f.templates = Some(0);
            return Some(f);
        }
    };
    let found = templates(path, &bytes)?;
    for (name, text) in &found {
        for h in template::check(text) {
            let why = format!("{} (excerpt: {})", h.why, super::gguf::excerpt(text, h.offset));
            c.problem(name, Some(h.offset as u64), h.severity, why);
        }
    }
    let mut f = c.finish(label, FORMAT);
    f.templates = Some(found.len());
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_named_like_a_template_file_is_skipped_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = std::ffi::CString::new(
            dir.path()
                .join("tokenizer_config.json")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::fs::write(dir.path().join("chat_template.jinja"), "{{ messages }}").unwrap();
        // opening the FIFO for reading would block until a writer came: it is refused first
        assert_eq!(
            read_bounded(&dir.path().join("tokenizer_config.json")),
            Err("not a regular file".to_string())
        );
        let found = in_folder(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn only_the_names_transformers_loads() {
        for yes in [
            "m/chat_template.jinja",
            "m/chat_template.json",
            "m/tokenizer_config.json",
            "m/additional_chat_templates/tool_use.jinja",
        ] {
            assert!(is_template_file(Path::new(yes)), "{yes}");
        }
        for no in [
            "m/llama3.jinja",
            "m/templates/x.jinja",
            "m/config.json",
            "m/additional_chat_templates/x.txt",
        ] {
            assert!(!is_template_file(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn a_folder_of_many_templates_is_read_up_to_its_limits() {
        let dir = tempfile::tempdir().unwrap();
        let more = dir.path().join(ADDITIONAL);
        std::fs::create_dir(&more).unwrap();
        for i in 0..MAX_ADDITIONAL + 44 {
            std::fs::write(more.join(format!("t{i:04}.jinja")), "{{ x }}").unwrap();
        }
        let found = in_folder(dir.path());
        assert_eq!(found.len(), MAX_ADDITIONAL, "the first {MAX_ADDITIONAL} in name order");
        assert_eq!(found[0].0, format!("{ADDITIONAL}/t0000.jinja"));
        // the bytes read in all stop at MAX_FOLDER_BYTES: files past it are left out
        let big = dir.path().join("big");
        std::fs::create_dir_all(big.join(ADDITIONAL)).unwrap();
        let each = MAX_FILE_BYTES as usize;
        let files = (MAX_FOLDER_BYTES as usize).div_ceil(each) + 1;
        for i in 0..files {
            std::fs::write(big.join(ADDITIONAL).join(format!("b{i}.jinja")), vec![b'x'; each]).unwrap();
        }
        let read = in_folder(&big);
        assert_eq!(
            read.len(),
            (MAX_FOLDER_BYTES as usize) / each,
            "{} of {files} read",
            read.len()
        );
    }

    #[test]
    fn templates_of_each_form() {
        let one = templates(Path::new("tokenizer_config.json"), br#"{"chat_template": "{{ x }}"}"#).unwrap();
        assert_eq!(one, [("tokenizer_config.json".to_owned(), "{{ x }}".to_owned())]);
        let list =
            br#"{"chat_template": [{"name": "default", "template": "a"}, {"name": "tool_use", "template": "b"}]}"#;
        let named = templates(Path::new("tokenizer_config.json"), list).unwrap();
        assert_eq!(named[1].0, "tokenizer_config.json:tool_use");
        assert_eq!(
            templates(Path::new("tokenizer_config.json"), br#"{"bos_token": "<s>"}"#),
            None
        );
        assert_eq!(templates(Path::new("tokenizer_config.json"), b"not json"), None);
        let extra = templates(Path::new("m/additional_chat_templates/rag.jinja"), b"{{ y }}").unwrap();
        assert_eq!(extra[0].0, "additional_chat_templates/rag.jinja");
    }
}
