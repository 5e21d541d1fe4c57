//! The interactive terminal UI: `tensorscope [PATH]` (and `tensorscope A B`, compare mode) on a terminal.
//!
//! A simple loop: draw, wait for an event with a timeout, map it to an [`app::Action`] with the pure
//! [`keymap`], `update`, redraw when something changed. Only key presses count (not releases).
//! `update` returns the side effects it asks for ([`app::Effect`]); the loop performs them: previews
//! and the comparison run on worker threads ([`work`]), a benchmark on the engine's thread; their
//! results come back through `update`. Nothing slow runs on the draw path.

mod action;
pub mod app;
mod bench;
mod diff;
mod export;
mod filter;
mod focus;
mod hashing;
mod input;
mod keymap;
mod preview;
mod scroll;
mod signals;
pub mod tensors;
mod ui;
mod viewer;
mod work;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use app::{Action, Compare, Effect};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind};
use tensorscope::checkpoint;
use tensorscope::remote::Env;

pub use app::App;

/// Most events handled between two frames.
const MAX_EVENTS_PER_FRAME: usize = 64;

/// Open `path` before touching the terminal, so errors print normally. Its safety scan (`tensorscope
/// scan PATH`'s, over the files the core says make up the path: every checkpoint file of a folder,
/// never index or config JSON) runs on a worker once the UI is up: the first frame never waits.
pub fn load(path: &Path, env: &Env) -> anyhow::Result<App> {
    Ok(App::new(checkpoint::open_with(path, &open_options(env))?))
}

/// How the UI opens checkpoints: remote paths through `env`.
fn open_options(env: &Env) -> checkpoint::OpenOptions {
    checkpoint::OpenOptions {
        remote: Some(env.clone()),
        ..Default::default()
    }
}

/// Open A (shown) and B for compare mode, both scanned; the comparison starts on a worker.
pub fn load_pair(a: &Path, b: &Path, env: &Env) -> anyhow::Result<App> {
    let mut app = load(a, env)?;
    let b = checkpoint::open_with(b, &open_options(env))?;
    app.compare = Some(Compare {
        b: Arc::new(b),
        report: None,
        selected: 0,
    });
    app.tab = app::Tab::Diff;
    Ok(app)
}

/// Run the UI on one path, or two in compare mode, until the user quits. `key` is the public key
/// the Files tab verifies a `model.sig` beside the model with.
pub fn run(paths: &[PathBuf], key: Option<&Path>, env: &Env) -> anyhow::Result<u8> {
    let mut app = match paths {
        [one] => load(one, env)?,
        [a, b] => load_pair(a, b, env)?,
        _ => anyhow::bail!("give one path, or two to compare"),
    };
    if key.is_some() {
        app.files = hashing::FilesState::new(&app.ck.path, app.ck.files.len(), key);
    }
    // twins left by UIs that were killed (they cannot clean up after themselves)
    bench::sweep_stale_twins(&std::env::temp_dir());
    // a closed terminal or a kill quits as q does: the twin removed, the terminal restored
    signals::install(app.twin_dir.clone());
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), EnableMouseCapture);
    let quiet = QuietStderr::start();
    let result = event_loop(&mut app, &mut terminal, env);
    drop(quiet);
    // the Bench tab's twin lives only as long as the program
    let _ = std::fs::remove_dir_all(&app.twin_dir);
    let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    match signals::caught() {
        // the shell's convention for a process ended by a signal; a dead terminal's errors are moot
        Some(sig) => Ok(u8::try_from(signals::exit_code(sig)).unwrap_or(1)),
        None => result.map(|()| 0),
    }
}

fn event_loop(app: &mut App, terminal: &mut ratatui::DefaultTerminal, env: &Env) -> anyhow::Result<()> {
    let mut workers = work::Workers::new(env.clone());
    // dropped on quit, which detaches the engine thread: quitting never waits for a run
    let mut bench: Option<bench::Worker> = None;
    if app.tensors.pending {
        workers.tree(&app.ck);
    }
    workers.scan(app.scan_paths());
    if let Some(c) = &app.compare {
        workers.diff(&app.ck, &c.b);
    }
    if let Some(fx) = app.preview_effect() {
        perform(app, &mut workers, &mut bench, fx);
    }
    let mut dirty = true;
    while !app.quit {
        if signals::caught().is_some() {
            app.quit = true;
            break;
        }
        if dirty {
            let size = terminal.size()?;
            app.page = ui::page_rows(size.height);
            app.tensors.scroll_to_selection(app.page);
            terminal.draw(|f| f.render_widget(&*app, f.area()))?;
            dirty = false;
        }
        let tick = if bench.is_some() { 50 } else { 100 };
        // every event already waiting is handled before the next frame (pasted or fast typing
        // draws once), each applied at once so the next key is mapped in the mode it left
        let mut waited = 0;
        while waited < MAX_EVENTS_PER_FRAME && !app.quit && signals::caught().is_none() {
            let timeout = if waited == 0 {
                Duration::from_millis(tick)
            } else {
                Duration::ZERO
            };
            if !event::poll(timeout)? {
                break;
            }
            waited += 1;
            let size = terminal.size()?;
            let area = ratatui::layout::Rect::new(0, 0, size.width, size.height);
            let mut now = Vec::new();
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    now.extend(keymap::action(app.mode, app.tab, k));
                }
                Event::Mouse(m) => {
                    now.extend(keymap::mouse(
                        m,
                        |c| ui::tab_at(app, area, c),
                        |c, r| ui::row_at(app, area, c, r),
                        |c, r| ui::in_preview(app, area, c, r),
                    ));
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
            for a in now {
                dirty = true;
                match app.update(a) {
                    Some(Effect::Suspend) => {
                        if let Err(e) = signals::suspend(terminal) {
                            app.note = Some(format!("Ctrl-Z: {e}"));
                        } else if !signals::job_control() {
                            app.note =
                                Some("Ctrl-Z does nothing here: the shell ignores SIGTSTP (no job control)".into());
                        }
                    }
                    Some(fx) => perform(app, &mut workers, &mut bench, fx),
                    None => {}
                }
            }
        }
        let fetched = env.traffic().1;
        if fetched != app.fetched {
            app.fetched = fetched;
            dirty = true;
        }
        let mut actions = Vec::new();
        actions.extend(workers.poll());
        if let Some(w) = &mut bench {
            actions.extend(w.poll().into_iter().map(Action::Bench));
            if w.done() {
                bench = None;
            }
        }
        for a in actions {
            dirty = true;
            if let Some(fx) = app.update(a) {
                perform(app, &mut workers, &mut bench, fx);
            }
        }
    }
    Ok(())
}

fn perform(app: &mut App, workers: &mut work::Workers, bench: &mut Option<bench::Worker>, effect: Effect) {
    match effect {
        Effect::Preview { index, exact } => workers.preview(&app.ck, index, exact),
        Effect::StartBench(plan) => {
            *bench = Some(bench::Worker::start(*plan, bench::isolation(), workers.remote.clone()))
        }
        Effect::CancelBench => {
            if let Some(w) = bench {
                w.cancel();
            }
        }
        Effect::ExportBench(report) => {
            let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
            app.update(Action::Bench(bench::BenchMsg::Exported(bench::export(&report, &dir))));
        }
        Effect::Export(job) => {
            let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
            workers.export(*job, dir);
        }
        Effect::Hash(plan) => workers.hash(*plan),
        // the loop suspends: it holds the terminal
        Effect::Suspend => {}
        Effect::Copy(text) => {
            let mut out = std::io::stdout();
            let _ = out.write_all(osc52(&text).as_bytes());
            let _ = out.flush();
        }
    }
}

/// While the UI draws, what libraries print on stderr (a Vulkan driver probing adapters for the
/// Bench tab warns about `XDG_RUNTIME_DIR`, …) goes to /dev/null instead of over the screen; the
/// real stderr comes back before any error is printed.
struct QuietStderr(Option<libc::c_int>);

impl QuietStderr {
    fn start() -> QuietStderr {
        let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
            return QuietStderr(None);
        };
        use std::os::fd::AsRawFd;
        // SAFETY: dup and dup2 on fd 2 and an fd we own; no memory is involved
        let saved = unsafe { libc::dup(2) };
        if saved < 0 {
            return QuietStderr(None);
        }
        // SAFETY: as above; `null` stays open until dup2 has copied it
        unsafe { libc::dup2(null.as_raw_fd(), 2) };
        QuietStderr(Some(saved))
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        if let Some(saved) = self.0.take() {
            // SAFETY: puts the saved stderr back on fd 2 and closes the copy we made
            unsafe {
                libc::dup2(saved, 2);
                libc::close(saved);
            }
        }
    }
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard (base64 of the UTF-8 bytes).
pub fn osc52(text: &str) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("\x1b]52;c;");
    for chunk in text.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                s.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s.push('\x07');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_is_base64() {
        assert_eq!(super::osc52("foobar"), "\x1b]52;c;Zm9vYmFy\x07");
        assert_eq!(super::osc52("fo"), "\x1b]52;c;Zm8=\x07");
        assert_eq!(super::osc52("f"), "\x1b]52;c;Zg==\x07");
    }
}
