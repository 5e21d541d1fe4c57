//! tensorscope: look inside model checkpoints (safetensors and PyTorch pickles) without executing
//! them, prove they are safe, convert them, and measure how fast they load.
//!
//! The core knows no terminal: front ends (`cli`, `tui` in the binary) only call it. Its floors, from
//! the ground up: [`text`], [`error`] and [`report`] (report types and their writers); [`model`] (the
//! types every reader builds); [`source`] (where bytes come from); [`formats`] (one reader per
//! format); [`remote`] (range planning); [`checkpoint`] (`open` picks the files and the reader),
//! [`scan`] (the safety scanner), [`tensor`] (values) and [`tree`]; then [`convert`], [`diff`] and
//! [`bench`](mod@bench). A module imports only floors below its own: ARCHITECTURE.md at the top of
//! the repository says what each holds, and `tests/architecture.rs` checks it.
//!
//! ```no_run
//! let ck = tensorscope::checkpoint::open("samples/gpt2-tiny.safetensors")?;
//! for t in &ck.tensors {
//!     println!("{} {} {:?}", t.name, t.dtype, t.shape);
//! }
//! # Ok::<(), tensorscope::Error>(())
//! ```

pub mod bench;
pub mod bom;
pub mod checkpoint;
pub mod convert;
pub mod diff;
pub mod error;
pub mod fit;
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
