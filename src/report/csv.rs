//! The CSV report: one row per result, every field of [`super::BenchResult`] but the samples. It
//! carries the rows only: the headline, ceilings' descriptions and caveats are in the JSON, Markdown
//! and HTML reports (a CSV has no place for prose that a spreadsheet would not misread as rows).

use super::Report;

const HEADER: &str = "checkpoint,method,device,cache,touched,rank,ranks,runs,median_s,min_s,max_s,bytes,gbps,\
peak_rss_bytes,cache_dropped,checksum,memory,upload,ceiling,percent_of_ceiling,major_faults,note";

/// CSV text of `report.results` with a header line (RFC 4180 quoting).
pub fn to_string(report: &Report) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    let opt = |v: Option<String>| v.unwrap_or_default();
    for r in &report.results {
        let fields = [
            field(&checkpoint(&r.checkpoint)),
            field(&r.method),
            field(&r.device),
            field(&r.cache),
            r.touched.to_string(),
            opt(r.rank.map(|v| v.to_string())),
            opt(r.ranks.map(|v| v.to_string())),
            r.runs.to_string(),
            format!("{:.9}", r.median_s),
            format!("{:.9}", r.min_s),
            format!("{:.9}", r.max_s),
            r.bytes.to_string(),
            opt(r.gbps.map(|v| format!("{v:.3}"))),
            opt(r.peak_rss_bytes.map(|v| v.to_string())),
            opt(r.cache_dropped.map(|v| v.to_string())),
            field(r.checksum.as_deref().unwrap_or("")),
            field(r.memory.as_deref().unwrap_or("")),
            field(r.upload.as_deref().unwrap_or("")),
            field(r.ceiling.as_deref().unwrap_or("")),
            opt(r.percent_of_ceiling.map(|v| format!("{v:.1}"))),
            opt(r.major_faults.map(|v| v.to_string())),
            field(r.note.as_deref().unwrap_or("")),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// A checkpoint as the CSV names it: a twin or synthetic pair written into a temporary folder,
/// removed after the run, by its file name and that fact, not by a path that no longer exists.
fn checkpoint(path: &str) -> String {
    let shown = super::display_path(path);
    if shown == path {
        shown
    } else {
        format!("{shown} (temporary; removed after the run)")
    }
}

/// Quote a field when it holds a comma, quote or line break; neutralise spreadsheet formulas;
/// control characters (ESC, line breaks) escaped as every other format escapes them.
fn field(s: &str) -> String {
    let s = crate::text::escape(s);
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.into_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_result() {
        let r = crate::report::sample::report();
        let text = to_string(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + r.results.len());
        let cols = lines[0].split(',').count();
        assert!(lines.iter().all(|l| l.split(',').count() == cols), "{text}");
        assert!(lines[2].starts_with("/tmp/m.safetensors,safetensors-mmap,cpu,warm,true,,,3,"));
        // the untouched map read nothing: no rate
        assert!(lines[1].contains(",500000000,,600000000,"), "{}", lines[1]);
        assert!(
            lines[4].ends_with(",3.333,600000000,,0x1234,fresh,,memcpy-fresh,55.6,0,"),
            "{}",
            lines[4]
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(field("=cmd()"), "'=cmd()");
        assert_eq!(field("plain"), "plain");
        // raw control bytes from a file name never reach the file
        assert_eq!(field("a\x1b[31m\nb"), "a\\x1b[31m\\x0ab");
        assert_eq!(
            checkpoint("/tmp/tensorscope-bench-1-2/model.bin"),
            "model.bin (temporary; removed after the run)"
        );
        assert_eq!(checkpoint("/data/model.bin"), "/data/model.bin");
    }
}
