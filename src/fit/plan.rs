//! Placing layers on devices: llama.cpp's way (the host keeps the first layers, the GPUs take the
//! last `-ngl` ones split in order by `--tensor-split`), or for a MoE model that does not fit, every
//! layer on the GPUs with the routed experts of the first layers kept on the host (`-ot`).
//!
//! A device is filled greedily in order, which decides exactly whether a sequence of layers can be
//! cut into contiguous runs that fit the devices; no device is ever given more than its usable
//! budget (its budget less the margin).

/// One unit of placement: a layer (its weights without host-kept experts, plus its KV cache) or
/// the non-layer weights (`out`: embeddings, head, norms), which llama.cpp offloads last.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    /// Bytes it needs on a device.
    pub bytes: u64,
    /// The non-layer unit (the output head: the logits buffer goes with it).
    pub out: bool,
}

/// Per-device buffers: activations for any device that runs part of the model, logits for the
/// device with the head.
#[derive(Debug, Clone, Copy, Default)]
pub struct Buffers {
    /// Activation buffer of one device.
    pub act: u64,
    /// Logits buffer.
    pub logits: u64,
}

/// Where each unit went and what each device holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packing {
    /// Device index of each unit.
    pub device: Vec<usize>,
    /// Bytes on each device.
    pub used: Vec<u64>,
}

/// Fill `usable` budgets in order with `units`; `None` when they do not fit.
pub fn pack(units: &[Unit], usable: &[u64], buf: Buffers) -> Option<Packing> {
    let mut p = Packing {
        device: Vec::with_capacity(units.len()),
        used: vec![0; usable.len()],
    };
    let mut d = 0;
    for u in units {
        loop {
            let cap = *usable.get(d)?;
            let first = if p.used[d] == 0 { buf.act } else { 0 };
            let need = u
                .bytes
                .checked_add(first)?
                .checked_add(if u.out { buf.logits } else { 0 })?;
            if p.used[d].checked_add(need).is_some_and(|t| t <= cap) {
                p.used[d] += need;
                p.device.push(d);
                break;
            }
            d += 1;
        }
    }
    Some(p)
}

/// The longest suffix of `units` that fits `usable`: how many units, and how.
pub fn longest_suffix(units: &[Unit], usable: &[u64], buf: Buffers) -> (usize, Packing) {
    for k in (1..=units.len()).rev() {
        if let Some(p) = pack(&units[units.len() - k..], usable, buf) {
            return (k, p);
        }
    }
    (
        0,
        Packing {
            device: Vec::new(),
            used: vec![0; usable.len()],
        },
    )
}

/// Largest `c` in `1..=cap` with `ok(c)` (assumed monotonic: more context never needs less), 0 if none.
pub fn largest(cap: u64, ok: impl Fn(u64) -> bool) -> u64 {
    if ok(cap) {
        return cap;
    }
    let (mut lo, mut hi) = (0u64, cap);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(b: &[u64]) -> Vec<Unit> {
        b.iter().map(|&bytes| Unit { bytes, out: false }).collect()
    }

    #[test]
    fn fills_in_order_and_never_exceeds() {
        let u = units(&[10, 10, 10, 10]);
        let p = pack(&u, &[25, 25], Buffers::default()).unwrap();
        assert_eq!(p.device, [0, 0, 1, 1]);
        assert_eq!(p.used, [20, 20]);
        assert!(pack(&u, &[25, 15], Buffers::default()).is_none());
        let (k, p) = longest_suffix(&u, &[25, 15], Buffers::default());
        assert_eq!(k, 3);
        assert_eq!(p.used, [20, 10]);
        let buf = Buffers { act: 5, logits: 3 };
        let mut u = units(&[10, 10]);
        u.push(Unit { bytes: 1, out: true });
        let p = pack(&u, &[25, 9], buf).unwrap();
        assert_eq!(p.device, [0, 0, 1]);
        assert_eq!(p.used, [25, 9]);
    }

    proptest::proptest! {
        #[test]
        fn packing_respects_every_budget(
            bytes in proptest::collection::vec(0u64..100, 0..20),
            caps in proptest::collection::vec(0u64..400, 0..4),
            act in 0u64..20,
        ) {
            let u = units(&bytes);
            let (_, p) = longest_suffix(&u, &caps, Buffers { act, logits: 0 });
            for (used, cap) in p.used.iter().zip(&caps) {
                proptest::prop_assert!(used <= cap);
            }
        }
    }
}
