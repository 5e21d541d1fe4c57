//! Rendered snapshots at 80x24 and 120x40 (ratatui `TestBackend` + insta), pure `update` sequences,
//! and tiny sizes that must not panic.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use safetensors::tensor::TensorView;

use crate::tui::app::{Action, App, Effect, PreviewState, Tab};
use crate::tui::preview::Preview;
use crate::tui::scroll::Move;

mod bench;
mod diff;
mod files;
mod panes;
mod preview;
mod review;
mod review38;
mod review38b;
mod review39;

/// Snapshots must not depend on where the repository or a temporary folder is.
fn tidy(mut app: App, shown: &str) -> App {
    if let Some(ck) = std::sync::Arc::get_mut(&mut app.ck) {
        ck.path = PathBuf::from(shown);
    }
    let skipped = app.scan.skipped.iter_mut().map(|s| &mut s.path);
    for path in app.scan.files.iter_mut().map(|f| &mut f.path).chain(skipped) {
        if let Some(i) = path.rfind('/') {
            *path = path[i + 1..].to_string();
        }
    }
    app
}

fn app(rel: &str) -> App {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(rel);
    let app = settle(crate::tui::load(&path, &Default::default()).expect("sample opens"));
    tidy(app, &format!("samples/{rel}"))
}

/// Do what the loop's workers would: compute the pending preview (and comparison) right here.
fn settle(mut app: App) -> App {
    if app.scan_status == crate::tui::app::ScanStatus::Running {
        let r = tensorscope::scan::scan_paths(&app.scan_paths()).map_err(|e| e.to_string());
        app.update(Action::ScanReady(r));
    }
    let _ = app.preview_effect();
    if let PreviewState::Computing { index, exact } = app.preview {
        let p = Preview::compute(&app.ck, index, exact, &AtomicBool::new(false)).expect("not cancelled");
        app.update(Action::PreviewReady(Box::new(p)));
    }
    if let Some(c) = &app.compare
        && c.report.is_none()
    {
        let r = tensorscope::diff::diff(&app.ck, &c.b)
            .map(Box::new)
            .map_err(|e| e.to_string());
        app.update(Action::DiffReady(r));
    }
    app
}

fn act(app: App, actions: impl IntoIterator<Item = Action>) -> App {
    let mut app = app;
    for a in actions {
        app.update(a);
    }
    settle(app)
}

fn typed(s: &str) -> Vec<Action> {
    let mut v = vec![Action::StartFilter];
    v.extend(s.chars().map(Action::FilterInput));
    v
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

/// Draw at a size with paging set as the loop sets it.
fn sized(mut app: App, w: u16, h: u16) -> String {
    sized_mut(&mut app, w, h)
}

fn sized_mut(app: &mut App, w: u16, h: u16) -> String {
    app.page = crate::tui::ui::page_rows(h);
    app.tensors.scroll_to_selection(app.page);
    draw(app, w, h)
}

/// A BERT-style safetensors file (hidden size 8, two layers) in a temporary folder.
pub fn bert(dir: &Path) -> PathBuf {
    let mut names: Vec<(String, Vec<usize>)> = vec![
        ("bert.embeddings.word_embeddings.weight".into(), vec![64, 8]),
        ("bert.embeddings.position_embeddings.weight".into(), vec![16, 8]),
        ("bert.embeddings.LayerNorm.weight".into(), vec![8]),
        ("bert.pooler.dense.weight".into(), vec![8, 8]),
    ];
    for l in 0..2 {
        for part in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
        ] {
            names.push((format!("bert.encoder.layer.{l}.{part}.weight"), vec![8, 8]));
            names.push((format!("bert.encoder.layer.{l}.{part}.bias"), vec![8]));
        }
        names.push((format!("bert.encoder.layer.{l}.intermediate.dense.weight"), vec![32, 8]));
    }
    let data: Vec<(String, Vec<u8>, Vec<usize>)> = names
        .into_iter()
        .map(|(n, shape)| {
            let count: usize = shape.iter().product();
            let bytes = (0..count).flat_map(|i| (i as f32 / 7.0).to_le_bytes()).collect();
            (n, bytes, shape)
        })
        .collect();
    let views = data.iter().map(|(n, b, s)| {
        (
            n.clone(),
            TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap(),
        )
    });
    let path = dir.join("bert.safetensors");
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    path
}

#[test]
fn tree_of_a_bert_model_shows_encoder_with_its_params() {
    let dir = tempfile::tempdir().unwrap();
    let a = tidy(
        settle(crate::tui::load(&bert(dir.path()), &Default::default()).unwrap()),
        "bert.safetensors",
    );
    let screen = sized(a, 80, 24);
    let encoder = screen
        .lines()
        .find(|l| l.contains("encoder"))
        .expect("encoder row on the first screen");
    assert!(encoder.contains("1.1K params"), "{encoder}");
    insta::assert_snapshot!(screen);
}

#[test]
fn tree_at_80x24_and_120x40() {
    insta::assert_snapshot!("tree_80x24", sized(app("gpt2-tiny.safetensors"), 80, 24));
    let a = act(
        app("gpt2-tiny.safetensors"),
        [
            Action::OpenAll,
            Action::Move(Move::Down),
            Action::Move(Move::Down),
            Action::Move(Move::Down),
        ],
    );
    insta::assert_snapshot!("tree_120x40", sized(a, 120, 40));
}

#[test]
fn flat_list_keeps_names_and_cuts_with_an_ellipsis() {
    let a = act(app("diffusers-tiny"), [Action::ToggleFlat, Action::Move(Move::Bottom)]);
    let screen = sized(a, 80, 24);
    assert!(screen.contains('…'), "long names are cut with …");
    insta::assert_snapshot!(screen);
}

#[test]
fn filter_highlights_and_esc_clears_without_quitting() {
    let dir = tempfile::tempdir().unwrap();
    let a = tidy(
        settle(crate::tui::load(&bert(dir.path()), &Default::default()).unwrap()),
        "bert.safetensors",
    );
    let mut a = act(a, typed("query").into_iter().chain([Action::FilterAccept]));
    assert_eq!(a.tensors.match_count, 4);
    assert!(a.tensors.selected_tensor().is_some(), "the first match is selected");
    let screen = sized(act(a, []), 80, 24);
    assert!(screen.lines().filter(|l| l.contains("query")).count() >= 2);
    insta::assert_snapshot!("filter_query_80x24", screen);
    a = tidy(
        settle(crate::tui::load(&bert(dir.path()), &Default::default()).unwrap()),
        "bert.safetensors",
    );
    a = act(
        a,
        typed("query")
            .into_iter()
            .chain([Action::FilterAccept, Action::NextMatch]),
    );
    let styled = {
        let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
        t.draw(|f| f.render_widget(&a, f.area())).unwrap();
        let buf = t.backend().buffer().clone();
        (0..40u16)
            .flat_map(|y| (0..120u16).map(move |x| (x, y)))
            .filter(|&(x, y)| buf[(x, y)].fg == ratatui::style::Color::Yellow)
            .count()
    };
    assert!(styled >= 5, "matched characters are highlighted");
    let kept = a.selected_tensor();
    assert!(kept.is_some());
    a.update(Action::Back);
    assert!(!a.quit, "Esc never quits");
    assert!(a.tensors.matched.is_none() && a.tensors.filter.is_empty());
    assert_eq!(a.selected_tensor(), kept, "clearing the filter keeps the selection");
    a.update(Action::Back);
    assert!(!a.quit);
    a.update(Action::Quit);
    assert!(a.quit);
}

#[test]
fn tree_keys_open_close_and_jump() {
    let mut a = app("gpt2-tiny.safetensors");
    let rows = a.tensors.rows.len();
    a.update(Action::CloseAll);
    assert!(a.tensors.rows.len() < rows);
    let top = a.tensors.rows.len();
    a.update(Action::Move(Move::Top));
    a.update(Action::Open);
    assert!(a.tensors.rows.len() > top, "→ opens");
    a.update(Action::Move(Move::Down));
    a.update(Action::Close);
    assert_eq!(a.tensors.selected, 0, "← on a closed child goes to its parent");
    a.update(Action::Close);
    assert_eq!(a.tensors.rows.len(), top, "← closes");
    a.update(Action::OpenAll);
    assert_eq!(a.tensors.rows.len(), a.tensors.tree.len() - 1);
    a.update(Action::ToggleFlat);
    assert_eq!(a.tensors.rows.len(), a.ck.tensors.len());
    for c in "c_fc.w".chars() {
        a.update(Action::FilterInput(c));
    }
    assert_eq!(a.tensors.match_count, 2);
    let first = a.selected_tensor();
    a.update(Action::NextMatch);
    assert_ne!(a.selected_tensor(), first);
    a.update(Action::NextMatch);
    assert_eq!(a.selected_tensor(), first, "n wraps around");
    a.update(Action::PrevMatch);
    assert_ne!(a.selected_tensor(), first);
}

#[test]
fn q_quits_while_a_long_statistic_runs() {
    let mut a = app("gpt2-tiny.safetensors");
    a.update(Action::OpenAll);
    a.update(Action::ToggleFlat);
    let fx = a.update(Action::ExactStats);
    assert!(
        matches!(fx, Some(Effect::Preview { exact: true, .. })),
        "statistics go to a worker"
    );
    assert!(matches!(a.preview, PreviewState::Computing { exact: true, .. }));
    assert!(sized_mut(&mut a, 80, 24).contains("computing exact statistics"));
    a.update(Action::Quit);
    assert!(a.quit);
}

#[test]
fn sharded_is_safe_and_mixed_folder_with_a_malicious_pickle_is_dangerous() {
    let head = |a: App| sized(a, 80, 24).lines().next().unwrap_or_default().to_string();
    assert!(head(app("sharded")).ends_with("SAFE"), "{}", head(app("sharded")));
    let a = app("mixed-folder");
    assert!(
        a.ck.tensors.iter().any(|t| t.name.contains("lora")),
        "the safetensors tensors are listed"
    );
    let line = head(a);
    assert!(line.ends_with("DANGEROUS"), "{line}");
    // before the worker's scan arrives the header says so, and never SAFE
    let fresh = crate::tui::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/mixed-folder"),
        &Default::default(),
    )
    .unwrap();
    let line = head(fresh);
    assert!(line.ends_with("scanning…"), "{line}");
}

#[test]
fn filter_files_and_scan_at_both_sizes() {
    let a = act(
        app("diffusers-tiny"),
        typed("unet conv_in").into_iter().chain([Action::FilterAccept]),
    );
    assert_eq!(a.tensors.match_count, 2);
    insta::assert_snapshot!("filter_120x40", sized(a, 120, 40));
    insta::assert_snapshot!(
        "files_80x24",
        sized(act(app("diffusers-tiny"), [Action::SelectTab(1)]), 80, 24)
    );
    insta::assert_snapshot!(
        "scan_80x24",
        sized(act(app("mixed-folder"), [Action::SelectTab(2)]), 80, 24)
    );
}

#[test]
fn scan_view_of_a_dangerous_file() {
    let a = act(app("malicious.bin"), [Action::SelectTab(2)]);
    insta::assert_snapshot!(draw(&a, 120, 12));
}

/// The position a scrolled pane shows in its title: (first, last, total) rows.
fn position(screen: &str) -> Option<(usize, usize, usize)> {
    let line = screen.lines().nth(1)?;
    let at = line.rfind(" of ")?;
    let total = line[at + 4..].split_whitespace().next()?.parse().ok()?;
    let range = line[..at].rsplit(' ').next()?;
    let (a, b) = range.split_once('–')?;
    Some((a.parse().ok()?, b.parse().ok()?, total))
}

#[test]
fn files_and_scan_tabs_reach_their_last_line_at_80x24() {
    // the samples folder: more files and findings than 24 rows hold
    let mut a = act(app(""), [Action::SelectTab(2)]);
    let top = sized_mut(&mut a, 80, 24);
    let (first, _, total) = position(&top).expect("the Scan title shows where the view is");
    assert_eq!(first, 1);
    let rows: Vec<&str> = top
        .lines()
        .skip(3)
        .filter(|l| l.starts_with("│DANGEROUS") || l.starts_with("│SAFE"))
        .collect();
    assert!(
        rows.first().is_some_and(|l| l.starts_with("│DANGEROUS")),
        "the worst file first:\n{top}"
    );
    for action in [
        Action::Move(Move::Bottom),
        Action::Move(Move::Up),
        Action::Move(Move::Down),
        Action::Move(Move::PageUp),
        Action::Move(Move::PageDown),
    ] {
        a.update(action);
    }
    let bottom = sized_mut(&mut a, 80, 24);
    let (_, last, n) = position(&bottom).unwrap();
    assert_eq!((last, n), (total, total), "End shows the last line:\n{bottom}");
    a.update(Action::Move(Move::Top));
    assert_eq!(position(&sized_mut(&mut a, 80, 24)).unwrap().0, 1);

    let mut f = act(app("tiny.gguf"), [Action::SelectTab(1)]);
    let top = sized_mut(&mut f, 80, 24);
    if let Some((_, _, total)) = position(&top) {
        f.update(Action::Move(Move::Bottom));
        let bottom = sized_mut(&mut f, 80, 24);
        assert_eq!(position(&bottom).unwrap().1, total, "{bottom}");
    }
}

#[test]
fn files_view_of_a_diffusers_folder() {
    let a = act(app("diffusers-tiny"), [Action::SelectTab(1)]);
    insta::assert_snapshot!(draw(&a, 120, 24));
}

#[test]
fn help_lists_the_keys_of_the_pane() {
    let a = act(app("gpt2-tiny.bin"), [Action::ToggleHelp]);
    let screen = sized(a, 80, 24);
    assert!(screen.contains("Keys: Tensors") && screen.contains("flat list"));
    insta::assert_snapshot!(screen);
    let mut a = act(app("gpt2-tiny.bin"), [Action::ToggleHelp]);
    a.update(Action::Back);
    assert!(!a.quit && a.mode == crate::tui::app::Mode::Normal);
}

#[test]
fn header_keeps_tabs_and_verdict_with_a_long_path() {
    let long = format!("/very/long/{}/gpt2-tiny.safetensors", "deeply-nested-folder/".repeat(8));
    let a = tidy(
        settle(
            crate::tui::load(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gpt2-tiny.safetensors"),
                &Default::default(),
            )
            .unwrap(),
        ),
        &long,
    );
    for w in [60, 80, 120] {
        let head = draw(&a, w, 3).lines().next().unwrap().to_string();
        assert!(head.contains("4 Bench") && head.ends_with("SAFE"), "{w}: {head}");
        assert!(head.contains('…'), "{w}: {head}");
    }
}

#[test]
fn clicks_select_tabs_and_rows() {
    let a = app("gpt2-tiny.safetensors");
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let files = crate::tui::ui::header::layout(&a, 80).tabs[1].start;
    assert_eq!(crate::tui::ui::tab_at(&a, area, files), Some(1));
    assert_eq!(crate::tui::ui::row_at(&a, area, 3, 2), Some(0));
    assert_eq!(crate::tui::ui::row_at(&a, area, 3, 0), None);
    let a = act(a, [Action::ClickRow(2)]);
    assert_eq!(a.tensors.selected, 2);
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut a = app("gpt2-tiny.bin");
    for (w, h) in [(1, 1), (2, 3), (10, 4), (40, 2), (30, 10)] {
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
    a.update(Action::ToggleFlat);
    a.update(Action::Move(Move::Up));
    assert_eq!(a.tensors.selected, 0);
    a.update(Action::Move(Move::Bottom));
    assert_eq!(a.tensors.selected, 27);
    a.update(Action::Move(Move::PageDown));
    assert_eq!(a.tensors.selected, 27);
    let mut a = act(a, typed("zz"));
    assert!(a.tensors.rows.is_empty() && matches!(a.preview, PreviewState::None));
    a.update(Action::Back);
    assert_eq!(a.tensors.rows.len(), 28);
    assert!(!a.quit);
    let a = settle(a);
    assert!(matches!(a.preview, PreviewState::Ready(_)));
}
