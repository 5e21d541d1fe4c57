//! The interactive terminal UI: `tensorscope [PATH]` on a terminal.
//!
//! A simple loop: draw, wait for a key with a timeout, map it to an [`app::Action`] with the pure
//! [`keymap`], `update`, redraw when something changed. Only key presses count (not releases).

mod app;
mod keymap;
mod preview;
mod ui;

use std::path::Path;
use std::time::Duration;

use crossterm::event::{self, Event, KeyEventKind};
use tensorscope::checkpoint;
use tensorscope::pickle::scan;

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
pub fn run(path: &Path) -> anyhow::Result<u8> {
    let mut app = load(path)?;
    let mut terminal = ratatui::init();
    let result = (|| -> anyhow::Result<()> {
        let mut dirty = true;
        while !app.quit {
            if dirty {
                terminal.draw(|f| {
                    app.page = ui::page_rows(f.area().height);
                    f.render_widget(&app, f.area());
                })?;
                dirty = false;
            }
            if event::poll(Duration::from_millis(250))? {
                match event::read()? {
                    Event::Key(k) if k.kind == KeyEventKind::Press => {
                        if let Some(a) = keymap::action(app.mode, k) {
                            app.update(a);
                            dirty = true;
                        }
                    }
                    Event::Resize(..) => dirty = true,
                    _ => {}
                }
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result.map(|()| 0)
}
