//! No command modifies its inputs: every file of samples/ (copied to a temporary folder, links kept
//! as links) has the same bytes, length and modification time after inspect, scan, show, convert and
//! diff ran on it, and no file appears or disappears in it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

#[derive(Debug, PartialEq, Eq)]
enum Entry {
    File { crc: u32, len: u64, mtime: SystemTime },
    Link(PathBuf),
    Dir,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ty = e.file_type().unwrap();
        if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ty.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let entry = if meta.is_symlink() {
                Entry::Link(std::fs::read_link(&p).unwrap())
            } else if meta.is_dir() {
                todo.push(p.clone());
                Entry::Dir
            } else {
                Entry::File {
                    crc: common::build::crc32(&std::fs::read(&p).unwrap()),
                    len: meta.len(),
                    mtime: meta.modified().unwrap(),
                }
            };
            out.insert(p.strip_prefix(root).unwrap().to_path_buf(), entry);
        }
    }
    out
}

#[test]
fn no_command_changes_its_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = tmp.path().join("samples");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"), &s);
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let before = snapshot(&s);
    assert!(before.len() > 20, "samples/ copied: {} entries", before.len());

    let p = |rel: &str| s.join(rel).to_string_lossy().into_owned();
    let o = |rel: &str| out.join(rel).to_string_lossy().into_owned();
    let mut runs: Vec<(Vec<String>, &[i32])> = Vec::new();
    let top: Vec<String> = std::fs::read_dir(&s)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    for t in &top {
        runs.push((vec!["inspect".into(), t.clone()], &[0, 2]));
    }
    runs.push((vec!["scan".into(), p(".")], &[1]));
    for f in ["gpt2-tiny.safetensors", "gpt2-tiny.bin", "gpt2-tiny-legacy.bin"] {
        runs.push((vec!["show".into(), p(f), "h.0.attn.c_attn.weight".into()], &[0]));
    }
    runs.push((vec!["convert".into(), p("gpt2-tiny.bin"), o("a.safetensors")], &[0]));
    runs.push((
        vec!["convert".into(), p("gpt2-tiny-legacy.bin"), o("b.safetensors")],
        &[0],
    ));
    runs.push((vec!["convert".into(), p("sharded-bin"), o("sharded/")], &[0]));
    runs.push((vec!["diff".into(), p("gpt2-tiny.safetensors"), p("sharded")], &[0]));
    runs.push((
        vec!["diff".into(), p("gpt2-tiny.safetensors"), p("gpt2-tiny.bin")],
        &[1],
    )); // + tied lm_head
    runs.push((vec!["diff".into(), p("sharded"), p("sharded-bin")], &[0, 1]));
    runs.push((vec!["diff".into(), p("gpt2-tiny.safetensors"), p("plain-folder")], &[1]));

    for (args, want) in &runs {
        let r = Command::new(env!("CARGO_BIN_EXE_tensorscope"))
            .args(args)
            .output()
            .unwrap();
        let code = r.status.code().unwrap_or(-1);
        assert!(
            want.contains(&code),
            "{args:?}: exit {code}, want one of {want:?}\n{}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    assert!(out.join("a.safetensors").is_file(), "convert wrote its output");
    let after = snapshot(&s);
    for (path, was) in &before {
        assert_eq!(after.get(path), Some(was), "{} changed", path.display());
    }
    assert_eq!(after.len(), before.len(), "files appeared in the input folder");
}
