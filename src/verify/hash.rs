//! Hash files and byte ranges of files on every core.
//!
//! SHA-256 comes from the `sha2` crate, which picks the CPU's SHA extensions (x86 SHA-NI, ARMv8 SHA2) at
//! run time when present. A job is one file or one shard; workers take the largest jobs first so a
//! folder of files keeps every core busy until the end.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::Digest as _;

/// Bytes read per `read` call: large enough that syscalls cost nothing next to hashing.
const CHUNK: usize = 4 << 20;

/// A digest algorithm named by an OMS predicate or an HF cache blob name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// BLAKE2b with a 64-byte digest (Python's `hashlib.blake2b()`).
    Blake2b,
    /// The git blob id: SHA-1 of `blob <len>\0` followed by the bytes (Hugging Face's name for small files).
    GitSha1,
}

impl Algorithm {
    /// The algorithm an OMS predicate names (`sha256`, `blake2b`); `None` for one we do not implement.
    pub fn from_oms(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "blake2b" | "blake2" => Some(Algorithm::Blake2b),
            _ => None,
        }
    }

    /// The name as OMS writes it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Blake2b => "blake2b",
            Algorithm::GitSha1 => "git-sha1",
        }
    }
}

enum Hasher {
    Sha256(sha2::Sha256),
    Blake2b(Box<blake2::Blake2b512>),
    Sha1(sha1::Sha1),
}

impl Hasher {
    fn new(algo: Algorithm, len: u64) -> Self {
        match algo {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Blake2b => Hasher::Blake2b(Box::default()),
            Algorithm::GitSha1 => {
                let mut h = sha1::Sha1::new();
                h.update(format!("blob {len}\0").as_bytes());
                Hasher::Sha1(h)
            }
        }
    }

    fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(b),
            Hasher::Blake2b(h) => h.update(b),
            Hasher::Sha1(h) => h.update(b),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Blake2b(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
        }
    }
}

/// One unit of hashing work: bytes `start..end` of a file (`end: None` = to the end of the file).
#[derive(Debug, Clone)]
pub struct Job {
    /// The file to read.
    pub path: PathBuf,
    /// First byte.
    pub start: u64,
    /// One past the last byte, or `None` for the whole rest of the file.
    pub end: Option<u64>,
    /// The algorithm.
    pub algo: Algorithm,
}

/// Digest of bytes in memory.
pub fn digest(algo: Algorithm, bytes: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(algo, bytes.len() as u64);
    h.update(bytes);
    h.finish()
}

/// Hash one job. A file shorter than `end` is an error (`UnexpectedEof`): the shard is not there.
pub fn hash_job(job: &Job, buf: &mut Vec<u8>) -> Hashed {
    let mut f = File::open(&job.path)?;
    let len = f.metadata()?.len();
    let end = job.end.unwrap_or(len);
    if end < job.start || end > len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("the file has {len} bytes, the range is {}..{end}", job.start),
        ));
    }
    advise_sequential(&f);
    if job.start > 0 {
        f.seek(SeekFrom::Start(job.start))?;
    }
    let mut left = end - job.start;
    let mut h = Hasher::new(job.algo, left);
    buf.resize(CHUNK, 0);
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let n = f.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok((h.finish(), end - job.start))
}

#[cfg(target_os = "linux")]
fn advise_sequential(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; the call only sets a read-ahead hint.
    unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL) };
}

#[cfg(not(target_os = "linux"))]
fn advise_sequential(_: &File) {}

/// A digest and the bytes read, or why the bytes could not be read.
pub type Hashed = std::io::Result<(Vec<u8>, u64)>;

/// [`hash_all`], recording in `report` the threads used and the seconds the hashing took.
pub fn hash_all_into(jobs: &[Job], threads: usize, report: &mut super::Report) -> Vec<Hashed> {
    report.threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
    .min(jobs.len().max(1));
    let t0 = std::time::Instant::now();
    let results = hash_all(jobs, threads);
    report.hash_seconds = t0.elapsed().as_secs_f64();
    results
}

/// Hash every job on up to `threads` threads (0 = one per core). Results come back in job order:
/// the digest and the bytes read, or the I/O error.
pub fn hash_all(jobs: &[Job], threads: usize) -> Vec<Hashed> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
    .clamp(1, jobs.len().max(1));
    // largest first, so the last job to start is a small one
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(job_len(&jobs[i])));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Hashed>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut buf = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let r = hash_job(&jobs[i], &mut buf);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(std::io::Error::other("not hashed"))))
        .collect()
}

fn job_len(j: &Job) -> u64 {
    match j.end {
        Some(e) => e.saturating_sub(j.start),
        None => file_len(&j.path).saturating_sub(j.start),
    }
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter().fold(String::with_capacity(b.len() * 2), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            hex(&digest(Algorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // `git hash-object` of a file holding "hello\n"
        assert_eq!(
            hex(&digest(Algorithm::GitSha1, b"hello\n")),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(&hex(&digest(Algorithm::Blake2b, b""))[..16], "786a02f742015903");
    }

    #[test]
    fn ranges_and_short_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"0123456789").unwrap();
        let job = |start, end| Job {
            path: p.clone(),
            start,
            end,
            algo: Algorithm::Sha256,
        };
        let jobs = [job(0, Some(4)), job(4, None), job(8, Some(12)), job(0, None)];
        let r = hash_all(&jobs, 3);
        assert_eq!(r[0].as_ref().unwrap().0, digest(Algorithm::Sha256, b"0123"));
        assert_eq!(r[1].as_ref().unwrap().0, digest(Algorithm::Sha256, b"456789"));
        assert_eq!(r[2].as_ref().unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
        assert_eq!(r[3].as_ref().unwrap().1, 10);
    }
}
