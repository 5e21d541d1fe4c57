//! The HTML report: one self-contained page (inline CSS and SVG; no scripts, external styles or
//! fonts) with the system facts, two bar charts (median time per method with min–max whiskers,
//! speedups over the baseline), the tables and the caveats.

use std::fmt::Write;

use super::table::{self, Align, Piece, Table, file_name};
use super::{BenchResult, Report, Speedup, seconds};
use crate::text::bytes;

const STYLE: &str = ":root{color-scheme:light}body{background:#fff;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;\
max-width:1100px;padding:0 16px;color:#1d2330}h1{font-size:22px}h2{font-size:17px;margin-top:28px;\
border-bottom:1px solid #dde;padding-bottom:4px}table{border-collapse:collapse;margin:8px 0}\
td,th{padding:3px 10px;border-bottom:1px solid #eef;text-align:left}td.n,th.n{text-align:right;\
font-variant-numeric:tabular-nums}.facts td:first-child{color:#667}.muted{color:#667}\
.caveats{background:#fff6e0;border-left:4px solid #e0a000;padding:6px 10px 6px 28px;margin:6px 0}\
.caveats li{margin:2px 0}\
svg text{font:12px system-ui,sans-serif;fill:#1d2330}.headline{font-size:16px;font-weight:600;\
margin:6px 0}.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:12px;\
height:12px;margin-right:4px;vertical-align:-1px}.tag{font-size:11px;padding:1px 5px;\
border-radius:3px;background:#eef}.tag.t{background:#1f5fbf;color:#fff}\
svg{max-width:100%;height:auto}td.n{white-space:nowrap}.wide{overflow-x:auto;max-width:100%}";

/// The page for `report`.
pub fn to_string(report: &Report) -> String {
    let mut o = String::with_capacity(32 << 10);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    let _ = write!(
        o,
        "<title>Checkpoint load benchmark</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        o,
        "<h1>Checkpoint load benchmark</h1><p class=\"muted\">{}",
        esc(&report.tool)
    );
    for s in super::settings(&report.config) {
        let _ = write!(o, " · {}", esc(&s));
    }
    o.push_str("</p>");
    // The answer first: the headline and, per device, the like-for-like pair charted with its spread.
    for h in &report.headline {
        let _ = write!(o, "<p class=\"headline\">{}</p>", esc(h));
    }
    let mut devices: Vec<&str> = report.results.iter().map(|r| r.device.as_str()).collect();
    devices.dedup();
    for device in devices {
        let pair = answer_rows(report, device);
        if pair.iter().any(|r| r.method.starts_with("pickle")) && pair.iter().any(|r| !r.method.starts_with("pickle")) {
            let _ = write!(
                o,
                "<h2>The answer on the {}: safetensors against pickle, every byte read, fresh memory</h2>",
                esc(&device.to_uppercase())
            );
            let _ = write!(
                o,
                "<p class=\"muted\">Median load time, log scale; {} ",
                whiskers(&pair)
            );
            o.push_str("pickle-eager loads as torch.load does, into fresh memory.</p>");
            time_chart(&mut o, &pair);
        }
    }
    if !report.caveats.is_empty() {
        o.push_str("<h2>Caveats</h2><ul class=\"caveats\">");
        for cv in &report.caveats {
            let _ = write!(o, "<li>{}</li>", esc(cv));
        }
        o.push_str("</ul>");
    }
    let (full, lazy): (Vec<&BenchResult>, Vec<&BenchResult>) = report.results.iter().partition(|r| !super::is_lazy(r));
    if !report.results.is_empty() {
        legend(&mut o);
    }
    if !full.is_empty() {
        o.push_str("<h2>Median load time: loads that read every byte</h2>");
        let _ = write!(
            o,
            "<p class=\"muted\">Log scale; {} Touched loads read ",
            whiskers(&full)
        );
        o.push_str("every byte after loading; GPU rows upload every byte.</p>");
        time_chart(&mut o, &full);
    }
    let (full_up, lazy_up): (Vec<&Speedup>, Vec<&Speedup>) =
        report.speedups.iter().partition(|s| !super::is_lazy_speedup(s));
    if !full_up.is_empty() {
        o.push_str("<h2>Speedup over the baseline: loads that read every byte</h2><p class=\"muted\">Baseline median ");
        o.push_str("over method median, like compared with like (same device, cache and touch). Log scale; the line marks 1x.</p>");
        speedup_chart(&mut o, &full_up);
    }
    if !lazy.is_empty() {
        o.push_str("<h2>What laziness saves</h2>");
        o.push_str("<p class=\"muted\">Loads whose data is not read after loading (untouched: views read nothing, ");
        o.push_str(
            "eager loads only copy), one tensor, or one rank's rows. Not comparable with full loads. Log scale.</p>",
        );
        time_chart(&mut o, &lazy);
    }
    if !lazy_up.is_empty() {
        o.push_str("<h2>Speedup of loads that read nothing or part of the data</h2><p class=\"muted\">What skipping ");
        o.push_str("the read saves, not a faster load: untouched views against an untouched eager load, one tensor, ");
        o.push_str("one rank. Log scale; the line marks 1x.</p>");
        speedup_chart(&mut o, &lazy_up);
    }
    tables(&mut o, report);
    o.push_str("</body></html>\n");
    o
}

/// What a time chart's whiskers show: the fastest and slowest run, or nothing with one run.
fn whiskers(rows: &[&BenchResult]) -> &'static str {
    if rows.iter().all(|r| r.runs <= 1) {
        "one run per method, so no whiskers (no spread was measured)."
    } else {
        "whiskers span the fastest and slowest run."
    }
}

const WIDTH: f64 = 1000.0;
const LABEL_W: f64 = 420.0;
/// Characters of a 12px label that fit left of the plot (right-anchored text past the left edge is cut).
const LABEL_CHARS: usize = 62;
const VALUE_W: f64 = 90.0;
const ROW_H: f64 = 22.0;

/// A log10 axis over `[lo, hi]` mapped onto the plot width.
struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    fn new(min: f64, max: f64) -> Self {
        let lo = min.max(1e-9).log10().floor();
        let hi = max.max(min * 10.0).max(1e-9).log10().ceil().max(lo + 1.0);
        LogAxis { lo, hi }
    }
    fn x(&self, v: f64) -> f64 {
        let t = (v.max(1e-12).log10() - self.lo) / (self.hi - self.lo);
        LABEL_W + t.clamp(0.0, 1.0) * (WIDTH - LABEL_W - VALUE_W)
    }
    fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        (self.lo as i32..=self.hi as i32).map(|e| 10f64.powi(e))
    }
}

fn color(method: &str) -> &'static str {
    if method.starts_with("pickle") {
        "#d9731a"
    } else if method.starts_with("safetensors") {
        "#1f5fbf"
    } else if method.starts_with("gguf") {
        "#2e8b57"
    } else {
        "#7a8290"
    }
}

fn svg_open(o: &mut String, rows: usize, title: &str) -> f64 {
    let h = 30.0 + rows as f64 * ROW_H + 24.0;
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{h}\" viewBox=\"0 0 {WIDTH} {h}\" \
         role=\"img\" aria-label=\"{}\">",
        esc(title)
    );
    h
}

fn axis(o: &mut String, ax: &LogAxis, h: f64, fmt: impl Fn(f64) -> String) {
    for t in ax.ticks() {
        let x = ax.x(t);
        let _ = write!(
            o,
            "<line x1=\"{x:.1}\" y1=\"20\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#dde\"/>\
             <text x=\"{x:.1}\" y=\"14\" text-anchor=\"middle\">{}</text>",
            h - 20.0,
            esc(&fmt(t))
        );
    }
}

fn time_chart(o: &mut String, rows: &[&BenchResult]) {
    let min = rows.iter().map(|r| r.min_s).fold(f64::INFINITY, f64::min);
    let max = rows.iter().map(|r| r.max_s).fold(0.0, f64::max);
    let ax = LogAxis::new(min, max);
    let h = svg_open(o, rows.len(), "median load time per method");
    axis(o, &ax, h, seconds);
    let named: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.method.as_str(), r.checkpoint.as_str()))
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let name = fit(&r.label(), several(&named, &r.method).then(|| file_name(&r.checkpoint)));
        let y = 26.0 + i as f64 * ROW_H;
        let (x0, x1) = (ax.x(10f64.powf(ax.lo)), ax.x(r.median_s));
        // an upload to the GPU reads every byte, like a touched load
        let opacity = if r.touched || r.device != "cpu" { "1" } else { "0.45" };
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" fill-opacity=\"{opacity}\">\
             <title>{}: median {}, min {}, max {}</title></rect>\
             <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1d2330\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LABEL_W - 8.0,
            y + 13.0,
            esc(&name),
            (x1 - x0).max(1.0),
            ROW_H - 6.0,
            color(&r.method),
            esc(&r.label()),
            seconds(r.median_s),
            seconds(r.min_s),
            seconds(r.max_s),
            ax.x(r.min_s),
            y + 8.0,
            ax.x(r.max_s),
            y + 8.0,
            WIDTH - VALUE_W + 6.0,
            y + 13.0,
            seconds(r.median_s)
        );
    }
    o.push_str("</svg>");
}

/// What the colours and shades of the charts mean.
fn legend(o: &mut String) {
    o.push_str("<p class=\"legend muted\">");
    for (c, what, opacity) in [
        ("#1f5fbf", "safetensors", "1"),
        ("#d9731a", "pickle (torch.save)", "1"),
        ("#2e8b57", "GGUF", "1"),
        ("#7a8290", "reference read", "1"),
        // untouched eager and file-read rows copy every byte: pale says no pass after loading,
        // not that nothing was read
        (
            "#1f5fbf",
            "pale: untouched (not read after loading: views read nothing, eager loads and file-read only copy)",
            "0.45",
        ),
    ] {
        let _ = write!(
            o,
            "<span><span class=\"sw\" style=\"background:{c};opacity:{opacity}\"></span>{}</span>",
            esc(what)
        );
    }
    o.push_str("</p>");
}

/// The like-for-like rows of `device`: `safetensors-mmap` (or, without it, every other
/// safetensors load) and `pickle-eager` into fresh memory, each reading every byte, whole loads.
fn answer_rows<'a>(report: &'a Report, device: &str) -> Vec<&'a BenchResult> {
    let whole = |r: &&BenchResult| r.device == device && r.rank.is_none() && r.reads_everything();
    let pickle = report
        .results
        .iter()
        .filter(whole)
        .filter(|r| r.method == "pickle-eager" && r.memory.as_deref().is_none_or(|m| m == "fresh"));
    let mmap: Vec<&BenchResult> = report
        .results
        .iter()
        .filter(whole)
        .filter(|r| r.method == "safetensors-mmap")
        .collect();
    let st: Vec<&BenchResult> = if mmap.is_empty() {
        report
            .results
            .iter()
            .filter(whole)
            .filter(|r| {
                r.method.starts_with("safetensors")
                    && r.method != "safetensors-lazy-one"
                    && r.memory.as_deref() != Some("reused")
            })
            .collect()
    } else {
        mmap
    };
    st.into_iter().chain(pickle).collect()
}

fn speedup_chart(o: &mut String, rows: &[&Speedup]) {
    let min = rows.iter().map(|r| r.ratio).fold(1.0, f64::min);
    let max = rows.iter().map(|r| r.ratio).fold(1.0, f64::max);
    let ax = LogAxis::new(min, max);
    let h = svg_open(o, rows.len(), "speedup over the baseline");
    axis(o, &ax, h, |t| format!("{t}x"));
    let one = ax.x(1.0);
    let named: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.method.as_str(), r.checkpoint.as_str()))
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let y = 26.0 + i as f64 * ROW_H;
        let label = format!(
            "{} ({})",
            r.label(),
            if r.rank.is_some() {
                format!("vs {}", table::baseline(r))
            } else {
                r.cache.clone()
            }
        );
        let name = fit(&label, several(&named, &r.method).then(|| file_name(&r.checkpoint)));
        let x = ax.x(r.ratio);
        let (a, b) = if x >= one { (one, x) } else { (x, one) };
        // an upload to the GPU reads every byte, like a touched load
        let opacity = if r.touched || r.device != "cpu" { "1" } else { "0.45" };
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{a:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" fill-opacity=\"{opacity}\">\
             <title>{}: {}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LABEL_W - 8.0,
            y + 13.0,
            esc(&name),
            (b - a).max(1.0),
            ROW_H - 6.0,
            color(&r.method),
            esc(&format!("{label} · {}", super::display_path(&r.checkpoint))),
            super::times(r.ratio),
            WIDTH - VALUE_W + 6.0,
            y + 13.0,
            super::times(r.ratio)
        );
    }
    let _ = write!(
        o,
        "<line x1=\"{one:.1}\" y1=\"20\" x2=\"{one:.1}\" y2=\"{:.1}\" stroke=\"#1d2330\" stroke-dasharray=\"4 3\"/></svg>",
        h - 20.0
    );
}

fn tables(o: &mut String, report: &Report) {
    let all: Vec<&BenchResult> = report.results.iter().collect();
    table(o, &table::results("Results", &all));
    if !report.ceilings.is_empty() {
        table(o, &table::ceilings(report));
    }
    if !report.speedups.is_empty() {
        table(o, &table::speedups(report));
    }
    let s = &report.system;
    o.push_str("<h2>System</h2><table class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        let _ = write!(o, "<tr><td>{k}</td><td>{}</td></tr>", esc(&v));
    };
    fact("OS", format!("{} (kernel {})", s.os, s.kernel));
    fact(
        "CPU",
        format!("{} ({})", s.cpu, crate::text::plural(s.cores as u64, "core")),
    );
    fact(
        "Memory",
        format!(
            "{} ({} available)",
            bytes(s.memory_bytes),
            bytes(s.available_memory_bytes)
        ),
    );
    fact(
        "Copy into fresh memory (one thread)",
        format!("{:.2} GB/s", s.fresh_memory_gbps),
    );
    fact(
        "Copy into mapped memory (one thread)",
        format!("{:.2} GB/s", s.mapped_memory_gbps),
    );
    for g in &s.gpu {
        fact("GPU", format!("{} ({}, {})", g.name, g.backend, g.device_type));
    }
    o.push_str("</table>");
    table(o, &table::checkpoints(report));
}

/// A table under its `<h2>` heading; numeric columns right-aligned, titles on hover, tags drawn.
fn table(o: &mut String, t: &Table) {
    let _ = write!(o, "<h2>{}</h2><div class=\"wide\"><table><tr>", esc(&t.title));
    for c in &t.columns {
        let _ = match c.align {
            Align::Left => write!(o, "<th>{}</th>", esc(c.name)),
            Align::Right => write!(o, "<th class=\"n\">{}</th>", esc(c.name)),
        };
    }
    o.push_str("</tr>");
    for row in &t.rows {
        o.push_str("<tr>");
        for (col, c) in t.columns.iter().zip(row) {
            o.push_str("<td");
            if col.align == Align::Right {
                o.push_str(" class=\"n\"");
            }
            if let Some(title) = &c.title {
                let _ = write!(o, " title=\"{}\"", esc(title));
            }
            o.push('>');
            match &c.rich {
                Some(pieces) => {
                    for p in pieces {
                        let _ = match p {
                            Piece::Text(t) => write!(o, "{}", esc(t)),
                            Piece::Tag { text, strong: true } => {
                                write!(o, "<span class=\"tag t\">{}</span>", esc(text))
                            }
                            Piece::Tag { text, strong: false } => write!(o, "<span class=\"tag\">{}</span>", esc(text)),
                        };
                    }
                }
                None => o.push_str(&esc(&c.text)),
            }
            o.push_str("</td>");
        }
        o.push_str("</tr>");
    }
    o.push_str("</table></div>");
}

/// Whether `method` ran on several checkpoints among `rows` (method, checkpoint): its labels then
/// name the file, or two bars of different checkpoints would read alike.
fn several(rows: &[(&str, &str)], method: &str) -> bool {
    let mut files: Vec<&str> = rows.iter().filter(|r| r.0 == method).map(|r| r.1).collect();
    files.sort_unstable();
    files.dedup();
    files.len() > 1
}

/// A chart label that fits left of the plot: `label · file`, the file (then the label) cut short
/// with `…` where it would run past the left edge.
fn fit(label: &str, file: Option<&str>) -> String {
    let cut = |s: &str, n: usize| match s.char_indices().nth(n.saturating_sub(1)) {
        Some((i, _)) if s.chars().count() > n => format!("{}…", &s[..i]),
        _ => s.to_owned(),
    };
    match file {
        Some(f) => {
            // at least 10 characters of the file name: the label gives way first
            let label = cut(label, LABEL_CHARS - 13);
            let room = LABEL_CHARS - label.chars().count() - 3;
            format!("{label} · {}", cut(f, room))
        }
        None => cut(label, LABEL_CHARS),
    }
}

/// Escape text for HTML content and attribute values (after escaping control characters).
fn esc(s: &str) -> String {
    let s = crate::text::escape(s);
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
