//! A small model of CPython's unpickler, written apart from the scanner's walker, for the
//! `scan_differential` fuzz target and its corpus replay in `tests/fuzz_corpus.rs`: an opcode
//! subset, CPython's `INT` text rules, and where the next `pickle.load` of a stream starts (right
//! after STOP for a buffered file from `open()`, at the end of the frame holding STOP for an
//! `io.BytesIO`). It stops at any opcode outside its subset, so it can miss globals CPython would
//! reach but never invents one.

#[derive(Clone, Debug)]
enum V {
    Str(String),
    Other,
}

/// One `pickle.load` from `pos`: the globals it reaches, and where the next load starts for a
/// file (after STOP) and for an in-memory stream (at the end of the frame holding STOP).
pub fn load(d: &[u8], mut pos: usize, reached: &mut Vec<(String, String)>) -> Option<(usize, usize)> {
    let mut stack: Vec<V> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: std::collections::HashMap<u64, V> = std::collections::HashMap::new();
    let mut frame_end = 0usize;
    let line = |pos: usize| -> Option<(&[u8], usize)> {
        let rest = d.get(pos..)?;
        let n = rest.iter().position(|&b| b == b'\n')?;
        Some((&rest[..n], pos + n + 1))
    };
    for _ in 0..10_000 {
        let op = *d.get(pos)?;
        pos += 1;
        match op {
            0x80 => pos += 1, // PROTO
            0x95 => {
                let n = u64::from_le_bytes(d.get(pos..pos + 8)?.try_into().ok()?);
                pos += 8;
                frame_end = pos.checked_add(usize::try_from(n).ok()?)?;
                if frame_end > d.len() {
                    return None;
                }
            }
            b'.' => {
                stack.pop()?;
                return Some((pos, frame_end.max(pos)));
            }
            b'(' => marks.push(stack.len()),
            b'0' => {
                stack.pop()?;
            }
            b'N' => stack.push(V::Other),
            b'I' => {
                let (l, next) = line(pos)?;
                pos = next;
                let c = l.split(|&b| b == 0).next()?;
                let t = std::str::from_utf8(c).ok()?;
                // strtol(base 0) consuming everything, or int(text, 0): a small accepted subset
                let body = t.strip_prefix(['-', '+']).unwrap_or(t);
                let ok = if let Some(h) = body.strip_prefix("0x") {
                    !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit())
                } else {
                    !body.is_empty()
                        && body.bytes().all(|b| b.is_ascii_digit())
                        && (body.len() == 1 || !body.starts_with('0') || body.bytes().all(|b| b <= b'7'))
                };
                if !ok || body.len() > 15 {
                    return None;
                }
                stack.push(V::Other);
            }
            b'K' => {
                pos += 1;
                d.get(pos - 1)?;
                stack.push(V::Other);
            }
            0x8c => {
                let n = usize::from(*d.get(pos)?);
                let s = std::str::from_utf8(d.get(pos + 1..pos + 1 + n)?).ok()?;
                pos += 1 + n;
                stack.push(V::Str(s.to_owned()));
            }
            b'X' => {
                let n = u32::from_le_bytes(d.get(pos..pos + 4)?.try_into().ok()?) as usize;
                let s = std::str::from_utf8(d.get(pos + 4..pos + 4 + n)?).ok()?;
                pos += 4 + n;
                stack.push(V::Str(s.to_owned()));
            }
            b'c' => {
                let (m, next) = line(pos)?;
                let (n, next) = line(next)?;
                pos = next;
                let m = std::str::from_utf8(m).ok()?.to_owned();
                let n = std::str::from_utf8(n).ok()?.to_owned();
                reached.push((m, n));
                stack.push(V::Other);
            }
            0x93 => {
                let (V::Str(n), V::Str(m)) = (stack.pop()?, stack.pop()?) else {
                    return None;
                };
                reached.push((m, n));
                stack.push(V::Other);
            }
            0x94 => {
                let top = stack.last()?.clone();
                memo.insert(memo.len() as u64, top);
            }
            b'q' => {
                let k = u64::from(*d.get(pos)?);
                pos += 1;
                memo.insert(k, stack.last()?.clone());
            }
            b'h' => {
                let k = u64::from(*d.get(pos)?);
                pos += 1;
                stack.push(memo.get(&k)?.clone());
            }
            b')' => stack.push(V::Other),
            0x85 => {
                stack.pop()?;
                stack.push(V::Other);
            }
            0x86 => {
                stack.pop()?;
                stack.pop()?;
                stack.push(V::Other);
            }
            b't' => {
                let m = marks.pop()?;
                if m > stack.len() {
                    return None;
                }
                stack.truncate(m);
                stack.push(V::Other);
            }
            b'R' => {
                stack.pop()?;
                stack.pop()?;
                stack.push(V::Other);
            }
            _ => return None,
        }
    }
    None
}

/// Every importable global CPython reaches in `data`, loading pickle after pickle both as a file
/// and as an in-memory stream.
pub fn reached_globals(data: &[u8]) -> Vec<(String, String)> {
    let mut reached = Vec::new();
    for in_memory in [false, true] {
        let mut pos = 0;
        for _ in 0..8 {
            match load(data, pos, &mut reached) {
                Some((after_stop, frame_end)) => {
                    pos = if in_memory { frame_end } else { after_stop };
                    if pos >= data.len() {
                        break;
                    }
                }
                None => break,
            }
        }
    }
    // a name Python cannot import does nothing (find_class raises)
    let importable = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|p| {
                p.chars().next().is_some_and(|c| c == '_' || c.is_alphabetic())
                    && p.chars().all(|c| c == '_' || c.is_alphanumeric())
            })
    };
    reached.retain(|(m, n)| importable(m) && importable(n));
    reached
}
