//! `tensorscope convert`: every real torch.save fixture converts to the bytes Python checked
//! (tests/data/convert/expected.json, written by check_with_python.py), every tensor matches torch's
//! own hashes (the fixtures' manifests), `diff` of input and output finds nothing, folders keep their
//! layout, and refusals and errors write nothing.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{assert_clean_error, run, sample};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn expected() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(root().join("tests/data/convert/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// name -> (sha256 of the data, dtype, shape).
type Hashes = HashMap<String, (String, String, Vec<usize>)>;

/// Tensors and metadata of a safetensors file, read with the safetensors crate (not with our reader).
fn read_st(path: &Path) -> (Hashes, HashMap<String, String>) {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let tensors = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, (sha(v.data()), format!("{:?}", v.dtype()), v.shape().to_vec())))
        .collect();
    (tensors, meta.metadata().clone().unwrap_or_default())
}

/// Entries of a folder (names), to check nothing was left behind.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_fixture_converts_to_the_checked_bytes_and_torch_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let all = expected();
    assert!(all.len() >= 26, "expected.json covers {} inputs", all.len());
    for (rel, want) in &all {
        let input = root().join(rel);
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let out = dir.path().join(format!("{name}.safetensors"));
        let mut args = vec!["convert".to_string(), s(&input).into(), s(&out).into()];
        args.extend(
            want.get("args")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|a| a.as_str().unwrap().to_string()),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&args);
        if want.get("refused").is_some() {
            assert_eq!(r.code, 1, "{rel}: {}{}", r.stdout, r.stderr);
            assert!(
                r.stdout.contains("dangerous") && r.stdout.contains("nothing was written"),
                "{rel}: {}",
                r.stdout
            );
            assert!(!out.exists(), "{rel}: refused but written");
            continue;
        }
        assert_eq!(r.code, 0, "{rel}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("verified: 1 file reopened"), "{rel}: {}", r.stdout);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(
            sha(&bytes),
            want["file_sha256"],
            "{rel}: output file differs from the one Python checked"
        );

        // every tensor torch saw, by its hash in the manifest (the truth from torch itself)
        let (tensors, meta) = read_st(&out);
        assert_eq!(tensors.len(), want["tensors"].as_object().unwrap().len(), "{rel}");
        let manifest = root().join(format!("{rel}.manifest.json"));
        if !manifest.exists() {
            continue;
        }
        let m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        for t in m["tensors"].as_array().unwrap() {
            let (tname, dtype) = (t["name"].as_str().unwrap(), t["dtype"].as_str().unwrap());
            if t.get("numpy").is_some() {
                continue; // numpy arrays whose bytes are re-encoded in the pickle: the reader leaves them out
            }
            let key = match tname {
                "" => "tensor",
                n if tensors.contains_key(n) => n,
                n => meta.get(n).map(String::as_str).unwrap_or(n),
            };
            match tensors.get(key) {
                Some((digest, _, _)) => assert_eq!(digest, &t["sha256"], "{rel}: {tname}"),
                None => assert!(
                    matches!(dtype, "complex128" | "complex32"),
                    "{rel}: {tname} ({dtype}) missing from the output"
                ),
            }
        }
    }
    let left: Vec<String> = entries(dir.path())
        .into_iter()
        .filter(|e| e.starts_with(".tensorscope-tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

#[test]
fn diff_of_each_input_and_its_output_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    for (rel, want) in expected() {
        if want.get("refused").is_some() {
            continue;
        }
        let input = root().join(&rel);
        let out = dir.path().join("out.safetensors");
        let _ = std::fs::remove_file(&out);
        let mut args = vec!["convert", s(&input), s(&out), "--no-verify"];
        let extra: Vec<String> = want["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().into())
            .collect();
        args.extend(extra.iter().map(String::as_str));
        let r = run(&args);
        assert_eq!(r.code, 0, "{rel}: {}", r.stderr);
        assert!(r.stdout.contains("not verified (--no-verify)"), "{rel}: {}", r.stdout);
        let d = run(&["diff", s(&input), s(&out), "--json"]);
        let v: Value = serde_json::from_str(&d.stdout).unwrap_or_else(|e| panic!("{rel}: {e}: {}", d.stderr));
        if extra.iter().any(|a| a == "--skip-unsupported") {
            // the tensors left out are exactly the ones safetensors cannot store
            assert_eq!(d.code, 1, "{rel}");
            for t in v["only_in_a"].as_array().unwrap() {
                assert!(
                    matches!(t["dtype"].as_str(), Some("complex128" | "complex32")),
                    "{rel}: {t}"
                );
            }
            assert!(
                v["changed"].as_array().unwrap().is_empty() && v["different"] == 0,
                "{rel}: {v}"
            );
        } else {
            assert_eq!(d.code, 0, "{rel}: {}", serde_json::to_string_pretty(&v).unwrap());
        }
    }
}

#[test]
fn tied_weights_become_one_tensor_and_diff_knows_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gpt2.safetensors");
    let r = run(&["convert", &sample("gpt2-tiny.bin"), s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("alias: lm_head.weight is wte.weight (written once)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("29 names"), "{}", r.stdout);
    let (tensors, meta) = read_st(&out);
    assert_eq!(tensors.len(), 28);
    assert_eq!(meta["lm_head.weight"], "wte.weight");
    assert_eq!(meta["format"], "pt");
    // the safetensors sample has no lm_head: the converted file equals it tensor for tensor
    let d = run(&["diff", &sample("gpt2-tiny.safetensors"), s(&out)]);
    assert_eq!(d.code, 0, "{}", d.stdout);
    // and the pickle has one more name than the safetensors sample
    let d = run(&[
        "diff",
        &sample("gpt2-tiny.bin"),
        &sample("gpt2-tiny.safetensors"),
        "--json",
    ]);
    assert_eq!(d.code, 1);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["only_in_a"][0]["name"], "lm_head.weight");
    assert_eq!(v["equal"], 28);
}

#[test]
fn a_sharded_pickle_folder_becomes_a_safetensors_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample("sharded-bin");
    let one = dir.path().join("one");
    let r = run(&["convert", &input, s(&one)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(entries(&one), ["config.json", "model.safetensors"]);
    assert_eq!(
        std::fs::read(one.join("config.json")).unwrap(),
        std::fs::read(Path::new(&input).join("config.json")).unwrap()
    );
    assert_eq!(run(&["diff", &input, s(&one)]).code, 0);

    let sharded = dir.path().join("sharded");
    let r = run(&["convert", &input, s(&sharded), "--max-shard-size", "50kB"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let names = entries(&sharded);
    assert_eq!(names[0], "config.json");
    assert_eq!(names.last().unwrap(), "model.safetensors.index.json");
    let shards: Vec<&String> = names.iter().filter(|n| n.ends_with(".safetensors")).collect();
    assert!(shards.len() >= 2, "{names:?}");
    let n = shards.len();
    assert_eq!(shards[0], &format!("model-00001-of-{n:05}.safetensors"));
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(sharded.join("model.safetensors.index.json")).unwrap()).unwrap();
    let mut total = 0u64;
    for shard in &shards {
        let (tensors, _) = read_st(&sharded.join(shard));
        let bytes = std::fs::read(sharded.join(shard)).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        for name in tensors.keys() {
            assert_eq!(index["weight_map"][name], shard.as_str());
            let data = st.tensor(name).unwrap().data().len() as u64;
            assert!(
                data <= 50_000 || tensors.len() == 1,
                "{shard}: {name} in an over-full shard"
            );
            total += data;
        }
    }
    assert_eq!(index["metadata"]["total_size"], total);
    let d = run(&["diff", &input, s(&sharded)]);
    assert_eq!(d.code, 0, "{}", d.stdout);
    assert!(
        r.stdout.contains(&format!("verified: {n} files reopened")),
        "{}",
        r.stdout
    );
}

/// A diffusers-shaped folder whose components hold real torch.save files.
fn diffusers_bin(dir: &Path) -> PathBuf {
    let root = dir.join("pipe");
    for (from, to) in [
        (sample("gpt2-tiny.bin"), "text_encoder/pytorch_model.bin"),
        (
            root_str("tests/data/torch/views.pt"),
            "unet/diffusion_pytorch_model.bin",
        ),
        (sample("diffusers-tiny/model_index.json"), "model_index.json"),
        (sample("diffusers-tiny/unet/config.json"), "unet/config.json"),
        (sample("diffusers-tiny/tokenizer/vocab.json"), "tokenizer/vocab.json"),
        (
            sample("diffusers-tiny/scheduler/scheduler_config.json"),
            "scheduler/scheduler_config.json",
        ),
    ] {
        let to = root.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    root
}

fn root_str(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

#[test]
fn a_diffusers_folder_keeps_its_layout() {
    let dir = tempfile::tempdir().unwrap();
    let input = diffusers_bin(dir.path());
    let out = dir.path().join("out");
    let r = run(&["convert", s(&input), s(&out)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for f in [
        "model_index.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors",
        "tokenizer/vocab.json",
        "scheduler/scheduler_config.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing: {}", r.stdout);
    }
    assert!(!out.join("unet/diffusion_pytorch_model.bin").exists());
    assert!(
        r.stdout
            .contains("alias: text_encoder/lm_head.weight is text_encoder/wte.weight"),
        "{}",
        r.stdout
    );
    let d = run(&["diff", s(&input), s(&out)]);
    assert_eq!(d.code, 0, "{}", d.stdout);
    // the input was not touched
    assert!(input.join("unet/diffusion_pytorch_model.bin").is_file());
    assert_eq!(entries(dir.path()), ["out", "pipe"]);
}

#[test]
fn refusals_and_errors_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.safetensors");
    let o = s(&out);
    // dangerous: exit 1 even when suspicious input is allowed
    let r = run(&["convert", &sample("malicious.bin"), o, "--allow-suspicious"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("posix.system"), "{}", r.stdout);
    // suspicious: refused unless allowed, then the opaque object is named
    let lightning = root_str("tests/data/torch/lightning.ckpt");
    let r = run(&["convert", &lightning, o]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("--allow-suspicious"), "{}", r.stdout);
    let r = run(&["convert", &lightning, o, "--json"]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], "refused");
    assert_eq!(v["files"][0]["findings"][0]["global"], "argparse.Namespace");
    assert!(entries(dir.path()).is_empty());
    // torch-only dtypes are named
    let r = run(&["convert", &root_str("tests/data/torch/dtypes.pt"), o]);
    assert_clean_error(&r, "complex128");
    assert!(
        r.stderr.contains("complex128") && r.stderr.contains("complex32"),
        "{}",
        r.stderr
    );
    // a 4 TiB zero-stride expansion is refused before anything is written
    let r = run(&["convert", &root_str("tests/data/convert/expanded-4tib.pt"), o]);
    assert_clean_error(&r, "expanded");
    assert!(r.stderr.contains("expanded view"), "{}", r.stderr);
    // the input itself, a non-empty folder, a file that needs shards
    let copy = dir.path().join("in.bin");
    std::fs::copy(sample("gpt2-tiny.bin"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    assert_clean_error(&run(&["convert", s(&copy), s(&copy)]), "onto the input");
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), b"x").unwrap();
    assert_clean_error(&run(&["convert", &sample("sharded-bin"), s(&full)]), "non-empty folder");
    assert_clean_error(
        &run(&["convert", s(&copy), o, "--max-shard-size", "10kB"]),
        "shards into a file",
    );
    assert_clean_error(&run(&["convert", "/nonexistent.bin", o]), "missing input");
    assert_clean_error(&run(&["convert", &sample("README.md"), o]), "not a checkpoint");
    // a raw pickle the reader cannot use is still refused for what the scanner found in it
    let r = run(&["convert", &sample("malicious.pkl"), o]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("__builtin__.print"), "{}", r.stdout);
    assert_clean_error(
        &run(&["convert", s(&copy), "/nonexistent/dir/o.safetensors"]),
        "missing folder",
    );
    let mut left = entries(dir.path());
    left.retain(|e| e != "in.bin" && e != "full");
    assert!(left.is_empty(), "{left:?}");
    // then it works, and the JSON says what happened
    let r = run(&["convert", &lightning, o, "--allow-suspicious", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], "converted");
    let c = &v;
    assert_eq!(c["tensors"], 16);
    assert_eq!(c["verification"]["tensors"], 16);
    assert!(c["left_out"][0].as_str().unwrap().contains("argparse.Namespace"), "{c}");
    assert_eq!(c["suspicious"][0]["verdict"], "suspicious");
}

#[test]
fn an_existing_output_folder_receives_model_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["convert", &sample("gpt2-tiny-legacy.bin"), s(dir.path())]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(entries(dir.path()), ["model.safetensors"]);
    let out = dir.path().join("model.safetensors");
    let first = std::fs::read(&out).unwrap();
    // an existing output is refused without --force, and left as it was
    let again = run(&["convert", &sample("gpt2-tiny.bin"), s(&out)]);
    assert_clean_error(&again, "existing output");
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), first);
    assert_eq!(entries(dir.path()), ["model.safetensors"]);
    let again = run(&["convert", &sample("gpt2-tiny.bin"), s(&out), "--force"]);
    assert_eq!(
        again.code, 0,
        "an existing output file is replaced atomically with --force: {}",
        again.stderr
    );
    assert_eq!(entries(dir.path()), ["model.safetensors"]);
}

#[test]
fn plain_state_dicts_convert_to_exactly_what_python_safetensors_writes() {
    // the fixtures' reference files were written by safetensors.torch.save_file (torch 2.15,
    // safetensors 0.8): same tensor order, header and padding, byte for byte
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "dtypes.pt",
        "dtypes-legacy.pt",
        "dtypes-untyped-legacy.pt",
        "float8-all.pt",
        "list-root.pt",
        "params.pt",
        "params-legacy.pt",
        "protocol4.pt",
        "protocol5.pt",
        "renamed.pt",
        "stream.pt",
        "views.pt",
        "views-legacy.pt",
    ] {
        let input = root().join("tests/data/torch").join(name);
        let out = dir.path().join(format!("{name}.safetensors"));
        let r = run(&["convert", s(&input), s(&out), "--skip-unsupported"]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let reference = root().join(format!("tests/data/torch/{name}.ref.safetensors"));
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(&reference).unwrap(),
            "{name}: differs from {}",
            reference.display()
        );
    }
}

#[test]
fn outputs_that_are_not_regular_files_are_refused_and_left_untouched() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let input = sample("gpt2-tiny.bin");
    // a FIFO: refused even with --force, still a FIFO, nothing left beside it (and no hang: the
    // FIFO is never opened)
    let fifo = dir.path().join("fifo.safetensors");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // a symbolic link to a regular file: refused, the link and the file it names unchanged
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    let link = dir.path().join("link.safetensors");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    // a dangling symbolic link: refused, nothing created where it points
    let dangling = dir.path().join("dangling.safetensors");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    // a socket
    let sock = dir.path().join("sock.safetensors");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    for (out, what) in [
        (&fifo, "a FIFO"),
        (&link, "a symbolic link"),
        (&dangling, "a symbolic link"),
        (&sock, "a socket"),
    ] {
        for force in [false, true] {
            let mut args = vec!["convert", &input, s(out)];
            if force {
                args.push("--force");
            }
            let r = run(&args);
            assert_clean_error(&r, what);
            assert!(r.stderr.contains(what), "{what}: {}", r.stderr);
        }
    }
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&sock).unwrap().file_type().is_socket());
    assert_eq!(std::fs::read_link(&link).unwrap(), victim);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(std::fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
    assert!(!dir.path().join("nowhere").exists());
    assert_eq!(
        entries(dir.path()),
        [
            "dangling.safetensors",
            "fifo.safetensors",
            "link.safetensors",
            "sock.safetensors",
            "victim.txt"
        ]
    );
    // a file where a folder is expected (a folder input), and a folder output that is a file
    let r = run(&["convert", &sample("sharded-bin"), s(&victim)]);
    assert_clean_error(&r, "file as folder output");
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    // a missing output folder is named
    let r = run(&["convert", &input, s(&dir.path().join("no/such/x.safetensors"))]);
    assert_clean_error(&r, "missing output folder");
    assert!(
        r.stderr.contains("no/such") && r.stderr.contains("does not exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn dev_null_is_never_replaced() {
    // as root, a rename onto /dev/null would succeed: that is what the check prevents
    if unsafe { libc::geteuid() } != 0 {
        common::skip("not root, so /dev/null could not be replaced anyway");
        return;
    }
    use std::os::unix::fs::FileTypeExt;
    for force in [false, true] {
        let mut args = vec!["convert".to_string(), sample("gpt2-tiny.bin"), "/dev/null".into()];
        if force {
            args.push("--force".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&args);
        assert_clean_error(&r, "/dev/null");
        assert!(r.stderr.contains("character device"), "{}", r.stderr);
        assert!(
            std::fs::symlink_metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}

/// Two key paths that flatten to one name (`{"a.b": ones(2), "a": {"b": zeros(3)}}`): both tensors
/// are listed, counted, converted and compared; the second under `a.b#2`, with a warning. (The
/// second was skipped: `inspect` counted 1 tensor of 2, `convert` wrote one and said "verified",
/// and `diff` of the input and that output said "identical".)
#[test]
fn tensors_whose_key_paths_flatten_alike_are_all_kept() {
    for (file, name) in [("collide.pt", "a.b"), ("intkey.pt", "1")] {
        let input = root().join("tests/data/pickle/collide").join(file);
        let r = run(&["inspect", "--json", s(&input)]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let names: Vec<&str> = v["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [name.to_string(), format!("{name}#2")], "{file}");
        assert_eq!(v["total_params"], 5, "{file}: {v}");
        let dir = tempfile_dir(file);
        let out = dir.join("out.safetensors");
        let r = run(&["convert", s(&input), s(&out)]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        assert!(
            r.stdout.contains(&format!("listed as {name}#2")),
            "{file}: {}",
            r.stdout
        );
        let (hashes, _) = read_st(&out);
        assert_eq!(hashes.len(), 2, "{file}");
        assert_eq!(hashes[&format!("{name}#2")].2, [3], "{file}");
        let r = run(&["diff", s(&input), s(&out)]);
        assert_eq!(r.code, 0, "{file}: {}", r.stdout);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

fn tempfile_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ts-collide-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// review 37: a truncated safetensors or GGUF is bad input (exit 2, one `error:` line saying what
/// `inspect` says), not a refusal by the scanner with advice (`--allow-suspicious`) that cannot help.
#[test]
fn a_damaged_input_is_an_error_not_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let st = std::fs::read(sample("gpt2-tiny.safetensors")).unwrap();
    let gguf = std::fs::read(sample("tiny.gguf")).unwrap();
    let t_st = common::write(dir.path(), "t.safetensors", &st[..5000]);
    let t_gguf = common::write(dir.path(), "t.gguf", &gguf[..100]);
    let o = dir.path().join("o.safetensors");
    for (input, want) in [(&t_st, "truncated"), (&t_gguf, "")] {
        for extra in [None, Some("--allow-suspicious")] {
            let mut args = vec!["convert", s(input), s(&o)];
            args.extend(extra);
            let r = run(&args);
            assert_clean_error(&r, "damaged input");
            assert!(r.stderr.contains(s(input)) && r.stderr.contains(want), "{}", r.stderr);
            assert!(
                !r.stdout.contains("refused") && !r.stderr.contains("allow-suspicious"),
                "{}{}",
                r.stdout,
                r.stderr
            );
        }
    }
    let inspect = run(&["inspect", s(&t_st)]);
    assert_eq!(inspect.code, 2);
    let r = run(&["convert", s(&t_st), s(&o)]);
    assert_eq!(r.stderr, inspect.stderr, "the same words as inspect");
    let mut left = entries(dir.path());
    left.retain(|e| !e.starts_with("t."));
    assert!(left.is_empty(), "{left:?}");
}

/// review 37: a file converted into an existing folder with `--max-shard-size` that cuts it into
/// shards writes the shards there, as into a new folder (it said "give a folder as OUT"); the folder
/// must be empty for that, and a file that needs one shard still goes in beside what the folder holds.
/// A folder input into an existing empty folder is converted too (it asked for --force).
#[test]
fn an_existing_folder_receives_shards() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let with_slash = format!("{}/", s(&out));
    let r = run(&[
        "convert",
        &sample("gpt2-tiny.bin"),
        &with_slash,
        "--max-shard-size",
        "100kB",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let got = entries(&out);
    assert!(got.contains(&"model.safetensors.index.json".to_string()), "{got:?}");
    assert!(got.iter().filter(|n| n.starts_with("model-0")).count() > 1, "{got:?}");
    assert_eq!(entries(dir.path()), ["out"], "no temporary left");
    let r = run(&["diff", &sample("gpt2-tiny.bin"), s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // not empty now: the shards would mix with what it holds
    let r = run(&[
        "convert",
        &sample("gpt2-tiny.bin"),
        s(&out),
        "--max-shard-size",
        "100kB",
    ]);
    assert_clean_error(&r, "shards into a non-empty folder");
    assert!(r.stderr.contains("not empty"), "{}", r.stderr);
    // one shard: beside the folder's files, as before
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("config.json"), b"{}").unwrap();
    let r = run(&[
        "convert",
        &sample("gpt2-tiny.bin"),
        s(&other),
        "--max-shard-size",
        "5MB",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(entries(&other), ["config.json", "model.safetensors"]);
    // a folder input into an existing empty folder
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let r = run(&["convert", &sample("sharded-bin"), s(&empty)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        entries(&empty).iter().any(|n| n.ends_with(".safetensors")),
        "{:?}",
        entries(&empty)
    );
}
