//! The TUI's one state, its actions and the pure `update` (The Elm Architecture). Nothing here draws
//! or touches the terminal, so every transition is testable.

use std::path::PathBuf;

use tensorscope::checkpoint::Checkpoint;
use tensorscope::report::Report;
use tensorscope::scan::FileScan;

use super::bench::{BenchMsg, BenchState};
use super::preview::Preview;

/// The views selectable with Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Tensor list and the selected tensor's values.
    Tensors,
    /// Files, components, metadata and warnings.
    Files,
    /// The safety scan of every file.
    Scan,
    /// How fast the checkpoint loads, method by method.
    Bench,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Tensors, Tab::Files, Tab::Scan, Tab::Bench];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Tensors => "Tensors",
            Tab::Files => "Files",
            Tab::Scan => "Scan",
            Tab::Bench => "Bench",
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
    /// The help overlay.
    Help,
}

/// Everything a key (or the bench worker) can ask for.
#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextTab,
    PrevTab,
    Select(Tab),
    StartFilter,
    FilterInput(char),
    FilterBackspace,
    /// Keep the filter and go back to moving.
    FilterAccept,
    /// Drop the filter.
    FilterCancel,
    ToggleHelp,
    /// Show the exact statistics of the selected tensor instead of a sample.
    ExactStats,
    /// Bench view: run the benchmark (again).
    RunBench,
    /// Bench view: write the finished report as JSON.
    ExportBench,
    /// Progress or the end of a benchmark run, from the worker.
    Bench(BenchMsg),
}

/// What `update` asks the event loop to do: the side effects that keep `update` pure.
#[derive(Debug)]
pub enum Effect {
    /// Start a benchmark of this checkpoint.
    StartBench(PathBuf),
    /// Write this report.
    ExportBench(Box<Report>),
}

/// The tensor list: filter, visible rows and selection (its scroll state lives here, with the pane).
#[derive(Debug, Default)]
pub struct TensorList {
    pub filter: String,
    /// Indices into `Checkpoint::tensors` that match the filter.
    pub visible: Vec<usize>,
    /// Position in `visible`.
    pub selected: usize,
}

/// The whole state of the UI.
pub struct App {
    pub ck: Checkpoint,
    pub scan: Vec<FileScan>,
    pub tab: Tab,
    pub mode: Mode,
    pub list: TensorList,
    pub preview: Option<Preview>,
    pub bench: BenchState,
    /// Rows a page moves (set from the last drawn height).
    pub page: usize,
    pub quit: bool,
}

impl App {
    pub fn new(ck: Checkpoint, scan: Vec<FileScan>) -> App {
        let mut app = App {
            ck,
            scan,
            tab: Tab::Tensors,
            mode: Mode::Normal,
            list: TensorList::default(),
            preview: None,
            bench: BenchState::default(),
            page: 10,
            quit: false,
        };
        app.refilter();
        app
    }

    /// The tensor index under the cursor.
    pub fn selected_tensor(&self) -> Option<usize> {
        self.list.visible.get(self.list.selected).copied()
    }

    pub fn update(&mut self, action: Action) -> Option<Effect> {
        let before = self.selected_tensor();
        let mut effect = None;
        match action {
            Action::Quit => self.quit = true,
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(self.page as isize)),
            Action::PageDown => self.move_by(self.page as isize),
            Action::Top => self.list.selected = 0,
            Action::Bottom => self.list.selected = self.list.visible.len().saturating_sub(1),
            Action::NextTab | Action::PrevTab => {
                let i = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
                let n = Tab::ALL.len();
                let j = if matches!(action, Action::NextTab) {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.tab = Tab::ALL[j];
            }
            Action::Select(t) => self.tab = t,
            Action::StartFilter => {
                self.tab = Tab::Tensors;
                self.mode = Mode::Filter;
            }
            Action::FilterInput(c) => {
                self.list.filter.push(c);
                self.refilter();
            }
            Action::FilterBackspace => {
                self.list.filter.pop();
                self.refilter();
            }
            Action::FilterAccept => self.mode = Mode::Normal,
            Action::FilterCancel => {
                self.list.filter.clear();
                self.mode = Mode::Normal;
                self.refilter();
            }
            Action::ToggleHelp => {
                self.mode = if self.mode == Mode::Help {
                    Mode::Normal
                } else {
                    Mode::Help
                };
            }
            Action::ExactStats => {
                if let Some(i) = self.selected_tensor() {
                    self.preview = Some(Preview::compute(&self.ck, i, true));
                }
            }
            Action::RunBench => {
                if self.tab == Tab::Bench && self.bench.start() {
                    effect = Some(Effect::StartBench(self.ck.path.clone()));
                }
            }
            Action::ExportBench => {
                if self.tab == Tab::Bench {
                    effect = self.bench.report().map(|r| Effect::ExportBench(Box::new(r.clone())));
                }
            }
            Action::Bench(msg) => self.bench.apply(msg),
        }
        if self.selected_tensor() != before {
            self.refresh_preview();
        }
        effect
    }

    fn move_by(&mut self, delta: isize) {
        let n = self.list.visible.len();
        if n == 0 {
            return;
        }
        let to = (self.list.selected as isize + delta).clamp(0, n as isize - 1);
        self.list.selected = to as usize;
    }

    fn refilter(&mut self) {
        let keep = self.selected_tensor();
        let needle = self.list.filter.to_lowercase();
        self.list.visible = (0..self.ck.tensors.len())
            .filter(|&i| needle.is_empty() || self.ck.tensors[i].name.to_lowercase().contains(&needle))
            .collect();
        self.list.selected = keep
            .and_then(|k| self.list.visible.iter().position(|&i| i == k))
            .unwrap_or(0);
        self.refresh_preview();
    }

    fn refresh_preview(&mut self) {
        self.preview = self.selected_tensor().map(|i| Preview::compute(&self.ck, i, false));
    }
}
