//! Rendered snapshots at a fixed size (ratatui `TestBackend` + insta), and tiny sizes that must not panic.

use std::path::Path;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tui::app::{Action, App};

fn app(rel: &str) -> App {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(rel);
    let mut app = crate::tui::load(&path).expect("sample opens");
    // snapshots must not depend on where the repository is checked out
    app.ck.path = Path::new("samples").join(rel);
    for f in &mut app.scan {
        if let Some(i) = f.path.find("samples/") {
            f.path = f.path[i..].to_string();
        }
    }
    app
}

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| f.render_widget(app, f.area())).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn tensors_view() {
    let mut a = app("gpt2-tiny.safetensors");
    a.update(Action::Down);
    insta::assert_snapshot!(draw(&a, 120, 32));
}

#[test]
fn filter_narrows_the_list() {
    let mut a = app("gpt2-tiny.safetensors");
    a.update(Action::StartFilter);
    for c in "c_proj.w".chars() {
        a.update(Action::FilterInput(c));
    }
    assert_eq!(a.list.visible.len(), 4);
    insta::assert_snapshot!(draw(&a, 120, 20));
}

#[test]
fn scan_view_of_a_dangerous_file() {
    let mut a = app("malicious.bin");
    a.update(Action::NextTab);
    a.update(Action::NextTab);
    insta::assert_snapshot!(draw(&a, 120, 12));
}

#[test]
fn files_view_of_a_diffusers_folder() {
    let mut a = app("diffusers-tiny");
    a.update(Action::Select(crate::tui::app::Tab::Files));
    insta::assert_snapshot!(draw(&a, 120, 24));
}

#[test]
fn help_overlay() {
    let mut a = app("gpt2-tiny.bin");
    a.update(Action::ToggleHelp);
    insta::assert_snapshot!(draw(&a, 100, 24));
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut a = app("gpt2-tiny.bin");
    for (w, h) in [(1, 1), (2, 3), (10, 4), (40, 2)] {
        draw(&a, w, h);
        a.update(Action::ToggleHelp);
        draw(&a, w, h);
        a.update(Action::ToggleHelp);
        a.update(Action::NextTab);
    }
}

#[test]
fn navigation_is_clamped_and_filter_cancel_restores() {
    let mut a = app("gpt2-tiny.safetensors");
    a.update(Action::Up);
    assert_eq!(a.list.selected, 0);
    a.update(Action::Bottom);
    assert_eq!(a.list.selected, 27);
    a.update(Action::PageDown);
    assert_eq!(a.list.selected, 27);
    a.update(Action::StartFilter);
    a.update(Action::FilterInput('z'));
    a.update(Action::FilterInput('z'));
    assert!(a.list.visible.is_empty() && a.preview.is_none());
    a.update(Action::FilterCancel);
    assert_eq!(a.list.visible.len(), 28);
    assert_eq!(
        a.selected_tensor(),
        Some(0),
        "the selection was filtered away: back to the first tensor"
    );
    assert!(a.preview.is_some());
    a.update(Action::Quit);
    assert!(a.quit);
}
