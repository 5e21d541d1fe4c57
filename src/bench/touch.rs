//! The touch: reading every byte of a load (a wrapping sum of little-endian words, so the optimiser
//! cannot skip it and every method of the same data reports the same checksum).

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

pub(super) fn sum_views(views: &[&[u8]]) -> u64 {
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
}
