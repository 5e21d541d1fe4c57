//! The ring upload path: a few staging buffers (`MAP_WRITE | COPY_SRC`) created once and reused.
//! The CPU fills slot k+1 (a plain `memcpy` into mapped memory) while the GPU copies slot k into
//! the destination buffers; each slot is re-mapped with `map_async` as soon as its copy is queued
//! and waited for only when the ring comes round to it again. Unlike `Queue::write_buffer`, nothing
//! is allocated per call and the staging memory is touched once, when the ring is created. A slot
//! is filled by [`super::fill_threads`] threads (half the cores), so on a many-core host the fill (and
//! the page faults of a file's map under it) is not one core's memcpy.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wgpu::WriteOnly;

use super::stamps::Stamps;
use super::submit::{self, FAILED, MAPPED, PENDING, SlotHandle};
pub use super::tuning::{RING_MIN_SLOT, RING_SLOT, Tuning};
use super::{GPU_TIMEOUT, PLACE_ALIGN, gpu_error};
use crate::Result;
use crate::report::GpuSplit;

/// One piece to upload: source bytes, destination buffer index, byte offset there (a multiple
/// of 4).
pub type Piece<'a> = (&'a [u8], usize, u64);

struct Slot {
    h: SlotHandle,
    submitted: Option<wgpu::SubmissionIndex>,
    /// When its copies were submitted (its re-map's end is in `h.done_at`).
    submit_at: Option<Instant>,
}

/// Reused, mapped staging buffers.
pub struct Ring {
    slots: Vec<Slot>,
    slot_bytes: u64,
    next: usize,
    /// Threads that fill a slot ([`super::fill_threads`] unless tuned).
    threads: usize,
    /// Slots mapped ahead of the fill by a helper thread.
    ahead: usize,
    /// Whether a thread of its own submits the copies ([`submit`]).
    submit_thread: bool,
    stamps: Option<Stamps>,
    /// Where the last upload's time went (its copy time is filled in by [`Ring::split`]).
    last: GpuSplit,
    /// Submit-to-mapped seconds of the last upload's slots.
    copy_waited: f64,
}

/// Bytes below which one thread fills a slot (thread start-up would dominate).
const PARALLEL_FILL_MIN: usize = 4 << 20;
/// Sources below this many bytes are copied without [`populate`] first.
const POPULATE_MIN: usize = 64 << 10;
/// `MADV_POPULATE_READ` (Linux 5.14; the libc crate may not name it on every target).
#[cfg(target_os = "linux")]
const MADV_POPULATE_READ: libc::c_int = 22;

/// Map the pages under `src` in one call (`MADV_POPULATE_READ`) before they are copied: a fresh
/// map of a file in the page cache otherwise takes one page fault per few pages during the copy,
/// the slow part of a warm upload. Pages already mapped (warm memory) cost a page-table walk.
/// Advice only: an older kernel refuses it and the copy faults as before.
fn populate(src: &[u8]) {
    #[cfg(target_os = "linux")]
    if src.len() >= POPULATE_MIN {
        let (start, end) = crate::bench::cache::page_span(src);
        // SAFETY: the range covers whole pages of memory `src` borrows (mapped and readable for
        // the call); MADV_POPULATE_READ only faults those pages in for reading.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, MADV_POPULATE_READ);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (src, POPULATE_MIN);
}

/// Populate the source, then copy it into the slot.
fn fill_one(mut dst: WriteOnly<'_, [u8]>, src: &[u8]) {
    populate(src);
    dst.copy_from_slice(src);
}

/// One copy: a piece of the mapped slot and the bytes that go there.
type Job<'a> = (WriteOnly<'a, [u8]>, &'a [u8]);

/// Disjoint pieces of a mapped slot handed to one fill thread (`WriteOnly<[u8]>` is not `Send`).
struct Share<'a>(Vec<(std::ptr::NonNull<[u8]>, &'a [u8])>);

// SAFETY: the pointers are disjoint write-only ranges of one mapped slot, each used by one thread
// inside a scope the mapping outlives.
unsafe impl Send for Share<'_> {}

/// Copy each `(slot offset, bytes)` of `fills` (in rising offset order, not overlapping) into
/// `slot`; with `threads > 1` and enough bytes, the work is cut into about equal byte shares,
/// one per scoped thread.
fn copy_into(slot: WriteOnly<'_, [u8]>, fills: &[(u64, &[u8])], threads: usize) {
    // disjoint destination slices, big sources cut into pieces so the shares can balance
    const PIECE: usize = 1 << 20;
    let mut jobs: Vec<Job<'_>> = Vec::with_capacity(fills.len());
    let mut rest = slot;
    let mut at = 0usize;
    for &(offset, src) in fills {
        let offset = offset as usize;
        let (_, tail) = std::mem::take(&mut rest).split_at(offset - at);
        let (mut dst, tail) = tail.split_at(src.len());
        rest = tail;
        at = offset + src.len();
        let mut src = src;
        while src.len() > PIECE {
            let (d, dn) = dst.split_at(PIECE);
            let (s, sn) = src.split_at(PIECE);
            jobs.push((d, s));
            (dst, src) = (dn, sn);
        }
        jobs.push((dst, src));
    }
    let total: usize = jobs.iter().map(|j| j.1.len()).sum();
    if threads <= 1 || total < PARALLEL_FILL_MIN {
        for (d, s) in jobs {
            fill_one(d, s);
        }
        return;
    }
    let share = total.div_ceil(threads);
    let mut groups: Vec<Vec<Job<'_>>> = vec![Vec::new()];
    let mut room = share;
    for job in jobs {
        if room == 0 || room < job.1.len() / 2 && !groups.last().is_some_and(Vec::is_empty) {
            groups.push(Vec::new());
            room = share;
        }
        room = room.saturating_sub(job.1.len());
        groups.last_mut().expect("one group").push(job);
    }
    std::thread::scope(|scope| {
        let mut groups = groups.into_iter();
        let mine = groups.next();
        for g in groups {
            let g = Share(g.into_iter().map(|(mut d, s)| (d.as_raw_ptr(), s)).collect());
            scope.spawn(move || {
                let g = g;
                for (d, s) in g.0 {
                    // SAFETY: each pointer came from a `WriteOnly` split off the mapped slot, so
                    // the ranges are disjoint and valid for writes; the mapping outlives this
                    // scope, and the `WriteOnly` it came from was consumed (no other writer).
                    fill_one(unsafe { WriteOnly::new(d) }, s);
                }
            });
        }
        for (d, s) in mine.into_iter().flatten() {
            fill_one(d, s);
        }
    });
}

/// What one slot carries: `(slot offset, source bytes)` to fill, and the copies out of it
/// (destination, destination offset, slot offset, bytes).
struct SlotPlan<'a> {
    fills: Vec<(u64, &'a [u8])>,
    copies: Vec<(usize, u64, u64, u64)>,
}

/// Cut `pieces` into slots of `slot_bytes`.
fn plan<'a>(pieces: &[Piece<'a>], slot_bytes: u64) -> Vec<SlotPlan<'a>> {
    let mut slots = Vec::new();
    let mut cur = SlotPlan {
        fills: Vec::new(),
        copies: Vec::new(),
    };
    let mut fill = 0u64;
    for &(src, dest, offset) in pieces {
        let mut done = 0usize;
        while done < src.len() {
            if fill >= slot_bytes {
                slots.push(std::mem::replace(
                    &mut cur,
                    SlotPlan {
                        fills: Vec::new(),
                        copies: Vec::new(),
                    },
                ));
                fill = 0;
            }
            let n = ((src.len() - done) as u64).min(slot_bytes - fill) as usize;
            cur.fills.push((fill, &src[done..done + n]));
            // copies move whole 4-byte words: the slot is a multiple of PLACE_ALIGN and fill is
            // aligned, so the rounded copy stays inside it
            cur.copies
                .push((dest, offset + done as u64, fill, (n as u64).next_multiple_of(4)));
            fill = (fill + n as u64).next_multiple_of(PLACE_ALIGN);
            done += n;
        }
    }
    if !cur.fills.is_empty() {
        slots.push(cur);
    }
    slots
}

/// The helper of [`Tuning::ahead`]: map the source pages of the slots up to `lead` ahead of the
/// one being filled (`at`), so that the fill finds them mapped; slots the fill has reached are
/// skipped. Ends when every slot is done or `stop` is set.
fn populate_ahead(plan: &[SlotPlan<'_>], at: &AtomicUsize, stop: &AtomicBool, lead: usize) {
    for (s, slot) in plan.iter().enumerate().skip(1) {
        loop {
            if stop.load(Ordering::Acquire) {
                return;
            }
            if s <= at.load(Ordering::Acquire) + lead {
                break;
            }
            std::thread::park_timeout(std::time::Duration::from_millis(5));
        }
        if s <= at.load(Ordering::Acquire) {
            continue;
        }
        for &(_, src) in &slot.fills {
            populate(src);
        }
    }
}

/// What [`Ring::run`] works with.
struct Ctx<'a> {
    device: &'a wgpu::Device,
    queue: &'a wgpu::Queue,
    dests: &'a [wgpu::Buffer],
    /// The slot being filled (for the populate helper).
    at: &'a AtomicUsize,
    /// The populate helper, woken as the fill moves on.
    helper: Option<&'a std::thread::Thread>,
    /// The submit thread's queue, when there is one.
    tx: Option<&'a std::sync::mpsc::Sender<submit::Job>>,
}

fn since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

impl Ring {
    /// `count` slots of `slot_bytes` (rounded up to [`PLACE_ALIGN`]), mapped at creation, filled
    /// as `tuning` says; with `stamps`, each slot's copies are timed on the GPU.
    pub fn new(device: &wgpu::Device, slot_bytes: u64, tuning: Tuning, stamps: Option<Stamps>) -> Ring {
        let slot_bytes = slot_bytes.max(PLACE_ALIGN).next_multiple_of(PLACE_ALIGN);
        let slots = (0..tuning.slots.max(2))
            .map(|_| Slot {
                h: SlotHandle {
                    buffer: device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("staging ring"),
                        size: slot_bytes,
                        usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                        mapped_at_creation: true,
                    }),
                    state: Arc::new(AtomicU8::new(MAPPED)),
                    done_at: Arc::new(Mutex::new(None)),
                },
                submitted: None,
                submit_at: None,
            })
            .collect();
        Ring {
            slots,
            slot_bytes,
            next: 0,
            threads: tuning.threads.max(1),
            ahead: tuning.ahead,
            submit_thread: tuning.submit_thread,
            stamps,
            last: GpuSplit::default(),
            copy_waited: 0.0,
        }
    }

    /// Wait until slot `i` is mapped again (polling the device, or, with a submit thread, until
    /// that thread's poll runs the callback); adds submit-to-mapped to `copy_waited`.
    fn acquire(&mut self, device: &wgpu::Device, i: usize, threaded: bool) -> Result<()> {
        let slot = &mut self.slots[i];
        let start = Instant::now();
        loop {
            match slot.h.state.load(Ordering::Acquire) {
                MAPPED => {
                    if let (Some(a), Ok(done)) = (slot.submit_at.take(), slot.h.done_at.lock()) {
                        self.copy_waited += done.map_or(0.0, |d| d.saturating_duration_since(a).as_secs_f64());
                    }
                    return Ok(());
                }
                FAILED => return Err(gpu_error("re-mapping a staging buffer", "map_async failed")),
                _ => {}
            }
            if start.elapsed() > GPU_TIMEOUT {
                return Err(gpu_error("re-mapping a staging buffer", "timed out"));
            }
            if threaded {
                std::thread::park_timeout(std::time::Duration::from_millis(2));
                continue;
            }
            let poll = wgpu::PollType::Wait {
                submission_index: slot.submitted.take(),
                timeout: Some(GPU_TIMEOUT),
            };
            device.poll(poll).map_err(|e| gpu_error("waiting for the copies", e))?;
        }
    }

    /// Upload every piece into `dests`, pipelined through the ring, and return once the GPU has
    /// finished every copy (all slots mapped again, ready for the next call). Where the time went
    /// is kept for [`Ring::split`].
    pub fn upload(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        dests: &[wgpu::Buffer],
        pieces: &[Piece<'_>],
    ) -> Result<()> {
        let start = Instant::now();
        let plan = plan(pieces, self.slot_bytes);
        self.copy_waited = 0.0;
        let mut t = GpuSplit {
            fill_threads: self.threads as u32,
            slots: plan.len() as u32,
            slot_bytes: self.slot_bytes,
            ring_slots: self.slots.len() as u32,
            ..GpuSplit::default()
        };
        let at = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let lead = self.ahead;
        let handles: Vec<SlotHandle> = self.slots.iter().map(|s| s.h.clone()).collect();
        let me = std::thread::current();
        let result = std::thread::scope(|scope| {
            let helper = (lead > 0 && plan.len() > 1).then(|| scope.spawn(|| populate_ahead(&plan, &at, &stop, lead)));
            let (tx, rx) = std::sync::mpsc::channel::<submit::Job>();
            let (hs, me) = (&handles, &me);
            let submitter = self
                .submit_thread
                .then(|| scope.spawn(move || submit::serve(device, queue, &rx, hs, me)));
            let ctx = Ctx {
                device,
                queue,
                dests,
                at: &at,
                helper: helper.as_ref().map(|h| h.thread()),
                tx: submitter.is_some().then_some(&tx),
            };
            // the helper stops however `run` ends: a panic unwinding through here would otherwise
            // leave it polling, and the scope waiting for it, for ever
            let _stop = StopOnDrop(&stop, helper.as_ref().map(|h| h.thread().clone()));
            let r = self.run(&ctx, &plan, &mut t);
            drop(tx);
            drop(_stop);
            let served = submitter.map_or(Ok(()), |s| {
                s.join()
                    .unwrap_or_else(|_| Err(gpu_error("submitting copies", "the submit thread panicked")))
            });
            r.and(served)
        });
        t.upload_s = since(start);
        self.last = t;
        result
    }

    /// The slots of `plan`, one after another (see [`Ring::upload`]).
    fn run(&mut self, ctx: &Ctx<'_>, plan: &[SlotPlan<'_>], t: &mut GpuSplit) -> Result<()> {
        let threaded = ctx.tx.is_some();
        for (s, sp) in plan.iter().enumerate() {
            ctx.at.store(s, Ordering::Release);
            if let Some(h) = ctx.helper {
                h.unpark();
            }
            let i = self.next;
            self.next = (i + 1) % self.slots.len();
            let w = Instant::now();
            self.acquire(ctx.device, i, threaded)?;
            t.wait_s += since(w);
            let buffer = &self.slots[i].h.buffer;
            let m = Instant::now();
            let mut view = buffer
                .slice(..)
                .get_mapped_range_mut()
                .map_err(|e| gpu_error("staging buffer", e))?;
            t.map_s += since(m);
            let f = Instant::now();
            copy_into(view.slice(..), &sp.fills, self.threads);
            t.fill_s += since(f);
            let m = Instant::now();
            drop(view);
            buffer.unmap();
            t.map_s += since(m);
            let u = Instant::now();
            let mut enc = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ring upload"),
            });
            if let Some(st) = &self.stamps {
                st.write(&mut enc, s as u32, false);
            }
            for &(dest, to, from, n) in &sp.copies {
                enc.copy_buffer_to_buffer(buffer, from, &ctx.dests[dest], to, n);
            }
            if let Some(st) = &self.stamps {
                st.write(&mut enc, s as u32, true);
            }
            let slot = &mut self.slots[i];
            slot.h.state.store(PENDING, Ordering::Release);
            slot.submit_at = Some(Instant::now());
            match ctx.tx {
                Some(tx) => {
                    tx.send((i, enc.finish()))
                        .map_err(|_| gpu_error("submitting copies", "the submit thread stopped"))?;
                    t.submit_s += since(u);
                }
                None => {
                    slot.submitted = Some(ctx.queue.submit([enc.finish()]));
                    t.submit_s += since(u);
                    let m = Instant::now();
                    submit::remap(&slot.h, None);
                    t.map_s += since(m);
                }
            }
        }
        let y = Instant::now();
        for i in 0..self.slots.len() {
            self.acquire(ctx.device, i, threaded)?;
        }
        t.sync_s = since(y);
        Ok(())
    }

    /// Where the last upload's time went; the GPU copy time from timestamps (read back now,
    /// untimed) where the device has them, else submit-to-mapped.
    pub fn split(&self, device: &wgpu::Device, queue: &wgpu::Queue) -> Result<GpuSplit> {
        let mut t = self.last.clone();
        match &self.stamps {
            Some(st) => {
                t.copy_s = st.copy_seconds(device, queue, t.slots)?;
                t.copy_from = "timestamps".into();
            }
            None => {
                t.copy_s = self.copy_waited;
                t.copy_from = "submit-to-mapped".into();
            }
        }
        Ok(t)
    }
}

/// Sets its flag and wakes the thread when dropped (on return or while unwinding).
struct StopOnDrop<'a>(&'a AtomicBool, Option<std::thread::Thread>);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
        if let Some(t) = &self.1 {
            t.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte lands where the plan says, gaps stay untouched, with one thread or several.
    #[test]
    fn slots_fill_the_same_on_any_number_of_threads() {
        let big: Vec<u8> = (0..(PARALLEL_FILL_MIN * 2 + 12_345)).map(|i| (i % 249) as u8).collect();
        let small: Vec<u8> = (0..1000u32).map(|i| (i * 13) as u8).collect();
        let fills: Vec<(u64, &[u8])> = vec![
            (0, &small[..3]),
            (256, &big[..]),
            ((256 + big.len() as u64).next_multiple_of(PLACE_ALIGN), &small[..]),
            ((256 + big.len() as u64 + 4096).next_multiple_of(PLACE_ALIGN), &[]),
        ];
        let len = fills.last().unwrap().0 as usize + 512;
        let mut want = vec![0xEEu8; len];
        for &(at, src) in &fills {
            want[at as usize..at as usize + src.len()].copy_from_slice(src);
        }
        for threads in [1, 2, 3, 8] {
            let mut slot = vec![0xEEu8; len];
            copy_into(WriteOnly::from(&mut slot[..]), &fills, threads);
            assert!(slot == want, "{threads} threads");
        }
        assert!((1..=super::super::MAX_FILL_THREADS).contains(&super::super::fill_threads()));
    }
}
