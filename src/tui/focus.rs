//! Where an action moves the Tensors tab's focus between the list and the preview, which a terminal
//! too narrow for both panes shows one at a time.

use super::action::Action;
use super::tensors::TensorPane;

/// Move `pane`'s focus for `action`; `true` when that is all the action does (← or Esc back to the
/// list).
pub fn follow(pane: &mut TensorPane, action: &Action) -> bool {
    match action {
        Action::Back | Action::Close if pane.preview_focus => {
            pane.preview_focus = false;
            return true;
        }
        Action::Open => {
            pane.preview_focus = pane
                .selected_node()
                .is_some_and(|id| pane.flat || !pane.tree.node(id).has_children(id))
        }
        Action::ScrollPreview(_) | Action::ExactStats => pane.preview_focus = true,
        Action::Move(_) | Action::ClickRow(_) | Action::ToggleFlat | Action::OpenAll | Action::CloseAll => {
            pane.preview_focus = false
        }
        _ => {}
    }
    false
}
