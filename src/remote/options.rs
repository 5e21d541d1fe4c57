//! How remote paths are reached: the offline switch, the HTTP client and its limits, the Hub
//! endpoint and token, and where the cache lives. [`Options`] is plain data that `main` builds from
//! flags and the environment ([`Options::from_env`]) or a test writes by hand; `Net` is the
//! connection made from it (the client is created on first use and counts the traffic).

use std::path::PathBuf;
use std::sync::OnceLock;

use super::http::{Client, Limits};
use super::url::origin;
use crate::{Error, Result};

/// The public Hub, when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// How remote paths are read.
#[derive(Debug, Clone)]
pub struct Options {
    /// Use the cache alone: every request becomes an error (`--offline`, `HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Per-command limits on requests, bytes and time.
    pub limits: Limits,
    /// The cache folder (`$XDG_CACHE_HOME/tensorscope`); `None`: opening a remote path is an error.
    pub cache_dir: Option<PathBuf>,
    /// The Hub's address, without a trailing `/` (`HF_ENDPOINT`).
    pub endpoint: String,
    /// The Hub token, sent only to the endpoint's origin (`HF_TOKEN`, else `huggingface_hub`'s file).
    pub token: Option<String>,
}

impl Default for Options {
    /// Online, the public Hub, the default limits, no token and no cache folder.
    fn default() -> Self {
        Options {
            offline: false,
            limits: Limits::default(),
            cache_dir: None,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            token: None,
        }
    }
}

impl Options {
    /// What the environment says: `HF_HUB_OFFLINE` (or `offline`, the `--offline` flag),
    /// `TENSORSCOPE_*` limits, `XDG_CACHE_HOME` / `HOME`, `HF_ENDPOINT`, `HF_TOKEN` / `HF_HOME`.
    pub fn from_env(offline: bool) -> Options {
        let env_offline =
            std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "yes"));
        Options {
            offline: offline || env_offline,
            limits: Limits::from_env(),
            cache_dir: cache_root_from_env(),
            endpoint: endpoint_from_env(),
            token: token_from_env(),
        }
    }
}

/// `$XDG_CACHE_HOME/tensorscope`, else `~/.cache/tensorscope`.
fn cache_root_from_env() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("tensorscope"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("tensorscope"))
}

fn endpoint_from_env() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// `HF_TOKEN`, else the file `huggingface_hub` writes (`$HF_HOME/token`, else `~/.cache/huggingface/token`).
fn token_from_env() -> Option<String> {
    if let Ok(t) = std::env::var("HF_TOKEN") {
        let t = t.trim().to_owned();
        if !t.is_empty() {
            return Some(t);
        }
    }
    let file = match std::env::var_os("HF_HOME") {
        Some(h) => PathBuf::from(h).join("token"),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/huggingface/token"),
    };
    let t = std::fs::read_to_string(file).ok()?;
    let t = t.trim();
    (!t.is_empty() && t.len() < 4096 && t.bytes().all(|b| b.is_ascii_graphic())).then(|| t.to_owned())
}

/// The connection one [`Options`] describes: shared by every mirror and file opened with it.
#[derive(Debug)]
pub(crate) struct Net {
    opts: Options,
    client: OnceLock<Client>,
}

impl Net {
    pub(crate) fn new(opts: Options) -> Net {
        Net {
            opts,
            client: OnceLock::new(),
        }
    }

    /// Whether requests are refused.
    pub(crate) fn offline(&self) -> bool {
        self.opts.offline
    }

    /// The Hub's address.
    pub(crate) fn endpoint(&self) -> &str {
        &self.opts.endpoint
    }

    /// The client (made on first use); an error when offline.
    pub(crate) fn client(&self) -> Result<&Client> {
        if self.offline() {
            return Err(Error::Usage("--offline: nothing may be fetched".into()));
        }
        Ok(self.client.get_or_init(|| {
            let tok = self
                .opts
                .token
                .clone()
                .and_then(|t| Some((origin(&self.opts.endpoint)?, t)));
            Client::new(self.opts.limits.clone(), tok)
        }))
    }

    /// The cache folder.
    pub(crate) fn cache_root(&self) -> Result<PathBuf> {
        self.opts
            .cache_dir
            .clone()
            .ok_or_else(|| Error::Usage("no cache folder: set XDG_CACHE_HOME or HOME".into()))
    }

    /// Requests and bytes fetched through this connection so far.
    pub(crate) fn traffic(&self) -> (u64, u64) {
        self.client.get().map_or((0, 0), |c| (c.requests(), c.bytes()))
    }
}
