//! `tensorscope verify` and `tensorscope sign`: OpenSSF Model Signing v1.0 bundles made by the
//! reference tool (tests/data/verify/make_fixtures.sh) and the spec's own vectors (upstream/), each
//! tamper giving exit 1 with the file named, errors giving exit 2, sign -> verify round trips, and
//! Hugging Face cache folders built here.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, assert_clean_error, run};
use serde_json::Value;
use sha2::Digest;

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/verify")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn key(name: &str) -> String {
    data(&format!("keys/{name}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A fresh copy of a committed fixture folder, to tamper with.
fn copy_of(fixture: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join(fixture);
    copy_dir(Path::new(&data(fixture)), &model);
    (dir, model)
}

fn verify(model: &Path, pubkey: &str, extra: &[&str]) -> Run {
    let m = model.to_string_lossy();
    let mut args = vec!["verify", &m, "--public-key", pubkey, "--color", "never"];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// Exit 1 with `name` on a line that also says `word`.
fn assert_fails_naming(r: &Run, word: &str, name: &str) {
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("NOT VERIFIED"), "{}", r.stdout);
    assert!(
        r.stdout.lines().any(|l| l.contains(word) && l.contains(name)),
        "no line with {word:?} and {name:?}:\n{}",
        r.stdout
    );
}

#[test]
fn folders_signed_by_the_reference_tool_verify() {
    let cases = [
        ("ref-p256", "p256.pub", None),
        ("ref-p521-shards", "p521.pub", None),
        ("ref-p256-blake2b", "p256.pub", None),
        ("ref-p384-single.bin", "p384.pub", Some("ref-p384-single.sig")),
    ];
    for (model, pubkey, sig) in cases {
        let mut extra = vec!["--json"];
        let sig_path = sig.map(data);
        if let Some(s) = &sig_path {
            extra.extend(["--signature", s]);
        }
        let r = verify(Path::new(&data(model)), &key(pubkey), &extra);
        assert_eq!(r.code, 0, "{model}: {}{}", r.stdout, r.stderr);
        let j = json_of(&r);
        assert_eq!(j["verified"], true, "{model}");
        assert_eq!(j["signature"]["valid"], true, "{model}");
        assert!(j["files"].as_array().is_some_and(|f| !f.is_empty()), "{model}");
    }
}

#[test]
fn the_specs_test_vectors_verify() {
    let pubkey = data("upstream/signing-key-pub.pem");
    // v1.0.0 signed one file; v1.0.1 and v1.1.0 a folder with an `ignore-me` left out at signing
    let r = verify(
        Path::new(&data("upstream/v1.0.0-elliptic-key/signme-1")),
        &pubkey,
        &["--signature", &data("upstream/v1.0.0-elliptic-key/model.sig")],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for v in ["v1.0.1-elliptic-key", "v1.1.0-elliptic-key", "v1.1.0-certificate"] {
        let model = data(&format!("upstream/{v}"));
        let r = verify(Path::new(&model), &pubkey, &["--ignore-paths", "ignore-me"]);
        assert_eq!(r.code, 0, "{v}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with("VERIFIED"), "{}", r.stdout);
        // v1.1.0 records `ignore-me` in the predicate's ignore_paths; v1.0.1 did not, so there
        // the extra file fails without --ignore-paths, as with the reference tool
        let r = verify(Path::new(&model), &pubkey, &[]);
        if v == "v1.0.1-elliptic-key" {
            assert_fails_naming(&r, "unsigned", "ignore-me");
        } else {
            assert_eq!(r.code, 0, "{v}: {}", r.stdout);
        }
    }
    // the same vector with another key: the bundle's key hint names a different key
    let r = verify(
        Path::new(&data("upstream/v1.1.0-elliptic-key")),
        &key("p384.pub"),
        &["--ignore-paths", "ignore-me"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("wrong key"), "{}", r.stdout);
}

#[test]
fn a_changed_byte_fails_naming_the_file() {
    let (_d, model) = copy_of("ref-p256");
    let f = model.join("model.safetensors");
    let mut b = std::fs::read(&f).unwrap();
    let last = b.len() - 1;
    b[last] ^= 1;
    std::fs::write(&f, b).unwrap();
    let r = verify(&model, &key("p256.pub"), &[]);
    assert_fails_naming(&r, "changed", "model.safetensors");
    assert!(r.stdout.contains("1 of 4 files failed"), "{}", r.stdout);
    let j = json_of(&verify(&model, &key("p256.pub"), &["--json"]));
    let bad: Vec<&Value> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "ok")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["name"], "model.safetensors");
    assert_eq!(bad[0]["status"], "changed");
}

#[test]
fn blake2b_digests_are_checked() {
    let (_d, model) = copy_of("ref-p256-blake2b");
    let j = json_of(&verify(&model, &key("p256.pub"), &["--json"]));
    assert_eq!(j["signature"]["serialization"]["hash_type"], "blake2b");
    assert!(j["files"][0]["digest"].as_str().unwrap().starts_with("blake2b:"), "{j}");
    std::fs::write(model.join("b.json"), b"config!\n").unwrap();
    let r = verify(&model, &key("p256.pub"), &[]);
    assert_fails_naming(&r, "blake2b differs", "b.json");
}

#[test]
fn a_changed_shard_or_size_fails_naming_the_file() {
    let (_d, model) = copy_of("ref-p521-shards");
    let f = model.join("tokenizer/vocab.txt");
    let mut b = std::fs::read(&f).unwrap();
    b[5000] = b'z';
    std::fs::write(&f, &b).unwrap();
    let r = verify(&model, &key("p521.pub"), &[]);
    assert_fails_naming(&r, "changed", "tokenizer/vocab.txt");
    assert!(r.stdout.contains("shard 4096..8192"), "{}", r.stdout);
    b.truncate(100);
    std::fs::write(&f, &b).unwrap();
    let r = verify(&model, &key("p521.pub"), &[]);
    assert_fails_naming(&r, "size changed", "tokenizer/vocab.txt");
}

#[test]
fn an_unsigned_extra_file_fails_unless_ignored() {
    let (_d, model) = copy_of("ref-p256");
    std::fs::write(model.join("tokenizer/extra.bin"), b"not signed").unwrap();
    let r = verify(&model, &key("p256.pub"), &[]);
    assert_fails_naming(&r, "unsigned", "tokenizer/extra.bin");
    let r = verify(&model, &key("p256.pub"), &["--ignore-unsigned-files"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = verify(&model, &key("p256.pub"), &["--ignore-paths", "tokenizer/extra.bin"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // git metadata is left out by default, as by the reference tool
    std::fs::create_dir_all(model.join(".git/objects")).unwrap();
    std::fs::write(model.join(".git/HEAD"), b"ref: refs/heads/main\n").unwrap();
    std::fs::write(model.join(".gitattributes"), b"*.safetensors filter=lfs\n").unwrap();
    std::fs::remove_file(model.join("tokenizer/extra.bin")).unwrap();
    let r = verify(&model, &key("p256.pub"), &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn a_missing_file_fails_naming_it_and_names_compare_byte_for_byte() {
    let (_d, model) = copy_of("ref-p256");
    std::fs::remove_file(model.join("config.json")).unwrap();
    let r = verify(&model, &key("p256.pub"), &[]);
    assert_fails_naming(&r, "missing", "config.json");
    // the same bytes under a name differing only in case are not the signed file
    std::fs::write(
        model.join("Config.json"),
        std::fs::read(data("ref-p256/config.json")).unwrap(),
    )
    .unwrap();
    let r = verify(&model, &key("p256.pub"), &[]);
    assert_fails_naming(&r, "missing", "config.json");
    assert_fails_naming(&r, "unsigned", "Config.json");
    // --ignore-unsigned-files does not excuse a missing file
    let r = verify(&model, &key("p256.pub"), &["--ignore-unsigned-files"]);
    assert_fails_naming(&r, "missing", "config.json");
}

#[cfg(unix)]
#[test]
fn only_regular_files() {
    let (_d, model) = copy_of("ref-p256");
    std::fs::rename(model.join("config.json"), model.join("real.json")).unwrap();
    std::os::unix::fs::symlink("real.json", model.join("config.json")).unwrap();
    let r = verify(&model, &key("p256.pub"), &["--ignore-paths", "real.json"]);
    assert_fails_naming(&r, "not-regular", "config.json");
}

#[test]
fn a_wrong_key_or_an_altered_bundle_fails() {
    let model = PathBuf::from(data("ref-p256"));
    let r = verify(&model, &key("other.pub"), &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("wrong key"), "{}", r.stdout);
    assert!(
        r.stdout.contains("ref-p256/model.sig"),
        "names the signature: {}",
        r.stdout
    );
    // without the key hint, the signature itself is what fails
    let dir = tempfile::tempdir().unwrap();
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(data("ref-p256/model.sig")).unwrap()).unwrap();
    bundle["verificationMaterial"]["publicKey"] = serde_json::json!({});
    let no_hint = dir.path().join("no-hint.sig");
    std::fs::write(&no_hint, bundle.to_string()).unwrap();
    let sig = no_hint.to_string_lossy();
    let r = verify(&model, &key("other.pub"), &["--signature", &sig]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("bad signature"), "{}", r.stdout);
    let r = verify(&model, &key("p256.pub"), &["--signature", &sig]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // a payload edited to bless other bytes no longer matches the signature
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
    let text = String::from_utf8(payload)
        .unwrap()
        .replacen("\"sha256\"", "\"sha256\" ", 1);
    bundle["dsseEnvelope"]["payload"] = b64.encode(text).into();
    let edited = dir.path().join("edited.sig");
    std::fs::write(&edited, bundle.to_string()).unwrap();
    let r = verify(&model, &key("p256.pub"), &["--signature", &edited.to_string_lossy()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("bad signature"), "{}", r.stdout);
    let sarif = verify(
        &model,
        &key("p256.pub"),
        &["--signature", &edited.to_string_lossy(), "--format", "sarif"],
    );
    let log = json_of(&sarif);
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "TSV001");
}

#[test]
fn unusable_inputs_are_errors() {
    let model = data("ref-p256");
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.sig");
    std::fs::write(&garbage, b"{\"mediaType\": 3}").unwrap();
    let not_key = dir.path().join("not.pub");
    std::fs::write(&not_key, b"hello").unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec![
            "--signature".into(),
            dir.path().join("absent.sig").to_string_lossy().into(),
        ],
        vec!["--signature".into(), garbage.to_string_lossy().into()],
    ];
    for extra in cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let r = verify(Path::new(&model), &key("p256.pub"), &extra);
        assert_clean_error(&r, &format!("{extra:?}"));
    }
    let r = verify(Path::new(&model), &not_key.to_string_lossy(), &[]);
    assert_clean_error(&r, "not a key");
    let r = run(&["verify", &model]);
    assert_clean_error(&r, "no key, not a cache");
    assert!(r.stderr.contains("--public-key"), "{}", r.stderr);
}

#[test]
fn sign_then_verify_round_trips() {
    for (k, shard) in [("p256", None), ("p384", Some("4096")), ("p521", None)] {
        let (_d, model) = copy_of("ref-p256");
        std::fs::remove_file(model.join("model.sig")).unwrap();
        let m = model.to_string_lossy().into_owned();
        let keyfile = key(&format!("{k}.key"));
        let mut args = vec!["sign", &m, "--private-key", &keyfile];
        if let Some(s) = shard {
            args.extend(["--shard-size", s]);
        }
        let r = run(&args);
        assert_eq!(r.code, 0, "{k}: {}{}", r.stdout, r.stderr);
        assert!(model.join("model.sig").is_file());
        let r = verify(&model, &key(&format!("{k}.pub")), &["--json"]);
        assert_eq!(r.code, 0, "{k}: {}", r.stdout);
        let j = json_of(&r);
        let method = if shard.is_some() { "shards" } else { "files" };
        assert_eq!(j["signature"]["serialization"]["method"], method, "{k}");
        std::fs::write(model.join("tokenizer/vocab.txt"), b"changed").unwrap();
        let r = verify(&model, &key(&format!("{k}.pub")), &[]);
        assert_fails_naming(&r, "changed", "tokenizer/vocab.txt");
    }
}

#[test]
fn signing_the_same_files_twice_lists_the_same_manifest() {
    // the shards manifest of the reference tool and ours agree digest for digest (same root)
    let (_d, model) = copy_of("ref-p521-shards");
    let sig = model.join("ours.sig");
    let (m, s, k) = (model.to_string_lossy(), sig.to_string_lossy(), key("p521.key"));
    let r = run(&[
        "sign",
        &m,
        "--private-key",
        &k,
        "--signature",
        &s,
        "--shard-size",
        "4096",
        "--json",
        "--ignore-paths",
        "model.sig",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let ours = json_of(&r)["root_sha256"].as_str().unwrap().to_string();
    let theirs = verify(&model, &key("p521.pub"), &["--json", "--ignore-paths", "ours.sig"]);
    assert_eq!(theirs.code, 0, "{}", theirs.stdout);
    use base64::Engine as _;
    let bundle: Value = serde_json::from_slice(&std::fs::read(model.join("model.sig")).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["subject"][0]["digest"]["sha256"], ours.as_str());
}

#[cfg(unix)]
#[test]
fn sign_refuses_what_it_cannot_sign() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"a").unwrap();
    std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
    let r = run(&["sign", &dir.path().to_string_lossy(), "--private-key", &key("p256.key")]);
    assert_clean_error(&r, "a symlink");
    let r = run(&["sign", &dir.path().to_string_lossy(), "--private-key", &key("p256.pub")]);
    assert_clean_error(&r, "a public key as the private key");
}

#[test]
fn help_has_examples() {
    for c in ["verify", "sign"] {
        let r = run(&[c, "--help"]);
        assert_eq!(r.code, 0, "{c}");
        assert!(
            r.stdout.contains("Examples:") && r.stdout.contains(&format!("tensorscope {c}")),
            "{c}"
        );
    }
}

// --- Hugging Face cache folders ---

/// `models--org--tiny` with one LFS file, one small file, a snapshot linking both, and refs/main.
fn hf_cache(root: &Path) -> (PathBuf, String, String) {
    let repo = root.join("models--org--tiny");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let small = b"{\"architectures\": [\"Tiny\"]}\n".to_vec();
    let lfs = hex(&sha2::Sha256::digest(&big));
    let mut git = sha1::Sha1::new();
    git.update(format!("blob {}\0", small.len()).as_bytes());
    git.update(&small);
    let git = hex(&git.finalize());
    let rev = "0123456789abcdef0123456789abcdef01234567";
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(repo.join(format!("snapshots/{rev}/sub"))).unwrap();
    std::fs::write(repo.join("refs/main"), rev).unwrap();
    std::fs::write(repo.join("blobs").join(&lfs), &big).unwrap();
    std::fs::write(repo.join("blobs").join(&git), &small).unwrap();
    #[cfg(unix)]
    {
        let snap = repo.join("snapshots").join(rev);
        std::os::unix::fs::symlink(format!("../../blobs/{lfs}"), snap.join("model.safetensors")).unwrap();
        std::os::unix::fs::symlink(format!("../../../blobs/{git}"), snap.join("sub/config.json")).unwrap();
    }
    (repo, lfs, git)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(unix)]
#[test]
fn hf_cache_blobs_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, lfs, git) = hf_cache(dir.path());
    let snap = repo.join("snapshots/0123456789abcdef0123456789abcdef01234567");
    for p in [&repo, &snap] {
        let r = run(&["verify", &p.to_string_lossy(), "--json"]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        let j = json_of(&r);
        assert_eq!(j["kind"], "hf-cache");
        assert_eq!(j["files"].as_array().unwrap().len(), 4, "{}", r.stdout);
    }
    // which blob a name reaches is not in the cache: the verdict says what it did not check
    let r = run(&["verify", &repo.to_string_lossy(), "--color", "never"]);
    assert!(
        r.stdout
            .contains("only the Hub records: --against hf://ORG/NAME checks that"),
        "{}",
        r.stdout
    );
    // a corrupted LFS blob
    let blob = repo.join("blobs").join(&lfs);
    let mut b = std::fs::read(&blob).unwrap();
    b[1000] ^= 0xff;
    std::fs::write(&blob, &b).unwrap();
    let r = run(&["verify", &repo.to_string_lossy(), "--color", "never"]);
    assert_fails_naming(&r, "changed", &format!("blobs/{lfs}"));
    let r = run(&["verify", &snap.to_string_lossy(), "--color", "never"]);
    assert_fails_naming(&r, "changed", &format!("blobs/{lfs}"));
    // a corrupted small (git sha1) blob, and a link to a blob that is gone
    std::fs::write(&blob, &{
        b[1000] ^= 0xff;
        b
    })
    .unwrap();
    std::fs::write(repo.join("blobs").join(&git), b"{}").unwrap();
    let r = run(&["verify", &repo.to_string_lossy(), "--color", "never"]);
    assert_fails_naming(&r, "changed", &format!("blobs/{git}"));
    std::fs::remove_file(repo.join("blobs").join(&git)).unwrap();
    let r = run(&["verify", &repo.to_string_lossy(), "--color", "never"]);
    assert_fails_naming(&r, "broken-link", "sub/config.json");
}
