//! Compare two checkpoints tensor by tensor, whatever their formats: names only in one, dtype or
//! shape changes, and for common tensors whether their elements are equal and, when not, the maximum
//! and mean absolute difference and the cosine similarity of their values.
//!
//! Bytes first: when both checkpoints are the same files byte for byte, every tensor is equal and
//! nothing is decoded (disk speed); otherwise each common tensor's materialised bytes are compared in
//! chunks, and values are decoded only for tensors whose bytes differ. The converter verifies its
//! output with [`crate::tensor::equal::tensors_equal`], the same comparison.
//!
//! Names the converter wrote once are resolved: when a name is missing on one side and that side's
//! metadata maps it to a tensor it holds (`"lm_head.weight": "wte.weight"`), the two are compared.
//!
//! ```no_run
//! use tensorscope::{checkpoint, diff};
//! let a = checkpoint::open("samples/gpt2-tiny.safetensors")?;
//! let b = checkpoint::open("samples/sharded")?;
//! assert!(diff::diff(&a, &b)?.identical);
//! # Ok::<(), tensorscope::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::{FileExt, MetadataExt};

use serde::Serialize;

use crate::checkpoint::{Checkpoint, DType, TensorInfo};
use crate::convert::plan::safetensors_view;
use crate::tensor::decode;
use crate::tensor::equal::{COMPARE_CHUNK_BYTES, tensors_equal};
use crate::tensor::read::TensorReader;
use crate::{Error, Result};

/// A tensor seen on one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Brief {
    /// Name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<u64>,
}

/// A common name whose dtype or shape differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Name (in A).
    pub name: String,
    /// Dtype and shape in A.
    pub a: Brief,
    /// Dtype and shape in B.
    pub b: Brief,
}

/// The comparison of one common tensor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorDiff {
    /// Name in A.
    pub name: String,
    /// Name in B when it differs (an alias resolved through B's metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b_name: Option<String>,
    /// Dtype in A.
    pub dtype: DType,
    /// Dtype in B when it differs (values are still compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b_dtype: Option<DType>,
    /// Shape.
    pub shape: Vec<u64>,
    /// Whether every element is equal (same bytes, or same values when the dtypes differ).
    pub equal: bool,
    /// Largest |a - b| over elements finite on both sides.
    pub max_abs_diff: f64,
    /// Mean |a - b| over elements finite on both sides.
    pub mean_abs_diff: f64,
    /// a·b / (|a| |b|); `null` when either side is all zeros, or when values of the dtype cannot be
    /// decoded (torch-only dtypes: then only `equal` is known, and the differences are 0).
    pub cosine_similarity: Option<f64>,
    /// Elements that differ where either side is NaN or infinite.
    pub nonfinite_mismatches: u64,
}

/// Metadata keys that differ (the converter's own keys, `format` and aliases, are left out).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetadataDiff {
    /// Keys only in A.
    pub only_in_a: BTreeMap<String, String>,
    /// Keys only in B.
    pub only_in_b: BTreeMap<String, String>,
    /// Keys in both with different values: `[a, b]`.
    pub changed: BTreeMap<String, (String, String)>,
}

/// The comparison of two checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// Path of A.
    pub a: String,
    /// Path of B.
    pub b: String,
    /// No tensor only on one side, no change, every common tensor equal.
    pub identical: bool,
    /// The two checkpoints are the same files, byte for byte.
    pub files_identical: bool,
    /// Tensors only in A.
    pub only_in_a: Vec<Brief>,
    /// Tensors only in B.
    pub only_in_b: Vec<Brief>,
    /// Common names with another dtype (and shape) or another shape.
    pub changed: Vec<Change>,
    /// Common tensors compared.
    pub compared: usize,
    /// How many of them are equal.
    pub equal: usize,
    /// How many differ.
    pub different: usize,
    /// Every compared tensor, in A's order.
    pub tensors: Vec<TensorDiff>,
    /// Metadata differences (reported, not counted as a difference of the checkpoints).
    pub metadata: MetadataDiff,
}

/// Compare checkpoints `a` and `b`.
///
/// Torch's `float4_e2m1fn_x2` is compared as the `F4` view safetensors stores it as
/// ([`crate::convert::plan::safetensors_view`]).
pub fn diff(a: &Checkpoint, b: &Checkpoint) -> Result<DiffReport> {
    // a remote checkpoint's tensor data is fetched first (within the per-command byte limit)
    a.fetch_all()?;
    b.fetch_all()?;
    let (ra, rb) = (TensorReader::new(a), TensorReader::new(b));
    let files_identical = same_files(a, b)?;
    // borrowed unless a view must change (F4 pairs): no copy of a million tensors
    let a_tensors: Vec<std::borrow::Cow<'_, TensorInfo>> = a.tensors.iter().map(safetensors_view).collect();
    let b_tensors: Vec<std::borrow::Cow<'_, TensorInfo>> = b.tensors.iter().map(safetensors_view).collect();
    let b_by_name = by_name(&b_tensors);
    let a_by_name = by_name(&a_tensors);
    let a_alias = aliases(a, &a_by_name);
    let b_alias = aliases(b, &b_by_name);
    let mut report = DiffReport {
        a: a.path.to_string_lossy().into_owned(),
        b: b.path.to_string_lossy().into_owned(),
        identical: false,
        files_identical,
        only_in_a: Vec::new(),
        only_in_b: Vec::new(),
        changed: Vec::new(),
        compared: 0,
        equal: 0,
        different: 0,
        tensors: Vec::new(),
        metadata: metadata_diff(a, b, &a_alias, &b_alias),
    };
    let mut matched_b = crate::model::names::NameSet::with_capacity_and_hasher(b_tensors.len(), Default::default());
    for ta in a_tensors.iter().map(|t| t.as_ref()) {
        let (tb, b_name) = match b_by_name.get(ta.name.as_str()) {
            Some(tb) => (*tb, None),
            None => match b_alias.get(ta.name.as_str()) {
                Some(kept) => (b_by_name[kept.as_str()], Some(kept.clone())),
                None => {
                    report.only_in_a.push(brief(ta));
                    continue;
                }
            },
        };
        if b_name.is_none() {
            matched_b.insert(tb.name.as_str());
        }
        if ta.shape != tb.shape {
            report.changed.push(Change {
                name: ta.name.clone(),
                a: brief(ta),
                b: brief(tb),
            });
            continue;
        }
        let d = if files_identical && ta == tb {
            equal_diff(ta, b_name)
        } else {
            compare(&ra, ta, &rb, tb, b_name)?
        };
        if ta.dtype != tb.dtype {
            report.changed.push(Change {
                name: ta.name.clone(),
                a: brief(ta),
                b: brief(tb),
            });
        }
        report.compared += 1;
        if d.equal {
            report.equal += 1;
        } else {
            report.different += 1;
        }
        report.tensors.push(d);
    }
    for tb in b_tensors.iter().map(|t| t.as_ref()) {
        if matched_b.contains(tb.name.as_str()) {
            continue;
        }
        // a name of B that A holds only as an alias of another tensor
        if let Some(kept) = a_alias.get(tb.name.as_str()) {
            let ta = a_by_name[kept.as_str()];
            if ta.shape == tb.shape {
                let mut d = compare(&ra, ta, &rb, tb, Some(tb.name.clone()))?;
                d.name = kept.clone();
                report.compared += 1;
                if d.equal {
                    report.equal += 1;
                } else {
                    report.different += 1;
                }
                report.tensors.push(d);
                continue;
            }
        }
        if !a_by_name.contains_key(tb.name.as_str()) {
            report.only_in_b.push(brief(tb));
        }
    }
    report.identical = report.only_in_a.is_empty()
        && report.only_in_b.is_empty()
        && report.changed.is_empty()
        && report.different == 0;
    // a file truncated by another process while it was compared read partly as zeros
    a.check_intact()?;
    b.check_intact()?;
    Ok(report)
}

/// Tensors by name, hashed with the fast hasher of [`crate::model::names`].
type ByName<'a> = HashMap<&'a str, &'a TensorInfo, std::hash::BuildHasherDefault<crate::model::names::NameHasher>>;

fn by_name<'a>(tensors: &'a [std::borrow::Cow<'_, TensorInfo>]) -> ByName<'a> {
    let mut map = ByName::with_capacity_and_hasher(tensors.len(), Default::default());
    for t in tensors {
        map.insert(t.name.as_str(), t.as_ref());
    }
    map
}

fn brief(t: &TensorInfo) -> Brief {
    Brief {
        name: t.name.clone(),
        dtype: t.dtype,
        shape: t.shape.clone(),
    }
}

fn equal_diff(t: &TensorInfo, b_name: Option<String>) -> TensorDiff {
    TensorDiff {
        name: t.name.clone(),
        b_name,
        dtype: t.dtype,
        b_dtype: None,
        shape: t.shape.clone(),
        equal: true,
        max_abs_diff: 0.0,
        mean_abs_diff: 0.0,
        cosine_similarity: Some(1.0),
        nonfinite_mismatches: 0,
    }
}

/// Names a checkpoint's metadata records as written once under another name: `dropped -> kept`,
/// where `dropped` is not a tensor and `kept` is. In a diffusers folder the metadata of each component
/// names its tensors without the component prefix, so `unet/` + key is tried too.
fn aliases(ck: &Checkpoint, names: &ByName<'_>) -> HashMap<String, String> {
    let mut prefixes = vec![String::new()];
    prefixes.extend(ck.components.iter().map(|c| format!("{}/", c.name)));
    let mut out = HashMap::new();
    for (k, v) in &ck.metadata {
        for p in &prefixes {
            let (dropped, kept) = (format!("{p}{k}"), format!("{p}{v}"));
            if !names.contains_key(dropped.as_str()) && names.contains_key(kept.as_str()) {
                out.insert(dropped, kept);
            }
        }
    }
    out
}

/// Metadata keys that record an alias (with or without a component prefix).
fn alias_keys(ck: &Checkpoint, alias: &HashMap<String, String>) -> std::collections::HashSet<String> {
    ck.metadata
        .iter()
        .filter(|(k, _)| {
            alias.contains_key(k.as_str()) || alias.keys().any(|d| d.rsplit_once('/').is_some_and(|(_, r)| r == k))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

fn metadata_diff(
    a: &Checkpoint,
    b: &Checkpoint,
    a_alias: &HashMap<String, String>,
    b_alias: &HashMap<String, String>,
) -> MetadataDiff {
    let keep = |alias: &HashMap<String, String>, ck: &Checkpoint| -> BTreeMap<String, String> {
        let skip = alias_keys(ck, alias);
        ck.metadata
            .iter()
            .filter(|(k, _)| k != "format" && !skip.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (ma, mb) = (keep(a_alias, a), keep(b_alias, b));
    let mut out = MetadataDiff::default();
    for (k, v) in &ma {
        match mb.get(k) {
            None => {
                out.only_in_a.insert(k.clone(), v.clone());
            }
            Some(w) if w != v => {
                out.changed.insert(k.clone(), (v.clone(), w.clone()));
            }
            Some(_) => {}
        }
    }
    for (k, v) in &mb {
        if !ma.contains_key(k) {
            out.only_in_b.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Whether the two checkpoints consist of the same number of files, each byte-identical to its
/// counterpart (read in chunks, without decoding anything).
fn same_files(a: &Checkpoint, b: &Checkpoint) -> Result<bool> {
    let real = |ck: &Checkpoint| -> Vec<usize> { (0..ck.files.len()).filter(|&i| ck.files[i].bytes > 0).collect() };
    let (fa, fb) = (real(a), real(b));
    if fa.len() != fb.len() || fa.iter().zip(&fb).any(|(&i, &j)| a.files[i].bytes != b.files[j].bytes) {
        return Ok(false);
    }
    if a.tensors.len() != b.tensors.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; COMPARE_CHUNK_BYTES], vec![0u8; COMPARE_CHUNK_BYTES]);
    for (&i, &j) in fa.iter().zip(&fb) {
        let (pa, pb) = (a.file_path(i), b.file_path(j));
        let file_a = std::fs::File::open(pa).map_err(|e| Error::io(pa, e))?;
        let file_b = std::fs::File::open(pb).map_err(|e| Error::io(pb, e))?;
        let (ma, mb) = (
            file_a.metadata().map_err(|e| Error::io(pa, e))?,
            file_b.metadata().map_err(|e| Error::io(pb, e))?,
        );
        if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) {
            continue; // the same file
        }
        let len = a.files[i].bytes;
        let mut at = 0u64;
        while at < len {
            let n = (len - at).min(ba.len() as u64) as usize;
            file_a.read_exact_at(&mut ba[..n], at).map_err(|e| Error::io(pa, e))?;
            file_b.read_exact_at(&mut bb[..n], at).map_err(|e| Error::io(pb, e))?;
            if ba[..n] != bb[..n] {
                return Ok(false);
            }
            at += n as u64;
        }
    }
    Ok(true)
}

/// Compare two tensors of the same shape: bytes first, values when the bytes (or dtypes) differ.
fn compare(
    ra: &TensorReader<'_>,
    ta: &TensorInfo,
    rb: &TensorReader<'_>,
    tb: &TensorInfo,
    b_name: Option<String>,
) -> Result<TensorDiff> {
    let b_dtype = (ta.dtype != tb.dtype).then_some(tb.dtype);
    if b_dtype.is_none() && tensors_equal(ra, ta, rb, tb)? {
        return Ok(equal_diff(ta, b_name));
    }
    let mut d = value_diff(ra, ta, rb, tb)?;
    d.b_name = b_name;
    d.b_dtype = b_dtype;
    Ok(d)
}

/// Decode both tensors to `f64` in chunks and accumulate the difference statistics.
fn value_diff(ra: &TensorReader<'_>, ta: &TensorInfo, rb: &TensorReader<'_>, tb: &TensorInfo) -> Result<TensorDiff> {
    ra.check_view(ta)?;
    rb.check_view(tb)?;
    let numel = ta.numel().unwrap_or(0);
    if !decodable(ta.dtype) || !decodable(tb.dtype) {
        // torch-only dtypes (complex128, …) have no decoder: equal or not, no statistics
        let equal = ta.dtype == tb.dtype && tensors_equal(ra, ta, rb, tb)?;
        let mut d = equal_diff(ta, None);
        d.equal = equal;
        d.cosine_similarity = equal.then_some(1.0);
        return Ok(d);
    }
    let step = TensorReader::chunk_elems(ta, COMPARE_CHUNK_BYTES)
        .min(TensorReader::chunk_elems(tb, COMPARE_CHUNK_BYTES))
        .min(1 << 16);
    let (mut ba, mut bb, mut va, mut vb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut max, mut sum, mut n_finite, mut dot, mut na, mut nb, mut bad) = (0f64, 0f64, 0u64, 0f64, 0f64, 0f64, 0u64);
    let mut equal = true;
    let mut at = 0u64;
    while at < numel {
        let n = step.min(numel - at);
        decode_chunk(ta.dtype, ra.read_elems(ta, at, n, &mut ba)?, n as usize, &mut va);
        decode_chunk(tb.dtype, rb.read_elems(tb, at, n, &mut bb)?, n as usize, &mut vb);
        for (&x, &y) in va.iter().zip(&vb) {
            let same = x == y || (x.is_nan() && y.is_nan());
            equal &= same;
            if x.is_finite() && y.is_finite() {
                let d = (x - y).abs();
                max = max.max(d);
                sum += d;
                n_finite += 1;
                dot += x * y;
                na += x * x;
                nb += y * y;
            } else if !same {
                bad += 1;
            }
        }
        at += n;
    }
    let cosine = (na > 0.0 && nb > 0.0).then(|| (dot / (na.sqrt() * nb.sqrt())).clamp(-1.0, 1.0));
    Ok(TensorDiff {
        name: ta.name.clone(),
        b_name: None,
        dtype: ta.dtype,
        b_dtype: None,
        shape: ta.shape.clone(),
        equal,
        max_abs_diff: max,
        mean_abs_diff: if n_finite > 0 { sum / n_finite as f64 } else { 0.0 },
        cosine_similarity: if equal && na == 0.0 && nb == 0.0 {
            Some(1.0)
        } else {
            cosine
        },
        nonfinite_mismatches: bad,
    })
}

fn decodable(d: DType) -> bool {
    decode::lanes(d).is_some()
}

/// Decode `n` contiguous elements of `dtype` from `bytes` into `out` as `f64` (C64 as its magnitude).
fn decode_chunk(dtype: DType, bytes: &[u8], n: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(n, f64::NAN);
    if decode::lanes(dtype) == Some(decode::Lanes::F32) {
        let mut tmp = vec![0f32; n];
        if decode::fill_f32(dtype, bytes, 0, 1, &mut tmp) {
            out.iter_mut().zip(&tmp).for_each(|(o, &x)| *o = f64::from(x));
        }
    } else {
        decode::fill_f64(dtype, bytes, 0, 1, out);
    }
}
