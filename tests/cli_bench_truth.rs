//! `tensorscope bench` says nothing false (issue 24, items 3, 10 and 11): every row names the
//! format it loaded, `bench FILE` compares against its pickle twin out of the box, rows that read
//! nothing carry no rate in any format, headlines carry a spread, and the HTML opens with the
//! answer. Real binary, committed samples and small synthetic pairs; no timing assertions.

mod common;

use std::path::Path;

use serde_json::Value;

fn bench_json(args: &[&str], dir: &Path) -> (common::Run, Value) {
    let json = dir.join("r.json");
    let mut all: Vec<&str> = vec!["bench", "--in-process"];
    if !args.contains(&"--runs") {
        all.extend_from_slice(&["--runs", "1", "--warmup", "0"]);
    }
    all.extend_from_slice(args);
    all.extend_from_slice(&["--report", json.to_str().unwrap()]);
    let r = common::run(&all);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (r, v)
}

fn methods(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["method"].as_str().unwrap().to_owned())
        .collect()
}

/// The row lines of the text table: between the header line and the first blank line.
fn text_rows(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("method "))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with("--"))
        .collect()
}

#[test]
fn every_row_names_the_format_it_loaded() {
    let dir = tempfile::tempdir().unwrap();
    for (sample, prefix) in [
        ("tiny.gguf", "gguf-"),
        ("gpt2-tiny.safetensors", "safetensors-"),
        ("gpt2-tiny.bin", "pickle-"),
    ] {
        let (r, v) = bench_json(&[&common::sample(sample), "--no-twin"], dir.path());
        let names = methods(&v);
        assert!(!names.is_empty(), "{sample}: {}", r.stdout);
        for m in &names {
            assert!(m.starts_with(prefix) || m == "file-read", "{sample}: row {m}");
        }
        let rows = text_rows(&r.stdout);
        assert_eq!(rows.len(), names.len(), "{sample}: {}", r.stdout);
        for row in rows {
            assert!(
                row.starts_with(prefix) || row.starts_with("file-read"),
                "{sample}: text row {row}"
            );
        }
        // the speedup table and the headline name only what was measured
        for s in v["speedups"].as_array().unwrap() {
            assert!(s["method"].as_str().unwrap().starts_with(prefix), "{sample}: {s}");
        }
        for h in v["headline"].as_array().unwrap() {
            let h = h.as_str().unwrap();
            for other in ["gguf-", "safetensors-", "pickle-"].iter().filter(|o| **o != prefix) {
                assert!(!h.contains(other), "{sample}: headline {h}");
            }
        }
    }
    // a GGUF has both its methods, touched and not, and says what it is compared with
    let (r, v) = bench_json(&[&common::sample("tiny.gguf")], dir.path());
    for m in [
        "gguf-mmap (untouched)",
        "gguf-mmap (touched)",
        "gguf-read (touched, fresh)",
        "file-read",
    ] {
        assert!(r.stdout.contains(m), "{m} in\n{}", r.stdout);
    }
    assert!(r.stdout.contains("a GGUF has no twin"), "{}", r.stdout);
    assert!(v["speedups"].as_array().unwrap().is_empty());
}

#[test]
fn a_folder_mixing_formats_is_measured_file_by_file() {
    // samples/mixed-folder holds a safetensors and a pickle file: neither is loaded under the
    // other's name
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = bench_json(&[&common::sample("mixed-folder")], dir.path());
    for r in v["results"].as_array().unwrap() {
        let (m, ck) = (r["method"].as_str().unwrap(), r["checkpoint"].as_str().unwrap());
        if m.starts_with("safetensors-") {
            assert!(ck.ends_with(".safetensors"), "{m} on {ck}");
        } else if m.starts_with("pickle-") {
            assert!(!ck.ends_with(".safetensors"), "{m} on {ck}");
        }
    }
    // review 38: its two files are different models (512 B of tensors against 16 B): no row is faster
    // than the other file's pickle-eager, and the notes say why
    for s in v["speedups"].as_array().unwrap() {
        assert_eq!(s["baseline"], "pickle-eager", "{s}");
        assert!(s["checkpoint"].as_str().unwrap().ends_with("extra.bin"), "{s}");
    }
    for h in v["headline"].as_array().unwrap() {
        let h = h.as_str().unwrap();
        assert!(
            !h.contains("safetensors-mmap loads") || h.contains("nothing to compare it with"),
            "{h}"
        );
    }
    let notes: Vec<&str> = v["caveats"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(
        notes
            .iter()
            .filter(|c| c.contains("holds different tensors from every file in another format"))
            .count(),
        2,
        "{notes:?}"
    );
    // one model in two formats given side by side is still compared
    let (_, v) = bench_json(
        &[
            &common::sample("gpt2-tiny.safetensors"),
            &common::sample("gpt2-tiny.bin"),
            "--no-twin",
        ],
        dir.path(),
    );
    assert!(
        v["speedups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["checkpoint"].as_str().unwrap().ends_with(".safetensors")),
        "{}",
        v["speedups"]
    );
}

#[test]
fn bench_file_compares_against_its_twin_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let (r, v) = bench_json(&[&common::sample("gpt2-tiny.safetensors")], dir.path());
    let twin = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "pickle-eager")
        .unwrap_or_else(|| panic!("a pickle twin is measured: {}", r.stdout))["checkpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(twin.ends_with("gpt2-tiny.twin.bin"), "{twin}");
    assert!(!Path::new(&twin).exists(), "the twin is removed after the run");
    assert!(!v["speedups"].as_array().unwrap().is_empty());
    assert!(
        r.stdout.contains("is compared with its twin gpt2-tiny.twin.bin"),
        "{}",
        r.stdout
    );
    let h = v["headline"][0].as_str().unwrap();
    assert!(h.contains("pickle-eager"), "{h}");
    // a pickle gets a safetensors twin
    let (_, v) = bench_json(&[&common::sample("gpt2-tiny.bin")], dir.path());
    assert!(methods(&v).iter().any(|m| m == "safetensors-mmap"));
    // --no-twin: nothing to compare against, and the note says so
    let (r, v) = bench_json(&[&common::sample("gpt2-tiny.safetensors"), "--no-twin"], dir.path());
    assert!(!methods(&v).iter().any(|m| m.starts_with("pickle")));
    assert!(r.stdout.contains("note: Nothing to compare against"), "{}", r.stdout);
    // both formats given: no twin, compared with each other as before
    let (r, v) = bench_json(
        &[
            &common::sample("gpt2-tiny.safetensors"),
            &common::sample("gpt2-tiny.bin"),
        ],
        dir.path(),
    );
    assert!(!r.stdout.contains("twin"), "{}", r.stdout);
    assert!(!v["speedups"].as_array().unwrap().is_empty());
}

#[test]
fn rows_that_read_nothing_have_no_rate_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = |ext: &str| dir.path().join(format!("r.{ext}"));
    let (json, csv, md, html) = (out("json"), out("csv"), out("md"), out("html"));
    let r = common::run(&[
        "bench",
        "--synthetic",
        "2MB",
        "--runs",
        "3",
        "--in-process",
        "--report",
        json.to_str().unwrap(),
        "--report",
        csv.to_str().unwrap(),
        "--report",
        md.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let reads_nothing = |m: &str, touched: bool| {
        m == "safetensors-lazy-one"
            || (!touched && matches!(m, "safetensors-mmap" | "safetensors-mmap-prefetch" | "pickle-mmap"))
    };
    let mut lazy_labels = Vec::new();
    for row in v["results"].as_array().unwrap() {
        let (m, touched) = (row["method"].as_str().unwrap(), row["touched"].as_bool().unwrap());
        if reads_nothing(m, touched) {
            assert!(row["gbps"].is_null(), "{m} touched={touched}: {}", row["gbps"]);
            assert!(row["percent_of_ceiling"].is_null());
            let mem = row["memory"].as_str().map(|x| format!(", {x}")).unwrap_or_default();
            lazy_labels.push(format!("{m} ({}{mem})", if touched { "touched" } else { "untouched" }));
        } else {
            assert!(row["gbps"].as_f64().unwrap() > 0.0, "{m}");
        }
    }
    assert!(lazy_labels.len() >= 4, "{lazy_labels:?}");
    // text: the GB/s column holds "-"; and those rows come after the full loads, under their own line
    let cut = r
        .stdout
        .find("-- untouched (not read after loading), one tensor, slices")
        .expect("lazy rows apart");
    for label in &lazy_labels {
        let line = r.stdout.lines().find(|l| l.starts_with(&format!("{label} "))).unwrap();
        assert!(r.stdout.find(line).unwrap() > cut, "{line}");
        let cols: Vec<&str> = line.split("  ").filter(|c| !c.trim().is_empty()).collect();
        assert!(cols.iter().any(|c| c.trim() == "-"), "{line}");
        assert!(
            !cols.iter().any(|c| c.trim().parse::<f64>().is_ok_and(|g| g > 100.0)),
            "{line}"
        );
    }
    // CSV: the gbps field is empty
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let g = header.iter().position(|h| *h == "gbps").unwrap();
    let (m_i, t_i) = (1, 4);
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if reads_nothing(f[m_i], f[t_i] == "true") {
            assert_eq!(f[g], "", "{line}");
        }
    }
    // Markdown and HTML: "-" in the GB/s cell
    let md = std::fs::read_to_string(&md).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("| safetensors-mmap (untouched) |"))
        .unwrap();
    let cells: Vec<&str> = line.split(" | ").collect();
    assert_eq!(cells[6], "-", "{line}");
    let page = std::fs::read_to_string(&html).unwrap();
    let at = page
        .find("safetensors-mmap <span class=\"tag\">untouched</span>")
        .unwrap();
    let row = &page[at..at + page[at..].find("</tr>").unwrap()];
    assert!(row.contains("<td class=\"n\">-</td>"), "{row}");
}

#[test]
fn headlines_carry_a_spread_and_the_html_opens_with_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (dir.path().join("r.json"), dir.path().join("r.html"));
    let r = common::run(&[
        "bench",
        "--synthetic",
        "2MB",
        "--runs",
        "3",
        "--in-process",
        "--report",
        json.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let h = v["headline"][0].as_str().unwrap();
    let spread = h.contains(" ± ") && (h.contains("times faster") || h.contains("times slower"));
    assert!(spread || h.contains("no measurable difference"), "{h}");
    assert!(!h.contains("x faster") && !h.contains("x slower"), "{h}");
    let page = std::fs::read_to_string(&html).unwrap();
    let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s}"));
    assert!(at("class=\"headline\"") < at("The answer on the CPU"));
    assert!(at("The answer on the CPU") < at("<h2>Caveats"));
    assert!(at("<h2>Caveats") < at("<h2>Results"));
    assert_eq!(page.matches("<ul class=\"caveats\">").count(), 1);
    assert!(!page.contains("<div class=\"caveat\">"));
    // no speedup chart mixes untouched rows with full loads
    let full = &page[at("<h2>Speedup over the baseline")..];
    let full = &full[..full.find("<h2>").map(|_| full[4..].find("<h2>").unwrap() + 4).unwrap()];
    assert!(!full.contains("untouched") && !full.contains("lazy-one"), "{full}");
}

#[test]
fn every_figure_stays_under_its_ceiling() {
    // a row above its ceiling means the ceiling missed a faster way to do the row's work; the
    // ceilings are the fastest of every way the rows work (memcpy on every core and on one
    // thread, read(2) of the file), so no percentage passes 100
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = bench_json(&["--synthetic", "8MB", "--runs", "5", "--warmup", "1"], dir.path());
    for c in v["ceilings"].as_array().unwrap() {
        let what = c["what"].as_str().unwrap();
        assert!(what.contains("fastest"), "{what}");
    }
    for row in v["results"].as_array().unwrap() {
        if let Some(p) = row["percent_of_ceiling"].as_f64() {
            assert!(p <= 100.0, "{} at {p:.0}% of {}", row["method"], row["ceiling"]);
        }
    }
}
