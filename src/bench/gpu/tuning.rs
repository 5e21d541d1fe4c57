//! The ring's shape and fill: defaults, each overridable from the environment for tuning on a
//! given machine (the bench's GPU rows report what was used, in `gpu_split`).

use super::fill_threads;
use crate::{Error, Result};

/// Bytes per staging slot.
pub const RING_SLOT: u64 = 32 << 20;
/// Smallest slot (for small loads).
pub const RING_MIN_SLOT: u64 = 1 << 20;
/// Staging slots in the ring (so at most `RING_SLOTS - 1` copies are queued while one fills).
pub const RING_SLOTS: usize = 4;
/// Slots whose source pages a helper thread maps ahead of the fill .
pub const POPULATE_AHEAD: usize = 0;
/// Whether a thread of its own submits the copies (see `gpu/submit.rs`).
pub const SUBMIT_THREAD: bool = true;

/// The ring's shape and its fill, from the defaults or the `TENSORSCOPE_RING_*` environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Bytes per slot (`None`: from the size of the first load, at most [`RING_SLOT`]).
    pub slot: Option<u64>,
    /// Slots in the ring.
    pub slots: usize,
    /// Threads that fill a slot.
    pub threads: usize,
    /// Slots whose source pages a helper thread maps ahead of the fill (0: none).
    pub ahead: usize,
    /// Whether a thread of its own submits the copies (see `gpu/submit.rs`).
    pub submit_thread: bool,
}

impl Tuning {
    /// The defaults, each overridden by its variable: `TENSORSCOPE_RING_SLOT` (a size, e.g.
    /// `64MB`), `TENSORSCOPE_RING_SLOTS`, `TENSORSCOPE_FILL_THREADS`, `TENSORSCOPE_POPULATE_AHEAD`,
    /// `TENSORSCOPE_SUBMIT_THREAD` (0 or 1).
    pub fn from_env() -> Result<Tuning> {
        fn var(name: &str) -> Option<String> {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty())
        }
        fn count(name: &str, min: usize, max: usize, default: usize) -> Result<usize> {
            let Some(v) = var(name) else { return Ok(default) };
            v.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| Error::Usage(format!("{name}={v:?}: expected a whole number from {min} to {max}")))
        }
        let slot = match var("TENSORSCOPE_RING_SLOT") {
            None => None,
            Some(v) => Some(
                crate::text::parse_size(&v)
                    .filter(|n| (RING_MIN_SLOT..=MAX_SLOT).contains(n))
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "TENSORSCOPE_RING_SLOT={v:?}: expected a size from 1MiB to 1GiB (e.g. 64MB)"
                        ))
                    })?,
            ),
        };
        let slots = count("TENSORSCOPE_RING_SLOTS", 2, 64, RING_SLOTS)?;
        // each variable has its limit, and so has the staging memory they add up to
        let total = slot.unwrap_or(RING_SLOT).saturating_mul(slots as u64);
        if total > MAX_STAGING {
            return Err(Error::Usage(format!(
                "TENSORSCOPE_RING_SLOT × TENSORSCOPE_RING_SLOTS asks for {total} bytes of staging memory, \
                 over the {MAX_STAGING}-byte limit"
            )));
        }
        Ok(Tuning {
            slot,
            slots,
            threads: count("TENSORSCOPE_FILL_THREADS", 1, 64, fill_threads())?,
            ahead: count("TENSORSCOPE_POPULATE_AHEAD", 0, 64, POPULATE_AHEAD)?,
            submit_thread: count("TENSORSCOPE_SUBMIT_THREAD", 0, 1, usize::from(SUBMIT_THREAD))? == 1,
        })
    }
}

/// Most staging memory the ring's slots may add up to (slot size × slots).
const MAX_STAGING: u64 = 4 << 30;

/// Largest slot [`Tuning`] accepts.
const MAX_SLOT: u64 = 1 << 30;
