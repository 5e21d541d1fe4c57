//! Verification: every written file is reopened through the ordinary reader as soon as its header is
//! written (the file is preallocated to its final size, so the reader's size checks hold), its names,
//! dtypes, shapes and metadata are checked against the plan, and then every tensor — and every alias
//! written once — is compared byte for byte with its source view by [`VERIFY_THREADS`] threads, each
//! as soon as the writer has finished it. Comparing overlaps writing; nothing is published before the
//! last comparison has passed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

use super::plan::{FilePlan, UnitPlan};
use super::read::TensorReader;
use crate::checkpoint::{self, Checkpoint, TensorInfo};
use crate::text::escape;
use crate::{Error, Result};

/// Threads that compare tensors.
pub const VERIFY_THREADS: usize = 2;

/// A written file, reopened.
#[derive(Debug)]
pub struct Reopened {
    /// Its (temporary) path.
    pub path: PathBuf,
    /// What the reader sees in it.
    pub ck: Checkpoint,
    /// Output tensor index by name.
    index: HashMap<String, usize>,
}

/// One comparison: a source tensor of unit `unit` against output tensor `written` of `out`.
#[derive(Debug)]
pub struct Job {
    /// Index of the unit (of the source checkpoint).
    pub unit: usize,
    /// Index of the source tensor in its checkpoint.
    pub source: usize,
    /// The output file.
    pub out: Arc<Reopened>,
    /// Index of the tensor in the output file.
    pub written: usize,
    /// Logical elements to compare (a tensor is compared in pieces as the writer finishes them).
    pub elems: std::ops::Range<u64>,
}

/// What the comparing threads did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Names compared.
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
    let index: HashMap<String, usize> = ck
        .tensors
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    for e in &file.entries {
        let Some(&i) = index.get(&e.name) else {
            return Err(bad(format!("tensor {} is missing", escape(&e.name))));
        };
        let t = &ck.tensors[i];
        if t.dtype != e.tensor.dtype || t.shape != e.tensor.shape {
            return Err(bad(format!("tensor {}: dtype or shape differs", escape(&e.name))));
        }
    }
    Ok(Reopened { path, ck, index })
}

impl Reopened {
    /// Index of the output tensor called `name`.
    pub fn tensor_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

/// The source names whose bytes live in output tensor `kept`: itself and its aliases.
pub fn names_of<'p>(kept: &'p str, plan: &'p UnitPlan<'_>) -> impl Iterator<Item = &'p str> {
    std::iter::once(kept).chain(
        plan.aliases
            .iter()
            .filter(move |(_, k)| k == kept)
            .map(|(d, _)| d.as_str()),
    )
}

/// Take jobs from `jobs` until it is closed, comparing each; the first mismatch or error ends it.
pub fn compare_jobs(jobs: &Mutex<Receiver<Job>>, sources: &[Checkpoint]) -> Result<Tally> {
    let readers: Vec<TensorReader> = sources.iter().map(TensorReader::new).collect();
    let mut tally = Tally::default();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => match rx.recv() {
                Ok(j) => j,
                Err(_) => return Ok(tally),
            },
            Err(_) => return Err(Error::Usage("a verification thread panicked".into())),
        };
        let source: &TensorInfo = &sources[job.unit].tensors[job.source];
        let written = &job.out.ck.tensors[job.written];
        let out_reader = TensorReader::new(&job.out.ck);
        if source.dtype != written.dtype || source.shape != written.shape {
            return Err(Error::format(
                &job.out.path,
                format!(
                    "verification failed: tensor {}: dtype or shape differs",
                    escape(&source.name)
                ),
            ));
        }
        if !crate::diff::elements_equal(&readers[job.unit], source, &out_reader, written, job.elems.clone())? {
            return Err(Error::format(
                &job.out.path,
                format!("verification failed: tensor {}: bytes differ", escape(&source.name)),
            ));
        }
        let numel = written.numel().unwrap_or(0);
        if job.elems.end >= numel {
            tally.tensors += 1; // the last piece
        }
        let (first, last) = (job.elems.start.min(numel), job.elems.end.min(numel));
        tally.bytes += written.dtype.bytes_for(last).unwrap_or(0) - written.dtype.bytes_for(first).unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::mpsc;

    use super::super::plan::{PlanOptions, file_unit, plan_unit};
    use super::super::read::testing::{checkpoint, counting, view};
    use super::super::writer::write_file;
    use super::*;

    /// Write `written` as a safetensors file, then verify it against `source`.
    fn verify_against(source: &[u8], written: &[u8]) -> Result<Tally> {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let t = || vec![view("t", &[2, 2], &[1, 2], 0, 16)]; // a transposed view
        let src = checkpoint(a.path(), source, t());
        let other = checkpoint(b.path(), written, t());
        let unit = file_unit(&PathBuf::from("x.bin"), PathBuf::new(), true);
        let opts = PlanOptions {
            max_shard_size: u64::MAX,
            skip_unsupported: false,
        };
        let plan = plan_unit(&other, &unit, opts).unwrap();
        let path = a.path().join("out.safetensors");
        write_file(
            &path,
            &TensorReader::new(&other),
            &plan.files[0].entries,
            &plan.metadata,
        )
        .unwrap();
        let out = Arc::new(reopen(path, &plan.files[0], &plan).unwrap());
        let (tx, rx) = mpsc::channel();
        tx.send(Job {
            unit: 0,
            source: 0,
            out: Arc::clone(&out),
            written: out.tensor_index("t").unwrap(),
            elems: 0..u64::MAX,
        })
        .unwrap();
        drop(tx);
        compare_jobs(&Mutex::new(rx), &[src])
    }

    #[test]
    fn one_wrong_bit_fails_verification() {
        let good = counting(4);
        let t = verify_against(&good, &good).unwrap();
        assert_eq!((t.tensors, t.bytes), (1, 16));
        let mut bad = good.clone();
        bad[13] ^= 1;
        let e = verify_against(&good, &bad).unwrap_err().to_string();
        assert!(e.contains("verification failed: tensor t: bytes differ"), "{e}");
    }
}
