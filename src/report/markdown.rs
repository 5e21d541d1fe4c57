//! The Markdown report: system facts, checkpoints, results, speedups and caveats as tables (the tables
//! of [`super::table`]).

use std::fmt::Write;

use super::Report;
use super::table::{self, Align, Table};
use crate::text::bytes;

/// Markdown text of `report`.
pub fn to_string(report: &Report) -> String {
    let mut o = String::new();
    let s = &report.system;
    let _ = writeln!(o, "# Checkpoint load benchmark\n");
    for h in &report.headline {
        let _ = writeln!(o, "**{}**\n", cell(h));
    }
    let _ = writeln!(o, "{}\n", cell(&report.tool));
    let _ = writeln!(o, "## System\n\n| | |\n|---|---|");
    let _ = writeln!(o, "| OS | {} (kernel {}) |", cell(&s.os), cell(&s.kernel));
    let _ = writeln!(
        o,
        "| CPU | {} ({}) |",
        cell(&s.cpu),
        crate::text::plural(s.cores as u64, "core")
    );
    let _ = writeln!(
        o,
        "| Memory | {} ({} available) |",
        bytes(s.memory_bytes),
        bytes(s.available_memory_bytes)
    );
    let _ = writeln!(
        o,
        "| Copy into fresh / mapped memory, one thread | {:.2} / {:.2} GB/s |",
        s.fresh_memory_gbps, s.mapped_memory_gbps
    );
    for g in &s.gpu {
        let _ = writeln!(
            o,
            "| GPU | {} ({}, {}) |",
            cell(&g.name),
            cell(&g.backend),
            cell(&g.device_type)
        );
    }
    let settings: Vec<String> = super::settings(&report.config).iter().map(|s| cell(s)).collect();
    let _ = writeln!(o, "\n{}.", settings.join(", "));
    table(&mut o, &table::checkpoints(report));
    if !report.ceilings.is_empty() {
        table(&mut o, &table::ceilings(report));
    }
    let (full, lazy): (Vec<&super::BenchResult>, Vec<&super::BenchResult>) =
        report.results.iter().partition(|r| !super::is_lazy(r));
    for (title, rows) in [
        ("Results: loads that read every byte", &full),
        ("What laziness saves: untouched views, one tensor, slices", &lazy),
    ] {
        if !rows.is_empty() {
            table(&mut o, &table::results(title, rows));
        }
    }
    let (full_up, lazy_up): (Vec<&super::Speedup>, Vec<&super::Speedup>) =
        report.speedups.iter().partition(|s| !super::is_lazy_speedup(s));
    for (title, rows) in [
        ("Speedups: loads that read every byte", &full_up),
        ("Speedups of loads that read nothing or part of the data", &lazy_up),
    ] {
        if !rows.is_empty() {
            table(&mut o, &table::speedups_of(title, rows));
        }
    }
    if !report.caveats.is_empty() {
        let _ = writeln!(o, "\n## Caveats\n");
        for c in &report.caveats {
            let _ = writeln!(o, "- {}", cell(c));
        }
    }
    o
}

/// A table under its `##` heading: a header row, the alignment row, one line per row.
fn table(o: &mut String, t: &Table) {
    let _ = write!(o, "\n## {}\n\n|", t.title);
    for c in &t.columns {
        let _ = write!(o, " {} |", c.name);
    }
    o.push_str("\n|");
    for c in &t.columns {
        o.push_str(match c.align {
            Align::Left => "---|",
            Align::Right => "---:|",
        });
    }
    o.push('\n');
    for row in &t.rows {
        o.push('|');
        for c in row {
            let _ = write!(o, " {} |", cell(&c.text));
        }
        o.push('\n');
    }
}

/// Make untrusted text safe inside a table cell: no column breaks, tags, or emphasis and code
/// marks (`*`, `_`, a backtick) that would turn a name into formatting.
fn cell(s: &str) -> String {
    let s = crate::text::escape(s);
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '`' => {
                o.push('\\');
                o.push(c);
            }
            '<' => o.push_str("&lt;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_caveats() {
        let md = to_string(&crate::report::sample::report());
        assert!(
            md.contains("| safetensors-mmap (touched) | m.safetensors | cpu | warm | 50.00 ms |"),
            "{md}"
        );
        assert!(
            md.contains("**cpu, touched, warm: safetensors-mmap loads 3.00 ± 0.63 times faster"),
            "{md}"
        );
        assert!(md.contains("| memcpy-fresh | cpu | 6.00 |"), "{md}");
        assert!(md.contains("| pickle-eager (touched, fresh) | m.safetensors | cpu | warm | 150.00 ms | 135.00 ms – 165.00 ms | 3.33 | 56% | memcpy-fresh |"), "{md}");
        // the untouched map read nothing: no rate
        assert!(
            md.contains(
                "| safetensors-mmap (untouched) | m.safetensors | cpu | warm | 200 µs | 180 µs – 220 µs | - | – | – |"
            ),
            "{md}"
        );
        let lazy_up = md.find("## Speedups of loads that read nothing").unwrap();
        assert!(md.find("## Speedups: loads that read every byte").unwrap() < lazy_up);
        // untouched rows in their own table, after the full loads
        let lazy = md.find("## What laziness saves").unwrap();
        assert!(md.find("| safetensors-mmap (untouched) | m.safetensors").unwrap() > lazy);
        assert!(md.find("| safetensors-mmap (touched) | m.safetensors").unwrap() < lazy);
        assert!(
            md.contains("| safetensors-mmap (untouched) | m.safetensors | cpu | warm | pickle-eager | 500.0x |"),
            "{md}"
        );
        assert!(md.contains("- a &lt;caveat> & more"));
        // a row into reused memory names the baseline it was compared with
        let mut r = crate::report::sample::report();
        r.speedups[1].baseline_memory = Some("reused".into());
        assert!(to_string(&r).contains("| pickle-eager (reused) |"));
        assert_eq!(cell("a|b\n"), "a\\|b\\x0a");
        assert_eq!(cell("**bold** _x_ `c`"), "\\*\\*bold\\*\\* \\_x\\_ \\`c\\`");
    }
}
