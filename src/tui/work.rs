//! Worker threads for slow work (std threads, std mpsc): previews with exact statistics, and the
//! comparison of compare mode and the safety scan. A new preview cancels the one running (its flag is checked every few
//! thousand elements); quitting drops everything, and the process exits without waiting for them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use tensorscope::checkpoint::Checkpoint;
use tensorscope::remote::Env;

use super::app::Action;
use super::preview::Preview;
use super::tensors::TensorPane;

/// The workers' channel and the cancel flag of the preview running.
pub struct Workers {
    tx: Sender<Action>,
    rx: Receiver<Action>,
    preview_cancel: Option<Arc<AtomicBool>>,
    /// How remote paths are read (the scan of a remote checkpoint, the Bench tab's twin).
    pub remote: Env,
}

impl Workers {
    /// Workers that read remote paths through `remote`.
    pub fn new(remote: Env) -> Self {
        let (tx, rx) = channel();
        Workers {
            tx,
            rx,
            preview_cancel: None,
            remote,
        }
    }

    /// Compute a preview on a new thread, cancelling the one running.
    pub fn preview(&mut self, ck: &Arc<Checkpoint>, index: usize, exact: bool) {
        if let Some(c) = self.preview_cancel.take() {
            c.store(true, Ordering::Relaxed);
        }
        let cancel = Arc::new(AtomicBool::new(false));
        self.preview_cancel = Some(cancel.clone());
        let (ck, tx) = (ck.clone(), self.tx.clone());
        std::thread::spawn(move || {
            if let Ok(p) = Preview::compute(&ck, index, exact, &cancel) {
                let _ = tx.send(Action::PreviewReady(Box::new(p)));
            }
        });
    }

    /// Build the Tensors pane of `ck` on a new thread ([`TensorPane::first`]).
    pub fn tree(&self, ck: &Arc<Checkpoint>) {
        let (ck, tx) = (ck.clone(), self.tx.clone());
        std::thread::spawn(move || {
            let _ = tx.send(Action::TreeReady(Box::new(TensorPane::of(&ck))));
        });
    }

    /// Compare `a` and `b` on a new thread.
    pub fn diff(&self, a: &Arc<Checkpoint>, b: &Arc<Checkpoint>) {
        let (a, b, tx) = (a.clone(), b.clone(), self.tx.clone());
        std::thread::spawn(move || {
            let r = tensorscope::diff::diff(&a, &b).map(Box::new).map_err(|e| e.to_string());
            let _ = tx.send(Action::DiffReady(r));
        });
    }

    /// Scan `paths` (`tensorscope scan`'s function, over the files the core lists) on a new thread.
    pub fn scan(&self, paths: Vec<std::path::PathBuf>) {
        let tx = self.tx.clone();
        let opts = tensorscope::scan::ScanOptions {
            remote: Some(self.remote.clone()),
            ..Default::default()
        };
        std::thread::spawn(move || {
            let r = tensorscope::scan::scan_paths_with(&paths, &opts).map_err(|e| e.to_string());
            let _ = tx.send(Action::ScanReady(r));
        });
    }

    /// Hash the files of `plan` and verify the model on a new thread.
    pub fn hash(&self, plan: super::hashing::Plan) {
        let tx = self.tx.clone();
        super::hashing::spawn(plan, move |m| {
            let _ = tx.send(Action::Hash(m));
        });
    }

    /// Write an export into `dir` on a new thread (a BOM hashes every file again).
    pub fn export(&self, job: super::export::Export, dir: std::path::PathBuf) {
        let (tx, remote) = (self.tx.clone(), self.remote.clone());
        std::thread::spawn(move || {
            let _ = tx.send(Action::Exported(job.write(&dir, Some(&remote))));
        });
    }

    /// Results that arrived, without blocking.
    pub fn poll(&self) -> Vec<Action> {
        self.rx.try_iter().collect()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        if let Some(c) = &self.preview_cancel {
            c.store(true, Ordering::Relaxed);
        }
    }
}
