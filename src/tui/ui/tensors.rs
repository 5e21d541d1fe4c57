//! The module tree (or the flat list): one row per node, `▾ encoder   10.6M params  42.6 MB  F32`.
//! The name comes first: columns drop (dtype, then bytes, then params or shape) before a name is
//! cut, and a cut name ends in `…`. Filter matches
//! are highlighted.

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
    match leaf {
        Some(t) => {
            let t = &app.ck.tensors[t];
            let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
            [
                format!("[{}]", shape.join(",")),
                bytes(n.bytes),
                t.dtype.name().to_string(),
            ]
        }
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
fn name_of(pane: &TensorPane, app: &App, id: NodeId) -> (String, String) {
    let n = pane.tree.node(id);
    if pane.flat {
        let t = n.tensor.unwrap_or(0);
        return (String::new(), escape(&app.ck.tensors[t].name).into_owned());
    }
    let indent = "  ".repeat(usize::from(n.depth.saturating_sub(1)));
    let marker = if !n.has_children(id) {
        "  "
    } else if pane.open[id] || pane.matched.is_some() {
        "▾ "
    } else {
        "▸ "
    };
    (format!("{indent}{marker}"), escape(pane.tree.label(id)).into_owned())
}

/// Char range of the part of tensor name `name` shown on a tree row at `depth` (or all of it, flat).
fn part_range(name: &str, depth: usize, flat: bool) -> (usize, usize) {
    if flat {
        return (0, name.chars().count());
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

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else if max == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let pane = &app.tensors;
    let root = pane.tree.node(Tree::ROOT);
    let title = if pane.matched.is_some() || app.mode == Mode::Filter {
        format!(
            " /{}  {} of {} match ",
            escape(&pane.filter),
            pane.match_count,
            app.ck.tensors.len()
        )
    } else {
        format!(
            " {} tensors · {} params · {} ",
            app.ck.tensors.len(),
            params_label(root.params),
            bytes(root.bytes)
        )
    };
    let mode = if pane.flat { " flat " } else { " tree " };
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(mode).right_aligned().dim());
    let inner = block.inner(area);
    block.render(area, buf);
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let shown: Vec<NodeId> = pane.rows.iter().skip(pane.offset).take(height).copied().collect();
    if shown.is_empty() {
        let msg = if pane.matched.is_some() {
            "no tensor matches the filter"
        } else {
            "no tensors"
        };
        Line::from(msg).dim().render(inner, buf);
        return;
    }
    let names: Vec<(String, String)> = shown.iter().map(|&id| name_of(pane, app, id)).collect();
    let cols: Vec<[String; 3]> = shown.iter().map(|&id| columns(app, id)).collect();
    let need = names
        .iter()
        .map(|(p, n)| p.chars().count() + n.chars().count())
        .max()
        .unwrap_or(0);
    // columns drop before the name is cut: each is kept only while every name still fits whole
    let keep_name = need.min(width);
    let mut col_w = [0usize; 3];
    let mut used = 0;
    for c in 0..3 {
        let w = cols.iter().map(|r| r[c].chars().count()).max().unwrap_or(0) + 2;
        if width >= keep_name + used + w {
            col_w[c] = w;
            used += w;
        } else {
            break;
        }
    }
    let name_w = width - used;
    let mut matcher = pane.matched.as_ref().map(|_| Filter::default());
    for (r, &id) in shown.iter().enumerate() {
        let y = inner.y + r as u16;
        let selected = pane.offset + r == pane.selected;
        let (prefix, name) = &names[r];
        let label_w = name_w.saturating_sub(prefix.chars().count());
        let text = cut(name, label_w);
        let mut spans = vec![Span::raw(prefix.clone())];
        let hits = match (&mut matcher, pane.first_match_below(id)) {
            (Some(m), Some(t)) if escape(&app.ck.tensors[t].name) == app.ck.tensors[t].name.as_str() => {
                let full = &app.ck.tensors[t].name;
                let (a, b) = part_range(full, usize::from(pane.tree.node(id).depth), pane.flat);
                m.indices(&pane.filter, full)
                    .into_iter()
                    .filter_map(|i| (i as usize).checked_sub(a).filter(|&k| k < b - a))
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
        for (k, ch) in text.chars().enumerate() {
            let style = if hits.contains(&k) { hit } else { base };
            spans.push(Span::styled(ch.to_string(), style));
        }
        let pad = name_w.saturating_sub(prefix.chars().count() + text.chars().count());
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
        assert_eq!(super::part_range(name, 1, false), (0, 7));
        assert_eq!(super::part_range(name, 4, false), (16, 21));
        assert_eq!(super::part_range("unet/conv.w", 2, false), (5, 9));
        assert_eq!(super::part_range(name, 2, true), (0, 21));
        assert_eq!(super::cut("abcdef", 4), "abc…");
        assert_eq!(super::cut("abc", 4), "abc");
    }
}
