//! SIGHUP (the terminal closed: `tmux kill-session`, a closed window) and SIGTERM: the UI quits as if
//! `q` was pressed, so the terminal is restored and the Bench tab's twin folder removed instead of
//! the default action ending the process where it stands.
//!
//! The loop sees [`caught`] within a tick and quits the ordinary way. A terminal that hung up can
//! keep it from getting there (crossterm's reader spins on reads of 0 bytes), so a watcher thread,
//! woken through a pipe, gives the loop [`GRACE`] and then cleans up and exits by itself.

use std::path::PathBuf;
use std::time::Duration;

/// How long the loop has to quit by itself after a signal before the watcher does it.
pub const GRACE: Duration = Duration::from_millis(500);

/// Catch SIGHUP and SIGTERM from now on; should the loop not quit within [`GRACE`] of one, remove
/// `twin_dir`, restore the terminal and exit with 128 + the signal.
pub fn install(twin_dir: PathBuf) {
    crate::signal_pipe::catch(&[libc::SIGHUP, libc::SIGTERM], move |sig| {
        // the loop quits within a tick, and the process ends with it, unless it is stuck
        std::thread::sleep(GRACE);
        let _ = std::fs::remove_dir_all(&twin_dir);
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        ratatui::restore();
        std::process::exit(exit_code(sig));
    });
}

/// Ctrl-Z: hand the terminal back to the shell (mouse capture off, the main screen, cooked mode, the
/// cursor shown), stop as a job does (SIGTSTP to this process), and once `fg` continues it
/// (SIGCONT) take the terminal again; the next frame redraws everything. Where SIGTSTP is ignored
/// (no job control) the terminal is taken back at once.
pub fn suspend(terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<()> {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
    let mut out = std::io::stdout();
    crossterm::execute!(out, DisableMouseCapture, LeaveAlternateScreen)?;
    terminal.show_cursor()?;
    disable_raw_mode()?;
    if job_control() {
        // SAFETY: sends SIGTSTP to this process; its default action stops it until SIGCONT
        unsafe { libc::raise(libc::SIGTSTP) };
    }
    enable_raw_mode()?;
    crossterm::execute!(out, EnterAlternateScreen, EnableMouseCapture)?;
    terminal.hide_cursor()?;
    // the screen is the shell's now: forget what was drawn, so the next frame draws every cell
    terminal.clear()
}

/// Whether SIGTSTP stops this process (its action is the default, not ignored as a shell without
/// job control leaves it).
pub fn job_control() -> bool {
    // SAFETY: reads the current action of SIGTSTP into a zeroed struct; changes nothing
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGTSTP, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_DFL
    }
}

/// The shell's convention for a process ended by signal `sig`.
pub fn exit_code(sig: i32) -> i32 {
    128 + sig
}

/// The signal that asked the UI to end, if one did.
pub fn caught() -> Option<i32> {
    crate::signal_pipe::caught()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_exit_code_is_the_shells() {
        assert_eq!(super::exit_code(libc::SIGHUP), 129);
    }
}
