//! A local stand-in for the Hugging Face Hub, for the remote tests: two listeners on 127.0.0.1
//! (port 0). The "hub" one answers the API routes tensorscope uses (revision, paginated tree
//! listing), redirects `resolve` to the "cdn" one (another origin: the token must not follow), and
//! serves plain URLs under `/files/`; the "cdn" one serves file bytes with Range support. Repos are
//! the committed samples; `bad/MODE` repos misbehave on purpose. Everything sent is counted.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The commit every repo resolves to.
pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// What the server saw and sent.
#[derive(Default)]
pub struct Stats {
    /// Requests on the hub listener.
    pub api_requests: AtomicU64,
    /// Requests on the cdn listener.
    pub cdn_requests: AtomicU64,
    /// Body bytes sent by the hub listener (API JSON, plain URLs).
    pub api_bytes: AtomicU64,
    /// File body bytes sent by the cdn listener.
    pub cdn_bytes: AtomicU64,
    /// `Authorization` headers received by the hub listener.
    pub api_auth: Mutex<Vec<String>>,
    /// `Authorization` headers received by the cdn listener.
    pub cdn_auth: Mutex<Vec<String>>,
    /// Answer the next revision request with 429 (once).
    pub throttle_once: AtomicBool,
    /// Whether the `bad/dropfirst` repo already dropped a connection.
    pub dropped: AtomicBool,
    /// Request lines, in order.
    pub log: Mutex<Vec<String>>,
}

impl Stats {
    pub fn requests(&self) -> u64 {
        self.api_requests.load(Ordering::SeqCst) + self.cdn_requests.load(Ordering::SeqCst)
    }
    pub fn cdn_bytes(&self) -> u64 {
        self.cdn_bytes.load(Ordering::SeqCst)
    }
    pub fn reset(&self) {
        for c in [&self.api_requests, &self.cdn_requests, &self.api_bytes, &self.cdn_bytes] {
            c.store(0, Ordering::SeqCst);
        }
        self.log.lock().unwrap().clear();
    }
}

/// A running server.
pub struct Hub {
    pub endpoint: String,
    pub cdn: String,
    pub stats: Arc<Stats>,
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        if p.is_dir() {
            walk(&p, &r, out);
        } else {
            out.push((r, p));
        }
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the stand-in Hub lists `rel` as an LFS file (as `.gitattributes` on the Hub marks weights).
pub fn is_lfs(rel: &str) -> bool {
    [".safetensors", ".bin", ".gguf", ".pkl", ".pt", ".pth"]
        .iter()
        .any(|e| rel.ends_with(e))
}

/// The files of a repo: (path in the repo, sample file).
pub fn repo_files(repo: &str) -> Option<Vec<(String, PathBuf)>> {
    let s = samples();
    let one = |name: &str, file: &str| vec![(name.to_owned(), s.join(file))];
    Some(match repo {
        "tiny/single" => {
            let mut v = one("model.safetensors", "gpt2-tiny.safetensors");
            v.push(("config.json".into(), s.join("sharded/config.json")));
            v
        }
        "tiny/sharded" | "tiny/diffusers" => {
            let mut v = Vec::new();
            walk(
                &s.join(if repo == "tiny/sharded" {
                    "sharded"
                } else {
                    "diffusers-tiny"
                }),
                "",
                &mut v,
            );
            v
        }
        "tiny/zip" => one("pytorch_model.bin", "gpt2-tiny.bin"),
        "tiny/gguf" => one("tiny.gguf", "tiny.gguf"),
        "tiny/legacy" => one("pytorch_model.bin", "gpt2-tiny-legacy.bin"),
        "tiny/evil" => {
            let mut v = one("malicious.bin", "malicious.bin");
            v.push(("malicious.pkl".into(), s.join("malicious.pkl")));
            v
        }
        r if r.starts_with("bad/") => one("model.safetensors", "gpt2-tiny.safetensors"),
        // files a test wrote into a folder of the temporary directory
        r if r.starts_with("gen/") => {
            let mut v = Vec::new();
            walk(&std::env::temp_dir().join(&r[4..]), "", &mut v);
            v
        }
        "tiny/gguf-corpus" => {
            let mut v = Vec::new();
            walk(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gguf"),
                "",
                &mut v,
            );
            v
        }
        // every damaged or hostile file of tests/data/bad (folders left out)
        "tiny/corpus" => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad");
            let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
                .collect();
            v.sort();
            v
        }
        _ => return None,
    })
}

impl Hub {
    pub fn start() -> Hub {
        let stats = Arc::new(Stats::default());
        let api = TcpListener::bind("127.0.0.1:0").unwrap();
        let cdn = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://127.0.0.1:{}", api.local_addr().unwrap().port());
        let cdn_url = format!("http://127.0.0.1:{}", cdn.local_addr().unwrap().port());
        for (listener, is_cdn) in [(api, false), (cdn, true)] {
            let stats = stats.clone();
            let (endpoint, cdn_url) = (endpoint.clone(), cdn_url.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { continue };
                    let stats = stats.clone();
                    let (endpoint, cdn_url) = (endpoint.clone(), cdn_url.clone());
                    std::thread::spawn(move || {
                        let _ = serve(conn, is_cdn, &stats, &endpoint, &cdn_url);
                    });
                }
            });
        }
        Hub {
            endpoint,
            cdn: cdn_url,
            stats,
        }
    }
}

struct Request {
    path: String,
    range: Option<(u64, u64)>,
    auth: Option<String>,
}

fn read_request(conn: &TcpStream) -> Option<Request> {
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let (mut range, mut auth) = (None, None);
    for _ in 0..100 {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "range" => {
                let (a, b) = v.strip_prefix("bytes=")?.split_once('-')?;
                range = Some((a.parse().ok()?, b.parse().ok()?));
            }
            "authorization" => auth = Some(v.to_owned()),
            _ => {}
        }
    }
    Some(Request { path, range, auth })
}

fn respond(conn: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body)?;
    conn.flush()
}

fn serve(mut conn: TcpStream, is_cdn: bool, stats: &Stats, endpoint: &str, cdn: &str) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    let Some(req) = read_request(&conn) else { return Ok(()) };
    stats
        .log
        .lock()
        .unwrap()
        .push(format!("{} {}", if is_cdn { "cdn" } else { "hub" }, req.path));
    if is_cdn {
        stats.cdn_requests.fetch_add(1, Ordering::SeqCst);
        if let Some(a) = &req.auth {
            stats.cdn_auth.lock().unwrap().push(a.clone());
        }
    } else {
        stats.api_requests.fetch_add(1, Ordering::SeqCst);
        if let Some(a) = &req.auth {
            stats.api_auth.lock().unwrap().push(a.clone());
        }
    }
    let json = |conn: &mut TcpStream, v: String, extra: Vec<(&str, String)>| {
        stats.api_bytes.fetch_add(v.len() as u64, Ordering::SeqCst);
        let mut h = vec![("Content-Type", "application/json".to_owned())];
        h.extend(extra);
        respond(conn, "200 OK", &h, v.as_bytes())
    };
    let not_found = |conn: &mut TcpStream| respond(conn, "404 Not Found", &[], b"");
    let (path, query) = req.path.split_once('?').unwrap_or((req.path.as_str(), ""));
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if is_cdn {
        // /blob/ORG/NAME/PATH...
        if parts.len() < 4 || parts[0] != "blob" {
            return not_found(&mut conn);
        }
        let repo = format!("{}/{}", parts[1], parts[2]);
        let rel = parts[3..].join("/");
        let Some(file) = repo_files(&repo).and_then(|f| f.into_iter().find(|(r, _)| *r == rel)) else {
            return not_found(&mut conn);
        };
        let data = std::fs::read(&file.1)?;
        let mode = repo.strip_prefix("bad/").unwrap_or("");
        if mode == "dropfirst" && !stats.dropped.swap(true, Ordering::SeqCst) {
            // close the connection without an answer, once
            return conn.shutdown(std::net::Shutdown::Both);
        }
        return send_file(&mut conn, &data, req.range, mode, &stats.cdn_bytes);
    }
    match parts.as_slice() {
        ["api", "models", org, name, "revision", _rev] => {
            if repo_files(&format!("{org}/{name}")).is_none() {
                return not_found(&mut conn);
            }
            if stats.throttle_once.swap(false, Ordering::SeqCst) {
                return respond(&mut conn, "429 Too Many Requests", &[("Retry-After", "0".into())], b"");
            }
            json(
                &mut conn,
                format!("{{\"id\":\"{org}/{name}\",\"sha\":\"{COMMIT}\"}}"),
                vec![],
            )
        }
        ["api", "models", org, name, "tree", rev] if *rev == COMMIT => {
            let Some(files) = repo_files(&format!("{org}/{name}")) else {
                return not_found(&mut conn);
            };
            // pages of 4 entries, the next one named by a Link header, as the Hub paginates
            let from: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("cursor="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let page: Vec<String> = files
                .iter()
                .skip(from)
                .take(4)
                .map(|(rel, p)| {
                    let data = std::fs::read(p).unwrap();
                    let size = data.len();
                    // as the Hub lists them: every file's git blob id, an LFS file's sha256 too
                    let git = {
                        use sha1::Digest;
                        let mut h = sha1::Sha1::new();
                        h.update(format!("blob {size}\0").as_bytes());
                        h.update(&data);
                        hex(&h.finalize())
                    };
                    let lfs = if is_lfs(rel) {
                        use sha2::Digest;
                        let sha = hex(&sha2::Sha256::digest(&data));
                        format!(",\"lfs\":{{\"oid\":\"{sha}\",\"size\":{size},\"pointerSize\":134}}")
                    } else {
                        String::new()
                    };
                    format!("{{\"type\":\"file\",\"oid\":\"{git}\",\"size\":{size},\"path\":\"{rel}\"{lfs}}}")
                })
                .collect();
            let mut extra = vec![];
            if from + 4 < files.len() {
                let next = format!(
                    "{endpoint}/api/models/{org}/{name}/tree/{COMMIT}?recursive=true&cursor={}",
                    from + 4
                );
                extra.push(("Link", format!("<{next}>; rel=\"next\"")));
            }
            json(&mut conn, format!("[{}]", page.join(",")), extra)
        }
        [org, name, "resolve", rev, rest @ ..] if *rev == COMMIT => {
            let loc = format!("{cdn}/blob/{org}/{name}/{}", rest.join("/"));
            respond(&mut conn, "302 Found", &[("Location", loc)], b"")
        }
        ["files", name] => {
            let Ok(data) = std::fs::read(samples().join(name)) else {
                return not_found(&mut conn);
            };
            send_file(&mut conn, &data, req.range, "", &stats.api_bytes)
        }
        _ => not_found(&mut conn),
    }
}

fn send_file(
    conn: &mut TcpStream,
    data: &[u8],
    range: Option<(u64, u64)>,
    mode: &str,
    sent: &AtomicU64,
) -> std::io::Result<()> {
    let total = data.len() as u64;
    let Some((a, b)) = range.filter(|_| mode != "norange") else {
        sent.fetch_add(total, Ordering::SeqCst);
        return respond(conn, "200 OK", &[], data);
    };
    if a > b || b >= total {
        return respond(
            conn,
            "416 Range Not Satisfiable",
            &[("Content-Range", format!("bytes */{total}"))],
            b"",
        );
    }
    let body = &data[a as usize..=b as usize];
    let (cr, body): (String, Vec<u8>) = match mode {
        "wrongrange" => (format!("bytes {}-{}/{total}", a + 1, b + 1), body.to_vec()),
        "size" => (format!("bytes {a}-{b}/{}", total + 10), body.to_vec()),
        "oversize" => {
            let mut more = body.to_vec();
            more.extend(std::iter::repeat_n(0x41u8, 1 << 16));
            (format!("bytes {a}-{b}/{total}"), more)
        }
        "slow" => {
            std::thread::sleep(Duration::from_secs(3));
            (format!("bytes {a}-{b}/{total}"), body.to_vec())
        }
        _ => (format!("bytes {a}-{b}/{total}"), body.to_vec()),
    };
    sent.fetch_add(body.len() as u64, Ordering::SeqCst);
    respond(
        conn,
        "206 Partial Content",
        &[("Content-Range", cr), ("ETag", "\"e1\"".into())],
        &body,
    )
}

/// Read a whole stream (for tests that talk to the server directly).
pub fn read_all(mut s: TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = s.read_to_end(&mut v);
    v
}
