//! The words both front ends print for a comparison: a tensor's verdict (`within F16`), the cosine
//! (`1 - 2.3e-8` where six decimals would round it to 1) and the report's last line.

use super::{DiffReport, TensorDiff, Verdict};
use crate::text::{count, plural};

impl TensorDiff {
    /// `equal`, `within F16`, `1,755 outside F16` or `different`, plus NaN/inf mismatches.
    pub fn verdict_label(&self) -> String {
        let mut verdict = match (self.equal, self.tolerance) {
            (true, _) => "equal".to_string(),
            (false, Some(tol)) if self.within_tolerance => format!("within {}", tol.dtype),
            (false, Some(tol)) => format!("{} outside {}", count(self.outside_tolerance), tol.dtype),
            (false, None) => "different".to_string(),
        };
        if self.nonfinite_mismatches > 0 {
            verdict.push_str(&format!(", {}", plural(self.nonfinite_mismatches, "NaN/inf mismatch")));
        }
        verdict
    }

    /// The cosine similarity as [`cosine_label`] writes it.
    pub fn cosine_label(&self) -> String {
        cosine_label(self.cosine_similarity, self.one_minus_cosine)
    }
}

/// The cosine in six decimals, or as `1 - 2.3e-8` where six decimals would round it to 1; `n/a`
/// where it is unknown.
pub fn cosine_label(cos: Option<f64>, one_minus: Option<f64>) -> String {
    match (cos, one_minus) {
        (None, _) => "n/a".into(),
        (Some(_), Some(0.0)) => "1".into(),
        (Some(_), Some(d)) if d < 5e-7 => format!("1 - {d:.1e}"),
        (Some(c), _) => format!("{c:.6}"),
    }
}

impl DiffReport {
    /// The answer in a few words: `identical`, `equal within F16 rounding` or `different`.
    pub fn verdict_line(&self) -> String {
        match self.verdict {
            Verdict::Identical => "identical".into(),
            Verdict::Different => "different".into(),
            Verdict::WithinTolerance if self.different == 0 => "equal values, other dtypes".into(),
            Verdict::WithinTolerance => {
                // the dtypes whose rounding was needed: groups holding a tensor whose values differ
                let needed: Vec<String> = self
                    .tolerances
                    .iter()
                    .filter(|g| {
                        self.tensors
                            .iter()
                            .any(|t| !t.equal && t.tolerance.is_some_and(|x| x.dtype == g.tolerance.dtype))
                    })
                    .map(|g| g.tolerance.dtype.to_string())
                    .collect();
                format!("equal within {} rounding", needed.join(" and "))
            }
        }
    }

    /// Dtype or shape changes that are not also a row of [`DiffReport::tensors`]: another shape
    /// (a dtype change alone is one row there, with its values compared).
    pub fn shape_changes(&self) -> impl Iterator<Item = &super::Change> {
        self.changed.iter().filter(|c| c.a.shape != c.b.shape)
    }
}

#[cfg(test)]
mod tests {
    use super::cosine_label;

    #[test]
    fn a_cosine_that_rounds_to_one_keeps_its_digits() {
        assert_eq!(cosine_label(Some(1.0), Some(2.3e-8)), "1 - 2.3e-8");
        assert_eq!(cosine_label(Some(1.0), Some(0.0)), "1");
        assert_eq!(cosine_label(Some(0.5), Some(0.5)), "0.500000");
        assert_eq!(cosine_label(None, None), "n/a");
    }
}
