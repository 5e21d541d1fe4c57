//! Folder layouts.
use super::*;

pub(crate) fn open(path: &Path, _opts: &OpenOptions) -> Result<Checkpoint> {
    Err(Error::Usage(format!("{}: not implemented", crate::text::path(path))))
}
