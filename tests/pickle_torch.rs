//! The pickle reader against real `torch.save` files (tests/data/torch, made by torch 2.15): names,
//! dtypes, shapes, offsets and strides as torch reports them (the manifests), and the bytes each
//! view resolves to equal the contiguous copies torch saved to the reference `.safetensors` files.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use tensorscope::checkpoint::TensorInfo;
use tensorscope::formats::pickle::torch::{self, ROOT_TENSOR_NAME, TorchFile};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch")
}

fn fixtures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".manifest.json"))
        .map(|n| n.trim_end_matches(".manifest.json").to_string())
        .collect();
    v.sort();
    assert!(v.len() >= 20, "fixtures missing: {v:?}");
    v
}

fn manifest(name: &str) -> Json {
    serde_json::from_slice(&std::fs::read(dir().join(format!("{name}.manifest.json"))).unwrap()).unwrap()
}

fn read(name: &str) -> (Vec<u8>, tensorscope::Result<TorchFile>) {
    let path = dir().join(name);
    let data = std::fs::read(&path).unwrap();
    let t = torch::read(&path, &data);
    (data, t)
}

/// The elements of a strided view in row-major order, as bytes.
fn gather(t: &TensorInfo, storage: &[u8]) -> Vec<u8> {
    let el = (t.dtype.bits() / 8) as usize;
    assert!(el > 0, "{}", t.name);
    let n: u64 = t.shape.iter().product();
    let mut out = Vec::with_capacity(n as usize * el);
    let mut idx = vec![0u64; t.shape.len()];
    for _ in 0..n {
        let e = t.offset + idx.iter().zip(&t.strides).map(|(i, s)| i * s).sum::<u64>();
        let at = e as usize * el;
        out.extend_from_slice(&storage[at..at + el]);
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < t.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

fn want_name(m: &Json) -> String {
    let n = m["name"].as_str().unwrap();
    if n.is_empty() {
        ROOT_TENSOR_NAME.to_string()
    } else {
        n.to_string()
    }
}

fn dims(v: &Json) -> Vec<u64> {
    v.as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).collect()
}

#[test]
fn every_fixture_lists_what_torch_sees() {
    let mut compared = 0;
    for fx in fixtures() {
        let m = manifest(&fx);
        let (data, got) = read(&fx);
        if fx == "dtypes-untyped-legacy.pt" {
            // torch itself cannot load it; we read it (checked below) or refuse it clearly
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{fx}: {e}"));
        let want_fmt = m["format"].as_str().unwrap();
        assert_eq!(got.format.unwrap().as_str(), want_fmt, "{fx}");
        if let Some(top) = m.get("top").and_then(Json::as_str) {
            assert_eq!(got.top.as_deref(), Some(top), "{fx}");
        }
        let listed: Vec<&TensorInfo> = got.tensors.iter().chain(got.owned.iter().map(|(t, _)| t)).collect();
        let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
        let want_names: Vec<String> = m["tensors"].as_array().unwrap().iter().map(want_name).collect();
        let mut sorted_names = names.clone();
        sorted_names.sort();
        let mut sorted_want: Vec<&str> = want_names.iter().map(String::as_str).collect();
        sorted_want.sort();
        assert_eq!(sorted_names, sorted_want, "{fx}");
        let reference = std::fs::read(dir().join(format!("{fx}.ref.safetensors"))).unwrap();
        let reference = safetensors::SafeTensors::deserialize(&reference).unwrap();
        for wt in m["tensors"].as_array().unwrap() {
            let name = want_name(wt);
            let t = *listed.iter().find(|t| t.name == name).unwrap();
            assert_eq!(t.dtype.name(), wt["dtype"].as_str().unwrap(), "{fx} {name}");
            assert_eq!(t.shape, dims(&wt["shape"]), "{fx} {name}");
            if wt.get("numpy").is_none() {
                assert_eq!(t.offset, wt["storage_offset"].as_u64().unwrap(), "{fx} {name}");
                assert_eq!(t.strides, dims(&wt["stride"]), "{fx} {name}");
                let sn = wt["storage_nbytes"].as_u64().unwrap();
                assert_eq!(t.storage.end - t.storage.start, sn, "{fx} {name}: storage size");
            }
            assert_eq!(t.nbytes().unwrap(), wt["nbytes"].as_u64().unwrap(), "{fx} {name}");
            t.check_extent().unwrap();
            let storage: &[u8] = match got.owned.iter().find(|(o, _)| o.name == name) {
                Some((_, bytes)) => bytes,
                None => &data[t.storage.start as usize..t.storage.end as usize],
            };
            let bytes = gather(t, storage);
            if wt["in_ref"].as_bool() == Some(true) {
                let r = reference.tensor(wt["name"].as_str().unwrap());
                let r = r.unwrap_or_else(|e| panic!("{fx} {name}: not in ref: {e}"));
                assert_eq!(bytes, r.data(), "{fx} {name}: bytes differ from torch's");
                compared += 1;
            }
        }
        if !got.tensors.is_empty() && got.owned.is_empty() {
            // in the zip format every storage lies 64-byte aligned in the file
            if want_fmt == "pytorch-zip" {
                assert!(got.tensors.iter().all(|t| t.storage.start % 64 == 0), "{fx}");
            }
        }
    }
    assert!(compared >= 100, "only {compared} tensors compared byte for byte");
}

#[test]
fn tied_weights_share_one_storage() {
    for fx in ["tied.pt", "tied-legacy.pt"] {
        let t = read(fx).1.unwrap();
        let s: Vec<_> = ["encoder.embed.weight", "decoder.embed.weight", "lm_head.weight"]
            .iter()
            .map(|n| t.tensors.iter().find(|t| t.name == *n).unwrap().storage.clone())
            .collect();
        assert!(s.iter().all(|r| *r == s[0]), "{fx}: {s:?}");
        let other = t.tensors.iter().find(|t| t.name == "other").unwrap();
        assert_ne!(other.storage, s[0]);
    }
}

#[test]
fn scalars_become_metadata_with_python_spelling() {
    for fx in fixtures() {
        let m = manifest(&fx);
        let Ok(got) = read(&fx).1 else { continue };
        let Some(scalars) = m["scalars"].as_object() else {
            continue;
        };
        for (k, v) in scalars {
            let found = got.metadata.iter().find(|(n, _)| n == k);
            assert_eq!(found.map(|(_, v)| v.as_str()), Some(v.as_str().unwrap()), "{fx} {k}");
        }
        // anything beyond the manifest's scalars belongs to an opaque object
        let opaque: Vec<&String> = m["opaque"].as_object().map(|o| o.keys().collect()).unwrap_or_default();
        for (k, _) in &got.metadata {
            let known = scalars.contains_key(k) || opaque.iter().any(|o| k == *o || k.starts_with(&format!("{o}.")));
            assert!(known, "{fx}: unexpected metadata {k}");
        }
    }
}

#[test]
fn globals_outside_the_allowlist_are_warned_about_and_never_run() {
    for fx in fixtures() {
        let m = manifest(&fx);
        let untrusted: Vec<&str> = m["untrusted_globals"]
            .as_array()
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let trace: Vec<PathBuf> = ["system", "legacy", "exec"]
            .iter()
            .map(|s| format!("/tmp/tensorscope-pwned-{s}").into())
            .collect();
        for p in &trace {
            let _ = std::fs::remove_file(p);
        }
        let got = read(&fx).1;
        for p in &trace {
            assert!(!p.exists(), "{fx}: {} was created", p.display());
        }
        let Ok(got) = got else { continue };
        for g in &untrusted {
            assert!(
                got.warnings.iter().any(|w| w.contains(g)),
                "{fx}: no warning names {g}: {:?}",
                got.warnings
            );
        }
        if untrusted.is_empty() {
            let not_rebuilt: Vec<&String> = got.warnings.iter().filter(|w| w.contains("not rebuilt")).collect();
            assert!(not_rebuilt.is_empty(), "{fx}: {not_rebuilt:?}");
        }
        if m["safe"].as_bool() == Some(false) {
            assert!(!got.tensors.is_empty(), "{fx}: the tensors still list");
        }
    }
}

#[test]
fn untyped_legacy_storages_read_or_refuse_clearly() {
    let (data, got) = read("dtypes-untyped-legacy.pt");
    match got {
        Ok(t) => {
            assert_eq!(t.tensors.len(), 3);
            let m = manifest("dtypes-untyped-legacy.pt");
            for wt in m["tensors"].as_array().unwrap() {
                let name = want_name(wt);
                let t = t
                    .tensors
                    .iter()
                    .find(|t| t.name == name)
                    .unwrap_or_else(|| panic!("{name}"));
                assert_eq!(t.dtype.name(), wt["dtype"].as_str().unwrap());
                assert_eq!(t.shape, dims(&wt["shape"]));
                t.check_extent().unwrap();
                assert!(t.storage.end as usize <= data.len());
            }
        }
        Err(e) => assert!(e.to_string().contains("dtypes-untyped-legacy.pt"), "{e}"),
    }
}

#[test]
fn samples_open_through_the_checkpoint_api() {
    let ck = tensorscope::checkpoint::open(dir().join("views.pt")).unwrap();
    let t = ck.tensor("transposed").unwrap();
    assert!(!t.is_contiguous());
    assert_eq!(ck.contiguous_bytes(t).unwrap(), None);
    let base = ck.tensor("base").unwrap();
    assert_eq!(ck.storage_bytes(t).unwrap(), ck.storage_bytes(base).unwrap());
}

fn extra(name: &str) -> (Vec<u8>, TorchFile) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pickle")
        .join(name);
    let data = std::fs::read(&path).unwrap();
    let t = torch::read(&path, &data).unwrap();
    (data, t)
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn a_whole_module_lists_its_parameters_like_a_state_dict() {
    let (data, t) = extra("whole-module.pt");
    let want = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pickle/whole-module.expected.txt"),
    )
    .unwrap();
    for line in want.lines() {
        let (name, values) = line.split_once(' ').unwrap();
        let want: Vec<f32> = values
            .trim_matches(['[', ']'])
            .split(", ")
            .map(|v| v.parse().unwrap())
            .collect();
        let info = t
            .tensors
            .iter()
            .find(|x| x.name == name)
            .unwrap_or_else(|| panic!("{name}: {:?}", t.tensors));
        assert_eq!(
            f32s(&gather(
                info,
                &data[info.storage.start as usize..info.storage.end as usize]
            )),
            want
        );
    }
    assert!(
        t.warnings.iter().any(|w| w.contains("torch.nn.modules.linear.Linear")),
        "{:?}",
        t.warnings
    );
    assert!(t.metadata.iter().all(|(k, _)| !k.is_empty()));
}

#[test]
fn numpy_arrays_at_protocol_3_are_views_into_the_file() {
    let (data, t) = extra("numpy-proto3.pt");
    assert!(t.owned.is_empty());
    let a = t.tensors.iter().find(|x| x.name == "a").unwrap();
    let at = t.tensors.iter().find(|x| x.name == "at").unwrap();
    let want: Vec<f32> = (0..12).map(|i| i as f32).collect();
    assert_eq!(
        f32s(&gather(a, &data[a.storage.start as usize..a.storage.end as usize])),
        want
    );
    // the transpose is saved Fortran-ordered: strides [1, 4] over its own copy of the bytes
    assert_eq!((at.shape.clone(), at.strides.clone()), (vec![4, 3], vec![1, 4]));
    let want_t: Vec<f32> = (0..4).flat_map(|c| (0..3).map(move |r| (r * 4 + c) as f32)).collect();
    assert_eq!(
        f32s(&gather(at, &data[at.storage.start as usize..at.storage.end as usize])),
        want_t
    );
    assert_eq!(t.metadata, [("s".to_string(), "0.5".to_string())]);
}
