//! A model folder's files that make a loader run code or read elsewhere, with no pickle to walk:
//! `auto_map` classes that `trust_remote_code=True` imports from the folder's `.py` files (or from
//! another repository), and a shard index naming files outside the folder. A folder scan said these
//! folders were safe (exit 0), skipping the config, the code and the index as "not checkpoints".

mod common;

use common::{run, sample};

#[test]
fn a_folder_that_ships_code_or_points_outside_is_not_safe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(sample("gpt2-tiny.safetensors"), d.join("model.safetensors")).unwrap();
    std::fs::write(
        d.join("config.json"),
        r#"{"model_type":"x","auto_map":{"AutoModel":"modeling_x.XModel","AutoConfig":"org/other--configuration_x.XConfig"}}"#,
    )
    .unwrap();
    std::fs::write(d.join("modeling_x.py"), "import os\n").unwrap();
    let p = d.to_str().unwrap();
    let r = run(&["scan", "--json", p]);
    assert_eq!(r.code, 1, "{} {}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let cfg = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("config.json"))
        .unwrap();
    assert_eq!(cfg["verdict"], "suspicious", "{cfg}");
    assert_eq!(cfg["format"], "hf-config", "{cfg}");
    let whys: Vec<&str> = cfg["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["why"].as_str().unwrap())
        .collect();
    assert!(
        whys.iter().any(|w| w.contains("runs modeling_x.py from this folder")),
        "{whys:?}"
    );
    assert!(
        whys.iter().any(|w| w.contains("another Hub repository (org/other)")),
        "{whys:?}"
    );
    let entries: Vec<&str> = cfg["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["entry"].as_str().unwrap())
        .collect();
    assert_eq!(entries, ["auto_map.AutoModel", "auto_map.AutoConfig"], "{cfg}");
    assert!(
        cfg["findings"][0]["loaders"][0]
            .as_str()
            .unwrap()
            .contains("trust_remote_code=True")
    );

    // no auto_map, but an index naming a file outside the folder
    std::fs::write(d.join("config.json"), r#"{"model_type":"x"}"#).unwrap();
    std::fs::remove_file(d.join("modeling_x.py")).unwrap();
    std::fs::write(
        d.join("model.safetensors.index.json"),
        r#"{"weight_map":{"w":"../elsewhere.bin"}}"#,
    )
    .unwrap();
    flags(p, "../elsewhere.bin, outside this folder");

    // Python's json takes NaN and lone surrogates, which hid an auto_map from a strict parser; a
    // custom pipeline and a nested config's auto_map name code too (review 36, each confirmed
    // under transformers: the module ran)
    std::fs::remove_file(d.join("model.safetensors.index.json")).unwrap();
    for cfg in [
        r#"{"initializer_range": NaN, "auto_map": {"AutoConfig": "configuration_x.XConfig"}}"#,
        r#"{"note": "\ud800", "auto_map": {"AutoConfig": "configuration_x.XConfig"}}"#,
        r#"{"custom_pipelines": {"pwn-task": {"impl": "pwn_pipe.PwnPipeline", "pt": ["AutoModel"]}}}"#,
        r#"{"text_config": {"auto_map": {"AutoModel": "modeling_x.XModel"}}}"#,
    ] {
        std::fs::write(d.join("config.json"), cfg).unwrap();
        flags(p, "trust_remote_code=True imports");
    }
    std::fs::write(
        d.join("model.safetensors.index.json"),
        r#"{"metadata": {"total_size": NaN}, "weight_map": {"w": "../elsewhere.bin"}}"#,
    )
    .unwrap();
    std::fs::write(d.join("config.json"), r#"{"model_type":"x"}"#).unwrap();
    flags(p, "outside this folder");
    std::fs::remove_file(d.join("model.safetensors.index.json")).unwrap();

    // review 36, round 3 (each confirmed under its loader: the module ran): code no JSON names
    // (diffusers components and pipelines, sentence-transformers modules, custom_generate), a config
    // nested past serde_json's depth or holding 1e400, the tokenizer's legacy auto_map list, and a
    // PEFT adapter whose base model is a folder outside this one
    std::fs::create_dir_all(d.join("custom_generate")).unwrap();
    std::fs::write(d.join("custom_generate/generate.py"), "import os\n").unwrap();
    let r = run(&["scan", "--json", p]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("Python code in the model folder"), "{}", r.stdout);
    std::fs::remove_dir_all(d.join("custom_generate")).unwrap();
    let deep = format!(
        r#"{{"pad": {}1{}, "auto_map": {{"AutoConfig": "c.C"}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    for cfg in [deep.as_str(), r#"{"pad": 1e400, "auto_map": {"AutoConfig": "c.C"}}"#] {
        std::fs::write(d.join("config.json"), cfg).unwrap();
        flags(p, "cannot check it for code");
    }
    std::fs::write(d.join("config.json"), r#"{"model_type":"x"}"#).unwrap();
    std::fs::write(
        d.join("tokenizer_config.json"),
        r#"{"auto_map": ["tokenization_x.XTok", null]}"#,
    )
    .unwrap();
    flags(p, "imports tokenization_x.XTok");
    std::fs::remove_file(d.join("tokenizer_config.json")).unwrap();
    std::fs::write(
        d.join("adapter_config.json"),
        r#"{"base_model_name_or_path": "/srv/other-model"}"#,
    )
    .unwrap();
    flags(p, "base model is /srv/other-model, outside this folder");
    std::fs::write(
        d.join("adapter_config.json"),
        r#"{"base_model_name_or_path": "org/base"}"#,
    )
    .unwrap();
    let r = run(&["scan", p]);
    assert_eq!(r.code, 0, "a Hub id is not a folder outside: {}", r.stdout);
    std::fs::remove_file(d.join("adapter_config.json")).unwrap();

    // a plain folder stays safe
    let r = run(&["scan", p]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
}

/// Scan the folder `p`: it must be a finding (exit 1) whose report says `needle`.
fn flags(p: &str, needle: &str) {
    let r = run(&["scan", p]);
    assert_eq!(r.code, 1, "{needle}: {} {}", r.stdout, r.stderr);
    assert!(r.stdout.contains(needle), "{needle}: {}", r.stdout);
}
