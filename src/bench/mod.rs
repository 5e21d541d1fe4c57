//! The benchmark engine (work in progress).

pub mod synth;
pub mod torchzip;
