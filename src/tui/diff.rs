//! Compare mode's rows: the comparison report flattened into one list, real differences first
//! (values outside tolerance, then reshaped tensors, tensors only in A, only in B), then values
//! within the narrower dtype's rounding, then equal tensors; file order within each group. A tensor
//! whose dtype changed is one row, with its values compared.

use tensorscope::diff::{Brief, Change, DiffReport, TensorDiff};

/// One row of the Diff tab.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    OnlyA(&'a Brief),
    OnlyB(&'a Brief),
    Changed(&'a Change),
    Tensor(&'a TensorDiff),
}

impl Row<'_> {
    pub fn name(&self) -> &str {
        match self {
            Row::OnlyA(b) | Row::OnlyB(b) => &b.name,
            Row::Changed(c) => &c.name,
            Row::Tensor(t) => &t.name,
        }
    }
}

/// Rows in display order.
pub fn rows(r: &DiffReport) -> Vec<Row<'_>> {
    let mut out: Vec<Row> = Vec::with_capacity(row_count(r));
    out.extend(r.tensors.iter().filter(|t| outside(t)).map(Row::Tensor));
    // a dtype change alone is a tensor row (its values compared): listed once
    out.extend(r.shape_changes().map(Row::Changed));
    out.extend(r.only_in_a.iter().map(Row::OnlyA));
    out.extend(r.only_in_b.iter().map(Row::OnlyB));
    out.extend(
        r.tensors
            .iter()
            .filter(|t| !t.equal && t.within_tolerance)
            .map(Row::Tensor),
    );
    out.extend(r.tensors.iter().filter(|t| t.equal).map(Row::Tensor));
    out
}

/// Values that differ by more than the rounding of the narrower dtype (or have no tolerance).
pub fn outside(t: &TensorDiff) -> bool {
    !t.equal && !t.within_tolerance
}

pub fn row_count(r: &DiffReport) -> usize {
    r.only_in_a.len() + r.only_in_b.len() + r.shape_changes().count() + r.tensors.len()
}

/// The name on row `i`.
pub fn row_name(r: &DiffReport, i: usize) -> Option<String> {
    rows(r).get(i).map(|row| row.name().to_string())
}
