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
