//! Compare two checkpoints tensor by tensor, whatever their formats: names only in one, dtype or
//! shape changes, and for common tensors whether their elements are equal and, when not, the maximum
//! absolute and relative difference and the cosine similarity of their values, judged by the rounding
//! tolerance of the narrower dtype of each pair ([`tolerance`]): an F16 export of an F32 model is
//! [`Verdict::WithinTolerance`] when every value is within F16's rounding.
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
use std::os::unix::fs::MetadataExt;

use serde::Serialize;

use crate::checkpoint::{Checkpoint, DType, TensorInfo};
use crate::convert::plan::safetensors_view;
use crate::tensor::equal::{file_ranges_equal, tensors_equal};
use crate::tensor::read::TensorReader;
use crate::{Error, Result};

mod labels;
pub mod tolerance;
mod values;

pub use labels::cosine_label;
pub use tolerance::{Tolerance, ToleranceGroup, Verdict};

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
    /// The tensor's name: A's, or B's where A holds the tensor only as an alias (then `a_name`).
    pub name: String,
    /// Name in A when it differs: A's metadata records `name` as written once as this tensor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a_name: Option<String>,
    /// Name in B when it differs: B's metadata records `name` as written once as this tensor.
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
    /// Largest |a - b| over the elements (NaN matching NaN and an infinity the same infinity count as
    /// no difference): infinite when an element differs by an infinity (an F16 overflow), NaN when a
    /// NaN differs from a number and no element differs by an infinity. JSON: `null` then, and
    /// `not_finite` says which. `None` (JSON `null`, not in `not_finite`) when elements differ whose
    /// values cannot be decoded (torch's quantized dtypes: only their bytes are known).
    pub max_abs_diff: Option<f64>,
    /// Mean |a - b| over the elements finite on both sides; NaN when a NaN differs from a value, else
    /// infinite when an infinity differs (JSON: `null`, named in `not_finite`); `None` where
    /// `max_abs_diff` is.
    pub mean_abs_diff: Option<f64>,
    /// Largest |a - b| / |a| over the elements that differ where |a| is finite and at least the smallest
    /// normal number of the narrower dtype (below it rounding steps are absolute: see `atol`);
    /// infinite when such an |a| meets an infinity in B, NaN when it meets a NaN. 0 when every element
    /// is the same; `null` when elements differ but no relative difference could be measured (A is 0
    /// there, or not finite), or when the dtype's values cannot be decoded.
    pub max_rel_diff: Option<f64>,
    /// The fields above that are `null` in JSON because their value is not a finite number, with
    /// that value: `{"max_abs_diff": "inf", "mean_abs_diff": "inf", "max_rel_diff": "inf"}`, or
    /// `"nan"`. Left out when there is none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub not_finite: BTreeMap<&'static str, &'static str>,
    /// a·b / (|a| |b|); `null` when either side is all zeros, when a NaN or an infinity differs
    /// (torch's cosine is NaN then), or when values of the dtype cannot be decoded (torch's
    /// quantized dtypes: then only `equal` is known).
    pub cosine_similarity: Option<f64>,
    /// 1 − cosine, computed without cancellation, so that it keeps its digits where the cosine rounds
    /// to 1 (an F16 export: about 1e-8); `null` where the cosine is.
    pub one_minus_cosine: Option<f64>,
    /// Elements that differ where either side is NaN or infinite.
    pub nonfinite_mismatches: u64,
    /// The tolerance the values are judged by (the narrower dtype's rounding, as
    /// `torch.testing.assert_close`); `null` for dtypes without one (GGML blocks, torch-only dtypes),
    /// where only equal values pass.
    pub tolerance: Option<Tolerance>,
    /// Whether every element of B is within the tolerance of A's: `|a − b| ≤ atol + rtol·|a|`, NaN
    /// matching NaN and an infinity the same infinity.
    pub within_tolerance: bool,
    /// Elements outside the tolerance.
    pub outside_tolerance: u64,
}

impl TensorDiff {
    /// The comparison of a tensor whose elements are all equal on both sides.
    fn equal(t: &TensorInfo, b_name: Option<String>, tolerance: Option<Tolerance>) -> TensorDiff {
        TensorDiff {
            name: t.name.clone(),
            a_name: None,
            b_name,
            dtype: t.dtype,
            b_dtype: None,
            shape: t.shape.clone(),
            equal: true,
            max_abs_diff: Some(0.0),
            mean_abs_diff: Some(0.0),
            max_rel_diff: Some(0.0),
            not_finite: BTreeMap::new(),
            cosine_similarity: Some(1.0),
            one_minus_cosine: Some(0.0),
            nonfinite_mismatches: 0,
            tolerance,
            within_tolerance: true,
            outside_tolerance: 0,
        }
    }
}

/// The named values that are not finite numbers (`inf`, `nan`): serde_json writes them as `null`, and
/// this map says why.
fn not_finite(values: &[(&'static str, Option<f64>)]) -> BTreeMap<&'static str, &'static str> {
    values
        .iter()
        .filter_map(|&(name, v)| match v {
            Some(x) if x.is_nan() => Some((name, "nan")),
            Some(x) if x.is_infinite() => Some((name, if x > 0.0 { "inf" } else { "-inf" })),
            _ => None,
        })
        .collect()
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
    /// The answer: identical, equal within the narrower dtype's rounding, or different.
    pub verdict: Verdict,
    /// The two checkpoints are the same files, byte for byte.
    pub files_identical: bool,
    /// Tensors only in A.
    pub only_in_a: Vec<Brief>,
    /// Tensors only in B.
    pub only_in_b: Vec<Brief>,
    /// Common names with another dtype (and shape) or another shape. A dtype change alone is also a
    /// row of `tensors` (its values are compared); a shape change is not.
    pub changed: Vec<Change>,
    /// Common names that are part of a tensor not rebuilt (a sparse tensor's indices or values) on
    /// one side only, or of another one: `[name, what it is part of in A, in B]` (`null`: a tensor of
    /// its own). A sparse tensor and the dense tensors written from its parts are not the same model.
    pub parts_differ: Vec<(String, Option<String>, Option<String>)>,
    /// Common tensors compared.
    pub compared: usize,
    /// How many of them are equal.
    pub equal: usize,
    /// How many differ.
    pub different: usize,
    /// The compared tensors by the tolerance they are judged by, narrowest dtype first.
    pub tolerances: Vec<ToleranceGroup>,
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
        verdict: Verdict::Different,
        files_identical,
        only_in_a: Vec::new(),
        only_in_b: Vec::new(),
        changed: Vec::new(),
        parts_differ: Vec::new(),
        compared: 0,
        equal: 0,
        different: 0,
        tolerances: Vec::new(),
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
        let (pa, pb) = (a.part_of(&ta.name), b.part_of(&tb.name));
        if pa != pb {
            report
                .parts_differ
                .push((ta.name.clone(), pa.map(str::to_owned), pb.map(str::to_owned)));
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
            TensorDiff::equal(ta, b_name, Tolerance::for_pair(ta.dtype, tb.dtype))
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
                // named as the model names it (B's name), with the tensor A stores it as
                let mut d = compare(&ra, ta, &rb, tb, None)?;
                d.name = tb.name.clone();
                d.a_name = Some(kept.clone());
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
        && report.parts_differ.is_empty()
        && report.different == 0;
    report.tolerances = groups(&report.tensors);
    let same_shapes = report.changed.iter().all(|c| c.a.shape == c.b.shape);
    report.verdict = if report.identical {
        Verdict::Identical
    } else if report.only_in_a.is_empty()
        && report.only_in_b.is_empty()
        && report.parts_differ.is_empty()
        && same_shapes
        && report.tensors.iter().all(|t| t.within_tolerance)
    {
        Verdict::WithinTolerance
    } else {
        Verdict::Different
    };
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

/// Names a checkpoint's metadata records as written once under another name: `dropped -> kept`,
/// where `dropped` is not a tensor and `kept` is. In a folder of several files or a diffusers pipeline
/// each file's metadata keys carry the same prefix as its tensors (`unet/lm_head` → `wte` names
/// `unet/wte`), so the value is read under each prefix of the key, longest first.
fn aliases(ck: &Checkpoint, names: &ByName<'_>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in &ck.metadata {
        if names.contains_key(k.as_str()) {
            continue;
        }
        let cuts = k.match_indices('/').map(|(i, _)| i + 1).rev().chain([0]);
        for cut in cuts {
            let kept = format!("{}{v}", &k[..cut]);
            if names.contains_key(kept.as_str()) {
                out.insert(k.clone(), kept);
                break;
            }
        }
    }
    out
}

fn metadata_diff(
    a: &Checkpoint,
    b: &Checkpoint,
    a_alias: &HashMap<String, String>,
    b_alias: &HashMap<String, String>,
) -> MetadataDiff {
    // the converter's own key, `format`, also under a file's or component's prefix
    let ours = |k: &str| k == "format" || k.ends_with("/format");
    let keep = |alias: &HashMap<String, String>, ck: &Checkpoint| -> BTreeMap<String, String> {
        ck.metadata
            .iter()
            .filter(|(k, _)| !ours(k) && !alias.contains_key(k.as_str()))
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
/// counterpart (compared through mapped windows on every core, without decoding anything).
fn same_files(a: &Checkpoint, b: &Checkpoint) -> Result<bool> {
    let real = |ck: &Checkpoint| -> Vec<usize> { (0..ck.files.len()).filter(|&i| ck.files[i].bytes > 0).collect() };
    let (fa, fb) = (real(a), real(b));
    if fa.len() != fb.len() || fa.iter().zip(&fb).any(|(&i, &j)| a.files[i].bytes != b.files[j].bytes) {
        return Ok(false);
    }
    if a.tensors.len() != b.tensors.len() {
        return Ok(false);
    }
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
        if (ma.len(), mb.len()) != (a.files[i].bytes, b.files[j].bytes) {
            return Ok(false); // changed since it was opened
        }
        if !file_ranges_equal((&file_a, pa, 0), (&file_b, pb, 0), a.files[i].bytes)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The compared tensors grouped by tolerance (the narrower dtype of each pair), narrowest first, then
/// in order of appearance; tensors without a tolerance are in no group.
fn groups(tensors: &[TensorDiff]) -> Vec<ToleranceGroup> {
    let mut out: Vec<ToleranceGroup> = Vec::new();
    let mut index: HashMap<DType, usize> = HashMap::new();
    for t in tensors {
        let Some(tol) = t.tolerance else { continue };
        let i = *index.entry(tol.dtype).or_insert_with(|| {
            out.push(ToleranceGroup {
                tolerance: tol,
                tensors: 0,
                within: 0,
                max_rel_diff: None,
                not_finite: BTreeMap::new(),
            });
            out.len() - 1
        });
        let g = &mut out[i];
        // pairs named by one dtype can differ in their other member (F16 against F32 or F64): the
        // group states the loosest
        g.tolerance.rtol = g.tolerance.rtol.max(tol.rtol);
        g.tolerance.atol = g.tolerance.atol.max(tol.atol);
        g.tensors += 1;
        g.within += usize::from(t.within_tolerance);
        if let Some(r) = t.max_rel_diff {
            g.max_rel_diff = Some(g.max_rel_diff.map_or(r, |m| values::largest(m, r)));
        }
    }
    for g in &mut out {
        g.not_finite = not_finite(&[("max_rel_diff", g.max_rel_diff)]);
    }
    out.sort_by(|a, b| b.tolerance.rtol.total_cmp(&a.tolerance.rtol));
    out
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
    let tol = Tolerance::for_pair(ta.dtype, tb.dtype);
    if b_dtype.is_none() && tensors_equal(ra, ta, rb, tb)? {
        return Ok(TensorDiff::equal(ta, b_name, tol));
    }
    let mut d = values::value_diff(ra, ta, rb, tb, tol)?;
    d.b_name = b_name;
    d.b_dtype = b_dtype;
    Ok(d)
}
