//! Signals turned into work on a thread. A handler may only do async-signal-safe things, so the one
//! handler here stores the signal and writes its number to a pipe; a thread blocked on the pipe's
//! other end does the work (the TUI's clean exit, `convert`'s removal of its temporary output).

use std::sync::atomic::{AtomicI32, Ordering};

/// The signal caught, 0 for none. Statics because a signal handler reaches nothing else.
static CAUGHT: AtomicI32 = AtomicI32::new(0);
/// The write end of the pipe, -1 before [`catch`].
static WAKE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    CAUGHT.store(sig, Ordering::SeqCst);
    let fd = WAKE.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) of one byte from a live local is async-signal-safe
        unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    }
}

/// Catch `signals` from now on: the first one caught runs `then` with its number, on a thread of
/// its own (without a pipe, the signals are only recorded for [`caught`]).
pub fn catch(signals: &[libc::c_int], then: impl FnOnce(libc::c_int) + Send + 'static) {
    let mut fds = [-1; 2];
    // SAFETY: pipe(2) fills the two-element array it is given
    if unsafe { libc::pipe(fds.as_mut_ptr()) } == 0 {
        WAKE.store(fds[1], Ordering::SeqCst);
        let read_end = fds[0];
        std::thread::spawn(move || {
            let mut sig = 0u8;
            // SAFETY: a blocking read of one byte into a live local
            while unsafe { libc::read(read_end, (&raw mut sig).cast(), 1) } != 1 {
                if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    return;
                }
            }
            then(libc::c_int::from(sig));
        });
    }
    handle(signals);
}

/// Route `signals` to the handler. SA_RESTART keeps other threads' reads and writes from failing
/// with EINTR.
fn handle(signals: &[libc::c_int]) {
    for &sig in signals {
        // SAFETY: a zeroed sigaction is a valid empty one; the handler only stores to atomics and
        // writes to a pipe
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The signal caught, if one was.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_signal_is_recorded_not_fatal() {
        // no pipe here: a watcher would act on the test process
        super::handle(&[libc::SIGTERM]);
        // SAFETY: raising a signal whose handler only stores to an atomic
        unsafe { libc::raise(libc::SIGTERM) };
        assert_eq!(super::caught(), Some(libc::SIGTERM));
    }
}
