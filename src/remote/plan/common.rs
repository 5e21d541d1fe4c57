//! What the range planners of every format share: the limits on bytes fetched, the first prefix
//! fetched, a map of the sparse copy and little-endian reads.

use crate::remote::file::RemoteFile;
use crate::source::guard::GuardedMap;
use crate::{Error, Result};

/// Most pickle bytes fetched from one file (zip entries, legacy pickles, raw pickles).
pub const MAX_PICKLE_FETCH: u64 = 256 << 20;
/// Largest text file (JSON index, config) fetched whole.
pub const MAX_TEXT_FETCH: u64 = 64 << 20;
/// Largest file of no known format fetched whole (to look for pickles in it).
pub const MAX_UNKNOWN_FETCH: u64 = 1 << 20;
/// First prefix of a pickle file fetched; doubled each round (so at most twice what is needed).
pub const PICKLE_PREFIX: u64 = 16 << 10;

/// A map of the sparse copy (sees later fetches: the map is shared with the file).
pub(super) fn map(f: &RemoteFile) -> Result<GuardedMap> {
    let file = std::fs::File::open(&f.local).map_err(|e| Error::io(&f.local, e))?;
    GuardedMap::map(&file, 0, None).map_err(|e| Error::io(&f.local, e))
}

pub(super) fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}
pub(super) fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}
pub(super) fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
}
