//! Speedups: each row's time against its baseline (`pickle-eager`, or `pickle-slice` for ranks) of
//! the same device, cache, touch and memory, and the grouping of a run's files by content so that
//! only files holding the same tensors are compared.

use super::plan::Target;
use super::{Memory, Method};
use crate::report::{BenchResult, Speedup};

/// Each row against the baseline of its group: `pickle-eager` for whole loads, `pickle-slice` of
/// the same rank for tensor-parallel rows (same device, cache and touch). Eager rows compare with
/// `pickle-eager` into the same kind of memory; every other row with `pickle-eager` into fresh
/// memory, as `torch.load` gets.
pub fn speedups(results: &[BenchResult]) -> Vec<Speedup> {
    speedups_in(results, &|_| 0)
}

/// [`speedups`] where a row's baseline must be in the same group (`group`: a checkpoint and its twin).
pub fn speedups_in(results: &[BenchResult], group: &dyn Fn(&BenchResult) -> usize) -> Vec<Speedup> {
    let fresh = Memory::Fresh.as_str();
    let baseline_of = |r: &BenchResult| {
        let name = if r.rank.is_some() {
            Method::PickleSlice
        } else {
            Method::PickleEager
        };
        let memory = r.memory.as_deref().unwrap_or(fresh);
        results.iter().find(|b| {
            b.method == name.as_str()
                && group(b) == group(r)
                && (b.device.as_str(), b.cache.as_str(), b.touched, b.rank)
                    == (r.device.as_str(), r.cache.as_str(), r.touched, r.rank)
                && b.memory.as_deref().is_none_or(|m| m == memory)
        })
    };
    results
        .iter()
        .filter_map(|r| {
            let b = baseline_of(r)?;
            (b.method != r.method && r.median_s > 0.0).then(|| Speedup {
                checkpoint: r.checkpoint.clone(),
                device: r.device.clone(),
                cache: r.cache.clone(),
                touched: r.touched,
                baseline: b.method.clone(),
                method: r.method.clone(),
                rank: r.rank,
                ratio: b.median_s / r.median_s,
                memory: r.memory.clone(),
                baseline_memory: b.memory.clone(),
            })
        })
        .collect()
}

/// Without twins, the targets that hold the same tensors (parameters and unique bytes: one model in
/// two formats) form a group, and a row's speedup is only against a baseline of its own group: a
/// folder's `adapter.safetensors` is not faster than its unrelated `extra.bin`. The notes name the
/// targets that have no other format to compare with.
pub(super) fn regroup_by_content(targets: &[Target], group_of: &mut [usize], caveats: &mut Vec<String>) {
    let first = |i: usize| {
        targets
            .iter()
            .position(|t| t.content == targets[i].content)
            .unwrap_or(i)
    };
    for (i, g) in group_of.iter_mut().enumerate() {
        *g = first(i);
    }
    if targets.iter().all(|t| t.kind == targets[0].kind) {
        return;
    }
    for (i, t) in targets.iter().enumerate() {
        let partner = targets
            .iter()
            .enumerate()
            .any(|(j, u)| j != i && group_of[j] == group_of[i] && u.kind != t.kind);
        if !partner {
            caveats.push(format!(
                "{} holds different tensors from every file in another format here ({} parameters, {}): \
                 it has no speedup against them (bench it on its own: bench then writes its twin in the other \
                 format).",
                crate::text::path(&t.root),
                crate::text::count(t.content.0),
                crate::text::bytes(t.content.1),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn speedups_compare_like_with_like() {
        let r = sample::report();
        let s = speedups(&r.results);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].method, "safetensors-mmap");
        assert!(!s[0].touched && s[1].touched);
        assert!((s[0].ratio - 0.1 / 0.0002).abs() < 1e-6);
        assert!((s[1].ratio - 3.0).abs() < 1e-9);
    }
}
