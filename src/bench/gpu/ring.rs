//! The ring upload path: a few staging buffers (`MAP_WRITE | COPY_SRC`) created once and reused.
//! The CPU fills slot k+1 (a plain `memcpy` into mapped memory) while the GPU copies slot k into
//! the destination buffers; each slot is re-mapped with `map_async` as soon as its copy is queued
//! and waited for only when the ring comes round to it again. Unlike `Queue::write_buffer`, nothing
//! is allocated per call and the staging memory is touched once, when the ring is created. A slot
//! is filled by [`fill_threads`] threads (half the cores), so on a many-core host the fill (and
//! the page faults of a file's map under it) is not one core's memcpy.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use wgpu::WriteOnly;

use super::{GPU_TIMEOUT, PLACE_ALIGN, fill_threads};
use crate::{Error, Result};

/// Bytes per staging slot.
pub const RING_SLOT: u64 = 32 << 20;
/// Smallest slot (for small loads).
pub const RING_MIN_SLOT: u64 = 1 << 20;
/// Staging slots in the ring (so at most `RING_SLOTS - 1` copies are queued while one fills).
pub const RING_SLOTS: usize = 4;

const PENDING: u8 = 0;
const MAPPED: u8 = 1;
const FAILED: u8 = 2;

/// One piece to upload: source bytes, destination buffer index, byte offset there (a multiple
/// of 4).
pub type Piece<'a> = (&'a [u8], usize, u64);

struct Slot {
    buffer: wgpu::Buffer,
    state: Arc<AtomicU8>,
    submitted: Option<wgpu::SubmissionIndex>,
}

/// Reused, mapped staging buffers.
pub struct Ring {
    slots: Vec<Slot>,
    slot_bytes: u64,
    next: usize,
    /// Copies of the slot being filled: (destination, destination offset, slot offset, bytes).
    copies: Vec<(usize, u64, u64, u64)>,
    /// Threads that fill a slot ([`fill_threads`]).
    threads: usize,
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

fn gpu_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Unsupported(format!("GPU: {what}: {}", e.to_string().replace('\n', " ")))
}

impl Ring {
    /// `count` slots of `slot_bytes` (rounded up to [`PLACE_ALIGN`]), mapped at creation.
    pub fn new(device: &wgpu::Device, slot_bytes: u64, count: usize) -> Ring {
        let slot_bytes = slot_bytes.max(PLACE_ALIGN).next_multiple_of(PLACE_ALIGN);
        let slots = (0..count.max(2))
            .map(|_| Slot {
                buffer: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("staging ring"),
                    size: slot_bytes,
                    usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: true,
                }),
                state: Arc::new(AtomicU8::new(MAPPED)),
                submitted: None,
            })
            .collect();
        Ring {
            slots,
            slot_bytes,
            next: 0,
            copies: Vec::new(),
            threads: fill_threads(),
        }
    }

    /// Wait until slot `i` is mapped again.
    fn acquire(&mut self, device: &wgpu::Device, i: usize) -> Result<()> {
        let slot = &mut self.slots[i];
        let start = std::time::Instant::now();
        loop {
            match slot.state.load(Ordering::Acquire) {
                MAPPED => return Ok(()),
                FAILED => return Err(gpu_error("re-mapping a staging buffer", "map_async failed")),
                _ => {}
            }
            if start.elapsed() > GPU_TIMEOUT {
                return Err(gpu_error("re-mapping a staging buffer", "timed out"));
            }
            let poll = match slot.submitted.take() {
                Some(index) => wgpu::PollType::Wait {
                    submission_index: Some(index),
                    timeout: Some(GPU_TIMEOUT),
                },
                None => wgpu::PollType::Wait {
                    submission_index: None,
                    timeout: Some(GPU_TIMEOUT),
                },
            };
            device.poll(poll).map_err(|e| gpu_error("waiting for the copies", e))?;
        }
    }

    /// Upload every piece into `dests`, pipelined through the ring, and return once the GPU has
    /// finished every copy (all slots mapped again, ready for the next call).
    pub fn upload(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        dests: &[wgpu::Buffer],
        pieces: &[Piece<'_>],
    ) -> Result<()> {
        let (mut p, mut done) = (0usize, 0usize);
        // skip empty pieces up front so every slot carries data
        while p < pieces.len() && pieces[p].0.is_empty() {
            p += 1;
        }
        while p < pieces.len() {
            let i = self.next;
            self.next = (i + 1) % self.slots.len();
            self.acquire(device, i)?;
            self.copies.clear();
            let slot_bytes = self.slot_bytes;
            let buffer = &self.slots[i].buffer;
            {
                let mut view = buffer
                    .slice(..)
                    .get_mapped_range_mut()
                    .map_err(|e| gpu_error("staging buffer", e))?;
                // plan the slot: which bytes go where, then copy them (on several threads when
                // the machine has the cores to spare)
                let mut fills: Vec<(u64, &[u8])> = Vec::new();
                let mut fill = 0u64;
                while p < pieces.len() && fill < slot_bytes {
                    let (src, dest, offset) = pieces[p];
                    let rest = &src[done..];
                    let n = (rest.len() as u64).min(slot_bytes - fill) as usize;
                    fills.push((fill, &rest[..n]));
                    // copies move whole 4-byte words: the slot is a multiple of PLACE_ALIGN and
                    // fill is aligned, so the rounded copy stays inside it
                    self.copies
                        .push((dest, offset + done as u64, fill, (n as u64).next_multiple_of(4)));
                    fill = (fill + n as u64).next_multiple_of(PLACE_ALIGN);
                    done += n;
                    if done == src.len() {
                        (p, done) = (p + 1, 0);
                        while p < pieces.len() && pieces[p].0.is_empty() {
                            p += 1;
                        }
                    }
                }
                copy_into(view.slice(..), &fills, self.threads);
            }
            buffer.unmap();
            let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("ring upload"),
            });
            for &(dest, at, from, n) in &self.copies {
                enc.copy_buffer_to_buffer(buffer, from, &dests[dest], at, n);
            }
            let index = queue.submit([enc.finish()]);
            let slot = &mut self.slots[i];
            slot.state.store(PENDING, Ordering::Release);
            let state = Arc::clone(&slot.state);
            slot.buffer.slice(..).map_async(wgpu::MapMode::Write, move |r| {
                state.store(if r.is_ok() { MAPPED } else { FAILED }, Ordering::Release);
            });
            slot.submitted = Some(index);
        }
        for i in 0..self.slots.len() {
            self.acquire(device, i)?;
        }
        Ok(())
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
        assert!((1..=super::super::MAX_FILL_THREADS).contains(&fill_threads()));
    }
}
