//! Named limits of the GGUF reader. ggml's own reader stops at 1 GiB strings and 2^30 array items;
//! these are lower where real files allow, so a corrupt count fails fast with a clear message
//! instead of a long walk or a large allocation.

/// Most metadata key/value pairs (real files hold 20 to a few hundred).
pub const MAX_KV_COUNT: u64 = 1 << 16;
/// Most tensors in one file (real files hold at most a few tens of thousands).
pub const MAX_TENSOR_COUNT: u64 = 1 << 20;
/// Longest string, in bytes (the largest real ones are embedded `tokenizer.json` files of ~20 MB).
pub const MAX_STRING_LEN: u64 = 256 << 20;
/// Longest tensor name, in bytes (ggml allows 63).
pub const MAX_NAME_LEN: u64 = 4096;
/// Most items in one array (vocabularies and merge lists hold under a million).
pub const MAX_ARRAY_LEN: u64 = 1 << 26;
/// Deepest nesting of arrays inside arrays.
pub const MAX_ARRAY_DEPTH: usize = 4;
/// Most dimensions of a tensor (ggml's `GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;
/// Largest alignment accepted (ggml's default is 32).
pub const MAX_ALIGNMENT: u64 = 1 << 30;
/// Array items kept for the summary shown by `inspect`.
pub const ARRAY_PREVIEW: usize = 8;
/// Strings longer than this are summarised in [`crate::model::Checkpoint::metadata`] (chat templates
/// are far shorter and stay whole); `show PATH KEY` prints any value in full.
pub const MAX_METADATA_STRING: usize = 1 << 20;
