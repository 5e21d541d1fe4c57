//! Differential tests: the fast path plus its fallback gives exactly what the general machine gives.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::super::torch::{self, TorchFile, from_pickle};
use super::*;

/// `torch.save` of a dict of six tensors (torch 2: 2-d, 0-d, a view at an offset, 4-d through
/// MARK tuples, float16, a storage shared by three tensors through the memo): its `data.pkl`.
const SAMPLE: &[u8] = include_bytes!("../../../tests/data/pickle/torch-dict-v2.pkl");

/// Storage key `n` (0..=9) is a record at `n * 4096`; anything else is missing.
fn resolve(s: &Storage) -> std::result::Result<Range<u64>, String> {
    let n: u64 = match s.key.parse() {
        Ok(n) if n < 10 => n,
        _ => return Err(format!("no record {}", s.key)),
    };
    let len = s.dtype.bytes_for(s.numel).ok_or("overflow")?;
    Ok(n * 4096..n * 4096 + len)
}

fn shown(r: crate::Result<TorchFile>) -> String {
    match r {
        Ok(t) => format!("{t:?}"),
        Err(e) => format!("error: {e}"),
    }
}

/// The pickle read with and without the fast path, as text.
fn both(pickle: &[u8]) -> (String, String) {
    let run = |fast| {
        let mut out = TorchFile::default();
        let r = from_pickle(
            Path::new("x"),
            "archive/data.pkl",
            pickle,
            &[],
            &mut resolve,
            &mut out,
            fast,
        );
        shown(r.map(|()| out))
    };
    (run(true), run(false))
}

#[test]
fn reads_what_torch_writes() {
    let got = tensors(SAMPLE).expect("the fast path takes torch.save's dict of tensors");
    let ts = &got.tensors;
    let names: Vec<&str> = ts.iter().map(|t| t.name).collect();
    assert_eq!(names, ["a", "b.scalar", "c", "d", "e", "f"]);
    assert_eq!(got.shape(&ts[3]), [1, 2, 2, 4]);
    assert_eq!(got.strides(&ts[3]), [24, 12, 4, 1]);
    assert_eq!((ts[2].key, ts[2].offset, ts[2].numel), ("2", 4, 24));
    assert!(got.shape(&ts[1]).is_empty());
    assert_eq!(ts[4].dtype, DType::F16);
    let (fast, general) = both(SAMPLE);
    assert!(!fast.starts_with("error"), "{fast}");
    assert_eq!(fast, general);
}

/// Replace `from` by `to` (same length or not) in the sample.
fn edited(from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = SAMPLE
        .windows(from.len())
        .position(|w| w == from)
        .expect("in the sample");
    [&SAMPLE[..at], to, &SAMPLE[at + from.len()..]].concat()
}

#[test]
fn unusual_pickles_fall_back() {
    let cases = [
        // a repeated key: the dict keeps the first slot with the second value
        edited(b"X\x01\x00\x00\x00c", b"X\x01\x00\x00\x00a"),
        // an unknown storage class: the machine refuses it
        edited(b"torch\nHalfStorage", b"torch\nHalfStorags"),
        // a rebuild function off the allowlist
        edited(b"_rebuild_tensor_v2", b"_rebuild_tensor_v9"),
        // a memo read of an entry never stored
        edited(b"h\x02(", b"h\x63("),
        // a memo read of a tuple where a str is expected
        edited(b"h\x03c", b"h\x07c"),
        // a negative storage offset (BININT)
        edited(b"Q\x4b\x04", b"QJ\xff\xff\xff\xff"),
        // a root OrderedDict with a BUILD state (as `state_dict()` pickles with `_metadata`)
        [&SAMPLE[..SAMPLE.len() - 1], b"}\x85b."].concat(),
        // a protocol the fast path does not read
        edited(b"\x80\x02", b"\x80\x04"),
        // a bool where a dimension goes
        edited(b"K\x02K\x03\x86", b"\x88K\x03\x86"),
        // a TUPLE2 over three ints
        edited(b"K\x03K\x01\x86", b"K\x03K\x03K\x01\x86"),
    ];
    for (i, p) in cases.iter().enumerate() {
        assert!(tensors(p).is_none(), "case {i} was taken by the fast path");
        let (fast, general) = both(p);
        assert_eq!(fast, general, "case {i}");
    }
    // a missing storage record: the fast path reads it, the general machine reports the error
    let p = edited(b"X\x01\x00\x00\x003", b"X\x01\x00\x00\x00x");
    assert!(tensors(&p).is_some());
    let (fast, general) = both(&p);
    assert!(fast.contains("no record x"), "{fast}");
    assert_eq!(fast, general);
}

fn zip_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            zip_files(&p, out);
        } else if std::fs::read(&p).is_ok_and(|d| d.starts_with(b"PK\x03\x04")) {
            out.push(p);
        }
    }
}

#[test]
fn same_as_the_general_machine_on_every_sample() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth.bin");
    let ts: Vec<crate::bench::synth::SynthTensor> = (0..30)
        .map(|i| crate::bench::synth::SynthTensor {
            name: format!("layers.{}.t{}", i / 10, i % 10),
            shape: vec![1 + i as u64 * 7],
        })
        .collect();
    crate::bench::synth::write_torch(&synth, &ts).unwrap();
    let mut files = vec![synth.clone()];
    zip_files(&root.join("samples"), &mut files);
    zip_files(&root.join("tests/data"), &mut files);
    assert!(files.len() > 5, "{files:?}");
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let fast = shown(torch::read(f, &data));
        let general = shown(torch::read_general(f, &data));
        assert_eq!(fast, general, "{}", f.display());
    }
    // the writer the benches use is read by the fast path
    let data = std::fs::read(&synth).unwrap();
    let archive = super::super::zip::read(&data).unwrap();
    let pkl = archive.entries.iter().find(|e| e.name.ends_with("/data.pkl")).unwrap();
    let pickle = super::super::zip::content(&data, pkl, 1 << 20).unwrap();
    assert_eq!(tensors(&pickle).map(|t| t.tensors.len()), Some(30));
}

/// Past 256 memo entries the indices take LONG_BINPUT and LONG_BINGET; past 1,000 items a new
/// SETITEMS batch starts; a batch of one item is a SETITEM: every tensor reads back, in order,
/// through the fast path and the general pickle machine alike.
#[test]
fn torch_pickle_long_memo_indices_and_batches_read_back() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1usize, 2, 1000, 1001, 2500] {
        let ts: Vec<crate::bench::synth::SynthTensor> = (0..n)
            .map(|i| crate::bench::synth::SynthTensor {
                name: format!("t{i}"),
                shape: vec![i as u64 % 7, 3],
            })
            .collect();
        let path = dir.path().join(format!("{n}.bin"));
        crate::bench::synth::write_torch(&path, &ts).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let named: Vec<(String, Vec<u64>)> = ts.iter().map(|t| (t.name.clone(), t.shape.clone())).collect();
        let p = crate::bench::torchzip::state_dict_pickle(&named);
        assert_eq!(p[p.len() - 2], if n % 1000 == 1 { b's' } else { b'u' }, "{n}");
        assert_eq!(tensors(&p).map(|t| t.tensors.len()), Some(n), "the fast path reads it");
        for file in [
            torch::read(&path, &bytes).unwrap(),
            torch::read_general(&path, &bytes).unwrap(),
        ] {
            assert_eq!(file.tensors.len(), n);
            for (i, t) in file.tensors.iter().enumerate() {
                assert_eq!(t.name, format!("t{i}"));
                assert_eq!(t.shape, [i as u64 % 7, 3]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_pickles_read_the_same(
        edits in proptest::collection::vec((0usize..SAMPLE.len(), any::<u8>()), 1..5),
        cut in proptest::option::weighted(0.2, 0usize..SAMPLE.len()),
    ) {
        let mut p = SAMPLE.to_vec();
        for (at, b) in edits {
            p[at] = b;
        }
        if let Some(c) = cut {
            p.truncate(c);
        }
        let (fast, general) = both(&p);
        prop_assert_eq!(fast, general);
    }

    #[test]
    fn mutated_ordered_dicts_read_the_same(
        edits in proptest::collection::vec((0usize..400, any::<u8>()), 1..4),
    ) {
        // the benches' writer: an `OrderedDict()` root, memoized as torch.save writes it
        let mut p = crate::bench::torchzip::state_dict_pickle(&[
            ("w".into(), vec![2, 3]),
            ("b".into(), vec![]),
            ("x".into(), vec![1, 2, 3, 4]),
        ]);
        prop_assert!(tensors(&p).is_some());
        for (at, b) in edits {
            let n = p.len();
            p[at % n] = b;
        }
        let (fast, general) = both(&p);
        prop_assert_eq!(fast, general);
    }

    #[test]
    fn mutated_opcodes_read_the_same(
        edits in proptest::collection::vec((0usize..SAMPLE.len(), prop::sample::select(
            b"()tqhjrKMJ\x85\x86\x87\x88\x89RQu.sX}c".to_vec())), 1..4),
    ) {
        let mut p = SAMPLE.to_vec();
        for (at, b) in edits {
            p[at] = b;
        }
        let (fast, general) = both(&p);
        prop_assert_eq!(fast, general);
    }
}
