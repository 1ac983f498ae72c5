//! The TUI's state and its reaction to keys, snapshots and time. Rendering lives in
//! `screens`; this file never draws and never does I/O except through the ports.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind};
use tokio::sync::mpsc::UnboundedSender;
use tui_input::backend::crossterm::EventHandler;

use crate::config::{Frequency, SourceConfig};
use crate::fields::{FieldRef, ReadSettings, Selection};
use crate::model::OrgSchema;
use crate::model::{AuthFlow, AuthPrompt, Command, Snapshot, SourceSnapshot, Status};
use crate::tui::fields::{FieldsOutcome, FieldsScreen};
use crate::tui::keymap::{self, Action, Context};
use crate::tui::ports::{
    HistoryRun, LogTail, RunHistory, SettingsChange, SettingsError, SettingsStore,
};
use crate::tui::sanitize;
use crate::tui::settings_form::{
    Control, FormMessage, NotifySetup, SelectedObject, SettingsForm, THRESHOLD_MAX, THRESHOLD_MIN,
};
use crate::tui::table_view::{self, SortKey, TableFilter};
use crate::tui::theme::Theme;

pub use crate::model::WEB_FLOW_PORT;
const HISTORY_LIMIT: usize = 200;
/// Lines of syncdeck.log the log pane keeps.
const LOG_LINES: usize = 500;

/// Items of the actions ("three dots") menu, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuItem {
    Settings,
    SyncNow,
    PauseResume,
    Reauthorize,
    RunHistory,
    LiveStatus,
}

impl MenuItem {
    pub const ALL: [MenuItem; 6] = [
        MenuItem::Settings,
        MenuItem::SyncNow,
        MenuItem::PauseResume,
        MenuItem::Reauthorize,
        MenuItem::RunHistory,
        MenuItem::LiveStatus,
    ];
}

/// Screens and modals stacked above the Data Sources table; the last one has the keys.
#[derive(Debug)]
pub enum Screen {
    Actions {
        source: String,
        cursor: usize,
    },
    Settings(Box<SettingsForm>),
    /// Settings → Edit Data Sync while the org schema loads: the saved selection,
    /// read-only. Replaced by `Fields` as soon as a snapshot brings the schema.
    Selection {
        source: String,
        objects: Vec<SelectedObject>,
        scroll: usize,
    },
    /// Settings → Edit Data Sync: the field customization screen. It draws with `&mut`
    /// (it remembers its page size), hence the cell; the app is single-threaded.
    Fields(Box<FieldsEdit>),
    Auth {
        source: String,
        flow: AuthFlow,
    },
    /// Live status; `event` is the selected event counted from the newest (0).
    Status {
        source: String,
        event: usize,
    },
    /// The full text of one event (or error), wrapped, scrollable, copyable.
    EventText {
        title: String,
        text: String,
        scroll: usize,
        /// The last scroll that still fills the view, as the renderer last wrapped the text
        /// (it depends on the terminal's size); `usize::MAX` until the first draw.
        scroll_max: Cell<usize>,
    },
    /// syncdeck.log's last lines above the source's events; `scroll` counts lines up
    /// from the newest.
    Log {
        source: String,
        lines: Result<Vec<String>, String>,
        scroll: usize,
    },
    History {
        source: String,
        rows: Result<Vec<HistoryRun>, String>,
        scroll: usize,
    },
    Help {
        under: Context,
    },
}

/// The field customization screen of one source and what it was opened with.
pub struct FieldsEdit {
    pub(crate) source: String,
    pub(crate) screen: RefCell<FieldsScreen>,
    /// The saved selection as the screen started from (bookkeeping fields implied).
    before: Selection,
    /// Saved fields this org does not have: kept in the file, never silently dropped.
    keep: Vec<FieldRef>,
}

impl std::fmt::Debug for FieldsEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldsEdit")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Where the engine runs, shown in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineMode {
    /// This process owns the engine.
    Local,
    /// Attached to `syncdeck daemon` through its control socket.
    Attached { pid: u32 },
}

impl EngineMode {
    pub fn label(self) -> String {
        match self {
            EngineMode::Local => "local engine".to_string(),
            EngineMode::Attached { pid } => format!("attached to daemon pid {pid}"),
        }
    }
}

/// Which screen has the keyboard, for tests and the daemon-attach mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenKind {
    Sources,
    Actions,
    Settings,
    Selection,
    Fields,
    Auth,
    Status,
    EventText,
    Log,
    History,
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub is_error: bool,
}

pub struct App {
    pub(crate) snapshot: Snapshot,
    pub(crate) selected: usize,
    pub(crate) stack: Vec<Screen>,
    pub(crate) theme: Theme,
    pub(crate) now: DateTime<Utc>,
    pub(crate) flash: Option<Flash>,
    commands: UnboundedSender<Command>,
    settings: Box<dyn SettingsStore>,
    history: Box<dyn RunHistory>,
    quit: bool,
    pub(crate) mode: Option<EngineMode>,
    /// Set once the engine (or the daemon connection) is gone: why, for the banner.
    pub(crate) engine_gone: Option<String>,
    pub(crate) filter: Option<TableFilter>,
    pub(crate) sort: SortKey,
    log: Option<Box<dyn LogTail>>,
    /// Text to put on the clipboard; the event loop writes it between frames.
    clipboard: Option<String>,
}

impl App {
    pub fn new(
        snapshot: Snapshot,
        commands: UnboundedSender<Command>,
        settings: Box<dyn SettingsStore>,
        history: Box<dyn RunHistory>,
        theme: Theme,
        now: DateTime<Utc>,
    ) -> Self {
        App {
            snapshot: sanitize::snapshot(snapshot),
            selected: 0,
            stack: Vec::new(),
            theme,
            now,
            flash: None,
            commands,
            settings,
            history,
            quit: false,
            mode: None,
            engine_gone: None,
            filter: None,
            sort: SortKey::default(),
            log: None,
            clipboard: None,
        }
    }

    /// Where the log pane (`L`) reads syncdeck.log from.
    pub fn with_log(mut self, log: Box<dyn LogTail>) -> Self {
        self.set_log(log);
        self
    }

    pub fn set_log(&mut self, log: Box<dyn LogTail>) {
        self.log = Some(log);
    }

    /// The text `y` asked to copy, once: the event loop sends it to the terminal as
    /// OSC 52 between frames.
    pub fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard.take()
    }

    /// Rows of the table in display order (indices into the snapshot's sources).
    pub fn visible_sources(&self) -> Vec<usize> {
        let filter = self.filter.as_ref().map(|f| f.text()).unwrap_or("");
        table_view::visible(&self.snapshot.sources, filter, self.sort)
    }

    pub fn sort(&self) -> SortKey {
        self.sort
    }

    pub fn filter_text(&self) -> Option<&str> {
        self.filter.as_ref().map(|f| f.text())
    }

    /// Show in the header whether the engine is local or a daemon's.
    pub fn with_mode(mut self, mode: EngineMode) -> Self {
        self.mode = Some(mode);
        self
    }

    pub fn mode(&self) -> Option<EngineMode> {
        self.mode
    }

    /// The engine stopped publishing (the daemon stopped or the connection dropped).
    /// The table stays as last seen, marked stale; commands are refused with this reason.
    pub fn on_engine_gone(&mut self, reason: impl Into<String>) {
        let reason = sanitize::clean(&reason.into());
        let what = match self.mode {
            Some(EngineMode::Attached { pid }) => {
                format!("The daemon (pid {pid}) is gone: {reason}.")
            }
            _ => format!("The sync engine stopped: {reason}."),
        };
        self.engine_gone = Some(what);
    }

    pub fn engine_gone(&self) -> Option<&str> {
        self.engine_gone.as_deref()
    }

    // ---- queries -------------------------------------------------------------------

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The highlighted source; none when the filter hides every row.
    pub fn selected_source(&self) -> Option<&SourceSnapshot> {
        self.visible_sources()
            .contains(&self.selected)
            .then(|| self.snapshot.sources.get(self.selected))
            .flatten()
    }

    pub fn source(&self, id: &str) -> Option<&SourceSnapshot> {
        self.snapshot.source(id)
    }

    pub fn screen(&self) -> ScreenKind {
        match self.stack.last() {
            None => ScreenKind::Sources,
            Some(Screen::Actions { .. }) => ScreenKind::Actions,
            Some(Screen::Settings(_)) => ScreenKind::Settings,
            Some(Screen::Selection { .. }) => ScreenKind::Selection,
            Some(Screen::Fields(_)) => ScreenKind::Fields,
            Some(Screen::Auth { .. }) => ScreenKind::Auth,
            Some(Screen::Status { .. }) => ScreenKind::Status,
            Some(Screen::EventText { .. }) => ScreenKind::EventText,
            Some(Screen::Log { .. }) => ScreenKind::Log,
            Some(Screen::History { .. }) => ScreenKind::History,
            Some(Screen::Help { .. }) => ScreenKind::Help,
        }
    }

    /// The open Settings panel, wherever it is in the stack.
    pub fn settings_form(&self) -> Option<&SettingsForm> {
        self.stack.iter().rev().find_map(|s| match s {
            Screen::Settings(form) => Some(form.as_ref()),
            _ => None,
        })
    }

    pub fn flash(&self) -> Option<&Flash> {
        self.flash.as_ref()
    }

    pub fn context(&self) -> Context {
        match self.stack.last() {
            None if self.filter.as_ref().is_some_and(|f| f.editing) => Context::Filter,
            None => Context::Sources,
            Some(Screen::Actions { .. }) => Context::Actions,
            Some(Screen::Settings(form)) => form.context(),
            Some(Screen::Selection { .. }) => Context::Selection,
            Some(Screen::Fields(edit)) => edit
                .screen
                .try_borrow()
                .map(|screen| screen.context())
                .unwrap_or(Context::FieldsTree),
            Some(Screen::Auth { source, .. }) => match self.source(source).map(|s| &s.auth) {
                Some(Some(AuthPrompt::Succeeded { .. })) => Context::AuthDone,
                _ => Context::Auth,
            },
            Some(Screen::Status { .. }) => Context::Status,
            Some(Screen::EventText { .. }) => Context::EventText,
            Some(Screen::Log { .. }) => Context::Log,
            Some(Screen::History { .. }) => Context::History,
            Some(Screen::Help { .. }) => Context::Help,
        }
    }

    // ---- inputs --------------------------------------------------------------------

    /// A new engine snapshot: cleaned at this boundary, selection kept on the same source.
    /// Returns whether anything visible may have changed.
    pub fn on_snapshot(&mut self, snapshot: Snapshot) -> bool {
        if snapshot.version == self.snapshot.version && snapshot.version != 0 {
            return false;
        }
        let selected_id = self.selected_source().map(|s| s.id.clone());
        self.snapshot = sanitize::snapshot(snapshot);
        self.selected = selected_id
            .and_then(|id| self.snapshot.sources.iter().position(|s| s.id == id))
            .unwrap_or(self.selected)
            .min(self.snapshot.sources.len().saturating_sub(1));
        self.follow_schema();
        true
    }

    /// Keep the field screen in step with its source: a loading list becomes the editor
    /// once the schema arrives; an open editor takes newer schemas and the pause state.
    fn follow_schema(&mut self) {
        let Some(top) = self.stack.last() else { return };
        let (id, loading) = match top {
            Screen::Selection { source, .. } => (source.clone(), true),
            Screen::Fields(edit) => (edit.source.clone(), false),
            _ => return,
        };
        let Some(source) = self.snapshot.source(&id) else {
            return;
        };
        let (schema, paused, throughput) = (
            source.schema.clone(),
            !source.sync_enabled,
            measured_throughput(source),
        );
        let Some(schema) = schema else { return };
        if loading {
            if let Some(edit) = self.fields_edit(&id, schema, paused, throughput) {
                self.stack.pop();
                self.stack.push(Screen::Fields(Box::new(edit)));
            }
        } else if let Some(Screen::Fields(edit)) = self.stack.last_mut() {
            let screen = edit.screen.get_mut();
            screen.set_schema(schema);
            screen.set_paused(paused);
            screen.set_throughput(throughput);
        }
    }

    /// The clock moved on. Returns whether the screen shows something that changed: minute
    /// resolution for relative times, second resolution while a countdown is visible.
    pub fn tick(&mut self, now: DateTime<Utc>) -> bool {
        let step = if self.shows_countdown() { 1 } else { 60 };
        let changed = self.now.timestamp().div_euclid(step) != now.timestamp().div_euclid(step);
        self.now = now;
        changed | self.refresh_log()
    }

    fn shows_countdown(&self) -> bool {
        self.stack.iter().any(|s| match s {
            Screen::Auth { source, .. } => matches!(
                self.source(source).and_then(|s| s.auth.as_ref()),
                Some(AuthPrompt::Device { .. })
            ),
            _ => false,
        })
    }

    /// Any terminal event. Returns whether a redraw is needed.
    pub fn handle_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Key(key) => {
                self.handle_key(*key);
                true
            }
            Event::Resize(_, _) => true,
            _ => false,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        self.flash = None;
        if let Some(Screen::Fields(edit)) = self.stack.last_mut() {
            let outcome = edit.screen.get_mut().handle_key(key);
            return self.on_fields_outcome(outcome);
        }
        let ctx = self.context();
        let action = keymap::resolve(ctx, &key);
        if ctx == Context::Filter && action.is_none() {
            if let Some(filter) = self.filter.as_mut() {
                filter.input.handle_event(&Event::Key(key));
            }
            return self.keep_selection_visible();
        }
        if ctx == Context::TextInput && action.is_none() {
            return self.type_threshold(key);
        }
        let Some(action) = action else { return };
        match action {
            // A second quit at the discard prompt is an explicit "quit without saving".
            Action::Quit if ctx == Context::ConfirmDiscard => self.quit = true,
            Action::Quit => self.request_quit(),
            Action::Help => self.stack.push(Screen::Help { under: ctx }),
            _ => self.dispatch(action),
        }
    }

    /// A key the threshold input does not bind: typed when it is a digit that fits,
    /// refused with a hint when it is another character, ignored when it is a Ctrl or
    /// Alt chord (Ctrl-S/Ctrl-Q are flow control, never text).
    fn type_threshold(&mut self, key: KeyEvent) {
        if keymap::is_chord(&key) {
            return;
        }
        let Some(Screen::Settings(form)) = self.stack.last_mut() else {
            return;
        };
        let refused = match key.code {
            KeyCode::Char(c) => !form.accepts_threshold_char(c),
            _ => false,
        };
        if refused {
            let ctx = Context::TextInput;
            return self.flash_info(format!(
                "The threshold takes digits only ({THRESHOLD_MIN} to {THRESHOLD_MAX}); {} moves on, {} reverts it.",
                keymap::keys(ctx, Action::NextControl),
                keymap::keys(ctx, Action::Back)
            ));
        }
        form.threshold.handle_event(&Event::Key(key));
        form.message = None;
    }

    fn request_quit(&mut self) {
        for screen in self.stack.iter_mut().rev() {
            if let Screen::Settings(form) = screen {
                if form.is_dirty() {
                    // Bring the panel back to the top so the prompt is what the user sees.
                    form.confirm_discard = true;
                    form.quit_after_discard = true;
                    while !matches!(self.stack.last(), Some(Screen::Settings(_))) {
                        self.stack.pop();
                    }
                    return;
                }
            }
        }
        self.quit = true;
    }

    fn dispatch(&mut self, action: Action) {
        match self.screen() {
            ScreenKind::Sources => self.on_sources(action),
            ScreenKind::Actions => self.on_actions(action),
            ScreenKind::Settings => self.on_settings(action),
            ScreenKind::Auth => self.on_auth(action),
            ScreenKind::Status => self.on_status(action),
            ScreenKind::EventText => self.on_event_text(action),
            ScreenKind::Log => self.on_log(action),
            ScreenKind::History | ScreenKind::Selection => self.on_list(action),
            ScreenKind::Fields => {}
            ScreenKind::Help => {
                if action == Action::Back {
                    self.stack.pop();
                }
            }
        }
    }

    // ---- Data Sources table --------------------------------------------------------

    /// Moves among the rows shown (filtered and sorted), never onto a hidden source.
    fn move_selection(&mut self, action: Action) {
        let rows = self.visible_sources();
        let Some(last) = rows.len().checked_sub(1) else {
            return;
        };
        let at = rows.iter().position(|i| *i == self.selected).unwrap_or(0);
        let to = match action {
            Action::Up => at.saturating_sub(1),
            Action::Down => (at + 1).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => at,
        };
        self.selected = rows[to];
    }

    /// After the rows changed (filter typed, sort changed): the highlight moves to the
    /// first row shown when its source is no longer shown.
    fn keep_selection_visible(&mut self) {
        let rows = self.visible_sources();
        if !rows.contains(&self.selected)
            && let Some(first) = rows.first()
        {
            self.selected = *first;
        }
    }

    fn on_filter(&mut self, action: Action) {
        match action {
            Action::Up | Action::Down => self.move_selection(action),
            Action::Confirm => {
                if let Some(filter) = self.filter.as_mut() {
                    filter.editing = false;
                }
                if self.filter_text().is_some_and(|t| t.trim().is_empty()) {
                    self.filter = None;
                }
            }
            Action::Back => self.filter = None,
            _ => {}
        }
    }

    fn on_sources(&mut self, action: Action) {
        if self.context() == Context::Filter {
            return self.on_filter(action);
        }
        match action {
            Action::Up | Action::Down | Action::Top | Action::Bottom => self.move_selection(action),
            Action::Filter => {
                let input = self.filter.take().map(|f| f.input).unwrap_or_default();
                self.filter = Some(TableFilter {
                    input,
                    editing: true,
                });
            }
            Action::Back => self.filter = None,
            Action::CycleSort => {
                self.sort = self.sort.next();
                self.flash_info(format!("Sorted by {}", self.sort.label()));
            }
            Action::Copy => self.copy_source_error(),
            Action::OpenActions => {
                if let Some(id) = self.selected_id() {
                    self.stack.push(Screen::Actions {
                        source: id,
                        cursor: 0,
                    });
                }
            }
            other => {
                if let Some(id) = self.selected_id() {
                    self.source_action(&id, other);
                }
            }
        }
    }

    fn selected_id(&self) -> Option<String> {
        self.selected_source().map(|s| s.id.clone())
    }

    /// The per-source actions shared by the table, the actions menu and live status.
    fn source_action(&mut self, id: &str, action: Action) {
        match action {
            Action::OpenSettings => self.open_settings(id),
            Action::SyncNow => self.sync_now(id),
            Action::PauseResume => self.pause_resume(id),
            Action::Reauthorize => self.start_auth(id, AuthFlow::Device),
            Action::OpenHistory => self.open_history(id),
            Action::OpenStatus => self.stack.push(Screen::Status {
                source: id.into(),
                event: 0,
            }),
            Action::EditDataSync => self.open_edit_data_sync(id),
            Action::OpenLog => self.open_log(id),
            _ => {}
        }
    }

    fn send(&mut self, command: Command) -> bool {
        if self.engine_gone.is_some() || self.commands.send(command).is_err() {
            let text = match self.mode {
                Some(EngineMode::Attached { .. }) => format!(
                    "The daemon is gone; press {}, then syncdeck offers to start a local engine.",
                    keymap::keys(self.context(), Action::Quit)
                ),
                _ => "The sync engine has stopped; restart syncdeck to continue.".to_string(),
            };
            self.flash_error(text);
            return false;
        }
        true
    }

    fn flash_info(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            is_error: false,
        });
    }

    fn flash_error(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            is_error: true,
        });
    }

    fn name_of(&self, id: &str) -> String {
        self.source(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    fn sync_now(&mut self, id: &str) {
        if self.source(id).is_some_and(|s| !s.sync_enabled) {
            let ctx = Context::Sources;
            return self.flash_error(format!(
                "{} is paused (Sync Data off), so nothing syncs; press {} to resume it, then {}",
                self.name_of(id),
                keymap::keys(ctx, Action::PauseResume),
                keymap::keys(ctx, Action::SyncNow)
            ));
        }
        let command = Command::SyncNow {
            source: id.into(),
            full: false,
        };
        if self.send(command) {
            self.flash_info(format!("Sync requested for {}", self.name_of(id)));
        }
    }

    /// Pause/Resume is the Sync Data toggle: written to the config so it survives a restart.
    fn pause_resume(&mut self, id: &str) {
        let enabled = self.source(id).map(|s| s.sync_enabled).unwrap_or(true);
        let base = match self.settings.load(id) {
            Ok(cfg) => SettingsChange::of(&cfg),
            Err(e) => return self.flash_error(settings_error_text(&e)),
        };
        let change = SettingsChange {
            sync_enabled: !enabled,
            ..base
        };
        match self.settings.apply(id, change) {
            Ok(config) => {
                self.send_saved(id, config, Some(change.sync_enabled));
                let verb = if change.sync_enabled {
                    "Resumed"
                } else {
                    "Paused"
                };
                self.flash_info(format!("{verb} {}", self.name_of(id)));
            }
            Err(e) => self.flash_error(settings_error_text(&e)),
        }
    }

    /// After a successful write: Reload, plus Pause/Resume when Sync Data flipped so the
    /// worker reacts at once whatever Reload diffs.
    fn send_saved(
        &mut self,
        id: &str,
        config: std::sync::Arc<crate::config::Config>,
        sync_flipped_to: Option<bool>,
    ) {
        self.send(Command::Reload(config));
        match sync_flipped_to {
            Some(true) => self.send(Command::Resume { source: id.into() }),
            Some(false) => self.send(Command::Pause { source: id.into() }),
            None => true,
        };
    }

    fn open_history(&mut self, id: &str) {
        let rows = self
            .history
            .runs(id, HISTORY_LIMIT)
            .map(|mut rows| {
                for run in &mut rows {
                    sanitize::run_summary(&mut run.summary);
                    for o in &mut run.objects {
                        o.object = sanitize::clean(&o.object);
                    }
                }
                rows
            })
            .map_err(|e| sanitize::clean(&e.to_string()));
        self.stack.push(Screen::History {
            source: id.into(),
            rows,
            scroll: 0,
        });
    }

    // ---- actions menu --------------------------------------------------------------

    fn on_actions(&mut self, action: Action) {
        let Some(Screen::Actions { source, cursor }) = self.stack.last_mut() else {
            return;
        };
        let id = source.clone();
        let item = match action {
            Action::Up => {
                *cursor = cursor.saturating_sub(1);
                return;
            }
            Action::Down => {
                *cursor = (*cursor + 1).min(MenuItem::ALL.len() - 1);
                return;
            }
            Action::Back => {
                self.stack.pop();
                return;
            }
            Action::Confirm => MenuItem::ALL[(*cursor).min(MenuItem::ALL.len() - 1)],
            Action::OpenSettings => MenuItem::Settings,
            Action::SyncNow => MenuItem::SyncNow,
            Action::PauseResume => MenuItem::PauseResume,
            Action::Reauthorize => MenuItem::Reauthorize,
            Action::OpenHistory => MenuItem::RunHistory,
            Action::OpenStatus => MenuItem::LiveStatus,
            _ => return,
        };
        self.stack.pop();
        let action = match item {
            MenuItem::Settings => Action::OpenSettings,
            MenuItem::SyncNow => Action::SyncNow,
            MenuItem::PauseResume => Action::PauseResume,
            MenuItem::Reauthorize => Action::Reauthorize,
            MenuItem::RunHistory => Action::OpenHistory,
            MenuItem::LiveStatus => Action::OpenStatus,
        };
        self.source_action(&id, action);
    }

    // ---- settings panel ------------------------------------------------------------

    fn open_settings(&mut self, id: &str) {
        let (saved, selection, message) = match self.settings.load(id) {
            Ok(cfg) => (SettingsChange::of(&cfg), selection_of(&cfg), None),
            Err(e) => {
                // Show what the engine reports so the panel still explains the source.
                let fallback = self.source(id).map(|s| SettingsChange {
                    sync_enabled: s.sync_enabled,
                    frequency: s.frequency,
                    quota_threshold_percent: s.quota_threshold_percent,
                });
                let Some(fallback) = fallback else { return };
                let message = FormMessage {
                    text: settings_error_text(&e),
                    is_error: true,
                };
                (fallback, Vec::new(), Some(message))
            }
        };
        let mut form = SettingsForm::new(id.into(), saved, selection);
        form.message = message;
        form.notify = Some(match self.settings.notify() {
            Ok(config) => NotifySetup::of(&config),
            Err(e) => NotifySetup::Unreadable(settings_error_text(&e)),
        });
        self.stack.push(Screen::Settings(Box::new(form)));
    }

    fn form_mut(&mut self) -> Option<&mut SettingsForm> {
        match self.stack.last_mut() {
            Some(Screen::Settings(form)) => Some(form),
            _ => None,
        }
    }

    fn on_settings(&mut self, action: Action) {
        let Some(form) = self.form_mut() else { return };
        match form.context() {
            Context::ConfirmDiscard => match action {
                Action::Discard => {
                    let quit = form.quit_after_discard;
                    self.stack.pop();
                    if quit {
                        self.quit = true;
                    }
                }
                Action::KeepEditing => {
                    form.confirm_discard = false;
                    form.quit_after_discard = false;
                }
                Action::Save => {
                    form.confirm_discard = false;
                    self.save_settings();
                }
                _ => {}
            },
            Context::Dropdown => match action {
                Action::Up => form.move_dropdown(false),
                Action::Down => form.move_dropdown(true),
                Action::Confirm => form.choose_dropdown(),
                Action::Back => form.dropdown = None,
                _ => {}
            },
            _ => match action {
                Action::NextControl => form.focus_next(),
                Action::PrevControl => form.focus_prev(),
                // esc in a changed control reverts that control only; in an unchanged
                // one it closes the panel (asking first when other edits are unsaved).
                Action::Back if form.focused_is_changed() => {
                    form.revert_focused();
                    form.message = None;
                }
                Action::Back => {
                    if form.is_dirty() {
                        form.confirm_discard = true;
                    } else {
                        self.stack.pop();
                    }
                }
                Action::Save => self.save_settings(),
                Action::TestNotification => {
                    let source = form.source.clone();
                    if self.send(Command::TestNotification { source }) {
                        self.flash_info(format!(
                            "Test notification requested: the answer appears in Live status ({}) and the log pane ({}).",
                            keymap::keys(Context::Sources, Action::OpenStatus),
                            keymap::keys(Context::Sources, Action::OpenLog)
                        ));
                    }
                }
                Action::Toggle | Action::Confirm => self.press_focused(action),
                _ => {}
            },
        }
    }

    /// The Cancel button: close, asking first when anything is unsaved.
    fn cancel_settings(&mut self) {
        let Some(form) = self.form_mut() else { return };
        if form.is_dirty() {
            form.confirm_discard = true;
        } else {
            self.stack.pop();
        }
    }

    fn press_focused(&mut self, action: Action) {
        let Some(form) = self.form_mut() else { return };
        match form.focus {
            Control::Reauthorize => {
                let id = form.source.clone();
                self.start_auth(&id, AuthFlow::Device);
            }
            Control::SyncData => form.sync_enabled = !form.sync_enabled,
            Control::Frequency => form.open_dropdown(),
            Control::Threshold => {}
            Control::EditDataSync => {
                let id = form.source.clone();
                self.open_edit_data_sync(&id);
            }
            Control::Save if action == Action::Confirm => self.save_settings(),
            Control::Cancel if action == Action::Confirm => self.cancel_settings(),
            Control::Save | Control::Cancel => {}
        }
    }

    /// Settings → Edit Data Sync: the field customization screen on the source's schema,
    /// or, until the engine has loaded it, the saved selection read-only with "Loading
    /// schema…" (the editor replaces it when the schema arrives in a snapshot).
    pub fn open_edit_data_sync(&mut self, id: &str) {
        let ready = self
            .source(id)
            .and_then(|s| Some((s.schema.clone()?, !s.sync_enabled, measured_throughput(s))));
        if let Some((schema, paused, throughput)) = ready
            && let Some(edit) = self.fields_edit(id, schema, paused, throughput)
        {
            self.stack.push(Screen::Fields(Box::new(edit)));
            return;
        }
        let objects = match self.settings_form().filter(|f| f.source == id) {
            Some(form) => form.selection.clone(),
            None => self
                .settings
                .load(id)
                .map(|cfg| selection_of(&cfg))
                .unwrap_or_default(),
        };
        self.stack.push(Screen::Selection {
            source: id.into(),
            objects,
            scroll: 0,
        });
        self.send(Command::LoadSchema {
            source: id.into(),
            force: false,
        });
    }

    /// The editor for `id` from the file's current selection; `None` (with the reason
    /// flashed) when the config cannot be read.
    fn fields_edit(
        &mut self,
        id: &str,
        schema: Arc<OrgSchema>,
        paused: bool,
        throughput: Option<f64>,
    ) -> Option<FieldsEdit> {
        let cfg = match self.settings.load(id) {
            Ok(cfg) => cfg,
            Err(e) => {
                self.flash_error(settings_error_text(&e));
                return None;
            }
        };
        let saved = Selection::from_config(&cfg.objects);
        let (present, keep) = saved.split_missing(&schema);
        let before = present.normalized(&schema);
        let screen = FieldsScreen::new(schema, before.clone(), paused, throughput)
            .with_read_settings(ReadSettings::of(&cfg))
            .with_theme(&self.theme)
            .with_source_name(&self.name_of(id));
        Some(FieldsEdit {
            source: id.into(),
            screen: RefCell::new(screen),
            before,
            keep,
        })
    }

    fn on_fields_outcome(&mut self, outcome: FieldsOutcome) {
        match outcome {
            FieldsOutcome::None => {}
            FieldsOutcome::Cancel => {
                self.stack.pop();
            }
            FieldsOutcome::Quit { unsaved: false } => self.request_quit(),
            FieldsOutcome::Quit { unsaved: true } => self.flash_error(format!(
                "Unsaved field changes: {} saves them, {} then {} discards them; then quit.",
                keymap::keys(Context::FieldsTree, Action::Save),
                keymap::keys(Context::FieldsTree, Action::Leave),
                keymap::keys(Context::FieldsDiscard, Action::Discard)
            )),
            FieldsOutcome::SyncNow(after) => self.save_selection(after, true),
            FieldsOutcome::Save(after) => self.save_selection(after, false),
            FieldsOutcome::Describe(objects) => {
                if let Some(Screen::Fields(edit)) = self.stack.last() {
                    let source = edit.source.clone();
                    self.send(Command::DescribeObjects { source, objects });
                }
            }
        }
    }

    /// Sync Now on the field screen: write the selection, Reload, then SyncNow (`w`: no
    /// SyncNow). On any error the screen stays open with the edits and the reason is shown.
    fn save_selection(&mut self, after: Selection, sync: bool) {
        let Some(Screen::Fields(edit)) = self.stack.last() else {
            return;
        };
        let id = edit.source.clone();
        let result = self
            .settings
            .save_selection(&id, &edit.before, &after, &edit.keep);
        match result {
            Ok(config) => {
                self.stack.pop();
                // A Settings panel without its own edits has nothing left to show.
                if let Some(Screen::Settings(form)) = self.stack.last()
                    && form.source == id
                    && !form.is_dirty()
                {
                    self.stack.pop();
                }
                let reloaded = self.send(Command::Reload(config));
                if !sync {
                    if reloaded {
                        self.flash_info(format!(
                            "Saved the field selection of {}; it syncs with the next run ({} syncs now)",
                            self.name_of(&id),
                            keymap::keys(Context::Sources, Action::SyncNow)
                        ));
                    }
                } else if self.send(Command::SyncNow {
                    source: id.clone(),
                    full: false,
                }) {
                    self.flash_info(format!(
                        "Saved the field selection of {}; syncing it now",
                        self.name_of(&id)
                    ));
                }
            }
            Err(SettingsError::Conflict) => self.flash_error(
                "config.toml changed on disk meanwhile; nothing was written and your selection is kept here. Press Sync Now again to save it over the new file.",
            ),
            Err(e) => self.flash_error(settings_error_text(&e)),
        }
    }

    fn save_settings(&mut self) {
        let Some(form) = self.form_mut() else { return };
        if !form.is_dirty() {
            self.stack.pop();
            return;
        }
        let change = match form.change() {
            Ok(c) => c,
            Err(text) => {
                form.message = Some(FormMessage {
                    text,
                    is_error: true,
                });
                form.focus = Control::Threshold;
                return;
            }
        };
        let id = form.source.clone();
        let flipped =
            (change.sync_enabled != form.saved.sync_enabled).then_some(change.sync_enabled);
        match self.settings.apply(&id, change) {
            Ok(config) => {
                self.stack.pop();
                self.send_saved(&id, config, flipped);
                self.flash_info(format!("Saved settings of {}", self.name_of(&id)));
            }
            Err(SettingsError::Conflict) => {
                // Re-read the file as the new base; the edits stay in the form.
                let reloaded = self.settings.load(&id);
                let Some(form) = self.form_mut() else { return };
                if let Ok(cfg) = reloaded {
                    form.rebase(SettingsChange::of(&cfg));
                }
                form.message = Some(FormMessage {
                    text: format!(
                        "config.toml was changed on disk while you edited. Your edits are kept \
                         here; press {} to save them over the new file, or {} to discard.",
                        keymap::keys(Context::Settings, Action::Save),
                        keymap::keys(Context::Settings, Action::Back)
                    ),
                    is_error: true,
                });
            }
            Err(e) => {
                let text = settings_error_text(&e);
                if let Some(form) = self.form_mut() {
                    form.message = Some(FormMessage {
                        text,
                        is_error: true,
                    });
                }
            }
        }
    }

    // ---- reauthorize ---------------------------------------------------------------

    fn start_auth(&mut self, id: &str, flow: AuthFlow) {
        if !matches!(self.stack.last(), Some(Screen::Auth { .. })) {
            self.stack.push(Screen::Auth {
                source: id.into(),
                flow,
            });
        } else if let Some(Screen::Auth { flow: f, .. }) = self.stack.last_mut() {
            *f = flow;
        }
        self.send(Command::Reauthorize {
            source: id.into(),
            flow,
        });
    }

    fn on_auth(&mut self, action: Action) {
        let Some(Screen::Auth { source, flow }) = self.stack.last() else {
            return;
        };
        let (id, flow) = (source.clone(), *flow);
        let prompt = self.source(&id).and_then(|s| s.auth.clone());
        let pending = !matches!(
            prompt,
            Some(AuthPrompt::Succeeded { .. } | AuthPrompt::Failed { .. })
        );
        match action {
            Action::WebFlow | Action::DeviceFlow => {
                let new_flow = if action == Action::WebFlow {
                    AuthFlow::Web {
                        port: WEB_FLOW_PORT,
                    }
                } else {
                    AuthFlow::Device
                };
                if pending {
                    self.send(Command::CancelAuth { source: id.clone() });
                }
                self.start_auth(&id, new_flow);
            }
            Action::Copy => self.copy_auth(&id),
            Action::Retry => {
                if pending {
                    self.send(Command::CancelAuth { source: id.clone() });
                }
                self.start_auth(&id, flow);
            }
            Action::Back | Action::Confirm => {
                if action == Action::Confirm && pending {
                    return;
                }
                if pending {
                    self.send(Command::CancelAuth { source: id });
                }
                self.stack.pop();
            }
            _ => {}
        }
    }

    // ---- live status, history, selection --------------------------------------------

    fn on_status(&mut self, action: Action) {
        let Some(Screen::Status { source, event }) = self.stack.last() else {
            return;
        };
        let (id, at) = (source.clone(), *event);
        let count = self.source(&id).map(|s| s.events.len()).unwrap_or(0);
        let last = count.saturating_sub(1);
        let moved = match action {
            Action::Up => Some(at.saturating_sub(1)),
            Action::Down => Some((at + 1).min(last)),
            Action::Top => Some(0),
            Action::Bottom => Some(last),
            _ => None,
        };
        if let Some(to) = moved {
            if let Some(Screen::Status { event, .. }) = self.stack.last_mut() {
                *event = to;
            }
            return;
        }
        match action {
            Action::NextSource | Action::PrevSource => {
                self.move_selection(if action == Action::NextSource {
                    Action::Down
                } else {
                    Action::Up
                });
                if let (Some(new_id), Some(Screen::Status { source, event })) =
                    (self.selected_id(), self.stack.last_mut())
                {
                    *source = new_id;
                    *event = 0;
                }
            }
            Action::Confirm => {
                if let Some(e) = self.selected_event(&id, at) {
                    let title = format!(
                        "{} · {}",
                        self.name_of(&id),
                        e.at.format("%Y-%m-%d %H:%M:%S UTC")
                    );
                    self.stack.push(Screen::EventText {
                        title,
                        text: e.message,
                        scroll: 0,
                        scroll_max: Cell::new(usize::MAX),
                    });
                }
            }
            Action::Copy => match self.selected_event(&id, at) {
                Some(e) => self.copy(e.message, "the event"),
                None => self.flash_info("No event to copy yet."),
            },
            Action::Back => {
                self.stack.pop();
            }
            Action::SyncNow => self.sync_now(&id),
            Action::OpenActions => self.stack.push(Screen::Actions {
                source: id,
                cursor: 0,
            }),
            _ => {}
        }
    }

    /// Event `at` counted from the newest.
    fn selected_event(&self, id: &str, at: usize) -> Option<crate::model::Event> {
        self.source(id)?.events.iter().rev().nth(at).cloned()
    }

    fn on_event_text(&mut self, action: Action) {
        let Some(Screen::EventText {
            text,
            scroll,
            scroll_max,
            ..
        }) = self.stack.last_mut()
        else {
            return;
        };
        // From where the view stands, so `k` moves at once after a resize or many `j`s.
        let from = (*scroll).min(scroll_max.get());
        match action {
            Action::Up => *scroll = from.saturating_sub(1),
            Action::Down => *scroll = from.saturating_add(1).min(scroll_max.get()),
            Action::Copy => {
                let text = text.clone();
                self.copy(text, "the text");
            }
            Action::Back => {
                self.stack.pop();
            }
            _ => {}
        }
    }

    // ---- log pane ------------------------------------------------------------------

    fn read_log(&mut self) -> Result<Vec<String>, String> {
        match self.log.as_mut() {
            Some(log) => log
                .tail(LOG_LINES)
                .map_err(|e| sanitize::clean(&e.to_string())),
            None => Err("No log file is connected to this view.".into()),
        }
    }

    pub fn log_location(&self) -> Option<String> {
        self.log.as_ref().map(|l| l.location())
    }

    fn open_log(&mut self, id: &str) {
        let lines = self.read_log();
        self.stack.push(Screen::Log {
            source: id.into(),
            lines,
            scroll: 0,
        });
    }

    /// Re-reads the log while its pane is open; returns whether the lines changed.
    fn refresh_log(&mut self) -> bool {
        if !self.stack.iter().any(|s| matches!(s, Screen::Log { .. })) {
            return false;
        }
        let fresh = self.read_log();
        for screen in self.stack.iter_mut() {
            if let Screen::Log { lines, .. } = screen {
                if *lines != fresh {
                    *lines = fresh;
                    return true;
                }
                return false;
            }
        }
        false
    }

    fn on_log(&mut self, action: Action) {
        if action == Action::Refresh {
            let fresh = self.read_log();
            if let Some(Screen::Log { lines, .. }) = self.stack.last_mut() {
                *lines = fresh;
            }
            return;
        }
        let Some(Screen::Log { lines, scroll, .. }) = self.stack.last_mut() else {
            return;
        };
        let last = lines
            .as_ref()
            .map(|l| l.len())
            .unwrap_or(0)
            .saturating_sub(1);
        match action {
            Action::Up => *scroll = (*scroll + 1).min(last),
            Action::Down => *scroll = scroll.saturating_sub(1),
            Action::Top => *scroll = last,
            Action::Bottom => *scroll = 0,
            Action::Back => {
                self.stack.pop();
            }
            _ => {}
        }
    }

    // ---- clipboard -----------------------------------------------------------------

    fn copy(&mut self, text: String, what: &str) {
        self.clipboard = Some(text);
        self.flash_info(format!(
            "Copied {what} to the clipboard (OSC 52; the terminal must allow it)."
        ));
    }

    fn copy_source_error(&mut self) {
        match self.selected_source().map(|s| s.status.clone()) {
            Some(Status::Error(e)) => self.copy(e.message, "the error"),
            Some(_) => self.flash_info("This source has no error to copy."),
            None => {}
        }
    }

    fn copy_auth(&mut self, id: &str) {
        match self.source(id).and_then(|s| s.auth.clone()) {
            Some(AuthPrompt::Device {
                user_code,
                verification_uri,
                ..
            }) => {
                let what = format!("the code {user_code} (open {verification_uri})");
                self.copy(user_code, &what);
            }
            Some(AuthPrompt::Web { authorize_url }) => self.copy(authorize_url, "the URL"),
            Some(AuthPrompt::Failed { message, .. }) => self.copy(message, "the error"),
            _ => self.flash_info("Nothing to copy yet."),
        }
    }

    fn on_list(&mut self, action: Action) {
        let (scroll, len) = match self.stack.last_mut() {
            Some(Screen::History { scroll, rows, .. }) => {
                (scroll, rows.as_ref().map(|r| r.len()).unwrap_or(0))
            }
            Some(Screen::Selection {
                scroll, objects, ..
            }) => (scroll, objects.len()),
            _ => return,
        };
        let last = len.saturating_sub(1);
        match action {
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::Down => *scroll = (*scroll + 1).min(last),
            Action::Top => *scroll = 0,
            Action::Bottom => *scroll = last,
            Action::Back => {
                self.stack.pop();
            }
            _ => {}
        }
    }

    // ---- drawing -------------------------------------------------------------------

    pub fn render(&self, frame: &mut Frame) {
        crate::tui::screens::render(self, frame);
    }
}

/// Records per second of the last run that measured it, for the review's time estimate.
fn measured_throughput(source: &SourceSnapshot) -> Option<f64> {
    source
        .running
        .as_ref()
        .map(|r| r.records_per_second)
        .filter(|r| *r > 0.0)
        .or_else(|| {
            let run = source.last_run.as_ref()?;
            let secs = (run.finished - run.started).num_milliseconds() as f64 / 1000.0;
            (secs > 0.0 && run.upserted > 0).then(|| run.upserted as f64 / secs)
        })
}

fn selection_of(cfg: &SourceConfig) -> Vec<SelectedObject> {
    cfg.objects
        .iter()
        .map(|(object, sel)| SelectedObject {
            object: sanitize::clean(object),
            fields: sel.fields.iter().map(|f| sanitize::clean(f)).collect(),
        })
        .collect()
}

fn settings_error_text(e: &SettingsError) -> String {
    let hint = match e {
        SettingsError::Conflict => "reopen Settings to see the file's current values",
        SettingsError::UnknownSource(_) => "check the [[source]] ids in config.toml",
        SettingsError::Invalid(_) => "correct the value and save again",
        SettingsError::Io(_) => "check the file's permissions and free space, then retry",
    };
    sanitize::clean(&format!("{e}; {hint}."))
}

/// The frequency choices in dropdown order (for renderers and tests).
pub fn frequency_choices() -> &'static [Frequency] {
    &Frequency::ALL
}
