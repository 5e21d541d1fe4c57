//! The `inspect --json` document: a checkpoint's files, tensors, metadata and counts, as one
//! serialisable value (the schema in DESIGN.md and README.md). `tensorscope inspect --json` prints it
//! and the TUI's Tensors tab exports it, so the two are the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Checkpoint, Component, layout};
use crate::model::count::{Counting, Role};
use crate::remote::Env;
use crate::text::{count, escape};

/// The `inspect --json` document of one checkpoint.
#[derive(Serialize)]
pub struct Summary<'a> {
    path: String,
    format: &'static str,
    files: Vec<FileJson>,
    metadata: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<&'a Component>,
    tensors: Vec<TensorJson<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    /// Parameters as the model defines them (DESIGN.md, "Counting").
    total_params: u64,
    /// Bytes of the tensors as listed (a tied tensor again).
    total_bytes: u64,
    /// Elements as stored, each storage view once.
    stored_elements: u64,
    /// Saved buffers among the tensors (not counted in `total_params`).
    buffers: usize,
    /// Bytes on disk, each storage once.
    unique_bytes: u64,
    /// How packed weights were counted, one entry per scheme.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    quantization: Vec<Scheme>,
    /// Where the count disagrees with an index's declared totals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    count_disagreements: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<Remote>,
    /// A Hugging Face cache path: the repository and the revision it resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    hub: Option<HubJson>,
}

#[derive(Serialize)]
struct HubJson {
    repo: String,
    revision: String,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// Where a remote checkpoint came from and what it costs to download.
#[derive(Debug, Clone, Serialize)]
pub struct Remote {
    /// The remote path as given.
    pub url: String,
    /// The revision asked for (`main`), `None` for a URL.
    pub revision: Option<String>,
    /// The commit it resolved to (or a URL's ETag).
    pub commit: Option<String>,
    /// Bytes of the files this checkpoint is made of.
    pub download_bytes: u64,
    /// Bytes of every file of the repository.
    pub repository_bytes: u64,
    /// Every file of the repository with its size.
    pub files: Vec<FileSize>,
    /// Bytes and requests this run fetched (0 when everything came from the cache).
    pub fetched_bytes: u64,
    /// HTTP requests this run made.
    pub requests: u64,
}

/// A file of a remote repository and its size.
#[derive(Debug, Clone, Serialize)]
pub struct FileSize {
    /// Its path inside the repository.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
}

impl Remote {
    /// Where `ck` came from, when `env` opened it from a remote path; `None` for a local checkpoint.
    pub fn of(ck: &Checkpoint, env: &Env) -> Option<Remote> {
        let m = env.mirror_of(ck)?;
        let (requests, fetched_bytes) = env.traffic();
        Some(Remote {
            url: m.label.clone(),
            revision: m.revision.clone(),
            commit: m.commit.clone(),
            download_bytes: ck.files.iter().map(|f| f.bytes).fold(0, u64::saturating_add),
            repository_bytes: m.total_bytes(),
            files: m
                .files
                .iter()
                .map(|f| FileSize {
                    path: f.rel.clone(),
                    bytes: f.size,
                })
                .collect(),
            fetched_bytes,
            requests,
        })
    }
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    format: &'static str,
    bytes: u64,
}

#[derive(Serialize)]
struct TensorJson<'a> {
    name: &'a str,
    dtype: &'a str,
    shape: &'a [u64],
    bytes: u64,
    /// GGML block types only: storage bits per weight (`Q4_K`: 4.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    bits_per_weight: Option<f64>,
    file: String,
    /// The tensor whose storage and view this one shares (counted once, there).
    #[serde(skip_serializing_if = "Option::is_none")]
    tied_to: Option<&'a str>,
    /// Parameters it counts for, where that is not its element count: packed weights unpacked,
    /// 0 for scales, zeros and other quantization tensors.
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<u64>,
    /// The packing scheme of a packed weight, or `quantization` for a tensor that serves one.
    #[serde(skip_serializing_if = "Option::is_none")]
    quantization: Option<String>,
    /// A saved buffer (running statistics, `position_ids`, a causal mask): `params` is 0.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    buffer: bool,
    /// What it is part of, when it is part of a tensor not rebuilt (`sparse_coo tensor emb`: its
    /// indices or values), not a tensor of the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    part_of: Option<&'a str>,
}

/// One packing scheme: how many tensors, what they store, what they count for.
#[derive(Debug, Clone, Serialize)]
pub struct Scheme {
    /// The scheme's name (`gptq`, `awq`, `bnb-4bit`, …).
    pub scheme: String,
    /// Tensors packed with it.
    pub tensors: usize,
    /// Their elements as stored.
    pub stored_elements: u64,
    /// The parameters they count for, unpacked.
    pub params: u64,
    /// How it counted (`qweight 64×256 I32 × 8 = 131,072 params`).
    pub formula: String,
}

/// The packing schemes of a count, in order of first appearance, with their formulas.
pub fn schemes(ck: &Checkpoint, c: &Counting) -> Vec<Scheme> {
    let mut out: Vec<Scheme> = Vec::new();
    let mut per_of: Vec<crate::model::count::Per> = Vec::new();
    let mut first: Vec<usize> = Vec::new();
    for (i, r) in c.roles.iter().enumerate() {
        let Role::Packed { params, per, scheme } = r else {
            continue;
        };
        let numel = ck.tensors.get(i).and_then(|t| t.numel()).unwrap_or(0);
        match out.iter().position(|s| &s.scheme == scheme) {
            Some(k) => {
                out[k].tensors += 1;
                out[k].stored_elements = out[k].stored_elements.saturating_add(numel);
                out[k].params = out[k].params.saturating_add(*params);
            }
            None => {
                out.push(Scheme {
                    scheme: scheme.clone(),
                    tensors: 1,
                    stored_elements: numel,
                    params: *params,
                    formula: String::new(),
                });
                per_of.push(*per);
                first.push(i);
            }
        }
    }
    for (k, s) in out.iter_mut().enumerate() {
        let t = &ck.tensors[first[k]];
        let last = t.name.rsplit(['.', '/']).next().unwrap_or(&t.name);
        s.formula = if s.tensors == 1 {
            let dims: Vec<String> = t.shape.iter().map(u64::to_string).collect();
            format!(
                "{} {} {} × {} = {} params",
                escape(last),
                dims.join("×"),
                t.dtype,
                per_of[k],
                count(s.params)
            )
        } else {
            format!(
                "{} {} tensors ({} {} elements) × {} = {} params",
                s.tensors,
                escape(last),
                count(s.stored_elements),
                t.dtype,
                per_of[k],
                count(s.params)
            )
        };
    }
    out
}

impl<'a> Summary<'a> {
    /// The document for `ck`; `remote` says where a remote checkpoint came from ([`Remote::of`]).
    pub fn new(ck: &'a Checkpoint, remote: Option<Remote>) -> Self {
        let counting = ck.counting();
        let file_name = |i: usize| {
            ck.files
                .get(i)
                .map(|f| f.path.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Summary {
            path: ck.path.to_string_lossy().into_owned(),
            format: ck.format.as_str(),
            files: ck
                .files
                .iter()
                .map(|f| FileJson {
                    path: f.path.to_string_lossy().into_owned(),
                    format: f.format.as_str(),
                    bytes: f.bytes,
                })
                .collect(),
            metadata: ck.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            components: ck.components.iter().collect(),
            tensors: ck
                .tensors
                .iter()
                .zip(&counting.roles)
                .map(|(t, role)| TensorJson {
                    name: &t.name,
                    dtype: t.dtype.name(),
                    shape: &t.shape,
                    bytes: t.nbytes().unwrap_or(0),
                    bits_per_weight: t.dtype.is_ggml_block().then(|| t.dtype.bits_per_weight()).flatten(),
                    file: file_name(t.file),
                    tied_to: match role {
                        Role::Tied(j) => ck.tensors.get(*j).map(|x| x.name.as_str()),
                        _ => None,
                    },
                    params: match role {
                        Role::Packed { params, .. } => Some(*params),
                        Role::Quantization | Role::Buffer => Some(0),
                        _ => None,
                    },
                    quantization: match role {
                        Role::Packed { scheme, .. } => Some(scheme.clone()),
                        Role::Quantization => Some("quantization".into()),
                        _ => None,
                    },
                    buffer: matches!(role, Role::Buffer),
                    part_of: ck.part_of(&t.name),
                })
                .collect(),
            warnings: &ck.warnings,
            total_params: counting.params,
            total_bytes: ck.total_bytes(),
            stored_elements: counting.stored_elements,
            buffers: counting.buffers(),
            unique_bytes: counting.unique_bytes,
            quantization: schemes(ck, &counting),
            count_disagreements: counting.disagreements.clone(),
            remote,
            hub: layout::hub_snapshot(&ck.path).map(|h| HubJson {
                repo: h.repo,
                revision: h.revision,
                reference: h.reference,
            }),
        }
    }

    /// The document as `inspect --json` prints it: pretty JSON and a final newline.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self).map(|s| s + "\n")
    }
}
