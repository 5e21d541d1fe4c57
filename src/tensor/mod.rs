//! Tensor values: decoding every dtype ([`decode`]), formatting ([`mod@format`]), statistics and histograms
//! ([`stats`]), over a [`View`] — a checked strided view into the bytes of a storage.
//!
//! Only what is asked for is read: [`View::first`] decodes the first `n` elements in logical
//! (row-major) order and touches only their bytes, whatever the size of the tensor; [`View::stats`]
//! streams over the data in runs, decoding a few thousand elements at a time into a small buffer.
//!
//! ```
//! use tensorscope::checkpoint::DType;
//! use tensorscope::tensor::{View, Value};
//! // a 2x2 F32 tensor, transposed (strides [1, 2])
//! let data: Vec<u8> = [1f32, 2.0, 3.0, 4.0].iter().flat_map(|x| x.to_le_bytes()).collect();
//! let view = View::from_parts(DType::F32, &[2, 2], &[1, 2], 0, &data).unwrap();
//! assert_eq!(view.first(4), [1.0, 3.0, 2.0, 4.0].map(Value::Float));
//! ```

pub mod decode;
pub mod equal;
pub mod exact_sum;
pub mod format;
pub mod ggml;
pub mod layout;
pub mod minifloat;
pub mod read;
pub mod runs;
pub mod stats;

pub use decode::Value;
pub use runs::{Run, Runs};
pub use stats::{Cancelled, Control, Histogram, Stats, StatsOptions};

use crate::checkpoint::{Checkpoint, DType, TensorInfo};
use crate::{Error, Result};

/// A tensor's elements: dtype, shape, strides and offset (in elements) over the bytes of its storage,
/// checked so that every element lies inside those bytes.
#[derive(Debug, Clone)]
pub struct View<'a> {
    dtype: DType,
    shape: Vec<u64>,
    strides: Vec<u64>,
    offset: u64,
    data: &'a [u8],
    numel: u64,
}

/// One dimension of a `--slice` spec: `i`, `a:b`, `a:b:step` or `:` (Python rules: negative
/// indices count from the end, bounds are clamped; the step must be positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceDim {
    /// A single index: the dimension is dropped.
    Index(i64),
    /// A range with optional bounds and a step.
    Range(Option<i64>, Option<i64>, u64),
}

/// Parse a slice spec such as `0:2,:` or `-1,::2`; fewer entries than dimensions leave the rest whole.
pub fn parse_slice(spec: &str) -> Result<Vec<SliceDim>> {
    let bad = |m: &str| Error::Usage(format!("bad slice {:?}: {m}", crate::text::escape(spec)));
    let int = |s: &str| -> Result<Option<i64>> {
        let s = s.trim();
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse()
                .map(Some)
                .map_err(|_| bad(&format!("{s:?} is not an integer")))
        }
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        let pieces: Vec<&str> = part.split(':').collect();
        out.push(match pieces.as_slice() {
            [i] => SliceDim::Index(int(i)?.ok_or_else(|| bad("empty index"))?),
            [a, b] => SliceDim::Range(int(a)?, int(b)?, 1),
            [a, b, s] => {
                let step = int(s)?.unwrap_or(1);
                if step <= 0 {
                    return Err(bad("the step must be positive"));
                }
                SliceDim::Range(int(a)?, int(b)?, step as u64)
            }
            _ => return Err(bad("too many ':'")),
        });
    }
    Ok(out)
}

impl<'a> View<'a> {
    /// The view of tensor `t` of checkpoint `ck`.
    pub fn of(ck: &'a Checkpoint, t: &TensorInfo) -> Result<Self> {
        let data = ck.storage_bytes(t)?;
        View::from_parts(t.dtype, &t.shape, &t.strides, t.offset, data).map_err(|m| {
            Error::format(
                ck.file_path(t.file),
                format!("tensor {}: {m}", crate::text::escape(&t.name)),
            )
        })
    }

    /// A view over `data` (the storage), checked: every element must lie inside `data`.
    pub fn from_parts(
        dtype: DType,
        shape: &[u64],
        strides: &[u64],
        offset: u64,
        data: &'a [u8],
    ) -> std::result::Result<Self, String> {
        if decode::lanes(dtype).is_none() {
            if let DType::Ggml(g) = dtype
                && let Some(why) = ggml::why_no_values(g)
            {
                return Err(format!("no values: {why}"));
            }
            return Err(format!("dtype {dtype} cannot be decoded"));
        }
        if shape.len() != strides.len() {
            return Err(format!("{} strides for {} dimensions", strides.len(), shape.len()));
        }
        let numel = shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or("shape overflows")?;
        let view = View {
            dtype,
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            offset,
            data,
            numel,
        };
        view.check()?;
        Ok(view)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.numel == 0 {
            return Ok(());
        }
        let mut last = self.offset;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            last = (d - 1)
                .checked_mul(s)
                .and_then(|x| x.checked_add(last))
                .ok_or("shape and strides overflow")?;
        }
        let need = last
            .checked_add(1)
            .and_then(|e| self.dtype.bytes_for(e))
            .ok_or("shape and strides overflow")?;
        if need > self.data.len() as u64 {
            return Err(format!(
                "needs {need} bytes of its storage but the storage holds {}",
                self.data.len()
            ));
        }
        Ok(())
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Shape (empty for a 0-d tensor).
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    /// Number of elements.
    pub fn numel(&self) -> u64 {
        self.numel
    }

    /// The runs of storage elements covering logical elements `start..start + count` (clamped to the tensor).
    pub fn runs(&self, start: u64, count: u64) -> Runs {
        Runs::new(&self.shape, &self.strides, self.offset, start, count)
    }

    /// The first `n` elements in logical (row-major) order; reads only their bytes.
    pub fn first(&self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n.min(self.numel as usize));
        for run in self.runs(0, n as u64) {
            for i in 0..run.len {
                // the view was checked at construction, so every element is inside the storage
                match decode::element(self.dtype, self.data, run.start + i * run.step) {
                    Some(v) => out.push(v),
                    None => return out,
                }
            }
        }
        out
    }

    /// Statistics (and a histogram when `opts.bins > 0`) over every element, or a sample of them.
    ///
    /// A view that repeats elements (a zero stride, as `expand` makes) is computed over its distinct
    /// elements, each weighted by how often the view shows it: exact, and as fast as the storage is small.
    pub fn stats(&self, opts: &StatsOptions) -> Stats {
        match stats::compute(self, opts, &Control::none()) {
            Ok(s) => s,
            Err(Cancelled) => unreachable!("statistics without a cancel flag are never cancelled"),
        }
    }

    /// [`View::stats`] that can be cancelled and reports progress: for a worker thread of a front end.
    ///
    /// The flag is checked every few thousand elements, so `Err(Cancelled)` comes within milliseconds
    /// of setting it; the callback hears `(done, total)` elements of work (every pass counted).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    /// use tensorscope::checkpoint::DType;
    /// use tensorscope::tensor::{Cancelled, Control, StatsOptions, View};
    ///
    /// // one stored value, expanded (stride 0) to 2^40 elements: exact statistics, instantly
    /// let data = 2.5f32.to_le_bytes();
    /// let view = View::from_parts(DType::F32, &[1 << 20, 1 << 20], &[0, 0], 0, &data).unwrap();
    /// let cancel = AtomicBool::new(false);
    /// let seen = AtomicU64::new(0);
    /// let report = |done: u64, _total: u64| seen.store(done, Ordering::Relaxed);
    /// let ctl = Control::none().with_cancel(&cancel).with_progress(&report);
    /// let s = view.stats_with(&StatsOptions { bins: 4, sample: None }, &ctl).unwrap();
    /// assert_eq!((s.count, s.mean, s.std), (1 << 40, Some(2.5), Some(0.0)));
    ///
    /// // a UI sets the flag (from another thread) to stop a long computation
    /// cancel.store(true, Ordering::Relaxed);
    /// let data = vec![0u8; 4 << 20];
    /// let big = View::from_parts(DType::F32, &[1 << 20], &[1], 0, &data).unwrap();
    /// let ctl = Control::none().with_cancel(&cancel);
    /// assert_eq!(big.stats_with(&StatsOptions::default(), &ctl), Err(Cancelled));
    /// ```
    pub fn stats_with(&self, opts: &StatsOptions, ctl: &Control) -> std::result::Result<Stats, Cancelled> {
        stats::compute(self, opts, ctl)
    }

    /// The sub-view selected by `dims` (see [`parse_slice`]).
    pub fn slice(&self, dims: &[SliceDim]) -> Result<View<'a>> {
        if dims.len() > self.shape.len() {
            return Err(Error::Usage(format!(
                "slice has {} entries for {} dimensions",
                dims.len(),
                self.shape.len()
            )));
        }
        let (mut shape, mut strides, mut offset) = (Vec::new(), Vec::new(), self.offset);
        let overflow = || Error::Usage("slice offset overflows".into());
        for (axis, (&d, &s)) in self.shape.iter().zip(&self.strides).enumerate() {
            let Some(&dim) = dims.get(axis) else {
                shape.push(d);
                strides.push(s);
                continue;
            };
            let di = i64::try_from(d)
                .map_err(|_| Error::Usage(format!("dimension {axis} of size {d} is too large to slice")))?;
            match dim {
                SliceDim::Index(i) => {
                    let j = if i < 0 { i + di } else { i };
                    if j < 0 || j >= di {
                        return Err(Error::Usage(format!(
                            "index {i} is out of range for dimension {axis} of size {d}"
                        )));
                    }
                    offset = (j as u64)
                        .checked_mul(s)
                        .and_then(|x| x.checked_add(offset))
                        .ok_or_else(overflow)?;
                }
                SliceDim::Range(a, b, step) => {
                    let clamp = |v: i64| if v < 0 { (v + di).max(0) } else { v.min(di) };
                    let lo = a.map_or(0, clamp);
                    let hi = b.map_or(di, clamp).max(lo);
                    let len = (hi - lo) as u64;
                    shape.push(len.div_ceil(step));
                    strides.push(s.checked_mul(step).ok_or_else(overflow)?);
                    if len > 0 {
                        offset = (lo as u64)
                            .checked_mul(s)
                            .and_then(|x| x.checked_add(offset))
                            .ok_or_else(overflow)?;
                    }
                }
            }
        }
        View::from_parts(self.dtype, &shape, &strides, offset, self.data).map_err(Error::Usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_bytes(xs: &[f32]) -> Vec<u8> {
        xs.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn strided_and_offset_views_read_in_logical_order() {
        let data = f32_bytes(&(0..12).map(|x| x as f32).collect::<Vec<_>>());
        // rows 1..3 of a 3x4 tensor, every other column: offset 4, strides [4, 2]
        let v = View::from_parts(DType::F32, &[2, 2], &[4, 2], 4, &data).unwrap();
        assert_eq!(v.first(10), [4.0, 6.0, 8.0, 10.0].map(Value::Float));
        assert_eq!(v.first(3).len(), 3);
    }

    #[test]
    fn views_outside_the_storage_are_refused() {
        let data = f32_bytes(&[0.0; 4]);
        assert!(View::from_parts(DType::F32, &[2, 2], &[2, 1], 1, &data).is_err());
        assert!(View::from_parts(DType::F32, &[5], &[1], 0, &data).is_err());
        assert!(View::from_parts(DType::F32, &[2], &[u64::MAX], 0, &data).is_err());
        assert!(View::from_parts(DType::F32, &[2, 2], &[1], 0, &data).is_err());
        assert!(View::from_parts(DType::Torch { name: "qint8", bits: 8 }, &[1], &[1], 0, &data).is_err());
        // empty and 0-d tensors
        assert_eq!(
            View::from_parts(DType::F32, &[0, 7], &[7, 1], 0, &[]).unwrap().first(5),
            []
        );
        assert_eq!(
            View::from_parts(DType::F32, &[], &[], 3, &data).unwrap().first(5),
            [Value::Float(0.0)]
        );
    }

    #[test]
    fn slices_follow_python_rules() {
        let data = f32_bytes(&(0..12).map(|x| x as f32).collect::<Vec<_>>());
        let v = View::from_parts(DType::F32, &[3, 4], &[4, 1], 0, &data).unwrap();
        let s = v.slice(&parse_slice("1:,::2").unwrap()).unwrap();
        assert_eq!(s.shape(), [2, 2]);
        assert_eq!(s.first(10), [4.0, 6.0, 8.0, 10.0].map(Value::Float));
        let s = v.slice(&parse_slice("-1").unwrap()).unwrap();
        assert_eq!(s.shape(), [4]);
        assert_eq!(s.first(1), [Value::Float(8.0)]);
        let s = v.slice(&parse_slice("5:9,1").unwrap()).unwrap();
        assert_eq!(s.shape(), [0]);
        assert!(v.slice(&parse_slice("3").unwrap()).is_err());
        assert!(v.slice(&parse_slice("0,0,0").unwrap()).is_err());
        assert!(parse_slice("1:2:0").is_err());
        assert!(parse_slice("a").is_err());
        assert!(parse_slice("1:2:3:4").is_err());
    }

    #[test]
    fn sub_byte_views_at_odd_offsets() {
        // F4 codes 1..=6 packed low nibble first: 0x21 0x43 0x65
        let data = [0x21, 0x43, 0x65];
        let v = View::from_parts(DType::F4, &[3], &[2], 1, &data).unwrap();
        // elements 1, 3, 5 -> codes 2, 4, 6 -> 1.0, 2.0, 4.0
        assert_eq!(v.first(3), [1.0, 2.0, 4.0].map(Value::Float));
        assert!(View::from_parts(DType::F4, &[7], &[1], 0, &data).is_err());
    }
}
