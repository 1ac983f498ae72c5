//! The narrow seams between the TUI and the rest of syncdeck.
//!
//! The UI never reaches the engine, the config file or the store directly: it reads
//! snapshots and sends commands through [`EngineLink`], edits settings through a
//! [`SettingsStore`] and reads past runs through a [`RunHistory`]. The in-process engine
//! and a daemon attachment can both provide these.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::config::{Config, Frequency, NotifyConfig, SourceConfig};
use crate::fields::{FieldRef, Selection};
use crate::model::{Command, RunSummary, Snapshot};

/// Where the TUI gets engine state from and sends commands to.
pub struct EngineLink {
    pub snapshots: watch::Receiver<Snapshot>,
    pub commands: mpsc::UnboundedSender<Command>,
}

/// The settings the Settings panel edits: the desired values, written as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingsChange {
    pub sync_enabled: bool,
    pub frequency: Frequency,
    pub quota_threshold_percent: u8,
}

impl SettingsChange {
    pub fn of(source: &SourceConfig) -> Self {
        SettingsChange {
            sync_enabled: source.sync_enabled,
            frequency: source.frequency,
            quota_threshold_percent: source.quota_threshold_percent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The file changed on disk since it was last loaded; nothing was written.
    #[error("the config file was changed by someone else since it was read; nothing was written")]
    Conflict,
    #[error("no source \"{0}\" in the config file")]
    UnknownSource(String),
    #[error("invalid setting: {0}")]
    Invalid(String),
    #[error("could not read or write the config file: {0}")]
    Io(String),
}

/// Reads and writes source settings (the lead wires this to `config::Editor`).
///
/// Contract: `load` reads the file as it is now and remembers it as the base; `apply`
/// writes only changed keys (comments survive) and fails with `Conflict` when the file
/// changed on disk since the last `load`, so a later `load` + `apply` can retry.
pub trait SettingsStore {
    fn load(&mut self, source: &str) -> Result<SourceConfig, SettingsError>;
    /// The `[notify]` section as the file has it now (Settings shows whether
    /// notifications are set up).
    fn notify(&mut self) -> Result<NotifyConfig, SettingsError>;
    /// On success returns the whole new configuration, which the UI sends as `Reload`.
    fn apply(&mut self, source: &str, change: SettingsChange)
    -> Result<Arc<Config>, SettingsError>;
    /// Write the field selection of `source` (Edit Data Sync → Sync Now): only objects
    /// that differ between `before` and `after` are rewritten; fields in `keep` (saved
    /// fields this org does not have) stay listed. Returns the whole new configuration.
    fn save_selection(
        &mut self,
        source: &str,
        before: &Selection,
        after: &Selection,
        keep: &[FieldRef],
    ) -> Result<Arc<Config>, SettingsError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not read the run history: {0}")]
pub struct HistoryError(pub String);

/// One object's share of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCount {
    pub object: String,
    pub upserted: u64,
    pub deleted: u64,
}

/// A finished run and what it did per object (empty for runs recorded before the store
/// kept per-object counts).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRun {
    pub summary: RunSummary,
    pub objects: Vec<ObjectCount>,
}

/// Past runs of a source, newest first (the lead wires this to the store).
pub trait RunHistory {
    fn runs(&mut self, source: &str, limit: usize) -> Result<Vec<HistoryRun>, HistoryError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not read the log: {0}")]
pub struct LogError(pub String);

/// The last lines of syncdeck's log file, for the log pane (the lead wires this to
/// `Paths::log_file`). Implementations read a bounded tail, never the whole file.
pub trait LogTail {
    /// Up to `max_lines` of the newest lines, oldest first, without control characters.
    fn tail(&mut self, max_lines: usize) -> Result<Vec<String>, LogError>;
    /// Where the log is, for the pane's title.
    fn location(&self) -> String;
}
