//! The benchmark engine: how fast do checkpoints load, measured honestly.
//!
//! A [`Config`] names the checkpoints (files on disk, or a synthetic pair written by [`synth`]),
//! the number of runs, the cache state and the ranks. [`plan::plan`] turns it into [`plan::Case`]s
//! (checkpoint × method × device × cache × touched × rank); [`runner`] times each case and returns a
//! [`crate::report::Report`], sending [`Event`]s on the way:
//!
//! ```no_run
//! use tensorscope::bench::{Config, Event, run_with};
//! let mut config = Config::synthetic(64_000_000);
//! config.runs = 3;
//! let report = run_with(&config, |e| {
//!     if let Event::CaseDone { result, .. } = e {
//!         eprintln!("{} {:.3} ms", result.method, result.median_s * 1e3);
//!     }
//! })?;
//! println!("{}", tensorscope::report::json::to_string(&report));
//! # Ok::<(), tensorscope::Error>(())
//! ```
//!
//! Each case can run in a child process (the same binary re-executed with a hidden subcommand, see
//! [`child`]) so that its peak resident memory is its own. Devices are a plan dimension: [`cpu`]
//! loads into host memory, [`gpu`] uploads the same views into wgpu buffers.

pub mod cache;
pub mod caveats;
pub mod child;
pub mod cpu;
pub mod gpu;
pub mod headline;
pub mod loading;
pub mod plan;
pub mod runner;
pub mod speedup;
pub mod strategies;
pub mod synth;
pub mod system;
pub mod torchzip;
pub mod touch;
pub mod twin;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use runner::{run_with, spawn};

use crate::report::BenchResult;

/// A way of loading a checkpoint. The names are the ones reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Map the file, parse the header, hand out views (zero copy).
    SafetensorsMmap,
    /// Read the whole file into owned memory, parse, hand out views into it.
    SafetensorsRead,
    /// Open the file and read one tensor (the middle one) into owned memory.
    SafetensorsLazyOne,
    /// What `torch.load` does: parse the pickle and copy every storage into owned memory.
    PickleEager,
    /// What `torch.load(mmap=True)` does: parse the pickle, hand out views into the mapped archive.
    PickleMmap,
    /// Rank k of N: map, parse, copy only rank k's rows of each 2-D tensor (1-D tensors whole).
    SafetensorsSlice,
    /// Rank k of N the `torch.load` way: load everything eagerly, then copy rank k's rows.
    PickleSlice,
    /// Rank k of N with `torch.load(mmap=True)`: copy rank k's rows out of the mapped archive.
    PickleMmapSlice,
    /// Reference: read the whole file into memory that is already mapped (no parsing).
    FileRead,
    /// N threads `pread` disjoint ranges of the file into owned memory, then views into it.
    SafetensorsPread,
    /// `O_DIRECT` reads (no page cache) into aligned owned memory; plain reads where refused.
    SafetensorsDirect,
    /// Map the file and `madvise(MADV_WILLNEED)` it before use (what prefetching loaders do).
    SafetensorsMmapPrefetch,
    /// A GGUF file the way llama.cpp loads it by default: map it, parse the header, views (zero copy).
    GgufMmap,
    /// A GGUF file read whole into owned memory (llama.cpp's `--no-mmap`), then views into it.
    GgufRead,
}

impl Method {
    /// Every whole-checkpoint method, in report order.
    pub const LOADS: [Method; 11] = [
        Method::SafetensorsMmap,
        Method::SafetensorsMmapPrefetch,
        Method::SafetensorsRead,
        Method::SafetensorsPread,
        Method::SafetensorsDirect,
        Method::SafetensorsLazyOne,
        Method::GgufMmap,
        Method::GgufRead,
        Method::PickleEager,
        Method::PickleMmap,
        Method::FileRead,
    ];
    /// The tensor-parallel methods of `--ranks`.
    pub const SLICES: [Method; 3] = [Method::SafetensorsSlice, Method::PickleSlice, Method::PickleMmapSlice];

    /// The report spelling (`safetensors-mmap`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::SafetensorsMmap => "safetensors-mmap",
            Method::SafetensorsRead => "safetensors-read",
            Method::SafetensorsLazyOne => "safetensors-lazy-one",
            Method::PickleEager => "pickle-eager",
            Method::PickleMmap => "pickle-mmap",
            Method::SafetensorsSlice => "safetensors-slice",
            Method::PickleSlice => "pickle-slice",
            Method::PickleMmapSlice => "pickle-mmap-slice",
            Method::FileRead => "file-read",
            Method::SafetensorsPread => "safetensors-pread",
            Method::SafetensorsDirect => "safetensors-direct",
            Method::SafetensorsMmapPrefetch => "safetensors-mmap-prefetch",
            Method::GgufMmap => "gguf-mmap",
            Method::GgufRead => "gguf-read",
        }
    }

    /// Parse a report spelling.
    pub fn parse(s: &str) -> Option<Method> {
        Method::LOADS
            .into_iter()
            .chain(Method::SLICES)
            .find(|m| m.as_str() == s)
    }

    /// Whether the method reads a pickle (`torch.save`) file rather than safetensors.
    pub fn is_pickle(self) -> bool {
        matches!(
            self,
            Method::PickleEager | Method::PickleMmap | Method::PickleSlice | Method::PickleMmapSlice
        )
    }

    /// Whether the method reads a GGUF file.
    pub fn is_gguf(self) -> bool {
        matches!(self, Method::GgufMmap | Method::GgufRead)
    }

    /// Whether the method reads a safetensors file.
    pub fn is_safetensors(self) -> bool {
        !self.is_pickle() && !self.is_gguf() && self != Method::FileRead
    }

    /// Whether loading copies the data it covers (so "touched" adds only a read of owned memory).
    pub fn copies(self) -> bool {
        !matches!(
            self,
            Method::SafetensorsMmap | Method::PickleMmap | Method::SafetensorsMmapPrefetch | Method::GgufMmap
        )
    }

    /// Whether a row of this method reads the checkpoint's bytes (and so has a rate in GB/s):
    /// copying methods do, views do only when touched or uploaded; reading one tensor is no load.
    pub fn reads(self, touched: bool, device: Device) -> bool {
        self != Method::SafetensorsLazyOne && (self.copies() || touched || device == Device::Gpu)
    }

    /// Whether the method copies the whole checkpoint into owned memory (an eager load): those
    /// run twice, into [`Memory::Fresh`] and [`Memory::Reused`] memory.
    pub fn eager(self) -> bool {
        matches!(
            self,
            Method::SafetensorsRead
                | Method::SafetensorsPread
                | Method::SafetensorsDirect
                | Method::PickleEager
                | Method::GgufRead
        )
    }

    /// One line for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Method::SafetensorsMmap => "map the file, parse the header, hand out views (zero copy)",
            Method::SafetensorsRead => "read the whole file into owned memory, then views into it",
            Method::SafetensorsLazyOne => "open the file and read one tensor",
            Method::PickleEager => "what torch.load does: parse the pickle, copy every storage",
            Method::PickleMmap => "what torch.load(mmap=True) does: parse the pickle, views into the map",
            Method::SafetensorsSlice => "rank k of N: map, copy rank k's rows of each 2-D tensor",
            Method::PickleSlice => "rank k of N the torch.load way: load everything, keep rank k's rows",
            Method::PickleMmapSlice => "rank k of N with torch.load(mmap=True): copy rank k's rows from the map",
            Method::FileRead => "reference: read the file into memory that is already mapped",
            Method::SafetensorsPread => "N threads pread disjoint ranges into owned memory, then views",
            Method::SafetensorsDirect => "O_DIRECT reads (bypassing the page cache) into aligned owned memory",
            Method::SafetensorsMmapPrefetch => "map the file, madvise(MADV_WILLNEED) it, views (zero copy)",
            Method::GgufMmap => "GGUF as llama.cpp loads it: map the file, parse the header, views (zero copy)",
            Method::GgufRead => "GGUF read whole into owned memory (llama.cpp --no-mmap), then views into it",
        }
    }
}

/// Where the loaded tensors end up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// Host memory: the load's views are the result.
    #[default]
    Cpu,
    /// The load's views uploaded into wgpu buffers, timed until the GPU has finished ([`gpu`]).
    Gpu,
}

impl Device {
    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Gpu => "gpu",
        }
    }
}

/// Where an eager load's owned memory comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Memory {
    /// New memory every run, first touched by the load (what `torch.load` and a one-shot loader get).
    Fresh,
    /// One pre-faulted arena reused by every run (what a long-lived loader keeps).
    Reused,
}

impl Memory {
    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Memory::Fresh => "fresh",
            Memory::Reused => "reused",
        }
    }
}

/// Page cache state before each timed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheState {
    /// The file was read just before (the warm-up run), its pages are in memory.
    Warm,
    /// The file's pages were dropped before each run (see [`cache`]).
    Cold,
}

impl CacheState {
    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheState::Warm => "warm",
            CacheState::Cold => "cold",
        }
    }
}

/// A synthetic checkpoint pair to write and measure.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// Requested size of the tensor data.
    pub bytes: u64,
    /// Shape family.
    pub family: synth::Family,
    /// Where to write the pair and keep it; `None` writes into a temporary folder removed afterwards.
    pub dir: Option<PathBuf>,
}

/// Where the cases run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// In this process; peak memory is not measured.
    InProcess,
    /// Each case in a child process started as `EXE __bench-child SPEC` (see [`child`]), which
    /// measures its peak resident memory.
    Child(PathBuf),
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Config {
    /// Checkpoints on disk (files or folders).
    pub paths: Vec<PathBuf>,
    /// A synthetic pair to write and measure too.
    pub synthetic: Option<Synthetic>,
    /// Timed runs per case.
    pub runs: u32,
    /// Untimed runs before them (they also warm the page cache and the owned-memory arena).
    pub warmup: u32,
    /// Drop the files' pages before each run.
    pub cold: bool,
    /// Tensor-parallel ranks (1: no slice cases).
    pub ranks: u32,
    /// Only these methods (empty: all that apply).
    pub methods: Vec<Method>,
    /// Devices to load onto.
    pub devices: Vec<Device>,
    /// Where cases run.
    pub isolation: Isolation,
    /// How GPU rows upload.
    pub upload: gpu::Upload,
    /// Threads that read every byte of a touched load (1: one after another on one thread, as
    /// earlier versions did).
    pub touch_threads: usize,
    /// Set from another thread to stop the run: the case running is abandoned (a child case is
    /// killed at once), no further case starts, and the report keeps the rows measured so far.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Write the twin of each checkpoint given in one format only ([`twin`]) into a temporary
    /// folder (removed afterwards) and measure it beside it, so that every row has a like-for-like
    /// baseline; each checkpoint is then compared with its own twin.
    pub twin: bool,
    /// Once the last run (and the ceilings) are done, drop every measured file's pages from the
    /// page cache ([`cache::drop_after`]); the report says what that freed.
    pub drop_cache_after: bool,
}

/// Most timed runs per case.
pub const MAX_RUNS: u32 = 1000;
/// Most tensor-parallel ranks.
pub const MAX_RANKS: u32 = 1024;

impl Config {
    /// Measure the files at `paths` with the defaults (5 runs, 1 warm-up, warm cache, CPU, in process,
    /// touched loads read on every core).
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Config {
            paths,
            synthetic: None,
            runs: 5,
            warmup: 1,
            cold: false,
            ranks: 1,
            methods: Vec::new(),
            devices: vec![Device::Cpu],
            isolation: Isolation::InProcess,
            upload: gpu::Upload::Ring,
            touch_threads: touch::default_threads(),
            cancel: None,
            twin: false,
            drop_cache_after: false,
        }
    }

    /// Measure a synthetic GPT-2-shaped pair of about `bytes` bytes with the defaults.
    pub fn synthetic(bytes: u64) -> Self {
        let mut c = Config::new(Vec::new());
        c.synthetic = Some(Synthetic {
            bytes,
            family: synth::Family::Gpt2,
            dir: None,
        });
        c
    }
}

/// Progress of a benchmark, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// Writing the synthetic pair, or a checkpoint's twin (can take a few seconds).
    Writing {
        /// Bytes of tensor data being written per file.
        bytes: u64,
        /// The checkpoint whose twin is being written (`None`: the synthetic pair).
        twin_of: Option<PathBuf>,
    },
    /// The plan is ready.
    Planned {
        /// Number of cases.
        cases: usize,
        /// Runs in all (warm-ups included).
        runs: u64,
    },
    /// A case starts.
    CaseStarted {
        /// Index in the plan.
        index: usize,
        /// `method touched rank …` for progress displays.
        label: String,
    },
    /// One run (warm-up or timed) of the current case finished.
    Run {
        /// Index in the plan.
        index: usize,
        /// Seconds it took.
        seconds: f64,
        /// Whether it was a warm-up run.
        warmup: bool,
    },
    /// A case finished.
    CaseDone {
        /// Index in the plan.
        index: usize,
        /// Its result row.
        result: Box<BenchResult>,
    },
    /// A case could not run; the report carries the reason as a caveat.
    CaseFailed {
        /// Index in the plan.
        index: usize,
        /// Why, in one line.
        error: String,
    },
    /// All cases ran.
    Finished,
}
