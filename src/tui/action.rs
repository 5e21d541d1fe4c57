//! What the UI can be asked to do ([`Action`]: keys, the mouse, workers' results) and what
//! `App::update` asks the event loop to do in turn ([`Effect`]: the side effects that keep `update`
//! pure).

use std::path::PathBuf;

use tensorscope::diff::DiffReport;
use tensorscope::report::Report;
use tensorscope::scan::ScanReport;

use super::bench::{BenchMsg, Plan};
use super::input::Edit;
use super::preview::Preview;
use super::scroll::Move;
use super::tensors::TensorPane;

/// Everything a key, the mouse or a worker can ask for.
#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    /// Ctrl-Z: stop as a shell job, the terminal handed back, until `fg`.
    Suspend,
    /// Esc: close the overlay, else clear the filter; never quits.
    Back,
    /// Up, down, a page, an end: the cursor of the tab's list, or its view.
    Move(Move),
    /// Tree: open the node (or go to its first child).
    Open,
    /// Tree: close the node (or go to its parent).
    Close,
    OpenAll,
    CloseAll,
    /// The flat list or the tree.
    ToggleFlat,
    NextMatch,
    PrevMatch,
    NextTab,
    PrevTab,
    /// The n-th tab (0-based) of those shown.
    SelectTab(usize),
    /// Mouse click on row `n` of the list (0 = first row drawn).
    ClickRow(usize),
    StartFilter,
    FilterInput(char),
    FilterBackspace,
    /// A readline key in the filter (cursor, Ctrl-U, Ctrl-W, history, …).
    FilterEdit(Edit),
    /// Keep the filter and go back to moving.
    FilterAccept,
    ToggleHelp,
    /// Files view: open the values too long for their line whole (`v`).
    OpenValues,
    /// Exact statistics of the selected tensor instead of a sample.
    ExactStats,
    /// Scroll the preview pane (J/K, Shift-↓/↑, ]/[ a page).
    ScrollPreview(Move),
    /// Copy the selected name to the clipboard (OSC 52).
    Copy,
    /// Bench view: run the benchmark (again).
    RunBench,
    /// Bench view: write the finished report.
    ExportBench,
    /// Scan or Diff view: write what the view shows (`e`).
    Export,
    /// Where an export went, or why it failed.
    Exported(Result<Vec<PathBuf>, String>),
    /// Bench view: stop the running benchmark, keeping what was measured.
    CancelBench,
    /// Files view: hash every file (SHA-256) and verify the model when it can be (`h`).
    HashFiles,
    /// Files view: stop hashing, keeping the digests finished.
    CancelHash,
    /// Progress or the end of the hashing, from the worker.
    Hash(super::hashing::HashMsg),
    /// Bench view: GPU rows on or off.
    ToggleGpu,
    /// Bench view: cold or warm page cache.
    ToggleCold,
    /// Bench view: more or fewer timed runs.
    MoreRuns,
    FewerRuns,
    /// Progress or the end of a benchmark run, from the worker.
    Bench(BenchMsg),
    /// A preview computed by the worker.
    PreviewReady(Box<Preview>),
    /// The Tensors pane, built on a worker ([`TensorPane::first`]).
    TreeReady(Box<TensorPane>),
    /// The comparison computed by the worker.
    DiffReady(Result<Box<DiffReport>, String>),
    /// The safety scan of the files, from the worker.
    ScanReady(Result<ScanReport, String>),
}

/// What `update` asks the event loop to do: the side effects that keep `update` pure.
#[derive(Debug)]
pub enum Effect {
    /// Hand the terminal back and stop (SIGTSTP); on SIGCONT take it again and redraw.
    Suspend,
    /// Compute the preview of tensor `index` (exact statistics or a sample) on a worker, cancelling
    /// the one running.
    Preview { index: usize, exact: bool },
    /// Start a benchmark (writing the twin first).
    StartBench(Box<Plan>),
    /// Write this report.
    ExportBench(Box<Report>),
    /// Write what the Scan or Diff view shows.
    Export(Box<super::export::Export>),
    /// Stop the running benchmark.
    CancelBench,
    /// Hash the files and verify the model on a worker.
    Hash(Box<super::hashing::Plan>),
    /// Put this text on the clipboard.
    Copy(String),
}
