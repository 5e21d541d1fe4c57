//! The TUI in a real terminal: tmux runs `tensorscope` at 80x24, keys are sent, screens captured.
//! Skips (and says why) when tmux is absent; fails then under `TENSORSCOPE_REQUIRE_ALL=1`.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux").args(args).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A tmux session running the program on `args`, killed when dropped.
struct Session(String);

impl Session {
    fn start(name: &str, args: &[&str]) -> Option<Session> {
        Session::start_env(name, &[], args)
    }

    /// `start` with environment variables set for the program (tmux's server keeps its own).
    fn start_env(name: &str, env: &[(&str, &str)], args: &[&str]) -> Option<Session> {
        if Command::new("tmux").arg("-V").output().is_err() {
            common::skip("tmux is not installed (apt-get install tmux runs this test)");
            return None;
        }
        let name = format!("{name}-{}", std::process::id());
        let mut cmd = vec!["env".to_string()];
        cmd.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.push(env!("CARGO_BIN_EXE_tensorscope").to_string());
        cmd.extend(args.iter().map(|a| a.to_string()));
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-x", "80", "-y", "24", "-s", &name])
            .arg(cmd.join(" "))
            .env("TERM", "xterm-256color")
            .status()
            .ok()?;
        assert!(status.success(), "tmux new-session failed");
        let _ = tmux(&["set-option", "-t", &name, "remain-on-exit", "on"]);
        Some(Session(name))
    }

    fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.0]).unwrap_or_default()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        tmux(&args);
    }

    /// Wait up to `limit` for the screen to satisfy `ok`.
    fn wait(&self, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) || start.elapsed() > limit {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn exited(&self) -> bool {
        tmux(&["display-message", "-p", "-t", &self.0, "#{pane_dead}"]).is_some_and(|s| s.trim() == "1")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.0]);
    }
}

fn sample(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn sharded_folder_is_safe_filter_and_esc_then_q_quits() {
    let Some(s) = Session::start("ts-sharded", &[&sample("sharded")]) else {
        return;
    };
    let first = s.wait(Duration::from_secs(20), |x| x.contains("SAFE"));
    assert!(
        first.lines().next().unwrap_or("").trim_end().ends_with("SAFE"),
        "{first}"
    );
    s.keys(&["/", "c_attn", "Enter"]);
    let filtered = s.wait(Duration::from_secs(5), |x| x.contains("/c_attn"));
    assert!(
        filtered.contains("c_attn") && filtered.contains("4 of 28 match"),
        "{filtered}"
    );
    s.keys(&["Escape"]);
    let cleared = s.wait(Duration::from_secs(5), |x| x.contains("28 tensors"));
    assert!(
        cleared.contains("28 tensors") && !s.exited(),
        "Esc clears and does not quit:\n{cleared}"
    );
    s.keys(&["q"]);
    let start = Instant::now();
    while !s.exited() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(s.exited(), "q quits");
}

#[test]
fn exact_statistics_of_an_expanded_view_then_q_quits_within_3_s() {
    let pt = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/convert/expanded-4tib.pt");
    let Some(s) = Session::start("ts-expanded", &[&pt.to_string_lossy()]) else {
        return;
    };
    s.wait(Duration::from_secs(20), |x| x.contains("Tensors"));
    // to the first tensor, then exact statistics
    s.keys(&["t", "g", "s"]);
    std::thread::sleep(Duration::from_millis(200));
    s.keys(&["q"]);
    let start = Instant::now();
    while !s.exited() && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(s.exited(), "q quit within 3 s:\n{}", s.screen());
}

/// `(first, last, total)` of the last position (`12–34 of 151`) on the second screen line: the
/// preview's title, right of the list's.
fn preview_position(screen: &str) -> Option<(usize, usize, usize)> {
    let line = screen.lines().nth(1)?;
    let at = line.rfind(" of ")?;
    let total: String = line[at + 4..].chars().take_while(char::is_ascii_digit).collect();
    let (a, b) = line[..at].rsplit(' ').next()?.split_once('–')?;
    Some((a.parse().ok()?, b.parse().ok()?, total.parse().ok()?))
}

#[test]
fn the_preview_scrolls_with_shift_down_and_brackets_to_its_last_line() {
    let Some(s) = Session::start("ts-preview", &[&sample("gpt2-tiny.safetensors")]) else {
        return;
    };
    // the flat list: the first tensor's exact statistics on top, its values below the fold
    s.keys(&["t"]);
    let first = s.wait(Duration::from_secs(20), |x| x.contains("stats (exact)"));
    assert_eq!(preview_position(&first).map(|p| p.0), Some(1), "{first}");
    s.keys(&["S-Down"]);
    let moved = s.wait(Duration::from_secs(5), |x| {
        preview_position(x).is_some_and(|p| p.0 == 2)
    });
    assert_eq!(
        preview_position(&moved).map(|p| p.0),
        Some(2),
        "Shift-Down scrolls a line:\n{moved}"
    );
    for _ in 0..20 {
        s.keys(&["]"]);
    }
    let end = s.wait(Duration::from_secs(5), |x| {
        preview_position(x).is_some_and(|p| p.1 == p.2)
    });
    let (_, last, total) = preview_position(&end).unwrap_or_default();
    assert_eq!(last, total, "] reaches the last line:\n{end}");
    // the last of the 192 values of h.0.attn.c_attn.bias, labelled with its index
    assert!(end.contains("[191:192]"), "{end}");
    s.keys(&["K"]);
    let up = s.wait(Duration::from_secs(5), |x| {
        preview_position(x).is_some_and(|p| p.1 + 1 == p.2)
    });
    assert!(
        preview_position(&up).is_some_and(|p| p.1 + 1 == p.2),
        "K scrolls back a line:\n{up}"
    );
}

/// Remote budgets: over the Hub, moving onto an 8 MB tensor fetches only the bytes of the values shown
/// (the pane says why there are no statistics, the status line counts the bytes); `s` fetches it all.
#[test]
fn a_large_remote_tensor_is_fetched_whole_only_on_s() {
    // one F32 [2048, 1024] tensor (8 MiB) served by the stand-in Hub as repo gen/NAME
    let name = format!("tui-remote-{}", std::process::id());
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let data: Vec<u8> = (0..2048 * 1024).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let header = format!(
        "{{\"big.weight\":{{\"dtype\":\"F32\",\"shape\":[2048,1024],\"data_offsets\":[0,{}]}}}}",
        data.len()
    );
    std::fs::write(
        dir.join("model.safetensors"),
        common::safetensors(&header, 0)
            .into_iter()
            .chain(data)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let hub = common::hub::Hub::start();
    let cache = tempfile::tempdir().unwrap();
    let cache_s = cache.path().to_string_lossy().into_owned();
    let env = [
        ("HF_ENDPOINT", hub.endpoint.as_str()),
        ("XDG_CACHE_HOME", cache_s.as_str()),
        ("HOME", cache_s.as_str()),
        ("TENSORSCOPE_HTTP_TIMEOUT", "10"),
    ];
    let url = format!("hf://gen/{name}");
    let Some(s) = Session::start_env("ts-remote", &env, &[&url]) else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    // the tree opens on the module `big`; one down is the tensor
    s.wait(Duration::from_secs(30), |x| x.contains("big"));
    s.keys(&["j"]);
    let first = s.wait(Duration::from_secs(30), |x| x.contains("statistics not fetched"));
    assert!(first.contains("statistics not fetched"), "{first}");
    let foot = first.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(foot.contains("B fetched"), "the status line counts bytes: {first}");
    let sent = hub.stats.cdn_bytes();
    assert!(sent < 1 << 20, "moving onto the tensor fetched {sent} bytes");
    s.keys(&["s"]);
    let exact = s.wait(Duration::from_secs(30), |x| x.contains("stats (exact)"));
    assert!(exact.contains("stats (exact)"), "{exact}");
    assert!(hub.stats.cdn_bytes() >= 8 << 20, "s fetched the tensor");
    let _ = std::fs::remove_dir_all(&dir);
}
