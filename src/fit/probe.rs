//! `fit --probe`: allocate what the plan puts on a GPU through wgpu and compare the bytes the
//! backend's allocator reports with the prediction. Buffers are created, never written, so the
//! probe costs no upload; running out of memory is reported, not a crash.

use serde::Serialize;

use super::FitReport;
use crate::{Error, Result};

/// Predicted against allocated bytes of one planned GPU.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeDevice {
    /// The planned device (`gpu0`).
    pub name: String,
    /// Bytes the plan puts there.
    pub predicted_bytes: u64,
    /// Bytes allocated for it (see `measured_by`); 0 when the allocation failed.
    pub allocated_bytes: u64,
    /// `(allocated − predicted) / predicted × 100`.
    pub error_percent: f64,
    /// Buffers created.
    pub buffers: u64,
    /// `allocator report` (the backend's own count of device memory) or `buffer sizes` (what wgpu
    /// accepted, when the backend keeps no report).
    pub measured_by: String,
    /// Why the allocation failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The probe of every planned GPU, one after the other, on one adapter.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// The adapter used (`name (backend, device type)`).
    pub adapter: String,
    /// Whether the adapter is a CPU (lavapipe): then the bytes are host memory.
    pub cpu_adapter: bool,
    /// Each planned GPU.
    pub devices: Vec<ProbeDevice>,
}

/// The buffer sizes that make up a device's `bytes`: each layer's KV cache on its own, the rest in
/// pieces of at most `max` bytes.
pub fn pieces(report: &FitReport, device: &str, max: u64) -> Vec<u64> {
    let max = max.max(1);
    let Some(d) = report.devices.iter().find(|d| d.name == device) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut kv_total = 0u64;
    for l in report.layers.iter().filter(|l| l.device == device) {
        let mut left = l.kv_bytes;
        kv_total = kv_total.saturating_add(left);
        while left > 0 {
            let p = left.min(max);
            out.push(p);
            left -= p;
        }
    }
    let mut rest = d.bytes.saturating_sub(kv_total);
    while rest > 0 {
        let p = rest.min(max);
        out.push(p);
        rest -= p;
    }
    out
}

/// Allocate each planned GPU of `report` in turn on the adapter wgpu prefers.
#[cfg(feature = "gpu")]
pub fn probe(report: &FitReport) -> Result<ProbeReport> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::PRIMARY.with_env();
    let instance = wgpu::Instance::new(desc);
    let adapter =
        pollster::block_on(wgpu::util::initialize_adapter_from_env_or_default(&instance, None)).map_err(|e| {
            Error::Unsupported(format!(
                "fit --probe: no GPU adapter ({e}): nothing was allocated; on Linux install a Vulkan driver \
                 (Debian: mesa-vulkan-drivers gives the software one, lavapipe)"
            ))
        })?;
    let info = adapter.get_info();
    let limits = adapter.limits();
    let (device, _queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("tensorscope fit --probe"),
        required_limits: limits.clone(),
        ..Default::default()
    }))
    .map_err(|e| Error::Unsupported(format!("fit --probe: cannot open the device: {e}")))?;
    let max = limits.max_buffer_size.max(4) / 4 * 4;
    let mut out = Vec::new();
    for d in report.devices.iter().filter(|d| d.name != "host") {
        let before = device.generate_allocator_report().map(|r| r.total_allocated_bytes);
        let sizes = pieces(report, &d.name, max);
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut buffers = Vec::with_capacity(sizes.len());
        for &s in &sizes {
            buffers.push(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("fit probe"),
                size: s.div_ceil(4) * 4,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
        }
        let err = pollster::block_on(scope.pop()).map(|e| e.to_string().replace('\n', " "));
        let after = device.generate_allocator_report().map(|r| r.total_allocated_bytes);
        let (allocated, by) = match (before, after) {
            (Some(b), Some(a)) => (a.saturating_sub(b), "allocator report"),
            _ => (buffers.iter().map(|b| b.size()).sum(), "buffer sizes"),
        };
        let allocated = if err.is_some() { 0 } else { allocated };
        let error_percent = if d.bytes == 0 {
            0.0
        } else {
            (allocated as f64 - d.bytes as f64) / d.bytes as f64 * 100.0
        };
        out.push(ProbeDevice {
            name: d.name.clone(),
            predicted_bytes: d.bytes,
            allocated_bytes: allocated,
            error_percent,
            buffers: buffers.len() as u64,
            measured_by: by.into(),
            error: err,
        });
        for b in buffers {
            b.destroy();
        }
    }
    Ok(ProbeReport {
        adapter: format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type),
        cpu_adapter: info.device_type == wgpu::DeviceType::Cpu,
        devices: out,
    })
}

/// Without the `gpu` feature there is nothing to allocate on.
#[cfg(not(feature = "gpu"))]
pub fn probe(_report: &FitReport) -> Result<ProbeReport> {
    Err(Error::Unsupported(
        "fit --probe: this tensorscope was built without the `gpu` feature: nothing can be allocated".into(),
    ))
}
