//! The interactive terminal UI: `tensorscope [PATH]` on a terminal.
//!
//! A simple loop: draw, wait for a key with a timeout, map it to an [`app::Action`] with the pure
//! [`keymap`], `update`, redraw when something changed. Only key presses count (not releases).
//! `update` returns the side effects it asks for ([`app::Effect`]); the loop performs them: a
//! benchmark runs on the engine's thread and its channel is drained every tick (more often while
//! it runs), each message going back through `update`.

mod app;
mod bench;
mod keymap;
mod preview;
mod ui;

use std::path::Path;
use std::time::Duration;

use app::{Action, Effect};
use crossterm::event::{self, Event, KeyEventKind};
use tensorscope::checkpoint;
use tensorscope::scan;

pub use app::App;

/// Open `path` (and scan its files) before touching the terminal, so errors print normally.
pub fn load(path: &Path) -> anyhow::Result<App> {
    let ck = checkpoint::open(path)?;
    let files: Vec<_> = ck
        .files
        .iter()
        .map(|f| f.full_path.clone())
        .filter(|p| p.is_file())
        .collect();
    let report = scan::scan_paths(&files)?;
    Ok(App::new(ck, report.files))
}

/// Run the UI until the user quits.
/// Run the TUI on one path; two paths are compare mode (the Diff tab).
pub fn run(paths: &[std::path::PathBuf]) -> anyhow::Result<u8> {
    let path = match paths {
        [one] => one,
        [_, _] => anyhow::bail!(
            "compare mode in the TUI is not built yet: run `tensorscope diff A B` to compare two checkpoints"
        ),
        _ => anyhow::bail!("give one path, or two to compare"),
    };
    let mut app = load(path)?;
    let mut terminal = ratatui::init();
    let result = (|| -> anyhow::Result<()> {
        let mut dirty = true;
        // dropped on quit, which detaches the engine thread: quitting never waits for a run
        let mut worker: Option<bench::Worker> = None;
        while !app.quit {
            if dirty {
                terminal.draw(|f| {
                    app.page = ui::page_rows(f.area().height);
                    f.render_widget(&app, f.area());
                })?;
                dirty = false;
            }
            let tick = if worker.is_some() { 50 } else { 250 };
            if event::poll(Duration::from_millis(tick))? {
                match event::read()? {
                    Event::Key(k) if k.kind == KeyEventKind::Press => {
                        if let Some(a) = keymap::action(app.mode, k) {
                            if let Some(fx) = app.update(a) {
                                perform(&mut app, &mut worker, fx);
                            }
                            dirty = true;
                        }
                    }
                    Event::Resize(..) => dirty = true,
                    _ => {}
                }
            }
            if let Some(w) = &mut worker {
                for msg in w.poll() {
                    app.update(Action::Bench(msg));
                    dirty = true;
                }
                if w.done() {
                    worker = None;
                }
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result.map(|()| 0)
}

fn perform(app: &mut App, worker: &mut Option<bench::Worker>, effect: Effect) {
    match effect {
        Effect::StartBench(path) => {
            *worker = Some(bench::Worker::start(bench::config(&path, bench::isolation())));
        }
        Effect::ExportBench(report) => {
            let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
            app.update(Action::Bench(bench::BenchMsg::Exported(bench::export(&report, &dir))));
        }
    }
}
