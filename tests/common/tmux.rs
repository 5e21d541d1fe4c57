//! The TUI in a real terminal for the tests: tmux runs `tensorscope` at 80x24 in a session of its
//! own, keys are sent, screens captured, and the session is killed when dropped. Without tmux a
//! test skips, saying why (and fails under `TENSORSCOPE_REQUIRE_ALL=1`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Run `tmux` with `args`; what it printed.
pub fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux").args(args).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A tmux session running the program, killed when dropped.
pub struct Session(pub String);

impl Session {
    /// The program on `args`.
    pub fn start(name: &str, args: &[&str]) -> Option<Session> {
        Session::start_in(name, None, &[], args)
    }

    /// `start` with environment variables set for the program (tmux's server keeps its own).
    pub fn start_env(name: &str, env: &[(&str, &str)], args: &[&str]) -> Option<Session> {
        Session::start_in(name, None, env, args)
    }

    /// The program on `args`, in the folder `cwd` when given, with `env` set for it. The pane stays
    /// once the program exits ([`Session::exited`] tells). `None` when tmux is not installed.
    pub fn start_in(name: &str, cwd: Option<&Path>, env: &[(&str, &str)], args: &[&str]) -> Option<Session> {
        if Command::new("tmux").arg("-V").output().is_err() {
            super::skip("tmux is not installed (apt-get install tmux runs this test)");
            return None;
        }
        let name = format!("{name}-{}", std::process::id());
        let mut cmd = vec!["env".to_string()];
        cmd.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.push(env!("CARGO_BIN_EXE_tensorscope").to_string());
        cmd.extend(args.iter().map(|a| a.to_string()));
        let mut tmux_cmd = Command::new("tmux");
        tmux_cmd.args(["new-session", "-d", "-x", "80", "-y", "24", "-s", &name]);
        if let Some(dir) = cwd {
            tmux_cmd.arg("-c").arg(dir);
        }
        let status = tmux_cmd
            .arg(cmd.join(" "))
            .env("TERM", "xterm-256color")
            .status()
            .ok()?;
        assert!(status.success(), "tmux new-session failed");
        let _ = tmux(&["set-option", "-t", &name, "remain-on-exit", "on"]);
        Some(Session(name))
    }

    pub fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.0]).unwrap_or_default()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        tmux(&args);
    }

    /// Wait up to `limit` for the screen to satisfy `ok`; the last screen either way.
    pub fn wait(&self, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) || start.elapsed() > limit {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the program has exited (its pane is dead).
    pub fn exited(&self) -> bool {
        tmux(&["display-message", "-p", "-t", &self.0, "#{pane_dead}"]).is_some_and(|s| s.trim() == "1")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.0]);
    }
}
