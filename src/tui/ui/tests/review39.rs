//! Review 39: the long-value viewer past row 65,535 and one row per item, the unique bytes of
//! pickles whose tensors share storages, notes and summaries that fit their line, hanging wraps.

use super::{act, app, draw};
use crate::tui::app::{Action, Mode, Tab};
use crate::tui::scroll::Move;
use crate::tui::viewer::Viewer;

/// A viewer of a 128,256-item list (Llama 3's vocabulary) scrolled to its end shows the last items,
/// and the border's position names the rows on screen.
#[test]
fn the_value_viewer_reaches_items_past_row_65535() {
    let mut a = act(app("tiny.gguf"), [Action::SelectTab(1)]);
    a.viewer = Some(Viewer {
        keys: vec!["tokenizer.ggml.tokens".into()],
        at: 0,
        title: "tokens".into(),
        lines: (0..128_256).map(|i| format!("{i:>6}  tok{i}")).collect(),
        scroll: Default::default(),
    });
    a.mode = Mode::Value;
    draw(&a, 80, 24);
    a.update(Action::Move(Move::Bottom));
    let end = draw(&a, 80, 24);
    assert!(end.contains("128237–128256 of 128256"), "{end}");
    let rows: Vec<&str> = end.lines().collect();
    // row 128,237 is item 128,236
    assert!(
        rows[2].contains("128236  tok128236"),
        "the first row is the border's:\n{end}"
    );
    assert!(rows[21].contains("128255  tok128255"), "{end}");
    assert_eq!(a.tab, Tab::Files);
}
