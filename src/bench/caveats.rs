//! What a report must say beside its rows: the ceilings measured in the run and the caveats a
//! reader needs to trust (or not) the numbers.

use super::headline::{DISK_READ, GPU_RING, MEMCPY_FRESH, MEMCPY_PRETOUCHED, MEMORY_READ};
use super::plan::Target;
use super::{CacheState, Config, Device, Isolation, Method, gpu, system, touch};
use crate::report::{BenchResult, Ceiling};

/// Most threads the memcpy ceilings use.
const MAX_CEILING_THREADS: usize = 16;
/// Fewest bytes the memcpy ceilings copy (below this the timer dominates).
const MIN_CEILING_BYTES: usize = 256 << 10;
/// Copies below this many bytes are timed on one thread.
const PARALLEL_CEILING_BYTES: usize = 32 << 20;
/// Most timed copies of a small ceiling probe.
const MAX_CEILING_RUNS: usize = 51;

/// The ceilings of one run: memcpy into pre-touched and into fresh memory on every core, reading
/// warm memory on every core (the touched mapped rows' ceiling), the GPU
/// ring's upload rate (every GPU row is measured against it, write-buffer rows too), and for
/// `--cold` the disk's sequential read rate of the largest file. The GPU rate is the median over
/// the GPU cases, each measured in its own process after its runs.
pub fn ceilings(config: &Config, sys: &crate::report::System, targets: &[Target], gpu: Vec<f64>) -> Vec<Ceiling> {
    // what the memory gives a loader using every core (the one-thread figures are the system
    // facts), so a one-thread method's percentage says what it leaves on the table. As many bytes
    // as the largest checkpoint (a small one copies inside the caches, and its rows would beat a
    // ceiling measured out of them), at most the probe's usual size; small copies on one thread
    // (thread start-up would dominate) and repeated more often.
    let largest = targets.iter().map(|t| t.bytes).max().unwrap_or(0);
    let probe = usize::try_from(largest)
        .unwrap_or(usize::MAX)
        .clamp(MIN_CEILING_BYTES, system::PROBE_BYTES);
    let cores = if probe < PARALLEL_CEILING_BYTES {
        1
    } else {
        sys.cores.clamp(1, MAX_CEILING_THREADS)
    };
    let runs = (system::PROBE_BYTES * system::PROBE_RUNS / probe).clamp(system::PROBE_RUNS, MAX_CEILING_RUNS);
    // A ceiling is the fastest way to do a row's work here, so every way the rows do it is a
    // candidate and each keeps its fastest run: memcpy on every core and on one thread, and
    // `read(2)` of the largest warm file (the eager rows' own way into memory).
    let (fresh_n, pretouched_n) = system::memory_probe_best(probe, cores, runs);
    let (fresh_1, pretouched_1) = if cores > 1 {
        system::memory_probe_best(probe, 1, runs)
    } else {
        (0.0, 0.0)
    };
    let largest_file = targets
        .iter()
        .flat_map(|t| &t.files)
        .max_by_key(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
    let read = (!config.cold)
        .then_some(largest_file)
        .flatten()
        .and_then(|f| system::read_probe_best(f, probe, runs));
    let (fresh_r, pretouched_r) = read.map_or((0.0, 0.0), |(a, b, _)| (a, b));
    fn best(c: [(f64, &str); 3]) -> (f64, &str) {
        c.into_iter().fold((0.0, ""), |a, b| if b.0 > a.0 { b } else { a })
    }
    let on_n = if cores > 1 {
        format!("memcpy on {cores} threads")
    } else {
        "memcpy on one thread".to_owned()
    };
    let (fresh, fresh_how) = best([
        (fresh_n, on_n.as_str()),
        (fresh_1, "memcpy on one thread"),
        (fresh_r, "read(2) of the largest file"),
    ]);
    let (pretouched, pretouched_how) = best([
        (pretouched_n, on_n.as_str()),
        (pretouched_1, "memcpy on one thread"),
        (pretouched_r, "read(2) of the largest file"),
    ]);
    // the ways tried, as the probe tried them: on one thread only when the copy is small
    let ways = format!(
        "{}{}",
        if cores > 1 {
            format!("memcpy on {cores} threads and on one thread")
        } else {
            format!(
                "memcpy on one thread (copies under {} are not shared between threads: thread start-up would dominate)",
                mib(PARALLEL_CEILING_BYTES)
            )
        },
        if config.cold {
            ""
        } else {
            ", read(2) of the largest warm file"
        }
    );
    let mut out = vec![
        Ceiling {
            name: MEMCPY_PRETOUCHED.into(),
            device: "cpu".into(),
            gbps: pretouched,
            what: format!(
                "fastest of {runs} runs of filling {} of pre-touched memory from warm memory: {ways}; fastest: \
                 {pretouched_how}",
                crate::text::bytes(probe as u64),
            ),
        },
        Ceiling {
            name: MEMCPY_FRESH.into(),
            device: "cpu".into(),
            gbps: fresh,
            what: format!(
                "fastest of {runs} runs of filling {} of fresh memory (every page faulted on first touch) from warm \
                 memory: {ways}; fastest: {fresh_how}",
                crate::text::bytes(probe as u64),
            ),
        },
    ];
    // reading every byte of warm memory with the touch itself on every core: what touched rows
    // of the mapped methods can reach (their pages are warm page-cache memory, plus the faults)
    let (read, read_threads) = system::memory_read_on(probe, sys.cores.clamp(1, MAX_CEILING_THREADS), runs);
    let on = if read_threads > 1 {
        format!("on {read_threads} threads")
    } else {
        format!(
            "on one thread (under {} the touch does not share a read between threads)",
            mib(touch::PARALLEL_MIN)
        )
    };
    out.push(Ceiling {
        name: MEMORY_READ.into(),
        device: "cpu".into(),
        gbps: read,
        what: format!(
            "read every byte of {} of warm, pre-touched memory {on} (the touch's own code; fastest of {runs} runs)",
            crate::text::bytes(probe as u64),
        ),
    });
    if !gpu.is_empty() {
        let n = gpu.len();
        out.push(Ceiling {
            name: GPU_RING.into(),
            device: "gpu".into(),
            gbps: gpu.iter().copied().fold(0.0, f64::max),
            what: format!(
                "upload of a warm, pre-touched host buffer (up to {}) through the staging ring, {} (fastest over {})",
                crate::text::bytes(gpu::CEILING_BYTES),
                crate::text::plural(gpu::fill_threads() as u64, "fill thread"),
                crate::text::plural(n as u64, "GPU case")
            ),
        });
    }
    if config.cold {
        // the disk read one way (sequential 16 MiB requests) and the parallel way the pread rows
        // read it; the faster is the ceiling
        let seq = largest_file.and_then(|f| system::disk_read_gbps(f));
        let par = largest_file.and_then(|f| system::disk_read_parallel_gbps(f));
        let seq_what = |direct: bool| {
            format!(
                "sequential read of the largest file from a dropped cache, 16 MiB requests{}",
                if direct {
                    ", O_DIRECT"
                } else {
                    " (O_DIRECT refused: buffered)"
                }
            )
        };
        let pick = match (seq, par) {
            (Some((s, _)), Some((p, n))) if p > s => Some((p, parallel_what(n))),
            (Some((s, direct)), _) => Some((s, seq_what(direct))),
            (None, Some((p, n))) => Some((p, parallel_what(n))),
            (None, None) => None,
        };
        if let Some((gbps, what)) = pick {
            out.push(Ceiling {
                name: DISK_READ.into(),
                device: "cpu".into(),
                gbps,
                what,
            });
        }
    }
    out
}

fn parallel_what(threads: usize) -> String {
    let by = if threads == 1 {
        "one thread".to_owned()
    } else {
        format!("{threads} threads")
    };
    format!(
        "read of the largest file from a dropped cache by {by} (pread, 16 MiB requests), faster here than one \
         sequential reader"
    )
}

/// A power-of-two size as the README writes it (`4 MiB`), where [`crate::text::bytes`] would
/// print the decimal `4.2 MB`.
fn mib(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        crate::text::bytes(n as u64)
    }
}

/// The filesystems holding the checkpoints, with advice where maps are slow.
pub fn filesystem_caveats(targets: &[Target]) -> Vec<String> {
    let mut out = Vec::new();
    for t in targets {
        let Some(fs) = t.files.first().and_then(|f| system::filesystem(f)) else {
            continue;
        };
        if system::prefers_pread(&fs) {
            out.push(format!(
                "{} lies on {fs}: on network and FUSE filesystems a map faults in 4 KiB pieces, each a round trip; \
                 prefer pread in large requests (safetensors-pread) over mmap there.",
                crate::text::path(&t.root)
            ));
        }
    }
    out
}

/// How the page cache holds each checkpoint read by warm touched mapped rows (its largest file):
/// the share a map gets in 2 MiB pages decides how often those rows fault, for any loader that
/// maps the file (`safetensors.load_file` and `torch.load(mmap=True)` too).
pub fn page_cache_caveats(config: &Config, targets: &[Target], results: &[BenchResult]) -> Vec<String> {
    if config.cold {
        return Vec::new();
    }
    let mut out = Vec::new();
    for t in targets {
        let root = t.root.to_string_lossy();
        let mapped: Vec<&BenchResult> = results
            .iter()
            .filter(|r| {
                r.checkpoint == root
                    && r.touched
                    && r.device == Device::Cpu.as_str()
                    && Method::parse(&r.method).is_some_and(|m| !m.copies())
            })
            .collect();
        let largest = t
            .files
            .iter()
            .max_by_key(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
        let Some((file, share)) = largest
            .filter(|_| !mapped.is_empty())
            .and_then(|f| touch::huge_page_share(f).map(|s| (f, s)))
        else {
            continue;
        };
        // the touched mapped rows' rates against the memory-read ceiling: the faults are the
        // likely cause of their time only where those rows fall far below it
        let percents: Vec<f64> = mapped.iter().filter_map(|r| r.percent_of_ceiling).collect();
        // the file's name: a synthetic pair's temporary folder stays out of the report
        let name = crate::text::escape(&file.file_name().unwrap_or_default().to_string_lossy()).into_owned();
        out.push(page_cache_text(&name, share, &percents));
    }
    out
}

/// Touched mapped rows below this share of their ceiling are "far below" it.
const FAR_BELOW_PERCENT: f64 = 50.0;

/// The page-cache caveat of the file `name`: `share` of its cache in 2 MiB pages, and the touched
/// mapped rows' percentages of the memory-read ceiling, which decide whether the faults can be
/// said to take most of those rows' time.
fn page_cache_text(name: &str, share: f64, percents: &[f64]) -> String {
    let best = percents.iter().copied().fold(f64::NAN, f64::max);
    let effect = if best < FAR_BELOW_PERCENT {
        format!(
            "; its touched mapped rows reach at most {best:.0}% of the memory-read ceiling, and those faults most \
             likely take most of their time, for any loader that maps the file"
        )
    } else if best.is_finite() {
        format!(
            "; its touched mapped rows reach {best:.0}% of the memory-read ceiling, so the faults cost them little \
             here. Where a mapped load falls far below that ceiling, such faults are the usual cause"
        )
    } else {
        String::new()
    };
    format!(
        "{name}: {:.0}% of its page cache maps in 2 MiB pages; the rest faults 64 KiB at a time (the kernel's \
         fault-around){effect}. How the cache holds a file depends on how it got there (on Linux 6.18 and ext4 a \
         cold read of a large file cached most of it in 2 MiB pages, a copy with cp in 64 KiB ones): compare mapped \
         rows across machines or files only at similar shares.",
        share * 100.0
    )
}

/// Without `--drop-cache-after`, when the measured `files` (those that outlive the run, each once)
/// are a quarter of the machine's memory or more: they stay in the page cache after the run, and the
/// flag that drops them.
pub fn cache_advice(config: &Config, sys: &crate::report::System, files: &[std::path::PathBuf]) -> Option<String> {
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let memory = sys.memory_bytes;
    (!config.drop_cache_after && memory > 0 && total >= memory / 4).then(|| {
        format!(
            "The measured files ({}, {:.0}% of this machine's memory) stay in the page cache after this run, where \
             other programs' files are evicted before them; --drop-cache-after drops their pages once the last run \
             has ended (no figure changes: every run is over by then).",
            crate::text::bytes(total),
            total as f64 * 100.0 / memory as f64
        )
    })
}

/// The caveats every run needs: what untouched, lazy, warm, eager and noisy rows mean.
pub fn general_caveats(config: &Config, sys: &crate::report::System, results: &[BenchResult]) -> Vec<String> {
    let mut out = Vec::new();
    if results.iter().any(|r| !r.touched) {
        out.push(
            "Untouched rows only load: the mmap methods map the file and build views without reading a \
             tensor byte. Touched rows read every byte after loading; compare those for the cost of using the weights."
                .into(),
        );
    }
    // the tensor each checkpoint's lazy-one rows read, named by file where there are several
    let mut one: Vec<(&str, u64)> = Vec::new();
    for r in results
        .iter()
        .filter(|r| r.method == Method::SafetensorsLazyOne.as_str())
    {
        let file = r.checkpoint.rsplit('/').next().unwrap_or(&r.checkpoint);
        if !one.contains(&(file, r.bytes)) {
            one.push((file, r.bytes));
        }
    }
    if !one.is_empty() {
        let sizes: Vec<String> = if one.len() == 1 {
            vec![crate::text::bytes(one[0].1)]
        } else {
            one.iter()
                .map(|(f, b)| format!("{} of {}", crate::text::bytes(*b), crate::text::escape(f)))
                .collect()
        };
        out.push(format!(
            "safetensors-lazy-one reads one tensor ({}), not the whole checkpoint: its speedup shows what reading \
             only what you need saves, not a faster full load.",
            sizes.join(", ")
        ));
    }
    let touched_bytes = results.iter().filter(|r| r.touched).map(|r| r.bytes).max();
    if let Some(largest) = touched_bytes {
        let small = largest < touch::PARALLEL_MIN as u64;
        out.push(if config.touch_threads > 1 && small {
            format!(
                "Touched rows read every byte on one thread: every load here is under {}, below which the {} \
                 threads of --touch-threads are not used; a larger checkpoint is read on all of them.",
                mib(touch::PARALLEL_MIN),
                config.touch_threads
            )
        } else if config.touch_threads > 1 {
            format!(
                "Touched rows read every byte on {} threads (--touch-threads; views cut into {} pieces that the threads \
                 share, page faults of mapped files taken by the thread that reads the page; loads under {} on one \
                 thread), as a framework reads its weights on every core.",
                config.touch_threads,
                mib(touch::CHUNK),
                mib(touch::PARALLEL_MIN)
            )
        } else {
            "Touched rows read every byte on one thread (--touch-threads 1): a framework reading its weights on \
             every core reads faster, and the memory-read ceiling is measured on every core."
                .to_owned()
        });
    }
    if !config.cold {
        out.push(
            "Warm page cache: the files were read once before timing, so times show CPU and memory costs, \
             not disk speed (use --cold to drop the pages before each run)."
                .into(),
        );
    }
    if results
        .iter()
        .any(|r| Method::parse(&r.method).is_some_and(Method::copies))
        && sys.fresh_memory_gbps > 0.0
    {
        out.push(format!(
            "Eager loads run twice: into fresh memory (new pages every run, faulted and zeroed as the load first \
             writes them, as torch.load and a one-shot loader get) and into reused memory (one pre-faulted arena, as \
             a long-lived loader keeps){}. Here memcpy on one thread runs at {:.1} GB/s into fresh memory and {:.1} \
             GB/s into pre-touched memory (medians of the system probe; a ceiling is the fastest run of every way it \
             tries).",
            // only a pickle-eager row gives the headline a comparison
            if results.iter().any(|r| r.method == Method::PickleEager.as_str()) {
                "; the headline compares fresh with fresh"
            } else {
                ""
            },
            sys.fresh_memory_gbps,
            sys.mapped_memory_gbps
        ));
    }
    if config.runs == 1 {
        out.push("Only one timed run per case: no spread was measured, and one run is no robust median.".into());
    } else if config.runs < 3 {
        out.push(format!(
            "Only {} timed runs per case: medians are not robust.",
            config.runs
        ));
    }
    if !matches!(config.isolation, Isolation::Child(_)) {
        out.push("Cases ran in one process: peak memory was not measured.".into());
    }
    // one line for every noisy row, so the caveats stay a short list
    let noisy: Vec<String> = results
        .iter()
        .filter(|r| r.noisy())
        .map(|r| {
            format!(
                "{} ({}–{} around {})",
                r.label(),
                crate::report::seconds(r.min_s),
                crate::report::seconds(r.max_s),
                crate::report::seconds(r.median_s)
            )
        })
        .collect();
    if !noisy.is_empty() {
        out.push(format!(
            "Noisy (slowest minus fastest run over half the median): {}; rerun with more --runs on an idle machine.",
            noisy.join(", ")
        ));
    }
    if config.synthetic.is_some() {
        let mut sums: Vec<&str> = results
            .iter()
            .filter(|r| r.rank.is_none() && (r.touched || r.device == Device::Gpu.as_str()))
            .filter(|r| r.method != Method::SafetensorsLazyOne.as_str())
            .filter_map(|r| r.checksum.as_deref())
            .collect();
        sums.dedup();
        if sums.len() > 1 {
            out.push(
                "The touched methods read different data from the synthetic pair (checksums differ): a bug.".into(),
            );
        }
    }
    if results.iter().any(|r| r.cache == CacheState::Cold.as_str())
        && results.iter().all(|r| r.cache_dropped != Some(false))
    {
        out.push("Cold cache: every page of every file was dropped (checked with mincore) before every run.".into());
    }
    out
}

/// What a reader of GPU rows must know: the adapter, what a software adapter means, and whether
/// the bytes read back from the GPU equal the bytes the CPU rows read.
pub fn gpu_caveats(adapter: Option<&crate::report::Gpu>, results: &[BenchResult]) -> Vec<String> {
    let gpu_rows: Vec<&BenchResult> = results.iter().filter(|r| r.device == Device::Gpu.as_str()).collect();
    let Some(a) = adapter.filter(|_| !gpu_rows.is_empty()) else {
        return Vec::new();
    };
    let mut out = vec![format!(
        "GPU rows: each load's tensors uploaded with wgpu ({} backend) to {} ({}), timed until the GPU \
         finished copying; the destination buffers are allocated once per case and reused.",
        a.backend, a.name, a.device_type
    )];
    if a.device_type == "Cpu" {
        out.push(
            "The GPU adapter is a software driver: its \"GPU memory\" is host memory and the copies run on \
             CPU threads, so GPU rows measure wgpu's upload path here, not a GPU's transfer speed."
                .into(),
        );
    }
    // Each GPU row's read-back against the touched CPU row of the same checkpoint and method.
    let whole = |r: &&&BenchResult| r.rank.is_none() && r.method != Method::SafetensorsLazyOne.as_str();
    let pairs: Vec<(Option<&str>, Option<&str>)> = gpu_rows
        .iter()
        .filter(whole)
        .map(|g| {
            let cpu = results.iter().find(|r| {
                r.device == Device::Cpu.as_str()
                    && r.touched
                    && (&r.checkpoint, &r.method) == (&g.checkpoint, &g.method)
            });
            (g.checksum.as_deref(), cpu.and_then(|r| r.checksum.as_deref()))
        })
        .filter(|(_, cpu)| cpu.is_some())
        .collect();
    if pairs.iter().any(|(g, c)| g != c) {
        out.push(
            "The bytes read back from the GPU differ from the touched CPU rows' (checksums differ): a bug.".into(),
        );
    } else if !pairs.is_empty() {
        out.push(format!(
            "Every GPU buffer was read back after its runs: {} the same bytes as the touched CPU rows.",
            if pairs.len() == 1 {
                "its one row holds".to_owned()
            } else {
                format!("{} rows hold", pairs.len())
            }
        ));
    }
    out
}

#[cfg(test)]
#[path = "caveats_tests.rs"]
mod tests;
