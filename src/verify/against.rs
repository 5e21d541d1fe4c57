//! Verify local files against a Hugging Face Hub repository (`hf://ORG/NAME[@REV][/PATH]`) without
//! downloading them again: the Hub's file listing gives every LFS file's SHA-256 and size, and every
//! other file's git blob id (SHA-1 of `blob LEN\0` and the bytes). Each local file is hashed with the
//! algorithm the listing has for it (on every core) and compared; sizes are compared first.
//!
//! The listing comes through the remote layer ([`crate::remote::Env`]) and its cache. Offline, the
//! comparison is refused: a cached listing says what the repository held when it was cached, not
//! what it holds at the revision now.

use std::path::Path;

use super::hash::{self, Algorithm, Job};
use super::walk::{self, Ignores};
use super::{Against, FileCheck, Report, Status, short};
use crate::Error;
use crate::remote::{Env, RemotePath};

/// Options of [`verify`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Local files the repository does not hold are accepted (they are not checked).
    pub ignore_unsigned_files: bool,
    /// Repository files missing here are accepted (a partial download).
    pub ignore_missing_files: bool,
    /// Paths left out, relative to the local folder and to the repository path.
    pub ignore_paths: Vec<std::path::PathBuf>,
    /// Hashing threads (0 = one per core).
    pub threads: usize,
}

/// Compare the local file or folder `local` with the repository path `remote` (`hf://…`).
pub fn verify(local: &Path, remote: &str, env: &Env, opts: &Options) -> Result<Report, Error> {
    match RemotePath::parse(remote)? {
        Some(RemotePath::Hub { .. }) => {}
        _ => {
            return Err(Error::Usage(format!(
                "--against takes a Hub path hf://ORG/NAME[@REV][/PATH], not {}",
                crate::text::escape(remote)
            )));
        }
    }
    if env.offline() {
        return Err(Error::Usage(format!(
            "{}: --against compares with the Hub's file listing at the revision, which needs the network (drop --offline)",
            crate::text::escape(remote)
        )));
    }
    let m = env
        .open_mirror(Path::new(remote))?
        .ok_or_else(|| Error::Usage(format!("{}: not a Hub path", crate::text::escape(remote))))?;
    let mut ignores = Ignores::default();
    for p in walk::DEFAULT_IGNORES
        .iter()
        .map(Path::new)
        .chain(opts.ignore_paths.iter().map(|p| p.as_path()))
    {
        ignores.add(p);
    }
    let mut local_ignores = ignores.clone();
    local_ignores.add(Path::new(".cache/huggingface"));
    let local_files = walk::walk(local, &local_ignores, true)?;
    let single = local_files.len() == 1 && local_files[0].name == ".";
    // the repository files under the path, named relative to it
    let prefix = m
        .target
        .strip_prefix(&m.files_dir)
        .ok()
        .and_then(|p| p.to_str())
        .unwrap_or("")
        .to_owned();
    let mut remote_files: Vec<(String, &crate::remote::RemoteFile)> = Vec::new();
    for f in &m.files {
        let rel = if prefix.is_empty() {
            Some(f.rel.as_str())
        } else if f.rel == prefix {
            Some(Path::new(&f.rel).file_name().and_then(|n| n.to_str()).unwrap_or(&f.rel))
        } else {
            f.rel.strip_prefix(&format!("{prefix}/"))
        };
        let Some(rel) = rel else { continue };
        let parts: Vec<std::ffi::OsString> = Path::new(rel).iter().map(|c| c.to_os_string()).collect();
        if ignores.matches(&parts) {
            continue;
        }
        remote_files.push((rel.to_owned(), f));
    }
    if single {
        // one local file: the repository file the path names, or the one of the same name
        let name = local.file_name().and_then(|n| n.to_str()).unwrap_or("");
        remote_files.retain(|(rel, _)| remote_files_is_one(&prefix, &m.files_dir, &m.target) || rel == name);
        if let Some((rel, _)) = remote_files.first_mut() {
            *rel = ".".into();
        }
    }
    remote_files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut report = Report {
        path: local.display().to_string(),
        kind: "hf-hub",
        verified: false,
        signature: None,
        against: Some(Against {
            remote: remote.to_owned(),
            commit: m.commit.clone(),
        }),
        problem: None,
        files: Vec::new(),
        bytes_hashed: 0,
        hash_seconds: 0.0,
        threads: 0,
    };
    let shown = |name: &str| {
        if name == "." {
            local
                .file_name()
                .map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
        } else {
            name.to_owned()
        }
    };
    let mut jobs = Vec::new();
    let mut wanted = Vec::new();
    for (rel, rf) in &remote_files {
        let Some(l) = local_files.iter().find(|l| l.utf8 && l.name == *rel) else {
            if !opts.ignore_missing_files {
                report.files.push(FileCheck::new(
                    shown(rel),
                    Status::Missing,
                    "in the repository, not here",
                ));
            }
            continue;
        };
        if let Some(why) = l.not_regular {
            report.files.push(FileCheck::new(shown(rel), Status::NotRegular, why));
            continue;
        }
        if l.len != rf.size {
            let mut c = FileCheck::new(
                shown(rel),
                Status::Changed,
                format!("{} bytes here, {} on the Hub", l.len, rf.size),
            );
            c.bytes = Some(l.len);
            report.files.push(c);
            continue;
        }
        let (algo, want) = match (&rf.hashes.lfs_sha256, &rf.hashes.git_sha1) {
            (Some(s), _) => (Algorithm::Sha256, s.clone()),
            (None, Some(g)) => (Algorithm::GitSha1, g.clone()),
            (None, None) => {
                report.files.push(FileCheck::new(
                    shown(rel),
                    Status::Unreadable,
                    "the Hub's listing gives no hash for it",
                ));
                continue;
            }
        };
        jobs.push(Job {
            path: l.path.clone(),
            start: 0,
            end: None,
            algo,
        });
        wanted.push((shown(rel), want));
    }
    for l in &local_files {
        let known = remote_files.iter().any(|(rel, _)| l.utf8 && *rel == l.name);
        if !known && !opts.ignore_unsigned_files {
            let at = m
                .commit
                .as_deref()
                .map_or(String::new(), |c| format!(" at {}", short(c)));
            report.files.push(FileCheck::new(
                shown(&l.name),
                Status::Unsigned,
                format!("not in the repository{at}"),
            ));
        }
    }
    let results = hash::hash_all_into(&jobs, opts.threads, &mut report);
    for ((name, want), (job, r)) in wanted.into_iter().zip(jobs.iter().zip(results)) {
        let algo = job.algo.name();
        match r {
            Ok((d, n)) => {
                report.bytes_hashed += n;
                let got = hash::hex(&d);
                let mut c = if got == want {
                    FileCheck::new(name, Status::Ok, "")
                } else {
                    FileCheck::new(
                        name,
                        Status::Changed,
                        format!("{algo} is {}…, the Hub lists {}…", short(&got), short(&want)),
                    )
                };
                c.digest = Some(format!("{algo}:{got}"));
                c.bytes = Some(n);
                report.files.push(c);
            }
            Err(e) => report
                .files
                .push(FileCheck::new(name, Status::Unreadable, format!("cannot read: {e}"))),
        }
    }
    report.files.sort_by(|a, b| a.name.cmp(&b.name));
    report.verified = !report.files.is_empty() && report.files.iter().all(|f| f.status == Status::Ok);
    if report.files.is_empty() {
        report.problem = Some("no file to compare".into());
        report.verified = false;
    }
    Ok(report)
}

/// Whether the repository path names one file (then a single local file is compared with it,
/// whatever its name).
fn remote_files_is_one(prefix: &str, files_dir: &Path, target: &Path) -> bool {
    !prefix.is_empty() && files_dir.join(prefix) == target && target.is_file()
}
