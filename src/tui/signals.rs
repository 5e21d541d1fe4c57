//! SIGHUP (the terminal closed: `tmux kill-session`, a closed window) and SIGTERM: the UI quits as if
//! `q` was pressed, so the terminal is restored and the Bench tab's twin folder removed instead of
//! the default action ending the process where it stands.
//!
//! The loop sees [`caught`] within a tick and quits the ordinary way. A terminal that hung up can
//! keep it from getting there (crossterm's reader spins on reads of 0 bytes), so a watcher thread,
//! woken through a pipe, gives the loop [`GRACE`] and then cleans up and exits by itself.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// How long the loop has to quit by itself after a signal before the watcher does it.
pub const GRACE: Duration = Duration::from_millis(500);

/// The signal caught, 0 for none. Statics because a signal handler reaches nothing else.
static CAUGHT: AtomicI32 = AtomicI32::new(0);
/// The write end of the watcher's pipe, -1 before [`install`].
static WAKE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    CAUGHT.store(sig, Ordering::SeqCst);
    let fd = WAKE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) of one byte from a live buffer is async-signal-safe
        unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
    }
}

/// Catch SIGHUP and SIGTERM from now on; should the loop not quit within [`GRACE`] of one, remove
/// `twin_dir`, restore the terminal and exit with 128 + the signal.
pub fn install(twin_dir: PathBuf) {
    let mut fds = [-1; 2];
    // SAFETY: pipe(2) fills the two-element array it is given
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == 0 {
        WAKE.store(fds[1], Ordering::SeqCst);
        let read_end = fds[0];
        std::thread::spawn(move || watch(read_end, twin_dir));
    }
    for sig in [libc::SIGHUP, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid empty one; the handler only stores to atomics and
        // writes to a pipe; SA_RESTART keeps other threads' reads from failing with EINTR
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

fn watch(read_end: libc::c_int, twin_dir: PathBuf) {
    let mut byte = 0u8;
    // SAFETY: a blocking read of one byte into a live local
    while unsafe { libc::read(read_end, (&raw mut byte).cast(), 1) } != 1 {
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
    // the loop quits within a tick, and the process ends with it, unless it is stuck
    std::thread::sleep(GRACE);
    let _ = std::fs::remove_dir_all(&twin_dir);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    std::process::exit(exit_code(caught().unwrap_or(0)));
}

/// The shell's convention for a process ended by signal `sig`.
pub fn exit_code(sig: i32) -> i32 {
    128 + sig
}

/// The signal that asked the UI to end, if one did.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sigterm_is_caught_not_fatal() {
        // no watcher here: it would end the test process
        super::WAKE.store(-1, std::sync::atomic::Ordering::SeqCst);
        // SAFETY: as in install, without the pipe
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = super::on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
            libc::raise(libc::SIGTERM);
        }
        assert_eq!(super::caught(), Some(libc::SIGTERM));
        assert_eq!(super::exit_code(libc::SIGHUP), 129);
    }
}
