//! Benchmark reports: one set of `Serialize` types, one small function per export format
//! ([`json`], [`csv`], [`markdown`], [`html`]; the last two render the tables of [`table`]). JSON,
//! Markdown and HTML carry the same facts, touched rows, headline and caveats included; CSV carries
//! the rows only.

pub mod csv;
mod figures;
pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

use std::path::Path;

pub use figures::{gbps, percent, range, rate, seconds, settings, share, times};

use serde::{Deserialize, Serialize};

/// A whole benchmark report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `tensorscope X.Y.Z`.
    pub tool: String,
    /// The machine.
    pub system: System,
    /// How it was measured.
    pub config: RunConfig,
    /// The checkpoints measured.
    pub checkpoints: Vec<CheckpointFacts>,
    /// One row per case.
    pub results: Vec<BenchResult>,
    /// Median time of the baseline over median time of each method.
    pub speedups: Vec<Speedup>,
    /// What a reader must know to trust (or not) the numbers.
    pub caveats: Vec<String>,
    /// One sentence per device, from touched rows only: what a user gets (reports open with it).
    #[serde(default)]
    pub headline: Vec<String>,
    /// What the hardware allows, measured in the same run; each row states its rate against one.
    #[serde(default)]
    pub ceilings: Vec<Ceiling>,
}

/// A rate the hardware (or the upload path) allows, measured in the same run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ceiling {
    /// Stable name rows refer to (`memcpy-pretouched`, `memcpy-fresh`, `memory-read`, `gpu-ring`, `disk-read`).
    pub name: String,
    /// `cpu` or `gpu`.
    pub device: String,
    /// Rate in GB/s (10^9).
    pub gbps: f64,
    /// What was measured, in one line.
    pub what: String,
}

/// Facts about the machine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct System {
    /// Operating system name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// CPU brand.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// Total memory.
    pub memory_bytes: u64,
    /// Memory available when the benchmark started.
    pub available_memory_bytes: u64,
    /// GPUs (filled by the GPU backend; empty on CPU-only runs).
    pub gpu: Vec<Gpu>,
    /// Copy speed into freshly allocated memory (first touch faults every page), GB/s.
    pub fresh_memory_gbps: f64,
    /// Copy speed into memory that is already mapped, GB/s.
    pub mapped_memory_gbps: f64,
}

/// One GPU adapter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gpu {
    /// Adapter name.
    pub name: String,
    /// Backend (`Vulkan`, `Metal`, …).
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `Cpu`, …
    pub device_type: String,
}

/// The settings of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    /// Timed runs per case.
    pub runs: u32,
    /// Warm-up runs per case.
    pub warmup: u32,
    /// Whether pages were dropped before each run.
    pub cold: bool,
    /// Tensor-parallel ranks.
    pub ranks: u32,
    /// `gpt2 500.0 MB` when a synthetic pair was measured.
    pub synthetic: Option<String>,
    /// Whether each case ran in its own process (peak memory measured).
    pub isolated: bool,
    /// Threads that read every byte of a touched load (reports written before it existed: 1).
    #[serde(default = "one_thread")]
    pub touch_threads: usize,
    /// Whether the files' pages were dropped from the page cache after the last run
    /// (`--drop-cache-after`; reports written before it existed: no).
    #[serde(default)]
    pub drop_cache_after: bool,
}

fn one_thread() -> usize {
    1
}

/// One measured checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointFacts {
    /// Path as given (or as written for synthetic files).
    pub path: String,
    /// Format (`safetensors`, `pytorch-zip`, …).
    pub format: String,
    /// Size on disk.
    pub bytes: u64,
    /// Number of tensors.
    pub tensors: usize,
    /// Filesystem holding it (`statfs`: ext4, xfs, nfs, fuse, 9p, overlay, tmpfs, …).
    #[serde(default)]
    pub filesystem: Option<String>,
}

/// The timing of one case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResult {
    /// Path of the checkpoint.
    pub checkpoint: String,
    /// Method name (`safetensors-mmap`, …).
    pub method: String,
    /// `cpu` or `gpu`.
    pub device: String,
    /// `warm` or `cold`.
    pub cache: String,
    /// Whether every loaded byte was read after loading.
    pub touched: bool,
    /// Timed runs.
    pub runs: u32,
    /// Median seconds.
    pub median_s: f64,
    /// Fastest run.
    pub min_s: f64,
    /// Slowest run.
    pub max_s: f64,
    /// Bytes the method made available (loaded, sliced, or for one tensor its size).
    pub bytes: u64,
    /// `bytes / median_s` in GB/s (10^9); `None` for rows that read nothing (untouched views) or
    /// one tensor: a rate of bytes never read would be no rate at all.
    #[serde(default)]
    pub gbps: Option<f64>,
    /// Peak resident memory of the process that ran the case; `None` when run in process.
    pub peak_rss_bytes: Option<u64>,
    /// Rank of a tensor-parallel case.
    pub rank: Option<u32>,
    /// Number of ranks of a tensor-parallel case.
    pub ranks: Option<u32>,
    /// Cold runs: whether every page was gone before every run.
    pub cache_dropped: Option<bool>,
    /// Wrapping sum of the data as little-endian words (touched rows only): equal across methods.
    pub checksum: Option<String>,
    /// Every timed run, seconds.
    pub samples_s: Vec<f64>,
    /// Eager methods: `fresh` (new memory each run) or `reused` (one pre-faulted arena).
    #[serde(default)]
    pub memory: Option<String>,
    /// GPU rows: `ring` or `write-buffer`.
    #[serde(default)]
    pub upload: Option<String>,
    /// Name of the [`Ceiling`] this row is measured against.
    #[serde(default)]
    pub ceiling: Option<String>,
    /// `gbps` as a percentage of that ceiling.
    #[serde(default)]
    pub percent_of_ceiling: Option<f64>,
    /// Major page faults (pages read from disk through a map) per timed run.
    #[serde(default)]
    pub major_faults: Option<u64>,
    /// A fallback the method took (e.g. O_DIRECT refused).
    #[serde(default)]
    pub note: Option<String>,
    /// GPU rows uploaded through the ring: where the upload's time went.
    #[serde(default)]
    pub gpu_split: Option<GpuSplit>,
}

/// Where the time of a ring upload went, in seconds per timed run (the mean over the runs). The
/// host-side parts (`fill_s`, `map_s`, `submit_s`, `wait_s`, `sync_s`) are disjoint stretches of
/// `upload_s`, which is part of the run (`run_s`; the rest is the load before the upload).
/// `copy_s` is the GPU's own copy time, which overlaps the fill of the next slots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuSplit {
    /// The whole run, as timed.
    pub run_s: f64,
    /// The upload: from handing the first slot to the GPU's last copy finished.
    pub upload_s: f64,
    /// Filling staging slots: memcpy from the load's memory (a file's map included, its page
    /// faults too) into mapped staging memory, wall time.
    pub fill_s: f64,
    /// Threads that fill a slot.
    pub fill_threads: u32,
    /// Getting each slot's mapped range and unmapping it, and asking for the re-map (CPU side).
    pub map_s: f64,
    /// Recording and submitting the copies.
    pub submit_s: f64,
    /// Waiting, mid-upload, for a slot to come back mapped (its copy plus the map round trip).
    pub wait_s: f64,
    /// Waiting at the end for the last copies.
    pub sync_s: f64,
    /// Time the GPU spent copying slots into place.
    pub copy_s: f64,
    /// How `copy_s` was measured: `timestamps` (GPU timestamp queries around each slot's copies)
    /// or `submit-to-mapped` (submit until the slot was seen mapped again: an upper bound).
    pub copy_from: String,
    /// Slots filled per run.
    pub slots: u32,
    /// Bytes per slot.
    pub slot_bytes: u64,
    /// Slots in the ring.
    pub ring_slots: u32,
}

impl GpuSplit {
    /// The mean of several runs' splits (`None` for none).
    pub fn mean(splits: &[GpuSplit]) -> Option<GpuSplit> {
        let first = splits.first()?;
        let n = splits.len() as f64;
        let avg = |f: fn(&GpuSplit) -> f64| splits.iter().map(f).sum::<f64>() / n;
        Some(GpuSplit {
            run_s: avg(|s| s.run_s),
            upload_s: avg(|s| s.upload_s),
            fill_s: avg(|s| s.fill_s),
            map_s: avg(|s| s.map_s),
            submit_s: avg(|s| s.submit_s),
            wait_s: avg(|s| s.wait_s),
            sync_s: avg(|s| s.sync_s),
            copy_s: avg(|s| s.copy_s),
            ..first.clone()
        })
    }

    /// One line: `upload 98.1 ms of 120.3 ms: fill 80.2 ms (1 thread), map 1.2 ms, …`.
    pub fn describe(&self) -> String {
        let threads = if self.fill_threads == 1 { "thread" } else { "threads" };
        format!(
            "upload {} of {}: fill {} ({} {threads}), map/unmap {}, submit {}, wait {}, final sync {}; \
             GPU copy {} ({}); {} of {} through a ring of {}",
            seconds(self.upload_s),
            seconds(self.run_s),
            seconds(self.fill_s),
            self.fill_threads,
            seconds(self.map_s),
            seconds(self.submit_s),
            seconds(self.wait_s),
            seconds(self.sync_s),
            seconds(self.copy_s),
            self.copy_from,
            crate::text::plural(u64::from(self.slots), "slot"),
            crate::text::bytes(self.slot_bytes),
            self.ring_slots,
        )
    }
}

impl BenchResult {
    /// `method`, with `(touched)` or `(untouched)`, the memory and the rank, as tables label it.
    pub fn label(&self) -> String {
        let touch = if self.touched { "touched" } else { "untouched" };
        let mem = self.memory.as_deref().map(|m| format!(", {m}")).unwrap_or_default();
        let gmem = self.memory.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
        let up = match self.upload.as_deref() {
            Some(u) if u != "ring" => format!(" via {u}"),
            _ => String::new(),
        };
        match (self.rank, self.ranks, self.device.as_str()) {
            (Some(k), Some(n), "cpu") => format!("{} rank {k}/{n}", self.method),
            (Some(k), Some(n), dev) => format!("{} rank {k}/{n} to {dev}{up}", self.method),
            (_, _, "cpu") => format!("{} ({touch}{mem})", self.method),
            (_, _, dev) => format!("{}{gmem} to {dev}{up}", self.method),
        }
    }

    /// Whether the row read every byte it loaded (touched CPU rows; GPU uploads read every byte).
    pub fn reads_everything(&self) -> bool {
        self.touched || self.device != "cpu"
    }

    /// Whether max - min exceeds half the median (a noisy measurement).
    pub fn noisy(&self) -> bool {
        self.runs > 1 && self.max_s - self.min_s > 0.5 * self.median_s && self.max_s - self.min_s > 1e-3
    }
}

/// How much faster a method is than the baseline (`pickle-eager`) on the same device, cache and touch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Speedup {
    /// Path of the checkpoint of the row compared (its baseline is in the same checkpoint's group:
    /// itself and its twin).
    #[serde(default)]
    pub checkpoint: String,
    /// Device.
    pub device: String,
    /// Cache state.
    pub cache: String,
    /// Touched or not (compared like with like).
    pub touched: bool,
    /// Baseline method.
    pub baseline: String,
    /// The method compared.
    pub method: String,
    /// Rank for tensor-parallel rows.
    pub rank: Option<u32>,
    /// Baseline median over method median (> 1: faster than the baseline).
    pub ratio: f64,
    /// The memory of the method compared (eager methods), when it has one.
    #[serde(default)]
    pub memory: Option<String>,
    /// The baseline's memory (`fresh` unless the method is an eager one into reused memory).
    #[serde(default)]
    pub baseline_memory: Option<String>,
}

impl Speedup {
    /// `method (touched)` as tables label it.
    pub fn label(&self) -> String {
        let touch = if self.touched { "touched" } else { "untouched" };
        let mem = self.memory.as_deref().map(|m| format!(", {m}")).unwrap_or_default();
        match (self.rank, self.device.as_str()) {
            (Some(k), "cpu") => format!("{} rank {k}", self.method),
            (Some(k), dev) => format!("{} rank {k} to {dev}", self.method),
            (None, "cpu") => format!("{} ({touch}{mem})", self.method),
            (None, dev) => format!("{} to {dev}", self.method),
        }
    }
}

/// The export formats, picked from a file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.csv`
    Csv,
    /// `.md`
    Markdown,
    /// `.html`
    Html,
}

impl Format {
    /// The format for `path`'s extension, `None` for anything else.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }
}

/// Render `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Json => json::to_string(report),
        Format::Csv => csv::to_string(report),
        Format::Markdown => markdown::to_string(report),
        Format::Html => html::to_string(report),
    }
}

/// Whether a row reads only part of the data (untouched CPU views, one tensor, a rank's slice):
/// such rows go in their own table or chart, "what laziness saves".
pub fn is_lazy(r: &BenchResult) -> bool {
    !r.reads_everything() || r.method == "safetensors-lazy-one" || r.rank.is_some()
}

/// Whether a speedup compares loads that read only part of the data (untouched CPU views, one
/// tensor, a rank's slice): charts and tables keep those apart from full loads.
pub fn is_lazy_speedup(s: &Speedup) -> bool {
    (!s.touched && s.device == "cpu") || s.method == "safetensors-lazy-one" || s.rank.is_some()
}

/// A checkpoint path for tables: a synthetic pair written into a temporary folder
/// (`…/tensorscope-bench-*/model.safetensors`) shows as its file name only.
pub fn display_path(path: &str) -> String {
    let mut parts = path.rsplitn(3, '/');
    let (name, dir) = (parts.next().unwrap_or(path), parts.next().unwrap_or(""));
    if dir.starts_with("tensorscope-bench-") {
        name.to_owned()
    } else {
        path.to_owned()
    }
}

/// A fixed report for tests (also the TUI's, which live in the binary crate); not a stable API.
#[doc(hidden)]
pub mod sample;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(Format::from_path(Path::new("r.JSON")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("a/r.md")), Some(Format::Markdown));
        assert_eq!(Format::from_path(Path::new("r.htm")), Some(Format::Html));
        assert_eq!(Format::from_path(Path::new("r.txt")), None);
        assert_eq!(Format::from_path(Path::new("r")), None);
    }

    #[test]
    fn temporary_paths_and_laziness() {
        assert_eq!(display_path("/tmp/tensorscope-bench-12-34/model.bin"), "model.bin");
        assert_eq!(display_path("/data/m/model.bin"), "/data/m/model.bin");
        assert_eq!(display_path("model.bin"), "model.bin");
        let r = sample::report();
        assert!(is_lazy(&r.results[0]) && !is_lazy(&r.results[1]));
        // every percentage is the row's rate over its own ceiling's
        assert_eq!(percent(&r.results[3]), "56%");
        assert_eq!(percent(&r.results[1]), "50%");
        assert_eq!(percent(&r.results[0]), "–");
        assert_eq!(gbps(&r.results[0]), "-");
    }

    #[test]
    fn noisy_and_labels() {
        let r = sample::report();
        assert_eq!(r.results[0].label(), "safetensors-mmap (untouched)");
        let mut row = r.results[0].clone();
        row.min_s = 0.001;
        row.max_s = 0.01;
        row.median_s = 0.002;
        assert!(row.noisy());
    }
}
