//! tensorscope: look inside model checkpoints (safetensors and PyTorch pickles) without executing
//! them, prove they are safe, convert them, and measure how fast they load.
//!
//! The core knows no terminal: front ends (`cli`, `tui` in the binary) only call it. Its floors, from
//! the ground up: [`model`] and [`source`] (the types every reader builds, and where bytes come from);
//! [`formats`] (one reader per format); [`checkpoint`] (`open` picks the files and the reader) and
//! [`scan`] (the safety scanner); then tensor values, convert, diff, bench and reports.
//!
//! ```no_run
//! let ck = tensorscope::checkpoint::open("samples/gpt2-tiny.safetensors")?;
//! for t in &ck.tensors {
//!     println!("{} {} {:?}", t.name, t.dtype, t.shape);
//! }
//! # Ok::<(), tensorscope::Error>(())
//! ```

pub mod bench;
pub mod checkpoint;
pub mod convert;
pub mod diff;
pub mod error;
pub mod formats;
pub mod model;
pub mod remote;
pub mod report;
pub mod scan;
pub mod source;
pub mod tensor;
pub mod text;
pub mod tree;
pub mod verify;

pub use error::{Error, Result};
