//! The Files tab: each file's SHA-256 on `h` (real hashing on the worker), its progress and cancel,
//! and the verification status of a signed folder and a Hugging Face cache folder (real `verify`).

use std::path::{Path, PathBuf};

use super::{app, settle, sized, tidy};
use crate::tui::app::{Action, App, Effect, Tab};
use crate::tui::hashing::{Digest, FilesState, HashMsg, Provenance};

fn verify_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/verify")
        .join(rel)
}

/// Open `path` on the Files tab, with `key` as `--public-key`.
fn on_files(path: &Path, key: Option<&Path>, shown: &str) -> App {
    let mut a = crate::tui::load(path, &Default::default()).expect("opens");
    a.files = FilesState::new(path, a.ck.files.len(), key);
    let mut a = tidy(settle(a), shown);
    a.update(Action::SelectTab(1));
    a
}

/// Press `h` and run the worker it asks for to the end, as the loop would.
fn hash(a: &mut App) {
    let Some(Effect::Hash(plan)) = a.update(Action::HashFiles) else {
        panic!("h on the Files tab starts hashing");
    };
    let (tx, rx) = std::sync::mpsc::channel();
    crate::tui::hashing::spawn(*plan, move |m| {
        let _ = tx.send(Action::Hash(m));
    });
    for msg in rx.iter() {
        let last = matches!(msg, Action::Hash(HashMsg::Finished));
        a.update(msg);
        if last {
            break;
        }
    }
    assert!(!a.files.running());
}

fn sha256sum(p: &Path) -> String {
    use sha2::Digest as _;
    tensorscope::verify::hash::hex(&sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn h_hashes_every_file_of_a_sharded_folder() {
    let mut a = app("sharded");
    a.update(Action::SelectTab(1));
    assert_eq!(a.tab, Tab::Files);
    assert!(matches!(a.files.provenance, Provenance::NotSigned));
    hash(&mut a);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sharded");
    for (f, d) in a.ck.files.iter().zip(&a.files.digests) {
        assert_eq!(d, &Digest::Done(sha256sum(&dir.join(&f.path))), "{}", f.path.display());
    }
    insta::assert_snapshot!("files_hashed_80x24", sized_ref(&mut a));
    a.update(Action::ToggleHelp);
    insta::assert_snapshot!("files_help_80x24", sized(a, 80, 24));
}

#[test]
fn hashing_shows_progress_and_esc_cancels_keeping_what_finished() {
    let mut a = app("sharded");
    a.update(Action::SelectTab(1));
    let Some(Effect::Hash(plan)) = a.update(Action::HashFiles) else {
        panic!("h starts hashing");
    };
    assert!(
        a.update(Action::HashFiles).is_none(),
        "a second h while hashing starts nothing"
    );
    // what the worker reports: the index finished, the first shard half read
    a.update(Action::Hash(HashMsg::File {
        file: 0,
        digest: Ok("ab".repeat(32)),
    }));
    a.update(Action::Hash(HashMsg::Progress {
        file: 1,
        done: 245_000,
        total: 489_944,
    }));
    insta::assert_snapshot!("files_hashing_80x24", sized_ref(&mut a));
    a.update(Action::Back);
    assert!(!a.files.running(), "Esc cancels");
    // a late progress report does not wipe the note saying so
    a.update(Action::Hash(HashMsg::Progress {
        file: 1,
        done: 300_000,
        total: 489_944,
    }));
    assert!(a.note.as_deref().unwrap_or("").contains("cancelled"), "{:?}", a.note);
    assert!(
        plan.cancel.load(std::sync::atomic::Ordering::Relaxed),
        "the worker is told"
    );
    assert_eq!(a.files.digests[0], Digest::Done("ab".repeat(32)), "what finished stays");
    assert_eq!(a.files.digests[1], Digest::Cancelled);
    assert_eq!(a.files.digests[2], Digest::Cancelled);
    // a late report of the cancelled worker changes nothing
    a.update(Action::Hash(HashMsg::File {
        file: 1,
        digest: Ok("cd".repeat(32)),
    }));
    assert_eq!(a.files.digests[1], Digest::Cancelled);
    assert!(a.update(Action::Back).is_none() && !a.quit, "Esc never quits");
    // x cancels too
    assert!(matches!(a.update(Action::HashFiles), Some(Effect::Hash(_))));
    a.update(Action::CancelHash);
    assert!(!a.files.running());
}

fn sized_ref(a: &mut App) -> String {
    super::sized_mut(a, 80, 24)
}

#[test]
fn a_cancelled_hash_stops_reading() {
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gpt2-tiny.safetensors");
    let mut calls = 0;
    assert_eq!(crate::tui::hashing::sha256(&p, &cancel, &mut |_| calls += 1), Ok(None));
    assert_eq!(calls, 0);
    cancel.store(false, std::sync::atomic::Ordering::Relaxed);
    let hex = crate::tui::hashing::sha256(&p, &cancel, &mut |_| calls += 1).unwrap();
    assert_eq!(hex, Some(sha256sum(&p)));
    assert!(calls > 0);
}

#[test]
fn a_signed_folder_verifies_with_its_key_and_fails_with_another() {
    let model = verify_data("ref-p256");
    let a = on_files(&model, None, "ref-p256");
    assert!(matches!(a.files.provenance, Provenance::NoKey(_)));
    insta::assert_snapshot!("files_signed_no_key_80x24", sized(a, 80, 24));

    let mut a = on_files(&model, Some(&verify_data("keys/p256.pub")), "ref-p256");
    hash(&mut a);
    assert!(
        matches!(&a.files.provenance, Provenance::Verified(w) if w.contains("model.sig")),
        "{:?}",
        a.files.provenance
    );
    insta::assert_snapshot!("files_signed_verified_80x24", sized(a, 80, 24));

    let mut a = on_files(&model, Some(&verify_data("keys/other.pub")), "ref-p256");
    hash(&mut a);
    assert!(
        matches!(&a.files.provenance, Provenance::Failed(w) if w[0].contains("wrong key")),
        "{:?}",
        a.files.provenance
    );
}

/// Copy a folder, keeping its symbolic links as links (a Hugging Face cache's snapshots).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type().unwrap();
        if t.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if t.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
fn a_hugging_face_cache_with_a_corrupted_blob_fails_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("models--tiny--gpt2");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/hub/models--tiny--gpt2"),
        &repo,
    );
    let mut a = on_files(&repo, None, "hub/models--tiny--gpt2");
    hash(&mut a);
    assert!(
        matches!(&a.files.provenance, Provenance::Verified(_)),
        "{:?}",
        a.files.provenance
    );
    // the last byte of the weights' blob changes: still a checkpoint, no longer the blob its name says
    let blob = repo.join("blobs/6d417d3d4153101031c43a8fe9088ed9d0057e85107ddb1c3fe4834db9f87327");
    let mut bytes = std::fs::read(&blob).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let mut a = on_files(&repo, None, "hub/models--tiny--gpt2");
    hash(&mut a);
    assert!(
        matches!(&a.files.provenance, Provenance::Failed(w) if w.iter().any(|l| l.contains("6d417d3d"))),
        "{:?}",
        a.files.provenance
    );
    insta::assert_snapshot!("files_hf_cache_failed_80x24", sized(a, 80, 24));
}

/// A `--public-key` where there is no model.sig is said to be unused, not silently dropped; with a
/// model.sig it is what `h` checks, and no such line shows.
#[test]
fn a_public_key_without_a_signature_is_said_to_be_unused() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/gpt2-tiny.safetensors");
    let key = verify_data("keys/p256.pub");
    let a = on_files(&p, Some(&key), "gpt2-tiny.safetensors");
    let screen = sized(a, 80, 24);
    assert!(
        screen.contains("--public-key p256.pub is unused: no model.sig here"),
        "{screen}"
    );
    let signed = on_files(&verify_data("ref-p256"), Some(&key), "ref-p256");
    assert!(!sized(signed, 80, 24).contains("is unused"));
}
