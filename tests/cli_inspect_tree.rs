//! `inspect` as a user reads it: the module tree, natural order, the safety warning, names that lie
//! about their content, and where a Hugging Face cache path resolved to.

mod common;

use common::{run, safetensors, sample, write};

/// A safetensors file of F32 tensors with these names and shapes (data zero).
fn model(dir: &std::path::Path, name: &str, tensors: &[(&str, &[u64])]) -> String {
    let mut off = 0u64;
    let mut parts = Vec::new();
    for (n, shape) in tensors {
        let len = shape.iter().product::<u64>() * 4;
        let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
        parts.push(format!(
            "\"{n}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{off},{}]}}",
            dims.join(","),
            off + len
        ));
        off += len;
    }
    let header = format!("{{{}}}", parts.join(","));
    write(dir, name, &safetensors(&header, off as usize))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn tree_of_a_bert_model_shows_encoder_with_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let mut names = vec![
        ("embeddings.word_embeddings.weight".to_owned(), vec![100u64, 8]),
        ("embeddings.LayerNorm.weight".to_owned(), vec![8]),
    ];
    for l in 0..12 {
        for m in ["query", "key", "value"] {
            names.push((format!("encoder.layer.{l}.attention.self.{m}.weight"), vec![8, 8]));
            names.push((format!("encoder.layer.{l}.attention.self.{m}.bias"), vec![8]));
        }
    }
    names.push(("pooler.dense.weight".to_owned(), vec![8, 8]));
    let refs: Vec<(&str, &[u64])> = names.iter().map(|(n, s)| (n.as_str(), s.as_slice())).collect();
    let p = model(dir.path(), "bert.safetensors", &refs);
    let r = run(&["inspect", "--tree", "--depth", "2", &p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // encoder: 12 layers x 3 x (64 + 8) = 2,592 parameters, 10,368 bytes
    let enc = r
        .stdout
        .lines()
        .find(|l| l.starts_with("encoder"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(enc.contains("2,592") && enc.contains("10.4 kB"), "{enc}");
    let layer = r.stdout.lines().find(|l| l.starts_with("  layer")).unwrap();
    assert!(layer.contains("2,592"), "{layer}");
    // depth 2: nothing deeper than `encoder.layer`
    assert!(!r.stdout.contains("    0"), "{}", r.stdout);
    assert!(r.stdout.contains("75 tensors, 3,464 parameters"), "{}", r.stdout);
    // the whole tree without --depth, layers in natural order
    let r = run(&["inspect", "--tree", &p]);
    let layers: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
        .collect();
    let pos = |n: &str| {
        layers
            .iter()
            .position(|l| l.trim_start().starts_with(&format!("{n} ")))
            .unwrap()
    };
    assert!(pos("2") < pos("10"), "{layers:?}");
    // --depth needs --tree, and 0 is refused
    assert_eq!(run(&["inspect", "--depth", "2", &p]).code, 2);
    assert_eq!(run(&["inspect", "--tree", "--depth", "0", &p]).code, 2);
}

#[test]
fn the_table_is_in_natural_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = model(
        dir.path(),
        "m.safetensors",
        &[("h.10.w", &[2]), ("h.2.w", &[2]), ("h.1.w", &[2])],
    );
    let r = run(&["inspect", &p]);
    let rows: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("h."))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(rows, ["h.1.w", "h.2.w", "h.10.w"]);
    assert!(r.stdout.contains("(safetensors, 1 file)"));
    assert!(r.stdout.contains(" 3 tensors "), "{}", r.stdout);
}

#[test]
fn a_pickle_that_is_not_safe_gets_a_warning_that_points_at_scan() {
    let r = run(&["inspect", &sample("malicious.bin")]);
    assert_eq!(r.code, 0);
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: dangerous: "))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    assert!(
        line.contains("posix.system") && line.contains("run `tensorscope scan"),
        "{line}"
    );
    let r = run(&["inspect", &sample("mixed-folder")]);
    assert!(
        r.stderr.contains("warning: dangerous: extra.bin: posix.system"),
        "{}",
        r.stderr
    );
    let r = run(&["inspect", &sample("gpt2-tiny.bin")]);
    assert!(
        !r.stderr.contains("dangerous") && !r.stderr.contains("suspicious"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_name_that_contradicts_the_content_gets_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("model.safetensors");
    std::fs::copy(sample("gpt2-tiny.bin"), &p).unwrap();
    let r = run(&["inspect", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("note: model.safetensors is named .safetensors but its content is a torch.save pickle"),
        "{}",
        r.stderr
    );
    // review 38: a GGUF file so named was refused (exit 2) where every other format opens by its bytes
    let g = dir.path().join("tiny.safetensors");
    std::fs::copy(sample("tiny.gguf"), &g).unwrap();
    for cmd in ["inspect", "show"] {
        let mut args = vec![cmd, g.to_str().unwrap()];
        if cmd == "show" {
            args.push("output_norm.weight");
        }
        let r = run(&args);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        assert!(
            cmd == "show"
                || r.stderr
                    .contains("note: tiny.safetensors is named .safetensors but its content is GGUF"),
            "{cmd}: {}",
            r.stderr
        );
    }
    let r = run(&["inspect", &sample("gpt2-tiny.safetensors")]);
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
}

#[test]
fn a_hugging_face_cache_path_shows_repo_and_revision() {
    let rev = "9c29d147777ee831e9ede65ff5b0da324efbf8f0";
    for p in ["hub/models--tiny--gpt2", "hub/models--tiny--gpt2/snapshots"] {
        let r = run(&["inspect", &sample(p)]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout
                .contains(&format!("hugging face cache: tiny/gpt2, revision {rev} (main)")),
            "{}",
            r.stdout
        );
    }
    let r = run(&["inspect", "--json", &sample("hub/models--tiny--gpt2")]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["hub"]["repo"], "tiny/gpt2");
    assert_eq!(v["hub"]["revision"], rev);
    assert_eq!(v["hub"]["ref"], "main");
    let r = run(&["inspect", "--json", &sample("gpt2-tiny.safetensors")]);
    assert!(!r.stdout.contains("\"hub\""));
}

/// `--tree` counts as the model defines them (issue 24): gpt2-tiny.bin ties `lm_head.weight` to
/// `wte.weight`, so its top rows add up to the 172,288 parameters its safetensors twin holds, and the
/// tied row adds none.
#[test]
fn tree_rows_count_tied_weights_once() {
    for file in ["gpt2-tiny.bin", "gpt2-tiny.safetensors"] {
        let r = run(&["inspect", "--tree", "--depth", "1", &sample(file)]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let top: u64 = r
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("MODULE"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|w| w.replace(',', "").parse::<u64>().ok())
            })
            .sum();
        assert_eq!(top, 172_288, "{file}:\n{}", r.stdout);
        if file.ends_with(".bin") {
            let lm = r.stdout.lines().find(|l| l.starts_with("lm_head")).unwrap();
            assert_eq!(
                lm.split_whitespace().find(|w| w.starts_with(char::is_numeric)),
                Some("0"),
                "{lm}"
            );
        }
    }
}
