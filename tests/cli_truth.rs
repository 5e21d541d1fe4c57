//! Every label true (issue 24): folders are files in the tree, folder metadata names its file, global
//! options before the subcommand, closed pipes, GGUF template warnings in `inspect`, lists cut only
//! with `+N more`, text escaped once, and the small mislabels of `scan`.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{gguf, run, run_env, sample, write};
use serde_json::Value;

fn copy(sample_rel: &str, dir: &Path, name: &str) {
    std::fs::copy(sample(sample_rel), dir.join(name)).unwrap();
}

fn gguf_with(template: &str) -> Vec<u8> {
    gguf::Builder::default()
        .kv_str("general.architecture", "llama")
        .kv_str("tokenizer.chat_template", template)
        .f32s("a", &[1.0; 8])
        .bytes()
}

#[test]
fn folder_tree_top_nodes_are_whole_file_names() {
    let dir = tempfile::tempdir().unwrap();
    copy("gpt2-tiny.bin", dir.path(), "gpt2-tiny.bin");
    copy("gpt2-tiny.safetensors", dir.path(), "gpt2-tiny.safetensors");
    copy(
        "plain-folder/adapter_model.safetensors",
        dir.path(),
        "adapter.safetensors",
    );
    let r = run(&["inspect", &dir.path().to_string_lossy(), "--tree", "--depth", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tops: Vec<&str> = r
        .stdout
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        tops,
        ["adapter.safetensors", "gpt2-tiny.bin", "gpt2-tiny.safetensors"],
        "{}",
        r.stdout
    );
}

#[test]
fn a_folder_whose_checkpoints_sit_in_subfolders_says_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("gpt2")).unwrap();
    copy("gpt2-tiny.safetensors", &dir.path().join("gpt2"), "model.safetensors");
    let r = run(&["inspect", &dir.path().to_string_lossy()]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(!r.stderr.contains("empty"), "{}", r.stderr);
    assert!(r.stderr.contains("subfolders: gpt2/"), "{}", r.stderr);
}

#[test]
fn folder_metadata_names_its_file_and_an_ambiguous_key_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.gguf", &gguf_with("{{ 'A' }}"));
    write(dir.path(), "b.gguf", &gguf_with("{{ 'B' }}"));
    let d = dir.path().to_string_lossy().into_owned();
    let v: Value = serde_json::from_str(&run(&["inspect", &d, "--json"]).stdout).unwrap();
    assert_eq!(v["metadata"]["a.gguf/tokenizer.chat_template"], "{{ 'A' }}", "{v}");
    assert_eq!(v["metadata"]["b.gguf/tokenizer.chat_template"], "{{ 'B' }}", "{v}");
    let r = run(&["inspect", &d]);
    assert!(
        r.stdout.contains("b.gguf/tokenizer.chat_template: {{ 'B' }}"),
        "{}",
        r.stdout
    );
    let r = run(&["show", &d, "tokenizer.chat_template"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("a.gguf") && r.stderr.contains("b.gguf"),
        "{}",
        r.stderr
    );
    let r = run(&["show", &d, "b.gguf/tokenizer.chat_template"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("{{ 'B' }}"), "{}", r.stdout);
}

#[test]
fn global_options_work_before_the_subcommand() {
    let r = run(&["--color", "never", "inspect", &sample("gpt2-tiny.safetensors")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("wte.weight"));
    let cache = tempfile::tempdir().unwrap();
    let r = run_env(
        &["--offline", "inspect", "hf://tiny/gpt2"],
        &[("XDG_CACHE_HOME", &cache.path().to_string_lossy())],
    );
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("inspect: No such file"), "{}", r.stderr);
    assert!(r.stderr.contains("offline"), "{}", r.stderr);
}

/// Run with stdout a pipe whose reading end is closed at once: the exit code and stderr.
fn closed_pipe(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), err)
}

#[test]
fn a_closed_pipe_keeps_the_exit_code_the_work_earned() {
    let (code, err) = closed_pipe(&["scan", "samples"]);
    assert_eq!(code, 1, "{err}");
    let (code, err) = closed_pipe(&["scan", "samples", "--json"]);
    assert_eq!(code, 1, "{err}");
    for args in [
        &["completions", "bash"][..],
        &["man"],
        &["inspect", "samples/gpt2-tiny.bin"],
        &["diff", "samples/gpt2-tiny.bin", "samples/gpt2-tiny.safetensors"],
    ] {
        let (code, err) = closed_pipe(args);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(code == 0 || code == 1, "{args:?}: {code} {err}");
    }
}

#[test]
fn inspect_warns_about_a_dangerous_chat_template() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "evil.gguf",
        &gguf_with("{{ ''.__class__.__mro__[1].__subclasses__() }}"),
    );
    let r = run(&["inspect", &p.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: dangerous: evil.gguf: tokenizer.chat_template"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_tree_never_drops_dtypes_silently() {
    let dir = tempfile::tempdir().unwrap();
    let dtypes = [
        ("F64", 8),
        ("F32", 4),
        ("I64", 8),
        ("I32", 4),
        ("F16", 2),
        ("I16", 2),
        ("U8", 1),
    ];
    let mut entries = Vec::new();
    let mut off = 0;
    for (i, (d, size)) in dtypes.iter().enumerate() {
        entries.push(format!(
            "\"m.t{i}\":{{\"dtype\":\"{d}\",\"shape\":[4],\"data_offsets\":[{off},{}]}}",
            off + 4 * size
        ));
        off += 4 * size;
    }
    let header = format!("{{{}}}", entries.join(","));
    let p = write(dir.path(), "mix.safetensors", &common::safetensors(&header, off));
    let r = run(&["inspect", &p.to_string_lossy(), "--tree", "--depth", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = r.stdout.lines().find(|l| l.starts_with("m ")).unwrap();
    assert!(row.ends_with(" +3 more"), "{row}");
}

#[test]
fn gguf_text_is_escaped_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut tokens = 8u32.to_le_bytes().to_vec(); // STRING items
    tokens.extend_from_slice(&3u64.to_le_bytes());
    for t in ["<s>", "\"", "a\\b"] {
        tokens.extend_from_slice(&gguf::string(t.as_bytes()));
    }
    let b = gguf::Builder::default()
        .kv_str("general.architecture", "llama")
        .kv("tokenizer.ggml.tokens", 9, tokens)
        .kv_str("tokenizer.chat_template", "{{ x|attr('\\x5f\\x5fclass\\x5f\\x5f') }}")
        .f32s("a", &[1.0; 8]);
    let p = write(dir.path(), "tok.gguf", &b.bytes());
    let p = p.to_string_lossy().into_owned();
    let r = run(&["inspect", &p]);
    // escaped once, where printed: a backslash stays one backslash
    assert!(r.stdout.contains("[\"<s>\", '\"', \"a\\b\"]"), "{}", r.stdout);
    assert!(!r.stdout.contains("\"\\\\\"\""), "{}", r.stdout);
    let r = run(&["scan", &p]);
    // the excerpt as it is in the template, so that it can be searched for there
    assert!(r.stdout.contains("attr('\\x5f\\x5fclass"), "{}", r.stdout);
    assert!(!r.stdout.contains("\\\\x5f"), "{}", r.stdout);
    let v: Value = serde_json::from_str(&run(&["scan", &p, "--json"]).stdout).unwrap();
    let why = v["files"][0]["findings"][0]["why"].as_str().unwrap();
    assert!(why.contains("attr('\\x5f\\x5fclass"), "{why}");
}

#[test]
fn scan_labels_say_what_was_checked() {
    let r = run(&["scan", &sample("tiny.gguf"), "--verbose"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("SAFE  (1 chat template checked)"), "{}", r.stdout);
    assert!(!r.stdout.contains("pickles"), "{}", r.stdout);
    assert!(!r.stdout.contains("imports:"), "{}", r.stdout);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "vocab.txt", b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nof\n");
    copy("gpt2-tiny.safetensors", dir.path(), "model.safetensors");
    let r = run(&["scan", &dir.path().to_string_lossy()]);
    assert!(r.stdout.contains("skipped: not a checkpoint (text)"), "{}", r.stdout);
    let r = run(&["scan", &sample("tiny.gguf"), "--format", "sarif"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let ts003 = &v["runs"][0]["tool"]["driver"]["rules"][2];
    assert_eq!(ts003["id"], "TS003");
    assert!(
        ts003["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("chat template"),
        "{ts003}"
    );
}
