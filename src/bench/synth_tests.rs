//! Tests of the synthetic checkpoints (layouts, writers, free-space check).

use super::*;

#[test]
fn gpt2_sizes_are_close_to_the_request() {
    for want in [4096u64, 1 << 20, 64_000_000, 500_000_000] {
        let got: u64 = layout(Family::Gpt2, want).iter().map(SynthTensor::nbytes).sum();
        assert!(got <= want + want / 2 + 200_000, "{want}: {got}");
        assert!(got >= want / 3, "{want}: {got}");
    }
    let t = layout(Family::Gpt2, 500_000_000);
    assert_eq!(t[0].shape, vec![50_257, 768]);
    assert!(t.iter().any(|t| t.name == "h.11.mlp.c_proj.weight"));
}

#[test]
fn lora_has_ten_thousand_tensors_and_huge_four() {
    assert_eq!(layout(Family::Lora, 1 << 20).len(), 10_000);
    let h = layout(Family::Huge, 400_000_000);
    assert_eq!(h.len(), 4);
    assert_eq!(h[0].shape[1], 4096);
}

#[test]
fn fill_is_deterministic_and_finite() {
    let (mut a, mut b) = (vec![0u8; 44], vec![0u8; 44]);
    fill(3, &mut a);
    fill(3, &mut b);
    assert_eq!(a, b);
    fill(4, &mut b);
    assert_ne!(a, b);
    for c in a.chunks_exact(4) {
        let v = f32::from_le_bytes(c.try_into().unwrap());
        assert!((-0.05..0.05).contains(&v), "{v}");
    }
    assert_ne!(&a[40..], &[0, 0, 0, 0]);
}

#[test]
fn safetensors_pair_reads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let pair = write_pair(dir.path(), "m", Family::Gpt2, 200_000).unwrap();
    let ck = crate::checkpoint::open(&pair.safetensors).unwrap();
    let tensors = layout(Family::Gpt2, 200_000);
    assert_eq!(ck.tensors.len(), tensors.len());
    for (i, t) in tensors.iter().enumerate() {
        let got = ck.tensor(&t.name).unwrap();
        assert_eq!(got.shape, t.shape);
        let mut want = vec![0u8; t.nbytes() as usize];
        fill(i, &mut want);
        assert_eq!(ck.contiguous_bytes(got).unwrap().unwrap(), &want[..]);
    }
    assert!(pair.torch.metadata().unwrap().len() > pair.bytes);
}

#[test]
fn torch_files_read_back_equal_with_our_reader() {
    let dir = tempfile::tempdir().unwrap();
    for family in [Family::Gpt2, Family::Lora, Family::Huge] {
        let pair = write_pair(dir.path(), family.as_str(), family, 200_000).unwrap();
        let tensors = layout(family, 200_000);
        let ck = crate::checkpoint::open(&pair.torch).unwrap();
        assert_eq!(ck.format, crate::checkpoint::Format::PytorchZip);
        assert!(ck.warnings.is_empty(), "{:?}", ck.warnings);
        let names: Vec<&str> = ck.tensors.iter().map(|t| t.name.as_str()).collect();
        let want: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, want);
        for (i, (t, got)) in tensors.iter().zip(&ck.tensors).enumerate() {
            assert_eq!(got.shape, t.shape);
            assert_eq!(got.dtype, crate::checkpoint::DType::F32);
            assert_eq!(got.storage.start % 64, 0, "aligned storage");
            let mut data = vec![0u8; t.nbytes() as usize];
            fill(i, &mut data);
            assert_eq!(ck.contiguous_bytes(got).unwrap().unwrap(), &data[..], "{}", t.name);
        }
    }
    let t = layout(Family::Gpt2, 100_000);
    let p = dir.path().join("zip64.bin");
    write_torch_with(&p, &t, TorchOptions { force_zip64: true }).unwrap();
    assert_eq!(crate::checkpoint::open(&p).unwrap().tensors.len(), t.len());
}

#[test]
fn moe_has_qwen3_moe_tensor_count_at_any_size() {
    for bytes in [1_000_000u64, 2_000_000_000, 61_000_000_000] {
        let t = layout(Family::Moe, bytes);
        assert_eq!(t.len(), 18_867, "{bytes}");
        let total: u64 = t.iter().map(SynthTensor::nbytes).sum();
        if bytes >= 2_000_000_000 {
            let ratio = total as f64 / bytes as f64;
            assert!((0.9..1.1).contains(&ratio), "{bytes}: {total}");
        }
    }
    assert!(
        layout(Family::Moe, 122_120_000_000)
            .iter()
            .any(|t| t.shape == [768, 2048]),
        "full-size expert"
    );
    assert_eq!(Family::parse("moe"), Some(Family::Moe));
    // both files of a small pair read back with every tensor
    let dir = tempfile::tempdir().unwrap();
    let pair = write_pair(dir.path(), "moe", Family::Moe, 2_000_000).unwrap();
    assert_eq!(pair.tensors, 18_867);
    assert_eq!(crate::checkpoint::open(&pair.torch).unwrap().tensors.len(), 18_867);
    assert_eq!(
        crate::checkpoint::open(&pair.safetensors).unwrap().tensors.len(),
        18_867
    );
}

#[test]
fn refuses_silly_sizes() {
    let dir = tempfile::tempdir().unwrap();
    assert!(write_pair(dir.path(), "m", Family::Gpt2, 10).is_err());
    assert!(write_pair(dir.path(), "m", Family::Gpt2, u64::MAX).is_err());
}

/// Writes the files `benches/peers/check_synth.py` loads with real torch:
/// `SYNTH_OUT=/tmp/synth cargo test --lib write_for_torch_check -- --ignored`.
#[test]
#[ignore = "writes files for the Python check script"]
fn write_for_torch_check() {
    let dir = PathBuf::from(std::env::var("SYNTH_OUT").unwrap_or_else(|_| "/tmp/synth".into()));
    std::fs::create_dir_all(&dir).unwrap();
    for family in [Family::Gpt2, Family::Lora, Family::Huge] {
        write_pair(&dir, family.as_str(), family, 3_000_000).unwrap();
    }
    let t = layout(Family::Gpt2, 300_000);
    write_torch_with(&dir.join("zip64.bin"), &t, TorchOptions { force_zip64: true }).unwrap();
    write_safetensors(&dir.join("zip64.safetensors"), &t).unwrap();
}
