//! Tests of html.rs (beside it, which would otherwise pass 500 lines).
use super::*;

#[test]
fn the_answer_first_then_caveats_then_charts_and_tables() {
    let page = to_string(&crate::report::sample::report());
    assert!(page.starts_with("<!DOCTYPE html>"));
    // the answer, full loads, their speedups, what laziness saves, its speedups
    assert_eq!(page.matches("<svg").count(), 5);
    assert!(page.contains("<p class=\"headline\">cpu, touched, warm: safetensors-mmap loads 3.00 ± 0.63 times faster"));
    let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s} in {page}"));
    // the answer chart holds the like-for-like pair only: touched mmap against pickle-eager into fresh memory
    let answer = &page[at("The answer on the CPU")..at("<h2>Caveats")];
    assert!(answer.contains("safetensors-mmap (touched)") && answer.contains("pickle-eager (touched, fresh)"));
    assert!(!answer.contains("untouched"), "{answer}");
    assert!(at("<h2>Caveats") < at("<h2>Median load time"));
    assert!(at("<h2>Median load time") < at("<h2>Results"));
    // caveats folded into one list, no boxes
    assert!(page.contains("<ul class=\"caveats\"><li>a &lt;caveat&gt; &amp; more</li></ul>"));
    assert!(!page.contains("class=\"caveat\""));
    // untouched speedups charted apart from the full loads'
    let full_up = &page[at("<h2>Speedup over the baseline")..at("<h2>What laziness saves")];
    assert!(!full_up.contains("untouched") && full_up.contains("3.0x"), "{full_up}");
    let lazy_up = &page[at("<h2>Speedup of loads that read nothing")..at("<h2>Results")];
    assert!(lazy_up.contains("safetensors-mmap (untouched)") && lazy_up.contains("500.0x"));
    assert!(page.contains("class=\"legend muted\""));
    // narrow screens: charts shrink, tables scroll, numbers stay on one line; light colours
    // even under a forced dark mode (the charts' text is drawn dark)
    for css in [
        "svg{max-width:100%;height:auto}",
        "td.n{white-space:nowrap}",
        "color-scheme:light",
    ] {
        assert!(page.contains(css), "{css}");
    }
    assert_eq!(
        page.matches("<div class=\"wide\"><table>").count(),
        page.matches("<table>").count()
    );
    assert!(!page.contains("nothing read") && page.contains("eager loads and file-read only copy"));
    assert!(page.contains("<td>memcpy-fresh</td><td>cpu</td><td class=\"n\">6.00</td>"));
    assert!(page.contains("fresh memory</span>"));
    for external in ["<script", "<link", "@import", "url(", "src=", "http://", "https://"] {
        let hits: Vec<_> = page.match_indices(external).collect();
        // The only URL allowed is the SVG namespace, which is an identifier, not a fetch.
        let ok = hits
            .iter()
            .all(|(i, _)| page[*i..].starts_with("http://www.w3.org/2000/svg"));
        assert!(ok, "external reference {external}");
    }
    assert!(page.contains("a &lt;caveat&gt; &amp; more"));
    assert!(page.contains("500.0x"));
    assert!(page.contains("safetensors-mmap (touched)"));
}

/// One run per method: the captions promise no whiskers, the tables no fake range.
#[test]
fn one_run_has_no_whiskers() {
    let mut r = crate::report::sample::report();
    for x in &mut r.results {
        (x.runs, x.samples_s, x.min_s, x.max_s) = (1, vec![x.median_s], x.median_s, x.median_s);
    }
    r.config.runs = 1;
    let page = to_string(&r);
    assert!(
        !page.contains("whiskers span") && page.contains("no whiskers"),
        "{page}"
    );
    assert!(
        page.contains("1 timed run after 1 warm-up run · warm cache · 1 rank"),
        "{page}"
    );
    assert!(
        page.contains("<td class=\"n\">1 run</td>") && !page.contains("(s)"),
        "{page}"
    );
    assert!(page.contains("Test CPU (2 cores)"));
    // a speedup under 1 keeps two significant digits on the chart too
    r.speedups[1].ratio = 0.058;
    assert!(to_string(&r).contains(">0.058x</text>"));
}

/// Two checkpoints: every chart names the file where a method ran on both, and no label runs
/// past the chart's left edge.
#[test]
fn two_checkpoints_are_named_in_every_chart() {
    let mut r = crate::report::sample::report();
    let mut other: Vec<_> = r.speedups.clone();
    for s in &mut other {
        s.checkpoint = "/data/a-much-longer-checkpoint-file-name.safetensors".into();
    }
    r.speedups.extend(other);
    let mut rows: Vec<_> = r.results.clone();
    for x in &mut rows {
        x.checkpoint = "/data/a-much-longer-checkpoint-file-name.safetensors".into();
    }
    r.results.extend(rows);
    let page = to_string(&r);
    let at = |s: &str| page.find(s).unwrap();
    let full_up = &page[at("<h2>Speedup over the baseline")..at("<h2>What laziness saves")];
    assert!(
        full_up.contains("safetensors-mmap (touched) (warm) · m.safetensors"),
        "{full_up}"
    );
    assert!(
        full_up.contains("safetensors-mmap (touched) (warm) · a-much-longer"),
        "{full_up}"
    );
    for label in page.split("text-anchor=\"end\">").skip(1) {
        let text = &label[..label.find("</text>").unwrap()];
        assert!(text.chars().count() <= LABEL_CHARS, "{text}");
    }
    assert_eq!(fit("abc", Some("m.safetensors")), "abc · m.safetensors");
    assert_eq!(fit(&"x".repeat(80), None).chars().count(), LABEL_CHARS);
    assert_eq!(fit(&"x".repeat(80), Some(&"f".repeat(40))).chars().count(), LABEL_CHARS);
}

#[test]
fn log_axis_maps_decades() {
    let ax = LogAxis::new(0.0002, 0.15);
    assert_eq!((ax.lo, ax.hi), (-4.0, 0.0));
    assert_eq!(ax.x(1e-4), LABEL_W);
    assert_eq!(ax.ticks().count(), 5);
    assert!(ax.x(0.01) < ax.x(0.1));
}

#[test]
fn escapes() {
    assert_eq!(esc("<a href='x'>&\"\n"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\\x0a");
}
