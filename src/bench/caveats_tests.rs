//! Tests of caveats.rs (beside it, which would otherwise pass 500 lines).
use super::*;

/// The faults are blamed only where the touched mapped rows fall far below their ceiling.
#[test]
fn page_cache_blames_faults_only_far_below_the_ceiling() {
    let slow = page_cache_text("m.safetensors", 0.1, &[20.0, 31.0]);
    assert!(slow.contains("at most 31% of the memory-read ceiling") && slow.contains("most likely take most"));
    let fast = page_cache_text("m.safetensors", 0.1, &[79.0, 82.0]);
    assert!(
        fast.contains("reach 82%") && fast.contains("cost them little"),
        "{fast}"
    );
    assert!(!fast.contains("take most"), "{fast}");
    let none = page_cache_text("m.safetensors", 0.1, &[]);
    assert!(!none.contains("take most") && !none.contains("498 MB"), "{none}");
}

/// Thread counts as the run used them, sizes in the README's MiB.
#[test]
fn threads_and_sizes_as_used() {
    assert!(parallel_what(1).contains("by one thread") && parallel_what(4).contains("by 4 threads"));
    assert_eq!(mib(touch::CHUNK), "4 MiB");
    let r = crate::report::sample::report();
    let mut config = Config::new(Vec::new());
    config.touch_threads = 2;
    let text = general_caveats(&config, &r.system, &r.results).join("\n");
    assert!(
        text.contains("on 2 threads") && text.contains("4 MiB pieces") && text.contains("under 8 MiB"),
        "{text}"
    );
    let mut small = r.results.clone();
    small.iter_mut().for_each(|x| x.bytes = 689_200);
    let text = general_caveats(&config, &r.system, &small).join("\n");
    assert!(text.contains("on one thread: every load here is under 8 MiB"), "{text}");
    assert!(!text.contains("thread(s)"), "{text}");
}

/// Each checkpoint's lazy-one row with its own tensor's size, not the first one's.
#[test]
fn lazy_one_sizes_per_checkpoint() {
    let r = crate::report::sample::report();
    let mut rows = vec![r.results[1].clone(), r.results[1].clone()];
    rows[0].method = Method::SafetensorsLazyOne.as_str().into();
    rows[0].bytes = 256;
    rows[1] = rows[0].clone();
    rows[1].checkpoint = "/tmp/b.safetensors".into();
    rows[1].bytes = 768;
    let text = general_caveats(&Config::new(Vec::new()), &r.system, &rows).join("\n");
    assert!(
        text.contains("one tensor (256 B of m.safetensors, 768 B of b.safetensors)"),
        "{text}"
    );
    let text = general_caveats(&Config::new(Vec::new()), &r.system, &rows[..1]).join("\n");
    assert!(text.contains("one tensor (256 B)"), "{text}");
}

/// The eager caveat speaks of the headline's comparison only where a pickle row gives it one.
#[test]
fn no_headline_comparison_claimed_without_pickle() {
    let r = crate::report::sample::report();
    let config = Config::new(Vec::new());
    let with = general_caveats(&config, &r.system, &r.results).join("\n");
    assert!(with.contains("the headline compares fresh with fresh"), "{with}");
    let mut gguf = r.results.clone();
    gguf.iter_mut()
        .for_each(|x| x.method = x.method.replace("pickle-eager", "gguf-read"));
    let without = general_caveats(&config, &r.system, &gguf).join("\n");
    assert!(
        without.contains("Eager loads run twice") && !without.contains("compares fresh"),
        "{without}"
    );
}
