//! The remote context: [`Env`], built once by `main` (or a test) and passed down to everything
//! that may open a remote path — `checkpoint::open_with`, the scanner, `diff`, `show`, the TUI.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::file::RemoteFile;
use super::mirror::Mirror;
use super::options::{Net, Options};
use super::url::RemotePath;
use crate::Result;
use crate::model::Checkpoint;

/// How remote paths are read (offline or not, the HTTP client, its limits, the cache), and the
/// mirrors this context opened so far. Cheap to clone: clones share the client, its traffic
/// counters and the mirrors. Two contexts with different options may live side by side.
///
/// ```
/// use tensorscope::remote::{Env, Options};
/// let offline = Env::new(Options { offline: true, ..Options::default() });
/// assert!(offline.offline());
/// assert_eq!(offline.traffic(), (0, 0));
/// ```
#[derive(Debug, Clone)]
pub struct Env {
    net: Arc<Net>,
    /// A cache of opened mirrors (the TUI opens a path, then scans it: one resolution, one set of files).
    mirrors: Arc<Mutex<Vec<Arc<Mirror>>>>,
}

impl Env {
    /// A context with these options.
    pub fn new(opts: Options) -> Env {
        Env {
            net: Arc::new(Net::new(opts)),
            mirrors: Arc::default(),
        }
    }

    /// A context from the environment ([`Options::from_env`]); `offline` is the `--offline` flag.
    pub fn from_env(offline: bool) -> Env {
        Env::new(Options::from_env(offline))
    }

    /// Whether requests are refused.
    pub fn offline(&self) -> bool {
        self.net.offline()
    }

    /// Requests and bytes fetched through this context so far (0 when everything came from the cache).
    pub fn traffic(&self) -> (u64, u64) {
        self.net.traffic()
    }

    /// Parse `path`: `None` when it is a local path; else open its mirror (resolving the revision
    /// and listing the files, or reading them from the cache when offline). A path opened before
    /// by this context gives the same mirror.
    pub fn open_mirror(&self, path: &Path) -> Result<Option<Arc<Mirror>>> {
        let Some(s) = path.to_str() else { return Ok(None) };
        let Some(remote) = RemotePath::parse(s)? else {
            return Ok(None);
        };
        if let Some(m) = self.opened(|m| m.label == s) {
            return Ok(Some(m));
        }
        let m = Arc::new(Mirror::open(&self.net, &remote, s)?);
        if let Ok(mut all) = self.mirrors.lock() {
            all.push(m.clone());
        }
        Ok(Some(m))
    }

    /// The remote repository or URL `ck` was read from, when it was read through this context.
    pub fn mirror_of(&self, ck: &Checkpoint) -> Option<Arc<Mirror>> {
        let f = ck
            .sparse_files()
            .find_map(|s| s.as_any().downcast_ref::<RemoteFile>())?;
        self.opened(|m| f.local.starts_with(&m.files_dir))
    }

    fn opened(&self, which: impl Fn(&Mirror) -> bool) -> Option<Arc<Mirror>> {
        self.mirrors.lock().ok()?.iter().find(|m| which(m)).cloned()
    }
}

impl Default for Env {
    /// A context with [`Options::default`]: online, the public Hub, no token and no cache folder (so
    /// a remote path is refused until one is set); nothing is read from the environment.
    fn default() -> Self {
        Env::new(Options::default())
    }
}
