//! The temporary file or folder an output is written into beside its target, the lock that marks
//! it live, the sweep of those left by killed runs, and their removal on a signal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::text::path as show;
use crate::{Error, Result};

/// How every temporary output name starts.
pub(super) const TEMP_PREFIX: &str = ".tensorscope-tmp-";

/// The process id in `.tensorscope-tmp-<pid>-<nanos>-<name>` when the entry is a temporary output
/// for `name`.
fn temp_owner(entry: &str, name: &str) -> Option<u32> {
    let rest = entry.strip_prefix(TEMP_PREFIX)?;
    let (pid, rest) = rest.split_once('-')?;
    let (nanos, rest) = rest.split_once('-')?;
    (rest == name && nanos.bytes().all(|b| b.is_ascii_digit()) && !nanos.is_empty())
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether a process with this id exists on this machine (signal 0 checks without sending).
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
    let r = unsafe { libc::kill(pid, 0) };
    let exists = r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    exists && !zombie(pid)
}

/// Whether `pid` has exited and only waits for its parent to reap it (state `Z` or `X` in
/// `/proc/PID/stat`): it will never clean up after itself. `false` where `/proc` cannot tell.
fn zombie(pid: libc::pid_t) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) S …`: the command name may hold spaces and parentheses, the state follows the last `)`
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('Z' | 'X'))
}

/// Suffix of the lock file each run holds beside its temporary output while it lives.
const LOCK_SUFFIX: &str = ".lock";

/// Take `f`'s exclusive lock without waiting; `false` when another process holds it.
fn try_lock(f: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own; the lock goes when the file is closed or the process dies.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Whether the run that made temporary `path` (owned by `pid`) is gone. A run holds an exclusive
/// `flock` on `path.lock` while it lives, which works across PID namespaces and on network
/// folders; the lock dies with the process. A temporary with no lock file (from a version before
/// locks) falls back to asking whether the process id is alive on this machine.
fn abandoned(path: &Path, pid: u32) -> bool {
    let mut lock = path.as_os_str().to_owned();
    lock.push(LOCK_SUFFIX);
    match std::fs::File::open(&lock) {
        Ok(f) => try_lock(&f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => pid != std::process::id() && !alive(pid),
        Err(_) => false,
    }
}

/// Remove the temporary outputs for `name` in `parent` (and their lock files) left by runs that
/// were killed; entries of live runs are left alone. Best effort: a leftover that cannot be
/// removed is only disk space.
fn sweep_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let lock_name = format!("{name}{LOCK_SUFFIX}");
    for e in entries.flatten() {
        let entry = e.file_name();
        let Some(entry) = entry.to_str() else { continue };
        let path = e.path();
        if let Some(pid) = temp_owner(entry, name) {
            if abandoned(&path, pid) {
                remove_entry(&path);
                let mut lock = path.into_os_string();
                lock.push(LOCK_SUFFIX);
                let _ = std::fs::remove_file(lock);
            }
        } else if temp_owner(entry, &lock_name).is_some() {
            // a lock whose temporary is gone (else the temporary's turn removes both): remove it
            // once nobody holds it
            let temp = path.with_file_name(entry.trim_end_matches(LOCK_SUFFIX));
            let orphan = std::fs::symlink_metadata(&temp).is_err();
            if orphan && std::fs::File::open(&path).is_ok_and(|f| try_lock(&f)) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Remove a file, link or folder without following links.
fn remove_entry(path: &Path) {
    let _ = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    };
}

/// The temporaries of this process not yet published nor removed (with their lock files), for
/// [`remove_temporaries`].
static LIVE: std::sync::Mutex<Vec<(PathBuf, Option<PathBuf>)>> = std::sync::Mutex::new(Vec::new());

/// Remove this process's temporary outputs and their lock files now, for a front end that is about
/// to end the process on a signal (SIGTERM, SIGINT, SIGHUP; SIGKILL cannot be caught, and its leftover
/// is swept by the next run to the same output). Not from a signal handler: it takes a lock and
/// touches the file system. A temporary being renamed into place at that moment is either published
/// whole or removed.
pub fn remove_temporaries() {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    for (path, lock) in live.drain(..) {
        remove_entry(&path);
        if let Some(lock) = lock {
            let _ = std::fs::remove_file(lock);
        }
    }
}

/// A temporary file or folder beside the output, removed unless published.
pub(super) struct Temp {
    pub path: PathBuf,
    published: bool,
    /// `path.lock`, exclusively locked while this run lives (see [`sweep_stale`]).
    lock: Option<(PathBuf, std::fs::File)>,
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
        sweep_stale(&parent, &name);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .subsec_nanos();
        let path = parent.join(format!("{TEMP_PREFIX}{}-{nanos}-{name}", std::process::id()));
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(LOCK_SUFFIX);
        let lock_path = PathBuf::from(lock_path);
        // create_new: never follows a link planted under the name
        let lock = std::fs::File::create_new(&lock_path)
            .ok()
            .filter(try_lock)
            .map(|f| (lock_path, f));
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((path.clone(), lock.as_ref().map(|l| l.0.clone())));
        Ok(Temp {
            path,
            published: false,
            lock,
        })
    }

    /// Rename into place, then flush the folder so the rename itself is durable. Without `force` the
    /// rename never replaces anything (atomically on Linux: `RENAME_NOREPLACE`) but an empty folder
    /// given as the output of a folder output; with it, only a regular file is replaced too.
    pub fn publish(mut self, target: &Path, force: bool) -> Result<()> {
        let to_folder = self.path.is_dir();
        // checked again here: the output may have appeared, or changed kind, while we were writing
        super::target::check_kind(target, to_folder, force)?;
        // rename(2) replaces a folder only while it is empty, atomically (ENOTEMPTY otherwise)
        let onto_folder = to_folder && std::fs::symlink_metadata(target).is_ok_and(|m| m.is_dir());
        super::target::rename(&self.path, target, force || onto_folder)?;
        self.published = true;
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(parent)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        // held while the entry goes, so that remove_temporaries never races this removal
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|(p, _)| *p != self.path);
        if !self.published {
            remove_entry(&self.path);
        }
        // the temporary is gone (published or removed): then its lock
        if let Some((path, _file)) = self.lock.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_zombie_is_not_alive() {
        // an exited child not yet waited for stays a zombie: signal 0 still finds it
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = std::time::Instant::now();
        while !zombie(pid as libc::pid_t) && start.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(zombie(pid as libc::pid_t), "the child never became a zombie");
        assert!(!alive(pid), "a zombie cannot clean up: it counts as gone");
        child.wait().unwrap();
        assert!(alive(std::process::id()) && !zombie(std::process::id() as libc::pid_t));
    }

    use super::*;

    #[test]
    fn temp_names_name_their_owner() {
        assert_eq!(
            temp_owner(".tensorscope-tmp-42-123-m.safetensors", "m.safetensors"),
            Some(42)
        );
        assert_eq!(temp_owner(".tensorscope-tmp-42-123-a-b", "a-b"), Some(42));
        assert_eq!(
            temp_owner(".tensorscope-tmp-42-123-m.safetensors", "n.safetensors"),
            None
        );
        assert_eq!(temp_owner(".tensorscope-tmp-x-123-m", "m"), None);
        assert_eq!(temp_owner(".tensorscope-tmp-42--m", "m"), None);
        assert_eq!(temp_owner("m.safetensors", "m.safetensors"), None);
    }

    #[test]
    fn stale_temporaries_of_dead_runs_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        // a process that has exited: its id names a run that was killed
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        let stale_file = dir.path().join(format!("{TEMP_PREFIX}{dead}-1-m.safetensors"));
        let stale_dir = dir.path().join(format!("{TEMP_PREFIX}{dead}-2-m.safetensors"));
        let mine = dir.path().join(format!("{TEMP_PREFIX}{me}-3-m.safetensors"));
        let other = dir.path().join(format!("{TEMP_PREFIX}{dead}-4-other.safetensors"));
        let user = dir.path().join("m.safetensors.bak");
        for f in [&stale_file, &mine, &other, &user] {
            std::fs::write(f, b"x").unwrap();
        }
        std::fs::create_dir(&stale_dir).unwrap();
        std::fs::write(stale_dir.join("model-00001-of-00002.safetensors"), b"x").unwrap();
        if alive(dead) {
            eprintln!("skipped: process id {dead} was reused already");
            return;
        }
        // a live run elsewhere (another host or container: its pid means nothing here) holds its lock
        let remote = dir.path().join(format!("{TEMP_PREFIX}{dead}-5-m.safetensors"));
        std::fs::write(&remote, b"x").unwrap();
        let remote_lock =
            std::fs::File::create(dir.path().join(format!("{TEMP_PREFIX}{dead}-5-m.safetensors.lock"))).unwrap();
        assert!(try_lock(&remote_lock));
        // a killed run's lock file, nobody holding it (a container's pid may equal ours)
        let killed = dir.path().join(format!("{TEMP_PREFIX}{me}-6-m.safetensors"));
        std::fs::write(&killed, b"x").unwrap();
        std::fs::write(dir.path().join(format!("{TEMP_PREFIX}{me}-6-m.safetensors.lock")), b"").unwrap();
        sweep_stale(dir.path(), "m.safetensors");
        assert!(
            !stale_file.exists() && !stale_dir.exists(),
            "dead runs' leftovers removed"
        );
        assert!(mine.exists(), "our own temporary without a lock file kept (pid check)");
        assert!(other.exists(), "another output's temporary kept");
        assert!(user.exists(), "the user's files kept");
        assert!(remote.exists(), "a locked temporary is live, whatever its pid");
        assert!(!killed.exists(), "an unlocked lock file marks a dead run");
        let locks: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".lock"))
            .collect();
        assert_eq!(locks, [format!("{TEMP_PREFIX}{dead}-5-m.safetensors.lock")]);
        drop(remote_lock);
    }
}
