//! The parts of `inspect` beyond the table: the module tree (`--tree [--depth N]`), the safety
//! warning for pickles that are not safe, notes where a file's name contradicts its content, and
//! where a Hugging Face cache path resolved to.

use std::io::Write;

use tensorscope::checkpoint::{Checkpoint, Format};
use tensorscope::scan::{self, Verdict};
use tensorscope::text::{bytes, count, escape, path as show};
use tensorscope::tree::{Tree, TreeOptions};

use super::style::{self, paint};

/// `--tree`: one row per module down to `depth` (all when `None`), with the parameters, bytes and
/// dtype mix of its subtree.
pub fn write_tree(out: &mut impl Write, ck: &Checkpoint, depth: Option<u16>) -> std::io::Result<()> {
    // counted as the model defines them: tied weights once, packed weights unpacked
    let tree = Tree::build_counted(&ck.tensors, &TreeOptions::default(), &ck.counting().roles);
    let max = depth.unwrap_or(u16::MAX);
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    let mut id = Tree::ROOT + 1;
    while id < tree.len() {
        let n = tree.node(id);
        if n.depth > max {
            id = n.end;
            continue;
        }
        let indent = "  ".repeat(usize::from(n.depth.saturating_sub(1)));
        let mut label = format!("{indent}{}", escape(tree.label(id)));
        if n.depth == max && n.has_children(id) {
            label.push_str(" …");
        }
        rows.push((label, count(n.params), bytes(n.bytes), dtype_list(&tree, id, ck)));
        id += 1;
    }
    let root = tree.node(Tree::ROOT);
    let width = |w: Option<usize>, least: usize| tensorscope::text::column(w.unwrap_or(0).max(least));
    let w0 = width(rows.iter().map(|r| r.0.chars().count()).max(), 6);
    let w1 = width(rows.iter().map(|r| r.1.len()).max(), 6);
    let w2 = width(rows.iter().map(|r| r.2.len()).max(), 4);
    let head = format!("{:<w0$}  {:>w1$}  {:>w2$}  DTYPES", "MODULE", "PARAMS", "SIZE");
    writeln!(out, "{}", paint(style::HEADER, head))?;
    for (label, params, size, dtypes) in &rows {
        writeln!(
            out,
            "{label:<w0$}  {params:>w1$}  {size:>w2$}  {}",
            paint(style::DIM, dtypes)
        )?;
    }
    // the totals as `inspect` counts them: tied weights once, packed weights unpacked
    let c = ck.counting();
    let tied = match c.tied() {
        0 => String::new(),
        n => format!(" ({} tied, counted once)", plural_tensors(n)),
    };
    writeln!(
        out,
        "\n{}, {} parameters{tied}, {}",
        plural_tensors(root.tensors),
        count(c.params),
        bytes(c.unique_bytes)
    )
}

/// The dtypes of a subtree, largest share first, as `F32+F16`; past the ones the tree keeps by share,
/// `+N more` counts the rest (never dropped silently).
fn dtype_list(tree: &Tree, id: usize, ck: &Checkpoint) -> String {
    let n = tree.node(id);
    let names: Vec<String> = n.dtypes.iter().map(|(d, _)| d.to_string()).collect();
    let mut text = names.join("+");
    if n.dtypes.other > 0 {
        let mut all: Vec<tensorscope::model::DType> = Vec::new();
        for leaf in id..n.end {
            if let Some(t) = tree.node(leaf).tensor.and_then(|i| ck.tensors.get(i))
                && !all.contains(&t.dtype)
            {
                all.push(t.dtype);
            }
        }
        let more = all.len().saturating_sub(names.len()).max(1);
        text.push_str(&format!(" +{more} more"));
    }
    text
}

fn plural_tensors(n: usize) -> String {
    tensorscope::text::plural(n as u64, "tensor")
}

/// The pickle and GGUF files of a checkpoint that the scanner does not call safe (a GGUF for its chat
/// templates), as one warning line each:
/// `dangerous: extra.bin: posix.system (run tensorscope scan … for details)`.
pub fn safety_warnings(ck: &Checkpoint) -> Vec<(Verdict, String)> {
    let mut out = Vec::new();
    for (i, f) in ck.files.iter().enumerate() {
        if !matches!(f.format, Format::PytorchZip | Format::PytorchLegacy | Format::Gguf) {
            continue;
        }
        let s = scan::scan_checkpoint_file(ck, i, &scan::ScanOptions::default());
        if s.verdict == Verdict::Safe || s.verdict == Verdict::Error {
            continue;
        }
        let mut worst: Vec<&str> = s
            .findings
            .iter()
            .filter(|x| x.severity.as_str() == s.verdict.as_str())
            // a global by name; a finding without one (a GGUF chat template) by its entry
            .filter_map(|x| {
                x.global
                    .as_deref()
                    .or((!x.entry.is_empty()).then_some(x.entry.as_str()))
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        worst.retain(|w| seen.insert(*w));
        let what = match worst.as_slice() {
            [] => s
                .findings
                .first()
                .map(|x| escape(&x.why).into_owned())
                .unwrap_or_default(),
            [one] => escape(one).into_owned(),
            [one, rest @ ..] => format!("{} and {} more", escape(one), rest.len()),
        };
        out.push((
            s.verdict,
            format!(
                "{}: {}: {what} (run `tensorscope scan {}` for details)",
                s.verdict,
                show(&f.path),
                show(&f.full_path)
            ),
        ));
    }
    out
}

/// Print warnings and notes on stderr, coloured on a terminal.
pub fn print_diagnostics(ck: &Checkpoint) -> std::io::Result<()> {
    let mut err = style::stderr();
    for (v, w) in safety_warnings(ck) {
        writeln!(err, "{} {}", paint(style::verdict(v), "warning:"), w)?;
    }
    for n in tensorscope::checkpoint::name_notes(ck) {
        writeln!(err, "{} {n}", paint(style::SUSPICIOUS, "note:"))?;
    }
    Ok(())
}
