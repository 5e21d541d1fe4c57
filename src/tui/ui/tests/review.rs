//! Regressions from the TUI review: each test draws what a user saw and checks the fix.

use super::{act, app, sized};
use crate::tui::app::Action;
use crate::tui::scroll::Move;

/// The `blk` row of a GGUF with six dtypes: the mix keeps the largest, and "other" has its share.
#[test]
fn the_module_pane_lists_the_largest_dtypes_and_the_share_of_other() {
    let a = act(app("tiny.gguf"), []);
    let blk = a.tensors.rows.iter().position(|&id| a.tensors.tree.label(id) == "blk");
    let blk = blk.expect("a blk row");
    let a = act(a, (0..blk).map(|_| Action::Move(Move::Down)));
    let screen = sized(a, 120, 40);
    let other = screen.lines().find(|l| l.contains("other ")).expect(&screen);
    assert!(other.contains("20.1%"), "other has its share:\n{screen}");
    for big in ["Q6_K", "IQ4_NL"] {
        assert!(screen.contains(big), "{big} is among the largest:\n{screen}");
    }
}

/// `G` then a filter that leaves a few rows: the parents stay on screen above the match.
#[test]
fn narrowing_the_filter_keeps_the_parent_rows_on_screen() {
    let mut a = act(app("gpt2-tiny.safetensors"), [Action::Move(Move::Bottom)]);
    let _ = super::sized_mut(&mut a, 80, 24);
    let mut a = act(a, super::typed("h0cfw"));
    let screen = super::sized_mut(&mut a, 80, 24);
    assert_eq!(a.tensors.offset, 0, "{screen}");
    let rows: Vec<&str> = screen.lines().skip(2).take(a.tensors.rows.len()).collect();
    assert!(rows[0].contains("▾ h"), "the top parent is the first row:\n{screen}");
    assert!(rows.last().unwrap().contains("weight"), "{screen}");
}

/// The fp16 copy with one tensor off: that tensor is the first row, the summary counts as the CLI.
#[test]
fn the_diff_tab_lists_values_outside_tolerance_first() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diff");
    let pair = crate::tui::load_pair(
        &data.join("model.safetensors"),
        &data.join("model.fp16-off.safetensors"),
        &Default::default(),
    );
    let a = super::settle(pair.unwrap());
    let screen = sized(a, 80, 24);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[2].contains("1 outside tolerance · 27/28 within F16 rounding"),
        "{screen}"
    );
    assert!(lines[3].contains("differs   blocks.1.fc1.weight"), "{screen}");
    assert!(lines[4].contains("rounding  blocks.0.fc1.bias"), "{screen}");
}

/// A reshaped tensor is called so in the summary and on its row.
#[test]
fn reshaped_rows_and_summary_agree() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, shape: Vec<usize>| {
        let bytes: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let views = [("x", shape), ("y", vec![4])].map(|(n, s)| {
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s, &bytes);
            (n.to_string(), view.unwrap())
        });
        let p = dir.path().join(name);
        std::fs::write(&p, safetensors::serialize(views, None).unwrap()).unwrap();
        p
    };
    let (a, b) = (write("a.safetensors", vec![4]), write("b.safetensors", vec![2, 2]));
    let a = super::settle(crate::tui::load_pair(&a, &b, &Default::default()).unwrap());
    let screen = sized(a, 80, 24);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[2].contains("1 reshaped") && lines[2].contains("1 equal"),
        "{screen}"
    );
    assert!(lines[3].contains("reshaped  x"), "{screen}");
    assert!(!screen.contains("changed"), "{screen}");
}

/// Each tab's status bar lists only keys that do something there, whole at 80 columns; `y` copies
/// only where a name is selected; the help counts the tabs there are.
#[test]
fn status_bars_list_only_keys_that_work_on_their_tab() {
    use crate::tui::app::{Mode, Tab};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diff");
    let pair = || {
        let b = data.join("model.fp16.safetensors");
        super::settle(crate::tui::load_pair(&data.join("model.safetensors"), &b, &Default::default()).unwrap())
    };
    let single = || app("gpt2-tiny.safetensors");
    let flat = || act(app("gpt2-tiny.safetensors"), [Action::ToggleFlat]);
    let apps: [&dyn Fn() -> crate::tui::app::App; 3] = [&pair, &single, &flat];
    for new in apps {
        let tabs = new().tabs();
        let help = sized(act(new(), [Action::ToggleHelp]), 80, 40);
        let range = format!("1-{}", tabs.len());
        assert!(help.contains(&range), "{range}:\n{help}");
        for (i, tab) in tabs.into_iter().enumerate() {
            let mut a = act(new(), [Action::SelectTab(i)]);
            let screen = super::sized_mut(&mut a, 80, 24);
            let status = screen.lines().last().unwrap();
            assert!(status.ends_with("? help"), "{tab:?} cut: {status}");
            if a.tensors.flat {
                assert!(!status.contains("open/close"), "{status}");
            }
            for part in status.split(" · ") {
                let k = part.split_whitespace().next().unwrap_or("");
                let mut chars = k.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    continue;
                };
                if c == '?' || !c.is_ascii_graphic() {
                    continue;
                }
                let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
                assert!(
                    crate::tui::keymap::action(Mode::Normal, tab, key).is_some(),
                    "{tab:?} lists `{c}`: {status}"
                );
                assert!(c != '/' || tab == Tab::Tensors, "{tab:?}: {status}");
            }
            let before = a.note.clone();
            a.update(Action::Copy);
            if !matches!(tab, Tab::Tensors | Tab::Diff) {
                assert_eq!(a.note, before, "{tab:?}: y copies nothing there");
            }
        }
    }
}

/// Writes a safetensors file of F32 `[4]` tensors named `names` into `dir`.
fn named(dir: &std::path::Path, names: &[&str]) -> std::path::PathBuf {
    let bytes: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let views = names.iter().map(|n| {
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4], &bytes);
        (n.to_string(), view.unwrap())
    });
    let p = dir.join("names.safetensors");
    std::fs::write(&p, safetensors::serialize(views, None).unwrap()).unwrap();
    p
}

/// `y` on a name holding a newline copies the escaped name, and says so.
#[test]
fn copy_escapes_control_characters_and_says_so() {
    use crate::tui::app::Effect;
    let dir = tempfile::tempdir().unwrap();
    let path = named(dir.path(), &["evil\nrm -rf ~.w"]);
    let mut a = act(
        crate::tui::load(&path, &Default::default()).unwrap(),
        [Action::ToggleFlat],
    );
    let Some(Effect::Copy(text)) = a.update(Action::Copy) else {
        panic!("y copies")
    };
    assert_eq!(text, "evil\\x0arm -rf ~.w");
    let note = a.note.clone().unwrap();
    assert!(note.contains("escaped"), "{note}");
    let path = named(dir.path(), &["plain.w"]);
    let mut a = act(
        crate::tui::load(&path, &Default::default()).unwrap(),
        [Action::ToggleFlat],
    );
    assert!(matches!(a.update(Action::Copy), Some(Effect::Copy(t)) if t == "plain.w"));
    assert_eq!(a.note.as_deref(), Some("copied plain.w"));
}

/// Wide characters count two columns: the dtype column stays whole and aligned, in the tree and
/// flat, with names short and cut.
#[test]
fn wide_characters_keep_the_columns_aligned() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let dir = tempfile::tempdir().unwrap();
    let long = format!("wide.{}.w", "中文字".repeat(12));
    let path = named(dir.path(), &["emoji.😀.w", "wide.中文字.w", &long, "plain.w"]);
    for (flat, w) in [(false, 80), (false, 120), (true, 80)] {
        let mut a = act(crate::tui::load(&path, &Default::default()).unwrap(), [Action::OpenAll]);
        if flat {
            a = act(a, [Action::ToggleFlat]);
        }
        let screen = super::sized_mut(&mut a, w, 24);
        let mut t = Terminal::new(TestBackend::new(w, 24)).unwrap();
        t.draw(|f| f.render_widget(&a, f.area())).unwrap();
        let buf = t.backend().buffer();
        let is = |x: u16, y: u16, s: &str| buf[(x, y)].symbol() == s;
        // the cell column of each row's `F32` in the tree pane (the left one)
        let at: Vec<(u16, u16)> = (2..23)
            .filter_map(|y| {
                let x = (0..w).find(|&x| is(x, y, "F") && is(x + 1, y, "3") && is(x + 2, y, "2"))?;
                Some((x, y))
            })
            .collect();
        assert!(at.len() >= 4, "{screen}");
        assert!(
            at.iter().all(|&(x, _)| x == at[0].0),
            "dtype columns aligned {at:?}:\n{screen}"
        );
        assert!(at.iter().all(|&(x, y)| is(x + 3, y, "│")), "{screen}");
        assert!(screen.contains('…'), "the long name is cut:\n{screen}");
    }
}

/// Compare mode at 80 columns: the Diff title keeps both file names; the Tensors tab says it lists A.
#[test]
fn compare_mode_names_both_sides_at_80_columns() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diff");
    let new = || {
        let b = data.join("model.fp16-off.safetensors");
        super::settle(crate::tui::load_pair(&data.join("model.safetensors"), &b, &Default::default()).unwrap())
    };
    let screen = sized(new(), 80, 24);
    let title = screen.lines().nth(1).unwrap();
    assert!(
        title.contains("/model.safetensors ⇄ B …/model.fp16-off.safetensors ─"),
        "{screen}"
    );
    let screen = sized(act(new(), [Action::SelectTab(0)]), 80, 24);
    let title = screen.lines().nth(1).unwrap();
    assert!(title.starts_with("┌ A model.safetensors · 28 tensors"), "{screen}");
}

/// A narrow tree pane drops whole parts of its title, never cutting a number.
#[test]
fn a_narrow_tree_title_drops_whole_parts() {
    let screen = sized(app("tiny.gguf"), 60, 15);
    let title = screen.lines().nth(1).unwrap();
    let inner = title.split('┐').next().unwrap();
    let text = inner.trim_start_matches('┌').trim_end_matches('─').trim();
    assert!(
        [
            "11 tensors · 688.9K params · 413.7 kB",
            "11 tensors · 688.9K params",
            "11 tensors"
        ]
        .contains(&text),
        "{text:?} in\n{screen}"
    );
}

/// The HF cache sample has two blobs and two snapshot links: the verdict counts the files as `verify`
/// does, and each kind for itself.
#[test]
fn hf_cache_verdict_counts_blobs_not_links() {
    use crate::tui::hashing::{Check, Provenance, check};
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/hub/models--tiny--gpt2");
    let snapshot = repo.join("snapshots/9c29d147777ee831e9ede65ff5b0da324efbf8f0");
    for path in [snapshot, repo] {
        let Provenance::Verified(what) = check(&Check::HfCache(path.clone())) else {
            panic!("{path:?} verifies")
        };
        assert_eq!(
            what, "4 files match (2 blobs against their names, 2 snapshot links)",
            "{path:?}"
        );
        // the number `tensorscope verify` prints (`4 files match`) for the same folder
        let r = tensorscope::verify::hf::verify(&path, 0).unwrap();
        assert!(what.starts_with(&format!("{} files match", r.files.len())), "{path:?}");
    }
}

/// One of a thing is singular: the Module pane, the Files tab.
#[test]
fn one_tensor_is_singular() {
    let dir = tempfile::tempdir().unwrap();
    let path = named(dir.path(), &["enc.w"]);
    let a = act(crate::tui::load(&path, &Default::default()).unwrap(), []);
    let screen = sized(a, 120, 24);
    assert!(screen.contains("1 tensor  4 params"), "{screen}");
    assert!(!screen.contains("1 tensors"), "{screen}");
    let screen = sized(
        act(
            crate::tui::load(&path, &Default::default()).unwrap(),
            [Action::SelectTab(1)],
        ),
        120,
        24,
    );
    assert!(screen.contains("1 tensor, 4 parameters"), "{screen}");
}
