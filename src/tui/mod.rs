//! The terminal UI: a live table of data sources, settings, reauthorization, live status
//! and run history. It only draws snapshots and sends commands (see `ports`).
//!
//! Entry point: [`run`]. Tests drive [`App`] directly with key events and render it into a
//! `TestBackend`; [`fake`] provides snapshots with every status, in-memory ports and a
//! scripted engine.
//!
//! Wiring (done by `cli::tui` and `cli::demo`, which route `tracing` to a file first,
//! never stderr):
//!
//! ```text
//! let engine = EngineLink { snapshots: engine.snapshots.clone(), commands: engine.commands.clone() };
//! let options = RunOptions { mode: Some(EngineMode::Local), ..RunOptions::default() };
//! tui::run(engine, EditorSettings::new(config_file), SnapshotHistory::new(snapshots), options).await?;
//! ```
//!
//! `SettingsStore` maps onto `config::Editor` (load = read the file as the base;
//! apply = set_sync_enabled/set_frequency/set_quota_threshold, `Conflict` when the file
//! changed meanwhile) and `RunHistory` onto the history in the engine's snapshots. After a
//! successful save the UI sends `Reload(config)`, plus `Pause`/`Resume` when Sync Data
//! flipped.
//!
//! Settings → Edit Data Sync opens the field customization screen (`fields`) at
//! `App::open_edit_data_sync`; until the engine has the org schema it shows the saved
//! selection read-only with "Loading schema…". Sync Now there saves through
//! `SettingsStore::save_selection`, then sends `Reload` and `SyncNow`.

pub mod adapters;
pub mod app;
pub mod clipboard;
pub mod fake;
pub mod fields;
pub mod format;
pub mod keymap;
pub mod ports;
pub mod sanitize;
mod screens;
pub mod settings_form;
pub mod table_view;
pub mod terminal;
pub mod theme;
pub mod widgets;

pub use app::{App, EngineMode, Flash, MenuItem, ScreenKind, WEB_FLOW_PORT};
pub use ports::{
    EngineLink, HistoryError, HistoryRun, LogError, LogTail, ObjectCount, RunHistory,
    SettingsChange, SettingsError, SettingsStore,
};
pub use screens::hints_line;
pub use terminal::TuiError;
pub use theme::Theme;

/// Options of [`run`]; `Default` picks the theme from `NO_COLOR`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub theme: Option<Theme>,
    /// Shown in the header: "local engine" or "attached to daemon pid N".
    pub mode: Option<EngineMode>,
    /// Why an attachment ended (from `remote::Attached::disconnected`), for the banner
    /// shown when the snapshots stop.
    pub disconnected: Option<tokio::sync::watch::Receiver<Option<crate::remote::Disconnect>>>,
    /// syncdeck.log, for the log pane (`L`); read through [`adapters::FileLog`].
    pub log_file: Option<std::path::PathBuf>,
}

/// Runs the TUI until the operator quits (or SIGTERM/SIGHUP), restoring the terminal on
/// every exit path including panics. Must be called inside a tokio runtime.
pub async fn run(
    engine: EngineLink,
    settings: impl SettingsStore + 'static,
    history: impl RunHistory + 'static,
    options: RunOptions,
) -> Result<(), TuiError> {
    let theme = options.theme.unwrap_or_else(Theme::from_env);
    let snapshot = engine.snapshots.borrow().clone();
    let mut app = App::new(
        snapshot,
        engine.commands.clone(),
        Box::new(settings),
        Box::new(history),
        theme,
        chrono::Utc::now(),
    );
    if let Some(mode) = options.mode {
        app = app.with_mode(mode);
    }
    if let Some(path) = options.log_file {
        app = app.with_log(Box::new(adapters::FileLog::new(path)));
    }
    terminal::run(app, engine.snapshots, options.disconnected).await
}
