//! The touch: reading every byte of a load (a wrapping sum of little-endian words, so the optimiser
//! cannot skip it and every method of the same data reports the same checksum).
//!
//! A touched load is read on every core by default, as a user's framework reads its weights (torch
//! sums a tensor on all its threads): [`touch`] cuts the views into pieces of at most [`CHUNK`]
//! bytes, each starting at a multiple of 8 bytes inside its view so that the words summed are the
//! words of one pass over the view, groups small views into runs of about [`CHUNK`] bytes, and lets
//! the threads take runs from a shared counter (a thread slowed by the machine's other work simply
//! takes fewer). The partial sums add up exactly: the checksum is a wrapping sum, whatever the order.
//! For views into a mapped file the page faults happen on the thread that reads the piece, so they
//! run in parallel too. `threads == 1` is the single-thread touch of earlier versions, view after
//! view on the calling thread.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Most bytes of one piece of work; also the least a run of small views adds up to.
pub const CHUNK: usize = 4 << 20;
/// Loads smaller than this are touched on the calling thread whatever the thread count (starting
/// threads would cost more than they save).
pub const PARALLEL_MIN: usize = 2 * CHUNK;
/// Most touch threads.
pub const MAX_THREADS: usize = 256;

/// The touch's thread count when none is asked for: every core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_THREADS)
}

/// The threads [`touch`] uses for `bytes` bytes when asked for `threads`: one below
/// [`PARALLEL_MIN`], else at most one per [`CHUNK`] and [`MAX_THREADS`].
pub fn threads_for(bytes: usize, threads: usize) -> usize {
    if bytes < PARALLEL_MIN {
        1
    } else {
        threads.clamp(1, MAX_THREADS).min(bytes.div_ceil(CHUNK))
    }
}

/// Read every byte of `views` on up to `threads` threads ([`threads_for`]) and return the wrapping
/// sum of their [`checksum`]s (the same value for any thread count and any split).
pub fn touch(views: &[&[u8]], threads: usize) -> u64 {
    let threads = threads_for(views.iter().map(|v| v.len()).sum(), threads);
    if threads == 1 {
        return sum_views(views);
    }
    let (pieces, runs) = plan(views);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut sum = 0u64;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(run) = runs.get(i) else { break };
            for &(v, ref r) in &pieces[run.clone()] {
                sum = sum.wrapping_add(checksum(&views[v][r.clone()]));
            }
        }
        sum
    };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut sum = work();
        for h in helpers {
            // a helper only sums memory the views borrow; a panic there is a bug worth surfacing
            sum = sum.wrapping_add(h.join().expect("a touch thread panicked"));
        }
        sum
    })
}

/// A piece of one view: `(view index, byte range inside it)`.
type Piece = (usize, std::ops::Range<usize>);

/// The pieces of `views` (large ones cut at multiples of [`CHUNK`], itself a multiple of 8) and the
/// runs of consecutive pieces the threads take, each about [`CHUNK`] bytes (the last may be less).
fn plan(views: &[&[u8]]) -> (Vec<Piece>, Vec<std::ops::Range<usize>>) {
    const _: () = assert!(CHUNK.is_multiple_of(8));
    let mut pieces = Vec::new();
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0usize, 0usize);
    for (i, v) in views.iter().enumerate() {
        let mut at = 0;
        while at < v.len() {
            let end = (at + CHUNK).min(v.len());
            pieces.push((i, at..end));
            bytes += end - at;
            at = end;
            if bytes >= CHUNK {
                runs.push(start..pieces.len());
                (start, bytes) = (pieces.len(), 0);
            }
        }
    }
    if start < pieces.len() {
        runs.push(start..pieces.len());
    }
    (pieces, runs)
}

/// Wrapping sum of `data` as little-endian u64 words (a trailing partial word is zero-padded).
pub fn checksum(data: &[u8]) -> u64 {
    let mut lanes = [0u64; 8];
    let mut blocks = data.chunks_exact(64);
    for b in &mut blocks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            *lane = lane.wrapping_add(w);
        }
    }
    let mut sum = lanes.iter().fold(0u64, |a, &b| a.wrapping_add(b));
    let mut words = blocks.remainder().chunks(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b[..w.len()].copy_from_slice(w);
        sum = sum.wrapping_add(u64::from_le_bytes(b));
    }
    sum
}

/// [`checksum`] of data fed in pieces split anywhere (equal to the checksum of the pieces joined).
#[derive(Debug, Default, Clone)]
pub struct Summer {
    sum: u64,
    partial: [u8; 8],
    filled: usize,
}

impl Summer {
    /// Add the next bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let n = (8 - self.filled).min(data.len());
            self.partial[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled < 8 {
                return;
            }
            self.sum = self.sum.wrapping_add(u64::from_le_bytes(self.partial));
            self.filled = 0;
        }
        let whole = data.len() / 8 * 8;
        self.sum = self.sum.wrapping_add(checksum(&data[..whole]));
        let rest = &data[whole..];
        self.partial[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The checksum of everything fed (a trailing partial word zero-padded).
    pub fn finish(mut self) -> u64 {
        if self.filled > 0 {
            self.partial[self.filled..].fill(0);
            self.sum = self.sum.wrapping_add(u64::from_le_bytes(self.partial));
        }
        self.sum
    }
}

/// The share of `path`'s bytes that a read-only map of it gets in 2 MiB pages once every page is
/// read (how much `FilePmdMapped` in `/proc/self/smaps_rollup` grows), or `None` where that cannot
/// be told (not Linux, no such file, under 2 MiB). A warm map faults once per 2 MiB page, and once
/// per 64 KiB (the kernel's fault-around) where the page cache holds the file in small pages: what
/// the cache holds, not the loader, decides most of a touched mapped load's time. Reading a warm
/// page does not change how the cache holds it.
pub fn huge_page_share(path: &std::path::Path) -> Option<f64> {
    let file = std::fs::File::open(path).ok()?;
    let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
    if len < HUGE_PAGE {
        return None;
    }
    let before = file_pmd_mapped()?;
    // guarded: a checkpoint truncated meanwhile reads as zero pages and a damage mark, not SIGBUS
    let map = crate::checkpoint::guard::GuardedMap::map(&file, 0, None).ok()?;
    let bytes = map.bytes();
    let mut x = 0u8;
    for i in (0..bytes.len()).step_by(4096) {
        x ^= bytes[i];
    }
    std::hint::black_box(x);
    let after = file_pmd_mapped()?;
    let damaged = map.damaged();
    drop(map);
    (!damaged).then(|| after.saturating_sub(before) as f64 / len as f64)
}

/// A huge page of the page cache (x86-64 and most arm64 kernels).
const HUGE_PAGE: usize = 2 << 20;

/// File memory this process maps in huge pages (`FilePmdMapped`, bytes).
fn file_pmd_mapped() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let v = s.lines().find_map(|l| l.strip_prefix("FilePmdMapped:"))?;
    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().ok()?;
    kb.checked_mul(1024)
}

/// The single-thread touch: each view's [`checksum`], one after another.
pub fn sum_views(views: &[&[u8]]) -> u64 {
    views.iter().fold(0u64, |a, v| a.wrapping_add(checksum(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_words() {
        assert_eq!(checksum(&[]), 0);
        assert_eq!(checksum(&[1, 0, 0, 0, 0, 0, 0, 0, 2]), 3);
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let naive = data.chunks(8).fold(0u64, |a, w| {
            let mut b = [0u8; 8];
            b[..w.len()].copy_from_slice(w);
            a.wrapping_add(u64::from_le_bytes(b))
        });
        assert_eq!(checksum(&data), naive);
    }

    #[test]
    fn summer_equals_checksum_wherever_the_data_is_split() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
        for cuts in [vec![], vec![1], vec![3, 4, 5, 13], vec![7, 8, 9, 500, 999]] {
            let mut s = Summer::default();
            let mut at = 0;
            for c in cuts.iter().copied().chain([data.len()]) {
                s.feed(&data[at..c]);
                at = c;
            }
            assert_eq!(s.finish(), checksum(&data), "{cuts:?}");
        }
        assert_eq!(Summer::default().finish(), 0);
    }

    #[test]
    fn every_thread_count_and_split_sums_the_same() {
        // views of odd sizes around the chunk and run boundaries, some empty, one large
        let big: Vec<u8> = (0..(3 * CHUNK + 13) as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut views: Vec<&[u8]> = vec![&big[..0], &big[5..17], &big[..CHUNK - 3]];
        views.extend(big[100..100 + 20_000 * 7].chunks(7));
        views.push(&big[1..]);
        views.push(&big[..0]);
        let want = views.iter().fold(0u64, |a, v| a.wrapping_add(checksum(v)));
        assert_eq!(sum_views(&views), want);
        for threads in [1, 2, 3, 8, 1000] {
            assert_eq!(touch(&views, threads), want, "{threads} threads");
        }
        assert_eq!(touch(&[], 4), 0);
        assert_eq!(touch(&[&big[..9]], 4), checksum(&big[..9]));
    }

    #[test]
    fn huge_page_share_is_a_share_or_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, [1u8; 100]).unwrap();
        assert_eq!(huge_page_share(&small), None, "under 2 MiB: no huge page to tell");
        assert_eq!(huge_page_share(&dir.path().join("missing")), None);
        let big = dir.path().join("big");
        std::fs::write(&big, vec![7u8; 3 * HUGE_PAGE]).unwrap();
        if let Some(s) = huge_page_share(&big) {
            assert!((0.0..=1.0).contains(&s), "{s}");
        }
    }

    #[test]
    fn the_plan_covers_every_byte_once_in_runs_of_about_a_chunk() {
        let big = vec![1u8; 2 * CHUNK + 5];
        let small = vec![2u8; 1000];
        let mut views: Vec<&[u8]> = vec![&big];
        views.extend(std::iter::repeat_n(&small[..], 10_000));
        let (pieces, runs) = plan(&views);
        let mut covered = vec![0usize; views.len()];
        for (v, r) in &pieces {
            assert_eq!(r.start % 8, 0, "pieces start on a word of their view");
            assert_eq!(r.start, covered[*v], "in order, without gaps");
            covered[*v] = r.end;
        }
        assert!(covered.iter().zip(&views).all(|(c, v)| *c == v.len()));
        assert_eq!(runs.first().map(|r| r.start), Some(0));
        assert!(runs.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(runs.last().map(|r| r.end), Some(pieces.len()));
        for r in &runs[..runs.len() - 1] {
            let bytes: usize = pieces[r.clone()].iter().map(|(_, x)| x.len()).sum();
            assert!((CHUNK..CHUNK + 1000).contains(&bytes), "{bytes}");
        }
    }
}
