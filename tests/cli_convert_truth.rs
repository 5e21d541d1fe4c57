//! `tensorscope convert` tells the truth about what it writes (review 38): a sparse tensor is
//! refused (or left out, and said so), only the shards an index names are converted, what a folder
//! holds is copied or named, and the hints say what will work.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_clean_error, run, sample};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn root_str(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A sparse tensor is not rebuilt, and safetensors cannot store one: `convert` refuses it as it
/// refuses a torch-only dtype, naming its parts (it wrote its indices and values as dense tensors
/// `s.1.0`, `s.1.1` and exited 0); `--skip-unsupported` leaves them out and says so; `inspect` marks
/// the parts; `diff` of the input and dense tensors of the same names is not "identical".
#[test]
fn a_sparse_tensor_is_refused_or_skipped() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["sparse-coo.pt", "sparse-csr.pt"] {
        let layout = if f == "sparse-coo.pt" {
            "sparse_coo"
        } else {
            "sparse_csr"
        };
        let input = root_str(&format!("tests/data/scan/benign/{f}"));
        let out = dir.path().join(f).with_extension("safetensors");
        let r = run(&["convert", &input, s(&out)]);
        assert_clean_error(&r, &input);
        assert!(
            r.stderr.contains(&format!("s.1.0 (part of the {layout} tensor s)")),
            "{f}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("--skip-unsupported"), "{f}: {}", r.stderr);
        assert!(!out.exists(), "{f}");
        let r = run(&["convert", "--skip-unsupported", &input, s(&out)]);
        assert_eq!(r.code, 0, "{f}: {}", r.stderr);
        assert!(
            r.stdout
                .contains(&format!("skipped: s.1.0 (part of the {layout} tensor s")),
            "{f}: {}",
            r.stdout
        );
        let written = tensorscope::checkpoint::open(&out).unwrap();
        assert!(written.tensors.is_empty(), "{f}: {:?}", written.tensors);
        let r = run(&["inspect", &input]);
        let said = format!("{}{}", r.stdout, r.stderr);
        assert!(
            said.contains(&format!("part of the {layout} tensor s, not a tensor of the model")),
            "{f}: {said}"
        );
        let r = run(&["inspect", "--json", &input]);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["tensors"][0]["part_of"], format!("{layout} tensor s"), "{f}");
    }
}

/// `diff` of a sparse tensor's parts and dense tensors of the same names and values (what `convert`
/// used to write) says they differ (it said "identical").
#[test]
fn diff_tells_a_sparse_tensor_from_its_dense_parts() {
    let input = root_str("tests/data/scan/benign/sparse-coo.pt");
    let dir = tempfile::tempdir().unwrap();
    let dense = dir.path().join("dense.safetensors");
    // the parts as dense tensors of their own, bytes copied from the input
    let ck = tensorscope::checkpoint::open(std::path::Path::new(&input)).unwrap();
    let mut body = Vec::new();
    let mut header = serde_json::Map::new();
    for t in &ck.tensors {
        let bytes = ck.storage_bytes(t).unwrap();
        let n = t.nbytes().unwrap() as usize;
        let start = body.len();
        let at = (t.offset as usize) * t.dtype.bytes_for(1).unwrap() as usize;
        body.extend_from_slice(&bytes[at..at + n]);
        header.insert(
            t.name.clone(),
            serde_json::json!({"dtype": t.dtype.name(), "shape": t.shape, "data_offsets": [start, body.len()]}),
        );
    }
    let text = serde_json::to_string(&header).unwrap();
    let mut file = (text.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(text.as_bytes());
    file.extend_from_slice(&body);
    std::fs::write(&dense, file).unwrap();
    let r = run(&["diff", &input, s(&dense)]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("A: part of the sparse_coo tensor s  B: a tensor of its own"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.trim_end().ends_with("different"), "{}", r.stdout);
    let r = run(&["diff", &input, &input]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// review 38: beside a shard index, a pickle the index does not name is left out of the checkpoint
/// (`inspect` and `convert` warn so) and so is not converted either (it was written as a model of
/// its own, `model-00003-of-00002.safetensors`, right after the warning that it was left out).
#[test]
fn only_the_shards_an_index_names_are_converted() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let from = PathBuf::from(sample("sharded-bin"));
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), input.join(e.file_name())).unwrap();
    }
    std::fs::copy(
        from.join("pytorch_model-00001-of-00002.bin"),
        input.join("pytorch_model-00003-of-00002.bin"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let r = run(&["convert", s(&input), s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("left out pytorch_model-00003-of-00002.bin (not named in pytorch_model.bin.index.json)"),
        "{}",
        r.stdout
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.json", "model.safetensors"], "{}", r.stdout);
}

/// review 38: a folder's sub-folders are copied (sentence-transformers' `1_Pooling/config.json`, an
/// empty `2_Normalize/`), a pickle in one is named as neither converted nor copied, a link to a
/// folder is not followed (and named); they were dropped without a word.
#[test]
fn sub_folders_are_copied_and_what_is_not_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("st");
    std::fs::create_dir_all(input.join("1_Pooling")).unwrap();
    std::fs::create_dir_all(input.join("2_Normalize")).unwrap();
    std::fs::create_dir_all(input.join("extra/deep")).unwrap();
    std::fs::copy(sample("gpt2-tiny.bin"), input.join("pytorch_model.bin")).unwrap();
    std::fs::copy(sample("gpt2-tiny.bin"), input.join("extra/old.bin")).unwrap();
    std::fs::write(input.join("modules.json"), "[]").unwrap();
    std::fs::write(
        input.join("1_Pooling/config.json"),
        "{\"pooling_mode_mean_tokens\": true}",
    )
    .unwrap();
    std::fs::write(input.join("extra/deep/notes.txt"), "notes").unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(&outside, input.join("linked")).unwrap();
    let out = dir.path().join("out");
    let r = run(&["convert", s(&input), s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("1_Pooling/config.json")).unwrap(),
        "{\"pooling_mode_mean_tokens\": true}"
    );
    assert!(out.join("2_Normalize").is_dir());
    assert_eq!(
        std::fs::read_to_string(out.join("extra/deep/notes.txt")).unwrap(),
        "notes"
    );
    assert!(out.join("model.safetensors").is_file());
    assert!(!out.join("extra/old.bin").exists());
    assert!(!out.join("linked").exists());
    assert!(
        r.stdout
            .contains("extra/old.bin: a pickle in a sub-folder: not converted, not copied"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("linked: a link to a folder, not followed"),
        "{}",
        r.stdout
    );
}

/// review 38: a Hugging Face cache folder (`models--org--name`) converts its snapshot, as `inspect`
/// opens it (it said "no pickle checkpoint here to convert").
#[test]
fn a_hub_cache_folder_converts_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("models--t--g");
    let snap = repo.join("snapshots/abc");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "abc").unwrap();
    std::fs::copy(sample("gpt2-tiny.bin"), repo.join("blobs/1111")).unwrap();
    std::os::unix::fs::symlink("../../blobs/1111", snap.join("pytorch_model.bin")).unwrap();
    let out = dir.path().join("out");
    let r = run(&["convert", s(&repo), &format!("{}/", s(&out))]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.join("model.safetensors").is_file(), "{}", r.stdout);
}

/// review 38: a file whose shards go into an existing folder that is not empty is told that the
/// folder must be empty (it was told "the output exists; use --force to replace it", and with
/// `--force` then that the folder is not empty); a single file there still needs only `--force`.
#[test]
fn the_hint_for_shards_into_a_folder_says_what_works() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("ef");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("model.safetensors"), "old").unwrap();
    std::fs::write(folder.join("notes.txt"), "notes").unwrap();
    let input = sample("gpt2-tiny.bin");
    let r = run(&["convert", &input, s(&folder), "--max-shard-size", "50kB"]);
    assert_clean_error(&r, "shards into a non-empty folder");
    assert!(
        r.stderr
            .contains("this folder is not empty; give a new or empty folder")
            && !r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    let r = run(&["convert", &input, s(&folder)]);
    assert_clean_error(&r, "one file over an existing one");
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    let r = run(&["convert", &input, s(&folder), "--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(folder.join("notes.txt")).unwrap(), "notes");
}
