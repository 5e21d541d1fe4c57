//! GPU timestamps around each ring slot's copies (where the adapter has
//! `TIMESTAMP_QUERY_INSIDE_ENCODERS`): the GPU's own copy time, read back after a run, untimed.

use super::GPU_TIMEOUT;
use crate::{Error, Result};

/// Slots stamped per upload (two queries each); slots past it are not counted in the copy time
/// (2,048 slots of 32 MiB: 64 GiB per load).
pub const STAMPED_SLOTS: u32 = 2048;

/// A query set of two timestamps per slot and the buffers to read them back.
pub struct Stamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    /// Nanoseconds per tick.
    period_ns: f64,
}

/// The features timestamps need.
pub fn features() -> wgpu::Features {
    wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS
}

impl Stamps {
    /// Timestamps, where the device was opened with [`features`].
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Option<Stamps> {
        if !device.features().contains(features()) {
            return None;
        }
        let bytes = u64::from(STAMPED_SLOTS) * 2 * u64::from(wgpu::QUERY_SIZE);
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Some(Stamps {
            set: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("ring copy stamps"),
                ty: wgpu::QueryType::Timestamp,
                count: STAMPED_SLOTS * 2,
            }),
            resolve: buffer(
                "stamps resolve",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            read: buffer(
                "stamps read",
                wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            ),
            period_ns: f64::from(queue.get_timestamp_period()),
        })
    }

    /// Stamp before (`end == false`) or after the copies of the `slot`-th slot of an upload.
    pub fn write(&self, enc: &mut wgpu::CommandEncoder, slot: u32, end: bool) {
        if slot < STAMPED_SLOTS {
            enc.write_timestamp(&self.set, slot * 2 + u32::from(end));
        }
    }

    /// Seconds the GPU spent between each pair of stamps of the first `slots` slots (the copies
    /// have finished: the ring waits for every slot before an upload returns).
    pub fn copy_seconds(&self, device: &wgpu::Device, queue: &wgpu::Queue, slots: u32) -> Result<f64> {
        let n = slots.min(STAMPED_SLOTS);
        if n == 0 {
            return Ok(0.0);
        }
        let bytes = u64::from(n) * 2 * u64::from(wgpu::QUERY_SIZE);
        let mut enc = device.create_command_encoder(&Default::default());
        enc.resolve_query_set(&self.set, 0..n * 2, &self.resolve, 0);
        enc.copy_buffer_to_buffer(&self.resolve, 0, &self.read, 0, bytes);
        queue.submit([enc.finish()]);
        let slice = self.read.slice(..bytes);
        slice.map_async(wgpu::MapMode::Read, |_| {});
        device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: Some(GPU_TIMEOUT),
            })
            .map_err(|e| Error::Unsupported(format!("GPU: reading timestamps: {e}")))?;
        let ticks: u64 = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| Error::Unsupported(format!("GPU: reading timestamps: {e}")))?;
            view.chunks_exact(16)
                .map(|pair| {
                    let a = u64::from_le_bytes(pair[..8].try_into().expect("8 bytes"));
                    let b = u64::from_le_bytes(pair[8..].try_into().expect("8 bytes"));
                    b.saturating_sub(a)
                })
                .fold(0u64, u64::saturating_add)
        };
        self.read.unmap();
        Ok(ticks as f64 * self.period_ns / 1e9)
    }
}
