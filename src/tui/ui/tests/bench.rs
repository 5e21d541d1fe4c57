//! The Bench tab: snapshots and a real run of the tiny samples.

use std::time::{Duration, Instant};

use tensorscope::bench::{Event, Isolation};
use tensorscope::report::{Report, sample};

use super::{app, draw};
use crate::tui::app::{Action, App, Effect};
use crate::tui::bench::{self, BenchMsg, Phase};
use crate::tui::scroll::Move;

fn on_bench(rel: &str) -> App {
    let mut a = app(rel);
    a.update(Action::SelectTab(3));
    a
}

fn feed(a: &mut App, e: Event) {
    a.update(Action::Bench(BenchMsg::Event(e)));
}

fn finish(a: &mut App, r: Report) {
    assert!(matches!(a.update(Action::RunBench), Some(Effect::StartBench(_))));
    a.update(Action::Bench(BenchMsg::Done(Ok(Box::new(r)))));
}

#[test]
fn esc_or_x_cancels_a_running_bench_and_the_app_keeps_running() {
    for key in [Action::Back, Action::CancelBench] {
        let mut a = on_bench("gpt2-tiny.bin");
        assert!(a.update(key.clone()).is_none(), "nothing to cancel before a run");
        assert!(matches!(a.update(Action::RunBench), Some(Effect::StartBench(_))));
        assert!(matches!(a.update(key.clone()), Some(Effect::CancelBench)));
        assert!(a.bench.cancelling && !a.quit);
        assert!(a.update(key).is_none(), "asked once");
        assert!(draw(&a, 80, 24).contains("cancelling"));
        a.update(Action::Bench(BenchMsg::Done(Ok(Box::new(
            tensorscope::report::sample::report(),
        )))));
        assert!(a.bench.report().is_some() && !a.bench.running() && !a.quit);
    }
}

#[test]
fn bench_before_a_run() {
    let a = on_bench("gpt2-tiny.bin");
    insta::assert_snapshot!(draw(&a, 120, 16));
}

#[test]
fn bench_during_a_run() {
    let mut a = on_bench("gpt2-tiny.bin");
    assert!(matches!(a.update(Action::RunBench), Some(Effect::StartBench(_))));
    assert!(a.update(Action::RunBench).is_none(), "no second run while one is going");
    feed(&mut a, Event::Planned { cases: 4, runs: 24 });
    feed(
        &mut a,
        Event::CaseStarted {
            index: 0,
            label: "pickle-eager".into(),
        },
    );
    for _ in 0..6 {
        feed(
            &mut a,
            Event::Run {
                index: 0,
                seconds: 0.1,
                warmup: false,
            },
        );
    }
    let row = sample::report().results[2].clone();
    feed(
        &mut a,
        Event::CaseDone {
            index: 0,
            result: Box::new(row),
        },
    );
    feed(
        &mut a,
        Event::CaseStarted {
            index: 1,
            label: "pickle-eager \x1b[31mtouched".into(),
        },
    );
    feed(
        &mut a,
        Event::Run {
            index: 1,
            seconds: 0.1,
            warmup: true,
        },
    );
    insta::assert_snapshot!(draw(&a, 120, 12));
}

#[test]
fn bench_with_the_sample_report() {
    let mut a = on_bench("gpt2-tiny.bin");
    finish(&mut a, sample::report());
    insta::assert_snapshot!(draw(&a, 120, 24));
}

#[test]
fn bench_without_a_baseline_shows_medians() {
    let mut a = on_bench("gpt2-tiny.safetensors");
    let mut r = sample::report();
    r.results.retain(|x| !x.method.starts_with("pickle"));
    r.speedups.clear();
    finish(&mut a, r);
    insta::assert_snapshot!(draw(&a, 120, 18));
}

#[test]
fn bench_shows_the_device_when_there_are_several() {
    let mut a = on_bench("gpt2-tiny.bin");
    let mut r = sample::report();
    assert!(!draw_report(&mut a, r.clone()).contains("device"));
    let mut gpu = r.results[1].clone();
    gpu.device = "gpu".into();
    r.results.push(gpu);
    let text = draw_report(&mut a, r);
    assert!(text.contains("device"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("gpu") && l.contains("safetensors-mmap")),
        "{text}"
    );
}

fn draw_report(a: &mut App, r: Report) -> String {
    finish(a, r);
    draw(a, 120, 24)
}

#[test]
fn bench_error_is_one_line_and_export_is_reported() {
    let mut a = on_bench("gpt2-tiny.bin");
    assert!(a.update(Action::ExportBench).is_none(), "nothing to export yet");
    a.update(Action::RunBench);
    a.update(Action::Bench(BenchMsg::Done(Err("no such file: x\x1b[2J".into()))));
    let text = draw(&a, 80, 8);
    assert!(text.contains("bench failed: no such file: x\\x1b[2J"), "{text}");
    finish(&mut a, sample::report());
    let Some(Effect::ExportBench(r)) = a.update(Action::ExportBench) else {
        panic!("export asked for")
    };
    assert_eq!(r.results.len(), 4);
    a.update(Action::Bench(BenchMsg::Exported(Ok(vec![
        "/x/tensorscope-bench-1.html".into(),
        "/x/tensorscope-bench-1.json".into(),
    ]))));
    assert!(draw(&a, 120, 24).contains("wrote /x/tensorscope-bench-1.html and /x/tensorscope-bench-1.json"));
    a.update(Action::SelectTab(0));
    assert!(
        a.update(Action::RunBench).is_none(),
        "r does nothing outside the Bench view"
    );
}

#[test]
fn bench_tiny_terminals_do_not_panic() {
    let mut a = on_bench("gpt2-tiny.bin");
    let sizes = [(20, 5), (1, 1), (2, 3), (40, 2), (30, 12)];
    let check = |a: &App| {
        for (w, h) in sizes {
            draw(a, w, h);
        }
    };
    check(&a);
    a.update(Action::RunBench);
    check(&a);
    feed(&mut a, Event::Planned { cases: 1, runs: 2 });
    feed(
        &mut a,
        Event::CaseFailed {
            index: 0,
            error: "x".into(),
        },
    );
    check(&a);
    a.update(Action::Bench(BenchMsg::Done(Ok(Box::new(sample::report())))));
    check(&a);
    a.update(Action::Bench(BenchMsg::Exported(Err("cannot write".into()))));
    check(&a);
}

/// A real benchmark of the tiny samples, driven through `update` by the engine's own events.
#[test]
fn bench_runs_for_real_on_the_samples() {
    for (rel, twin) in [
        ("gpt2-tiny.safetensors", "twin.bin"),
        ("gpt2-tiny.bin", "twin.safetensors"),
    ] {
        let mut a = on_bench(rel);
        let dir = tempfile::tempdir().unwrap();
        a.twin_dir = dir.path().join("twin");
        a.update(Action::ToggleGpu);
        a.update(Action::ToggleGpu);
        a.update(Action::ToggleGpu);
        assert_eq!(
            a.bench.settings.gpu,
            Some(false),
            "g toggles; the test machine may have no GPU"
        );
        for _ in 0..10 {
            a.update(Action::FewerRuns);
        }
        assert_eq!(a.bench.settings.runs, 1, "- stops at one run");
        let Some(Effect::StartBench(mut plan)) = a.update(Action::RunBench) else {
            panic!("start asked for")
        };
        // the test binary has no `__bench-child` subcommand: run the cases in process
        plan.path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&plan.path);
        let mut worker = bench::Worker::start(*plan, Isolation::InProcess, Default::default());
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen_progress = false;
        while !worker.done() {
            assert!(Instant::now() < deadline, "the bench of {rel} takes too long");
            for msg in worker.poll() {
                a.update(Action::Bench(msg));
                if let Phase::Running(p) = &a.bench.phase {
                    seen_progress |= p.runs_done > 0;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(seen_progress);
        let Phase::Finished(r) = &a.bench.phase else {
            panic!("{rel}: {:?}", a.bench.phase)
        };
        assert!(!r.results.is_empty() && r.results.iter().all(|x| x.runs == 1));
        assert!(
            r.results.iter().any(|x| x.method == "pickle-eager"),
            "{rel}: the twin is measured"
        );
        assert!(r.results.iter().any(|x| x.method == "safetensors-mmap"), "{rel}");
        // each run writes its twin into a folder of its own under the twin folder
        let Some(Ok(Some((written, _)))) = &a.bench.twin else {
            panic!("{rel}: {:?}", a.bench.twin)
        };
        assert!(
            written.is_file() && written.starts_with(dir.path().join("twin")) && written.ends_with(twin),
            "{rel}: twin written: {written:?}"
        );
        let text = draw(&a, 120, 60);
        assert!(text.contains("touched, warm: safetensors-mmap"), "{text}");
        assert!(
            text.contains("load only (untouched)") && text.contains("notes"),
            "{text}"
        );
    }
}

#[test]
fn bench_with_a_twin_at_80x24_and_120x40() {
    let mut a = on_bench("gpt2-tiny.safetensors");
    a.update(Action::RunBench);
    a.update(Action::Bench(BenchMsg::Twin(Ok(Some((
        "/tmp/tensorscope-twin/twin.bin".into(),
        "torch.save zip, synthetic values, same names and bytes".into(),
    ))))));
    a.update(Action::Bench(BenchMsg::Done(Ok(Box::new(sample::report())))));
    let small = draw(&a, 80, 24);
    assert!(
        small.contains("cpu, touched, warm: safetensors-mmap loads 3.00 ± 0.63 times faster than"),
        "{small}"
    );
    assert!(small.contains("twin /tmp/tensorscope-twin/twin.bin"), "{small}");
    insta::assert_snapshot!("bench_twin_80x24", small);
    insta::assert_snapshot!("bench_twin_120x40", draw(&a, 120, 40));
    // the rows and notes scroll with the list keys, to the last line and back, and say where they are
    // (at 80x24 the sample report fits: a shorter terminal)
    draw(&a, 80, 16);
    a.update(Action::Move(Move::Bottom));
    let end = draw(&a, 80, 16);
    let top = end.lines().nth(1).unwrap_or("");
    let (shown, total) = top
        .rsplit_once(" of ")
        .and_then(|(l, r)| Some((l.rsplit(' ').next()?.split_once('–')?.1, r.split(' ').next()?)))
        .unwrap_or_default();
    assert!(!total.is_empty() && shown == total, "G reaches the last line:\n{end}");
    assert!(end.contains("• "), "the notes end the pane:\n{end}");
    a.update(Action::Move(Move::Up));
    a.update(Action::Move(Move::Top));
    let back = draw(&a, 80, 16);
    assert!(back.lines().nth(1).unwrap_or("").contains(" 1–"), "{back}");
}

#[test]
fn gpu_rows_count_as_touched_in_the_headline() {
    let mut r = sample::report();
    let mut gpu: Vec<_> = r.results.iter().filter(|x| x.touched).cloned().collect();
    for x in &mut gpu {
        x.device = "gpu".into();
        x.touched = false;
        x.median_s /= 2.0;
    }
    r.results.extend(gpu);
    r.speedups = tensorscope::bench::runner::speedups(&r.results);
    r.headline = tensorscope::bench::headline::headline(&r.results);
    let h = &r.headline;
    assert_eq!(h.len(), 2, "one sentence per device: {h:?}");
    assert!(
        h[0].starts_with("cpu, touched, warm: safetensors-mmap loads 3.00 ± 0.63 times faster than pickle-eager"),
        "{h:?}"
    );
    assert!(
        h[1].starts_with("gpu (ring upload), warm: safetensors-mmap loads 3.00 ± 1.26 times faster"),
        "{h:?}"
    );
    // the tab shows both sentences, first thing
    let mut a = on_bench("gpt2-tiny.bin");
    finish(&mut a, r);
    let screen = draw(&a, 200, 40);
    assert!(
        screen.contains("cpu, touched, warm: safetensors-mmap loads 3.00 ± 0.63 times faster"),
        "{screen}"
    );
    assert!(
        screen.contains("gpu (ring upload), warm: safetensors-mmap loads 3.00 ± 1.26 times faster"),
        "{screen}"
    );
}

/// One timed run: no spread is shown as if measured, and a small speedup keeps its digits.
#[test]
fn one_run_shows_no_spread_and_small_ratios_keep_their_digits() {
    let mut a = on_bench("gpt2-tiny.bin");
    let mut r = sample::report();
    for x in &mut r.results {
        x.samples_s.truncate(1);
        (x.min_s, x.max_s) = (x.median_s, x.median_s);
    }
    r.speedups[0].ratio = 0.036;
    let text = draw_report(&mut a, r);
    assert!(text.contains("1 run, no spread"), "{text}");
    assert!(text.contains("0.036x") && !text.contains(" 0.0x"), "{text}");
    assert!(text.contains("e writes HTML, JSON, Markdown, CSV"), "{text}");
    assert!(crate::tui::ui::bench_table::times(0.5) == "0.50x");
    assert!(crate::tui::ui::bench_table::times(3.0) == "3.0x");
    assert_eq!(crate::tui::ui::bench_table::times(0.996), "1.0x");
}

/// The ETA waits for a case that reads every byte: the untouched lazy loads run first and fast.
#[test]
fn the_eta_says_estimating_until_a_touched_case_ran() {
    let mut a = on_bench("gpt2-tiny.bin");
    a.update(Action::RunBench);
    feed(&mut a, Event::Planned { cases: 4, runs: 8 });
    let run = |a: &mut App, seconds| {
        feed(
            a,
            Event::Run {
                index: 0,
                seconds,
                warmup: false,
            },
        )
    };
    let start = |a: &mut App, label: &str| {
        feed(
            a,
            Event::CaseStarted {
                index: 0,
                label: label.into(),
            },
        );
    };
    start(&mut a, "safetensors-mmap");
    run(&mut a, 0.001);
    run(&mut a, 0.001);
    let text = draw(&a, 120, 12);
    assert!(text.contains("2/8 runs · estimating time left…"), "{text}");
    start(&mut a, "safetensors-mmap touched");
    run(&mut a, 30.0);
    let text = draw(&a, 120, 12);
    // 5 runs left at 30 s each
    assert!(text.contains("3/8 runs · about 2:30 left"), "{text}");
}
