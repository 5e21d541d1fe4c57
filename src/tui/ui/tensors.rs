//! The module tree (or the flat list): one row per node, `▾ encoder   10.6M params  42.6 MB  F32`.
//! As the pane narrows, the size goes first; the dtype and the shape (or params) stay while the name
//! keeps at least [`MIN_NAME`] chars, and a name too long is cut in its middle (`h.0.at…n.weight`).
//! The flat list drops the prefix every name shares (`model.layers.`) and shows it once, at the bottom.
//! Filter matches are highlighted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};
use tensorscope::text::{bytes, escape};
use tensorscope::tree::{NodeId, Tree, params_label};

use crate::tui::app::{App, Mode};
use crate::tui::filter::Filter;
use crate::tui::tensors::TensorPane;

pub fn inner(area: Rect) -> Rect {
    Block::bordered().inner(area)
}

/// The text of a row's columns: params or shape, bytes, dtype (mix).
fn columns(app: &App, id: NodeId) -> [String; 3] {
    let tree = &app.tensors.tree;
    let n = tree.node(id);
    let leaf = n.tensor.filter(|_| !n.has_children(id));
    // a tied tensor counts nothing (its storage is counted where it is first listed): `tied`, not `0 B`
    let tied = n.params == 0 && n.bytes == 0 && !app.tensors.tied_targets(id).is_empty();
    match leaf {
        Some(t) => {
            let t = &app.ck.tensors[t];
            let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
            let size = if tied { "tied".to_string() } else { bytes(n.bytes) };
            [format!("[{}]", shape.join(",")), size, t.dtype.name().to_string()]
        }
        None if tied => ["tied".to_string(), bytes(n.bytes), mix(n)],
        None => [format!("{} params", params_label(n.params)), bytes(n.bytes), mix(n)],
    }
}

fn mix(n: &tensorscope::tree::Node) -> String {
    match n.dtypes.len() {
        0 => String::new(),
        1 if n.dtypes.other == 0 => n.dtypes.iter().map(|(d, _)| d.name()).collect(),
        _ => {
            let names: Vec<&str> = n.dtypes.iter().take(2).map(|(d, _)| d.name()).collect();
            let more = if n.dtypes.len() > 2 || n.dtypes.other > 0 {
                "+"
            } else {
                ""
            };
            format!("{}{more}", names.join(" "))
        }
    }
}

/// The name part of a row: indentation, open marker and label in the tree; the full name flat.
fn name_of(pane: &TensorPane, app: &App, id: NodeId, max_indent: usize) -> (String, String) {
    let n = pane.tree.node(id);
    if pane.flat {
        let t = n.tensor.unwrap_or(0);
        let name = &app.ck.tensors[t].name;
        return (
            String::new(),
            marks(&escape(&name[pane.common_prefix.min(name.len())..])),
        );
    }
    let indent = indent(usize::from(n.depth), max_indent);
    let marker = if !n.has_children(id) {
        "  "
    } else if pane.open[id] || pane.matched.is_some() {
        "▾ "
    } else {
        "▸ "
    };
    (format!("{indent}{marker}"), marks(&escape(pane.tree.label(id))))
}

/// `s` with a combining mark that has no char before it to sit on (a label that starts with U+0301)
/// escaped as [`escape`] writes a zero-width char (`\u{301}`): drawn alone it would not show.
fn marks(s: &str) -> String {
    match s.chars().next() {
        Some(c) if char_cols(c) == 0 => format!("\\u{{{:04x}}}{}", c as u32, &s[c.len_utf8()..]),
        _ => s.to_string(),
    }
}

/// The indentation of a tree row at `depth`: two columns a level, at most `max` columns; a row
/// deeper than that says its depth where the indentation stops (`   …400 `), so that its label and
/// its columns still show (a name of 400 dotted parts drew blank rows).
fn indent(depth: usize, max: usize) -> String {
    let levels = depth.saturating_sub(1);
    if 2 * levels <= max {
        return "  ".repeat(levels);
    }
    let tag = format!("…{depth} ");
    format!("{tag:>max$}")
}

/// The fewest columns a deep row's indentation is cut to (`…400 ` fits).
const MIN_INDENT: usize = 6;

/// Char range of the part of tensor name `name` shown on a tree row at `depth` (or, flat, all of it
/// after the `prefix` bytes every name shares).
fn part_range(name: &str, depth: usize, flat: bool, prefix: usize) -> (usize, usize) {
    if flat {
        let skip = name.get(..prefix).map_or(0, |p| p.chars().count());
        return (skip, name.chars().count());
    }
    let mut start = 0;
    let mut part = 1;
    for (i, c) in name.chars().enumerate() {
        if c == '.' || c == '/' {
            if part == depth {
                return (start, i);
            }
            part += 1;
            start = i + 1;
        }
    }
    (start, name.chars().count())
}

/// A name keeps at least this many columns (cut in its middle) before the dtype or shape column gives way.
pub const MIN_NAME: usize = 10;

/// Terminal columns of `s`: a CJK character or an emoji takes two.
pub fn text_cols(s: &str) -> usize {
    Span::raw(s).width()
}

fn char_cols(c: char) -> usize {
    text_cols(c.encode_utf8(&mut [0; 4]))
}

/// `s` in at most `max` columns, cut in the middle (`h.0.at…n.weight`: the end of a name tells
/// `.weight` from `.bias`), and where each char of `s` landed (`None`: cut out).
fn cut(s: &str, max: usize) -> (String, Vec<Option<usize>>) {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if text_cols(s) <= max {
        return (s.to_string(), (0..n).map(Some).collect());
    }
    if max == 0 {
        return (String::new(), vec![None; n]);
    }
    let keep = max - 1;
    // a wide char that does not fit its side's room leaves the column to the other side
    let take = |room: usize, from_end: bool, limit: usize| {
        let (mut k, mut used) = (0, 0);
        while k < limit {
            let c = chars[if from_end { n - 1 - k } else { k }];
            if used + char_cols(c) > room {
                break;
            }
            used += char_cols(c);
            k += 1;
        }
        (k, used)
    };
    let esc = super::cut::escapes(&chars);
    let (head, _) = take(keep / 3, false, n);
    // never inside an escape (`\u{…0d}`)
    let mut head = super::cut::snap_head(head, &esc);
    // the marks after the last char kept stay with it; none starts the tail without its base
    while head < n && char_cols(chars[head]) == 0 {
        head += 1;
    }
    let used = text_cols(&chars[..head].iter().collect::<String>());
    let (tail, _) = take(keep.saturating_sub(used), true, n - head);
    let mut start = super::cut::snap_tail(n - tail, &esc);
    while start < n && char_cols(chars[start]) == 0 {
        start += 1;
    }
    let tail = n - start;
    let out: String = chars[..head]
        .iter()
        .chain(std::iter::once(&'…'))
        .chain(&chars[n - tail..])
        .collect();
    let at = (0..n)
        .map(|i| match i {
            i if i < head => Some(i),
            i if i >= n - tail => Some(head + 1 + i - (n - tail)),
            _ => None,
        })
        .collect();
    (out, at)
}

/// ` A name · 12 tensors · 1.2M params · 4.8 MB ` in at most `room` columns: whole parts dropped from
/// the end rather than a number cut; the side label (compare mode) stays, cut in its middle if need be.
fn fit_title(side: Option<String>, parts: &[String], room: usize) -> String {
    let join = |all: &[String]| format!(" {} ", all.join(" · "));
    let side: Vec<String> = side.into_iter().collect();
    for n in (0..=parts.len()).rev() {
        let all = [&side[..], &parts[..n]].concat();
        if !all.is_empty() && text_cols(&join(&all)) <= room {
            return join(&all);
        }
    }
    match side.first() {
        Some(s) if room > 2 => join(&[cut(s, room - 2).0]),
        _ => String::new(),
    }
}

/// Widths of the three columns (shape or params, size, dtype; 0 = left out) for rows whose names
/// need `need` chars whole and `floor` chars cut (each row's indentation and at most [`MIN_NAME`]
/// chars of its label) in a pane `width` wide: the size only while every name fits whole; the dtype,
/// then the shape or params, while every name keeps its floor, cut in its middle.
fn column_widths(need: usize, floor: usize, width: usize, cols: &[[String; 3]]) -> [usize; 3] {
    let w = |c: usize| cols.iter().map(|r| text_cols(&r[c])).max().unwrap_or(0) + 2;
    let mut out = [0usize; 3];
    let mut used = 0;
    for c in [2, 0] {
        if width >= floor + used + w(c) {
            out[c] = w(c);
            used += w(c);
        }
    }
    if out[0] > 0 && out[2] > 0 && width >= need + used + w(1) {
        out[1] = w(1);
    }
    out
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let pane = &app.tensors;
    let root = pane.tree.node(Tree::ROOT);
    // an empty filter being typed asks for nothing: the counts of the whole list, not "0 match"
    let title = if pane.matched.is_some() || (app.mode == Mode::Filter && !pane.filter.is_empty()) {
        format!(
            " /{}  {} of {} match ",
            escape(&pane.filter),
            pane.match_count,
            app.ck.tensors.len()
        )
    } else if pane.pending {
        format!(
            " {} · indexing… ",
            tensorscope::text::plural(app.ck.tensors.len() as u64, "tensor")
        )
    } else {
        // compare mode: this is A's list; B's tensors are on the Diff tab
        let side = app.compare.as_ref().map(|_| {
            let name = app.ck.path.file_name().unwrap_or(app.ck.path.as_os_str());
            format!("A {}", tensorscope::text::os_text(name))
        });
        let parts = [
            tensorscope::text::plural(app.ck.tensors.len() as u64, "tensor"),
            format!("{} params", params_label(root.params)),
            // each storage once, as `inspect` counts it
            bytes(pane.unique_bytes),
        ];
        fit_title(side, &parts, usize::from(area.width).saturating_sub(2))
    };
    let mode = if pane.flat { "flat" } else { "tree" };
    // where the view is, as the other panes say it: `21–40 of 148 · tree`
    let visible = usize::from(area.height.saturating_sub(2));
    let mode = if pane.rows.len() > visible && visible > 0 {
        let last = (pane.offset + visible).min(pane.rows.len());
        format!(" {}–{last} of {} · {mode} ", pane.offset + 1, pane.rows.len())
    } else {
        format!(" {mode} ")
    };
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(mode).right_aligned().dim());
    let shared = app
        .ck
        .tensors
        .first()
        .map_or("", |t| &t.name[..pane.common_prefix.min(t.name.len())]);
    let block = if pane.flat && !shared.is_empty() {
        // the prefix every row leaves out, said once
        block.title_bottom(Line::from(format!(" {}… ", escape(shared))).left_aligned().dim())
    } else {
        block
    };
    let inner = block.inner(area);
    block.render(area, buf);
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let shown: Vec<NodeId> = pane.rows.iter().skip(pane.offset).take(height).copied().collect();
    if shown.is_empty() {
        if pane.pending {
            let msg = format!("indexing {} tensors…", app.ck.tensors.len());
            Line::from(msg).dim().render(inner, buf);
            return;
        }
        let msg = if pane.matched.is_some() {
            "no tensor matches the filter"
        } else {
            "no tensors"
        };
        Line::from(msg).dim().render(inner, buf);
        return;
    }
    let cols: Vec<[String; 3]> = shown.iter().map(|&id| columns(app, id)).collect();
    let floor_of = |names: &[(String, String)]| {
        names
            .iter()
            .map(|(p, n)| text_cols(p) + text_cols(n).min(MIN_NAME))
            .max()
            .unwrap_or(0)
    };
    let name_all =
        |max: usize| -> Vec<(String, String)> { shown.iter().map(|&id| name_of(pane, app, id, max)).collect() };
    let mut names = name_all(usize::MAX);
    // rows so deep that their indentation would push out the label or the shape and dtype columns
    // stop indenting where those still fit, and say their depth there
    let keep = [0, 2].map(|c| cols.iter().map(|r| text_cols(&r[c])).max().unwrap_or(0) + 2);
    if floor_of(&names) + keep[0] + keep[1] > width {
        let room = width.saturating_sub(keep[0] + keep[1] + MIN_NAME + 2);
        names = name_all(room.max(MIN_INDENT));
    }
    let need = names
        .iter()
        .map(|(p, n)| text_cols(p) + text_cols(n))
        .max()
        .unwrap_or(0);
    let floor = floor_of(&names);
    let col_w = column_widths(need, floor, width, &cols);
    let used: usize = col_w.iter().sum();
    let name_w = width - used;
    let mut matcher = pane.matched.as_ref().map(|_| Filter::default());
    for (r, &id) in shown.iter().enumerate() {
        let y = inner.y + r as u16;
        let selected = pane.offset + r == pane.selected;
        let (prefix, name) = &names[r];
        let label_w = name_w.saturating_sub(text_cols(prefix));
        let (text, at) = cut(name, label_w);
        let mut spans = vec![Span::raw(prefix.clone())];
        let hits = match (&mut matcher, pane.first_match_below(id)) {
            (Some(m), Some(t)) if escape(&app.ck.tensors[t].name) == app.ck.tensors[t].name.as_str() => {
                let full = &app.ck.tensors[t].name;
                let depth = usize::from(pane.tree.node(id).depth);
                let (a, b) = part_range(full, depth, pane.flat, pane.common_prefix);
                m.indices(&pane.filter, full)
                    .into_iter()
                    .filter_map(|i| (i as usize).checked_sub(a).filter(|&k| k < b - a))
                    .filter_map(|k| at.get(k).copied().flatten())
                    .collect()
            }
            _ => Vec::new(),
        };
        let base = if pane.tree.node(id).has_children(id) && !pane.flat {
            Style::new().bold()
        } else {
            Style::new()
        };
        let hit = base
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        // a combining mark (U+0301) stays in its base's cell: alone in a span it would be dropped
        let mut cells: Vec<(String, Style)> = Vec::new();
        for (k, ch) in text.chars().enumerate() {
            let style = if hits.contains(&k) { hit } else { base };
            match cells.last_mut() {
                Some((cell, _)) if char_cols(ch) == 0 => cell.push(ch),
                _ => cells.push((ch.to_string(), style)),
            }
        }
        spans.extend(cells.into_iter().map(|(c, style)| Span::styled(c, style)));
        let pad = name_w.saturating_sub(text_cols(prefix) + text_cols(&text));
        spans.push(Span::raw(" ".repeat(pad)));
        for c in 0..3 {
            if col_w[c] > 0 {
                spans.push(Span::raw(format!("{:>w$}", cols[r][c], w = col_w[c])).dim());
            }
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.style(if app.mode == Mode::Filter {
                Style::new().add_modifier(Modifier::UNDERLINED)
            } else {
                Style::new().add_modifier(Modifier::REVERSED)
            });
        }
        line.render(Rect::new(inner.x, y, inner.width, 1), buf);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn part_ranges_and_cuts() {
        let name = "encoder.layer.0.query";
        assert_eq!(super::part_range(name, 1, false, 0), (0, 7));
        assert_eq!(super::part_range(name, 4, false, 0), (16, 21));
        assert_eq!(super::part_range("unet/conv.w", 2, false, 0), (5, 9));
        assert_eq!(super::part_range(name, 2, true, 0), (0, 21));
        assert_eq!(super::part_range(name, 2, true, 8), (8, 21));
        assert_eq!(super::cut("abcdefghij", 7).0, "ab…ghij");
        assert_eq!(super::cut("abcdefghij", 7).1[8], Some(5));
        assert_eq!(super::cut("abcdefghij", 7).1[3], None);
        assert_eq!(super::cut("abc", 4).0, "abc");
        // a combining mark is never parted from its base
        assert_eq!(super::cut("ae\u{301}cdefghijk", 7).0, "ae\u{301}…hijk");
        assert_eq!(super::cut("abcdefghe\u{301}ijk", 5).0, "a…ijk");
        assert_eq!(super::marks("\u{301}x"), "\\u{0301}x");
        // nor an escape cut in two
        assert_eq!(super::cut(r"ab\u{200d}cdefghijklmnop\x0d", 16).0, r"ab…hijklmnop\x0d");
    }

    #[test]
    fn deep_rows_stop_indenting_and_say_their_depth() {
        assert_eq!(super::indent(1, 10), "");
        assert_eq!(super::indent(6, 10), "          ");
        assert_eq!(super::indent(7, 10), "       …7 ");
        assert_eq!(super::indent(400, 10), "     …400 ");
    }

    #[test]
    fn a_title_drops_whole_parts() {
        let parts = ["11 tensors", "688.9K params", "413.7 kB"].map(String::from);
        let fit = |room| super::fit_title(None, &parts, room);
        assert_eq!(fit(80), " 11 tensors · 688.9K params · 413.7 kB ");
        assert_eq!(fit(39), " 11 tensors · 688.9K params · 413.7 kB ");
        assert_eq!(fit(38), " 11 tensors · 688.9K params ");
        assert_eq!(fit(20), " 11 tensors ");
        assert_eq!(fit(5), "");
        let a = || Some("A model.safetensors".to_string());
        assert_eq!(super::fit_title(a(), &parts, 34), " A model.safetensors · 11 tensors ");
        assert_eq!(super::fit_title(a(), &parts, 12), " A m…ensors ");
    }

    #[test]
    fn the_size_goes_first_then_a_name_is_cut_before_dtype_and_shape() {
        let cols = vec![["[64,192]".to_string(), "49.2 kB".to_string(), "Q8_0".to_string()]];
        // everything fits
        assert_eq!(super::column_widths(20, 10, 60, &cols), [10, 9, 6]);
        // the size goes first
        assert_eq!(super::column_widths(40, 10, 56, &cols), [10, 0, 6]);
        // a long name is cut to keep dtype and shape
        assert_eq!(super::column_widths(50, 10, 26, &cols), [10, 0, 6]);
        // too narrow for a 10-char name and both: the dtype stays longest
        assert_eq!(super::column_widths(50, 10, 24, &cols), [0, 0, 6]);
        assert_eq!(super::column_widths(50, 10, 10, &cols), [0, 0, 0]);
        // a deep row's indentation counts in its floor
        assert_eq!(super::column_widths(50, 18, 26, &cols), [0, 0, 6]);
    }

    #[test]
    fn the_common_prefix_ends_at_a_separator() {
        use crate::tui::tensors::common_prefix;
        let p = common_prefix(["model.layers.0.w", "model.layers.1.w"].into_iter());
        assert_eq!(p, "model.layers.".len());
        assert_eq!(common_prefix(["model.a", "model.ab"].into_iter()), "model.".len());
        assert_eq!(common_prefix(["a.b"].into_iter()), 0);
        assert_eq!(common_prefix(["wte", "wpe"].into_iter()), 0);
        assert_eq!(common_prefix(["x.y", "x.y"].into_iter()), 2);
    }
}
