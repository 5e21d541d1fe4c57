//! Where `convert` may write: the output is created only as a regular file (or a folder for a folder
//! output) beside which a temporary was made with `O_EXCL`, and the final rename replaces nothing but
//! a regular file, and that only with `--force`. A device (`/dev/null`), FIFO, socket or symbolic
//! link under the output's name is refused and left untouched, whatever `--force` says.

use std::path::Path;

use crate::text::path as show;
use crate::{Error, Result};

/// `rename(from, to)`; without `replace`, fail with "exists" rather than replace anything.
pub(super) fn rename(from: &Path, to: &Path, replace: bool) -> Result<()> {
    if replace {
        return std::fs::rename(from, to).map_err(|e| match e.raw_os_error() {
            // a folder output onto a folder that is no longer empty
            Some(libc::ENOTEMPTY | libc::EEXIST) => Error::Usage(format!(
                "{}: the output folder is not empty; give a new or empty folder",
                show(to)
            )),
            _ => Error::io(to, e),
        });
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).ok();
        if let (Some(a), Some(b)) = (c(from), c(to)) {
            // SAFETY: two NUL-terminated paths that live across the call; no pointer is kept
            let rc = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    a.as_ptr(),
                    libc::AT_FDCWD,
                    b.as_ptr(),
                    libc::RENAME_NOREPLACE,
                )
            };
            if rc == 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                return Err(exists(to));
            }
            // EINVAL: a filesystem without RENAME_NOREPLACE; fall back to check-then-rename below
            if e.raw_os_error() != Some(libc::EINVAL) && e.raw_os_error() != Some(libc::ENOSYS) {
                return Err(Error::io(to, e));
            }
        }
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(exists(to));
    }
    std::fs::rename(from, to).map_err(|e| Error::io(to, e))
}

fn exists(target: &Path) -> Error {
    Error::Usage(format!(
        "{}: the output exists; use --force to replace it",
        show(target)
    ))
}

/// What kind of thing `m` is, for messages.
fn kind_of(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Whether `target` may receive the output: absent (in an existing folder), an empty folder for a
/// folder output, or a regular file with `force`. Devices, FIFOs, sockets and symbolic links are
/// refused and left untouched, whatever `force` says.
pub(super) fn check_kind(target: &Path, to_folder: bool, force: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = match target.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            return match std::fs::metadata(parent) {
                Ok(m) if m.is_dir() => Ok(()),
                Ok(_) => Err(Error::Usage(format!(
                    "{}: the output's folder {} is not a folder",
                    show(target),
                    show(parent)
                ))),
                Err(_) => Err(Error::Usage(format!(
                    "{}: the output's folder {} does not exist (create it first)",
                    show(target),
                    show(parent)
                ))),
            };
        }
        Err(e) => return Err(Error::io(target, e)),
    };
    let t = meta.file_type();
    if t.is_file() && !to_folder {
        return if force { Ok(()) } else { Err(exists(target)) };
    }
    if t.is_dir() && to_folder {
        // emptiness is checked by the caller, with the input overlap
        return Ok(());
    }
    let expected = if to_folder { "a folder" } else { "a regular file" };
    Err(Error::Usage(format!(
        "{}: the output is {}, not {expected}; tensorscope writes only regular files and never replaces anything else (choose another path)",
        show(target),
        kind_of(&meta)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_rename_replaces_only_what_it_may() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        std::fs::write(&a, b"new").unwrap();
        std::fs::write(&b, b"old").unwrap();
        // an output that appeared while we wrote is not replaced without force
        assert!(matches!(rename(&a, &b, false), Err(Error::Usage(m)) if m.contains("--force")));
        assert_eq!(std::fs::read(&b).unwrap(), b"old");
        rename(&a, &c, false).unwrap();
        assert_eq!(std::fs::read(&c).unwrap(), b"new");
        rename(&c, &b, true).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"new");
        // a link is never acceptable, forced or not; a regular file only with force
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&b, &link).unwrap();
        assert!(check_kind(&link, false, true).is_err());
        assert!(check_kind(&b, false, false).is_err());
        check_kind(&b, false, true).unwrap();
        // a folder is right for a folder output only; a file never is
        check_kind(dir.path(), true, false).unwrap();
        assert!(check_kind(dir.path(), false, true).is_err());
        assert!(check_kind(&b, true, true).is_err());
        check_kind(&dir.path().join("new"), false, false).unwrap();
        assert!(check_kind(&dir.path().join("x/new"), false, false).is_err());
    }
}
