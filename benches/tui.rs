//! The TUI on the 200,000-tensor file (`model.layers.{0..47}.mlp.experts.{0..1388}.
//! {gate,up,down}_proj.weight`): open + first frame, a filter keystroke, moving down the flat list (every
//! row, wrapping at the end), each drawn into
//! a ratatui `TestBackend` at 80x24. Goals on the 2-core machine: first frame under 300 ms, every key
//! under 16 ms, a filter keystroke under 100 ms. The first frame comes before the tree (a worker
//! builds it); "open + tree built + frame" times the frame that shows it.
//!
//! The TUI lives in the binary crate; its source is compiled into this bench as a module (`#[path]`),
//! so the bench drives the same `App`, `update` and widgets the program runs, with nothing exposed.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[allow(dead_code, unused_imports)]
#[path = "../src/tui/mod.rs"]
mod tui;

// the TUI's signal handling, which the binary shares with `convert`
#[allow(dead_code)]
#[path = "../src/signal_pipe.rs"]
mod signal_pipe;

use tui::App;

/// Write the 200,016-tensor file (BF16 2x2 tensors) and return its path.
fn moe(dir: &Path) -> PathBuf {
    let mut header = String::from("{\"__metadata__\":{\"format\":\"pt\"}");
    let mut offset = 0;
    for l in 0..48 {
        for e in 0..1389 {
            for p in ["gate", "up", "down"] {
                header.push_str(&format!(
                    ",\"model.layers.{l}.mlp.experts.{e}.{p}_proj.weight\":{{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[{offset},{}]}}",
                    offset + 8
                ));
                offset += 8;
            }
        }
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.resize(bytes.len() + offset, 0);
    let path = dir.join("moe-200k.safetensors");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn draw(t: &mut Terminal<TestBackend>, app: &App) {
    t.draw(|f| f.render_widget(app, f.area())).unwrap();
}

/// Open `path`, build its tree as the worker does, hand it over, and draw.
fn with_tree(path: &Path, term: &mut Terminal<TestBackend>) -> App {
    let mut app = tui::load(black_box(path), &Default::default()).unwrap();
    let pane = tui::tensors::TensorPane::of(&app.ck);
    app.update(tui::app::Action::TreeReady(Box::new(pane)));
    assert!(!app.tensors.pending && app.tensors.rows.len() > 1, "the tree arrived");
    draw(term, &app);
    app
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = moe(dir.path());
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut g = c.benchmark_group("tui 200k tensors");
    g.sample_size(10);
    // the first frame is drawn before the tree exists (a worker builds it: `TREE_ON_WORKER_MIN`)
    g.bench_function("open + first frame", |b| {
        b.iter(|| {
            let app = tui::load(black_box(&path), &Default::default()).unwrap();
            assert!(app.tensors.pending, "the tree is left to the worker");
            draw(&mut term, &app);
            app
        })
    });
    // ... and the frame with the tree: what the worker does, then the frame it brings
    g.bench_function("open + tree built + frame", |b| b.iter(|| with_tree(&path, &mut term)));
    let mut app = with_tree(&path, &mut term);
    app.page = 20;
    // the flat list, so every Down moves to the next of the 200,016 rows (in the tree the one top node
    // is the last row, and Down would time a no-op); at the end it wraps to the top
    app.update(tui::app::Action::ToggleFlat);
    assert_eq!(app.tensors.rows.len(), 200_016);
    g.bench_function("move down + frame", |b| {
        b.iter(|| {
            let before = app.tensors.selected;
            if before + 1 == app.tensors.rows.len() {
                app.update(tui::app::Action::Move(tui::app::Move::Top));
            } else {
                app.update(tui::app::Action::Move(tui::app::Move::Down));
                assert_eq!(app.tensors.selected, before + 1, "a real move");
            }
            draw(&mut term, &app);
        })
    });
    app.update(tui::app::Action::ToggleFlat);
    app.update(tui::app::Action::Back);
    app.update(tui::app::Action::StartFilter);
    // the slowest keystroke: the first, matching every name; Esc after it (clearing is part of it)
    g.bench_function("first filter keystroke + frame, then Esc + frame", |b| {
        b.iter(|| {
            app.update(tui::app::Action::FilterInput('e'));
            draw(&mut term, &app);
            app.update(tui::app::Action::Back);
            app.update(tui::app::Action::StartFilter);
            draw(&mut term, &app);
        })
    });
    let filter = "experts.1234.down";
    g.bench_function("typing experts.1234.down (17 keystrokes + frames), then Esc", |b| {
        b.iter(|| {
            for ch in filter.chars() {
                app.update(tui::app::Action::FilterInput(ch));
                draw(&mut term, &app);
            }
            assert_eq!(app.tensors.match_count, 48);
            app.update(tui::app::Action::Back);
            app.update(tui::app::Action::StartFilter);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
