//! Writing the output beside its target: the temporary file or folder, the writer feeding the
//! comparing threads as it goes, the fsync of everything, and the final rename.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::plan::{Layout, Unit, UnitPlan};
use super::read::TensorReader;
use super::verify::{self, Job, Tally, VERIFY_THREADS};
use super::writer::FileWriter;
use super::{Report, Verification, Written};
use crate::checkpoint::Checkpoint;
use crate::text::{escape, path as show};
use crate::{Error, Result};

/// What to write.
pub(super) struct Work<'a> {
    pub layout: &'a Layout,
    pub opened: &'a [Checkpoint],
    pub plans: &'a [UnitPlan<'a>],
    pub input: &'a Path,
    pub to_folder: bool,
    pub verify: bool,
}

/// Write everything into `tmp`, compare while writing (when asked), flush it all to disk.
pub(super) fn write_all(work: &Work<'_>, tmp: &Path, report: &mut Report) -> Result<()> {
    let started = Instant::now();
    if work.to_folder {
        std::fs::create_dir(tmp).map_err(|e| Error::io(tmp, e))?;
    }
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Mutex::new(rx);
    let (flush_tx, flush_rx) = mpsc::channel::<(PathBuf, std::fs::File)>();
    let (written, tallies) = std::thread::scope(|s| {
        let comparers: Vec<_> = if work.verify {
            (0..VERIFY_THREADS)
                .map(|_| s.spawn(|| verify::compare_jobs(&rx, work.opened)))
                .collect()
        } else {
            Vec::new()
        };
        // the disk writes back while we write and compare: one waits on the disk, the others on memory
        let flusher = s.spawn(move || flush_behind(flush_rx));
        let written = write_files(work, tmp, report, work.verify.then_some(&tx), &flush_tx);
        drop(tx);
        drop(flush_tx);
        report.write_seconds = started.elapsed().as_secs_f64();
        let flushed = flusher
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("the flushing thread panicked".into())));
        let synced = match (written, flushed) {
            (Ok(files), Ok(())) => files
                .iter()
                .try_for_each(|(p, f)| f.sync_all().map_err(|e| Error::io(p, e))),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        let tallies: Vec<Result<Tally>> = comparers
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Usage("a verification thread panicked".into())))
            })
            .collect();
        (synced, tallies)
    });
    written?;
    if work.verify {
        let mut v = Verification {
            files: work.plans.iter().map(|p| p.files.len()).sum(),
            tensors: 0,
            bytes: 0,
            seconds: started.elapsed().as_secs_f64(),
        };
        for t in tallies {
            let t = t?;
            v.tensors += t.tensors;
            v.bytes += t.bytes;
        }
        report.verification = Some(v);
    }
    Ok(())
}

type Unsynced = Vec<(PathBuf, std::fs::File)>;

/// Pieces of a tensor handed to the comparing threads as soon as they are written.
const PIECE_BYTES: usize = 16 << 20;

/// Start flushing a file's written data every this many bytes (so the final fsync finds little to do).
const FLUSH_EVERY: u64 = 32 << 20;

/// Start the kernel writing back the files sent, as they come, without waiting for the disk
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`), until the channel closes. Waiting (`fdatasync`) here
/// would stall the writer on pages under writeback; starting early leaves little for the final fsync.
fn flush_behind(rx: mpsc::Receiver<(PathBuf, std::fs::File)>) -> Result<()> {
    use std::os::fd::AsRawFd;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        batch.dedup_by(|a, b| a.0 == b.0);
        for (p, f) in &batch {
            // SAFETY: an FFI call on a file descriptor we own for the duration of the call (`f` is
            // borrowed); it touches no memory of ours. Offset 0 and length 0 mean the whole file.
            let rc = unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
            if rc != 0 {
                let e = std::io::Error::last_os_error();
                // not every filesystem supports it; the final fsync is what makes the file durable
                if e.raw_os_error() != Some(libc::ENOSYS) && e.raw_os_error() != Some(libc::EINVAL) {
                    return Err(Error::io(p, e));
                }
            }
        }
    }
    Ok(())
}

/// Write every unit's files, the indexes and the copies; each written tensor is handed to `jobs`.
fn write_files(
    work: &Work<'_>,
    tmp: &Path,
    r: &mut Report,
    jobs: Option<&mpsc::Sender<Job>>,
    flush: &mpsc::Sender<(PathBuf, std::fs::File)>,
) -> Result<Unsynced> {
    let mut unsynced = Vec::new();
    for (u, ((unit, ck), plan)) in work.layout.units.iter().zip(work.opened).zip(work.plans).enumerate() {
        let sinks = Sinks { jobs, flush };
        write_unit(work, (u, unit, ck, plan), tmp, r, &sinks, &mut unsynced)?;
    }
    for rel in &work.layout.copies {
        let (from, to) = (work.input.join(rel), tmp.join(rel));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
        let file = std::fs::File::open(&to).map_err(|e| Error::io(&to, e))?;
        unsynced.push((to, file));
        r.copied.push(rel.clone());
    }
    Ok(unsynced)
}

/// Where the writer reports progress: tensors to compare, files to flush behind it.
struct Sinks<'s> {
    jobs: Option<&'s mpsc::Sender<Job>>,
    flush: &'s mpsc::Sender<(PathBuf, std::fs::File)>,
}

fn write_unit(
    work: &Work<'_>,
    (u, unit, ck, plan): (usize, &Unit, &Checkpoint, &UnitPlan<'_>),
    tmp: &Path,
    r: &mut Report,
    sinks: &Sinks<'_>,
    unsynced: &mut Unsynced,
) -> Result<()> {
    let jobs = sinks.jobs;
    let reader = TensorReader::new(ck);
    let dir = if work.to_folder {
        tmp.join(&unit.dir)
    } else {
        tmp.to_path_buf()
    };
    if work.to_folder {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let source_index: std::collections::HashMap<&str, usize> = ck
        .tensors
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let mut buf = Vec::new();
    for f in &plan.files {
        let path = if work.to_folder {
            dir.join(&f.name)
        } else {
            tmp.to_path_buf()
        };
        let mut w = FileWriter::create(&path, &f.entries, &plan.metadata)?;
        let reopened = match jobs {
            Some(_) => Some(Arc::new(verify::reopen(path.clone(), f, plan)?)),
            None => None,
        };
        let handle = w.handle()?;
        let mut flushed = w.written();
        for e in &f.entries {
            // the source names whose bytes this tensor holds: itself and its aliases
            let mut sources = Vec::new();
            for name in verify::names_of(&e.name, plan) {
                let Some(&source) = source_index.get(name) else {
                    return Err(Error::format(
                        &path,
                        format!("verification failed: no source tensor {}", escape(name)),
                    ));
                };
                sources.push(source);
            }
            let written = reopened
                .as_ref()
                .and_then(|out| out.tensor_index(&e.name))
                .unwrap_or(usize::MAX);
            let numel = e.tensor.numel().unwrap_or(0);
            let piece = TensorReader::chunk_elems(e.tensor, PIECE_BYTES);
            let start = w.written();
            let mut emitted = 0u64;
            // hand finished pieces to the comparing threads, and to the flushing thread
            let mut send = |done: u64| {
                if let (Some(tx), Some(out)) = (jobs, &reopened) {
                    if done - emitted >= piece || done == numel {
                        for &source in &sources {
                            // a comparing thread that stopped has its error to report; keep writing
                            let _ = tx.send(Job {
                                unit: u,
                                source,
                                out: Arc::clone(out),
                                written,
                                elems: emitted..done,
                            });
                        }
                        emitted = done;
                    }
                }
                let at = start + e.tensor.dtype.bytes_for(done).unwrap_or(0);
                if at - flushed >= FLUSH_EVERY {
                    flushed = at;
                    if let Ok(h) = handle.try_clone() {
                        // the flushing thread only stops early on an error, which the final fsync reports
                        let _ = sinks.flush.send((path.clone(), h));
                    }
                }
            };
            if numel == 0 {
                send(0);
            }
            w.write(&reader, e, &mut buf, &mut send)?;
        }
        let (bytes, file) = w.finish()?;
        unsynced.push((path, file));
        r.files.push(Written {
            path: if work.to_folder {
                unit.dir.join(&f.name)
            } else {
                r.output.file_name().map(PathBuf::from).unwrap_or_default()
            },
            tensors: f.entries.len(),
            bytes,
        });
        r.tensors += f.entries.len();
    }
    if let Some((name, text)) = &plan.index {
        let path = dir.join(name);
        write_small(&path, text.as_bytes())?;
        r.files.push(Written {
            path: unit.dir.join(name),
            tensors: 0,
            bytes: text.len() as u64,
        });
    }
    record(unit, ck, plan, r);
    Ok(())
}

/// Aliases, skipped tensors and what was left out, named with the unit's folder.
fn record(unit: &Unit, ck: &Checkpoint, plan: &UnitPlan<'_>, r: &mut Report) {
    let prefix = if unit.dir.as_os_str().is_empty() {
        String::new()
    } else {
        format!("{}/", unit.dir.to_string_lossy())
    };
    r.data_bytes += plan.data_bytes;
    r.aliases.extend(
        plan.aliases
            .iter()
            .map(|(d, k)| (format!("{prefix}{d}"), format!("{prefix}{k}"))),
    );
    r.skipped.extend(
        plan.skipped
            .iter()
            .map(|(n, d)| (format!("{prefix}{n}"), d.to_string())),
    );
    r.left_out.extend(ck.warnings.iter().cloned());
    r.left_out.extend(plan.dropped_metadata.iter().map(|k| {
        format!(
            "{}: metadata value {} (the key is taken by the converter)",
            show(&unit.input),
            escape(k)
        )
    }));
}

fn write_small(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create_new(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// A temporary file or folder beside the output, removed unless published.
pub(super) struct Temp {
    pub path: PathBuf,
    published: bool,
}

impl Temp {
    /// A name in the target's folder: `.tensorscope-tmp-<pid>-<nanos>-<name>`.
    pub fn beside(target: &Path) -> Result<Temp> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(Error::Usage(format!(
                "{}: the output's folder does not exist",
                show(&parent)
            )));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .subsec_nanos();
        let path = parent.join(format!(".tensorscope-tmp-{}-{nanos}-{name}", std::process::id()));
        Ok(Temp { path, published: false })
    }

    /// Rename into place, then flush the folder so the rename itself is durable.
    pub fn publish(mut self, target: &Path) -> Result<()> {
        std::fs::rename(&self.path, target).map_err(|e| Error::io(target, e))?;
        self.published = true;
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.published {
            if self.path.is_dir() {
                let _ = std::fs::remove_dir_all(&self.path);
            } else {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}
