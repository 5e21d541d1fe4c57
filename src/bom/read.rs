//! Reading one scanned file again for its BOM entry: the checkpoint (counts, dtypes), the GGUF
//! metadata, the files beside it (config.json, tokenizer_config.json, README front matter) and its
//! SHA-256.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Entry, HashSource, Template, file_name};
use crate::checkpoint::{self, OpenOptions};
use crate::formats::gguf;
use crate::model::count::Quant;
use crate::scan::FileScan;
use crate::verify::hash;

/// Most bytes of a file beside the checkpoint read (config.json, tokenizer_config.json, README).
const MAX_SIDE_FILE: u64 = 32 << 20;

/// The BOM entry of one scanned file.
pub(super) fn entry(f: &FileScan, remote: Option<&crate::remote::Env>) -> Entry {
    let mut e = Entry {
        path: f.path.clone(),
        name: file_name(&f.path),
        bytes: None,
        sha256: None,
        sha256_from: None,
        purl: None,
        format: f.format.clone(),
        container: None,
        tensors: None,
        params: None,
        dtypes: Vec::new(),
        quantization: None,
        architecture: None,
        context_length: None,
        license: None,
        templates: Vec::new(),
        verdict: f.verdict.as_str().to_owned(),
        findings: f.findings.clone(),
        notes: Vec::new(),
        verification: None,
    };
    let path = Path::new(&f.path);
    let is_remote = crate::remote::is_remote(&f.path);
    if is_remote {
        hub_identity(&mut e, path, remote);
    } else {
        local_hash(&mut e, path);
    }
    if f.format == crate::scan::template_files::FORMAT {
        // a chat-template file, whatever its verdict: its own templates' fingerprints (hashing
        // the text runs nothing), no model to open
        let found = crate::scan::template_files::read_bounded(path)
            .ok()
            .and_then(|b| crate::scan::template_files::templates(path, &b));
        for (name, t) in found.unwrap_or_default() {
            e.templates.push(Template {
                name,
                sha256: sha256_hex(t.as_bytes()),
            });
        }
    } else if f.verdict == crate::scan::Verdict::Dangerous || f.verdict == crate::scan::Verdict::Error {
        // a dangerous or invalid file is not read as a model, nor described by the files beside
        // it: the BOM says what it is (hash, format, findings) and no more
        e.notes.push(format!(
            "not opened as a model: the scan verdict is {}",
            f.verdict.as_str()
        ));
    } else {
        read_checkpoint(&mut e, path, remote);
        if !is_remote {
            read_beside(&mut e, path);
        }
    }
    e.templates.sort_by(|a, b| a.name.cmp(&b.name));
    e.templates.dedup();
    e
}

/// SHA-256 and size of a local file, from its bytes.
fn local_hash(e: &mut Entry, path: &Path) {
    let job = hash::Job {
        path: path.to_path_buf(),
        start: 0,
        end: None,
        algo: hash::Algorithm::Sha256,
    };
    match hash::hash_job(&job, &mut Vec::new()) {
        Ok((d, n)) => {
            e.sha256 = Some(hash::hex(&d));
            e.sha256_from = Some(HashSource::Bytes);
            e.bytes = Some(n);
        }
        Err(err) => e.notes.push(format!("cannot hash the file: {err}")),
    }
}

/// A Hub file: its LFS SHA-256 and size from the listing, its purl at the commit.
fn hub_identity(e: &mut Entry, path: &Path, remote: Option<&crate::remote::Env>) {
    let Some(env) = remote else {
        e.notes.push("a remote file, and no remote context".into());
        return;
    };
    let m = match env.open_mirror(path) {
        Ok(Some(m)) => m,
        Ok(None) => return,
        Err(err) => {
            e.notes.push(format!("cannot list the repository: {err}"));
            return;
        }
    };
    if let (Ok(Some(crate::remote::RemotePath::Hub { repo, .. })), Some(commit)) =
        (crate::remote::RemotePath::parse(&f_str(path)), m.commit.as_deref())
    {
        e.purl = Some(format!("pkg:huggingface/{repo}@{commit}"));
    }
    let Some(rf) = m.file_at(&m.target) else { return };
    e.bytes = Some(rf.size);
    match &rf.hashes.lfs_sha256 {
        Some(sha) => {
            e.sha256 = Some(sha.clone());
            e.sha256_from = Some(HashSource::HubLfs);
        }
        None => e.notes.push(match &rf.hashes.git_sha1 {
            Some(g) => format!("not an LFS file: the Hub lists only its git blob id {g}"),
            None => "the Hub's listing gives no hash for it".into(),
        }),
    }
}

fn f_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Counts, dtypes and quantization from the checkpoint; architecture, context, licence and
/// templates from a GGUF's metadata; the licence from safetensors `__metadata__`.
fn read_checkpoint(e: &mut Entry, path: &Path, remote: Option<&crate::remote::Env>) {
    let opts = OpenOptions {
        variant: None,
        remote: remote.cloned(),
    };
    let ck = match checkpoint::open_with(path, &opts) {
        Ok(ck) => ck,
        Err(err) => {
            e.notes.push(format!("not opened as a model: {err}"));
            return;
        }
    };
    e.container = ck.files.first().map(|f| f.format.as_str().to_owned());
    e.tensors = Some(ck.tensors.len());
    e.params = Some(ck.counting().params);
    let mut dtypes: BTreeMap<String, usize> = BTreeMap::new();
    for t in &ck.tensors {
        *dtypes.entry(t.dtype.to_string()).or_default() += 1;
    }
    e.dtypes = dtypes.into_iter().collect();
    e.quantization = ck.hints.quant.as_ref().map(describe);
    if e.quantization.is_none() {
        let blocks: Vec<&str> = e
            .dtypes
            .iter()
            .filter(|(d, _)| {
                ck.tensors
                    .iter()
                    .any(|t| t.dtype.is_ggml_block() && t.dtype.to_string() == *d)
            })
            .map(|(d, _)| d.as_str())
            .collect();
        if !blocks.is_empty() {
            e.quantization = Some(format!("GGML blocks: {}", blocks.join(", ")));
        }
    }
    if let Some((_, v)) = ck.metadata.iter().find(|(k, _)| k == "license") {
        e.license = Some(v.clone());
    }
    if matches!(
        ck.format,
        crate::model::Format::Gguf | crate::model::Format::GgufSharded
    ) && let Ok(g) = gguf::parse(ck.file_path(0), ck.file_bytes(0))
    {
        let text = |k: &str| g.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        e.architecture = text("general.architecture");
        if let Some(arch) = &e.architecture {
            e.context_length = g.get(&format!("{arch}.context_length")).and_then(|v| v.as_u64());
        }
        e.license = text("general.license").or(e.license.take());
        for (key, t) in gguf::templates(&g) {
            e.templates.push(Template {
                name: crate::text::escape(key).into_owned(),
                sha256: sha256_hex(t.as_bytes()),
            });
        }
    }
}

/// The quantization scheme in words.
fn describe(q: &Quant) -> String {
    let group = |g: &Option<i64>| match g {
        Some(g) if *g > 0 => format!(", group {g}"),
        _ => String::new(),
    };
    match q {
        Quant::Gptq { bits, group: g } => format!("GPTQ {bits}-bit{}", group(g)),
        Quant::Awq { bits, group: g } => format!("AWQ {bits}-bit{}", group(g)),
        Quant::Compressed { format, bits, group: g } => {
            format!("compressed-tensors {format} {bits}-bit{}", group(g))
        }
        Quant::Mlx { bits, group: g } => format!("MLX {bits}-bit{}", group(g)),
        Quant::Mxfp4 => "MXFP4".into(),
        Quant::Bnb4 { kind } => format!("bitsandbytes 4-bit {kind}"),
        Quant::Bnb8 => "bitsandbytes 8-bit".into(),
        Quant::Other(m) => m.clone(),
    }
}

fn sha256_hex(b: &[u8]) -> String {
    hash::hex(&hash::digest(hash::Algorithm::Sha256, b))
}

/// A small file beside the checkpoint, when it is a regular file under [`MAX_SIDE_FILE`].
fn side_file(dir: &Path, name: &str) -> Option<Vec<u8>> {
    let p: PathBuf = dir.join(name);
    let meta = std::fs::metadata(&p).ok()?;
    if !meta.is_file() || meta.len() > MAX_SIDE_FILE {
        return None;
    }
    std::fs::read(&p).ok()
}

/// What the files beside a local checkpoint say: config.json, the chat template files
/// ([`crate::scan::template_files`]), README.md front matter.
fn read_beside(e: &mut Entry, path: &Path) {
    let dir = path.parent().unwrap_or(Path::new("."));
    let json = |name: &str| side_file(dir, name).and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    if let Some(cfg) = json("config.json") {
        if e.architecture.is_none() {
            e.architecture = cfg
                .get("architectures")
                .and_then(|a| a.get(0))
                .and_then(|a| a.as_str())
                .or_else(|| cfg.get("model_type").and_then(|m| m.as_str()))
                .map(str::to_owned);
        }
        if e.context_length.is_none() {
            e.context_length = ["max_position_embeddings", "n_positions", "max_seq_len", "seq_length"]
                .iter()
                .find_map(|k| cfg.get(*k).and_then(|v| v.as_u64()));
        }
    }
    for (name, t) in crate::scan::template_files::in_folder(dir) {
        e.templates.push(Template {
            name,
            sha256: sha256_hex(t.as_bytes()),
        });
    }
    if e.license.is_none()
        && let Some(readme) = side_file(dir, "README.md")
    {
        e.license = front_matter_license(&String::from_utf8_lossy(&readme));
    }
}

/// `license:` of a README's YAML front matter (`---` … `---` at the top).
fn front_matter_license(text: &str) -> Option<String> {
    let mut lines = text.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    for line in lines {
        if line.trim_end() == "---" {
            return None;
        }
        if let Some(v) = line.strip_prefix("license:") {
            let v = v.trim().trim_matches(['"', '\'']);
            return (!v.is_empty()).then(|| v.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_from_front_matter() {
        assert_eq!(
            front_matter_license("---\nlanguage: en\nlicense: apache-2.0\n---\n# x"),
            Some("apache-2.0".into())
        );
        assert_eq!(front_matter_license("# title\nlicense: mit\n"), None);
        assert_eq!(front_matter_license("---\ntags: []\n---\nlicense: mit\n"), None);
    }

    #[test]
    fn schemes_in_words() {
        assert_eq!(
            describe(&Quant::Gptq {
                bits: 4,
                group: Some(128)
            }),
            "GPTQ 4-bit, group 128"
        );
        assert_eq!(describe(&Quant::Bnb8), "bitsandbytes 8-bit");
    }
}
