//! F32 and F64 statistics on every core: the examined ranges are cut into one contiguous part per
//! thread, each thread summarises its part as the single-threaded path does ([`Acc`] per part),
//! and the parts are merged with Chan et al.'s exact pairwise update (counts, extremes and zeros
//! add; mean and squared deviations combine without a second pass). The histogram's pass is split
//! the same way and its counts summed. Small tensors stay on one thread.

use super::kernel::Counts;
use super::{Acc, Cancelled, Control, Histogram, Isa, Lane, View, bin_chunk, for_chunks};

/// Elements below which one thread does the work (thread start-up would dominate).
pub const PARALLEL_MIN: u64 = 1 << 20;
/// Most threads used.
pub const MAX_THREADS: usize = 16;

impl Acc {
    /// Fold the totals of another part into these (exact for counts, extremes and zeros; Chan's
    /// update for mean and squared deviations).
    fn absorb(&mut self, o: &Acc) {
        self.count += o.count;
        self.nan += o.nan;
        self.posinf += o.posinf;
        self.neginf += o.neginf;
        self.zeros += o.zeros;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        if self.n == 0 {
            (self.n, self.mean, self.m2) = (o.n, o.mean, o.m2);
        } else {
            self.merge(o.n, o.mean, o.m2);
        }
    }
}

/// Threads for `elements`: one per [`PARALLEL_MIN`] elements, at most the cores.
pub fn threads_for(elements: u64) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let want = usize::try_from(elements / PARALLEL_MIN).unwrap_or(usize::MAX);
    want.clamp(1, cores.clamp(1, MAX_THREADS))
}

/// Cut `ranges` (start, count) into `parts` pieces of about equal element counts.
pub fn split(ranges: &[(u64, u64)], parts: usize) -> Vec<Vec<(u64, u64)>> {
    let total: u64 = ranges.iter().map(|r| r.1).sum();
    let per = total.div_ceil(parts.max(1) as u64).max(1);
    let mut out = vec![Vec::new()];
    let mut room = per;
    for &(mut start, mut count) in ranges {
        while count > 0 {
            if room == 0 {
                out.push(Vec::new());
                room = per;
            }
            let n = count.min(room);
            out.last_mut().expect("one part").push((start, n));
            (start, count, room) = (start + n, count - n, room - n);
        }
    }
    out
}

/// [`super::run_lanes`], on several threads when there are enough elements.
pub(super) fn run_lanes_auto<L: Lane + Send + Sync>(
    view: &View,
    ranges: &[(u64, u64)],
    bins: usize,
    ctl: &Control,
) -> Result<(Acc, Option<Histogram>), Cancelled> {
    let elements: u64 = ranges.iter().map(|r| r.1).sum();
    match threads_for(elements) {
        1 => super::run_lanes::<L>(view, ranges, bins, ctl),
        n => run_lanes_parallel::<L>(view, ranges, bins, ctl, n),
    }
}

/// [`super::run_lanes`] on `threads` threads.
pub(super) fn run_lanes_parallel<L: Lane + Send + Sync>(
    view: &View,
    ranges: &[(u64, u64)],
    bins: usize,
    ctl: &Control,
    threads: usize,
) -> Result<(Acc, Option<Histogram>), Cancelled> {
    let parts = split(ranges, threads);
    let isa = Isa::detect();
    let accs: Vec<Result<Acc, Cancelled>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|p| {
                s.spawn(move || {
                    let mut acc = Acc::default();
                    for_chunks::<L>(view, p, ctl, |xs| acc.chunk(isa, xs)).map(|_| acc)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(Cancelled)))
            .collect()
    });
    let mut acc = Acc::default();
    for a in accs {
        acc.absorb(&a?);
    }
    let mut hist = None;
    if bins > 0 && acc.n > 0 {
        let (lo, hi) = (acc.min, acc.max);
        let scale = super::BinScale::new(lo, hi, bins);
        let all_finite = acc.nan + acc.posinf + acc.neginf == 0;
        let counts: Vec<Result<Vec<u64>, Cancelled>> = std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .iter()
                .map(|p| {
                    s.spawn(move || {
                        let mut counts = Counts::new(bins);
                        for_chunks::<L>(view, p, ctl, |xs| {
                            bin_chunk(isa, xs, lo, scale, &mut counts, all_finite)
                        })
                        .map(|_| counts.totals())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(Cancelled)))
                .collect()
        });
        let mut total = vec![0u64; bins];
        for c in counts {
            for (t, c) in total.iter_mut().zip(c?) {
                *t += c;
            }
        }
        hist = Some(Histogram { lo, hi, counts: total });
    }
    Ok((acc, hist))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::DType;
    use crate::tensor::StatsOptions;

    #[test]
    fn split_covers_every_element_once() {
        let r = [(0u64, 10u64), (100, 5), (200, 1)];
        for parts in [1, 2, 3, 7, 100] {
            let got = split(&r, parts);
            assert!(got.len() <= parts.max(1) + 1, "{parts}: {got:?}");
            let flat: Vec<u64> = got.iter().flatten().flat_map(|&(s, c)| s..s + c).collect();
            let want: Vec<u64> = r.iter().flat_map(|&(s, c)| s..s + c).collect();
            assert_eq!(flat, want);
        }
        assert!(threads_for(1) == 1 && threads_for(u64::MAX) <= MAX_THREADS);
    }

    #[test]
    fn parallel_equals_one_thread() {
        // values with a NaN, infinities and zeros spread over several parts
        let n = 3 * super::super::CHUNK + 123;
        let xs: Vec<f32> = (0..n)
            .map(|i| match i {
                5 => f32::NAN,
                4000 => f32::INFINITY,
                9000 => f32::NEG_INFINITY,
                i if i % 97 == 0 => 0.0,
                i => 1000.0 + (i as f32 * 0.37).sin() * 3.0,
            })
            .collect();
        let data: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
        let view = View::from_parts(DType::F32, &[n as u64], &[1], 0, &data).unwrap();
        let ctl = Control::none();
        let ranges = [(0u64, n as u64)];
        let (one, h1) = super::super::run_lanes::<f32>(&view, &ranges, 10, &ctl).unwrap();
        for threads in [2, 3, 5] {
            let (par, h2) = run_lanes_parallel::<f32>(&view, &ranges, 10, &ctl, threads).unwrap();
            assert_eq!(
                (
                    par.count, par.n, par.nan, par.posinf, par.neginf, par.zeros, par.min, par.max
                ),
                (
                    one.count, one.n, one.nan, one.posinf, one.neginf, one.zeros, one.min, one.max
                )
            );
            assert!((par.mean - one.mean).abs() < 1e-9 * one.mean.abs());
            assert!((par.m2 - one.m2).abs() < 1e-9 * one.m2);
            assert_eq!(h1.as_ref().unwrap().counts, h2.unwrap().counts);
        }
        // and through the public entry point
        let s = view.stats(&StatsOptions { bins: 10, sample: None });
        assert_eq!(s.nan, 1);
    }
}
