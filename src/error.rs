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
    /// A named limit was exceeded (header size, tensor count, pickle depth, …).
    #[error("{}: {what} {value} exceeds the limit of {limit}{hint}", crate::text::path(path))]
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
