//! Hand-made and damaged `torch.save` files: the reader refuses ambiguity with one clear error, never
//! panics, never guesses a different data.pkl than torch would.

mod common;

use std::path::{Path, PathBuf};

use tensorscope::formats::pickle::{torch, zip};

fn fixture(name: &str) -> (PathBuf, Vec<u8>) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/torch")
        .join(name);
    let d = std::fs::read(&p).unwrap();
    (p, d)
}

/// A stored zip of `entries`, in order (duplicates allowed).
fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
    common::build::zip_stored(
        &entries
            .iter()
            .map(|(n, c)| (n.to_string(), c.to_vec()))
            .collect::<Vec<_>>(),
    )
}

/// The entries of a real fixture, as (name, content).
fn entries_of(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let ar = zip::read(data).unwrap();
    ar.entries
        .iter()
        .map(|e| (e.name.clone(), zip::content(data, e, 1 << 20).unwrap().into_owned()))
        .collect()
}

fn read(bytes: &[u8]) -> Result<torch::TorchFile, String> {
    torch::read(Path::new("x.pt"), bytes).map_err(|e| e.to_string())
}

#[test]
fn a_rebuilt_archive_reads_like_the_original() {
    let (_, data) = fixture("views.pt");
    let e = entries_of(&data);
    let refs: Vec<(&str, &[u8])> = e.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    let t = read(&build(&refs)).unwrap();
    assert_eq!(t.tensors.len(), 11);
}

#[test]
fn two_data_pkl_entries_are_refused() {
    let (_, data) = fixture("views.pt");
    let e = entries_of(&data);
    let mut refs: Vec<(&str, &[u8])> = e.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    // a second data.pkl, as the zip crate would keep (it drops the first of two names)
    refs.push(("views/data.pkl", b"\x80\x02}q\x00."));
    let err = read(&build(&refs)).unwrap_err();
    assert!(err.contains("more than once"), "{err}");
}

#[test]
fn two_storage_records_with_one_name_are_refused() {
    let (_, data) = fixture("views.pt");
    let e = entries_of(&data);
    let mut refs: Vec<(&str, &[u8])> = e.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    let zero = vec![0u8; 192];
    refs.insert(1, ("views/data/0", &zero));
    let err = read(&build(&refs)).unwrap_err();
    assert!(err.contains("views/data/0") && err.contains("more than once"), "{err}");
}

#[test]
fn the_top_folder_is_the_first_entry_s_as_in_torch() {
    let (_, data) = fixture("views.pt");
    let e = entries_of(&data);
    // another folder's data.pkl listed after: torch ignores it, we do too (with a warning)
    let mut refs: Vec<(&str, &[u8])> = e.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    refs.push(("evil/data.pkl", b"cos\nsystem\n(S'x'\ntR."));
    let t = read(&build(&refs)).unwrap();
    assert_eq!(t.top.as_deref(), Some("views"));
    assert!(
        t.warnings.iter().any(|w| w.contains("evil/data.pkl")),
        "{:?}",
        t.warnings
    );
    // listed first, it becomes the top folder torch uses, and views/data.pkl is not read
    refs.pop();
    refs.insert(0, ("evil/data.pkl", b"\x80\x02}q\x00."));
    let t = read(&build(&refs)).unwrap();
    assert_eq!(t.top.as_deref(), Some("evil"));
    assert!(t.tensors.is_empty());
}

#[test]
fn missing_records_and_big_endian_files_are_clear_errors() {
    let (_, data) = fixture("views.pt");
    let e = entries_of(&data);
    let without: Vec<(&str, &[u8])> = e
        .iter()
        .filter(|(n, _)| n != "views/data/0")
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let err = read(&build(&without)).unwrap_err();
    assert!(err.contains("no views/data/0"), "{err}");
    let big: Vec<(&str, &[u8])> = e
        .iter()
        .map(|(n, c)| {
            (
                n.as_str(),
                if n.ends_with("/byteorder") {
                    &b"big"[..]
                } else {
                    c.as_slice()
                },
            )
        })
        .collect();
    let err = read(&build(&big)).unwrap_err();
    assert!(err.contains("big-endian"), "{err}");
    let short: Vec<(&str, &[u8])> = e
        .iter()
        .map(|(n, c)| (n.as_str(), if n == "views/data/0" { &c[..100] } else { c.as_slice() }))
        .collect();
    let err = read(&build(&short)).unwrap_err();
    assert!(err.contains("holds 100 bytes"), "{err}");
}

#[test]
fn views_past_their_storage_are_refused() {
    // _rebuild_tensor_v2 over a 4-element storage with size (3,) stride (2,): needs 5 elements
    let pkl = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x03\x85K\x02\x85\x89ccollections\nOrderedDict\n)RtR.";
    let zero = [0u8; 16];
    let err = read(&build(&[("a/data.pkl", pkl), ("a/data/0", &zero)])).unwrap_err();
    assert!(err.contains("needs 20 bytes"), "{err}");
    // zero strides (an expanded tensor) are fine and never materialised
    let pkl = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00J\x00\x00\x00@\x85K\x00\x85\x89ccollections\nOrderedDict\n)RtR.";
    let t = read(&build(&[("a/data.pkl", pkl), ("a/data/0", &zero)])).unwrap();
    assert_eq!(t.tensors[0].shape, [1 << 30]);
}

#[test]
fn tar_and_plain_pickles_are_refused_clearly() {
    let mut tar = vec![0u8; 1024];
    tar[257..262].copy_from_slice(b"ustar");
    assert!(read(&tar).unwrap_err().contains("tar archive"));
    assert!(read(b"\x80\x02}q\x00.").unwrap_err().contains("not a torch.save file"));
    assert!(
        read(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
            .unwrap_err()
            .contains("empty zip")
    );
}

#[test]
fn every_prefix_and_byte_flip_of_real_files_is_handled() {
    for name in ["params.pt", "params-legacy.pt", "checkpoint-legacy.pt"] {
        let (_, data) = fixture(name);
        let step = (data.len() / 400).max(1);
        for n in (0..data.len()).step_by(step) {
            let _ = read(&data[..n]);
            let mut flipped = data.clone();
            flipped[n] ^= 0x5a;
            if let Ok(t) = read(&flipped) {
                for t in &t.tensors {
                    assert!(t.storage.end as usize <= flipped.len());
                    t.check_extent().unwrap();
                }
            }
        }
    }
}

/// PUTs each just inside "twice the memo vector's length plus a margin": a bound that let the
/// memo's vector double on every PUT (19 of them asked for two billion slots). The reader and the
/// scanner must store them at the cost of their number.
#[test]
fn memo_puts_that_would_double_a_vector_cost_their_number() {
    let mut p = b"\x80\x02}".to_vec(); // PROTO 2, EMPTY_DICT
    let mut slots: u64 = 0;
    for k in 1..=19u64 {
        let i = slots * 2 + 4095 - k;
        p.push(b'r'); // LONG_BINPUT
        p.extend_from_slice(&u32::try_from(i).unwrap().to_le_bytes());
        slots = i + 1;
    }
    p.push(b'.');
    let t = std::time::Instant::now();
    let loaded = tensorscope::formats::pickle::machine::load(&p, 0);
    assert!(loaded.is_ok(), "{:?}", loaded.err());
    let scanned = tensorscope::scan::scan_bytes("memo.pkl", &p);
    assert!(format!("{scanned:?}").contains("memo.pkl"));
    assert!(t.elapsed().as_secs() < 60, "hang guard: {:?}", t.elapsed());
}
