//! The Diff tab: two checkpoints compared by value across dtypes, at 80x24 and 120x40.

use super::*;

#[test]
fn diff_tab_compares_by_value_across_dtypes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, dtype: safetensors::Dtype, vals: &[f32]| {
        let bytes: Vec<u8> = match dtype {
            safetensors::Dtype::F16 => vals
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect(),
            _ => vals.iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        let shape = vec![vals.len()];
        let mut tensors = vec![("enc.w".to_string(), bytes.clone(), shape.clone())];
        tensors.push(("enc.b".to_string(), bytes.clone(), shape.clone()));
        if name == "a" {
            tensors.push(("head.only_a".to_string(), bytes, shape));
        }
        let views = tensors
            .iter()
            .map(|(n, b, s)| (n.clone(), TensorView::new(dtype, s.clone(), b).unwrap()));
        let p = dir.path().join(format!("{name}.safetensors"));
        std::fs::write(&p, safetensors::serialize(views, None).unwrap()).unwrap();
        p
    };
    let a = write("a", safetensors::Dtype::F32, &[0.5, 1.0, -2.0, 0.25]);
    let b = write("b", safetensors::Dtype::F16, &[0.5, 1.0, -2.0, 0.3]);
    let app = crate::tui::load_pair(&a, &b, &Default::default()).unwrap();
    let app = tidy(settle(app), "a.safetensors");
    assert_eq!(app.tab, Tab::Diff);
    let Some(Ok(r)) = &app.compare.as_ref().unwrap().report else {
        panic!("compared")
    };
    assert_eq!(r.only_in_a.len(), 1);
    assert_eq!(r.changed.len(), 2, "the dtype change is reported");
    assert_eq!(r.compared, 2, "and the values still compared");
    let w = r.tensors.iter().find(|t| t.name == "enc.w").unwrap();
    assert!(!w.equal && (w.max_abs_diff.unwrap() - 0.05).abs() < 1e-3, "{w:?}");
    // one row per tensor: a dtype change alone is the tensor's row, not a second "changed" row
    let rows = crate::tui::diff::rows(r);
    let names: Vec<&str> = rows.iter().map(|row| row.name()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "enc.w").count(), 1, "{names:?}");
    assert_eq!(crate::tui::diff::row_count(r), 3);
    let eb = r.tensors.iter().find(|t| t.name == "enc.b").unwrap();
    assert!(
        !eb.equal && !eb.within_tolerance,
        "0.3 in F16 is 0.2998, outside its rounding of 0.25: {eb:?}"
    );
    let mut app = app;
    if let Some(c) = &mut app.compare {
        c.b = std::sync::Arc::new(tensorscope::checkpoint::open(&b).unwrap());
        if let Some(ck) = std::sync::Arc::get_mut(&mut c.b) {
            ck.path = "b.safetensors".into();
        }
    }
    insta::assert_snapshot!("diff_80x24", sized(act(app, []), 80, 24));
    let app = tidy(
        settle(crate::tui::load_pair(&a, &b, &Default::default()).unwrap()),
        "a.safetensors",
    );
    let mut app = act(app, [Action::Move(Move::Down)]);
    if let Some(c) = &mut app.compare
        && let Some(ck) = std::sync::Arc::get_mut(&mut c.b)
    {
        ck.path = "b.safetensors".into();
    }
    insta::assert_snapshot!("diff_120x40", sized(app, 120, 40));
}
