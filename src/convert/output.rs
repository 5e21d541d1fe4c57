//! Writing the output beside its target: the temporary file or folder, the writer reading back and
//! comparing as it goes, writeback started behind it, the fsync of everything, and the final rename.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::plan::{Layout, Unit, UnitPlan};
use super::verify::{self, Tally};
use super::writer::FileWriter;
use super::{Report, Verification, Written};
use crate::checkpoint::{Checkpoint, TensorInfo};
use crate::tensor::read::{ReadBack, TensorReader};
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

/// Write everything into `tmp`, comparing as it goes (when asked), and flush it all to disk.
pub(super) fn write_all(work: &Work<'_>, tmp: &Path, report: &mut Report) -> Result<()> {
    let started = Instant::now();
    if work.to_folder {
        std::fs::create_dir(tmp).map_err(|e| Error::io(tmp, e))?;
    }
    let (flush_tx, flush_rx) = mpsc::channel::<(PathBuf, std::fs::File)>();
    let mut checked = work.verify.then(Checked::default);
    let synced = std::thread::scope(|s| {
        // the disk writes back while we write and compare: one waits on the disk, the other on memory
        let flusher = s.spawn(move || flush_behind(flush_rx));
        let written = write_files(work, tmp, report, checked.as_mut(), &flush_tx);
        drop(flush_tx);
        report.write_seconds = started.elapsed().as_secs_f64();
        let flushed = flusher
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("the flushing thread panicked".into())));
        match (written, flushed) {
            (Ok(files), Ok(())) => files
                .iter()
                .try_for_each(|(p, f)| f.sync_all().map_err(|e| Error::io(p, e))),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    });
    synced?;
    report.verification = checked.map(|c| Verification {
        files: c.files,
        tensors: c.tally.tensors,
        bytes: c.tally.bytes,
        seconds: c.elapsed.as_secs_f64(),
    });
    Ok(())
}

/// What verification has checked so far.
#[derive(Debug, Default)]
struct Checked {
    files: usize,
    tally: Tally,
    elapsed: Duration,
}

type Unsynced = Vec<(PathBuf, std::fs::File)>;

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

/// Write every unit's files, the indexes and the copies.
fn write_files(
    work: &Work<'_>,
    tmp: &Path,
    r: &mut Report,
    mut checked: Option<&mut Checked>,
    flush: &mpsc::Sender<(PathBuf, std::fs::File)>,
) -> Result<Unsynced> {
    let mut unsynced = Vec::new();
    for ((unit, ck), plan) in work.layout.units.iter().zip(work.opened).zip(work.plans) {
        write_unit(
            work,
            (unit, ck, plan),
            tmp,
            r,
            checked.as_deref_mut(),
            flush,
            &mut unsynced,
        )?;
    }
    for rel in &work.layout.folders {
        let to = tmp.join(rel);
        std::fs::create_dir_all(&to).map_err(|e| Error::io(&to, e))?;
    }
    for rel in &work.layout.copies {
        let (from, to) = (work.input.join(rel), tmp.join(rel));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let file = copy_file(&from, &to)?;
        unsynced.push((to, file));
        r.copied.push(rel.clone());
    }
    Ok(unsynced)
}

fn write_unit(
    work: &Work<'_>,
    (unit, ck, plan): (&Unit, &Checkpoint, &UnitPlan<'_>),
    tmp: &Path,
    r: &mut Report,
    mut checked: Option<&mut Checked>,
    flush: &mpsc::Sender<(PathBuf, std::fs::File)>,
    unsynced: &mut Unsynced,
) -> Result<()> {
    let reader = TensorReader::new(ck);
    let dir = if work.to_folder {
        tmp.join(&unit.dir)
    } else {
        tmp.to_path_buf()
    };
    if work.to_folder {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let source_index: HashMap<&str, &TensorInfo> = ck.tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    let groups = verify::alias_groups(plan);
    let mut buf = Vec::new();
    for f in &plan.files {
        let path = if work.to_folder {
            dir.join(&f.name)
        } else {
            tmp.to_path_buf()
        };
        let mut w = FileWriter::create(&path, &f.entries, &plan.metadata)?;
        let handle = w.handle()?;
        let reopened = match checked {
            Some(_) => Some(verify::reopen(path.clone(), f, plan)?),
            None => None,
        };
        let out_reader = reopened.as_ref().map(|o| TensorReader::new(&o.ck));
        let mut read_back = ReadBack::new(&handle, &path);
        let mut flushed = w.written();
        for (entry, e) in f.entries.iter().enumerate() {
            let start = w.written();
            // after each chunk: start writing it back to disk every FLUSH_EVERY bytes
            let mut progress = |done: u64| {
                let at = start + e.tensor.dtype.bytes_for(done).unwrap_or(0);
                if at - flushed >= FLUSH_EVERY {
                    flushed = at;
                    if let Ok(h) = handle.try_clone() {
                        // the flushing thread only stops early on an error, which the final fsync reports
                        let _ = flush.send((path.clone(), h));
                    }
                }
            };
            let (Some(out), Some(out_reader), Some(c)) = (&reopened, &out_reader, checked.as_deref_mut()) else {
                w.write(&reader, e, &mut buf, None, &mut progress)?;
                continue;
            };
            let written = out
                .entry(entry)
                .ok_or_else(|| Error::format(&path, "verification failed"))?;
            read_back.start = written.contiguous_range().map_or(0, |r| r.start);
            let before = (read_back.bytes, read_back.elapsed);
            w.write(&reader, e, &mut buf, Some(&mut read_back), &mut progress)?;
            c.tally.tensors += 1;
            c.tally.bytes += read_back.bytes - before.0;
            c.elapsed += read_back.elapsed - before.1;
            let t0 = Instant::now();
            for &alias in groups.get(e.name.as_str()).into_iter().flatten() {
                let Some(source) = source_index.get(alias) else {
                    return Err(Error::format(
                        &path,
                        format!("verification failed: no source tensor {}", escape(alias)),
                    ));
                };
                verify::check_alias(&reader, source, out, out_reader, written, &mut c.tally)?;
            }
            c.elapsed += t0.elapsed();
        }
        if let Some(c) = checked.as_deref_mut() {
            c.files += 1;
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
    r.skipped
        .extend(plan.skipped.iter().map(|(n, d)| (format!("{prefix}{n}"), d.clone())));
    r.left_out.extend(ck.warnings.iter().cloned());
    r.left_out.extend(plan.dropped_metadata.iter().map(|k| {
        format!(
            "{}: metadata value {} left out (the key is taken by the converter: `format`, or the record of an alias)",
            show(&unit.input),
            escape(k)
        )
    }));
}

/// Copy `from` into the new file `to`, each error named after the file it is about (a full disk is
/// the output's, an unreadable file the input's); the copy is returned, open.
fn copy_file(from: &Path, to: &Path) -> Result<std::fs::File> {
    use std::io::{Read, Write};
    let mut src = std::fs::File::open(from).map_err(|e| Error::io(from, e))?;
    let mut dst = std::fs::File::create_new(to).map_err(|e| Error::io(to, e))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(from, e)),
        };
        dst.write_all(&buf[..n]).map_err(|e| Error::io(to, e))?;
    }
    if let Ok(m) = src.metadata() {
        let _ = dst.set_permissions(m.permissions());
    }
    Ok(dst)
}

fn write_small(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create_new(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}
