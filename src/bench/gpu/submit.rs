//! The ring's submit thread: queue submissions and re-maps off the filling thread. Some drivers
//! do the copies inside `Queue::submit` (lavapipe, the software Vulkan driver, copies there on the
//! caller's thread), which on the filling thread would put every copy between two fills; from this
//! thread the next slot fills while the last one copies.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{GPU_TIMEOUT, gpu_error};
use crate::Result;

/// Slot states shared with the callbacks.
pub const PENDING: u8 = 0;
/// Mapped and ready to fill.
pub const MAPPED: u8 = 1;
/// The re-map failed.
pub const FAILED: u8 = 2;

/// What the submit thread needs of one slot.
#[derive(Clone)]
pub struct SlotHandle {
    /// The staging buffer.
    pub buffer: wgpu::Buffer,
    /// [`PENDING`], [`MAPPED`] or [`FAILED`].
    pub state: Arc<AtomicU8>,
    /// When its re-map was seen done.
    pub done_at: Arc<Mutex<Option<Instant>>>,
}

/// A slot's copies, ready to submit.
pub type Job = (usize, wgpu::CommandBuffer);

/// Ask for slot `h` to be mapped again once its copies are done; the callback records when,
/// sets the state and wakes `waker`.
pub fn remap(h: &SlotHandle, waker: Option<std::thread::Thread>) {
    let (state, done) = (Arc::clone(&h.state), Arc::clone(&h.done_at));
    h.buffer.slice(..).map_async(wgpu::MapMode::Write, move |r| {
        if let Ok(mut d) = done.lock() {
            *d = Some(Instant::now());
        }
        state.store(if r.is_ok() { MAPPED } else { FAILED }, Ordering::Release);
        if let Some(w) = waker {
            w.unpark();
        }
    });
}

/// Submit each job as it comes, then ask for its slot's re-map; when no job is waiting, wait for
/// the GPU (which runs the map callbacks, waking `filler`). Ends when the sender is dropped and
/// the last copies are done. On an error every pending slot is marked failed, so the filler
/// stops waiting, and so is every slot handed over after that, until the filler stops.
pub fn serve(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    rx: &Receiver<Job>,
    slots: &[SlotHandle],
    filler: &std::thread::Thread,
) -> Result<()> {
    let r = serve_inner(device, queue, rx, slots, filler);
    if r.is_err() {
        let fail = || {
            for s in slots {
                let _ = s
                    .state
                    .compare_exchange(PENDING, FAILED, Ordering::AcqRel, Ordering::Acquire);
            }
            filler.unpark();
        };
        fail();
        // the filler may hand over a slot it marked pending after that sweep: fail each as it
        // comes, until the filler has stopped (it drops the sender), so none waits out the timeout
        while rx.recv().is_ok() {
            fail();
        }
    }
    r
}

fn serve_inner(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    rx: &Receiver<Job>,
    slots: &[SlotHandle],
    filler: &std::thread::Thread,
) -> Result<()> {
    let wait = || {
        device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: Some(GPU_TIMEOUT),
            })
            .map_err(|e| gpu_error("waiting for the copies", e))
    };
    let mut pending = false;
    loop {
        let (i, cmd) = if pending {
            match rx.try_recv() {
                Ok(job) => job,
                Err(TryRecvError::Empty) => {
                    wait()?;
                    pending = false;
                    continue;
                }
                Err(TryRecvError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(job) => job,
                Err(_) => break,
            }
        };
        queue.submit([cmd]);
        remap(&slots[i], Some(filler.clone()));
        pending = true;
        device
            .poll(wgpu::PollType::Poll)
            .map_err(|e| gpu_error("polling the device", e))?;
    }
    if pending {
        wait()?;
    }
    Ok(())
}
