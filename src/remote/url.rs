//! Remote path syntax: `hf://ORG/NAME[@REVISION][/SUBPATH]` and plain `https://` (or `http://`) URLs.

use crate::{Error, Result};

/// A remote path as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemotePath {
    /// A model repository on the Hub (`HF_ENDPOINT`).
    Hub {
        /// `ORG/NAME`.
        repo: String,
        /// Branch, tag or commit (default `main`).
        revision: String,
        /// A file or folder inside the repository (empty: the whole repository).
        subpath: String,
    },
    /// One file at a URL.
    Url(String),
}

/// Whether `s` names a remote path (`hf://`, `https://`, `http://`).
pub fn is_remote(s: &str) -> bool {
    s.starts_with("hf://") || s.starts_with("https://") || s.starts_with("http://")
}

/// For a caller given no remote context: an error when `path` is a remote path (or a malformed
/// one), `Ok` for a local path.
pub fn refuse_remote(path: &std::path::Path) -> Result<()> {
    match path.to_str().and_then(|s| RemotePath::parse(s).transpose()) {
        Some(Ok(_)) => Err(Error::Usage(format!(
            "{}: a remote path needs a remote context (remote::Env)",
            crate::text::path(path)
        ))),
        Some(Err(e)) => Err(e),
        None => Ok(()),
    }
}

fn usage(s: &str, why: &str) -> Error {
    Error::Usage(format!("{}: {why}", crate::text::escape(s)))
}

/// A repository or revision name part: letters, digits and `-_.`, not `.`/`..`.
fn plain(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part.len() <= 96
        && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl RemotePath {
    /// Parse `s`; `None` when it is not a remote path at all.
    pub fn parse(s: &str) -> Result<Option<RemotePath>> {
        if let Some(rest) = s.strip_prefix("hf://") {
            return Self::parse_hub(s, rest).map(Some);
        }
        if s.starts_with("https://") || s.starts_with("http://") {
            let after = s.split_once("://").map(|x| x.1).unwrap_or("");
            let (host, path) = after.split_once('/').unwrap_or((after, ""));
            if host.is_empty() || path.is_empty() || s.chars().any(|c| c.is_control() || c == ' ') {
                return Err(usage(s, "a URL needs a host and a file path"));
            }
            return Ok(Some(RemotePath::Url(s.to_owned())));
        }
        Ok(None)
    }

    fn parse_hub(s: &str, rest: &str) -> Result<RemotePath> {
        let rest = rest.trim_end_matches('/');
        let mut parts = rest.splitn(3, '/');
        let org = parts.next().unwrap_or("");
        let name_rev = parts.next().unwrap_or("");
        let subpath = parts.next().unwrap_or("").to_owned();
        let (name, revision) = match name_rev.split_once('@') {
            Some((n, r)) => (n, r.replace("%2F", "/").replace("%2f", "/")),
            None => (name_rev, "main".to_owned()),
        };
        if !plain(org) || !plain(name) {
            return Err(usage(
                s,
                "expected hf://ORG/NAME[@REVISION][/PATH] (letters, digits, '-', '_' and '.')",
            ));
        }
        let rev_ok = !revision.is_empty() && revision.len() <= 256 && revision.split('/').all(plain);
        if !rev_ok {
            return Err(usage(s, "the revision is not a valid branch, tag or commit name"));
        }
        if subpath.split('/').any(|p| p.is_empty() || p == "." || p == "..") && !subpath.is_empty() {
            return Err(usage(
                s,
                "the path inside the repository has an empty, '.' or '..' part",
            ));
        }
        Ok(RemotePath::Hub {
            repo: format!("{org}/{name}"),
            revision,
            subpath,
        })
    }
}

/// Percent-encode a path for a URL, keeping `/` between segments.
pub fn encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://host[:port]` of a URL, lowercased, for the same-origin test that guards the token.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |x| x.1);
    let with_port = if host.contains(':') && !host.ends_with(']') {
        host.to_owned()
    } else {
        let port = match scheme {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        format!("{host}:{port}")
    };
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        with_port.to_ascii_lowercase()
    ))
}

/// Resolve a `Location` header against the URL it answered.
pub fn join(base: &str, location: &str) -> Option<String> {
    if location.starts_with("https://") || location.starts_with("http://") {
        return Some(location.to_owned());
    }
    let (scheme, rest) = base.split_once("://")?;
    let host = rest.split('/').next()?;
    if let Some(rel) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{rel}"));
    }
    if location.starts_with('/') {
        return Some(format!("{scheme}://{host}{location}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_paths_parse_with_revision_and_subpath() {
        let p = RemotePath::parse("hf://org/model@v1.0/unet/x.safetensors")
            .unwrap()
            .unwrap();
        assert_eq!(
            p,
            RemotePath::Hub {
                repo: "org/model".into(),
                revision: "v1.0".into(),
                subpath: "unet/x.safetensors".into()
            }
        );
        let p = RemotePath::parse("hf://org/model").unwrap().unwrap();
        assert!(
            matches!(p, RemotePath::Hub { ref revision, ref subpath, .. } if revision == "main" && subpath.is_empty())
        );
        let p = RemotePath::parse("hf://org/model@refs%2Fpr%2F3").unwrap().unwrap();
        assert!(matches!(p, RemotePath::Hub { ref revision, .. } if revision == "refs/pr/3"));
    }

    #[test]
    fn bad_hub_paths_are_usage_errors() {
        for bad in [
            "hf://",
            "hf://org",
            "hf://org/..",
            "hf://o rg/x",
            "hf://org/x@",
            "hf://org/x/../y",
            "hf://org/x@a/../b",
        ] {
            assert!(RemotePath::parse(bad).is_err(), "{bad}");
        }
        assert!(RemotePath::parse("model.safetensors").unwrap().is_none());
        assert!(RemotePath::parse("https://host").is_err());
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            origin("https://huggingface.co/a/b").unwrap(),
            "https://huggingface.co:443"
        );
        assert_eq!(origin("http://127.0.0.1:8080/x").unwrap(), "http://127.0.0.1:8080");
        assert_ne!(origin("http://127.0.0.1:1/x"), origin("http://127.0.0.1:2/x"));
        assert_eq!(join("http://h:1/a/b", "/c?d").unwrap(), "http://h:1/c?d");
        assert_eq!(join("http://h:1/a", "https://cdn/x").unwrap(), "https://cdn/x");
        assert_eq!(encode_path("a b/c+d.bin"), "a%20b/c%2Bd.bin");
    }
}
