//! The selected tensor: where it lives, then what `show` prints (the block-scale check, the values by
//! shape with their indices, the statistics labelled exact or sampled, the histogram), scrolled with
//! J/K (Shift-↓/↑) and ]/[ a page.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use tensorscope::checkpoint::TensorInfo;
use tensorscope::tensor::layout;
use tensorscope::text::{bytes, escape};
use tensorscope::tree::params_label;

use crate::tui::app::{App, PreviewState};
use crate::tui::preview::Preview;

/// Most values on one line (as `show`).
const MAX_PER_LINE: usize = 8;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    let pane = &app.tensors;
    let Some(id) = pane.selected_node() else {
        let block = Block::bordered().title(" Tensor ");
        Paragraph::new("nothing selected").render(block.inner(area), buf);
        block.render(area, buf);
        return;
    };
    let node = pane.tree.node(id);
    let leaf = node.tensor.filter(|_| !node.has_children(id) || pane.flat);
    let block = Block::bordered().title(if leaf.is_some() { " Tensor " } else { " Module " });
    let inner = block.inner(area);
    block.render(area, buf);
    let width = usize::from(inner.width).max(1);
    let Some(i) = leaf else {
        let mut lines = wrap(&escape(&pane.tree.path(id)), width);
        let summary = [
            tensorscope::text::plural(node.tensors as u64, "tensor"),
            format!("{} params", params_label(node.params)),
            bytes(node.bytes),
        ];
        lines.extend(wrap_items(&summary, "  ", width).into_iter().map(Line::from));
        lines.extend(tied_to(app, &pane.tied_targets(id), width));
        lines.push(Line::from(""));
        let other = (node.dtypes.other > 0).then_some(("other", node.dtypes.other));
        for (name, p) in node.dtypes.iter().map(|(d, p)| (d.name(), p)).chain(other) {
            let share = if node.params > 0 {
                p as f64 * 100.0 / node.params as f64
            } else {
                0.0
            };
            lines.push(Line::from(format!(
                "{name:<8} {:>9} params  {share:5.1}%",
                params_label(p)
            )));
        }
        lines.push(Line::from(""));
        let keys = ["→ open", "← close", "* open all", "t flat list"].map(String::from);
        lines.extend(wrap_items(&keys, " · ", width).into_iter().map(|l| Line::from(l).dim()));
        Paragraph::new(lines).render(inner, buf);
        return;
    };
    let t = &app.ck.tensors[i];
    let file = app
        .ck
        .files
        .get(t.file)
        .map(|f| tensorscope::text::path(&f.path))
        .unwrap_or_default();
    let mut lines = vec![Line::from(escape(&t.name).into_owned()).bold()];
    let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
    lines.push(Line::from(format!(
        "{}{}  [{}]  {}{}",
        t.dtype,
        match t.dtype.bits_per_weight() {
            Some(bpw) if t.dtype.is_ggml_block() => format!(" ({bpw:.2} bpw)"),
            _ => String::new(),
        },
        shape.join(", "),
        t.nbytes().map(bytes).unwrap_or_else(|| "size unknown".into()),
        if t.is_contiguous() { "" } else { "  strided view" }
    )));
    let place = [
        format!("file {file}"),
        format!("bytes {}..{}", t.storage.start, t.storage.end),
    ];
    lines.extend(wrap_items(&place, "  ", width).into_iter().map(|l| Line::from(l).dim()));
    lines.extend(tied_to(app, &pane.tied_targets(id), width));
    lines.push(Line::from(""));
    match &app.preview {
        PreviewState::Ready(p) if p.index == i => lines.extend(body(p, t, width)),
        PreviewState::Computing { exact, .. } => {
            let what = if *exact {
                "exact statistics"
            } else {
                "values and statistics"
            };
            lines.push(Line::from(format!("computing {what}… (q quits at any time)")).fg(Color::Yellow));
        }
        _ => {}
    }
    super::scrolled(lines, "Tensor", &app.preview_scroll, area, buf);
}

/// `tied to wte.weight` (as `inspect` says it) for a tensor, or a module of tensors, that shares an
/// earlier tensor's storage and so counts no parameters or bytes of its own.
fn tied_to(app: &App, targets: &[usize], width: usize) -> Vec<Line<'static>> {
    let Some(&first) = targets.first() else {
        return Vec::new();
    };
    let name = |t: usize| escape(&app.ck.tensors[t].name).into_owned();
    let more = match targets.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    let text = format!("tied to {}{more}: counted there", name(first));
    super::wrap::hang(vec![Span::raw(text).fg(Color::Cyan)], 8, width)
}

/// What `show` prints, as lines of the pane: the block-scale check, the statistics and the histogram
/// (first: they fit a screen), then the values by shape.
fn body(p: &Preview, t: &TensorInfo, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(e) = &p.error {
        lines.push(Line::from(escape(e).into_owned()).fg(Color::Red));
    }
    if let Some(c) = &p.scales {
        let line = Line::from(layout::scale_line(t.dtype, c));
        lines.push(if c.nan_scale_blocks + c.inf_scale_blocks > 0 {
            line.fg(Color::Red).bold()
        } else {
            line
        });
    }
    if let Some(d) = &p.deferred {
        lines.push(Line::from(d.clone()).fg(Color::Yellow));
    }
    if let Some(s) = &p.stats {
        // `key value` pairs two spaces apart: a narrow pane breaks between pairs, never inside one
        for l in layout::stats_lines(t.dtype, s) {
            let items: Vec<String> = l.trim_start().split("  ").map(String::from).collect();
            let indent = &l[..l.len() - l.trim_start().len()];
            let room = width.saturating_sub(indent.len());
            lines.extend(
                wrap_items(&items, "  ", room)
                    .into_iter()
                    .map(|w| Line::from(format!("{indent}{w}"))),
            );
        }
        if s.sampled {
            lines.push(Line::from("  press s for exact statistics").fg(Color::Yellow));
        }
        if let Some(h) = &s.histogram {
            // the bar takes what the labels leave of the pane (less a column before the border), so
            // that no row wraps
            lines.extend(
                layout::histogram_lines_in(h, t.dtype, width.saturating_sub(1), 40)
                    .into_iter()
                    .map(Line::from),
            );
        }
        lines.push(Line::from(""));
    }
    if p.error.is_none() {
        lines.extend(values(p, &t.shape, width));
    }
    lines
}

/// The values by shape (`tensor::layout`, as `show` lays them out), as many per line as fit `width`.
fn values(p: &Preview, shape: &[u64], width: usize) -> Vec<Line<'static>> {
    if shape.is_empty() {
        return vec![Line::from(format!(
            "value: {}",
            p.values.first().map_or("", String::as_str)
        ))];
    }
    if p.numel == 0 {
        return vec![Line::from("values: none (empty tensor)")];
    }
    let cell = p.values.iter().map(|v| v.chars().count()).max().unwrap_or(1);
    let axes = layout::axes_of(shape, &[]);
    let widest = layout::value_lines(shape, &p.values, &axes, MAX_PER_LINE);
    let lw = widest.iter().map(|l| l.label.len()).max().unwrap_or(0);
    let per_line = (width.saturating_sub(lw + 2) / (cell + 2)).clamp(1, MAX_PER_LINE);
    let rows = layout::value_lines(shape, &p.values, &axes, per_line);
    let lw = rows.iter().map(|l| l.label.len()).max().unwrap_or(0);
    let mut lines = vec![Line::from(layout::values_heading(p.values.len() as u64, p.numel))];
    lines.extend(rows.into_iter().map(|r| {
        let cells: Vec<String> = r.cells.iter().map(|c| format!("{c:>cell$}")).collect();
        Line::from(vec![
            Span::from(format!("{:<lw$}", r.label)).dim(),
            Span::from(format!("  {}", cells.join("  "))),
        ])
    }));
    if (p.values.len() as u64) < p.numel {
        lines.push(Line::from("…").dim());
    }
    lines
}

/// `s` in lines of `width` chars (names have no spaces to break at), bold.
fn wrap(s: &str, width: usize) -> Vec<Line<'static>> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(width)
        .map(|c| Line::from(c.iter().collect::<String>()).bold())
        .collect()
}

/// `items` on lines at most `width` columns wide (display width), `sep` between the items of a line: an
/// item (`399.9 kB`, `bytes 0..768`) is never cut between lines unless it alone is wider than a line.
fn wrap_items(items: &[String], sep: &str, width: usize) -> Vec<String> {
    let cols = |s: &str| Span::raw(s).width();
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for item in items {
        if !cur.is_empty() && cols(&cur) + cols(sep) + cols(item) <= width {
            cur.push_str(sep);
            cur.push_str(item);
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        // an item wider than a line: broken between its words (`4096` stays whole); a word wider
        // than a line (a long path) goes on where the line is and is cut where it ends
        for (k, word) in item.split(' ').enumerate() {
            if k > 0 {
                if cols(&cur) + 1 + cols(word) <= width {
                    cur.push(' ');
                    cur.push_str(word);
                    continue;
                }
                if cols(word) <= width {
                    lines.push(std::mem::take(&mut cur));
                } else if cols(&cur) < width {
                    cur.push(' ');
                } else {
                    lines.push(std::mem::take(&mut cur));
                }
            }
            for c in word.chars() {
                if !cur.is_empty() && cols(&cur) + cols(c.encode_utf8(&mut [0; 4])) > width {
                    lines.push(std::mem::take(&mut cur));
                }
                cur.push(c);
            }
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap_items;

    fn owned(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_size_is_never_cut_from_its_unit_and_a_byte_range_stays_whole() {
        let items = owned(&["24 tensors", "100.0K params", "399.9 kB"]);
        assert_eq!(
            wrap_items(&items, "  ", 34),
            owned(&["24 tensors  100.0K params", "399.9 kB"])
        );
        let place = owned(&["file samples/gpt2-tiny.safetensors", "bytes 0..768"]);
        assert_eq!(
            wrap_items(&place, "  ", 40),
            owned(&["file samples/gpt2-tiny.safetensors", "bytes 0..768"])
        );
    }

    #[test]
    fn an_item_wider_than_the_line_is_cut_by_display_width() {
        let items = owned(&["名前名前名前", "x"]);
        assert_eq!(wrap_items(&items, " ", 4), owned(&["名前", "名前", "名前", "x"]));
        assert_eq!(wrap_items(&owned(&["a", "b"]), " · ", 80), owned(&["a · b"]));
    }

    #[test]
    fn an_item_wider_than_the_line_breaks_between_words() {
        let heading = owned(&["stats of 1048576 (sampled: 64 blocks of 4096 elements, 64 apart):"]);
        assert_eq!(
            wrap_items(&heading, "  ", 30),
            owned(&[
                "stats of 1048576 (sampled: 64",
                "blocks of 4096 elements, 64",
                "apart):"
            ])
        );
    }
}
