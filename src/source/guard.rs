//! Surviving truncation under a live map.
//!
//! Reading a memory-mapped file that another process truncates raises SIGBUS, which kills the
//! process. Every map tensorscope makes is registered here; a SIGBUS handler checks whether the
//! faulting address lies in a registered map and, if so, replaces the vanished part of the map
//! (from the faulting page to its end) with anonymous zero pages and marks the map damaged. The read
//! that faulted then completes (seeing zeros), and every consumer of mapped data asks
//! [`GuardedMap::damaged`] afterwards, turning the damage into a clean error. A fault anywhere else is
//! handed to the previous handler (the default one crashes, as it should).
//!
//! Why not `pread` everywhere: the zero-copy view is the point of safetensors and of the benchmark.
//! Why not `siglongjmp` out of the handler: unwinding through Rust frames that way is undefined.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How many maps can be guarded at once; further maps work but are unguarded.
pub const MAX_GUARDED_MAPS: usize = 4096;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    damaged: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    damaged: AtomicBool::new(false),
};
// The one process-wide state of the core, and why it must be: a signal handler is process-wide by
// nature (there is one SIGBUS disposition per process) and may only touch memory reachable without
// arguments, allocation or locks, so the table of guarded maps it consults is a fixed static of
// atomics. It decides no behaviour: it only records which address ranges are ours, so two
// differently configured runs in one process share it without seeing each other (each map has its
// own slot and damage mark). Everything that changes behaviour travels in arguments instead
// (the `remote` room's `Env`, the options of each command).
static SLOTS: [Slot; MAX_GUARDED_MAPS] = [EMPTY; MAX_GUARDED_MAPS];
static INSTALL: Once = Once::new();
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::uninit();
static HAVE_PREVIOUS: AtomicBool = AtomicBool::new(false);

/// The registration of one map; unregisters on drop.
#[derive(Debug)]
pub struct Guard {
    slot: Option<usize>,
}

impl Guard {
    /// Register the map at `start` of `len` bytes.
    pub fn register(start: *const u8, len: usize) -> Guard {
        install();
        for (i, s) in SLOTS.iter().enumerate() {
            if s.len.load(Ordering::Acquire) == 0
                && s.start
                    .compare_exchange(0, start as usize, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                s.damaged.store(false, Ordering::Release);
                s.len.store(len, Ordering::Release);
                return Guard { slot: Some(i) };
            }
        }
        Guard { slot: None }
    }

    /// Whether part of the map vanished (the file shrank) since it was made.
    pub fn damaged(&self) -> bool {
        self.slot.is_some_and(|i| SLOTS[i].damaged.load(Ordering::Acquire))
    }

    /// Whether the map is guarded (false only when [`MAX_GUARDED_MAPS`] maps are already open).
    pub fn is_guarded(&self) -> bool {
        self.slot.is_some()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            SLOTS[i].len.store(0, Ordering::Release);
            SLOTS[i].start.store(0, Ordering::Release);
        }
    }
}

/// A read-only memory map of a file, guarded against truncation for its whole life.
#[derive(Debug)]
pub struct GuardedMap {
    // field order matters: the guard unregisters before the map is unmapped
    guard: Guard,
    map: memmap2::Mmap,
}

impl GuardedMap {
    /// Map `len` bytes at `offset` (page-aligned) of `file`; `None` for `len` maps the whole file.
    pub fn map(file: &std::fs::File, offset: u64, len: Option<usize>) -> std::io::Result<GuardedMap> {
        let mut opts = memmap2::MmapOptions::new();
        opts.offset(offset);
        if let Some(len) = len {
            opts.len(len);
        }
        // SAFETY: a read-only map, never handed out as mutable. If another process truncates the
        // file, the guard turns the SIGBUS into zero pages and a damage mark callers must check.
        let map = unsafe { opts.map(file) }?;
        let guard = Guard::register(map.as_ptr(), map.len());
        Ok(GuardedMap { guard, map })
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Tell the kernel how the map will be read: `random` (`MADV_RANDOM`: each fault reads its own
    /// page, no read-ahead; for parsing a pickle or a zip directory out of a multi-GB archive) or
    /// normal read-ahead again (for streaming tensor data). Advice only: failures are ignored.
    pub fn advise_random(&self, random: bool) {
        let advice = if random {
            memmap2::Advice::Random
        } else {
            memmap2::Advice::Normal
        };
        let _ = self.map.advise(advice);
    }

    /// Ask the kernel to start reading `range` of the map into the page cache now
    /// (`MADV_WILLNEED`, clipped to the map); advice only, failures are ignored. Ranges asked for
    /// together are read in parallel rather than fault after fault.
    pub fn will_need(&self, range: std::ops::Range<u64>) {
        let len = self.map.len() as u64;
        let (start, end) = (range.start.min(len), range.end.min(len));
        if start < end {
            let _ = self
                .map
                .advise_range(memmap2::Advice::WillNeed, start as usize, (end - start) as usize);
        }
    }

    /// Whether part of the file vanished while it was mapped: whatever was read is then wrong.
    pub fn damaged(&self) -> bool {
        self.guard.damaged()
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: plain sigaction setup; the handler only touches atomics and calls mmap/sigaction.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = handler as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &act, &mut old) == 0 {
                (*std::ptr::addr_of_mut!(PREVIOUS)).write(old);
                HAVE_PREVIOUS.store(true, Ordering::Release);
            }
        }
    });
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    for s in SLOTS.iter() {
        let start = s.start.load(Ordering::Acquire);
        let len = s.len.load(Ordering::Acquire);
        if len == 0 || addr < start || addr >= start + len {
            continue;
        }
        // SAFETY: sysconf and mmap are plain system calls; the range lies inside a live map of ours.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let from = addr & !(page - 1);
        let end = start + len;
        let rest = (end - from).div_ceil(page) * page;
        let p = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                rest,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED {
            s.damaged.store(true, Ordering::Release);
            return;
        }
        break;
    }
    // Not ours (or could not be patched): restore the previous handler and let the fault recur.
    // SAFETY: PREVIOUS was written before HAVE_PREVIOUS was set.
    unsafe {
        if HAVE_PREVIOUS.load(Ordering::Acquire) {
            libc::sigaction(sig, (*std::ptr::addr_of!(PREVIOUS)).as_ptr(), std::ptr::null_mut());
        } else {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    #[test]
    fn truncation_under_a_live_map_is_survived_and_reported() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let len = 1 << 20;
        f.write_all(&vec![7u8; len]).unwrap();
        f.flush().unwrap();
        let file = std::fs::File::open(f.path()).unwrap();
        // SAFETY: read-only map of a file this test owns.
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        let guard = super::Guard::register(map.as_ptr(), map.len());
        assert!(guard.is_guarded() && !guard.damaged());
        assert_eq!(map[len - 1], 7);
        f.as_file().set_len(4096).unwrap();
        let sum: u64 = map.iter().map(|&b| u64::from(b)).sum();
        assert_eq!(sum, 7 * 4096, "pages past the new end read as zeros");
        assert!(guard.damaged());
    }
}
