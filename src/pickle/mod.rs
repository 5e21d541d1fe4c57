//! Reading Python pickles as data, never as code: a restricted pickle machine, the `torch.save`
//! containers (zip and legacy), and the safety scanner.

pub mod allowlist;
pub mod legacy;
pub mod machine;
pub mod numpy;
pub mod ops;
pub mod torch;
pub mod value;
pub mod zip;
