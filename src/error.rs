//! The one error type of the core. Every message is one line a user can act on.

use std::path::PathBuf;

/// Everything that can go wrong in the core. Front ends print it after `error:` and exit 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused to open, map or read a file.
    #[error("{}: {source}", crate::text::path(path))]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The bytes do not follow the format they claim (or that was detected).
    #[error("{}: {msg}", crate::text::path(path))]
    Format {
        /// The file involved.
        path: PathBuf,
        /// What is wrong, in one line.
        msg: String,
    },
    /// A named limit was exceeded (header size, tensor count, pickle depth, …). A `what` that
    /// starts with "bytes" or holds "size" counts bytes: its numbers print as sizes (`100.0 MB`).
    /// The hint names the option or variable that raises the limit, or says it is fixed and why.
    #[error("{}: {}{hint}", crate::text::path(path), limit_text(what, *value, *limit))]
    Limit {
        /// The file involved.
        path: PathBuf,
        /// What was counted.
        what: &'static str,
        /// The value found.
        value: u64,
        /// The limit it exceeded.
        limit: u64,
        /// Advice, starting with ": " or empty.
        hint: &'static str,
    },
    /// A path or name given by the user does not exist or cannot be used that way.
    #[error("{0}")]
    Usage(String),
    /// The operation is not supported for this input (a torch-only dtype to safetensors, …).
    #[error("{0}")]
    Unsupported(String),
}

/// `header size 18.4 EB exceeds the limit of 100.0 MB`, `tensors 20000001 exceeds the limit of 20000000`.
fn limit_text(what: &str, value: u64, limit: u64) -> String {
    if what.starts_with("bytes") || what.contains("size") {
        let (v, l) = (crate::text::size_past(value, limit), crate::text::bytes(limit));
        format!("{what} {v} exceeds the limit of {l}")
    } else {
        format!("{what} {value} exceeds the limit of {limit}")
    }
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A format error for `path` with message `msg`.
    pub fn format(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// An I/O error for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
