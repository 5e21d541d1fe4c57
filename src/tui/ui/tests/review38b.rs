//! Review 38 (second pass): the Bench report at 80x24 (a fixed headline, settings line and column
//! header, one table for every row), sampled statistics as `show --sample` takes them, the hash of a
//! file truncated while open, `v` on the value on screen, the Scan tab's skipped files, a cancelled
//! bench's count, Ctrl-Z.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tensorscope::report::{Report, sample};

use super::{app, draw, settle, tidy};
use crate::tui::app::{Action, App, Effect, Tab};
use crate::tui::hashing::{Digest, HashMsg};
use crate::tui::scroll::Move;

/// The sample report with a GPU copy of each touched row: two headline sentences and 8 rows, as a
/// machine with an adapter gets.
fn two_devices() -> Report {
    let mut r = sample::report();
    let mut gpu: Vec<_> = r.results.iter().filter(|x| x.touched).cloned().collect();
    for x in &mut gpu {
        x.device = "gpu".into();
        x.touched = false;
        x.median_s /= 2.0;
    }
    r.results.extend(gpu);
    let mut lazy = r.results[0].clone();
    lazy.method = "safetensors-lazy-one".into();
    r.results.push(lazy);
    r.speedups = tensorscope::bench::runner::speedups(&r.results);
    r.headline = tensorscope::bench::headline::headline(&r.results);
    r.caveats = (0..6)
        .map(|i| format!("caveat {i}: a note long enough to wrap"))
        .collect();
    r
}

fn on_bench_with(r: Report) -> App {
    let mut a = app("gpt2-tiny.bin");
    a.update(Action::SelectTab(3));
    assert!(matches!(a.update(Action::RunBench), Some(Effect::StartBench(_))));
    a.update(Action::Bench(crate::tui::bench::BenchMsg::Done(Ok(Box::new(r)))));
    a
}

fn is_header(l: &str) -> bool {
    l.contains("method") && l.contains("median") && l.contains("speedup")
}

#[test]
fn bench_at_80x24_keeps_the_headline_and_the_column_header_while_the_rows_scroll() {
    let mut a = on_bench_with(two_devices());
    let screen = draw(&a, 80, 24);
    insta::assert_snapshot!("bench_two_devices_80x24", screen);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines[2].contains("cpu, touched, warm"), "the headline first:\n{screen}");
    let header = lines.iter().position(|l| is_header(l)).expect("a column header");
    // the headline (two sentences, 6 rows at 80 columns), one line of settings, the header: the
    // other 12 rows are the table's
    assert!(header <= 10, "the fixed part is compact:\n{screen}");
    assert!(lines[header - 1].contains("e export"), "{screen}");
    // one table: the untouched rows sit under the same columns (a median under `median`)
    let end = |l: &str, s: &str| l.find(s).map(|i| l[..i + s.len()].chars().count());
    let untouched = lines.iter().find(|l| l.contains("200 µs")).expect("an untouched row");
    assert_eq!(end(untouched, "200 µs"), end(lines[header], "median"), "{screen}");
    let mut seen_untouched = false;
    for _ in 0..30 {
        a.update(Action::Move(Move::Down));
        let s = draw(&a, 80, 24);
        let ls: Vec<&str> = s.lines().collect();
        assert!(is_header(ls[header]), "the column header stays:\n{s}");
        assert_eq!(ls.iter().filter(|l| is_header(l)).count(), 1, "one header:\n{s}");
        seen_untouched |= s.contains("load only (untouched)");
    }
    assert!(seen_untouched);
    // the ceilings and the twin are below the rows, reached by scrolling
    a.update(Action::Move(Move::Bottom));
    let end = draw(&a, 80, 24);
    assert!(end.contains("caveat 5"), "{end}");
    a.update(Action::Move(Move::Top));
    let mut all = String::new();
    for _ in 0..40 {
        all.push_str(&draw(&a, 80, 24));
        a.update(Action::Move(Move::Down));
    }
    assert!(all.contains("ceilings (same run)"), "{all}");
}

/// The preview samples a large tensor with `show --sample`'s plan: the same blocks, the same figures.
#[test]
fn sampled_statistics_are_those_of_show_sample() {
    use tensorscope::tensor::stats::DEFAULT_SAMPLE;
    use tensorscope::tensor::{StatsOptions, View};
    let dir = tempfile::tempdir().unwrap();
    let n = 5_000_000usize;
    let bytes: Vec<u8> = (0..n)
        .flat_map(|i| (((i as u64 * 2_654_435_761) % 1_000_003) as f32 / 1e5 - 5.0).to_le_bytes())
        .collect();
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![n], &bytes).unwrap();
    let path = dir.path().join("big.safetensors");
    std::fs::write(&path, safetensors::serialize([("w", view)], None).unwrap()).unwrap();
    let ck = tensorscope::checkpoint::open(&path).unwrap();
    let p = crate::tui::preview::Preview::compute(&ck, 0, false, &AtomicBool::new(false)).unwrap();
    let tui = p.stats.expect("statistics");
    // what `show --sample` computes: `StatsOptions { bins, sample: Some(DEFAULT_SAMPLE) }`, 20 bins
    let cli = View::of(&ck, &ck.tensors[0]).unwrap().stats(&StatsOptions {
        bins: 20,
        sample: Some(DEFAULT_SAMPLE),
    });
    let plan = tui.sample.expect("sampled");
    assert_eq!(plan.blocks, 1024, "show --sample's 1024 blocks of 4096");
    assert_eq!(tui, cli);
}

/// A file truncated after it was opened: the hash line says the size hashed, not the old one.
#[test]
fn the_hash_of_a_file_that_changed_says_what_was_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gpt2-tiny.safetensors"),
        &path,
    )
    .unwrap();
    let listed = std::fs::metadata(&path).unwrap().len();
    let mut a = tidy(
        settle(crate::tui::load(&path, &Default::default()).unwrap()),
        "m.safetensors",
    );
    a.update(Action::SelectTab(1));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(2048)
        .unwrap();
    let Some(Effect::Hash(plan)) = a.update(Action::HashFiles) else {
        panic!("h hashes")
    };
    let (tx, rx) = std::sync::mpsc::channel();
    crate::tui::hashing::spawn(*plan, move |m| {
        let _ = tx.send(m);
    });
    for m in rx.iter() {
        let last = matches!(m, HashMsg::Finished);
        a.update(Action::Hash(m));
        if last {
            break;
        }
    }
    let Digest::Changed {
        hashed, listed: then, ..
    } = &a.files.digests[0]
    else {
        panic!("{:?}", a.files.digests)
    };
    assert_eq!((*hashed, *then), (2048, listed));
    let screen = draw(&a, 80, 24);
    let said = format!(
        "of {} read now: the file changed since it was opened ({} then)",
        tensorscope::text::bytes(2048),
        tensorscope::text::bytes(listed)
    );
    assert!(screen.contains(&said), "{screen}");
}

/// `v` opens the long value on screen: the first one at the top, another once scrolled to it.
#[test]
fn v_opens_the_value_on_screen() {
    let mut a = app("tiny.gguf");
    a.update(Action::SelectTab(1));
    assert_eq!(a.tab, Tab::Files);
    // a short terminal: the tab scrolls
    draw(&a, 80, 12);
    a.update(Action::OpenValues);
    assert_eq!(
        a.viewer.as_ref().expect("a viewer").at,
        0,
        "the first, on screen at the top"
    );
    a.update(Action::Back);
    let keys = crate::tui::viewer::long_keys(&a.ck);
    assert!(keys.len() > 1, "{keys:?}");
    // scroll until the first long value is out of view, then open what is on screen
    let first = keys[0].clone();
    let mut screen = draw(&a, 80, 12);
    let mut seen = false;
    for _ in 0..100 {
        seen |= screen.contains(&format!("{first}:"));
        if seen && !screen.contains(&format!("{first}:")) {
            break;
        }
        a.update(Action::Move(Move::Down));
        screen = draw(&a, 80, 12);
    }
    assert!(
        !screen.contains(&format!("{first}:")),
        "scrolled past {first}:\n{screen}"
    );
    let drawn = a.files.drawn_values.borrow().clone();
    a.update(Action::OpenValues);
    let v = a.viewer.as_ref().expect("a viewer");
    assert!(v.at > 0, "not the first value: {:?} of {keys:?}\n{screen}", v.title);
    let key = &keys[v.at];
    let top = a.files_scroll.first();
    let row = drawn.iter().find(|(_, k)| k == key).unwrap().0;
    assert!(
        row >= top || drawn.iter().all(|(r, _)| *r < top),
        "{key} at row {row}, view from {top}: {drawn:?}"
    );
}

/// The Scan tab counts the files skipped as `tensorscope scan` does.
#[test]
fn scan_says_how_many_files_were_skipped() {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/hub/models--tiny--gpt2/snapshots/9c29d147777ee831e9ede65ff5b0da324efbf8f0");
    let cli = tensorscope::scan::scan_paths(std::slice::from_ref(&snapshot)).unwrap();
    assert_eq!(cli.skipped.len(), 1);
    let mut a = settle(crate::tui::load(&snapshot, &Default::default()).unwrap());
    a.update(Action::SelectTab(2));
    let screen = draw(&a, 240, 24);
    assert!(screen.contains("│1 skipped (not checkpoints)"), "{screen}");
    assert!(screen.contains("config.json  not a checkpoint (JSON)"), "{screen}");
}

/// A bench cancelled while a case runs counts the rows it has: the case cut short is not measured.
#[test]
fn a_cancelled_bench_counts_the_cases_measured() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // a child that never reports: the cancel kills it
    let exe = dir.path().join("child.sh");
    std::fs::write(&exe, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut config = tensorscope::bench::Config::synthetic(100_000);
    config.runs = 1;
    config.methods = vec![tensorscope::bench::Method::SafetensorsMmap];
    config.isolation = tensorscope::bench::Isolation::Child(exe);
    let cancel = Arc::new(AtomicBool::new(false));
    config.cancel = Some(cancel.clone());
    let r = tensorscope::bench::run_with(&config, |e| {
        if matches!(e, tensorscope::bench::Event::CaseStarted { .. }) {
            cancel.store(true, Ordering::Relaxed);
        }
    })
    .unwrap();
    assert!(r.results.is_empty());
    assert!(
        r.caveats.iter().any(|c| c.starts_with("cancelled by the user: 0 of ")),
        "{:?}",
        r.caveats
    );
}

#[test]
fn ctrl_z_suspends() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
    let mut a = app("gpt2-tiny.safetensors");
    for (mode, tab) in [
        (crate::tui::app::Mode::Normal, Tab::Tensors),
        (crate::tui::app::Mode::Filter, Tab::Tensors),
        (crate::tui::app::Mode::Normal, Tab::Bench),
    ] {
        assert!(
            matches!(crate::tui::keymap::action(mode, tab, key), Some(Action::Suspend)),
            "{mode:?} {tab:?}"
        );
    }
    assert!(matches!(a.update(Action::Suspend), Some(Effect::Suspend)));
    assert!(!a.quit);
}
