//! Small outputs written whole or not at all: a temporary file beside the target, synced, then renamed
//! over it, so a reader (or a crash) never sees half a file.

use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` through `.NAME.PID.tmp` in the same folder and a rename. The temporary file
/// is created new (a link planted under its name is never followed; a stale one left by a dead process
/// with the same id is removed first) and removed again when anything fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let create = || std::fs::File::create_new(&tmp);
    let mut file = match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp)?;
            create()?
        }
        r => r?,
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    #[test]
    fn writes_whole_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        // a stale temporary file of this process id is replaced, not followed
        let stale = dir.path().join(format!(".out.json.{}.tmp", std::process::id()));
        std::fs::write(&stale, b"stale").unwrap();
        write_atomic(&p, b"third").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"third");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
        // a missing folder fails and leaves nothing
        assert!(write_atomic(&dir.path().join("no/such/x"), b"x").is_err());
    }
}
