//! The tables of a report, built once and rendered by each format ([`super::markdown`], [`super::html`]):
//! checkpoints, ceilings, results and speedups. Cells hold plain, unescaped text; a renderer escapes
//! it for its own syntax. CSV is not a table of this kind: it is every field of every result, raw.
//!
//! A cell may carry more than its text for a format that can show it: a hover title, and richer
//! content (tags) that HTML draws where Markdown prints the plain text.

use super::{BenchResult, Report, Speedup, display_path, percent, seconds};
use crate::text::bytes;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A column: its heading and alignment.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Heading.
    pub name: &'static str,
    /// Alignment of the heading and the cells.
    pub align: Align,
}

/// A piece of a rich cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Plain text.
    Text(String),
    /// A small label; `strong` ones stand out (touched, uploaded).
    Tag {
        /// The label.
        text: String,
        /// Whether it stands out.
        strong: bool,
    },
}

/// One cell.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// What every format shows.
    pub text: String,
    /// A longer text shown on hover, where the format has hovering.
    pub title: Option<String>,
    /// What a format with tags shows instead of `text`.
    pub rich: Option<Vec<Piece>>,
}

impl Cell {
    fn titled(text: impl Into<String>, title: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            title: Some(title.into()),
            rich: None,
        }
    }
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }
}

/// A titled table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Section heading.
    pub title: String,
    /// Columns, left to right.
    pub columns: Vec<Column>,
    /// Rows of cells, one per column.
    pub rows: Vec<Vec<Cell>>,
}

const fn left(name: &'static str) -> Column {
    Column {
        name,
        align: Align::Left,
    }
}

const fn right(name: &'static str) -> Column {
    Column {
        name,
        align: Align::Right,
    }
}

/// The checkpoints measured.
pub fn checkpoints(report: &Report) -> Table {
    Table {
        title: "Checkpoints".into(),
        columns: vec![
            left("path"),
            left("format"),
            right("size"),
            right("tensors"),
            left("filesystem"),
        ],
        rows: report
            .checkpoints
            .iter()
            .map(|k| {
                vec![
                    display_path(&k.path).into(),
                    k.format.as_str().into(),
                    bytes(k.bytes).into(),
                    k.tensors.to_string().into(),
                    k.filesystem.as_deref().unwrap_or("–").into(),
                ]
            })
            .collect(),
    }
}

/// The ceilings measured in the run.
pub fn ceilings(report: &Report) -> Table {
    Table {
        title: "Ceilings (measured in this run)".into(),
        columns: vec![left("ceiling"), left("device"), right("GB/s"), left("what")],
        rows: report
            .ceilings
            .iter()
            .map(|c| {
                vec![
                    c.name.as_str().into(),
                    c.device.as_str().into(),
                    super::rate(c.gbps).into(),
                    c.what.as_str().into(),
                ]
            })
            .collect(),
    }
}

/// The speedups over the baseline.
pub fn speedups(report: &Report) -> Table {
    let all: Vec<&Speedup> = report.speedups.iter().collect();
    speedups_of("Speedups", &all)
}

/// The speedups of `rows`, under `title`.
pub fn speedups_of(title: &str, rows: &[&Speedup]) -> Table {
    Table {
        title: title.into(),
        columns: vec![
            left("method"),
            left("checkpoint"),
            left("device"),
            left("cache"),
            left("baseline"),
            right("speedup"),
        ],
        rows: rows
            .iter()
            .map(|s| {
                vec![
                    s.label().into(),
                    Cell::titled(file_name(&s.checkpoint), display_path(&s.checkpoint)),
                    s.device.as_str().into(),
                    s.cache.as_str().into(),
                    baseline(s).into(),
                    super::times(s.ratio).into(),
                ]
            })
            .collect(),
    }
}

/// The baseline a speedup was taken against: `pickle-eager`, or `pickle-eager (reused)` for a row
/// into reused memory, compared with the baseline into reused memory.
pub fn baseline(s: &Speedup) -> String {
    match s.baseline_memory.as_deref() {
        Some(m) if m != "fresh" => format!("{} ({m})", s.baseline),
        _ => s.baseline.clone(),
    }
}

/// The timings of `rows`, under `title`.
pub fn results(title: &str, rows: &[&BenchResult]) -> Table {
    Table {
        title: title.into(),
        columns: vec![
            left("method"),
            left("checkpoint"),
            left("device"),
            left("cache"),
            right("median"),
            right("min – max"),
            right("GB/s"),
            right("% of ceiling"),
            left("ceiling"),
            right("data"),
            right("peak RSS"),
            right("major faults"),
        ],
        rows: rows.iter().map(|r| result_row(r)).collect(),
    }
}

fn result_row(r: &BenchResult) -> Vec<Cell> {
    let cache = match r.cache_dropped {
        Some(false) => Some(vec![Piece::Text(r.cache.clone()), Piece::Text(" (not dropped)".into())]),
        _ => None,
    };
    vec![
        Cell {
            text: r.label(),
            title: None,
            rich: Some(method_pieces(r)),
        },
        Cell::titled(file_name(&r.checkpoint), display_path(&r.checkpoint)),
        r.device.as_str().into(),
        Cell {
            text: r.cache.clone(),
            title: None,
            rich: cache,
        },
        seconds(r.median_s).into(),
        super::range(r).into(),
        super::gbps(r).into(),
        Cell::titled(percent(r), r.ceiling.as_deref().unwrap_or("")),
        r.ceiling.as_deref().unwrap_or("–").into(),
        bytes(r.bytes).into(),
        r.peak_rss_bytes.map(bytes).unwrap_or_else(|| "–".into()).into(),
        r.major_faults
            .map(|n| n.to_string())
            .unwrap_or_else(|| "–".into())
            .into(),
    ]
}

/// The method with its rank, memory or upload, and whether it touched (or uploaded) every byte.
fn method_pieces(r: &BenchResult) -> Vec<Piece> {
    let mut p = vec![Piece::Text(r.method.clone())];
    if let (Some(k), Some(n)) = (r.rank, r.ranks) {
        p.push(Piece::Text(format!(" rank {k}/{n}")));
    }
    let extra = match (&r.memory, &r.upload) {
        (Some(m), _) => Some(format!("{m} memory")),
        (None, Some(u)) => Some(format!("{u} upload")),
        _ => None,
    };
    if let Some(text) = extra {
        p.push(Piece::Text(" ".into()));
        p.push(Piece::Tag { text, strong: false });
    }
    p.push(Piece::Text(" ".into()));
    p.push(if r.device != "cpu" {
        Piece::Tag {
            text: "uploaded".into(),
            strong: true,
        }
    } else if r.touched {
        Piece::Tag {
            text: "touched".into(),
            strong: true,
        }
    } else {
        Piece::Tag {
            text: "untouched".into(),
            strong: false,
        }
    });
    p
}

/// The last path component, for narrow tables.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A speedup under 1 keeps two significant digits in every table (`0.058x`, not `0.1x`).
    #[test]
    fn slow_speedups_keep_their_digits() {
        let mut r = crate::report::sample::report();
        r.speedups[1].ratio = 0.058;
        let t = speedups(&r);
        assert_eq!(t.rows[1][5].text, "0.058x");
    }

    /// A row into reused memory is compared with the baseline into reused memory, and says so.
    #[test]
    fn reused_rows_name_their_reused_baseline() {
        let mut r = crate::report::sample::report();
        assert_eq!(speedups(&r).rows[1][4].text, "pickle-eager");
        r.speedups[1].memory = Some("reused".into());
        r.speedups[1].baseline_memory = Some("reused".into());
        assert_eq!(speedups(&r).rows[1][4].text, "pickle-eager (reused)");
    }
}
