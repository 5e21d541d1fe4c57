//! The wgpu side of [`super`]: adapter, device, destination buffers, uploads and the read-back.

use std::sync::{Arc, Mutex};

use super::ring::{RING_MIN_SLOT, RING_SLOT, Ring, Tuning};
use super::stamps::{self, Stamps};
use super::{CEILING_BYTES, GPU_TIMEOUT, MAX_CHUNK, PLACE_ALIGN, Placement, UPLOAD_BATCH, Upload, gpu_error, place};
use crate::bench::loading::{Sink, ViewMap};
use crate::bench::touch::Summer;
use crate::report;
use crate::{Error, Result};

/// Bytes copied back per step of [`Uploader::readback_checksum`].
const READBACK_STEP: u64 = 64 << 20;

/// A wgpu device with the buffers of the case being measured.
pub struct Uploader {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: report::Gpu,
    chunk: u64,
    buffers: Vec<wgpu::Buffer>,
    /// Pieces of the last load, region by region.
    placed: Vec<Placement>,
    /// For each region of the last load, its pieces in `placed`.
    regions: Vec<std::ops::Range<usize>>,
    /// Where each tensor lies in the regions (`None`: each region is one tensor).
    views: Option<Vec<(usize, std::ops::Range<usize>)>>,
    errors: Arc<Mutex<Vec<String>>>,
    upload: Upload,
    /// The staging ring (created on the first ring upload, then reused).
    ring: Option<Ring>,
    /// Its shape and fill.
    tuning: Tuning,
    /// Whether the last load went through the ring (so [`Uploader::split`] describes it).
    ring_last: bool,
}

fn describe(info: &wgpu::AdapterInfo) -> report::Gpu {
    report::Gpu {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
    }
}

/// The backends tried unless `WGPU_BACKEND` names others: Vulkan, Metal, DX12. GL is left out by
/// default: it adds nothing for buffer copies and its EGL probe prints to stderr on headless Linux.
fn backends() -> wgpu::Backends {
    wgpu::Backends::PRIMARY.with_env()
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends();
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu sees (for the report's system facts).
pub fn adapters() -> Vec<report::Gpu> {
    let instance = instance();
    pollster::block_on(instance.enumerate_adapters(backends()))
        .iter()
        .map(|a| describe(&a.get_info()))
        .collect()
}

impl Uploader {
    /// Open the adapter wgpu prefers (a high-performance one; `WGPU_ADAPTER_NAME` picks another,
    /// `WGPU_BACKEND` limits the backends) and a device with the adapter's own limits; uploads go
    /// the `upload` way.
    pub fn open(upload: Upload) -> Result<Uploader> {
        let instance = instance();
        let adapter =
            pollster::block_on(wgpu::util::initialize_adapter_from_env_or_default(&instance, None)).map_err(|e| {
                Error::Unsupported(format!(
                    "no GPU adapter ({e}); on Linux install a Vulkan driver (Debian: mesa-vulkan-drivers \
                     gives the software one, lavapipe)"
                ))
            })?;
        let tuning = Tuning::from_env()?;
        let limits = adapter.limits();
        // timestamps around each slot's copies, where the adapter has them
        let features = adapter.features() & stamps::features();
        let features = if features == stamps::features() {
            features
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("tensorscope bench"),
            required_features: features,
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .map_err(|e| gpu_error("cannot open the device", e))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&errors);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let chunk = (limits.max_buffer_size.min(MAX_CHUNK) / PLACE_ALIGN * PLACE_ALIGN).max(PLACE_ALIGN);
        Ok(Uploader {
            device,
            queue,
            adapter: describe(&adapter.get_info()),
            chunk,
            buffers: Vec::new(),
            placed: Vec::new(),
            regions: Vec::new(),
            views: None,
            errors,
            upload,
            ring: None,
            tuning,
            ring_last: false,
        })
    }

    /// Where the last load's upload time went (ring uploads only; `None` after a write-buffer
    /// load). `run_s` is left 0 for the caller, who timed the run. Reads the GPU's timestamps
    /// back: call it after the run's timing.
    pub fn split(&self) -> Result<Option<report::GpuSplit>> {
        match (&self.ring, self.ring_last) {
            (Some(ring), true) => ring.split(&self.device, &self.queue).map(Some),
            _ => Ok(None),
        }
    }

    /// The adapter in use.
    pub fn adapter(&self) -> &report::Gpu {
        &self.adapter
    }

    fn check_errors(&self) -> Result<()> {
        let first = self.errors.lock().ok().and_then(|mut v| v.drain(..).next());
        match first {
            Some(e) => Err(gpu_error("the device reported an error", e)),
            None => Ok(()),
        }
    }

    fn wait(&self, index: Option<wgpu::SubmissionIndex>) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: index,
                timeout: Some(GPU_TIMEOUT),
            })
            .map_err(|e| gpu_error("waiting for the copies", e))?;
        self.check_errors()
    }

    /// Make sure buffer `i` exists with at least `size` bytes (new buffers are created inside an
    /// out-of-memory error scope, so running out of GPU memory is an error, not a crash).
    fn ensure(&mut self, i: usize, size: u64) -> Result<()> {
        if self.buffers.get(i).is_some_and(|b| b.size() >= size) {
            return Ok(());
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tensors"),
            size,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(gpu_error(
                &format!("cannot allocate {} of GPU memory", crate::text::bytes(size)),
                e,
            ));
        }
        if i < self.buffers.len() {
            self.buffers[i] = buffer;
        } else {
            self.buffers.push(buffer);
        }
        Ok(())
    }

    /// Copy region `r` of the last load back, in steps, handing `f(offset in the region, bytes)`.
    fn stream_region(&self, staging: &wgpu::Buffer, r: usize, f: &mut dyn FnMut(usize, &[u8])) -> Result<()> {
        let mut at = 0usize;
        for p in &self.placed[self.regions[r].clone()] {
            let mut done = 0u64;
            while done < p.len {
                let n = (p.len - done).min(READBACK_STEP);
                let copy = n.next_multiple_of(4);
                let mut enc = self.device.create_command_encoder(&Default::default());
                enc.copy_buffer_to_buffer(&self.buffers[p.buffer], p.offset + done, staging, 0, copy);
                self.queue.submit([enc.finish()]);
                let slice = staging.slice(..copy);
                slice.map_async(wgpu::MapMode::Read, |_| {});
                self.wait(None)?;
                {
                    let view = slice.get_mapped_range().map_err(|e| gpu_error("reading back", e))?;
                    f(at, &view[..n as usize]);
                }
                staging.unmap();
                done += n;
                at += n as usize;
            }
        }
        Ok(())
    }

    /// Copy everything the last load uploaded back to the host and sum each tensor's bytes as
    /// [`crate::bench::touch::checksum`] does (untimed; proves the upload).
    pub fn readback_checksum(&self) -> Result<u64> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: READBACK_STEP,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        // each tensor's bytes, fed in order as its region streams by; without a view map every
        // region is one tensor
        let whole: Vec<(usize, std::ops::Range<usize>)>;
        let views = match &self.views {
            Some(v) => v,
            None => {
                let len = |r: &std::ops::Range<usize>| self.placed[r.clone()].iter().map(|p| p.len as usize).sum();
                whole = self.regions.iter().enumerate().map(|(i, r)| (i, 0..len(r))).collect();
                &whole
            }
        };
        let mut by_region: Vec<Vec<usize>> = vec![Vec::new(); self.regions.len()];
        for (v, (r, _)) in views.iter().enumerate() {
            if let Some(list) = by_region.get_mut(*r) {
                list.push(v);
            }
        }
        let mut sums = vec![Summer::default(); views.len()];
        for (r, list) in by_region.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
            self.stream_region(&staging, r, &mut |at, bytes| {
                let end = at + bytes.len();
                for &v in list {
                    let want = &views[v].1;
                    let (a, b) = (want.start.max(at), want.end.min(end));
                    if a < b {
                        sums[v].feed(&bytes[a - at..b - at]);
                    }
                }
            })?;
        }
        Ok(sums.into_iter().fold(0u64, |t, s| t.wrapping_add(s.finish())))
    }
}

impl Sink for Uploader {
    /// Upload every region the way this uploader was opened for, and wait until the GPU has
    /// finished copying.
    fn take(&mut self, regions: &[&[u8]], views: Option<&ViewMap>) -> Result<()> {
        self.upload_via(self.upload, regions, views)
    }
}

impl Uploader {
    /// Upload every region through `upload` and wait until the GPU has finished copying.
    fn upload_via(&mut self, upload: Upload, regions: &[&[u8]], views: Option<&ViewMap>) -> Result<()> {
        let lens: Vec<u64> = regions.iter().map(|v| v.len() as u64).collect();
        let (placed, extents) = place(&lens, self.chunk);
        for (i, &size) in extents.iter().enumerate() {
            self.ensure(i, size)?;
        }
        self.ring_last = upload == Upload::Ring;
        if upload == Upload::Ring {
            return self.take_ring(regions, views, placed);
        }
        let mut pieces = placed.iter();
        let mut spans = Vec::with_capacity(regions.len());
        let mut pending = 0u64;
        let mut in_flight: Option<wgpu::SubmissionIndex> = None;
        let mut next = 0usize;
        for region in regions {
            let first = next;
            let mut rest: &[u8] = region;
            while !rest.is_empty() {
                let p = pieces.next().expect("one placement per piece");
                next += 1;
                let (data, tail) = rest.split_at(p.len as usize);
                // writes of at most one batch each, so staging never holds more than two batches
                for (k, write) in data.chunks(UPLOAD_BATCH as usize).enumerate() {
                    let at = p.offset + k as u64 * UPLOAD_BATCH;
                    self.write(p.buffer, at, write);
                    pending += write.len() as u64;
                    if pending >= UPLOAD_BATCH {
                        let index = self.queue.submit([]);
                        if let Some(prev) = in_flight.replace(index) {
                            self.wait(Some(prev))?;
                        }
                        pending = 0;
                    }
                }
                rest = tail;
            }
            spans.push(first..next);
        }
        self.queue.submit([]);
        self.wait(None)?;
        self.placed = placed;
        self.regions = spans;
        self.views = views.map(<[_]>::to_vec);
        Ok(())
    }
}

impl Uploader {
    /// The ring path of [`Sink::take`]: every placed piece through the staging ring.
    fn take_ring(&mut self, regions: &[&[u8]], views: Option<&ViewMap>, placed: Vec<Placement>) -> Result<()> {
        let mut pieces = Vec::with_capacity(placed.len());
        let mut spans = Vec::with_capacity(regions.len());
        let mut next = placed.iter();
        let mut k = 0usize;
        for region in regions {
            let first = k;
            let mut rest: &[u8] = region;
            while !rest.is_empty() {
                let p = next.next().expect("one placement per piece");
                let (data, tail) = rest.split_at(p.len as usize);
                pieces.push((data, p.buffer, p.offset));
                k += 1;
                rest = tail;
            }
            spans.push(first..k);
        }
        // small loads get small slots (the ring is created once per case, on its first load)
        let total: u64 = regions.iter().map(|r| r.len() as u64).sum();
        let tuning = self.tuning;
        let slot = tuning
            .slot
            .unwrap_or((total / tuning.slots as u64).clamp(RING_MIN_SLOT, RING_SLOT));
        let (device, queue) = (&self.device, &self.queue);
        let ring = self
            .ring
            .get_or_insert_with(|| Ring::new(device, slot, tuning, Stamps::new(device, queue)));
        ring.upload(&self.device, &self.queue, &self.buffers, &pieces)?;
        self.check_errors()?;
        self.placed = placed;
        self.regions = spans;
        self.views = views.map(<[_]>::to_vec);
        Ok(())
    }

    /// The upload ceiling: `runs` uploads of a warm, pre-touched host buffer of `bytes` (at most
    /// [`CEILING_BYTES`]) into one GPU buffer through the staging ring (whichever path the loads
    /// took, so write-buffer rows are measured against the ring too), after one untimed upload
    /// that creates the buffer; returns each run's rate in GB/s. Frees the last load's buffers
    /// first and its own after (call it before the first load or after the read-back).
    pub fn ceiling(&mut self, bytes: u64, runs: u32) -> Result<Vec<f64>> {
        self.buffers.clear();
        self.placed.clear();
        self.regions.clear();
        let n = bytes.clamp(PLACE_ALIGN, CEILING_BYTES.min(self.chunk));
        let host: Vec<u8> = (0..n as usize).map(|i| (i % 251) as u8).collect();
        let mut rates = Vec::with_capacity(runs as usize);
        for i in 0..=runs.max(1) {
            let t = std::time::Instant::now();
            self.upload_via(Upload::Ring, &[std::hint::black_box(&host[..])], None)?;
            let secs = t.elapsed().as_secs_f64();
            // the first run creates the buffers
            if i > 0 {
                rates.push(if secs > 0.0 { n as f64 / secs / 1e9 } else { 0.0 });
            }
        }
        self.buffers.clear();
        self.placed.clear();
        self.regions.clear();
        Ok(rates)
    }

    /// Queue `data` for `buffers[buffer]` at `offset` (a multiple of 4); copies move whole 4-byte
    /// words, so the last few bytes go padded with zeros.
    fn write(&self, buffer: usize, offset: u64, data: &[u8]) {
        let buffer = &self.buffers[buffer];
        let whole = data.len() & !3;
        if whole > 0 {
            self.queue.write_buffer(buffer, offset, &data[..whole]);
        }
        if whole < data.len() {
            let mut last = [0u8; 4];
            last[..data.len() - whole].copy_from_slice(&data[whole..]);
            self.queue.write_buffer(buffer, offset + whole as u64, &last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tuning::RING_SLOTS;
    use super::*;

    /// The GPU tests need an adapter; without one they say why and pass, unless
    /// `TENSORSCOPE_REQUIRE_ALL=1` (CI, after installing lavapipe) makes a missing adapter a failure.
    fn uploader_with(upload: Upload) -> Option<Uploader> {
        match Uploader::open(upload) {
            Ok(u) => Some(u),
            Err(e) => {
                let required = std::env::var("TENSORSCOPE_REQUIRE_ALL").as_deref() == Ok("1");
                assert!(!required, "TENSORSCOPE_REQUIRE_ALL=1, and no GPU adapter: {e}");
                eprintln!("skipped: {e}");
                None
            }
        }
    }

    fn uploader() -> Option<Uploader> {
        uploader_with(Upload::WriteBuffer)
    }

    #[test]
    fn uploads_read_back_the_same_bytes() {
        read_back_the_same_bytes(Upload::WriteBuffer);
    }

    #[test]
    fn ring_uploads_read_back_the_same_bytes() {
        read_back_the_same_bytes(Upload::Ring);
    }

    #[test]
    fn ring_spans_slots_and_ceiling_is_measured() {
        let Some(mut u) = uploader_with(Upload::Ring) else {
            return;
        };
        // more than the whole ring, so slots are reused while earlier copies are in flight
        let big: Vec<u8> = (0..(RING_SLOT as usize * (RING_SLOTS + 1) + 1001))
            .map(|i| (i % 253) as u8)
            .collect();
        let small: Vec<Vec<u8>> = (0..300u32).map(|i| vec![i as u8; 1 + i as usize * 7]).collect();
        let mut regions: Vec<&[u8]> = small.iter().map(Vec::as_slice).collect();
        regions.insert(150, &big);
        u.take(&regions, None).unwrap();
        let expect = regions
            .iter()
            .fold(0u64, |s, v| s.wrapping_add(crate::bench::touch::checksum(v)));
        assert_eq!(u.readback_checksum().unwrap(), expect);
        // a second load through the same (re-mapped) ring
        u.take(&regions, None).unwrap();
        assert_eq!(u.readback_checksum().unwrap(), expect);
        let rates = u.ceiling(4 << 20, 2).unwrap();
        assert!(rates.len() == 2 && rates.iter().all(|&r| r > 0.0), "{rates:?}");
        assert!(u.buffers.is_empty(), "the ceiling frees its buffers");
    }

    fn read_back_the_same_bytes(upload: Upload) {
        use crate::bench::touch::checksum;
        let Some(mut u) = uploader_with(upload) else { return };
        u.chunk = 4096; // force pieces across buffers
        let a: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + 3) as u8).collect();
        let b = vec![0xABu8; 3];
        let c: Vec<u8> = (0..4096u32).map(|i| (i >> 3) as u8).collect();
        let regions: Vec<&[u8]> = vec![&a, &[], &b, &c];
        u.take(&regions, None).unwrap();
        let expect = regions.iter().fold(0u64, |s, v| s.wrapping_add(checksum(v)));
        assert_eq!(u.readback_checksum().unwrap(), expect);
        assert!(u.buffers.len() >= 3, "{} buffers", u.buffers.len());
        // a second load reuses the buffers
        let before: Vec<u64> = u.buffers.iter().map(|b| b.size()).collect();
        u.take(&regions, None).unwrap();
        assert_eq!(u.buffers.iter().map(|b| b.size()).collect::<Vec<_>>(), before);
        assert!(!u.adapter().name.is_empty());

        // storages with views: a tied tensor twice, odd offsets, a view across a buffer boundary
        let views = vec![
            (0usize, 0..10_000),
            (0, 0..10_000),
            (0, 4093..4103),
            (2, 1..3),
            (3, 5..4096),
            (1, 0..0),
        ];
        u.take(&regions, Some(&views)).unwrap();
        let expect = views.iter().fold(0u64, |s, (r, range)| {
            s.wrapping_add(checksum(&regions[*r][range.clone()]))
        });
        assert_eq!(u.readback_checksum().unwrap(), expect);
        let uploaded: u64 = u.placed.iter().map(|p| p.len).sum();
        assert_eq!(uploaded, 10_000 + 3 + 4096, "each storage uploaded once");
    }

    #[test]
    fn big_regions_are_written_in_batches() {
        let Some(mut u) = uploader() else { return };
        let big: Vec<u8> = (0..(UPLOAD_BATCH as usize * 2 + 1001))
            .map(|i| (i % 251) as u8)
            .collect();
        u.take(&[&big], None).unwrap();
        assert_eq!(u.readback_checksum().unwrap(), crate::bench::touch::checksum(&big));
    }
}
