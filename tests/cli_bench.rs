//! `tensorscope bench`: small synthetic pairs and the committed samples, every report format, the
//! JSON checked against tests/data/bench/report.schema.json. No timing assertions.

mod common;

use std::path::Path;

use serde_json::Value;

fn schema() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench/report.schema.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A validator for the subset of JSON Schema (2020-12) the report schema uses: type, enum,
/// required, properties, additionalProperties: false, items, minimum, exclusiveMinimum, local $ref.
fn validate(root: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("local refs only");
        return validate(root, &root["$defs"][name], v, at, errors);
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad type in schema"),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "number" => v.is_number(),
            "integer" => v.is_u64() || v.is_i64(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            other => panic!("unknown type {other}"),
        });
        if !ok {
            errors.push(format!("{at}: {v} is not {types:?}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errors.push(format!("{at}: {v} not in {e:?}"));
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        errors.push(format!("{at}: {n} < {min}"));
    }
    if let (Some(min), Some(n)) = (schema.get("exclusiveMinimum").and_then(Value::as_f64), v.as_f64())
        && n <= min
    {
        errors.push(format!("{at}: {n} <= {min}"));
    }
    if let Some(obj) = v.as_object() {
        for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !obj.contains_key(req.as_str().unwrap()) {
                errors.push(format!("{at}: missing {req}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(root, s, val, &format!("{at}.{k}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: unexpected property {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(root, items, x, &format!("{at}[{i}]"), errors);
        }
    }
}

fn schema_errors(report: &Value) -> Vec<String> {
    let s = schema();
    let mut errors = Vec::new();
    validate(&s, &s, report, "$", &mut errors);
    errors
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn synthetic_pair_every_report_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = |ext: &str| dir.path().join(format!("r.{ext}"));
    let (json, csv, md, html) = (out("json"), out("csv"), out("md"), out("html"));
    let r = common::run(&[
        "bench",
        "--synthetic",
        "2MB",
        "--runs",
        "2",
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
    assert!(
        r.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        r.stderr
    );
    for m in [
        "safetensors-mmap (untouched)",
        "pickle-eager (touched, fresh)",
        "pickle-eager (touched, reused)",
        "safetensors-pread (touched, fresh)",
        "safetensors-direct (touched, reused)",
        "safetensors-mmap-prefetch (touched)",
        "pickle-mmap (touched)",
        "file-read",
    ] {
        assert!(r.stdout.contains(m), "{m} in\n{}", r.stdout);
    }
    // the headline leads, from touched rows; every report written is named
    assert!(
        r.stdout.starts_with("cpu, touched, warm: safetensors-mmap loads ")
            || r.stdout
                .starts_with("cpu, touched, warm: no measurable difference between safetensors-mmap and pickle-eager"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("pickle-eager (fresh memory"));
    for p in [&json, &csv, &md, &html] {
        assert!(r.stdout.contains(&format!("wrote {}", p.display())), "{}", r.stdout);
    }
    assert!(r.stdout.contains("memcpy-fresh") && r.stdout.contains("memcpy-pretouched"));
    let v = read_json(&json);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let results = v["results"].as_array().unwrap();
    for m in [
        "safetensors-mmap",
        "safetensors-mmap-prefetch",
        "safetensors-read",
        "safetensors-pread",
        "safetensors-direct",
        "safetensors-lazy-one",
        "pickle-eager",
        "pickle-mmap",
    ] {
        for touched in [false, true] {
            let row = results.iter().find(|x| x["method"] == m && x["touched"] == touched);
            let row = row.unwrap_or_else(|| panic!("{m} touched={touched}"));
            assert!(
                row["peak_rss_bytes"].as_u64().unwrap() > 0,
                "measured in a child process"
            );
            assert_eq!(row["samples_s"].as_array().unwrap().len(), 2);
            assert!(row["major_faults"].is_u64());
        }
    }
    // eager loads ran into fresh and reused memory, each against its memcpy ceiling
    for (memory, ceiling) in [("fresh", "memcpy-fresh"), ("reused", "memcpy-pretouched")] {
        let row = results
            .iter()
            .find(|x| x["method"] == "pickle-eager" && x["touched"] == true && x["memory"] == memory)
            .unwrap();
        assert_eq!(row["ceiling"], ceiling);
        assert!(row["percent_of_ceiling"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(v["ceilings"].as_array().unwrap().len(), 3);
    // touched mapped rows read warm memory: against reading it on every core
    for m in ["safetensors-mmap", "pickle-mmap"] {
        let row = results
            .iter()
            .find(|x| x["method"] == m && x["touched"] == true)
            .unwrap();
        assert_eq!(row["ceiling"], "memory-read", "{m}");
    }
    assert!(v["config"]["touch_threads"].as_u64().unwrap() >= 1);
    let touch_caveat = |c: &&Value| c.as_str().unwrap().starts_with("Touched rows read every byte on ");
    assert!(v["caveats"].as_array().unwrap().iter().any(|c| touch_caveat(&c)));
    assert!(v["headline"][0].as_str().unwrap().starts_with("cpu, touched, warm: "));
    assert!(v["checkpoints"][0]["filesystem"].is_string());
    // Every touched whole load of the pair read the same data.
    let sums: std::collections::BTreeSet<&str> = results
        .iter()
        .filter(|x| x["touched"] == true && x["method"] != "safetensors-lazy-one")
        .map(|x| x["checksum"].as_str().unwrap())
        .collect();
    assert_eq!(sums.len(), 1, "{sums:?}");
    assert!(
        v["speedups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["baseline"] == "pickle-eager")
    );
    assert_eq!(v["checkpoints"].as_array().unwrap().len(), 2);
    assert!(
        v["caveats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("Warm page cache"))
    );
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap().lines().count(),
        results.len() + 1
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("## Speedups") && md.contains("| pickle-mmap (touched) |"));
    assert!(md.contains("## What laziness saves") && md.contains("## Ceilings"));
    assert!(
        !md.contains("tensorscope-bench-"),
        "temporary paths stay out of the tables"
    );
    let html = std::fs::read_to_string(&html).unwrap();
    // the answer, full loads, their speedups, what laziness saves, its speedups
    assert_eq!(html.matches("<svg").count(), 5);
    assert!(
        !html.contains("tensorscope-bench-"),
        "temporary paths stay out of the tables"
    );
    assert!(!html.contains("<script") && !html.contains("<link"));
}

#[test]
fn schema_rejects_broken_reports() {
    let mut v: Value = serde_json::from_str(&tensorscope_sample_report()).unwrap();
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    v["results"][0]["method"] = "torch-magic".into();
    v["results"][0].as_object_mut().unwrap().remove("median_s");
    v["speedups"][0]["ratio"] = 0.into();
    v["extra"] = 1.into();
    let errors = schema_errors(&v);
    assert_eq!(errors.len(), 4, "{errors:?}");
}

/// A real report from the library, run in process on a tiny synthetic pair.
fn tensorscope_sample_report() -> String {
    let mut c = tensorscope::bench::Config::synthetic(100_000);
    c.runs = 1;
    c.methods = vec![
        tensorscope::bench::Method::PickleEager,
        tensorscope::bench::Method::PickleMmap,
    ];
    let report = tensorscope::bench::run_with(&c, |_| {}).unwrap();
    tensorscope::report::json::to_string(&report)
}

#[test]
fn ranks_cold_and_method_filter() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let r = common::run(&[
        "bench",
        "--synthetic",
        "1MB",
        "--shape",
        "huge",
        "--runs",
        "1",
        "--cold",
        "--ranks",
        "2",
        "--method",
        "safetensors-slice",
        "--method",
        "pickle-slice",
        "--touch-threads",
        "1",
        "--keep",
        dir.path().to_str().unwrap(),
        "--report",
        json.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(dir.path().join("model.safetensors").is_file() && dir.path().join("model.bin").is_file());
    let v = read_json(&json);
    assert_eq!(v["config"]["touch_threads"], 1);
    assert!(v["caveats"].as_array().unwrap().iter().any(|c| {
        c.as_str()
            .unwrap()
            .starts_with("Touched rows read every byte on one thread")
    }));
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for x in results {
        assert_eq!(x["cache"], "cold");
        assert!(x["cache_dropped"].is_boolean());
        assert_eq!(x["ranks"], 2);
    }
    let st: u64 = results
        .iter()
        .filter(|x| x["method"] == "safetensors-slice")
        .map(|x| x["bytes"].as_u64().unwrap())
        .sum();
    let pk = results.iter().find(|x| x["method"] == "pickle-slice").unwrap()["bytes"]
        .as_u64()
        .unwrap();
    assert_eq!(
        st, pk,
        "two safetensors ranks read the whole once; each pickle rank reads it all"
    );
    assert_eq!(v["speedups"].as_array().unwrap().len(), 2);
    assert!(
        r.stdout
            .contains("rank rows: speedup over pickle-slice of the same rank"),
        "{}",
        r.stdout
    );
    assert!(
        v["ceilings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "disk-read")
    );
}

#[test]
fn committed_samples() {
    let r = common::run(&[
        "bench",
        &common::sample("gpt2-tiny.safetensors"),
        &common::sample("gpt2-tiny.bin"),
        "--runs",
        "1",
        "--in-process",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("gpt2-tiny.bin") && r.stdout.contains("pickle-mmap (touched)"));
    assert!(r.stdout.contains("peak memory was not measured"));
}

#[test]
fn usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("r.txt");
    let r = common::run(&["bench", "--synthetic", "1MB", "--report", bad.to_str().unwrap()]);
    common::assert_clean_error(&r, "report extension");
    assert!(r.stderr.contains(".json, .csv, .md or .html"));
    assert!(!bad.exists());
    // a report into a missing folder is refused before anything is measured
    let missing = dir.path().join("no/such/r.html");
    let r = common::run(&["bench", "--synthetic", "1MB", "--report", missing.to_str().unwrap()]);
    common::assert_clean_error(&r, "report folder");
    assert!(
        r.stderr.contains("does not exist") && r.stdout.is_empty(),
        "{}",
        r.stderr
    );
    common::assert_clean_error(&common::run(&["bench"]), "nothing to measure");
    common::assert_clean_error(&common::run(&["bench", "/no/such/file.safetensors"]), "missing file");
    common::assert_clean_error(&common::run(&["bench", "--synthetic", "12"]), "too small");
    common::assert_clean_error(
        &common::run(&["bench", "--synthetic", "1MB", "--runs", "0"]),
        "zero runs",
    );
    common::assert_clean_error(
        &common::run(&["bench", "--synthetic", "1MB", "--touch-threads", "0"]),
        "zero touch threads",
    );
    let r = common::run(&["bench", "--synthetic", "lots"]);
    assert_eq!(r.code, 2);
    let r = common::run(&["__bench-child", "{not json"]);
    common::assert_clean_error(&r, "bad child spec");
}

/// Warm touched mapped rows say how the page cache holds the file (the share a map gets in 2 MiB
/// pages), since that and not the loader decides most of their time (issue 30).
#[cfg(target_os = "linux")]
#[test]
fn touched_mapped_rows_say_how_the_page_cache_holds_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let r = common::run(&[
        "bench",
        "--synthetic",
        "8MB",
        "--method",
        "safetensors-mmap",
        "--runs",
        "1",
        "--report",
        json.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = read_json(&json);
    let caveats: Vec<&str> = v["caveats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let line = caveats
        .iter()
        .find(|c| c.contains("of its page cache maps in 2 MiB pages"))
        .unwrap_or_else(|| panic!("{caveats:#?}"));
    let share: f64 = line
        .split(": ")
        .nth(1)
        .unwrap()
        .split('%')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.0..=100.0).contains(&share), "{line}");
    assert!(line.contains(".safetensors"), "names the file: {line}");
}

#[test]
fn drop_cache_after_drops_the_measured_files_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.safetensors");
    std::fs::copy("samples/gpt2-tiny.safetensors", &file).unwrap();
    let json = dir.path().join("r.json");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "bench",
            file.to_str().unwrap(),
            "--runs",
            "1",
            "--method",
            "safetensors-mmap",
            "--report",
            json.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        common::run(&a)
    };
    let said = |v: &Value| -> Option<String> {
        v["caveats"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .find(|c| c.starts_with("--drop-cache-after:"))
            .map(str::to_owned)
    };
    // without the flag the warm run leaves the file cached, and the report says nothing of it
    let r = args(&["--no-twin"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = read_json(&json);
    assert_eq!(v["config"]["drop_cache_after"], false);
    assert_eq!(said(&v), None);
    let (resident, pages) = tensorscope::bench::cache::resident(&file).unwrap();
    assert!(pages > 0 && resident > 0, "{resident} of {pages}");
    let r = args(&["--no-twin", "--drop-cache-after"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = read_json(&json);
    assert_eq!(v["config"]["drop_cache_after"], true);
    assert_eq!(schema_errors(&v), Vec::<String>::new());
    let note = said(&v).expect("a --drop-cache-after caveat");
    // what the report says is what mincore sees now: dropped, or (tmpfs, a page mapped elsewhere)
    // said to have stayed
    let (resident, _) = tensorscope::bench::cache::resident(&file).unwrap();
    assert_eq!(
        resident > 0,
        note.contains("stayed"),
        "{resident} pages resident; {note}"
    );
    // "held X of page cache …, and Y of it was dropped": all of it when nothing stayed
    let held = |note: &str| -> String {
        let at = note.find(" held ").expect("held") + 6;
        note[at..note.find(" of page cache").expect("of page cache")].to_owned()
    };
    if resident == 0 {
        assert!(
            note.contains(&format!(", and {} of it was dropped", held(&note))),
            "{note}"
        );
    }
    // the twin bench writes (in a temporary folder, removed on return) and the same file named a
    // second way are not counted: the report speaks of the files that stay, each once
    let again = dir.path().join(".").join("m.safetensors");
    let r = args(&["--drop-cache-after", again.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let with_twin = said(&read_json(&json)).expect("a --drop-cache-after caveat");
    assert_eq!(held(&with_twin), held(&note), "{with_twin} against {note}");
}

#[test]
fn one_failing_report_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    // a folder where the HTML file should go: its write fails, the JSON's must not
    let blocked = dir.path().join("r.html");
    std::fs::create_dir(&blocked).unwrap();
    let json = dir.path().join("r.json");
    let r = common::run(&[
        "bench",
        &common::sample("gpt2-tiny.safetensors"),
        "--no-twin",
        "--method",
        "safetensors-mmap",
        "--runs",
        "1",
        "--in-process",
        "--report",
        blocked.to_str().unwrap(),
        "--report",
        json.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(json.is_file(), "the JSON is written after the HTML failed");
    assert!(
        r.stderr.contains("cannot write") && r.stderr.contains("r.html"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("wrote ") && r.stdout.contains("r.json"),
        "{}",
        r.stdout
    );
    // review 38: a report path that is a link was replaced by a file (the link gone, its target as it
    // was); refused before anything is measured, as convert refuses a link
    let target = dir.path().join("target.json");
    std::fs::write(&target, b"keep").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let r = common::run(&[
        "bench",
        &common::sample("gpt2-tiny.safetensors"),
        "--no-twin",
        "--runs",
        "1",
        "--in-process",
        "--report",
        link.to_str().unwrap(),
    ]);
    common::assert_clean_error(&r, "a report path that is a link");
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing measured: {}", r.stdout);
    assert!(link.is_symlink() && std::fs::read(&target).unwrap() == b"keep");
}
