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
