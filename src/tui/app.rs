//! The TUI's one state, its actions and the pure `update` (The Elm Architecture). Nothing here draws
//! or touches the terminal, so every transition is testable.

use tensorscope::checkpoint::Checkpoint;
use tensorscope::pickle::scan::FileScan;

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
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Tensors, Tab::Files, Tab::Scan];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Tensors => "Tensors",
            Tab::Files => "Files",
            Tab::Scan => "Scan",
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

/// Everything a key can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
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

    pub fn update(&mut self, action: Action) {
        let before = self.selected_tensor();
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
                let j = if action == Action::NextTab {
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
        }
        if self.selected_tensor() != before {
            self.refresh_preview();
        }
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
