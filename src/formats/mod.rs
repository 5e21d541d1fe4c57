//! One reader per format, each turning bytes into the [`crate::model`] types: safetensors (and its
//! sharded index, read by [`crate::checkpoint::layout`]), and the torch pickle formats (zip, legacy)
//! through the restricted pickle machine, and GGUF (llama.cpp). [`sniff`] names a file's format from its first bytes. A
//! reader imports the model and the byte sources, never another reader or anything above it.

pub mod gguf;
pub mod pickle;
pub mod safetensors;
pub mod sniff;
