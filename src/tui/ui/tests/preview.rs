//! The preview as `show` prints it: values by shape with their indices, statistics labelled exact or
//! sampled, the histogram, GGUF broken-block findings; the pane scrolls; the tree counts as the model
//! defines them; paths are cut by whole components; an empty filter claims no match count.

use std::path::Path;

use super::{act, app, draw, settle, sized, sized_mut, tidy, typed};
use crate::tui::app::Action;
use crate::tui::scroll::Move;

/// The preview column of a screen drawn at `w` (the right 45%), its lines trimmed.
fn right(screen: &str, w: usize) -> Vec<String> {
    let from = w * 55 / 100;
    screen
        .lines()
        .map(|l| {
            let l: String = l.chars().skip(from).collect();
            l.trim_matches(|c| c == '│' || c == ' ').to_string()
        })
        .collect()
}

#[test]
fn preview_lays_values_out_by_shape_and_labels_exact_stats() {
    // the first tree row opened down to h.0.attn.c_attn.bias ([192] F32)
    let a = act(app("gpt2-tiny.safetensors"), [Action::ToggleFlat]);
    let screen = sized(a, 200, 50);
    let pane = right(&screen, 200).join("\n");
    // a [192] bias, four values a line, each line labelled with its indices
    assert!(pane.contains("[0:4]") && pane.contains("[4:8]"), "{pane}");
    assert!(pane.contains("stats (exact):"), "{pane}");
    assert!(pane.contains("histogram (20 bins):"), "{pane}");
    insta::assert_snapshot!("preview_200x50", screen);
    let a = act(app("gpt2-tiny.safetensors"), [Action::ToggleFlat]);
    insta::assert_snapshot!("preview_80x24", sized(a, 80, 24));
}

/// The position in the preview's title (`12–34 of 151`) as (first, last, total).
fn position(screen: &str) -> (usize, usize, usize) {
    let line = screen.lines().nth(1).unwrap();
    let at = line.rfind(" of ").unwrap_or_else(|| panic!("no position: {screen}"));
    let digits: String = line[at + 4..].chars().take_while(char::is_ascii_digit).collect();
    let range = line[..at].rsplit(' ').next().unwrap();
    let (a, b) = range.split_once('–').unwrap();
    (a.parse().unwrap(), b.parse().unwrap(), digits.parse().unwrap())
}

#[test]
fn the_preview_scrolls_to_its_last_line() {
    let mut a = act(app("gpt2-tiny.safetensors"), [Action::ToggleFlat]);
    let first = sized_mut(&mut a, 80, 24);
    assert_eq!(position(&first).0, 1, "{first}");
    a.update(Action::ScrollPreview(Move::PageDown));
    for _ in 0..200 {
        a.update(Action::ScrollPreview(Move::Down));
    }
    let last = sized_mut(&mut a, 80, 24);
    let (_, end, total) = position(&last);
    assert_eq!(end, total, "the last line is reached: {last}");
    insta::assert_snapshot!("preview_scrolled_80x24", last);
    // a new tensor starts at the top again
    a.update(Action::Move(Move::Down));
    let mut a = settle(a);
    assert_eq!(position(&sized_mut(&mut a, 80, 24)).0, 1);
}

#[test]
fn a_nan_block_scale_reads_broken_as_show_prints_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gguf/nan_scales.gguf");
    let a = settle(crate::tui::load(&path, &Default::default()).unwrap());
    let i = a.ck.tensors.iter().position(|t| t.name == "broken.weight").unwrap();
    let mut a = tidy(a, "nan_scales.gguf");
    a.update(Action::ToggleFlat);
    while a.selected_tensor() != Some(i) {
        a.update(Action::Move(Move::Down));
    }
    let a = settle(a);
    let screen = sized(a, 200, 50);
    // `show`'s line, wrapped in the pane
    let pane = right(&screen, 200).join(" ");
    assert!(
        pane.contains("BROKEN: 2 blocks with a NaN scale, 1 with an infinite scale (first: 2, 5, 6)"),
        "{pane}"
    );
    insta::assert_snapshot!("preview_broken_gguf_200x50", screen);
}

#[test]
fn the_tree_counts_tied_weights_once() {
    // gpt2-tiny.bin ties lm_head.weight to wte.weight: 172,288 parameters as the model defines them
    let a = app("gpt2-tiny.bin");
    let root = a.tensors.tree.node(tensorscope::tree::Tree::ROOT);
    assert_eq!(root.params, a.ck.total_params());
    assert_eq!(root.params, 172_288);
    let safetensors = app("gpt2-tiny.safetensors");
    assert_eq!(
        safetensors.tensors.tree.node(tensorscope::tree::Tree::ROOT).params,
        172_288
    );
}

#[test]
fn compare_paths_are_cut_by_whole_components() {
    let s = |r: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(r);
    let a = crate::tui::load_pair(&s("gpt2-tiny.bin"), &s("gpt2-tiny.safetensors"), &Default::default()).unwrap();
    let head = draw(&settle(a), 120, 3).lines().next().unwrap().to_string();
    // whole components dropped from the front: each side is still a path
    assert!(head.contains("/gpt2-tiny.bin ⇄ …/gpt2-tiny.safetensors"), "{head}");
    assert!(head.trim_start().starts_with("…/"), "{head}");
    let narrow = draw(
        &settle(crate::tui::load_pair(&s("gpt2-tiny.bin"), &s("gpt2-tiny.safetensors"), &Default::default()).unwrap()),
        100,
        3,
    );
    assert!(narrow.contains("…/gpt2-tiny.bin ⇄ …/gpt2-tiny.safetensors"), "{narrow}");
}

#[test]
fn an_empty_filter_claims_no_match_count() {
    let a = act(app("gpt2-tiny.safetensors"), typed(""));
    let foot = draw(&a, 80, 24).lines().last().unwrap().to_string();
    assert!(!foot.contains("0 match"), "{foot}");
    assert!(foot.contains("type a name"), "{foot}");
    let a = act(app("gpt2-tiny.safetensors"), typed("wte"));
    assert!(draw(&a, 80, 24).lines().last().unwrap().contains("1 match"));
}

#[test]
fn e_on_the_scan_tab_asks_for_json_and_sarif_and_the_status_line_says_where() {
    use crate::tui::app::{Effect, Tab};
    let mut a = app("malicious.bin");
    a.update(Action::SelectTab(2));
    assert_eq!(a.tab, Tab::Scan);
    let Some(Effect::Export(job)) = a.update(Action::Export) else {
        panic!("an export asked for")
    };
    let dir = tempfile::tempdir().unwrap();
    let written = job.write(dir.path(), None);
    a.update(Action::Exported(written));
    let foot = draw(&a, 200, 24).lines().last().unwrap().to_string();
    assert!(foot.contains("wrote ") && foot.contains(".sarif"), "{foot}");
    // the Tensors tab writes the inspect document
    a.update(Action::SelectTab(0));
    let Some(Effect::Export(job)) = a.update(Action::Export) else {
        panic!("the Tensors tab exports too")
    };
    a.update(Action::Exported(job.write(dir.path(), None)));
    let foot = draw(&a, 200, 24).lines().last().unwrap().to_string();
    assert!(
        foot.contains("wrote ") && foot.contains("tensorscope-inspect-"),
        "{foot}"
    );
}

#[test]
fn the_files_tab_of_a_hub_cache_folder_names_repository_and_revision() {
    let mut a = app("hub/models--tiny--gpt2");
    a.update(Action::SelectTab(1));
    let screen = draw(&a, 120, 24);
    assert!(
        screen.contains("hugging face cache: tiny/gpt2, revision 9c29d147777ee831e9ede65ff5b0da324efbf8f0 (main)"),
        "{screen}"
    );
    insta::assert_snapshot!("files_hub_cache_80x24", draw(&a, 80, 24));
    insta::assert_snapshot!("files_hub_cache_200x50", draw(&a, 200, 50));
}

#[test]
fn histogram_rows_with_long_labels_fit_the_pane_at_80_columns() {
    // one F32 tensor of 3 M values, most of them near its minimum (under `show --sample`'s 4 M, so
    // every value counts): the edges take 7 characters ("-0.1285") and the largest count 7 digits
    let dir = tempfile::tempdir().unwrap();
    let n = 3_000_000usize;
    let bytes: Vec<u8> = (0..n)
        .flat_map(|i| ((((i * 7919) % n) as f32 / n as f32).powi(4) * 0.27 - 0.142).to_le_bytes())
        .collect();
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![n], &bytes).unwrap();
    let path = dir.path().join("big.safetensors");
    std::fs::write(&path, safetensors::serialize([("w", view)], None).unwrap()).unwrap();
    let a = tidy(
        settle(crate::tui::load(&path, &Default::default()).unwrap()),
        "big.safetensors",
    );
    let pane = right(&sized(a, 80, 24), 80);
    let rows: Vec<&String> = pane.iter().filter(|l| l.contains(" .. ")).collect();
    assert!(rows.len() >= 5, "{pane:#?}");
    // each row holds its bar and its count; a wrapped row would leave a line of digits alone
    for r in &rows {
        let bar = r.contains(|c: char| ('█'..='▏').contains(&c));
        assert!(r.ends_with(|c: char| c.is_ascii_digit()) && bar, "{pane:#?}");
    }
    assert!(
        !pane
            .iter()
            .any(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_digit() || c == ',')),
        "{pane:#?}"
    );
}
