//! Remote paths (`hf://ORG/NAME[@REV][/PATH]`, `https://…`) for `checkpoint::open_with`, the
//! scanner, `show`, `diff` and the TUI: one room for fetching, the mirror, the cache and the range
//! planning per format. It stands above the format readers (it asks them which bytes they need)
//! and below `checkpoint` and `scan` (which open files through it).
//!
//! # Design: a sparse local mirror
//!
//! Every reader of tensorscope parses `&[u8]` of a whole file through a memory map. Rather than
//! teach each reader about ranges, a remote path becomes a **mirror folder** in the cache, with one
//! **sparse file per remote file**: it has the remote file's size, holes where nothing was fetched,
//! and the fetched ranges listed in a sidecar (`ranges.json`). The usual code (`checkpoint::open`,
//! the scanner) then runs on the mirror folder, opening files through an [`Opener`] that knows the
//! mirror: before a mirrored file is mapped, the ranges its format needs (headers, pickles, zip
//! directories; never tensor data) are fetched by the range planning ([`plan`]). The map is a
//! `Source` whose holes a [`RemoteFile`] fills: tensor values are fetched only when asked for
//! ([`RemoteFile::fetch`], used by `Checkpoint::storage_bytes` and `show`).
//!
//! - **Context** ([`Env`], built from [`Options`]): the offline switch, the HTTP client and its
//!   limits, the Hub endpoint and token, the cache location. `main` builds one from flags and the
//!   environment and passes it down; nothing here is global, so two contexts (one offline, one
//!   online) can be used side by side in one process.
//! - **Cache** ([`cache`]): `$XDG_CACHE_HOME/tensorscope` (else `~/.cache/tensorscope`):
//!   `hf/ORG/NAME/COMMIT/{listing.json,ranges.json,files/…}` keyed by the commit the revision
//!   resolved to (`hf/ORG/NAME/refs/REV` remembers it for `--offline`), and `url/HASH/…` for URLs
//!   (checked against the server's size and ETag on each run). A second run of the same revision
//!   makes one API call and reads everything else from the cache.
//! - **Offline** (`--offline`, `HF_HUB_OFFLINE=1`): no request at all; whatever is not in the
//!   cache is an error.
//! - **Limits**: see [`http`] (requests, bytes, timeouts per command) and [`mirror::MAX_REMOTE_FILES`].
//!
//! Files, from the bottom: [`url`] (path syntax), [`http`] (the client), [`options`] (the
//! connection), [`cache`] (fetched ranges), [`file`](mod@file) (one remote file), [`mirror`] (a repository
//! as a folder), [`plan`] (ranges per format), [`open`] (opening files of a mirror), [`env`](mod@env) (the
//! context). Each imports only the ones before it.

pub mod cache;
pub mod env;
pub mod file;
pub mod http;
pub mod mirror;
pub mod open;
pub mod options;
pub mod plan;
pub mod url;

pub use cache::RangeSet;
pub use env::Env;
pub use file::{CONCURRENCY, MERGE_GAP, RemoteFile};
pub use mirror::Mirror;
pub use open::{Opener, prefetch_safetensors, prepare, prepare_all};
pub use options::Options;
pub use url::{RemotePath, is_remote};

pub use crate::source::MAX_ON_DEMAND;
