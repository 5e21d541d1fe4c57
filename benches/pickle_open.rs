//! Opening a ~500 MB `torch.save` zip file (the floor: under 5 ms): only the central
//! directory and the pickle are parsed, tensor data is never read.
//!
//! The input is written by a minimal torch-like writer into a temporary folder: a GPT-2-small state
//! dict (148 F32 tensors, 124 M parameters, 498 MB) as a protocol-2 `data.pkl` with one stored,
//! 64-byte aligned record per storage, laid out exactly as `torch.save` does. The storage bytes are
//! left as holes of a sparse file, so making it costs no disk writes. When `/tmp/ck/model.bin` (a real
//! `torch.save` file) exists it is measured too. The general pickle machine is also measured alone on
//! the long pickle of a synthetic mixture of experts (about 19,000 tensors).

use std::hint::black_box;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use tensorscope::bench::synth::{Family, layout};
use tensorscope::bench::torchzip::state_dict_pickle as torch_pickle;
use tensorscope::formats::pickle::machine;

fn gpt2_small() -> Vec<(String, Vec<u64>)> {
    let (d, layers, vocab, ctx) = (768u64, 12, 50257u64, 1024u64);
    let mut t = vec![
        ("wte.weight".to_string(), vec![vocab, d]),
        ("wpe.weight".to_string(), vec![ctx, d]),
    ];
    for l in 0..layers {
        for (n, s) in [
            ("ln_1.weight", vec![d]),
            ("ln_1.bias", vec![d]),
            ("attn.c_attn.weight", vec![d, 3 * d]),
            ("attn.c_attn.bias", vec![3 * d]),
            ("attn.c_proj.weight", vec![d, d]),
            ("attn.c_proj.bias", vec![d]),
            ("ln_2.weight", vec![d]),
            ("ln_2.bias", vec![d]),
            ("mlp.c_fc.weight", vec![d, 4 * d]),
            ("mlp.c_fc.bias", vec![4 * d]),
            ("mlp.c_proj.weight", vec![4 * d, d]),
            ("mlp.c_proj.bias", vec![d]),
        ] {
            t.push((format!("h.{l}.{n}"), s));
        }
    }
    t.push(("ln_f.weight".into(), vec![d]));
    t.push(("ln_f.bias".into(), vec![d]));
    t
}

fn unicode(p: &mut Vec<u8>, s: &str) {
    p.push(b'X');
    p.extend_from_slice(&(s.len() as u32).to_le_bytes());
    p.extend_from_slice(s.as_bytes());
}

fn int(p: &mut Vec<u8>, v: u64) {
    p.push(b'J');
    p.extend_from_slice(&(v as i32).to_le_bytes());
}

fn tuple(p: &mut Vec<u8>, v: &[u64]) {
    p.push(b'(');
    for &x in v {
        int(p, x);
    }
    p.push(b't');
}

/// The protocol-2 pickle torch writes for an OrderedDict state dict of F32 tensors.
fn state_dict_pickle(tensors: &[(String, Vec<u64>)]) -> Vec<u8> {
    let mut p = b"\x80\x02ccollections\nOrderedDict\n)R(".to_vec();
    for (i, (name, shape)) in tensors.iter().enumerate() {
        unicode(&mut p, name);
        p.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n((");
        unicode(&mut p, "storage");
        p.extend_from_slice(b"ctorch\nFloatStorage\n");
        unicode(&mut p, &i.to_string());
        unicode(&mut p, "cpu");
        int(&mut p, shape.iter().product());
        p.extend_from_slice(b"tQK\x00");
        tuple(&mut p, shape);
        let mut strides = vec![1u64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        tuple(&mut p, &strides);
        p.extend_from_slice(b"\x89ccollections\nOrderedDict\n)RtR");
    }
    p.extend_from_slice(b"u.");
    p
}

/// Write a torch-like zip: records stored, each record's data 64-byte aligned; storage bytes are holes.
fn write_checkpoint(dir: &Path) -> PathBuf {
    let tensors = gpt2_small();
    let mut records: Vec<(String, Vec<u8>, u64)> = vec![
        ("model/data.pkl".into(), state_dict_pickle(&tensors), 0),
        ("model/byteorder".into(), b"little".to_vec(), 0),
    ];
    for (i, (_, shape)) in tensors.iter().enumerate() {
        records.push((format!("model/data/{i}"), Vec::new(), shape.iter().product::<u64>() * 4));
    }
    records.push(("model/version".into(), b"3\n".to_vec(), 0));
    let path = dir.join("model.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    let mut central = Vec::new();
    let mut pos = 0u64;
    for (name, content, hole) in &records {
        let size = content.len() as u64 + hole;
        let header_end = pos + 30 + name.len() as u64;
        let pad = (64 - (header_end + 4) % 64) % 64 + 4; // extra field: id, len, padding
        let mut h = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        h.extend_from_slice(&(size as u32).to_le_bytes());
        h.extend_from_slice(&(size as u32).to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(pad as u16).to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        h.extend_from_slice(&0xfb00u16.to_le_bytes());
        h.extend_from_slice(&((pad - 4) as u16).to_le_bytes());
        h.resize(h.len() + pad as usize - 4, b'Z');
        f.seek(SeekFrom::Start(pos)).unwrap();
        f.write_all(&h).unwrap();
        f.write_all(content).unwrap();
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        central.extend_from_slice(&(size as u32).to_le_bytes());
        central.extend_from_slice(&(size as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&(pos as u32).to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        pos += h.len() as u64 + size;
    }
    f.seek(SeekFrom::Start(pos)).unwrap();
    f.write_all(&central).unwrap();
    let mut end = b"PK\x05\x06\0\0\0\0".to_vec();
    end.extend_from_slice(&(records.len() as u16).to_le_bytes());
    end.extend_from_slice(&(records.len() as u16).to_le_bytes());
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&(pos as u32).to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    f.write_all(&end).unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_checkpoint(dir.path());
    let size = std::fs::metadata(&path).unwrap().len();
    let ck = tensorscope::checkpoint::open(&path).unwrap();
    assert_eq!(ck.tensors.len(), 148);
    assert_eq!(ck.total_params(), 124_439_808);
    eprintln!("synthetic torch.save zip: {size} bytes, {} tensors", ck.tensors.len());
    drop(ck);
    let mut g = c.benchmark_group("pickle_open");
    g.bench_function("open 498 MB GPT-2 torch zip (synthetic)", |b| {
        b.iter(|| tensorscope::checkpoint::open(black_box(&path)).unwrap())
    });
    // the general pickle machine alone (the reader's fallback when the fast path declines), on the
    // long pickle of a mixture of experts (about 19,000 tensors)
    let moe: Vec<(String, Vec<u64>)> = layout(Family::Moe, 64_000_000)
        .into_iter()
        .map(|t| (t.name, t.shape))
        .collect();
    let pickle = torch_pickle(&moe);
    let loaded = machine::load(&pickle, 0).unwrap();
    assert_eq!(loaded.end, pickle.len());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    g.bench_function(
        format!(
            "machine::load MoE data.pkl ({} tensors, {} KB)",
            moe.len(),
            pickle.len() / 1000
        ),
        |b| b.iter(|| machine::load(black_box(&pickle), 0).unwrap()),
    );
    let real = Path::new("/tmp/ck/model.bin");
    if real.exists() {
        g.bench_function("open /tmp/ck/model.bin (real torch.save)", |b| {
            b.iter(|| tensorscope::checkpoint::open(black_box(real)).unwrap())
        });
    } else {
        eprintln!("/tmp/ck/model.bin not found: measuring the synthetic file only");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
