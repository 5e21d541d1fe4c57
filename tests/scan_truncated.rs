//! The scanner survives a file truncated by another process while it is reading it (the map is
//! guarded; without the guard the read faults with SIGBUS and this test process dies), and never calls
//! such a file safe.

use std::time::Duration;

use tensorscope::scan::{Verdict, scan_file};

#[test]
fn a_file_truncated_during_the_scan_is_never_safe() {
    // 8 MB of NONE, POP: the walker reads every byte, for long enough to be cut in the middle
    let mut pickle = b"\x80\x02".to_vec();
    pickle.extend(std::iter::repeat_n(*b"N0", 4 << 20).flatten());
    pickle.push(b'.');
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.pkl");
    let mut hit = 0;
    for round in 0..3u64 {
        std::fs::write(&path, &pickle).unwrap();
        let p = path.clone();
        let cutter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5 + 15 * round));
            std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .unwrap()
                .set_len(4096)
                .unwrap();
        });
        let r = scan_file(&path);
        cutter.join().unwrap();
        let why: Vec<&str> = r.findings.iter().map(|f| f.why.as_str()).collect();
        if why.iter().any(|w| w.contains("truncated while it was being scanned")) {
            hit += 1;
            assert_eq!(r.verdict, Verdict::Suspicious, "{why:?}");
        } else {
            // scanned before the cut, or opened after it: a whole file or a 4 kB one, never in between
            assert!(
                r.verdict != Verdict::Safe || r.pickles.iter().all(|p| p.complete),
                "{r:?}"
            );
        }
    }
    eprintln!("{hit} of 3 scans were cut mid-read");
}
