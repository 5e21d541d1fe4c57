//! Named limits of the pickle reader, each reached by a small hostile input that used to make the
//! reader work for minutes or allocate gigabytes: the reader must answer quickly, with a message
//! naming the limit, or list a bounded result.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::build::{Pickle, torch_zip};
use tensorscope::formats::pickle::machine::{self, MachineError};
use tensorscope::formats::pickle::{literal, torch, value};

fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    assert!(t.elapsed() < Duration::from_secs(60), "{what} took {:?}", t.elapsed());
    r
}

#[test]
fn a_long_integer_literal_stops_at_the_digit_limit() {
    // protocol-0 LONG of 200k digits: the decimal conversion is quadratic (minutes before the limit)
    let p = format!("L{}L\n.", "7".repeat(200_000));
    let e = quick("200k-digit LONG", || machine::load(p.as_bytes(), 0)).unwrap_err();
    assert!(
        matches!(e, MachineError::Limit { limit, .. } if limit == literal::MAX_INT_DIGITS as u64),
        "{e}"
    );
    assert!(e.to_string().contains("digits in an integer literal"), "{e}");
    // at the limit it still loads
    let p = format!("L{}L\n.", "7".repeat(literal::MAX_INT_DIGITS));
    assert!(machine::load(p.as_bytes(), 0).is_ok());
}

#[test]
fn a_huge_long_renders_as_its_size() {
    let mut p = vec![0x8b];
    p.extend_from_slice(&100_000u32.to_le_bytes());
    p.extend(std::iter::repeat_n(0x55, 100_000));
    p.push(b'.');
    let l = machine::load(&p, 0).unwrap();
    let shown = quick("repr of a 100 kB int", || l.heap.repr(&l.root)).unwrap();
    assert_eq!(shown, "<int of 100000 bytes>");
}

#[test]
fn hashing_a_shared_long_key_is_counted_as_work() {
    // one 1 MB string from the memo used as a dict key 100 times: 100 MB hashed by 100 tiny opcodes
    let key = "k".repeat(1 << 20);
    let mut p = Pickle::new();
    p.str(&key).put(0).op(b"}");
    for i in 0..100 {
        p.get(0).int(i).op(b"s");
    }
    let bytes = p.done();
    let l = machine::load(&bytes, 0).unwrap();
    assert!(l.work >= 100 << 20, "work {}", l.work);
}

#[test]
fn a_tensor_with_too_many_dimensions_is_refused() {
    let shape = vec![1u64; machine::MAX_DIMS + 1];
    let p = Pickle::new()
        .tensor("0", "FloatStorage", 1, 0, &shape, &shape.clone())
        .done();
    let e = machine::load(&p, 0).unwrap_err().to_string();
    assert!(
        e.contains(&format!("65 dimensions (at most {})", machine::MAX_DIMS)),
        "{e}"
    );
    let shape = vec![1u64; machine::MAX_DIMS];
    let p = Pickle::new()
        .tensor("0", "FloatStorage", 1, 0, &shape, &shape.clone())
        .done();
    assert!(machine::load(&p, 0).is_ok());
}

#[test]
fn a_long_storage_key_is_refused() {
    let key = "7".repeat(machine::MAX_STORAGE_KEY + 1);
    let p = Pickle::new().tensor(&key, "FloatStorage", 1, 0, &[1], &[1]).done();
    let e = machine::load(&p, 0).unwrap_err().to_string();
    assert!(e.contains("storage key of 4097 bytes"), "{e}");
}

#[test]
fn a_shared_long_key_is_cut_in_names() {
    // {K: {0: 1, …, 1999: 1}} with a 1 MB K: 2000 names of 1 MB each (2 GB) before names were cut
    let key = "k".repeat(1 << 20);
    let mut p = Pickle::new();
    p.op(b"}").str(&key).op(b"}(");
    for i in 0..2000 {
        p.int(i).int(1);
    }
    p.op(b"us");
    let f = quick("listing 2000 names under a 1 MB key", || {
        torch::read(Path::new("x.pt"), &torch_zip(&p.done(), &[]))
    })
    .unwrap();
    assert_eq!(f.metadata.len(), 2000);
    assert!(
        f.metadata.iter().all(|(n, _)| n.len() < value::MAX_REPR + 64),
        "names are cut"
    );
    assert!(f.metadata[0].0.contains("… (1048576 bytes)."), "{}", f.metadata[0].0);
}

#[test]
fn key_paths_that_add_up_stop_at_the_listing_limit() {
    // 250 nested dicts, each keyed by the same 1 MB string (cut to 1 kB in names), the innermost with
    // 2000 entries: 2000 names of 250 kB = 500 MB
    let key = "k".repeat(1 << 20);
    let mut p = Pickle::new();
    p.str(&key).put(0).op(b"0"); // keep K in the memo only
    p.op(b"}");
    for _ in 0..250 {
        p.get(0).op(b"}");
    }
    p.op(b"(");
    for i in 0..2000 {
        p.int(i).int(1);
    }
    p.op(b"u");
    for _ in 0..250 {
        p.op(b"s");
    }
    let e = quick("listing 500 MB of key paths", || {
        torch::read(Path::new("x.pt"), &torch_zip(&p.done(), &[]))
    })
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("bytes of key paths and metadata"), "{msg}");
    // a size, through the one byte formatter
    let limit = tensorscope::text::bytes(torch::MAX_LISTING_BYTES as u64);
    assert!(msg.contains(&format!("exceeds the limit of {limit}")), "{msg}");
}

#[test]
fn a_shared_long_string_value_is_cut_in_metadata() {
    let s = "v".repeat(1 << 20);
    let mut p = Pickle::new();
    p.str(&s).put(0).op(b"0}(");
    for i in 0..2000 {
        p.int(i).get(0);
    }
    p.op(b"u");
    let f = torch::read(Path::new("x.pt"), &torch_zip(&p.done(), &[])).unwrap();
    assert_eq!(f.metadata.len(), 2000);
    assert!(f.metadata.iter().all(|(_, v)| v.len() < value::MAX_REPR + 32));
}
