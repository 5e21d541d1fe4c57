//! The Files tab's provenance: each file's SHA-256, computed on demand (`h`) on a worker that reports
//! its progress and stops when cancelled (Esc or `x`), then the verification `tensorscope verify`
//! runs when something can be verified: an OpenSSF Model Signing bundle (`model.sig`) beside the model
//! (with the key given as `--public-key`), or a Hugging Face cache folder (each blob against its name).
//!
//! Digests are SHA-256 from the `sha2` crate, the implementation `verify` hashes with (the CPU's SHA
//! extensions where present), read in chunks so that a 500 MB file shows its progress and a cancel
//! takes effect within one chunk. Verification is `tensorscope::verify` itself, called, not copied.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::Digest as _;
use tensorscope::text::plural;
use tensorscope::verify;

/// Bytes read between two progress reports (and cancel checks).
const CHUNK: usize = 4 << 20;

/// One file's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    /// Not asked for yet.
    None,
    /// Waiting for the files before it.
    Queued,
    /// Being read: bytes done of the total.
    Hashing { done: u64, total: u64 },
    /// SHA-256, lower-case hex.
    Done(String),
    /// SHA-256 of `hashed` bytes, where the file had `listed` bytes when it was opened: it changed
    /// since (truncated, grown), and the digest is of what it holds now.
    Changed { hex: String, hashed: u64, listed: u64 },
    /// Why it could not be hashed (one line).
    Failed(String),
    /// Cancelled before it finished.
    Cancelled,
}

/// What the model's provenance is known to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// Nothing to verify against: no `model.sig` beside the model, not a Hugging Face cache folder.
    NotSigned,
    /// Something to verify against, not checked yet (`h` checks it).
    Unchecked(Check),
    /// A `model.sig` sits beside the model, but no key was given to check it with.
    NoKey(PathBuf),
    /// `verify` is running.
    Checking,
    /// Verified, in words (`OMS v1.0 signature model.sig (ECDSA P-256), 4 files`).
    Verified(String),
    /// Not verified: what failed, file by file.
    Failed(Vec<String>),
    /// The check could not run (unreadable signature, bad key: one line).
    Error(String),
}

/// What the model can be verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// An OMS bundle and the public key (PEM file) to check it with.
    Oms {
        model: PathBuf,
        signature: PathBuf,
        key: PathBuf,
    },
    /// A Hugging Face cache folder or snapshot.
    HfCache(PathBuf),
}

/// A worker's report.
#[derive(Debug, Clone)]
pub enum HashMsg {
    /// File `file` (index into the checkpoint's files) has `done` of `total` bytes hashed.
    Progress { file: usize, done: u64, total: u64 },
    /// File `file` is hashed (hex), or why not.
    File {
        file: usize,
        digest: Result<String, String>,
    },
    /// File `file` is hashed, but its size is no longer the one it was opened with.
    Changed {
        file: usize,
        hex: String,
        hashed: u64,
        listed: u64,
    },
    /// Verification started.
    Checking,
    /// What verification found.
    Checked(Provenance),
    /// The worker stopped (finished or cancelled).
    Finished,
}

/// The Files tab's digests and provenance.
#[derive(Debug)]
pub struct FilesState {
    /// One per file of the checkpoint.
    pub digests: Vec<Digest>,
    pub provenance: Provenance,
    /// What `h` verifies against, if anything.
    check: Option<Check>,
    /// A `--public-key` given where there is no `model.sig` to check it against (said, not ignored).
    pub key_unused: Option<PathBuf>,
    /// Set while a worker runs; storing `true` stops it.
    cancel: Option<Arc<AtomicBool>>,
    /// Where the last frame drew each long metadata value (its first row in the tab's text, its
    /// key), for `v` to open the one on screen; the renderer sets it.
    pub drawn_values: std::cell::RefCell<Vec<(usize, String)>>,
}

/// What a hashing worker does: the files (index, path, size) and then the check, if any.
#[derive(Debug)]
pub struct Plan {
    pub files: Vec<(usize, PathBuf, u64)>,
    pub check: Option<Check>,
    pub cancel: Arc<AtomicBool>,
}

impl FilesState {
    /// The state of a checkpoint at `path` with `files`; `key` is the `--public-key` given, if any.
    pub fn new(path: &Path, files: usize, key: Option<&Path>) -> Self {
        let provenance = provenance_of(path, key);
        let check = match &provenance {
            Provenance::Unchecked(c) => Some(c.clone()),
            _ => None,
        };
        let key_unused = match (&check, key) {
            (Some(Check::Oms { .. }), _) | (_, None) => None,
            (_, Some(k)) => Some(k.to_path_buf()),
        };
        FilesState {
            digests: vec![Digest::None; files],
            provenance,
            check,
            key_unused,
            cancel: None,
            drawn_values: Default::default(),
        }
    }

    /// Whether a worker is hashing or verifying.
    pub fn running(&self) -> bool {
        self.cancel.is_some()
    }

    /// The plan for hashing `files` (path, size) and checking the provenance; `None` when already
    /// running.
    pub fn start(&mut self, files: &[(PathBuf, u64)]) -> Option<Plan> {
        if self.running() {
            return None;
        }
        let cancel = Arc::new(AtomicBool::new(false));
        self.cancel = Some(cancel.clone());
        for d in &mut self.digests {
            *d = Digest::Queued;
        }
        // checked before: checked again (the files may have changed)
        let check = self.check.clone();
        if let Some(c) = &check {
            self.provenance = Provenance::Unchecked(c.clone());
        }
        Some(Plan {
            files: files.iter().enumerate().map(|(i, (p, n))| (i, p.clone(), *n)).collect(),
            check,
            cancel,
        })
    }

    /// Stop the worker; what it finished stays. False when nothing runs.
    pub fn cancel(&mut self) -> bool {
        match self.cancel.take() {
            Some(c) => {
                c.store(true, Ordering::Relaxed);
                for d in &mut self.digests {
                    if matches!(d, Digest::Queued | Digest::Hashing { .. }) {
                        *d = Digest::Cancelled;
                    }
                }
                if self.provenance == Provenance::Checking {
                    self.provenance = self.check.clone().map_or(Provenance::NotSigned, Provenance::Unchecked);
                }
                true
            }
            None => false,
        }
    }

    /// Apply a worker's report (reports of a cancelled worker are dropped).
    pub fn apply(&mut self, msg: HashMsg) {
        if self.cancel.is_none() {
            return;
        }
        match msg {
            HashMsg::Progress { file, done, total } => {
                if let Some(d) = self.digests.get_mut(file) {
                    *d = Digest::Hashing { done, total };
                }
            }
            HashMsg::File { file, digest } => {
                if let Some(d) = self.digests.get_mut(file) {
                    *d = match digest {
                        Ok(hex) => Digest::Done(hex),
                        Err(e) => Digest::Failed(e),
                    };
                }
            }
            HashMsg::Changed {
                file,
                hex,
                hashed,
                listed,
            } => {
                if let Some(d) = self.digests.get_mut(file) {
                    *d = Digest::Changed { hex, hashed, listed };
                }
            }
            HashMsg::Checking => self.provenance = Provenance::Checking,
            HashMsg::Checked(p) => self.provenance = p,
            HashMsg::Finished => self.cancel = None,
        }
    }
}

/// What `path` can be verified against: `model.sig` inside a folder (or beside it when only that
/// exists) or beside a file, as `tensorscope verify` picks it; else a Hugging Face cache folder.
fn provenance_of(path: &Path, key: Option<&Path>) -> Provenance {
    if path.is_file() || path.is_dir() {
        let beside = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("model.sig");
        let inside = path.join("model.sig");
        let signature = if path.is_dir() && (inside.exists() || !beside.exists()) {
            inside
        } else {
            beside
        };
        if signature.is_file() {
            return match key {
                Some(k) => Provenance::Unchecked(Check::Oms {
                    model: path.to_path_buf(),
                    signature,
                    key: k.to_path_buf(),
                }),
                None => Provenance::NoKey(signature),
            };
        }
    }
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match verify::hf::detect(&abs) {
        Some(_) => Provenance::Unchecked(Check::HfCache(path.to_path_buf())),
        None => Provenance::NotSigned,
    }
}

/// Run `plan` on a new thread, reporting through `send`.
pub fn spawn(plan: Plan, send: impl Fn(HashMsg) + Send + 'static) {
    std::thread::spawn(move || {
        for (i, path, total) in &plan.files {
            if plan.cancel.load(Ordering::Relaxed) {
                return;
            }
            send(HashMsg::Progress {
                file: *i,
                done: 0,
                total: *total,
            });
            let mut hashed = 0;
            let r = sha256(path, &plan.cancel, &mut |done| {
                hashed = done;
                send(HashMsg::Progress {
                    file: *i,
                    done,
                    total: *total,
                });
            });
            match r {
                // the file is not what was opened: say what was hashed, not the size listed beside it
                Ok(Some(hex)) if hashed != *total => send(HashMsg::Changed {
                    file: *i,
                    hex,
                    hashed,
                    listed: *total,
                }),
                Ok(Some(hex)) => send(HashMsg::File {
                    file: *i,
                    digest: Ok(hex),
                }),
                Ok(None) => return,
                Err(e) => send(HashMsg::File {
                    file: *i,
                    digest: Err(e),
                }),
            };
        }
        if let Some(c) = &plan.check {
            if plan.cancel.load(Ordering::Relaxed) {
                return;
            }
            send(HashMsg::Checking);
            let p = check(c);
            if plan.cancel.load(Ordering::Relaxed) {
                return;
            }
            send(HashMsg::Checked(p));
        }
        send(HashMsg::Finished);
    });
}

/// SHA-256 of the file at `path`, hex; `None` when cancelled. `progress` gets the bytes done after
/// each chunk.
pub fn sha256(path: &Path, cancel: &AtomicBool, progress: &mut dyn FnMut(u64)) -> Result<Option<String>, String> {
    let why = |e: std::io::Error| format!("cannot read {}: {e}", tensorscope::text::path(path));
    let mut f = std::fs::File::open(path).map_err(why)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(why(e)),
        };
        h.update(&buf[..n]);
        done = done.saturating_add(n as u64);
        progress(done);
    }
    Ok(Some(verify::hash::hex(&h.finalize())))
}

/// Run `tensorscope verify`'s check and say what it found.
pub fn check(c: &Check) -> Provenance {
    let report = match c {
        Check::Oms { model, signature, key } => {
            let key = match std::fs::read_to_string(key)
                .map_err(|e| format!("cannot read the public key {}: {e}", tensorscope::text::path(key)))
                .and_then(|pem| verify::keys::PublicKey::from_pem(&pem).map_err(|e| e.to_string()))
            {
                Ok(k) => k,
                Err(e) => return Provenance::Error(e),
            };
            verify::oms::verify(model, &verify::oms::Options::new(signature.clone(), key))
        }
        Check::HfCache(path) => verify::hf::verify(path, 0),
    };
    match report {
        Err(e) => Provenance::Error(e.to_string()),
        Ok(r) if r.verified => {
            let what = match &r.signature {
                Some(s) => format!(
                    "OMS v1.0 {} ({}), {}",
                    Path::new(&s.file)
                        .file_name()
                        .map_or_else(|| s.file.clone(), |n| n.to_string_lossy().into_owned()),
                    s.key,
                    plural(r.files.len() as u64, "file")
                ),
                None => {
                    // the snapshot's links to the blobs are listed too: count each kind for itself
                    let links = r
                        .files
                        .iter()
                        .filter(|f| f.digest.as_deref().is_some_and(|d| d.starts_with("->")))
                        .count();
                    let blobs = r.files.len() - links;
                    // counted as `tensorscope verify` counts them: `4 files match`
                    let n = r.files.len() as u64;
                    let mut what = format!(
                        "{} {} ({} against {}",
                        plural(n, "file"),
                        if n == 1 { "matches" } else { "match" },
                        plural(blobs as u64, "blob"),
                        if blobs == 1 { "its name" } else { "their names" }
                    );
                    if links > 0 {
                        what.push_str(&format!(", {}", plural(links as u64, "snapshot link")));
                    }
                    what + ")"
                }
            };
            Provenance::Verified(tensorscope::text::escape(&what).into_owned())
        }
        Ok(r) => {
            let mut lines: Vec<String> = r.problem.iter().cloned().collect();
            lines.extend(r.failures().map(|f| {
                let why = if f.why.is_empty() { f.status.word() } else { &f.why };
                format!("{}: {} ({why})", f.name, f.status.word())
            }));
            Provenance::Failed(
                lines
                    .iter()
                    .map(|l| tensorscope::text::escape(l).into_owned())
                    .collect(),
            )
        }
    }
}
