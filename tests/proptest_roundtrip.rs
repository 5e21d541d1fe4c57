//! Property tests of the readers: random tensors written as safetensors or `torch.save` zips read back
//! as the same names, dtypes, shapes, views and bytes; random damage to valid files of every format
//! gives an error or a consistent result, never a panic (open, scan, and the value preview).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::build::{Pickle, torch_zip};
use proptest::prelude::*;
use tensorscope::checkpoint::{self, DType, dtype::SAFETENSORS_DTYPES};
use tensorscope::scan;
use tensorscope::tensor::{StatsOptions, View};

fn names() -> impl Strategy<Value = String> {
    "[a-z_]{1,8}(\\.[a-z0-9]{1,4}){0,2}"
}

/// `(dtype, shape, bytes)` with bytes exactly filling the shape (sub-byte dtypes get whole bytes).
fn st_tensor() -> impl Strategy<Value = (DType, Vec<u64>, Vec<u8>)> {
    (0..SAFETENSORS_DTYPES.len(), prop::collection::vec(0u64..5, 0..4)).prop_flat_map(|(d, mut shape)| {
        let dtype = SAFETENSORS_DTYPES[d];
        if dtype.bits() < 8 {
            shape.push(8); // 8 sub-byte elements fill whole bytes
        }
        let n = dtype.bytes_for(shape.iter().product()).unwrap() as usize;
        (Just(dtype), Just(shape), prop::collection::vec(any::<u8>(), n))
    })
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn safetensors_round_trip(
        tensors in prop::collection::btree_map(names(), st_tensor(), 0..8),
        metadata in prop::collection::btree_map("[a-z]{1,6}", "[ -~]{0,12}", 0..3),
    ) {
        let list: Vec<_> = tensors.iter().map(|(n, (d, s, b))| (n.clone(), d.name(), s.clone(), b.clone())).collect();
        let meta: Vec<_> = metadata.into_iter().collect();
        let tmp = tempfile::tempdir().unwrap();
        let p = write(tmp.path(), "m.safetensors", &common::build::safetensors(&list, &meta));
        let ck = checkpoint::open(&p).unwrap();
        prop_assert_eq!(ck.tensors.len(), tensors.len());
        for t in &ck.tensors {
            let (d, s, b) = &tensors[&t.name];
            prop_assert_eq!((t.dtype, &t.shape), (*d, s));
            prop_assert_eq!(ck.contiguous_bytes(t).unwrap().unwrap(), &b[..]);
        }
        let mut got = ck.metadata.clone();
        got.sort();
        prop_assert_eq!(got, meta);
    }

    #[test]
    fn torch_zip_views_round_trip(views in prop::collection::btree_map(names(), torch_view(), 1..6)) {
        // one storage per tensor, each tensor a random strided view into it
        let mut p = Pickle::new();
        p.op(b"}(");
        let mut records = Vec::new();
        for (i, (name, v)) in views.iter().enumerate() {
            p.str(name).tensor(&i.to_string(), v.class, v.numel, v.offset, &v.shape, &v.strides);
            records.push((i.to_string(), v.bytes.clone()));
        }
        p.op(b"u");
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), "m.pt", &torch_zip(&p.done(), &records));
        let ck = checkpoint::open(&path).unwrap();
        prop_assert_eq!(ck.tensors.len(), views.len());
        for t in &ck.tensors {
            let v = &views[&t.name];
            prop_assert_eq!((t.dtype, &t.shape, &t.strides, t.offset), (v.dtype, &v.shape, &v.strides, v.offset));
            prop_assert_eq!(ck.storage_bytes(t).unwrap(), &v.bytes[..]);
        }
    }

    #[test]
    fn synthetic_torch_files_read_back(shapes in prop::collection::vec(prop::collection::vec(1u64..6, 1..4), 1..6)) {
        use tensorscope::bench::synth::{SynthTensor, fill, write_torch};
        let tensors: Vec<SynthTensor> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| SynthTensor { name: format!("layer.{i}.weight"), shape: s.clone() })
            .collect();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m.bin");
        write_torch(&path, &tensors).unwrap();
        let ck = checkpoint::open(&path).unwrap();
        prop_assert_eq!(ck.tensors.len(), tensors.len());
        for (i, want) in tensors.iter().enumerate() {
            let t = ck.tensor(&want.name).unwrap();
            prop_assert_eq!((t.dtype, &t.shape), (DType::F32, &want.shape));
            let mut bytes = vec![0u8; want.nbytes() as usize];
            fill(i, &mut bytes);
            prop_assert_eq!(ck.contiguous_bytes(t).unwrap().unwrap(), &bytes[..]);
        }
    }
}

#[derive(Debug, Clone)]
struct TorchView {
    class: &'static str,
    dtype: DType,
    numel: u64,
    bytes: Vec<u8>,
    offset: u64,
    shape: Vec<u64>,
    strides: Vec<u64>,
}

/// A storage of a random torch type and a view (offset, shape, strides) that stays inside it.
fn torch_view() -> impl Strategy<Value = TorchView> {
    const CLASSES: [(&str, DType); 10] = [
        ("FloatStorage", DType::F32),
        ("DoubleStorage", DType::F64),
        ("HalfStorage", DType::F16),
        ("BFloat16Storage", DType::BF16),
        ("LongStorage", DType::I64),
        ("IntStorage", DType::I32),
        ("ShortStorage", DType::I16),
        ("CharStorage", DType::I8),
        ("ByteStorage", DType::U8),
        ("BoolStorage", DType::BOOL),
    ];
    (
        0..CLASSES.len(),
        prop::collection::vec((1u64..5, 0u64..7), 0..4),
        0u64..6,
        0u64..6,
    )
        .prop_flat_map(|(c, dims, offset, spare)| {
            let (class, dtype) = CLASSES[c];
            let (shape, strides): (Vec<u64>, Vec<u64>) = dims.into_iter().unzip();
            let last = offset + shape.iter().zip(&strides).map(|(d, s)| (d - 1) * s).sum::<u64>();
            let numel = last + 1 + spare;
            let n = dtype.bytes_for(numel).unwrap() as usize;
            prop::collection::vec(any::<u8>(), n).prop_map(move |bytes| TorchView {
                class,
                dtype,
                numel,
                bytes,
                offset,
                shape: shape.clone(),
                strides: strides.clone(),
            })
        })
}

/// Small valid files of every format the readers take.
fn valid_files() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        "tests/data/torch/checkpoint.pt",
        "tests/data/torch/checkpoint-legacy.pt",
        "tests/data/torch/dtypes.pt",
        "tests/data/torch/dtypes-legacy.pt",
        "tests/data/torch/numpy.pt",
        "tests/data/torch/lightning.ckpt",
        "tests/data/torch/checkpoint.pt.ref.safetensors",
        "tests/data/torch/dtypes.pt.ref.safetensors",
        "tests/data/pickle/ops_proto2.pkl",
        "tests/data/pickle/ops_proto0.pkl",
        "tests/data/pickle/whole-module.pt",
        "tests/data/pickle/numpy-proto3.pt",
        "samples/malicious.bin",
        "tests/data/numpy/f4.npy", // numpy files: scan reads them, open lists their arrays
        "tests/data/numpy/arrays.npz",
        "tests/data/bad/object-arrays.npz",
    ]
    .iter()
    .map(|p| {
        (
            p.rsplit('/').next().unwrap().to_string(),
            std::fs::read(root.join(p)).unwrap(),
        )
    })
    .collect()
}

/// Whatever opened must be consistent: every storage inside its file, every view inside its storage,
/// and values read through the preview path without a panic.
fn check_consistent(ck: &checkpoint::Checkpoint) -> Result<(), TestCaseError> {
    for t in &ck.tensors {
        prop_assert!(ck.storage_bytes(t).is_ok(), "storage of {} outside the file", t.name);
        prop_assert!(t.check_extent().is_ok(), "view of {} outside its storage", t.name);
        if let Ok(v) = View::of(ck, t) {
            let _ = v.first(16);
            let _ = v.stats(&StatsOptions {
                bins: 4,
                sample: Some(256),
            });
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_are_an_error_or_consistent(
        which in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in prop::option::weighted(0.2, any::<prop::sample::Index>()),
    ) {
        let files = valid_files();
        let (name, mut bytes) = files[which.index(files.len())].clone();
        for (at, b) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *b;
        }
        if let Some(c) = cut {
            bytes.truncate(c.index(bytes.len()));
        }
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), &name, &bytes);
        if let Ok(ck) = checkpoint::open(&path) {
            check_consistent(&ck)?;
        }
        let r = scan::scan_file(&path);
        prop_assert_eq!(&r, &scan::scan_bytes(path.to_string_lossy(), &bytes));
        if r.verdict == scan::Verdict::Safe {
            prop_assert!(r.error.is_none());
        }
    }
}

#[test]
fn the_valid_files_open_and_scan() {
    // the damage test starts from files that are valid: check it once, so a broken fixture shows here
    let files: BTreeMap<_, _> = valid_files().into_iter().collect();
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in &files {
        let p = write(tmp.path(), name, bytes);
        let ck = checkpoint::open(&p);
        if name.ends_with(".pkl") || name.ends_with(".npy") || name.ends_with(".npz") || name == "malicious.bin" {
            continue; // raw pickles, numpy files and the malicious file are not checkpoints
        }
        let ck = ck.unwrap_or_else(|e| panic!("{name}: {e}"));
        check_consistent(&ck).unwrap();
    }
}
