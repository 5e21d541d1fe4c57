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

/// A pickle whose tensors are views of one storage: the Tensors title and the Files totals give
/// the bytes on disk, each storage once, as `inspect` does, and the listed sum beside it.
#[test]
fn views_of_one_storage_count_its_bytes_once() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch/views.pt");
    let a = super::settle(crate::tui::load(&path, &Default::default()).expect("opens"));
    let c = a.ck.counting();
    assert_ne!(c.unique_bytes, a.ck.total_bytes(), "the file has views");
    let unique = tensorscope::text::bytes(c.unique_bytes);
    let listed = tensorscope::text::bytes(a.ck.total_bytes());
    let tensors = draw(&a, 120, 30);
    let title = tensors.lines().nth(1).unwrap_or_default();
    assert!(title.contains(&unique), "{unique} in the title:\n{tensors}");
    let a = act(a, [Action::SelectTab(1)]);
    let files = draw(&a, 120, 30);
    assert!(files.contains(&format!("{unique} ({listed} as listed)")), "{files}");
}

/// At 80 columns the note of two reports written in a long folder says how many went where, the
/// names cut with `…`: the folder is never lost off the edge.
#[test]
fn the_status_note_of_files_written_keeps_the_folder_at_80_columns() {
    let mut a = act(app("gpt2-tiny.safetensors"), [Action::SelectTab(1)]);
    let dir = std::path::Path::new("/home/someone/projects/checkpoints/reports");
    a.wrote = vec![dir.join("gpt2-tiny.cdx.json"), dir.join("gpt2-tiny.spdx.json")];
    a.note = Some(crate::tui::export::wrote(&a.wrote));
    let screen = draw(&a, 80, 24);
    let status = screen.lines().last().unwrap_or_default();
    assert_eq!(
        status.trim(),
        "wrote 2 files in /home/someone/projects/checkpoints/reports: gpt2-tiny.cdx.jso…",
        "{screen}"
    );
}

/// The Diff tab's summary too wide for its line is cut between two parts with `· …`, never in
/// the middle of a phrase.
#[test]
fn the_diff_summary_is_cut_between_parts() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, vals: &[f32], extra: bool| {
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut names = vec!["enc.w", "enc.b"];
        if extra {
            names.push(if name == "a" { "only.a" } else { "only.b" });
        }
        let views = names.iter().map(|n| {
            let v = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![vals.len()], &bytes).unwrap();
            (n.to_string(), v)
        });
        let p = dir.path().join(format!("{name}.safetensors"));
        std::fs::write(&p, safetensors::serialize(views, None).unwrap()).unwrap();
        p
    };
    let a = write("a", &[0.5, 1.0, -2.0, 0.25], true);
    let b = write("b", &[0.5, 1.0, -2.0, 0.3], true);
    let app = super::settle(crate::tui::load_pair(&a, &b, &Default::default()).unwrap());
    let screen = draw(&app, 60, 12);
    let summary = screen.lines().nth(2).unwrap_or_default().trim_matches(['│', ' ']);
    assert!(summary.ends_with(" · …"), "cut between parts:\n{screen}");
    let full = draw(&app, 200, 12);
    let whole = full.lines().nth(2).unwrap_or_default().trim_matches(['│', ' ']);
    assert!(whole.chars().count() > 58, "too wide for 60 columns: {whole:?}");
    let kept = summary.trim_end_matches(" · …");
    assert!(whole.starts_with(kept), "{kept:?} of {whole:?}");
    assert!(
        whole[kept.len()..].starts_with(" · "),
        "whole parts kept: {kept:?} of {whole:?}"
    );
}

/// A long warning in the Files tab continues under its text (four columns in), not at column 0.
#[test]
fn a_long_warning_continues_under_its_text() {
    let mut a = act(app("gpt2-tiny.safetensors"), [Action::SelectTab(1)]);
    if let Some(ck) = std::sync::Arc::get_mut(&mut a.ck) {
        ck.warnings = vec![format!("a warning long enough to wrap {}", "word ".repeat(30))];
    }
    let screen = draw(&a, 60, 40);
    let rows: Vec<&str> = screen.lines().collect();
    let at = rows
        .iter()
        .position(|l| l.contains("a warning long"))
        .expect("the warning");
    assert!(rows[at + 1].starts_with("│    word"), "hanging indent:\n{screen}");
}

/// A headline that wraps on words into more rows than its width divided by the pane's gets all
/// of them: its last word is on screen.
#[test]
fn the_bench_headline_keeps_its_last_word() {
    let mut r = tensorscope::report::sample::report();
    // 152 columns: two rows of 78 by count, three as words wrap
    r.headline = vec![format!(
        "{} {} {} finalword",
        "x".repeat(70),
        "y".repeat(20),
        "z".repeat(50)
    )];
    let mut a = app("gpt2-tiny.bin");
    a.update(Action::SelectTab(3));
    assert!(matches!(
        a.update(Action::RunBench),
        Some(crate::tui::app::Effect::StartBench(_))
    ));
    a.update(Action::Bench(crate::tui::bench::BenchMsg::Done(Ok(Box::new(r)))));
    let screen = draw(&a, 80, 24);
    assert!(screen.contains("finalword"), "{screen}");
}
