//! Members that interleave pickles with raw data (`storages`, `tensors`), read as torch's
//! `legacy_load` reads them: a pickle, then the raw bytes it measures, and so on.

use std::collections::HashSet;

use super::super::walk::{self, Mode};
use super::super::{Collector, Severity};
use crate::formats::pickle::allowlist;

/// Bytes of raw data after one record of an interleaved member: `Err` when torch would fail there.
pub(super) type RawLen = fn(&walk::Value<'_>, &[u8]) -> Result<usize, String>;

/// `storages`: after each `(key, location, storage_type)` pickle, `_new_with_file` reads an 8-byte
/// element count and that many elements of the storage type's size.
pub(super) fn storage_raw(record: &walk::Value<'_>, rest: &[u8]) -> Result<usize, String> {
    let walk::Value::Tuple(t) = record else {
        return Err("a storage record is not a tuple".into());
    };
    let Some(walk::Value::Global(g)) = t.get(2) else {
        return Err("a storage record names no storage type".into());
    };
    let size = match allowlist::storage_dtype(&g.1) {
        Some(d) if g.0 == "torch" || g.0 == "torch.cuda" => u64::from(d.bits().div_ceil(8)),
        _ if g.1 == "UntypedStorage" => 1,
        _ => return Err(format!("unknown storage type {}.{}", g.0, g.1)),
    };
    let numel = rest
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .ok_or("a storage's element count runs past the member")?;
    numel
        .checked_mul(size)
        .and_then(|n| n.checked_add(8))
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n <= rest.len())
        .ok_or_else(|| format!("a storage of {numel} elements runs past the member"))
}

/// `tensors`: after each `(key, storage_id, type)` pickle, a 4-byte `ndim`, 4 skipped bytes, `ndim`
/// sizes and strides of 8 bytes each, and an 8-byte storage offset.
pub(super) fn tensor_raw(_: &walk::Value<'_>, rest: &[u8]) -> Result<usize, String> {
    let ndim = rest
        .get(..4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
        .ok_or("a tensor's ndim runs past the member")?;
    let ndim = usize::try_from(ndim).map_err(|_| format!("a tensor has ndim {ndim}"))?;
    let n = ndim
        .checked_mul(16)
        .and_then(|n| n.checked_add(16))
        .filter(|&n| n <= rest.len())
        .ok_or_else(|| format!("a tensor of {ndim} dimensions runs past the member"))?;
    Ok(n)
}

/// Most places where the walk of an interleaved member or a legacy file goes on from besides the
/// first (a pickle's frame may end past its STOP, or an argument run past a frame's end: see
/// [`walk::PickleInfo::next_starts`]).
pub(in crate::scan) const MAX_RESUMES: usize = 32;

/// A member of pickles interleaved with raw data, read as torch's `legacy_load` reads it: a count,
/// then per item a pickle and the raw data `raw` measures, then (for `storages`) one more pickle.
/// Whatever cannot be accounted for is suspicious and walked as pickles from there on (a payload
/// hidden behind raw bytes is still seen). Where a reader may go on from more than one place after
/// a pickle ([`walk::PickleInfo::next_starts`]), each is followed.
pub(super) fn interleaved(c: &mut Collector, name: &str, base: usize, body: &[u8], raw: RawLen) {
    let one = |c: &mut Collector, info: &walk::PickleInfo<'_>, pos: usize| {
        let s = walk::Stream {
            pickles: vec![info.clone()],
            errors: Vec::new(),
        };
        c.stream(name, base as u64, &s);
        c.plain_if_joblib(name, (base + pos) as u64, &body[pos..], info.globals.iter());
    };
    let give_up = |c: &mut Collector, pos: usize, why: String| {
        c.problem(name, Some((base + pos) as u64), Severity::Suspicious, why);
        c.walk(name, (base + pos) as u64, &body[pos..], Mode::Strict);
    };
    let (count, err) = walk::walk_one(body, 0);
    if err.is_some() {
        return c.walk(name, base as u64, body, Mode::Strict);
    }
    one(c, &count, 0);
    let walk::Value::Int(n) = count.result else {
        return give_up(
            c,
            count.end,
            "cannot step over the raw data: the count is not an integer".into(),
        );
    };
    // (where the walk goes on, records read, the last record's value when its raw data starts there)
    let mut work: Vec<(usize, i64, Option<walk::Value<'_>>)> =
        count.next_starts().into_iter().rev().map(|p| (p, 0, None)).collect();
    let mut seen = HashSet::new();
    let mut walked = HashSet::new();
    'paths: while let Some((mut pos, mut i, mut pending)) = work.pop() {
        if !seen.insert((pos, i)) {
            continue;
        }
        if seen.len() > MAX_RESUMES {
            let why = format!("more than {MAX_RESUMES} places where a reader could go on: the rest was not followed");
            c.problem(name, Some((base + pos) as u64), Severity::Suspicious, why);
            break;
        }
        loop {
            if let Some(record) = pending.take() {
                match raw(&record, &body[pos.min(body.len())..]) {
                    Ok(len) => pos += len,
                    Err(why) => {
                        if walked.insert(pos) {
                            give_up(c, pos, format!("cannot step over the raw data: {why}"));
                        }
                        continue 'paths;
                    }
                }
            }
            if i >= n {
                break;
            }
            if pos >= body.len() {
                if walked.insert(pos) {
                    give_up(c, pos, format!("fewer than {n} records"));
                }
                continue 'paths;
            }
            let (record, err) = walk::walk_one(body, pos);
            let first = walked.insert(pos);
            if err.is_some() {
                if first {
                    c.walk(name, (base + pos) as u64, &body[pos..], Mode::Strict);
                }
                continue 'paths;
            }
            if first {
                one(c, &record, pos);
            }
            i += 1;
            for alt in record.next_starts().into_iter().skip(1) {
                work.push((alt, i, Some(record.result.clone())));
            }
            pos = record.end;
            pending = Some(record.result);
        }
        if pos < body.len() && walked.insert(pos) {
            // `storages` ends with the views pickle; anything after what torch reads is walked too
            c.walk(name, (base + pos) as u64, &body[pos..], Mode::Strict);
        }
    }
}
