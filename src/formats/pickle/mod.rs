//! Reading Python pickles as data, never as code: a restricted pickle machine, the `torch.save`
//! containers (zip and legacy). The safety scanner built on it lives in [`crate::scan`].

pub mod allowlist;
pub mod arrays;
mod arrays_dtype;
mod collect;
pub mod dangerous;
mod fast;
pub mod interp;
pub mod legacy;
pub mod literal;
pub mod machine;
pub(crate) mod memo;
pub mod npy;
pub mod numpy;
pub mod ops;
pub mod pyliteral;
mod rebuild;
pub mod torch;
pub mod value;
pub mod zip;
