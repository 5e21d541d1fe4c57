//! Tidy output: histograms (integer edges, one bin for a constant, counts to the right), stored
//! indices after `--slice`, plurals.

mod common;

use common::{run, sample};

#[test]
fn integer_histograms_have_integer_edges() {
    let r = run(&[
        "show",
        &sample("diffusers-tiny/text_encoder/model.safetensors"),
        "text_model.embeddings.position_ids",
        "--bins",
        "10",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hist: Vec<&str> = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("histogram"))
        .skip(1)
        .collect();
    assert_eq!(hist.len(), 10, "{}", r.stdout);
    assert!(hist[0].trim_start().starts_with("0 .. 7 "), "{}", hist[0]);
    assert!(hist[9].trim_start().starts_with("69 .. 76 "), "{}", hist[9]);
    assert!(!r.stdout.contains(".5 .."), "{}", r.stdout);
    // counts end every row at the same column
    let ends: Vec<usize> = hist.iter().map(|l| l.chars().count()).collect();
    assert!(ends.iter().all(|&e| e == ends[0]), "{hist:?}");
}

#[test]
fn a_constant_tensor_has_one_bin() {
    let r = run(&[
        "show",
        &sample("plain-folder"),
        "adapter_model.safetensors/lora_B.weight",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("histogram (1 bin):"), "{}", r.stdout);
    let row = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("histogram"))
        .nth(1)
        .unwrap();
    assert!(row.trim_start().starts_with("0 ") && row.ends_with(" 256"), "{row}");
    assert!(!r.stdout.contains("0 .. 0"));
}

#[test]
fn labels_after_a_slice_are_the_stored_indices() {
    let r = run(&[
        "show",
        &sample("gpt2-tiny.safetensors"),
        "h.0.attn.c_attn.weight",
        "--slice",
        "-1,8:16",
        "--limit",
        "8",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("  [63, 8:"), "{}", r.stdout);
    assert!(!r.stdout.contains("[0:"), "{}", r.stdout);
}

#[test]
fn one_is_singular() {
    let r = run(&["inspect", &sample("gpt2-tiny.safetensors")]);
    assert!(r.stdout.contains("(safetensors, 1 file)"));
    let r = run(&["scan", &sample("malicious.pkl")]);
    assert!(r.stdout.contains("1 file: "), "{}", r.stdout);
    assert!(!r.stdout.contains("(s)"));
    let r = run(&["diff", &sample("gpt2-tiny.safetensors"), &sample("sharded")]);
    assert!(r.stdout.contains("28 common tensors compared"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("(s)") && !r.stdout.contains(" 1 tensors"),
        "{}",
        r.stdout
    );
}
