//! Every pane at 80x24 reaches its last line and says where it is: the tree (its name cut before its
//! columns), the help overlay, the Diff rows, the wheel over the preview; the Scan tab's findings wrap
//! under their own text.

use super::{act, app, draw, settle, sized, sized_mut, tidy};
use crate::tui::app::{Action, Mode, Tab};
use crate::tui::scroll::Move;

// the safetensors writer of the integration tests
#[allow(dead_code)]
#[path = "../../../../tests/common/build.rs"]
mod build;

/// `(first, last, total)` of the last `12–34 of 151` on screen line `line`.
fn position(screen: &str, line: usize) -> Option<(usize, usize, usize)> {
    let l = screen.lines().nth(line)?;
    let at = l.rfind(" of ")?;
    let total: String = l[at + 4..].chars().take_while(char::is_ascii_digit).collect();
    let (a, b) = l[..at].rsplit(' ').next()?.split_once('–')?;
    Some((a.parse().ok()?, b.parse().ok()?, total.parse().ok()?))
}

/// At 80 columns, a folder's long file names are cut in their middle: the params and dtype columns
/// stay (the size goes first).
#[test]
fn the_tree_cuts_long_names_before_params_and_dtype_at_80_columns() {
    let screen = sized(app(""), 80, 24);
    let row = screen
        .lines()
        .find(|l| l.contains("gpt…"))
        .unwrap_or_else(|| panic!("a long name cut in its middle:\n{screen}"));
    assert!(row.contains("172.3K params") && row.contains("F32"), "{screen}");
    assert!(!row.contains("kB"), "the size goes first:\n{screen}");
    insta::assert_snapshot!("tree_folder_80x24", screen);
    // wide: the names whole, every column
    let wide = sized(app(""), 200, 50);
    assert!(
        wide.contains("gpt2-tiny-legacy.bin") && wide.contains("689.2 kB"),
        "{wide}"
    );
    insta::assert_snapshot!("tree_folder_200x50", wide);
}

/// The help overlay of the Bench tab does not fit 80x24 with its descriptions whole: they wrap
/// under themselves, and j/G scroll it to its last line (any other key still closes it).
#[test]
fn the_help_overlay_wraps_and_scrolls_to_its_last_line() {
    let mut a = act(app("gpt2-tiny.safetensors"), [Action::SelectTab(3), Action::ToggleHelp]);
    let top = sized_mut(&mut a, 80, 24);
    assert!(top.contains("Keys: Bench"), "{top}");
    // the export line continues under its description, not under the keys
    let cont = top
        .lines()
        .skip_while(|l| !l.contains("write the report"))
        .nth(1)
        .unwrap_or("");
    assert!(cont.starts_with(&format!("│{}", " ".repeat(24))), "{top}");
    insta::assert_snapshot!("help_bench_80x20", sized_mut(&mut a, 80, 20));
    let first = position(&sized_mut(&mut a, 80, 20), 0).map(|p| p.0);
    assert_eq!(
        first, None,
        "the overlay's top line has no position when it fits\n{top}"
    );
    let small = sized_mut(&mut a, 80, 14);
    let (_, _, total) = position(&small, 0).unwrap_or_else(|| panic!("a position:\n{small}"));
    a.update(Action::Move(Move::Down));
    assert_eq!(
        position(&sized_mut(&mut a, 80, 14), 0).map(|p| p.0),
        Some(2),
        "j scrolls"
    );
    a.update(Action::Move(Move::Bottom));
    let end = sized_mut(&mut a, 80, 14);
    assert_eq!(
        position(&end, 0).map(|p| p.1),
        Some(total),
        "G reaches the last line:\n{end}"
    );
    assert!(end.contains("\\x1b is a control character"), "{end}");
    insta::assert_snapshot!("help_bench_scrolled_80x14", end);
    assert_eq!(a.mode, Mode::Help);
    a.update(Action::ToggleHelp);
    assert_eq!(a.mode, Mode::Normal);
    // it opens at its top again
    a.update(Action::ToggleHelp);
    assert_eq!(position(&sized_mut(&mut a, 80, 14), 0).map(|p| p.0), Some(1));
}

/// The Diff rows say where the view is; G reaches the last row.
#[test]
fn the_diff_tab_shows_its_position_and_reaches_its_last_row() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let a = crate::tui::load_pair(
        &root.join("gpt2-tiny.bin"),
        &root.join("gpt2-tiny.safetensors"),
        &Default::default(),
    )
    .unwrap();
    let mut a = tidy(settle(a), "samples/gpt2-tiny.bin");
    assert_eq!(a.tab, Tab::Diff);
    let top = sized_mut(&mut a, 80, 24);
    assert_eq!(position(&top, 1), Some((1, 19, 29)), "{top}");
    a.update(Action::Move(Move::Bottom));
    let end = sized_mut(&mut a, 80, 24);
    assert_eq!(position(&end, 1), Some((11, 29, 29)), "{end}");
    assert!(end.lines().nth(21).unwrap_or("").contains("ln_f"), "{end}");
}

/// The wheel over the preview scrolls the preview; over the list it moves the selection.
#[test]
fn the_wheel_over_the_preview_scrolls_it() {
    let a = act(app("gpt2-tiny.safetensors"), [Action::ToggleFlat]);
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    assert!(crate::tui::ui::in_preview(&a, area, 60, 5));
    assert!(!crate::tui::ui::in_preview(&a, area, 10, 5));
    assert!(!crate::tui::ui::in_preview(&a, area, 60, 0), "the header is no preview");
    let mut a = act(a, [Action::SelectTab(1)]);
    assert!(!crate::tui::ui::in_preview(&a, area, 60, 5), "only on the Tensors tab");
    a.update(Action::SelectTab(0));
    draw(&a, 80, 24);
}

/// `v` on the Files tab of a vocab-only GGUF opens its token list whole, one token a line with its
/// index, scrolls to the last token, `n` steps to the next long value, Esc closes it.
#[test]
fn the_value_viewer_opens_a_token_list_whole_and_scrolls_to_its_end() {
    let mut a = act(app("tiny.gguf"), [Action::SelectTab(1)]);
    // in the Files tab, the long token list continues under its key's indent
    let files = sized_mut(&mut a, 80, 24);
    assert!(files.lines().any(|l| l.starts_with("│    \"tok1\"")), "{files}");
    a.update(Action::OpenValues);
    assert_eq!(a.mode, Mode::Value);
    let top = sized_mut(&mut a, 80, 24);
    assert!(top.contains("tokenizer.ggml.tokens (ARRAY[STRING], 64 items)"), "{top}");
    insta::assert_snapshot!("value_viewer_tokens_80x24", top);
    a.update(Action::Move(Move::Bottom));
    let end = sized_mut(&mut a, 80, 24);
    assert!(end.contains("63  tok60"), "the last token is reached:\n{end}");
    a.update(Action::NextMatch);
    let next = sized_mut(&mut a, 80, 24);
    assert!(
        !next.contains("tokenizer.ggml.tokens ("),
        "n shows the next long value:\n{next}"
    );
    a.update(Action::Back);
    assert_eq!((a.mode, a.viewer.is_none()), (Mode::Normal, true));
    assert_eq!(a.tab, Tab::Files);
}

/// A checkpoint of `n` 1-element F32 tensors `blocks.{i/100}.w{i%100}` in `dir`.
fn many(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let tensors: Vec<_> = (0..n)
        .map(|i| (format!("blocks.{}.w{}", i / 100, i % 100), "F32", vec![1], vec![0; 4]))
        .collect();
    let path = dir.join("many.safetensors");
    std::fs::write(&path, build::safetensors(&tensors, &[])).unwrap();
    path
}

/// Past `TREE_ON_WORKER_MIN` tensors the first frame comes before the tree: the pane says it is
/// indexing, and fills in when the worker's tree arrives, with a filter typed meanwhile applied.
#[test]
fn a_huge_checkpoint_draws_before_its_tree_and_fills_in_when_it_arrives() {
    use crate::tui::tensors::{TREE_ON_WORKER_MIN, TensorPane};
    let dir = tempfile::tempdir().unwrap();
    let n = TREE_ON_WORKER_MIN + 100;
    let mut a = crate::tui::load(&many(dir.path(), n), &Default::default()).unwrap();
    assert!(a.tensors.pending);
    let first = sized_mut(&mut a, 80, 24);
    assert!(first.contains(&format!("indexing {n} tensors…")), "{first}");
    a.update(Action::StartFilter);
    for c in "w99".chars() {
        a.update(Action::FilterInput(c));
    }
    a.update(Action::FilterAccept);
    let pane = TensorPane::of(&a.ck);
    a.update(Action::TreeReady(Box::new(pane)));
    assert!(!a.tensors.pending);
    assert_eq!(
        a.tensors.match_count,
        n / 100,
        "the filter typed while indexing applies"
    );
    let after = sized_mut(&mut a, 80, 24);
    assert!(after.contains("blocks") && !after.contains("indexing"), "{after}");
}
