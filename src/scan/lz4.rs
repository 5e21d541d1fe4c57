//! LZ4 frames (joblib's `.lz4`), opened as `joblib.load` opens them when the `lz4` package is
//! installed: `lz4.frame.LZ4FrameFile` reads frame after frame until the file ends, skipping
//! skippable frames, and fails on anything else (a legacy frame, data that is no frame). The frames
//! are found here by walking their block sizes, then each is decoded on its own, so a skippable
//! frame between two frames is skipped as liblz4 skips it.

use std::io::Read;

use super::decoded::{Stopped, append, opened};

/// The magic number of an LZ4 frame, little-endian.
const MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

/// Every frame of `data`, concatenated, at most `limit` bytes.
pub fn unlz4(data: &[u8], limit: u64) -> Result<Vec<u8>, Stopped> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    opened(|out| unlz4_onto(data, limit, out))
}

/// [`unlz4`] onto `out`.
fn unlz4_onto(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut rest = data;
    let mut frames = 0usize;
    while !rest.is_empty() {
        if let Some(len) = skippable_len(rest)? {
            rest = &rest[len..];
            continue;
        }
        if !rest.starts_with(&MAGIC) {
            return Err(format!("{} bytes after the last LZ4 frame are not a frame", rest.len()));
        }
        let len = frame_len(rest)?;
        decode_frame(&rest[..len], out, limit)?;
        rest = &rest[len..];
        frames += 1;
    }
    if frames == 0 {
        return Err("no LZ4 frame".into());
    }
    Ok(())
}

/// The length of the skippable frame `d` starts with (magic `0x184D2A50`..`0x184D2A5F`), if it
/// starts with one.
fn skippable_len(d: &[u8]) -> Result<Option<usize>, String> {
    if d.len() < 4 || d[0] & 0xf0 != 0x50 || d[1..4] != [0x2a, 0x4d, 0x18] {
        return Ok(None);
    }
    let n = d.get(4..8).ok_or("an LZ4 skippable frame is truncated")?;
    let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]);
    usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(8))
        .filter(|&e| e <= d.len())
        .map(Some)
        .ok_or_else(|| "an LZ4 skippable frame runs past the end".into())
}

/// The length of the LZ4 frame `d` starts with, from its header and block sizes (LZ4 frame format
/// 1.6): the magic, FLG, BD, the optional content size and dictionary id, the header checksum,
/// blocks (a 4-byte size, the data, an optional 4-byte checksum) up to the zero end mark, and the
/// optional content checksum.
fn frame_len(d: &[u8]) -> Result<usize, String> {
    let trunc = || "an LZ4 frame is truncated".to_owned();
    let flg = *d.get(4).ok_or_else(trunc)?;
    if flg >> 6 != 1 {
        return Err(format!("an LZ4 frame has version {} (only 1 exists)", flg >> 6));
    }
    let block_checksum = flg & 0x10 != 0;
    let content_checksum = flg & 0x04 != 0;
    let mut at = 6 + if flg & 0x08 != 0 { 8 } else { 0 } + if flg & 0x01 != 0 { 4 } else { 0 } + 1;
    loop {
        let s = d.get(at..at + 4).ok_or_else(trunc)?;
        let size = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        at += 4;
        if size == 0 {
            break;
        }
        let body = usize::try_from(size & 0x7fff_ffff).map_err(|_| trunc())?;
        at = at
            .checked_add(body + if block_checksum { 4 } else { 0 })
            .filter(|&e| e <= d.len())
            .ok_or_else(trunc)?;
    }
    if content_checksum {
        at += 4;
    }
    if at > d.len() {
        return Err(trunc());
    }
    Ok(at)
}

/// xxHash32 with seed 0 of a frame descriptor (under 16 bytes): the LZ4 header checksum.
fn xxhash(data: &[u8]) -> u32 {
    const P1: u32 = 2654435761;
    const P2: u32 = 2246822519;
    const P3: u32 = 3266489917;
    const P4: u32 = 668265263;
    const P5: u32 = 374761393;
    let mut h = P5.wrapping_add(data.len() as u32);
    let mut rest = data;
    while rest.len() >= 4 {
        let k = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        h = h.wrapping_add(k.wrapping_mul(P3)).rotate_left(17).wrapping_mul(P4);
        rest = &rest[4..];
    }
    for &b in rest {
        h = h
            .wrapping_add(u32::from(b).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
    }
    h ^= h >> 15;
    h = h.wrapping_mul(P2);
    h ^= h >> 13;
    h = h.wrapping_mul(P3);
    h ^ (h >> 16)
}

/// `frame` without its dictionary id, which liblz4 skips when it is given no dictionary (as
/// `lz4.frame` gives none): FLG's bit cleared, the 4 bytes dropped, the header checksum redone.
fn without_dict_id(frame: &[u8]) -> Option<Vec<u8>> {
    let flg = *frame.get(4)?;
    let id_at = 6 + if flg & 0x08 != 0 { 8 } else { 0 };
    let mut descriptor = frame.get(4..id_at)?.to_vec();
    descriptor[0] &= !0x01;
    let rest = frame.get(id_at + 5..)?;
    let hc = (xxhash(&descriptor) >> 8) as u8;
    Some([&MAGIC[..], &descriptor, &[hc], rest].concat())
}

/// Decode the single frame `frame` onto `out`, refusing to grow it past `limit`.
///
/// The decoder's `read` gives 0 bytes for a block that opens to nothing (an empty stored block, a
/// compressed block of one `0x00`), not only at the frame's end: liblz4 reads on past such a block,
/// so the frame ends here only when all of its bytes are consumed.
fn decode_frame(frame: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), String> {
    let stripped;
    let frame = if frame.get(4).is_some_and(|flg| flg & 0x01 != 0) {
        stripped = without_dict_id(frame).ok_or("an LZ4 frame header is truncated")?;
        &stripped[..]
    } else {
        frame
    };
    let mut dec = lz4_flex::frame::FrameDecoder::new(frame);
    let mut buf = vec![0u8; 64 << 10];
    let mut left = frame.len();
    loop {
        let n = dec
            .read(&mut buf)
            .map_err(|e| format!("the LZ4 data is damaged ({e})"))?;
        append(out, &buf[..n], limit)?;
        if n == 0 {
            let now = dec.get_ref().len();
            if now == 0 {
                return Ok(());
            }
            if now == left {
                // no byte consumed and none given: the decoder is stuck before the frame's end
                return Err(format!("the LZ4 decoder stops {now} bytes before the frame's end"));
            }
            left = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lz4(plain: &[u8], checksums: bool) -> Vec<u8> {
        let info = lz4_flex::frame::FrameInfo::new()
            .block_checksums(checksums)
            .content_checksum(checksums)
            .block_size(lz4_flex::frame::BlockSize::Max64KB);
        let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
        e.write_all(plain).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn frames_are_concatenated_skippable_frames_skipped_and_bounded() {
        let one = lz4(b"abc", true);
        assert!(one.starts_with(&MAGIC));
        assert_eq!(unlz4(&one, 100).unwrap(), b"abc");
        let skip = [&[0x5f, 0x2a, 0x4d, 0x18, 3, 0, 0, 0][..], b"xyz"].concat();
        let two = [one.clone(), skip.clone(), lz4(b"def", false)].concat();
        assert_eq!(unlz4(&two, 100).unwrap(), b"abcdef");
        // many blocks, linked or not, and a frame length walked across all of them
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let z = lz4(&big, true);
        assert_eq!(frame_len(&z).unwrap(), z.len());
        assert_eq!(unlz4(&z, 1 << 20).unwrap(), big);
        assert!(unlz4(&z, 100_000).unwrap_err().why.contains("more than 100000"));
    }

    /// An empty block in the middle of a frame (stored, or compressed to one `0x00`) does not end
    /// the frame: liblz4 reads the blocks after it, and so does the scan (they hid a payload).
    #[test]
    fn empty_blocks_do_not_end_a_frame() {
        let stored = |b: &[u8]| [&(b.len() as u32 | 0x8000_0000).to_le_bytes()[..], b].concat();
        // FLG: version 1, independent blocks; BD: 64 KiB; header checksum (xxh32 >> 8 of FLG BD)
        let header = |flg: u8| {
            let bd = 0x40u8;
            let hc = (xxhash(&[flg, bd]) >> 8) as u8;
            [&MAGIC[..], &[flg, bd, hc]].concat()
        };
        for empty in [stored(b""), [&1u32.to_le_bytes()[..], &[0u8][..]].concat()] {
            let frame = [
                header(0x60),
                stored(b"ab"),
                empty,
                stored(b"cd"),
                0u32.to_le_bytes().to_vec(),
            ]
            .concat();
            assert_eq!(unlz4(&frame, 100).unwrap(), b"abcd");
        }
        // a dictionary id, which liblz4 skips when given no dictionary
        let descriptor = [0x61u8, 0x40, 7, 0, 0, 0];
        let hc = (xxhash(&descriptor) >> 8) as u8;
        let frame = [&MAGIC[..], &descriptor, &[hc], &stored(b"xy"), &0u32.to_le_bytes()].concat();
        assert_eq!(unlz4(&frame, 100).unwrap(), b"xy");
    }

    #[test]
    fn damaged_truncated_and_trailing_data_are_errors() {
        let one = lz4(b"hello world", true);
        assert!(unlz4(&one[..one.len() - 2], 100).is_err());
        assert!(
            unlz4(&[one.clone(), b"junk".to_vec()].concat(), 100)
                .unwrap_err()
                .why
                .contains("not a frame")
        );
        let mut bad = one.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff; // the content checksum
        assert!(unlz4(&bad, 100).is_err());
        let mut v2 = one.clone();
        v2[4] ^= 0xc0; // version 2
        assert!(unlz4(&v2, 100).unwrap_err().why.contains("version"));
        // a block size near 2^31 does not overflow the walk
        let huge = [&MAGIC[..], &[0x40, 0x40, 0xc0], &[0xff, 0xff, 0xff, 0x7f]].concat();
        assert!(unlz4(&huge, 100).is_err());
        assert!(unlz4(&[0x50, 0x2a, 0x4d, 0x18, 9, 0, 0, 0], 100).is_err());
        assert!(
            unlz4(&[0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0], 100)
                .unwrap_err()
                .why
                .contains("no LZ4")
        );
    }
}
