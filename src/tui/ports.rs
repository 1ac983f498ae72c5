//! The narrow seams between the TUI and the rest of syncdeck.
//!
//! The UI never reaches the engine, the config file or the store directly: it reads
//! snapshots and sends commands through [`EngineLink`], edits settings through a
//! [`SettingsStore`] and reads past runs through a [`RunHistory`]. The in-process engine
//! and a daemon attachment both provide these, the history included (it comes in the
//! engine's snapshots).

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::config::{Config, Frequency, NotifyConfig, SourceConfig};
use crate::fields::{FieldRef, Selection};
use crate::model::{Command, Snapshot};
/// The history types are the engine's (`model`): the TUI reads them from snapshots.
pub use crate::model::{HistoryRun, ObjectCount};

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

/// Reads and writes source settings (`adapters::EditorSettings` over `config::Editor`).
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

/// Past runs of a source, newest first: in the running program, the history the engine
/// publishes in its snapshots (`adapters::SnapshotHistory`), never the store itself.
pub trait RunHistory {
    fn runs(&mut self, source: &str, limit: usize) -> Result<Vec<HistoryRun>, HistoryError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not read the log: {0}")]
pub struct LogError(pub String);

/// The last lines of syncdeck's log file, for the log pane (`adapters::FileLog` over
/// `Paths::log_file`). Implementations read a bounded tail, never the whole file.
pub trait LogTail {
    /// Up to `max_lines` of the newest lines, oldest first, without control characters.
    fn tail(&mut self, max_lines: usize) -> Result<Vec<String>, LogError>;
    /// Where the log is, for the pane's title.
    fn location(&self) -> String;
}
