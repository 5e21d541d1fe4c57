//! The scan of paths as a user gives them: files, folders (every file under them, each judged by
//! its name and first bytes, checkpoints scanned, configs and code checked, the rest listed as
//! skipped) and remote mirrors.

use std::collections::HashSet;
use std::path::PathBuf;

use super::{
    FileScan, NOT_A_CHECKPOINT, ScanOptions, ScanReport, Skipped, index_refs, loaders, remote_code, scan_opened,
    template_files,
};
use crate::remote::Opener;
use crate::{Error, Result};

/// Scan files and folders (recursively, following links to files, files sorted by path).
///
/// Which files are checkpoints is decided by [`crate::checkpoint::files`], as for `inspect`: index
/// and JSON files, text, images and other files no loader reads are listed in
/// [`ScanReport::skipped`], never scanned as checkpoints and never dropped silently; a candidate the
/// scanner finds no pickle in at all is skipped the same way, unless its name claims a checkpoint
/// ([`crate::checkpoint::files::named_like_a_checkpoint`]): then it is reported. A file reached under several names
/// (a cache blob and its snapshot link) is scanned once, its other names in [`FileScan::also`].
///
/// Finding no checkpoint at all under the paths given is an error: a CI job pointed at the wrong
/// folder must not pass.
pub fn scan_paths(paths: &[PathBuf]) -> Result<ScanReport> {
    scan_paths_with(paths, &ScanOptions::default())
}

/// [`scan_paths`] with options (the user's allow list, the remote context).
pub fn scan_paths_with(paths: &[PathBuf], opts: &ScanOptions) -> Result<ScanReport> {
    scan_paths_in(&Opener::default(), paths, opts)
}

fn scan_paths_in(opener: &Opener, paths: &[PathBuf], opts: &ScanOptions) -> Result<ScanReport> {
    use crate::checkpoint::files::{self, Looks, Role};
    let mut report = ScanReport::default();
    let mut seen = HashSet::new();
    let mut by_id: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    for p in paths {
        let mirror = match &opts.remote {
            Some(env) => env.open_mirror(p)?,
            None => {
                crate::remote::url::refuse_remote(p)?;
                None
            }
        };
        if let Some(m) = mirror {
            let r = scan_remote(m, opts)?;
            report.files.extend(r.files);
            report.skipped.extend(r.skipped);
            continue;
        }
        for f in files::list(opener, p)? {
            if !seen.insert(f.path.clone()) {
                continue;
            }
            // the same file named twice on the command line (a blob and its snapshot link): once
            let id = std::fs::metadata(&f.path).ok().map(|m| {
                use std::os::unix::fs::MetadataExt;
                (m.dev(), m.ino())
            });
            if let Some(&i) = id.and_then(|id| by_id.get(&id)) {
                let first: &mut FileScan = &mut report.files[i];
                first.also.push(crate::text::os_lossless(f.path.as_os_str()));
                continue;
            }
            let label = crate::text::os_lossless(f.path.as_os_str());
            let local = opener.remote_file(&f.path).is_none();
            let looks = match f.role {
                // a remote folder's configs and code are not fetched (only checkpoints are), so
                // they are judged locally only, as template files are
                Role::Skipped(looks) if local => {
                    match remote_code::scan_local(&f.path, opts, template_files::scan_local(opener, &f.path, opts)) {
                        Some(scan) => {
                            report.files.push(scan);
                            continue;
                        }
                        None => Some(looks),
                    }
                }
                Role::Skipped(looks) => Some(looks),
                Role::Index => match local.then(|| index_refs::scan_local(&f.path, opts)).flatten() {
                    Some(mut scan) => {
                        loaders::assign(&mut scan);
                        report.files.push(scan);
                        continue;
                    }
                    None => None,
                },
                Role::Checkpoint(_) => {
                    let mut scan = scan_opened(opener, &f.path, opts);
                    // a file named like a checkpoint that no reader makes sense of stays reported
                    let nothing = scan.format == "unknown"
                        && !files::named_like_a_checkpoint(&f.path)
                        && scan.findings.iter().all(|x| NOT_A_CHECKPOINT.contains(&x.why.as_str()));
                    if !nothing {
                        scan.also = f.also.iter().map(|a| crate::text::os_lossless(a.as_os_str())).collect();
                        if let Some(id) = id {
                            by_id.insert(id, report.files.len());
                        }
                        report.files.push(scan);
                        continue;
                    }
                    // the pickle probe found nothing a loader would read; code is still code
                    if let Some(scan) = local.then(|| remote_code::scan_local(&f.path, opts, None)).flatten() {
                        report.files.push(scan);
                        continue;
                    }
                    Some(files::looks_without_pickle(opener, &f.path))
                }
            };
            report.skipped.push(Skipped {
                path: label,
                looks: looks.map_or("index", Looks::as_str).to_owned(),
                index: looks.is_none(),
            });
        }
    }
    if report.files.is_empty() {
        let first = report.skipped.first();
        return Err(match (paths, first) {
            ([one], Some(s)) if !one.is_dir() => Error::Usage(format!(
                "not a checkpoint: {} (looks like: {}); {}",
                crate::text::path(one),
                s.looks,
                if s.looks.contains("Git LFS") {
                    "run `git lfs pull` or download the file itself"
                } else {
                    crate::formats::sniff::READS
                }
            )),
            (_, _) => {
                let what = paths
                    .iter()
                    .map(|p| crate::text::path(p))
                    .collect::<Vec<_>>()
                    .join(", ");
                let n = report.skipped.len();
                let lfs = report.skipped.iter().filter(|s| s.looks.contains("Git LFS")).count();
                Error::Usage(match n {
                    0 => format!("{what}: no checkpoint found (no files)"),
                    n if lfs > 0 => format!(
                        "{what}: no checkpoint found ({n} file{} skipped as not checkpoints, {lfs} of them Git LFS \
                         pointers: run `git lfs pull` or download the files themselves)",
                        if n == 1 { "" } else { "s" }
                    ),
                    n => format!(
                        "{what}: no checkpoint found ({n} file{} skipped as not checkpoints)",
                        if n == 1 { "" } else { "s" }
                    ),
                })
            }
        });
    }
    Ok(report)
}

/// Scan the mirror of a remote path: fetch what every file needs (a few files at a time), then
/// scan the sparse copies (named by their remote paths).
fn scan_remote(m: std::sync::Arc<crate::remote::Mirror>, opts: &ScanOptions) -> Result<ScanReport> {
    crate::remote::prepare_all(&m);
    let target = m.target.clone();
    let local = ScanOptions {
        remote: None,
        ..opts.clone()
    };
    scan_paths_in(&Opener::mirror(m), std::slice::from_ref(&target), &local)
}
