//! The TUI's one state, its actions and the pure `update` (The Elm Architecture). Nothing here draws
//! or touches the terminal, so every transition is testable; slow work is asked for as an [`Effect`]
//! the loop hands to a worker thread, and its result comes back as an [`Action`].

use std::path::PathBuf;
use std::sync::Arc;

use tensorscope::checkpoint::Checkpoint;
use tensorscope::diff::DiffReport;
use tensorscope::scan::ScanReport;

pub use super::action::{Action, Effect};
use super::bench::{BenchState, MAX_TUI_RUNS, Plan};
use super::input::{Edit, LineInput};
use super::preview::Preview;
pub use super::scroll::Move;
use super::scroll::Scroll;
use super::tensors::TensorPane;
use super::viewer::Viewer;

/// The views selectable with Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The module tree (or flat list) and the selected tensor or node.
    Tensors,
    /// Files, components, metadata and warnings.
    Files,
    /// The safety scan of every file.
    Scan,
    /// How fast the checkpoint loads, method by method.
    Bench,
    /// Compare mode: A against B, tensor by tensor.
    Diff,
}

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Tensors => "Tensors",
            Tab::Files => "Files",
            Tab::Scan => "Scan",
            Tab::Bench => "Bench",
            Tab::Diff => "Diff",
        }
    }
}

/// What keys mean right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Moving around.
    Normal,
    /// Typing a filter for the tensor list.
    Filter,
    /// The help overlay (keys of the current pane).
    Help,
    /// A long metadata value open whole (`v` on the Files tab).
    Value,
}

/// The preview pane: nothing, a computation under way, or its result.
#[derive(Debug, Clone)]
pub enum PreviewState {
    None,
    Computing { index: usize, exact: bool },
    Ready(Box<Preview>),
}

/// Where the safety scan is: it runs on a worker, so the first frame never waits for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanStatus {
    Running,
    Done,
    /// Why the scan could not run (one line).
    Failed(String),
}

/// Compare mode: the second checkpoint and the comparison.
pub struct Compare {
    pub b: Arc<Checkpoint>,
    /// `None` while the worker compares.
    pub report: Option<Result<Box<DiffReport>, String>>,
    pub selected: usize,
}

/// The whole state of the UI.
pub struct App {
    pub ck: Arc<Checkpoint>,
    /// Verdicts per file and the files skipped (not checkpoints), once `scan_status` is `Done`.
    pub scan: ScanReport,
    pub scan_status: ScanStatus,
    pub compare: Option<Compare>,
    pub tab: Tab,
    pub mode: Mode,
    pub tensors: TensorPane,
    /// The filter as typed: its cursor and history (the pane holds the text it matches by).
    pub filter_input: LineInput,
    pub preview: PreviewState,
    pub bench: BenchState,
    /// The Files tab's digests and verification.
    pub files: super::hashing::FilesState,
    /// The Files and Scan tabs' views.
    pub files_scroll: Scroll,
    pub scan_scroll: Scroll,
    /// The preview pane's view (back to the top for each new tensor).
    pub preview_scroll: Scroll,
    /// The help overlay's view (back to the top each time it opens).
    pub help_scroll: Scroll,
    /// The value viewer, while open.
    pub viewer: Option<Viewer>,
    /// Bytes fetched over the network since the UI started (the loop sets it).
    pub fetched: u64,
    /// A Hugging Face cache path: the repository, the revision and the ref it came by, as `inspect`
    /// prints them (read once, not on every frame).
    pub hub: Option<String>,
    /// Rows a page moves (set from the last drawn height).
    pub page: usize,
    /// A one-line message for the status bar (copied, …).
    pub note: Option<String>,
    /// The files the note says were written (empty for any other note): the status line shortens
    /// the note to its width by them, keeping the folder.
    pub wrote: Vec<std::path::PathBuf>,
    /// Where the Bench tab writes the twin; the loop removes it on quit.
    pub twin_dir: PathBuf,
    pub quit: bool,
}

impl App {
    pub fn new(ck: Checkpoint) -> App {
        let tensors = TensorPane::first(&ck);
        let hub = tensorscope::checkpoint::layout::hub_snapshot(&ck.path).map(|h| {
            let via = h.reference.map(|r| format!(" ({r})")).unwrap_or_default();
            tensorscope::text::escape(&format!("{}, revision {}{via}", h.repo, h.revision)).into_owned()
        });
        App {
            files: super::hashing::FilesState::new(&ck.path, ck.files.len(), None),
            ck: Arc::new(ck),
            scan: ScanReport::default(),
            scan_status: ScanStatus::Running,
            compare: None,
            tab: Tab::Tensors,
            mode: Mode::Normal,
            tensors,
            filter_input: LineInput::default(),
            preview: PreviewState::None,
            bench: BenchState::default(),
            files_scroll: Scroll::default(),
            scan_scroll: Scroll::default(),
            preview_scroll: Scroll::default(),
            help_scroll: Scroll::default(),
            viewer: None,
            fetched: 0,
            hub,
            page: 10,
            note: None,
            wrote: Vec::new(),
            twin_dir: std::env::temp_dir().join(format!("{}{}", super::bench::TWIN_PREFIX, std::process::id())),
            quit: false,
        }
    }

    /// What the safety scan covers: A, and B in compare mode (the verdict is the worst of both).
    pub fn scan_paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.ck.path.clone()];
        paths.extend(self.compare.as_ref().map(|c| c.b.path.clone()));
        paths
    }

    /// The tabs shown: Diff only in compare mode.
    pub fn tabs(&self) -> Vec<Tab> {
        let mut t = vec![Tab::Tensors, Tab::Files, Tab::Scan, Tab::Bench];
        if self.compare.is_some() {
            t.insert(1, Tab::Diff);
        }
        t
    }

    /// The tensor under the cursor.
    pub fn selected_tensor(&self) -> Option<usize> {
        self.tensors.selected_tensor()
    }

    /// The effect that computes the preview of the selection, if it needs one (the first call after
    /// opening, from the loop).
    pub fn preview_effect(&mut self) -> Option<Effect> {
        let index = self.selected_tensor();
        let current = match &self.preview {
            PreviewState::None => None,
            PreviewState::Computing { index, .. } => Some(*index),
            PreviewState::Ready(p) => Some(p.index),
        };
        match index {
            None => {
                self.preview = PreviewState::None;
                None
            }
            Some(i) if Some(i) == current => None,
            Some(i) => {
                self.preview_scroll = Scroll::default();
                self.preview = PreviewState::Computing { index: i, exact: false };
                Some(Effect::Preview { index: i, exact: false })
            }
        }
    }

    pub fn update(&mut self, action: Action) -> Option<Effect> {
        let mut effect = None;
        // a note stays until the next key: the hashing worker's progress does not wipe it
        if !matches!(action, Action::Hash(_)) {
            self.note = None;
            self.wrote.clear();
        }
        if self.viewer_update(&action) {
            return None;
        }
        let list_tab = self.tab == Tab::Tensors;
        if list_tab && self.mode == Mode::Normal && super::focus::follow(&mut self.tensors, &action) {
            return None;
        }
        let pane = &mut self.tensors;
        match action {
            Action::Quit => self.quit = true,
            Action::Suspend => effect = Some(Effect::Suspend),
            Action::Back | Action::CancelBench
                if self.tab == Tab::Bench
                    && self.mode == Mode::Normal
                    && self.bench.running()
                    && !self.bench.cancelling =>
            {
                self.bench.cancelling = true;
                effect = Some(Effect::CancelBench);
            }
            Action::Back | Action::CancelHash
                if self.tab == Tab::Files && self.mode == Mode::Normal && self.files.running() =>
            {
                self.files.cancel();
                self.note = Some("hashing cancelled; the digests finished are kept".into());
            }
            Action::HashFiles if self.tab == Tab::Files => {
                if self.ck.is_remote() {
                    self.note =
                        Some("remote files are not hashed here: e writes a BOM with the Hub's LFS SHA-256".into());
                } else {
                    let files: Vec<_> = self.ck.files.iter().map(|f| (f.full_path.clone(), f.bytes)).collect();
                    effect = self.files.start(&files).map(|p| Effect::Hash(Box::new(p)));
                }
            }
            Action::Hash(msg) => self.files.apply(msg),
            Action::Back => match self.mode {
                Mode::Help => self.mode = Mode::Normal,
                _ => {
                    self.mode = Mode::Normal;
                    if !pane.filter.is_empty() {
                        let ck = &self.ck;
                        pane.set_filter("", |i| &ck.tensors[i].name);
                    }
                    self.filter_input.set("");
                }
            },
            Action::Move(m) if self.mode == Mode::Help => self.help_scroll.apply(m, self.page),
            Action::Move(m) if self.tab == Tab::Diff => {
                if let Some(c) = &mut self.compare {
                    let n = c
                        .report
                        .as_ref()
                        .and_then(|r| r.as_ref().ok())
                        .map_or(0, |r| super::diff::row_count(r));
                    let page = self.page as isize;
                    let to = match m {
                        Move::Up => c.selected as isize - 1,
                        Move::Down => c.selected as isize + 1,
                        Move::PageUp => c.selected as isize - page,
                        Move::PageDown => c.selected as isize + page,
                        Move::Top => 0,
                        Move::Bottom => n as isize,
                    };
                    c.selected = to.clamp(0, (n as isize - 1).max(0)) as usize;
                }
            }
            Action::Move(m) if matches!(self.tab, Tab::Files | Tab::Scan | Tab::Bench) => {
                let scroll = match self.tab {
                    Tab::Files => &mut self.files_scroll,
                    Tab::Scan => &mut self.scan_scroll,
                    _ => &mut self.bench.view,
                };
                scroll.apply(m, self.page);
            }
            Action::Move(m) if list_tab => match m {
                Move::Up => pane.move_by(-1),
                Move::Down => pane.move_by(1),
                Move::PageUp => pane.move_by(-(self.page as isize)),
                Move::PageDown => pane.move_by(self.page as isize),
                Move::Top => pane.top(),
                Move::Bottom => pane.bottom(),
            },
            Action::Open if list_tab => pane.open_selected(),
            Action::Close if list_tab => pane.close_selected(),
            Action::OpenAll if list_tab => pane.set_all(true),
            Action::CloseAll if list_tab => pane.set_all(false),
            Action::ToggleFlat if list_tab => pane.toggle_flat(),
            Action::NextMatch if list_tab => pane.jump(true),
            Action::PrevMatch if list_tab => pane.jump(false),
            Action::ClickRow(r) if list_tab => {
                let row = pane.offset + r;
                if row < pane.rows.len() {
                    pane.selected = row;
                }
            }
            Action::NextTab | Action::PrevTab => {
                let tabs = self.tabs();
                let i = tabs.iter().position(|t| *t == self.tab).unwrap_or(0);
                let n = tabs.len();
                let j = if matches!(action, Action::NextTab) {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.tab = tabs[j];
            }
            Action::SelectTab(i) => {
                if let Some(t) = self.tabs().get(i) {
                    self.tab = *t;
                }
            }
            Action::StartFilter => {
                // `/` edits the filter kept, the cursor at its end
                self.filter_input.set(&pane.filter);
                self.tab = Tab::Tensors;
                self.mode = Mode::Filter;
            }
            Action::FilterInput(_) | Action::FilterBackspace | Action::FilterEdit(_) => {
                let e = match action {
                    Action::FilterInput(c) => Edit::Insert(c),
                    Action::FilterEdit(e) => e,
                    _ => Edit::Backspace,
                };
                self.filter_input.edit(e);
                let f = self.filter_input.text();
                if f != pane.filter {
                    let ck = &self.ck;
                    pane.set_filter(&f, |i| &ck.tensors[i].name);
                }
            }
            Action::FilterAccept => {
                self.filter_input.accept();
                self.mode = Mode::Normal;
            }
            Action::ToggleHelp => {
                self.mode = if self.mode == Mode::Help {
                    Mode::Normal
                } else {
                    self.help_scroll = Scroll::default();
                    Mode::Help
                };
            }
            Action::ExactStats if list_tab => {
                if let Some(i) = self.selected_tensor() {
                    self.preview = PreviewState::Computing { index: i, exact: true };
                    effect = Some(Effect::Preview { index: i, exact: true });
                }
            }
            Action::ScrollPreview(m) if list_tab => self.preview_scroll.apply(m, self.page),
            Action::Copy if matches!(self.tab, Tab::Tensors | Tab::Diff) => {
                let name = match self.tab {
                    Tab::Diff => self.compare.as_ref().and_then(|c| {
                        let r = c.report.as_ref()?.as_ref().ok()?;
                        super::diff::row_name(r, c.selected)
                    }),
                    _ => pane.selected_node().map(|id| match pane.tree.node(id).tensor {
                        Some(t) => self.ck.tensors[t].name.clone(),
                        None => pane.tree.path(id),
                    }),
                };
                if let Some(n) = name {
                    // a raw newline or ESC would paste as a command line or a terminal sequence
                    let shown = tensorscope::text::escape(&n).into_owned();
                    self.note = Some(if shown == n {
                        format!("copied {shown}")
                    } else {
                        format!("copied {shown} (escaped: the name holds control characters)")
                    });
                    effect = Some(Effect::Copy(shown));
                }
            }
            Action::RunBench if self.tab == Tab::Bench && self.bench.start() => {
                effect = Some(Effect::StartBench(Box::new(Plan {
                    path: self.ck.path.clone(),
                    settings: self.bench.settings.clone(),
                    twin_dir: self.twin_dir.clone(),
                })));
            }
            Action::ToggleGpu if self.tab == Tab::Bench => {
                let s = &mut self.bench.settings;
                s.gpu = Some(!s.gpu.unwrap_or(true));
            }
            Action::ToggleCold if self.tab == Tab::Bench => self.bench.settings.cold ^= true,
            Action::MoreRuns if self.tab == Tab::Bench => {
                self.bench.settings.runs = (self.bench.settings.runs + 1).min(MAX_TUI_RUNS);
            }
            Action::FewerRuns if self.tab == Tab::Bench => {
                self.bench.settings.runs = self.bench.settings.runs.saturating_sub(1).max(1);
            }
            Action::ExportBench if self.tab == Tab::Bench => {
                effect = self.bench.report().map(|r| Effect::ExportBench(Box::new(r.clone())));
            }
            Action::Export => {
                use super::export::Export;
                let scanned = || self.scan.clone();
                let job = match self.tab {
                    Tab::Tensors => Some(Export::Inspect(self.ck.clone())),
                    Tab::Files if self.scan_status == ScanStatus::Done => Some(Export::Bom(scanned())),
                    Tab::Scan if self.scan_status == ScanStatus::Done => Some(Export::Scan(scanned())),
                    Tab::Diff => self
                        .compare
                        .as_ref()
                        .and_then(|c| c.report.as_ref()?.as_ref().ok())
                        .map(|r| Export::Diff(Box::new((**r).clone()))),
                    _ => None,
                };
                match job {
                    Some(j) => {
                        self.note = Some("writing…".into());
                        effect = Some(Effect::Export(Box::new(j)));
                    }
                    None if matches!(self.tab, Tab::Files) => {
                        self.note = Some("nothing to write yet: the BOM needs the scan, still running".into());
                    }
                    None => self.note = Some("nothing to write yet: the view is still computing".into()),
                }
            }
            Action::Exported(r) => {
                self.note = Some(match r {
                    Ok(paths) => {
                        self.wrote.clone_from(&paths);
                        super::export::wrote(&paths)
                    }
                    Err(e) => format!("export failed: {}", tensorscope::text::escape(&e)),
                });
            }
            Action::Bench(msg) => self.bench.apply(msg),
            Action::TreeReady(p) => {
                let filter = std::mem::take(&mut self.tensors.filter);
                self.tensors = *p;
                // a filter typed while the tree was built applies to it
                if !filter.is_empty() {
                    let ck = &self.ck;
                    self.tensors.set_filter(&filter, |i| &ck.tensors[i].name);
                }
                effect = self.preview_effect();
            }
            Action::PreviewReady(p) => {
                let wanted = matches!(&self.preview, PreviewState::Computing { index, exact }
                    if *index == p.index && *exact == p.exact);
                if wanted {
                    self.preview = PreviewState::Ready(p);
                }
            }
            Action::ScanReady(r) => match r {
                Ok(mut r) => {
                    // the worst first: dangerous, suspicious, errors, then safe (stable: path order kept)
                    r.files.sort_by_key(|f| worst_first(f.verdict));
                    self.scan = r;
                    self.scan_status = ScanStatus::Done;
                }
                Err(e) => self.scan_status = ScanStatus::Failed(e),
            },
            Action::DiffReady(r) => {
                if let Some(c) = &mut self.compare {
                    c.report = Some(r);
                }
            }
            // keys of another tab
            _ => {}
        }
        self.tensors.scroll_to_selection(self.page);
        if effect.is_none() {
            effect = self.preview_effect();
        }
        effect
    }
}

/// The move of a text pane's view that a list action asks for.
impl App {
    /// `v` on the Files tab opens the value viewer, and while it is open the keys are its own;
    /// `true` when `action` was the viewer's (quitting and the workers' results are not).
    fn viewer_update(&mut self, action: &Action) -> bool {
        if self.mode != Mode::Value {
            if !matches!(action, Action::OpenValues) || self.tab != Tab::Files || self.mode != Mode::Normal {
                return false;
            }
            let (top, rows) = (self.files_scroll.first(), self.files_scroll.visible());
            match Viewer::on_screen(&self.ck, &self.files.drawn_values.borrow(), top, rows) {
                Some(v) => (self.viewer, self.mode) = (Some(v), Mode::Value),
                None => self.note = Some("no value here is too long for its line".into()),
            }
            return true;
        }
        let Some(v) = &mut self.viewer else { return false };
        match action {
            Action::Back | Action::OpenValues => (self.viewer, self.mode) = (None, Mode::Normal),
            Action::NextMatch | Action::PrevMatch => v.step(&self.ck, matches!(action, Action::NextMatch)),
            Action::Move(m) => v.scroll.apply(*m, self.page),
            _ => return false,
        }
        true
    }
}

/// The rank of a verdict in the Scan tab: the worst first.
pub fn worst_first(v: tensorscope::scan::Verdict) -> u8 {
    use tensorscope::scan::Verdict;
    match v {
        Verdict::Dangerous => 0,
        Verdict::Suspicious => 1,
        Verdict::Error => 2,
        Verdict::Safe => 3,
    }
}
