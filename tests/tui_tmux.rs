//! The TUI in a real terminal: tmux runs `tensorscope` at 80x24, keys are sent, screens captured.
//! Skips (and says why) when tmux is absent; fails then under `TENSORSCOPE_REQUIRE_ALL=1`.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::Session;

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

/// `(first, last, total)` of the position (`12–34 of 151`) on screen line `line`, its rightmost.
fn position_on(screen: &str, line: usize) -> Option<(usize, usize, usize)> {
    let l = screen.lines().nth(line)?;
    let at = l.rfind(" of ")?;
    let total: String = l[at + 4..].chars().take_while(char::is_ascii_digit).collect();
    let (a, b) = l[..at].rsplit(' ').next()?.split_once('–')?;
    Some((a.parse().ok()?, b.parse().ok()?, total.parse().ok()?))
}

/// A vocab-only GGUF (no tensors): 3,000 tokens, 2,000 merges and a 62-line chat template, whose
/// Files tab is the only place they appear.
fn vocab_gguf(dir: &Path) -> String {
    let strings = |v: &[String]| {
        let mut b = 8u32.to_le_bytes().to_vec();
        b.extend((v.len() as u64).to_le_bytes());
        for s in v {
            b.extend(common::gguf::string(s.as_bytes()));
        }
        b
    };
    let tokens: Vec<String> = (0..3000).map(|i| format!("token_{i}")).collect();
    let merges: Vec<String> = (0..2000).map(|i| format!("a{i} b{i}")).collect();
    let mut template = String::from("{% for message in messages %}\n");
    for i in 0..60 {
        template.push_str(&format!("{{{{ '<|line{i}|>' + message['content'] }}}}\n"));
    }
    template.push_str("{% endfor %}{{ 'LAST TEMPLATE LINE' }}");
    let g = common::gguf::Builder::default()
        .kv_str("general.architecture", "llama")
        .kv_str("tokenizer.ggml.model", "gpt2")
        .kv("tokenizer.ggml.tokens", 9, strings(&tokens))
        .kv("tokenizer.ggml.merges", 9, strings(&merges))
        .kv_str("tokenizer.chat_template", &template);
    common::write(dir, "vocab.gguf", &g.bytes())
        .to_string_lossy()
        .into_owned()
}

/// At 80x24 every pane reaches its last line with the list keys and the wheel and says where it is:
/// the Files tab of a vocab-only GGUF (its chat template's last line), the Scan tab of `samples/`
/// (worst file on top), the tree, and the help overlay.
#[test]
fn every_pane_reaches_its_last_line_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let gguf = vocab_gguf(dir.path());
    let Some(s) = Session::start("ts-panes", &[&gguf]) else {
        return;
    };
    s.wait(Duration::from_secs(20), |x| x.contains("Tensors"));
    s.keys(&["2"]);
    let top = s.wait(Duration::from_secs(5), |x| position_on(x, 1).is_some());
    let (first, _, total) = position_on(&top, 1).unwrap_or_else(|| panic!("a position:\n{top}"));
    assert_eq!(first, 1, "{top}");
    let at_end = |x: &str| position_on(x, 1).is_some_and(|p| p.1 == total);
    for (how, keys) in [("G", &["G"][..]), ("End", &["End"]), ("PgDn", &["NPage"; 40])] {
        s.keys(&["g"]);
        s.wait(Duration::from_secs(5), |x| position_on(x, 1).is_some_and(|p| p.0 == 1));
        s.keys(keys);
        // the whole frame: the border's position is drawn before the lines under it, and a capture
        // can fall between the two
        let end = s.wait(Duration::from_secs(5), |x| {
            at_end(x) && x.contains("LAST TEMPLATE LINE")
        });
        assert!(at_end(&end), "{how} reaches the last line:\n{end}");
        assert!(end.contains("LAST TEMPLATE LINE"), "{how}:\n{end}");
    }
    // back up a line with k, then the wheel (SGR mouse reports) down to the end again
    s.keys(&["k"]);
    let up = s.wait(Duration::from_secs(5), |x| !at_end(x));
    assert!(!at_end(&up), "k moves up a line:\n{up}");
    s.keys(&["-l", "\x1b[<65;10;10M"]);
    let wheeled = s.wait(Duration::from_secs(5), at_end);
    assert!(at_end(&wheeled), "the wheel scrolls down:\n{wheeled}");
    // the help overlay: to its last line
    s.keys(&["4", "?", "G"]);
    let help = s.wait(Duration::from_secs(5), |x| x.contains("\\x1b is a control character"));
    assert!(help.contains("Keys: Bench"), "{help}");
    s.keys(&["Escape", "q"]);
    drop(s);

    let Some(s) = Session::start("ts-scan", &[&sample("")]) else {
        return;
    };
    s.wait(Duration::from_secs(30), |x| x.contains("DANGEROUS"));
    s.keys(&["3"]);
    let scan = s.wait(Duration::from_secs(30), |x| x.contains("the worst first"));
    // the first file listed, under the counts (and the skipped line)
    let first = scan.lines().skip(2).find(|l| {
        ["DANGEROUS ", "SUSPICIOUS ", "SAFE ", "ERROR "]
            .iter()
            .any(|v| l.trim_start_matches('│').starts_with(v))
    });
    assert!(
        first.is_some_and(|l| l.contains("DANGEROUS  ") && l.contains("samples/malicious.bin")),
        "the Scan tab opens on the worst file:\n{scan}"
    );
    // a finding's why continues under its text
    let cont = scan.lines().skip_while(|l| !l.contains("macOS:")).nth(1).unwrap_or("");
    assert!(cont.starts_with(&format!("│{}runs", " ".repeat(15))), "{scan}");
    let total = position_on(&scan, 1).map(|p| p.2).unwrap_or(0);
    s.keys(&["End"]);
    let end = s.wait(Duration::from_secs(5), |x| {
        position_on(x, 1).is_some_and(|p| p.1 == total)
    });
    assert_eq!(position_on(&end, 1).map(|p| p.1), Some(total), "{end}");
    // the tree: G reaches its last row, and the border says so
    s.keys(&["1", "*", "G"]);
    let tree = s.wait(Duration::from_secs(5), |x| {
        position_on(x, 22).is_some_and(|p| p.1 == p.2)
    });
    assert!(position_on(&tree, 22).is_some_and(|p| p.1 == p.2), "{tree}");
}

/// A safetensors file of `mib` MiB of F32 zeros, in `dir`: its twin takes seconds to write.
fn big_safetensors(dir: &Path, mib: usize) -> String {
    let n = mib << 20;
    let header = format!(
        "{{\"a.weight\":{{\"dtype\":\"F32\",\"shape\":[{},1024],\"data_offsets\":[0,{n}]}}}}",
        n / 4096
    );
    let path = dir.join("big.safetensors");
    let mut bytes = common::safetensors(&header, 0);
    bytes.resize(bytes.len() + n, 0);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// Esc cancels a running bench within a second, while its twin is written and while a case runs;
/// the app keeps running and the footer stops saying "cancelling".
#[test]
fn esc_cancels_a_running_bench_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_safetensors(dir.path(), 192);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let tmp_s = tmp.to_string_lossy().into_owned();
    let Some(s) = Session::start_env("ts-cancel", &[("TMPDIR", &tmp_s)], &[&file]) else {
        return;
    };
    s.wait(Duration::from_secs(20), |x| x.contains("Tensors"));
    s.keys(&["4", "r"]);
    let twin = s.wait(Duration::from_secs(10), |x| x.contains("writing the twin"));
    assert!(twin.contains("writing the twin"), "{twin}");
    let start = Instant::now();
    s.keys(&["Escape"]);
    let done = s.wait(Duration::from_secs(10), |x| x.contains("cancelled while the twin"));
    let took = start.elapsed();
    assert!(done.contains("cancelled while the twin"), "{done}");
    assert!(
        took < Duration::from_secs(1),
        "cancelled during the twin in {took:?}:\n{done}"
    );
    assert!(!s.exited());
    // again, cancelled while a case runs: the report keeps what was measured
    s.keys(&["r"]);
    let case = s.wait(Duration::from_secs(120), |x| x.contains("· case "));
    assert!(case.contains("· case "), "{case}");
    let start = Instant::now();
    s.keys(&["x"]);
    let done = s.wait(Duration::from_secs(10), |x| x.contains("cancelled by the user"));
    let took = start.elapsed();
    assert!(done.contains("cancelled by the user"), "{done}");
    assert!(
        took < Duration::from_secs(1),
        "cancelled during a case in {took:?}:\n{done}"
    );
    let foot = done.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(!foot.contains("cancelling"), "the footer says the run is over:\n{done}");
    assert!(!s.exited(), "the app keeps running");
    s.keys(&["q"]);
}

/// A TUI killed with SIGKILL while its twin is written leaves its twin folder behind; the next TUI
/// removes it when it starts.
#[test]
fn a_killed_tui_leaves_no_twin_once_the_next_one_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_safetensors(dir.path(), 64);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let tmp_s = tmp.to_string_lossy().into_owned();
    let env = [("TMPDIR", tmp_s.as_str())];
    let twins = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&tmp)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().contains("tensorscope-twin-"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let Some(s) = Session::start_env("ts-killed", &env, &[&file]) else {
        return;
    };
    s.wait(Duration::from_secs(20), |x| x.contains("Tensors"));
    s.keys(&["4", "r"]);
    s.wait(Duration::from_secs(10), |x| x.contains("writing the twin"));
    let start = Instant::now();
    while twins().is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = twins();
    assert_eq!(left.len(), 1, "the running bench has its twin folder: {left:?}");
    // the TUI's own pid, from its folder's name: the pane's process may be the shell tmux started,
    // and killing only that would leave the TUI running (and cleaning up on the SIGHUP that follows)
    let name = left[0].file_name().unwrap().to_string_lossy().into_owned();
    let pid = name.trim_start_matches("tensorscope-twin-").to_string();
    assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
    // gone once it is reaped, or a zombie waiting for tmux to reap it (it can clean up nothing)
    let gone = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit_once(')').and_then(|(_, r)| r.trim_start().chars().next());
        state.is_none_or(|c| c == 'Z' || c == 'X')
    };
    let start = Instant::now();
    while !(gone() && s.exited()) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(gone() && left[0].exists(), "SIGKILL leaves the twin folder behind");
    drop(s);
    let Some(next) = Session::start_env("ts-next", &env, &[&file]) else {
        return;
    };
    next.wait(Duration::from_secs(20), |x| x.contains("Tensors"));
    assert!(twins().is_empty(), "the next TUI swept {left:?}");
}

/// The filter's readline keys in a real terminal: Ctrl-U clears it, Ctrl-W erases a word, Ctrl-A
/// and Alt-F move, Up brings back the last accepted filter.
#[test]
fn ctrl_u_clears_the_filter_and_readline_keys_edit_it() {
    let Some(s) = Session::start("ts-readline", &[&sample("sharded")]) else {
        return;
    };
    s.wait(Duration::from_secs(20), |x| x.contains("SAFE"));
    let foot = |x: &str| x.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").to_string();
    s.keys(&["/", "h.0 attn"]);
    let typed = s.wait(Duration::from_secs(5), |x| foot(x).contains("/h.0 attn▏"));
    assert!(foot(&typed).contains("/h.0 attn▏"), "{typed}");
    s.keys(&["C-w"]);
    let word = s.wait(Duration::from_secs(5), |x| foot(x).contains("/h.0 ▏"));
    assert!(foot(&word).contains("/h.0 ▏"), "Ctrl-W erases a word:\n{word}");
    s.keys(&["C-a", "M-f"]);
    let moved = s.wait(Duration::from_secs(5), |x| foot(x).contains("/h▏.0 "));
    assert!(foot(&moved).contains("/h▏.0 "), "Ctrl-A then Alt-F:\n{moved}");
    s.keys(&["C-e", "c_attn", "Enter"]);
    let kept = s.wait(Duration::from_secs(5), |x| x.contains("/h.0 c_attn"));
    assert!(kept.contains("2 of 28 match"), "{kept}");
    s.keys(&["/", "C-u"]);
    let cleared = s.wait(Duration::from_secs(5), |x| foot(x).contains("/▏  type a name"));
    assert!(
        foot(&cleared).contains("/▏  type a name"),
        "Ctrl-U clears the filter:\n{cleared}"
    );
    // the list is whole again, and its title claims no match count for an empty filter
    let title = cleared.lines().nth(1).unwrap_or("");
    assert!(title.contains("28 tensors") && !title.contains("match"), "{cleared}");
    s.keys(&["Up"]);
    let back = s.wait(Duration::from_secs(5), |x| foot(x).contains("/h.0 c_attn▏"));
    assert!(
        foot(&back).contains("/h.0 c_attn▏"),
        "Up brings back the last filter:\n{back}"
    );
    s.keys(&["Escape", "q"]);
}
