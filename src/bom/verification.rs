//! Verify results inside the BOM: each local file's provenance check, recorded as its component's
//! verification status.
//!
//! For every local path scanned, [`run`] looks for something to verify it against, and runs the
//! check through [`crate::verify`] (never a copy of it):
//! - a Hugging Face cache folder (`models--ORG--NAME`, or `snapshots/REV`, or a file inside one):
//!   every linked blob against the hash that names it ([`crate::verify::hf`]); no key needed;
//! - an OpenSSF Model Signing bundle: `--signature`, else `model.sig` inside the folder (or beside
//!   it), or beside a file. Its model is the folder that holds the signature's subject (the folder
//!   scanned, or the file's folder); it is checked with [`Options::public_key`]
//!   ([`crate::verify::oms`]). Without a key the signature is recorded as present, not checked.
//!
//! [`attach`] then gives each BOM entry the verdict on its own file: `verified`, `failed` (the
//! bytes differ from what was signed, the file is unsigned, or the signature itself failed) or
//! `not-checked`. Nothing of the run's timing goes in, so the BOM stays deterministic.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::Bom;
use crate::Error;
use crate::verify::{Report, Status, hf, keys::PublicKey, oms};

/// How the scanned paths are verified.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Verification was asked for (`--verify`, or a key given): a path with nothing to verify it
    /// against, or a signature and no key, is an error rather than a note.
    pub required: bool,
    /// The signer's public key, for OMS signatures.
    pub public_key: Option<PublicKey>,
    /// The OMS bundle to use for every path, instead of `model.sig` beside each.
    pub signature: Option<PathBuf>,
    /// Hashing threads (0 = one per core).
    pub threads: usize,
}

/// A file's verification status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// The signature holds and the file's bytes are the ones signed (or its blob's name).
    Verified,
    /// The signature failed, or the file differs from what was signed, or is not signed.
    Failed,
    /// A signature is there, but was not checked (no key).
    NotChecked,
}

impl State {
    /// The spelling in the BOM.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Verified => "verified",
            State::Failed => "failed",
            State::NotChecked => "not-checked",
        }
    }
}

/// One file's verification, as the BOM records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The verdict.
    pub state: State,
    /// `oms` (OpenSSF Model Signing v1.0) or `hf-cache` (blobs against their names).
    pub kind: &'static str,
    /// How, in words: the signature file and key, or the cache check.
    pub method: String,
    /// Why it failed or was not checked (empty when verified).
    pub detail: String,
}

/// One check run over a model root.
#[derive(Debug)]
pub struct Checked {
    /// The model root, canonical.
    root: PathBuf,
    kind: &'static str,
    method: String,
    /// The report, or why there is none (no key; the bundle could not be read).
    outcome: Result<Report, (State, String)>,
}

/// Run every check the scanned `paths` call for. Remote paths are skipped (the Hub's hashes are
/// already the BOM's), or refused when verification is [`Options::required`].
pub fn run(paths: &[PathBuf], opts: &Options) -> Result<Vec<Checked>, Error> {
    let mut out: Vec<Checked> = Vec::new();
    for p in paths {
        if crate::remote::is_remote(&p.to_string_lossy()) {
            if opts.required {
                return Err(Error::Usage(format!(
                    "--verify: {} is a remote path, whose hashes in the BOM are the Hub's own: verify a download \
                     with `tensorscope verify LOCAL --against {}`",
                    crate::text::escape(&p.to_string_lossy()),
                    crate::text::escape(&p.to_string_lossy())
                )));
            }
            continue;
        }
        let Ok(canon) = std::fs::canonicalize(p) else { continue };
        let dir = if canon.is_dir() {
            canon.clone()
        } else {
            canon_parent(p).unwrap_or_else(|| canon.clone())
        };
        if let Some(layout) = hf::detect(&dir) {
            let root = layout.snapshot.clone().unwrap_or_else(|| layout.repo.clone());
            if out.iter().any(|c| c.root == root) {
                continue;
            }
            let outcome = hf::verify(&root, opts.threads).map_err(|e| (State::Failed, e.to_string()));
            out.push(Checked {
                root,
                kind: "hf-cache",
                method: "Hugging Face cache: each blob against the hash that names it".into(),
                outcome,
            });
            continue;
        }
        let sig = opts.signature.clone().or_else(|| beside(&canon, &dir));
        let Some(sig) = sig else {
            if opts.required {
                return Err(Error::Usage(format!(
                    "--verify: {} has no model.sig beside it and is not in a Hugging Face cache folder \
                     (pass --signature FILE, or leave out --verify)",
                    crate::text::path(p)
                )));
            }
            continue;
        };
        if out.iter().any(|c| c.root == dir) {
            continue;
        }
        let shown = sig
            .file_name()
            .map_or_else(|| sig.display().to_string(), |n| n.to_string_lossy().into_owned());
        let Some(key) = &opts.public_key else {
            if opts.required {
                return Err(Error::Usage(format!(
                    "--verify: {} is an OpenSSF Model Signing signature: pass --public-key PEM (the signer's key)",
                    crate::text::path(&sig)
                )));
            }
            out.push(Checked {
                root: dir,
                kind: "oms",
                method: format!("OMS v1.0 signature {shown}"),
                outcome: Err((
                    State::NotChecked,
                    format!("{shown} is present but was not checked: pass --verify --public-key PEM"),
                )),
            });
            continue;
        };
        let mut o = oms::Options::new(&sig, key.clone());
        o.threads = opts.threads;
        // `sign FILE` signs the file alone (its manifest names it `.`): a file scanned on its own is
        // checked as such against that signature, and as part of its folder otherwise
        let root = if !canon.is_dir() && oms::signs_one_file(&sig) == Some(true) {
            canon.clone()
        } else {
            dir.clone()
        };
        let outcome = oms::verify(&root, &o).map_err(|e| (State::Failed, e.to_string()));
        out.push(Checked {
            root,
            kind: "oms",
            method: format!("OMS v1.0 signature {shown} ({})", key.describe()),
            outcome,
        });
    }
    Ok(out)
}

/// The canonical folder of a path's parent (a snapshot link's folder, not its blob's).
fn canon_parent(p: &Path) -> Option<PathBuf> {
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(parent).ok()
}

/// `model.sig` inside a folder (else beside it), or beside a file: the first that exists.
fn beside(canon: &Path, dir: &Path) -> Option<PathBuf> {
    let mut candidates = vec![dir.join("model.sig")];
    if canon.is_dir() {
        candidates.extend(dir.parent().map(|d| d.join("model.sig")));
    }
    candidates.into_iter().find(|c| c.is_file())
}

/// `rel` as the `/`-separated name the verify reports use.
fn name(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    Some(parts?.join("/"))
}

/// The names a local file has in a check rooted at `root`: where it was found (a snapshot link),
/// and what it resolves to (a blob).
fn names_in(root: &Path, file: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(dir), Some(base)) = (canon_parent(file), file.file_name()) {
        out.extend(dir.join(base).strip_prefix(root).ok().and_then(name));
    }
    if let Ok(c) = std::fs::canonicalize(file) {
        out.extend(c.strip_prefix(root).ok().and_then(name));
    }
    // a check rooted at the file itself (a single-file signature) names it `.`
    for n in &mut out {
        if n.is_empty() {
            *n = ".".into();
        }
    }
    out.dedup();
    out
}

/// The verification of one local file, by the first check whose root holds it and whose report
/// names it (else not checked, when some root holds it).
pub fn of(checked: &[Checked], file: &Path) -> Option<Verification> {
    let mut uncovered = None;
    for c in checked {
        // a cache snapshot's reports name files from the repository folder
        let base = match c.kind {
            "hf-cache" => hf::detect(&c.root).map_or_else(|| c.root.clone(), |l| l.repo),
            _ => c.root.clone(),
        };
        let names = names_in(&base, file);
        if names.is_empty() {
            continue;
        }
        let v = |state, detail: String| Verification {
            state,
            kind: c.kind,
            method: c.method.clone(),
            detail,
        };
        let report = match &c.outcome {
            Ok(r) => r,
            Err((state, why)) => return Some(v(*state, why.clone())),
        };
        if let Some(p) = &report.problem {
            return Some(v(State::Failed, p.clone()));
        }
        let checks: Vec<_> = report.files.iter().filter(|f| names.contains(&f.name)).collect();
        if checks.is_empty() {
            // another check (a second snapshot of the same cache) may cover it
            uncovered.get_or_insert_with(|| v(State::NotChecked, "not covered by the check (an ignored path)".into()));
            continue;
        }
        return Some(match checks.iter().find(|f| f.status != Status::Ok) {
            Some(bad) => v(
                State::Failed,
                format!("{} {}: {}", bad.status.word(), bad.name, bad.why),
            ),
            // its own bytes are the ones signed, but the signed model is not what is on disk (a
            // file changed, missing or unsigned beside it): the model did not verify
            None if !report.verified => v(State::Failed, model_failures(report)),
            None => v(State::Verified, String::new()),
        });
    }
    uncovered
}

/// Why a model whose file matched did not verify: its other files' failures, the first few named.
fn model_failures(report: &Report) -> String {
    const NAMED: usize = 3;
    let bad: Vec<String> = report
        .failures()
        .map(|f| format!("{} {}", f.status.word(), crate::text::escape(&f.name)))
        .collect();
    let more = match bad.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    // as signed (OMS), or as the Hub's hashes say (a cache or --against): what it was checked with
    let matched = if report.kind == "oms" {
        "is as signed"
    } else {
        "matches its recorded hash"
    };
    format!(
        "this file {matched}, but the model did not verify: {}{more}",
        bad[..bad.len().min(NAMED)].join(", ")
    )
}

/// Whether any check failed, whether or not a BOM entry is in the failed part (a config or a
/// tokenizer file is no component, yet a model with it changed is not the one signed).
pub fn any_failed(checked: &[Checked]) -> bool {
    checked.iter().any(|c| match &c.outcome {
        Ok(r) => !r.verified,
        Err((state, _)) => *state == State::Failed,
    })
}

/// Give every local entry of `bom` its file's verification.
pub fn attach(bom: &mut Bom, checked: &[Checked]) {
    for e in &mut bom.files {
        if crate::remote::is_remote(&e.path) {
            continue;
        }
        e.verification = of(checked, Path::new(&e.path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::FileCheck;

    fn report(files: Vec<FileCheck>, problem: Option<&str>) -> Report {
        Report {
            path: String::new(),
            kind: "oms",
            verified: problem.is_none() && files.iter().all(|f| f.status == Status::Ok),
            signature: None,
            against: None,
            problem: problem.map(str::to_owned),
            files,
            bytes_hashed: 0,
            hash_seconds: 0.0,
            threads: 0,
        }
    }

    #[test]
    fn each_file_gets_its_own_check_and_a_signature_problem_fails_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        for f in ["a.bin", "sub/b.bin", "c.bin"] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        let files = vec![
            FileCheck::new("a.bin", Status::Ok, ""),
            FileCheck::new("sub/b.bin", Status::Changed, "sha256 differs"),
        ];
        let checked = |problem| {
            vec![Checked {
                root: root.clone(),
                kind: "oms",
                method: "OMS v1.0 signature model.sig".into(),
                outcome: Ok(report(files.clone(), problem)),
            }]
        };
        let ok = checked(None);
        // a.bin is as signed, but sub/b.bin beside it changed: the model did not verify
        let a = of(&ok, &root.join("a.bin")).unwrap();
        assert_eq!(
            (a.state, a.detail.as_str()),
            (
                State::Failed,
                "this file is as signed, but the model did not verify: changed sub/b.bin"
            )
        );
        assert!(any_failed(&ok));
        let clean = vec![Checked {
            root: root.clone(),
            kind: "oms",
            method: "OMS v1.0 signature model.sig".into(),
            outcome: Ok(report(files[..1].to_vec(), None)),
        }];
        assert_eq!(of(&clean, &root.join("a.bin")).unwrap().state, State::Verified);
        assert!(!any_failed(&clean));
        let bad = of(&ok, &root.join("sub/b.bin")).unwrap();
        assert_eq!(bad.state, State::Failed);
        assert_eq!(bad.detail, "changed sub/b.bin: sha256 differs");
        assert_eq!(of(&ok, &root.join("c.bin")).unwrap().state, State::NotChecked);
        assert_eq!(of(&ok, Path::new("/nonexistent/x.bin")), None);
        let wrong = checked(Some("wrong key"));
        let v = of(&wrong, &root.join("a.bin")).unwrap();
        assert_eq!((v.state, v.detail.as_str()), (State::Failed, "wrong key"));
    }
}
