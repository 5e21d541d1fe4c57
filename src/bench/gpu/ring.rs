//! The ring upload path: a few staging buffers (`MAP_WRITE | COPY_SRC`) created once and reused.
//! The CPU fills slot k+1 (a plain `memcpy` into mapped memory) while the GPU copies slot k into
//! the destination buffers; each slot is re-mapped with `map_async` as soon as its copy is queued
//! and waited for only when the ring comes round to it again. Unlike `Queue::write_buffer`, nothing
//! is allocated per call and the staging memory is touched once, when the ring is created.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use super::{GPU_TIMEOUT, PLACE_ALIGN};
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
                let mut fill = 0u64;
                while p < pieces.len() && fill < slot_bytes {
                    let (src, dest, offset) = pieces[p];
                    let rest = &src[done..];
                    let n = (rest.len() as u64).min(slot_bytes - fill) as usize;
                    view.slice(fill as usize..fill as usize + n).copy_from_slice(&rest[..n]);
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
