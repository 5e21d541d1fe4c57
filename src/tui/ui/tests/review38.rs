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
    assert_eq!(a.scan.files.len(), 2, "both files are scanned");
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

/// A safetensors file of one small F32 tensor per name, in `dir`.
fn named(dir: &Path, names: &[&str]) -> PathBuf {
    let bytes: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let views = names.iter().map(|n| {
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &bytes);
        (n.to_string(), view.unwrap())
    });
    let p = dir.join("names.safetensors");
    std::fs::write(&p, safetensors::serialize(views, None).unwrap()).unwrap();
    p
}

fn open(path: &Path, shown: &str) -> crate::tui::app::App {
    super::tidy(settle(crate::tui::load(path, &Default::default()).unwrap()), shown)
}

/// `layer.é.weight` spelt with U+0301 is not drawn as `layer.e.weight`: the mark stays on its base
/// in the tree and the flat list; a mark with no base before it is escaped.
#[test]
fn combining_marks_stay_on_their_base() {
    let dir = tempfile::tempdir().unwrap();
    let p = named(dir.path(), &["layer.e.weight", "layer.e\u{301}.weight", "\u{301}x.w"]);
    let a = act(open(&p, "names.safetensors"), [Action::OpenAll]);
    let tree = super::draw(&a, 60, 12);
    assert!(tree.contains("▾ e\u{301}"), "{tree}");
    assert!(tree.contains("▾ \\u{0301}x"), "{tree}");
    let a = act(a, [Action::ToggleFlat]);
    let flat = super::draw(&a, 60, 12);
    assert!(flat.contains("layer.e\u{301}.weight"), "{flat}");
    assert!(flat.contains("layer.e.weight"), "{flat}");
}

/// The Files total counts a tied weight once, as the Tensors header and `inspect` do; the tied row
/// says `tied` (not `0 params`) and its preview what it is tied to.
#[test]
fn a_tied_weight_is_counted_once_and_said_tied() {
    use crate::tui::scroll::Move;
    let a = super::app("gpt2-tiny-legacy.bin");
    let files = a.tabs().iter().position(|t| *t == Tab::Files).unwrap();
    let screen = sized(act(a, [Action::SelectTab(files)]), 80, 24);
    assert!(
        screen.contains("29 tensors, 172,288 parameters, 689.2 kB (945.2 kB as listed)"),
        "{screen}"
    );
    let a = act(super::app("gpt2-tiny-legacy.bin"), [Action::OpenAll]);
    let row = a
        .tensors
        .rows
        .iter()
        .position(|&id| a.tensors.tree.label(id) == "lm_head");
    let a = act(a, (0..row.expect("an lm_head row")).map(|_| Action::Move(Move::Down)));
    let screen = super::draw(&a, 80, 24);
    let lm = screen.lines().find(|l| l.contains("▾ lm_head")).expect(&screen);
    assert!(lm.contains("tied") && !lm.contains("0 params"), "{screen}");
    assert!(screen.contains("tied to wte.weight"), "{screen}");
    let screen = sized(act(a, [Action::Move(Move::Down)]), 80, 24);
    assert!(
        screen.contains("tied to wte.weight: counted"),
        "the leaf says it too:\n{screen}"
    );
}

/// A name of 400 dotted parts, opened whole and paged down: every row keeps its label and its
/// columns (the indentation stops where they still fit and says the depth).
#[test]
fn deep_names_keep_their_label_and_columns() {
    use crate::tui::scroll::Move;
    let dir = tempfile::tempdir().unwrap();
    let deep = (0..400).map(|i| format!("seg{i}")).collect::<Vec<_>>().join(".");
    let p = named(dir.path(), &["a.weight", &format!("long2.{deep}")]);
    let mut a = act(open(&p, "names.safetensors"), [Action::OpenAll]);
    for _ in 0..3 {
        a.update(Action::Move(Move::PageDown));
    }
    let screen = sized(a, 80, 24);
    let rows: Vec<&str> = screen.lines().skip(2).take(20).collect();
    for r in &rows {
        assert!(
            r.contains("▾ seg") && r.contains("2 params") && r.contains("F32││"),
            "{screen}"
        );
    }
    assert!(rows[0].contains('…'), "{screen}");
}

/// The index of a sharded pickle is listed as `pytorch-sharded`, as `inspect` says the format.
#[test]
fn a_pytorch_shard_index_is_listed_as_pytorch_sharded() {
    let a = super::app("sharded-bin");
    let files = a.tabs().iter().position(|t| *t == Tab::Files).unwrap();
    let screen = sized(act(a, [Action::SelectTab(files)]), 80, 24);
    let index = screen.lines().find(|l| l.contains("pytorch_model.bin.index.json"));
    let index = index.expect(&screen);
    assert!(index.contains("pytorch-sharded"), "{screen}");
}

/// A file name that is not UTF-8 is written `bad\xffutf` in the Files tab, as in the other tabs
/// (not `bad�utf`); a file named .safetensors that holds a pickle gets `inspect`'s note.
#[test]
fn the_files_tab_writes_names_losslessly_and_notes_misnamed_files() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let p = named(dir.path(), &["a.weight"]);
    let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xffutf.safetensors"));
    std::fs::rename(&p, &bad).unwrap();
    let a = crate::tui::load(&bad, &Default::default()).unwrap();
    let files = a.tabs().iter().position(|t| *t == Tab::Files).unwrap();
    let screen = super::draw(&act(a, [Action::SelectTab(files)]), 100, 24);
    assert!(
        screen.contains("bad\\xffutf.safetensors") && !screen.contains('\u{fffd}'),
        "{screen}"
    );
    let looks = dir.path().join("looks.safetensors");
    std::fs::copy(sample("gpt2-tiny.bin"), &looks).unwrap();
    let a = crate::tui::load(&looks, &Default::default()).unwrap();
    let screen = super::draw(&act(a, [Action::SelectTab(files)]), 100, 40);
    assert!(
        screen.contains("is named .safetensors but its content is a torch.save pickle"),
        "{screen}"
    );
}

/// Compare mode at 80 columns: the header keeps A's file name whole and cuts B's from the front
/// (`gp…ny.bin ⇄ gpt2-…afetensors` before); at 100 both keep `…/` and their names.
#[test]
fn the_compare_header_keeps_file_names_whole() {
    let pair = || {
        let p = crate::tui::load_pair(
            &sample("gpt2-tiny.bin"),
            &sample("gpt2-tiny.safetensors"),
            &Default::default(),
        );
        settle(p.unwrap())
    };
    let head = super::draw(&pair(), 80, 3).lines().next().unwrap().to_string();
    assert!(head.starts_with(" gpt2-tiny.bin ⇄ …safetensors "), "{head}");
    let head = super::draw(&pair(), 100, 3).lines().next().unwrap().to_string();
    assert!(head.contains(" …/gpt2-tiny.bin ⇄ …/gpt2-tiny.safetensors "), "{head}");
}

/// At 40 columns the list takes the body: Enter on a tensor shows its preview full-width (s and J
/// too), ← or Esc goes back to the list, and the status line says so.
#[test]
fn a_narrow_terminal_shows_the_preview_on_enter() {
    use crate::tui::scroll::Move;
    let a = act(
        super::app("gpt2-tiny.safetensors"),
        [Action::OpenAll, Action::ToggleFlat],
    );
    let list = sized(act(a, [Action::Move(Move::Down)]), 40, 20);
    assert!(list.lines().last().unwrap().contains("Enter preview"), "{list}");
    let a = act(super::app("gpt2-tiny.safetensors"), [Action::ToggleFlat, Action::Open]);
    let shown = sized(a, 40, 20);
    assert!(shown.lines().nth(1).unwrap().contains("Tensor"), "{shown}");
    assert!(shown.contains("stats") && shown.contains("←/Esc list"), "{shown}");
    let a = act(
        super::app("gpt2-tiny.safetensors"),
        [Action::ToggleFlat, Action::Open, Action::Back],
    );
    assert!(!a.tensors.preview_focus);
    let back = sized(a, 40, 20);
    assert!(back.contains("flat") && !back.contains("stats"), "{back}");
    let a = act(
        super::app("gpt2-tiny.safetensors"),
        [Action::ToggleFlat, Action::ExactStats],
    );
    assert!(sized(a, 40, 20).contains("stats (exact)"));
    // wide enough for both panes, Enter changes nothing
    let a = act(super::app("gpt2-tiny.safetensors"), [Action::ToggleFlat, Action::Open]);
    assert!(sized(a, 80, 24).lines().nth(1).unwrap().contains("tensors"));
}
