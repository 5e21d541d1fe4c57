//! A blocking HTTP client (ureq with rustls: no async runtime in the core) that asks for byte
//! ranges and trusts nothing it gets back: every answer is checked against what was asked
//! (`Content-Range`, the declared file size), a body longer than asked is cut off, every request
//! counts toward per-command limits, redirects are followed by hand so that the token is only ever
//! sent to the origin it belongs to, and 429/5xx answers are retried with backoff.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::url::{join, origin};
use crate::{Error, Result};

/// Most requests one command may make (`TENSORSCOPE_MAX_REQUESTS` overrides).
pub const MAX_REQUESTS: u64 = 10_000;
/// Most bytes one command may fetch (`TENSORSCOPE_MAX_FETCH_BYTES` overrides).
pub const MAX_FETCH_BYTES: u64 = 1 << 30;
/// Seconds one request may take, connection to last byte (`TENSORSCOPE_HTTP_TIMEOUT` overrides).
pub const TIMEOUT_SECS: f64 = 60.0;
/// Redirects followed for one request.
pub const MAX_REDIRECTS: u32 = 5;
/// Attempts for one request answered 429 or 5xx.
pub const MAX_ATTEMPTS: u32 = 4;
/// Longest wait between two attempts, whatever `Retry-After` says.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Largest API answer (file listings) read.
pub const MAX_API_BODY: u64 = 64 << 20;

/// Per-command limits and how to talk to servers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most requests.
    pub max_requests: u64,
    /// Most body bytes.
    pub max_bytes: u64,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for Limits {
    /// The built-in limits ([`MAX_REQUESTS`], [`MAX_FETCH_BYTES`], [`TIMEOUT_SECS`]).
    fn default() -> Self {
        Limits {
            max_requests: MAX_REQUESTS,
            max_bytes: MAX_FETCH_BYTES,
            timeout: Duration::from_secs_f64(TIMEOUT_SECS),
        }
    }
}

impl Limits {
    /// The defaults, with the `TENSORSCOPE_*` environment overrides.
    pub fn from_env() -> Limits {
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| *v > 0.0)
        };
        Limits {
            max_requests: num("TENSORSCOPE_MAX_REQUESTS").map_or(MAX_REQUESTS, |v| v as u64),
            max_bytes: num("TENSORSCOPE_MAX_FETCH_BYTES").map_or(MAX_FETCH_BYTES, |v| v as u64),
            timeout: Duration::from_secs_f64(num("TENSORSCOPE_HTTP_TIMEOUT").unwrap_or(TIMEOUT_SECS).min(3600.0)),
        }
    }
}

/// The client: one connection pool, the token and the origin it belongs to, and the counters.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    token: Option<(String, String)>,
    limits: Limits,
    requests: AtomicU64,
    bytes: AtomicU64,
}

/// What a ranged GET returned.
#[derive(Debug)]
pub struct Ranged {
    /// Exactly the bytes asked for.
    pub data: Vec<u8>,
    /// The file's total size from `Content-Range`.
    pub total: u64,
    /// The `ETag` (or `X-Linked-Etag`), when given.
    pub etag: Option<String>,
}

fn net(url: &str, msg: impl Into<String>) -> Error {
    Error::format(PathBuf::from(crate::text::escape(url).into_owned()), msg)
}

impl Client {
    /// A client; `token` is `(origin, token)`: sent only to URLs of that origin.
    pub fn new(limits: Limits, token: Option<(String, String)>) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(limits.timeout))
            .timeout_connect(Some(limits.timeout.min(Duration::from_secs(15))))
            .user_agent(concat!("tensorscope/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent: config.into(),
            token,
            limits,
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Requests made so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Body bytes received so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    fn count_request(&self, url: &str) -> Result<()> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.limits.max_requests {
            return Err(Error::Limit {
                path: PathBuf::from(crate::text::escape(url).into_owned()),
                what: "HTTP request count",
                value: n,
                limit: self.limits.max_requests,
                hint: ": raise TENSORSCOPE_MAX_REQUESTS",
            });
        }
        Ok(())
    }

    fn reserve_bytes(&self, url: &str, n: u64) -> Result<()> {
        let total = self.bytes.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if total > self.limits.max_bytes {
            return Err(Error::Limit {
                path: PathBuf::from(crate::text::escape(url).into_owned()),
                what: "bytes fetched",
                value: total,
                limit: self.limits.max_bytes,
                hint: ": raise TENSORSCOPE_MAX_FETCH_BYTES",
            });
        }
        Ok(())
    }

    /// GET `url` (following redirects, retrying 429/5xx), returning the final response.
    fn get(&self, url: &str, range: Option<&Range<u64>>) -> Result<ureq::http::Response<ureq::Body>> {
        let mut url = url.to_owned();
        let mut redirects = 0;
        let mut attempt = 0;
        loop {
            self.count_request(&url)?;
            let mut req = self.agent.get(&url);
            if let Some(r) = range {
                req = req.header("Range", format!("bytes={}-{}", r.start, r.end - 1));
            }
            if let Some((o, token)) = &self.token
                && origin(&url).as_deref() == Some(o.as_str())
            {
                req = req.header("Authorization", format!("Bearer {token}"));
            }
            let resp = match req.call() {
                Ok(r) => r,
                Err(ureq::Error::Timeout(_)) => {
                    return Err(net(
                        &url,
                        format!(
                            "no complete answer within {:.0} s (TENSORSCOPE_HTTP_TIMEOUT sets the limit)",
                            self.limits.timeout.as_secs_f64()
                        ),
                    ));
                }
                // a dropped connection is retried like a 5xx; a refused one or a bad answer is not
                Err(ureq::Error::Io(io))
                    if attempt + 1 < MAX_ATTEMPTS
                        && matches!(
                            io.kind(),
                            std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionAborted
                                | std::io::ErrorKind::UnexpectedEof
                                | std::io::ErrorKind::BrokenPipe
                        ) =>
                {
                    std::thread::sleep(Duration::from_millis(250 << attempt).min(MAX_BACKOFF));
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(net(&url, format!("request failed: {e}"))),
            };
            let status = resp.status().as_u16();
            if (300..400).contains(&status) && status != 304 {
                redirects += 1;
                let loc = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| join(&url, l));
                let Some(next) = loc else {
                    return Err(net(&url, format!("redirect {status} without a usable Location")));
                };
                if redirects > MAX_REDIRECTS {
                    return Err(net(&url, format!("more than {MAX_REDIRECTS} redirects")));
                }
                url = next;
                continue;
            }
            if (status == 429 || (500..600).contains(&status)) && attempt + 1 < MAX_ATTEMPTS {
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(Duration::from_millis(250 << attempt))
                    .min(MAX_BACKOFF);
                attempt += 1;
                std::thread::sleep(wait);
                continue;
            }
            return match status {
                200..=299 => Ok(resp),
                401 | 403 => Err(net(
                    &url,
                    format!("HTTP {status}: access denied (a gated or private repository needs HF_TOKEN)"),
                )),
                404 => Err(net(&url, "HTTP 404: not found (check the name, revision and path)")),
                s => Err(net(&url, format!("HTTP {s}"))),
            };
        }
    }

    /// The JSON document at `url` (at most [`MAX_API_BODY`] bytes) and its `Link: rel="next"`.
    pub fn get_json(&self, url: &str) -> Result<(serde_json::Value, Option<String>)> {
        let resp = self.get(url, None)?;
        let next = resp
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let body = self.read_body(url, resp, MAX_API_BODY)?;
        let value = serde_json::from_slice(&body).map_err(|e| net(url, format!("the answer is not JSON: {e}")))?;
        Ok((value, next))
    }

    fn read_body(&self, url: &str, resp: ureq::http::Response<ureq::Body>, limit: u64) -> Result<Vec<u8>> {
        use std::io::Read;
        let mut out = Vec::new();
        let mut reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        let got = (&mut reader)
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| net(url, format!("reading the answer failed: {e}")));
        self.reserve_bytes(url, out.len() as u64)?;
        got?;
        if out.len() as u64 > limit {
            return Err(net(
                url,
                format!("the server sent more than the {limit} bytes asked for: cut off"),
            ));
        }
        Ok(out)
    }

    /// Bytes `range` of the file at `url`; `size` is the size the file is expected to have.
    pub fn get_range(&self, url: &str, range: Range<u64>, size: Option<u64>) -> Result<Ranged> {
        let want = range.end - range.start;
        self.reserve_bytes(url, 0)?;
        let resp = self.get(url, Some(&range))?;
        let status = resp.status().as_u16();
        let header = |k: &str| resp.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let etag = header("x-linked-etag").or_else(|| header("etag"));
        let total = match status {
            206 => {
                let cr = header("content-range").ok_or_else(|| net(url, "a 206 answer without Content-Range"))?;
                let (r, total) =
                    parse_content_range(&cr).ok_or_else(|| net(url, format!("unreadable Content-Range {cr:?}")))?;
                if r != range {
                    return Err(net(
                        url,
                        format!(
                            "asked for bytes {}..{} but the server sent {}..{} (Content-Range {cr:?})",
                            range.start, range.end, r.start, r.end
                        ),
                    ));
                }
                total
            }
            200 => {
                // a server without range support sends the whole file: acceptable only when that is what was asked
                let len = resp
                    .headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                if range.start != 0 || len != Some(want) || size.is_some_and(|s| s != want) {
                    return Err(net(
                        url,
                        "the server does not support range requests (it answered a Range request with the whole file); \
                         download the file to read it",
                    ));
                }
                want
            }
            s => return Err(net(url, format!("HTTP {s} to a range request"))),
        };
        if let Some(s) = size
            && s != total
        {
            return Err(net(
                url,
                format!("the server says the file has {total} bytes, the listing said {s}"),
            ));
        }
        let data = self.read_body(url, resp, want)?;
        if data.len() as u64 != want {
            return Err(net(
                url,
                format!("the answer ended after {} of {want} bytes", data.len()),
            ));
        }
        Ok(Ranged { data, total, etag })
    }
}

/// `bytes A-B/TOTAL` -> (A..B+1, TOTAL).
fn parse_content_range(v: &str) -> Option<(Range<u64>, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    let (a, b, total): (u64, u64, u64) = (
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (a <= b && b < total).then(|| (a..b + 1, total))
}

/// The `rel="next"` target of a `Link` header.
fn next_link(v: &str) -> Option<String> {
    v.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .contains("rel=\"next\"")
            .then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_is_parsed_and_checked() {
        assert_eq!(parse_content_range("bytes 0-7/100"), Some((0..8, 100)));
        assert_eq!(parse_content_range("bytes 8-7/100"), None);
        assert_eq!(parse_content_range("bytes 0-100/100"), None);
        assert_eq!(parse_content_range("bytes */100"), None);
    }

    #[test]
    fn link_next_is_found() {
        let v = "<https://h/api/x?cursor=abc>; rel=\"next\"";
        assert_eq!(next_link(v).unwrap(), "https://h/api/x?cursor=abc");
        assert_eq!(next_link("<https://h/a>; rel=\"prev\""), None);
    }
}
