//! The real ports: settings through the comment-preserving `config::Editor`, run history
//! from each source's store (read only), the log's tail. The UI reaches files only
//! through these.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{Config, EditError, Editor, NotifyConfig, Paths, SourceConfig};
use crate::fields::{FieldRef, Selection, stage_selection};
use crate::store::Store;
use crate::sync::run::summary_of;
use crate::tui::ports::{
    HistoryError, HistoryRun, LogError, LogTail, ObjectCount, RunHistory, SettingsChange,
    SettingsError, SettingsStore,
};
use crate::tui::sanitize;

/// [`SettingsStore`] over the configuration file. `load` keeps the file as it was read
/// as the base of the next `apply`, so an edit made on disk in between is a `Conflict`.
pub struct EditorSettings {
    path: PathBuf,
    base: Option<Editor>,
}

impl EditorSettings {
    pub fn new(config_file: impl Into<PathBuf>) -> Self {
        EditorSettings {
            path: config_file.into(),
            base: None,
        }
    }

    fn saved_config(editor: &mut Editor) -> Result<Arc<Config>, SettingsError> {
        editor.save().map_err(settings_error)?;
        editor.config().map(Arc::new).map_err(settings_error)
    }
}

fn settings_error(e: EditError) -> SettingsError {
    match e {
        EditError::Conflict { .. } => SettingsError::Conflict,
        EditError::UnknownSource(id) => SettingsError::UnknownSource(id),
        EditError::Invalid { .. } | EditError::NotATable(_) | EditError::DuplicateSource(_) => {
            SettingsError::Invalid(e.to_string())
        }
        EditError::Read { .. } | EditError::Write { .. } | EditError::NotUtf8 { .. } => {
            SettingsError::Io(e.to_string())
        }
    }
}

fn find_source(config: &Config, id: &str) -> Result<SourceConfig, SettingsError> {
    config
        .source(id)
        .cloned()
        .ok_or_else(|| SettingsError::UnknownSource(id.to_string()))
}

/// Stages only the values that differ from the file's: a key the operator did not change
/// is never written (not even its default), so the file stays as they wrote it.
fn stage_changed(
    editor: &mut Editor,
    source: &str,
    base: &SourceConfig,
    change: SettingsChange,
) -> Result<(), SettingsError> {
    let staged = (|| {
        if change.sync_enabled != base.sync_enabled {
            editor.set_sync_enabled(source, change.sync_enabled)?;
        }
        if change.frequency != base.frequency {
            editor.set_frequency(source, change.frequency)?;
        }
        if change.quota_threshold_percent != base.quota_threshold_percent {
            editor.set_quota_threshold(source, change.quota_threshold_percent)?;
        }
        Ok::<_, EditError>(())
    })();
    staged.map_err(settings_error)
}

impl SettingsStore for EditorSettings {
    fn load(&mut self, source: &str) -> Result<SourceConfig, SettingsError> {
        let editor = Editor::load(&self.path).map_err(settings_error)?;
        let config = editor.config().map_err(settings_error)?;
        let found = find_source(&config, source)?;
        self.base = Some(editor);
        Ok(found)
    }

    fn notify(&mut self) -> Result<NotifyConfig, SettingsError> {
        let editor = Editor::load(&self.path).map_err(settings_error)?;
        Ok(editor.config().map_err(settings_error)?.notify)
    }

    fn apply(
        &mut self,
        source: &str,
        change: SettingsChange,
    ) -> Result<Arc<Config>, SettingsError> {
        let mut editor = match self.base.take() {
            Some(editor) => editor,
            None => Editor::load(&self.path).map_err(settings_error)?,
        };
        let result = editor
            .config()
            .map_err(settings_error)
            .and_then(|base| find_source(&base, source))
            .and_then(|base| stage_changed(&mut editor, source, &base, change))
            .and_then(|()| Self::saved_config(&mut editor));
        // A conflicting base stays stale on purpose: the caller must `load` again.
        if result.is_ok() {
            self.base = Some(editor);
        }
        result
    }

    fn save_selection(
        &mut self,
        source: &str,
        before: &Selection,
        after: &Selection,
        keep: &[FieldRef],
    ) -> Result<Arc<Config>, SettingsError> {
        // Fresh read: only the objects whose fields changed are rewritten, so edits made
        // by hand elsewhere in the file meanwhile survive.
        let mut editor = Editor::load(&self.path).map_err(settings_error)?;
        stage_selection(&mut editor, source, before, after, keep).map_err(settings_error)?;
        let config = Self::saved_config(&mut editor)?;
        self.base = None;
        Ok(config)
    }
}

/// [`RunHistory`] from the source's configured store (its SQLite file or PostgreSQL schema); a source that never ran has no runs.
pub struct StoreHistory {
    paths: Paths,
}

impl StoreHistory {
    pub fn new(paths: Paths) -> Self {
        StoreHistory { paths }
    }
}

impl RunHistory for StoreHistory {
    fn runs(&mut self, source: &str, limit: usize) -> Result<Vec<HistoryRun>, HistoryError> {
        // The source's store as configured (SQLite file or PostgreSQL schema).
        let configured = crate::config::load(&self.paths.config_file)
            .ok()
            .and_then(|c| c.source(source).cloned());
        let failed = |e: crate::store::StoreError| HistoryError(e.to_string());
        let store = match configured {
            Some(s) if Store::exists_for(&self.paths, &s) => {
                Store::open_for(&self.paths, &s).map_err(failed)?
            }
            Some(_) => return Ok(Vec::new()),
            None => {
                let path = self.paths.store_file(source);
                if !path.exists() {
                    return Ok(Vec::new());
                }
                Store::open(&path).map_err(failed)?
            }
        };
        let rows = store.recent_runs(limit).map_err(failed)?;
        let mut runs = Vec::with_capacity(rows.len());
        // A run still in progress has no finish yet; live status shows it.
        for row in rows {
            let Some(summary) = summary_of(&row) else {
                continue;
            };
            let objects = store
                .run_objects(row.id)
                .map_err(failed)?
                .into_iter()
                .map(|o| ObjectCount {
                    object: o.object,
                    upserted: o.upserted,
                    deleted: o.deleted,
                })
                .collect();
            runs.push(HistoryRun { summary, objects });
        }
        Ok(runs)
    }
}

/// How much of the log's end is read: enough for a screen of lines, bounded whatever
/// the file's size.
pub const LOG_TAIL_BYTES: u64 = 64 * 1024;

/// [`LogTail`] over `syncdeck.log`: reads at most the last [`LOG_TAIL_BYTES`] bytes.
pub struct FileLog {
    path: PathBuf,
}

impl FileLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileLog { path: path.into() }
    }
}

impl LogTail for FileLog {
    fn tail(&mut self, max_lines: usize) -> Result<Vec<String>, LogError> {
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(LogError(format!("{}: {e}", self.path.display()))),
        };
        let io = |e: std::io::Error| LogError(format!("{}: {e}", self.path.display()));
        let len = file.metadata().map_err(io)?.len();
        let start = len.saturating_sub(LOG_TAIL_BYTES);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(LOG_TAIL_BYTES)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Ok(tail_lines(&bytes, start > 0, max_lines))
    }

    fn location(&self) -> String {
        sanitize::clean(&self.path.display().to_string())
    }
}

/// The last `max_lines` lines of `bytes`, cleaned for the screen. When the read began
/// mid-file, the first (partial) line is dropped.
fn tail_lines(bytes: &[u8], cut: bool, max_lines: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if cut && !lines.is_empty() {
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(max_lines);
    lines[skip..]
        .iter()
        .map(|l| sanitize::clean(l))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Frequency;

    const FILE: &str = r#"# team config
[[source]]
id = "acme" # the main org
name = "Acme"
login_url = "http://127.0.0.1:9"
client_id = "abc"
frequency = "1h" # hourly is plenty

[source.objects.Account]
fields = ["Name"] # keep it small
"#;

    fn file() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, FILE).unwrap();
        (dir, path)
    }

    #[test]
    fn apply_writes_changed_keys_and_keeps_comments() {
        let (_dir, path) = file();
        let mut s = EditorSettings::new(&path);
        let cfg = s.load("acme").unwrap();
        let change = SettingsChange {
            sync_enabled: false,
            frequency: Frequency::M15,
            ..SettingsChange::of(&cfg)
        };
        let config = s.apply("acme", change).unwrap();
        let source = config.source("acme").unwrap();
        assert!(!source.sync_enabled);
        assert_eq!(source.frequency, Frequency::M15);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# team config"));
        assert!(text.contains("# the main org"));
        assert!(text.contains("# keep it small"));
        assert!(text.contains("sync_enabled = false"));
    }

    #[test]
    fn saving_a_changed_frequency_writes_only_that_key() {
        let (_dir, path) = file();
        let mut s = EditorSettings::new(&path);
        let cfg = s.load("acme").unwrap();
        let change = SettingsChange {
            frequency: Frequency::H6,
            ..SettingsChange::of(&cfg)
        };
        s.apply("acme", change).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            FILE.replace(r#"frequency = "1h""#, r#"frequency = "6h""#),
            "only the frequency value changes; defaults are not written"
        );
        // Round trip: the file reads back with the new value and the untouched defaults.
        let back = EditorSettings::new(&path).load("acme").unwrap();
        assert_eq!(SettingsChange::of(&back), change);
    }

    #[test]
    fn a_change_on_disk_after_load_is_a_conflict_and_nothing_is_written() {
        let (_dir, path) = file();
        let mut s = EditorSettings::new(&path);
        let cfg = s.load("acme").unwrap();
        let edited = FILE.replace("Acme", "Acme Corp");
        std::fs::write(&path, &edited).unwrap();
        let change = SettingsChange {
            sync_enabled: false,
            ..SettingsChange::of(&cfg)
        };
        assert_eq!(s.apply("acme", change), Err(SettingsError::Conflict));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
        s.load("acme").unwrap();
        assert!(s.apply("acme", change).is_ok(), "a reload rebases");
    }

    #[test]
    fn unknown_source_is_reported() {
        let (_dir, path) = file();
        let mut s = EditorSettings::new(&path);
        assert_eq!(
            s.load("nope"),
            Err(SettingsError::UnknownSource("nope".into()))
        );
    }

    #[test]
    fn save_selection_rewrites_only_changed_objects() {
        let (_dir, path) = file();
        let mut s = EditorSettings::new(&path);
        let cfg = s.load("acme").unwrap();
        let before = Selection::from_config(&cfg.objects);
        let mut after = before.clone();
        after.insert("Contact", "Email");
        let config = s.save_selection("acme", &before, &after, &[]).unwrap();
        let objects = &config.source("acme").unwrap().objects;
        assert_eq!(objects["Contact"].fields, vec!["Email".to_string()]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# keep it small"), "{text}");
    }

    #[test]
    fn history_of_a_source_that_never_ran_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = StoreHistory::new(Paths::under(dir.path()));
        assert_eq!(h.runs("acme", 10), Ok(Vec::new()));
    }

    #[test]
    fn the_log_tail_is_bounded_sanitized_and_newest_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("syncdeck.log");
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("line {i:05} ok\n"));
        }
        text.push_str("evil \u{1b}[31mred\u{7} \u{202e}bidi\n");
        std::fs::write(&path, &text).unwrap();
        let mut log = FileLog::new(&path);
        let lines = log.tail(5).unwrap();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[3], "line 19999 ok");
        assert!(
            !lines[4].contains('\u{1b}') && !lines[4].contains('\u{7}'),
            "{lines:?}"
        );
        assert!(!lines[4].contains('\u{202e}'), "{lines:?}");
        // Only the tail is read: the first lines of a big file are never returned.
        let all = log.tail(usize::MAX).unwrap();
        assert!(all.len() < 20_000 && all.len() > 1000, "{}", all.len());
        assert!(
            all[0].starts_with("line "),
            "a partial first line is dropped"
        );
        let bytes: usize = all[..all.len() - 1].iter().map(|l| l.len() + 1).sum();
        assert!(bytes as u64 <= LOG_TAIL_BYTES);
    }

    #[test]
    fn a_missing_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = FileLog::new(dir.path().join("none.log"));
        assert_eq!(log.tail(10), Ok(Vec::new()));
    }
}
