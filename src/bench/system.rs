//! Facts about the machine for reports: OS, CPU, memory (sysinfo), and two quick probes of how
//! fast memory fills — fresh (every page faulted on first touch) and already mapped.

use std::time::Instant;

use crate::report::System;

/// Bytes copied by each memory probe.
pub const PROBE_BYTES: usize = 64 << 20;

/// The machine's facts, with the memory probes run now (about 0.1 s).
pub fn facts() -> System {
    let mut s = System::default();
    if let Ok(mut sys) = sysinfo::System::new() {
        sys.refresh_memory();
        sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
        s.memory_bytes = sys.total_memory();
        s.available_memory_bytes = sys.available_memory();
        s.cores = sys.cpus().len();
        s.cpu = sys
            .cpus()
            .first()
            .map(|c| c.brand().trim().to_owned())
            .unwrap_or_default();
    }
    s.os = sysinfo::System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into());
    s.kernel = sysinfo::System::kernel_version().unwrap_or_default();
    if s.cores == 0 {
        s.cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    }
    let (fresh, mapped) = memory_probe(PROBE_BYTES);
    s.fresh_memory_gbps = fresh;
    s.mapped_memory_gbps = mapped;
    s
}

/// Copy `bytes` into freshly mapped anonymous memory, then again into the same (now mapped)
/// memory; returns both speeds in GB/s.
pub fn memory_probe(bytes: usize) -> (f64, f64) {
    let src = vec![7u8; bytes];
    let Ok(mut dst) = memmap2::MmapMut::map_anon(bytes) else {
        return (0.0, 0.0);
    };
    let t = Instant::now();
    dst.copy_from_slice(std::hint::black_box(&src));
    let fresh = t.elapsed().as_secs_f64();
    let t = Instant::now();
    dst.copy_from_slice(std::hint::black_box(&src));
    let mapped = t.elapsed().as_secs_f64();
    std::hint::black_box(&dst);
    let gbps = |s: f64| if s > 0.0 { bytes as f64 / s / 1e9 } else { 0.0 };
    (gbps(fresh), gbps(mapped))
}

#[cfg(test)]
mod tests {
    #[test]
    fn facts_are_filled() {
        let s = super::facts();
        assert!(s.cores >= 1);
        assert!(s.memory_bytes > 0);
        assert!(!s.os.is_empty());
        assert!(s.fresh_memory_gbps > 0.0 && s.mapped_memory_gbps > 0.0);
    }
}
