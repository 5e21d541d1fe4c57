//! Facts about the machine for reports: OS, CPU, memory (sysinfo), and two quick probes of how
//! fast memory fills — fresh (every page faulted on first touch) and already mapped.

use std::time::Instant;

use crate::report::System;

/// Bytes copied by each memory probe.
pub const PROBE_BYTES: usize = 128 << 20;
/// Runs of each memory probe (the median is kept).
pub const PROBE_RUNS: usize = 3;

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

/// The memcpy ceilings: copy `bytes` of warm memory into freshly mapped anonymous memory (every
/// page faulted and zeroed on first touch; advised `MADV_HUGEPAGE` as fresh-memory rows are), then
/// into the same, now pre-touched, memory; each [`PROBE_RUNS`] times, on one thread. Returns the
/// median speeds in GB/s: (fresh, pre-touched).
pub fn memory_probe(bytes: usize) -> (f64, f64) {
    memory_probe_on(bytes, 1, PROBE_RUNS)
}

/// [`memory_probe`] with the copy cut into `threads` equal shares copied at once (scoped threads,
/// the timer around all of them): what the memory system gives a loader that uses every core;
/// `runs` timed copies of each kind (the median is kept).
pub fn memory_probe_on(bytes: usize, threads: usize, runs: usize) -> (f64, f64) {
    let (fresh, mapped) = memory_probe_times(bytes, threads, runs);
    (gbps(bytes, median_of(fresh)), gbps(bytes, median_of(mapped)))
}

/// [`memory_probe_on`]'s fastest runs rather than its medians: what a ceiling needs, since a
/// row's median must never beat the best the machine did.
pub fn memory_probe_best(bytes: usize, threads: usize, runs: usize) -> (f64, f64) {
    let (fresh, mapped) = memory_probe_times(bytes, threads, runs);
    (gbps(bytes, best_of(&fresh)), gbps(bytes, best_of(&mapped)))
}

/// The fastest way `read(2)` fills memory from the page cache: the first `bytes` of the warm file
/// at `path` read with one call (as the eager rows read) into fresh memory (advised for huge
/// pages, as theirs is), then again into the same, now pre-touched, memory; `runs` times each.
/// Returns the best rates in GB/s (fresh, pre-touched) and the bytes read; `None` when the file
/// cannot be read.
pub fn read_probe_best(path: &std::path::Path, bytes: usize, runs: usize) -> Option<(f64, f64, usize)> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).ok()?;
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?.min(bytes);
    if len == 0 {
        return None;
    }
    let (mut fresh, mut mapped) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let mut map = memmap2::MmapMut::map_anon(len.next_multiple_of(2 << 20)).ok()?;
        super::loading::advise_huge(&map);
        let t = Instant::now();
        file.read_exact_at(&mut map[..len], 0).ok()?;
        fresh.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        file.read_exact_at(&mut map[..len], 0).ok()?;
        mapped.push(t.elapsed().as_secs_f64());
        std::hint::black_box(&map);
    }
    Some((gbps(len, best_of(&fresh)), gbps(len, best_of(&mapped)), len))
}

fn gbps(bytes: usize, s: f64) -> f64 {
    if s > 0.0 { bytes as f64 / s / 1e9 } else { 0.0 }
}

fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn best_of(v: &[f64]) -> f64 {
    v.iter()
        .copied()
        .filter(|s| *s > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(f64::MAX)
}

/// Timed copies into fresh and into pre-touched memory (seconds each), see [`memory_probe_on`].
fn memory_probe_times(bytes: usize, threads: usize, runs: usize) -> (Vec<f64>, Vec<f64>) {
    let threads = threads.max(1);
    let src = vec![7u8; bytes];
    let share = bytes.div_ceil(threads).max(1);
    let copy = |dst: &mut [u8]| {
        if threads == 1 {
            dst.copy_from_slice(std::hint::black_box(&src));
            return;
        }
        std::thread::scope(|scope| {
            for (d, s) in dst.chunks_mut(share).zip(src.chunks(share)) {
                scope.spawn(move || d.copy_from_slice(std::hint::black_box(s)));
            }
        });
    };
    let (mut fresh, mut mapped) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        // fresh memory as the fresh-memory rows get it (see `loading::Arena::fresh`): whole 2 MiB
        // pieces advised for huge pages, so a small copy lands in one huge page as theirs does
        let Ok(mut map) = memmap2::MmapMut::map_anon(bytes.max(1).next_multiple_of(2 << 20)) else {
            return (Vec::new(), Vec::new());
        };
        super::loading::advise_huge(&map);
        let dst = &mut map[..bytes];
        let t = Instant::now();
        copy(dst);
        fresh.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        copy(dst);
        mapped.push(t.elapsed().as_secs_f64());
        std::hint::black_box(&map);
    }
    (fresh, mapped)
}

/// The read ceiling: sum every byte of `bytes` of warm, pre-touched memory with the touch's own
/// code ([`super::touch::touch`]) on up to `threads` threads, `runs` times. Returns the fastest
/// run's speed in GB/s (a ceiling is the best the machine did) and the threads the touch used
/// ([`super::touch::threads_for`]).
pub fn memory_read_on(bytes: usize, threads: usize, runs: usize) -> (f64, usize) {
    let data = vec![7u8; bytes];
    let views: [&[u8]; 1] = [&data];
    let used = super::touch::threads_for(bytes, threads);
    // one untimed pass: the threads' stacks and the data's cache state as the timed runs see them
    std::hint::black_box(super::touch::touch(&views, threads));
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(super::touch::touch(std::hint::black_box(&views), threads));
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (gbps(bytes, best_of(&times)), used)
}

/// The filesystem holding `path`, from `statfs`'s magic number (`None` when unknown).
pub fn filesystem(path: &std::path::Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statfs fills the zeroed struct we own from a NUL-terminated path.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)]
    let name = match st.f_type as i64 {
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x2FC1_2FC1 => "zfs",
        0x6969 => "nfs",
        0x6573_5546 => "fuse",
        0x0102_1997 => "9p",
        0x794C_7630 => "overlay",
        0x0102_1994 => "tmpfs",
        0xFF53_4D42 | 0xFE53_4D42 => "smb",
        0x00C3_6400 => "ceph",
        0x0BD0_0BD0 => "lustre",
        0x4244 => "hfs",
        0x5346_544E => "ntfs",
        0x4D44 => "vfat",
        0x7366_7368 => "squashfs",
        other => return Some(format!("unknown ({other:#x})")),
    };
    Some(name.into())
}

/// Whether reading through a map is slow on `fs`: network and FUSE filesystems serve page faults
/// in small pieces, so `pread` in large requests beats `mmap` there.
pub fn prefers_pread(fs: &str) -> bool {
    matches!(fs, "nfs" | "fuse" | "9p" | "smb" | "ceph" | "lustre")
}

/// The disk's sequential read rate of `path`: its pages dropped, then read in large requests
/// (`O_DIRECT` where the filesystem allows, else plain reads from a dropped cache). Returns GB/s
/// and whether `O_DIRECT` was used; `None` when the file is empty or cannot be read.
pub fn disk_read_gbps(path: &std::path::Path) -> Option<(f64, bool)> {
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    const STEP: usize = 16 << 20;
    let len = std::fs::metadata(path).ok()?.len() as usize;
    if len == 0 {
        return None;
    }
    let _ = super::cache::drop_pages(path);
    let direct = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok();
    let mut buf = memmap2::MmapMut::map_anon(STEP).ok()?; // page-aligned, as O_DIRECT needs
    let t = Instant::now();
    let mut at = 0usize;
    let mut used_direct = direct.is_some();
    if let Some(f) = &direct {
        while at < len {
            match f.read_at(&mut buf[..], at as u64) {
                Ok(0) => break,
                Ok(n) if n % 4096 == 0 || at + n >= len => at += n,
                _ => break,
            }
        }
    }
    if at < len {
        used_direct = false;
        let f = std::fs::File::open(path).ok()?;
        while at < len {
            match f.read_at(&mut buf[..], at as u64) {
                Ok(0) => break,
                Ok(n) => at += n,
                Err(_) => return None,
            }
        }
    }
    let s = t.elapsed().as_secs_f64();
    (s > 0.0).then(|| (at as f64 / s / 1e9, used_direct))
}

/// The disk read the way `safetensors-pread` reads: pages of `path` dropped, then
/// [`super::strategies::threads`] threads `pread` disjoint ranges. Returns GB/s and the threads;
/// `None` when the file is empty or cannot be read.
pub fn disk_read_parallel_gbps(path: &std::path::Path) -> Option<(f64, usize)> {
    let file = std::fs::File::open(path).ok()?;
    // at most 1 GiB: enough for a steady rate, and no checkpoint-sized allocation of its own
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?.min(1 << 30);
    if len == 0 {
        return None;
    }
    let mut buf = memmap2::MmapMut::map_anon(len).ok()?;
    // untimed: fault the destination so the timer sees the disk, not the zeroing of fresh pages
    buf.fill(0);
    let n = super::strategies::threads(len);
    let _ = super::cache::drop_pages(path);
    let t = Instant::now();
    super::strategies::read_parallel(&file, path, &mut buf[..], n).ok()?;
    let s = t.elapsed().as_secs_f64();
    (s > 0.0).then(|| (len as f64 / s / 1e9, n))
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

    #[test]
    fn filesystems_and_disk_reads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![1u8; 3 << 20]).unwrap();
        let fs = super::filesystem(&p).unwrap();
        assert!(!fs.is_empty());
        assert_eq!(super::filesystem(&dir.path().join("missing")), None);
        assert!(super::prefers_pread("fuse") && !super::prefers_pread("ext4"));
        let (gbps, _) = super::disk_read_gbps(&p).unwrap();
        assert!(gbps > 0.0);
        std::fs::write(&p, b"").unwrap();
        assert_eq!(super::disk_read_gbps(&p), None);
    }
}
