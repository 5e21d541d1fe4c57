//! A strided view as a sequence of runs: stretches of elements whose storage indices are evenly spaced.
//!
//! Trailing dimensions that nest evenly are merged, so a contiguous tensor is one run, a row slice of a
//! matrix is one run per row, and a transposed matrix is one run (with a stride) per row of the result.
//! Runs are produced lazily from an odometer over the remaining dimensions: memory is O(ndim) and only
//! the runs that cover the requested logical range are visited.

/// `len` elements of the storage at indices `start, start + step, …` (in elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Storage index of the first element.
    pub start: u64,
    /// Number of elements.
    pub len: u64,
    /// Distance between consecutive elements, in elements.
    pub step: u64,
}

/// Iterator over the [`Run`]s that cover a logical range of a view, in row-major order.
#[derive(Debug, Clone)]
pub struct Runs {
    outer_shape: Vec<u64>,
    outer_strides: Vec<u64>,
    index: Vec<u64>,
    offset: u64,
    run_len: u64,
    step: u64,
    /// Position inside the current run.
    within: u64,
    remaining: u64,
}

impl Runs {
    /// Runs of logical elements `start..start + count` (clamped to the view) of the view with `shape`,
    /// `strides` and `offset`. The caller has checked that every element index fits in `u64`.
    pub fn new(shape: &[u64], strides: &[u64], offset: u64, start: u64, count: u64) -> Runs {
        let numel = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).unwrap_or(0);
        let remaining = count.min(numel.saturating_sub(start));
        // size-1 dimensions never move the index
        let dims: Vec<(u64, u64)> = shape
            .iter()
            .copied()
            .zip(strides.iter().copied())
            .filter(|&(d, _)| d != 1)
            .collect();
        let (mut run_len, mut step, mut outer) = (1u64, 1u64, dims.len());
        if let Some(&(d, s)) = dims.last() {
            (run_len, step, outer) = (d, s, dims.len() - 1);
            while outer > 0 {
                let (d, s) = dims[outer - 1];
                match (run_len.checked_mul(step), run_len.checked_mul(d)) {
                    (Some(span), Some(len)) if span == s => {
                        run_len = len;
                        outer -= 1;
                    }
                    _ => break,
                }
            }
        }
        let outer_shape: Vec<u64> = dims[..outer].iter().map(|&(d, _)| d).collect();
        let outer_strides = dims[..outer].iter().map(|&(_, s)| s).collect();
        // unravel the starting position
        let mut q = start.checked_div(run_len).unwrap_or(0);
        let mut index = vec![0u64; outer];
        for (i, &d) in outer_shape.iter().enumerate().rev() {
            if d > 0 {
                index[i] = q % d;
                q /= d;
            }
        }
        let within = start.checked_rem(run_len).unwrap_or(0);
        Runs {
            outer_shape,
            outer_strides,
            index,
            offset,
            run_len,
            step,
            within,
            remaining,
        }
    }
}

impl Iterator for Runs {
    type Item = Run;

    fn next(&mut self) -> Option<Run> {
        if self.remaining == 0 {
            return None;
        }
        let mut base = self.offset;
        for (&i, &s) in self.index.iter().zip(&self.outer_strides) {
            base = base.checked_add(i.checked_mul(s)?)?;
        }
        let len = (self.run_len - self.within).min(self.remaining);
        let run = Run {
            start: base.checked_add(self.within.checked_mul(self.step)?)?,
            len,
            step: self.step,
        };
        self.remaining -= len;
        self.within = 0;
        for (i, &d) in self.index.iter_mut().zip(&self.outer_shape).rev() {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
        Some(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(shape: &[u64], strides: &[u64], offset: u64, start: u64, count: u64) -> Vec<(u64, u64, u64)> {
        Runs::new(shape, strides, offset, start, count)
            .map(|r| (r.start, r.len, r.step))
            .collect()
    }

    fn elements(shape: &[u64], strides: &[u64], offset: u64, start: u64, count: u64) -> Vec<u64> {
        Runs::new(shape, strides, offset, start, count)
            .flat_map(|r| (0..r.len).map(move |i| r.start + i * r.step))
            .collect()
    }

    #[test]
    fn contiguous_is_one_run() {
        assert_eq!(runs(&[3, 4, 5], &[20, 5, 1], 7, 0, u64::MAX), [(7, 60, 1)]);
        assert_eq!(runs(&[3, 4, 5], &[20, 5, 1], 0, 13, 10), [(13, 10, 1)]);
        assert_eq!(runs(&[], &[], 9, 0, 5), [(9, 1, 1)]);
        assert_eq!(runs(&[0, 4], &[4, 1], 0, 0, 5), []);
    }

    #[test]
    fn strided_views_visit_elements_in_logical_order() {
        // transpose of a 2x3 matrix: shape [3, 2], strides [1, 3]
        assert_eq!(elements(&[3, 2], &[1, 3], 0, 0, 6), [0, 3, 1, 4, 2, 5]);
        assert_eq!(runs(&[3, 2], &[1, 3], 0, 0, 6), [(0, 2, 3), (1, 2, 3), (2, 2, 3)]);
        // start in the middle of a run
        assert_eq!(elements(&[3, 2], &[1, 3], 0, 3, 2), [4, 2]);
        // a column slice: rows of 2 out of rows of 4, offset 1
        assert_eq!(runs(&[3, 2], &[4, 1], 1, 0, 100), [(1, 2, 1), (5, 2, 1), (9, 2, 1)]);
        // size-1 dimensions with odd strides are ignored
        assert_eq!(runs(&[1, 4, 1], &[999, 1, 7], 0, 0, 4), [(0, 4, 1)]);
        // broadcast (stride 0)
        assert_eq!(elements(&[2, 3], &[0, 1], 0, 0, 6), [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn matches_a_naive_unravel() {
        let shape = [2u64, 3, 4];
        let strides = [1u64, 8, 2];
        let naive: Vec<u64> = (0..24u64)
            .map(|i| (i / 12) * strides[0] + (i / 4 % 3) * strides[1] + (i % 4) * strides[2])
            .collect();
        for start in 0..24 {
            assert_eq!(elements(&shape, &strides, 0, start, 24), naive[start as usize..]);
        }
    }
}
