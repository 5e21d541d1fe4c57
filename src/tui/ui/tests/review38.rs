//! Regressions from the 80x24 tmux review of round 38: each test draws what a user saw and checks
//! the fix.

use std::path::{Path, PathBuf};

use super::{act, settle, sized};
use crate::tui::app::{Action, Tab};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(rel)
}

/// Compare mode scans B too: a dangerous B makes the badge DANGEROUS and the Scan tab lists both.
#[test]
fn compare_mode_scans_both_files() {
    let pair = crate::tui::load_pair(
        &sample("gpt2-tiny.safetensors"),
        &sample("malicious.bin"),
        &Default::default(),
    );
    let a = settle(pair.unwrap());
    assert_eq!(a.scan.len(), 2, "both files are scanned");
    let scan = a.tabs().iter().position(|t| *t == Tab::Scan).unwrap();
    let a = act(a, [Action::SelectTab(scan)]);
    let screen = sized(a, 80, 24);
    let top = screen.lines().next().unwrap();
    assert!(top.ends_with("DANGEROUS"), "the badge is the worst of both:\n{screen}");
    assert!(
        screen.contains("1 dangerous · 0 suspicious · 0 errors · 1 safe of 2 files"),
        "{screen}"
    );
    assert!(
        screen.contains("malicious.bin") && screen.contains("gpt2-tiny.safetensors"),
        "{screen}"
    );
}
