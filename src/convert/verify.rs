//! Verification: every written file is reopened through the ordinary reader as soon as its header is
//! written (the file is preallocated to its final size, so the reader's size checks hold) and its
//! names, dtypes, shapes and metadata are checked against the plan. Then, as the writer goes, each
//! chunk is read back from the output at the offset the reopened header gives and compared byte for
//! byte with the source view's chunk ([`crate::tensor::read::ReadBack`]); each name written once for several
//! (an alias) is compared with the written tensor separately ([`check_alias`]). Nothing is published
//! before every comparison has passed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::plan::{FilePlan, UnitPlan};
use crate::checkpoint::{self, Checkpoint, TensorInfo};
use crate::tensor::read::TensorReader;
use crate::text::escape;
use crate::{Error, Result};

/// A written file, reopened.
#[derive(Debug)]
pub struct Reopened {
    /// Its (temporary) path.
    pub path: PathBuf,
    /// What the reader sees in it.
    pub ck: Checkpoint,
    /// For each entry of the file plan (in its order), the index of the tensor read back.
    order: Vec<usize>,
}

/// What was compared.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Names compared (aliases included).
    pub tensors: usize,
    /// Bytes of tensor data compared.
    pub bytes: u64,
}

/// Reopen `path` (header written, file at its final size) and check it holds exactly what `file`
/// and `plan` say, except for the tensor bytes.
pub fn reopen(path: PathBuf, file: &FilePlan<'_>, plan: &UnitPlan<'_>) -> Result<Reopened> {
    let ck = checkpoint::open(&path)?;
    let bad = |m: String| Error::format(&path, format!("verification failed: {m}"));
    if ck.tensors.len() != file.entries.len() {
        return Err(bad(format!(
            "{} tensors written, {} read back",
            file.entries.len(),
            ck.tensors.len()
        )));
    }
    let meta: BTreeMap<String, String> = ck.metadata.iter().cloned().collect();
    if meta != plan.metadata {
        return Err(bad("the metadata read back differs".into()));
    }
    // the reader lists tensors in data order, which is the order they were written in: match by
    // position, and only if that fails through a map of names
    let positional = ck.tensors.iter().zip(&file.entries).all(|(t, e)| t.name == e.name);
    let order: Vec<usize> = if positional {
        (0..file.entries.len()).collect()
    } else {
        let index: HashMap<&str, usize> = ck
            .tensors
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        let mut order = Vec::with_capacity(file.entries.len());
        for e in &file.entries {
            let Some(&i) = index.get(e.name.as_str()) else {
                return Err(bad(format!("tensor {} is missing", escape(&e.name))));
            };
            order.push(i);
        }
        order
    };
    for (e, &i) in file.entries.iter().zip(&order) {
        let t = &ck.tensors[i];
        if t.dtype != e.tensor.dtype || t.shape != e.tensor.shape || t.contiguous_range().is_none() {
            return Err(bad(format!(
                "tensor {}: dtype, shape or place differs",
                escape(&e.name)
            )));
        }
    }
    Ok(Reopened { path, ck, order })
}

impl Reopened {
    /// The tensor read back for entry `entry` of the file plan.
    pub fn entry(&self, entry: usize) -> Option<&TensorInfo> {
        self.ck.tensors.get(*self.order.get(entry)?)
    }

    /// The output tensor called `name` (a linear search).
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.ck.tensors.iter().find(|t| t.name == name)
    }
}

/// The names written once for several, grouped by the name written (`kept` -> its aliases), in one
/// pass over the plan's aliases.
pub fn alias_groups<'p>(plan: &'p UnitPlan<'_>) -> HashMap<&'p str, Vec<&'p str>> {
    let mut groups: HashMap<&str, Vec<&str>> = HashMap::new();
    for (dropped, kept) in &plan.aliases {
        groups.entry(kept.as_str()).or_default().push(dropped.as_str());
    }
    groups
}

/// Compare source tensor `source` (an alias) with the written tensor `written` of `out`.
pub fn check_alias(
    sources: &TensorReader<'_>,
    source: &TensorInfo,
    out: &Reopened,
    out_reader: &TensorReader<'_>,
    written: &TensorInfo,
    tally: &mut Tally,
) -> Result<()> {
    let bad = |m: &str| {
        Error::format(
            &out.path,
            format!("verification failed: tensor {}: {m}", escape(&source.name)),
        )
    };
    if source.dtype != written.dtype || source.shape != written.shape {
        return Err(bad("dtype or shape differs"));
    }
    if !crate::tensor::equal::tensors_equal(sources, source, out_reader, written)? {
        return Err(bad("bytes differ"));
    }
    tally.tensors += 1;
    tally.bytes += written.nbytes().unwrap_or(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::plan::{PlanOptions, file_unit, plan_unit};
    use super::super::writer::write_file;
    use super::*;
    use crate::tensor::read::ReadBack;
    use crate::tensor::read::testing::{checkpoint, counting, view};

    #[test]
    fn a_wrong_bit_read_back_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        // a transposed view, and an exact alias of it
        let ts = vec![view("t", &[2, 2], &[1, 2], 0, 16), view("u", &[2, 2], &[1, 2], 0, 16)];
        let ck = checkpoint(dir.path(), &counting(4), ts);
        let unit = file_unit(&PathBuf::from("x.bin"), PathBuf::new(), true);
        let opts = PlanOptions {
            max_shard_size: u64::MAX,
            skip_unsupported: false,
        };
        let plan = plan_unit(&ck, &unit, opts).unwrap();
        assert_eq!(plan.aliases, [("u".to_string(), "t".to_string())]);
        let path = dir.path().join("out.safetensors");
        let reader = TensorReader::new(&ck);
        write_file(&path, &reader, &plan.files[0].entries, &plan.metadata).unwrap();
        let out = reopen(path.clone(), &plan.files[0], &plan).unwrap();
        let written = out.tensor("t").unwrap();
        let transposed: Vec<u8> = [0f32, 2.0, 1.0, 3.0].iter().flat_map(|x| x.to_le_bytes()).collect();

        let file = std::fs::File::open(&path).unwrap();
        let mut rb = ReadBack::new(&file, &path);
        rb.start = written.contiguous_range().unwrap().start;
        rb.check(0, &transposed, "t").unwrap();
        let mut tally = Tally::default();
        check_alias(
            &reader,
            &ck.tensors[1],
            &out,
            &TensorReader::new(&out.ck),
            written,
            &mut tally,
        )
        .unwrap();
        assert_eq!((tally.tensors, tally.bytes), (1, 16));

        // flip one bit of the written data: both comparisons see it
        let mut bytes = std::fs::read(&path).unwrap();
        let at = rb.start as usize + 13;
        bytes[at] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut rb = ReadBack::new(&file, &path);
        rb.start = written.contiguous_range().unwrap().start;
        let e = rb.check(0, &transposed, "t").unwrap_err().to_string();
        assert!(
            e.contains("verification failed: tensor t: byte 13 read back differs"),
            "{e}"
        );
        let e = check_alias(
            &reader,
            &ck.tensors[1],
            &out,
            &TensorReader::new(&out.ck),
            written,
            &mut tally,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("verification failed: tensor u: bytes differ"), "{e}");
    }
}
