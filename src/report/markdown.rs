//! The Markdown report: system facts, checkpoints, results, speedups and caveats as tables.

use std::fmt::Write;

use super::{Report, seconds};
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
    let _ = writeln!(o, "| CPU | {} ({} cores) |", cell(&s.cpu), s.cores);
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
    let c = &report.config;
    let _ = writeln!(
        o,
        "\n{} timed runs after {} warm-up, {} cache, {} rank(s), touched loads read on {} thread(s){}{}.\n",
        c.runs,
        c.warmup,
        if c.cold { "cold" } else { "warm" },
        c.ranks,
        c.touch_threads,
        c.synthetic
            .as_ref()
            .map(|s| format!(", synthetic {}", cell(s)))
            .unwrap_or_default(),
        if c.isolated {
            ", each case in its own process"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "## Checkpoints\n\n| path | format | size | tensors | filesystem |\n|---|---|---:|---:|---|"
    );
    for k in &report.checkpoints {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            cell(&super::display_path(&k.path)),
            cell(&k.format),
            bytes(k.bytes),
            k.tensors,
            cell(k.filesystem.as_deref().unwrap_or("–"))
        );
    }
    if !report.ceilings.is_empty() {
        let _ = writeln!(
            o,
            "\n## Ceilings (measured in this run)\n\n| ceiling | device | GB/s | what |\n|---|---|---:|---|"
        );
        for c in &report.ceilings {
            let _ = writeln!(
                o,
                "| {} | {} | {:.2} | {} |",
                cell(&c.name),
                cell(&c.device),
                c.gbps,
                cell(&c.what)
            );
        }
    }
    let (full, lazy): (Vec<&super::BenchResult>, Vec<&super::BenchResult>) =
        report.results.iter().partition(|r| !super::is_lazy(r));
    results_table(&mut o, "Results: loads that read every byte", &full);
    results_table(
        &mut o,
        "What laziness saves: untouched views, one tensor, slices",
        &lazy,
    );
    if !report.speedups.is_empty() {
        let _ = writeln!(
            o,
            "\n## Speedups\n\n| method | device | cache | baseline | speedup |\n|---|---|---|---|---:|"
        );
        for sp in &report.speedups {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {:.1}x |",
                cell(&sp.label()),
                cell(&sp.device),
                cell(&sp.cache),
                cell(&sp.baseline),
                sp.ratio
            );
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

fn results_table(o: &mut String, title: &str, rows: &[&super::BenchResult]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n## {title}\n\n| method | checkpoint | device | cache | median | min – max | GB/s | % of ceiling | data | peak RSS | major faults |\n\
         |---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in rows {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} – {} | {:.2} | {} | {} | {} | {} |",
            cell(&r.label()),
            cell(file_name(&r.checkpoint)),
            cell(&r.device),
            cell(&r.cache),
            seconds(r.median_s),
            seconds(r.min_s),
            seconds(r.max_s),
            r.gbps,
            super::percent(r),
            bytes(r.bytes),
            r.peak_rss_bytes.map(bytes).unwrap_or_else(|| "–".into()),
            r.major_faults.map(|n| n.to_string()).unwrap_or_else(|| "–".into())
        );
    }
}

/// The last path component, for narrow tables.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Make untrusted text safe inside a table cell.
fn cell(s: &str) -> String {
    crate::text::escape(s).replace('|', "\\|").replace('<', "&lt;")
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
            md.contains("**cpu, touched, warm: safetensors-mmap loads 3.0x faster"),
            "{md}"
        );
        assert!(md.contains("| memcpy-fresh | cpu | 1.00 |"), "{md}");
        assert!(md.contains("| pickle-eager (touched, fresh) | m.safetensors | cpu | warm | 150.00 ms | 135.00 ms – 165.00 ms | 3.33 | 50% |"), "{md}");
        // untouched rows in their own table, after the full loads
        let lazy = md.find("## What laziness saves").unwrap();
        assert!(md.find("| safetensors-mmap (untouched) | m.safetensors").unwrap() > lazy);
        assert!(md.find("| safetensors-mmap (touched) | m.safetensors").unwrap() < lazy);
        assert!(
            md.contains("| safetensors-mmap (untouched) | cpu | warm | pickle-eager | 500.0x |"),
            "{md}"
        );
        assert!(md.contains("- a &lt;caveat> & more"));
        assert_eq!(cell("a|b\n"), "a\\|b\\x0a");
    }
}
