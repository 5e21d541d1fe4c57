//! Tests of the CPU load methods (kept beside `cpu.rs`).
use super::*;

#[test]
fn safetensors_methods_agree() {
    let dir = tempfile::tempdir().unwrap();
    let pair = super::super::synth::write_pair(dir.path(), "m", super::super::synth::Family::Gpt2, 300_000).unwrap();
    let files = vec![pair.safetensors.clone()];
    let mut arena = Arena::new();
    let mut sums = Vec::new();
    for method in [Method::SafetensorsMmap, Method::SafetensorsRead] {
        for touched in [false, true] {
            let l = Load {
                root: &pair.safetensors,
                files: &files,
                method,
                touched,
                touch_threads: 3,
                rank: None,
            };
            let got = load(&mut arena, &l).unwrap();
            assert_eq!(got.bytes, pair.bytes);
            assert_eq!(got.checksum.is_some(), touched);
            sums.extend(got.checksum);
        }
    }
    assert_eq!(sums[0], sums[1]);
    let torch = vec![pair.torch.clone()];
    for method in [Method::PickleEager, Method::PickleMmap] {
        for touched in [false, true] {
            let l = Load {
                root: &pair.torch,
                files: &torch,
                method,
                touched,
                touch_threads: 3,
                rank: None,
            };
            let got = load(&mut arena, &l).unwrap();
            assert_eq!(got.bytes, pair.bytes, "{method:?}");
            if touched {
                assert_eq!(got.checksum, Some(sums[0]), "{method:?}");
            }
        }
    }
    let mut slice_sums = Vec::new();
    for (method, root, files) in [
        (Method::SafetensorsSlice, &pair.safetensors, &files),
        (Method::PickleSlice, &pair.torch, &torch),
        (Method::PickleMmapSlice, &pair.torch, &torch),
    ] {
        let l = Load {
            root,
            files,
            method,
            touched: true,
            touch_threads: 3,
            rank: Some((1, 3)),
        };
        let got = load(&mut arena, &l).unwrap();
        slice_sums.push(got.checksum.unwrap());
        let read_all = method == Method::PickleSlice;
        assert_eq!(got.bytes == pair.bytes, read_all, "{method:?} {}", got.bytes);
    }
    assert!(
        slice_sums.iter().all(|&s| s == slice_sums[0]),
        "every way slices the same rows"
    );
    let mut l = Load {
        root: &pair.safetensors,
        files: &files,
        method: Method::SafetensorsSlice,
        touched: true,
        touch_threads: 3,
        rank: Some((0, 2)),
    };
    let half0 = load(&mut arena, &l).unwrap().bytes;
    l.rank = Some((1, 2));
    let half1 = load(&mut arena, &l).unwrap().bytes;
    assert!(half0 < pair.bytes && half1 < pair.bytes);
    l.method = Method::FileRead;
    let whole = load(&mut arena, &l).unwrap().bytes;
    assert_eq!(whole, pair.safetensors.metadata().unwrap().len());
    l.method = Method::SafetensorsLazyOne;
    assert!(load(&mut arena, &l).unwrap().bytes > 0);
}

#[test]
fn rows_split_the_first_dimension() {
    let t = TensorInfo::contiguous("w".into(), crate::checkpoint::DType::F32, vec![5, 2], 0, 0..40).unwrap();
    let data: Vec<u8> = (0..40).collect();
    let parts: Vec<&[u8]> = (0..3).map(|k| rows(&t, &data, k, 3)).collect();
    assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), 40);
    assert_eq!(parts[0], &data[..8]);
    let b = TensorInfo::contiguous("b".into(), crate::checkpoint::DType::F32, vec![10], 0, 0..40).unwrap();
    assert_eq!(rows(&b, &data, 1, 3).len(), 40, "1-D tensors are replicated");
}

#[test]
fn eager_pickle_of_many_small_tensors_matches_the_map_in_fresh_and_reused_memory() {
    use super::super::synth::{SynthTensor, write_torch};
    let dir = tempfile::tempdir().unwrap();
    // one file read then parsed, one read while it is parsed (over pickle_methods::OVERLAP_MIN)
    for (count, overlapped) in [(60u64, false), (1500, true)] {
        let path = dir.path().join(format!("small{count}.bin"));
        let tensors: Vec<SynthTensor> = (0..count)
            .map(|i| SynthTensor {
                name: format!("layers.{}.t{}", i / 10, i % 10),
                shape: vec![1 + i * 7 % 600],
            })
            .collect();
        let bytes: u64 = tensors.iter().map(SynthTensor::nbytes).sum();
        write_torch(&path, &tensors).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(size >= 1 << 20, overlapped, "{size} bytes");
        let files = vec![path.clone()];
        let mut sums = Vec::new();
        for (method, mut arena) in [
            (Method::PickleMmap, Arena::new()),
            (Method::PickleEager, Arena::new()),
            (Method::PickleEager, Arena::fresh()),
        ] {
            for _ in 0..2 {
                let l = Load {
                    root: &path,
                    files: &files,
                    method,
                    touched: true,
                    touch_threads: 3,
                    rank: None,
                };
                let got = load(&mut arena, &l).unwrap();
                arena.release();
                assert_eq!(got.bytes, bytes, "{method:?}");
                sums.push(got.checksum.unwrap());
            }
        }
        assert!(sums.iter().all(|&s| s == sums[0]), "{sums:?}");
    }
}

#[test]
fn eager_and_mapped_pickle_loads_agree_across_shards() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sharded-bin");
    let files: Vec<std::path::PathBuf> = ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    let mut got = Vec::new();
    for (method, mut arena) in [
        (Method::PickleMmap, Arena::new()),
        (Method::PickleEager, Arena::new()),
        (Method::PickleEager, Arena::fresh()),
    ] {
        let l = Load {
            root: &root,
            files: &files,
            method,
            touched: true,
            touch_threads: 3,
            rank: None,
        };
        let r = load(&mut arena, &l).unwrap();
        got.push((r.bytes, r.checksum.unwrap()));
    }
    assert!(got[0].0 > 0 && got.iter().all(|g| *g == got[0]), "{got:?}");
    // every tensor of both shards: the two files' bytes less their zip headers and pickles
    let total: u64 = files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    assert!(got[0].0 > total / 2 && got[0].0 < total, "{} of {total}", got[0].0);
}

fn run_touched(method: Method, arena: &mut Arena, path: &Path) -> Loaded {
    let files = [path.to_path_buf()];
    let l = Load {
        root: path,
        files: &files,
        method,
        touched: true,
        touch_threads: 3,
        rank: None,
    };
    load(arena, &l).unwrap()
}

#[test]
fn every_strategy_reads_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let pair = super::super::synth::write_pair(dir.path(), "m", super::super::synth::Family::Gpt2, 3_000_000).unwrap();
    let want = run_touched(Method::SafetensorsRead, &mut Arena::new(), &pair.safetensors);
    for m in [
        Method::SafetensorsPread,
        Method::SafetensorsDirect,
        Method::SafetensorsMmapPrefetch,
    ] {
        for mut arena in [Arena::new(), Arena::fresh()] {
            let got = run_touched(m, &mut arena, &pair.safetensors);
            assert_eq!((got.bytes, got.checksum), (want.bytes, want.checksum), "{m:?}");
            arena.release();
            let again = run_touched(m, &mut arena, &pair.safetensors);
            assert_eq!(again.checksum, want.checksum, "{m:?} second run");
        }
    }
}

/// A mapped load keeps its map until the arena is released, so the unmap falls between runs,
/// outside the timing, as fresh memory's release does.
#[cfg(target_os = "linux")]
#[test]
fn a_mapped_load_stays_mapped_until_release() {
    let dir = tempfile::tempdir().unwrap();
    let pair =
        super::super::synth::write_pair(dir.path(), "held", super::super::synth::Family::Gpt2, 3_000_000).unwrap();
    let name = pair.safetensors.to_string_lossy().into_owned();
    let mapped = || std::fs::read_to_string("/proc/self/maps").unwrap().contains(&name);
    for m in [Method::SafetensorsMmap, Method::SafetensorsMmapPrefetch] {
        for mut arena in [Arena::new(), Arena::fresh()] {
            let got = run_touched(m, &mut arena, &pair.safetensors);
            assert!(got.checksum.is_some());
            assert!(mapped(), "{m:?}: still mapped after the load");
            let again = run_touched(m, &mut arena, &pair.safetensors);
            assert_eq!(again.checksum, got.checksum, "{m:?}: a second load closes the first");
            arena.release();
            assert!(!mapped(), "{m:?}: unmapped by release");
        }
    }
}
