//! The remote context is a value, not a global: two contexts configured differently (one offline,
//! one online, against the local stand-in for the Hub in tests/common/hub.rs) used side by side in
//! one process, each with its own client and counters, sharing only the cache folder on disk.

mod common;

use std::path::Path;
use std::time::Duration;

use common::hub::{self, Hub};
use tensorscope::checkpoint::{self, OpenOptions};
use tensorscope::remote::http::Limits;
use tensorscope::remote::{Env, Options};
use tensorscope::scan::{self, ScanOptions};

fn names(ck: &checkpoint::Checkpoint) -> Vec<String> {
    let mut v: Vec<String> = ck.tensors.iter().map(|t| t.name.clone()).collect();
    v.sort();
    v
}

#[test]
fn an_offline_and_an_online_context_side_by_side_in_one_process() {
    let hub = Hub::start();
    let cache = tempfile::tempdir().unwrap();
    let options = |offline: bool| Options {
        offline,
        limits: Limits {
            timeout: Duration::from_secs(10),
            ..Limits::default()
        },
        cache_dir: Some(cache.path().join("tensorscope")),
        endpoint: hub.endpoint.clone(),
        token: None,
    };
    let online = Env::new(options(false));
    let offline = Env::new(options(true));
    let with = |env: &Env| OpenOptions {
        remote: Some(env.clone()),
        ..OpenOptions::default()
    };
    let path = Path::new("hf://tiny/sharded");
    let local = names(&checkpoint::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sharded")).unwrap());

    // offline, before anything is cached: a clean error, and not one request
    let e = checkpoint::open_with(path, &with(&offline)).unwrap_err().to_string();
    assert!(e.contains("cache"), "{e}");
    assert_eq!(hub.stats.requests(), 0);

    // online: the headers are fetched through this context's own client
    let ck = checkpoint::open_with(path, &with(&online)).unwrap();
    assert!(ck.is_remote());
    assert_eq!(names(&ck), local);
    let (requests, bytes) = online.traffic();
    assert!(requests > 0 && bytes > 0);
    assert_eq!(online.mirror_of(&ck).unwrap().commit.as_deref(), Some(hub::COMMIT));
    // the other context did not open it and counted nothing
    assert!(offline.mirror_of(&ck).is_none());
    assert_eq!(offline.traffic(), (0, 0));

    let scan = |env: &Env| {
        let opts = ScanOptions {
            remote: Some(env.clone()),
            ..ScanOptions::default()
        };
        let r = scan::scan_paths_with(&[path.to_path_buf()], &opts).unwrap();
        let v: Vec<(String, String)> = r
            .files
            .iter()
            .map(|f| (f.path.clone(), format!("{:?}", f.verdict)))
            .collect();
        v
    };
    let scanned = scan(&online);
    assert!(
        scanned.len() >= 2
            && scanned
                .iter()
                .all(|(p, v)| p.starts_with("hf://tiny/sharded/") && v == "Safe")
    );

    // the offline context now reads what the online one cached, still without a request, while the
    // online one stays online in the same process
    let sent = hub.stats.requests();
    let off = checkpoint::open_with(path, &with(&offline)).unwrap();
    assert_eq!(names(&off), local);
    assert_eq!(scan(&offline), scanned);
    assert_eq!(hub.stats.requests(), sent);
    assert_eq!(offline.traffic(), (0, 0));
    // a path opened before through a context gives the same mirror: no second resolution
    let requests = online.traffic().0;
    assert!(checkpoint::open_with(path, &with(&online)).is_ok());
    assert_eq!(online.traffic().0, requests);

    // no context at all: a remote path is refused, a local one opens
    let e = checkpoint::open(path).unwrap_err().to_string();
    assert!(e.contains("remote context"), "{e}");
}
