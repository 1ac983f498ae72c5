//! The real ports: settings through the comment-preserving `config::Editor`, run history
//! from each source's store (read only). The UI reaches files only through these.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{Config, EditError, Editor, Paths, SourceConfig};
use crate::fields::{FieldRef, Selection, stage_selection};
use crate::store::Store;
use crate::sync::RunSummary;
use crate::sync::run::summary_of;
use crate::tui::ports::{HistoryError, RunHistory, SettingsChange, SettingsError, SettingsStore};

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

impl SettingsStore for EditorSettings {
    fn load(&mut self, source: &str) -> Result<SourceConfig, SettingsError> {
        let editor = Editor::load(&self.path).map_err(settings_error)?;
        let config = editor.config().map_err(settings_error)?;
        let found = find_source(&config, source)?;
        self.base = Some(editor);
        Ok(found)
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
        let result = (|| {
            editor.set_sync_enabled(source, change.sync_enabled)?;
            editor.set_frequency(source, change.frequency)?;
            editor.set_quota_threshold(source, change.quota_threshold_percent)?;
            Ok::<_, EditError>(())
        })()
        .map_err(settings_error)
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

/// [`RunHistory`] from `paths.store_file(source)`; a source that never ran has no runs.
pub struct StoreHistory {
    paths: Paths,
}

impl StoreHistory {
    pub fn new(paths: Paths) -> Self {
        StoreHistory { paths }
    }
}

impl RunHistory for StoreHistory {
    fn runs(&mut self, source: &str, limit: usize) -> Result<Vec<RunSummary>, HistoryError> {
        let path = self.paths.store_file(source);
        if !path.exists() {
            return Ok(Vec::new());
        }
        let store = Store::open(&path).map_err(|e| HistoryError(e.to_string()))?;
        let rows = store
            .recent_runs(limit)
            .map_err(|e| HistoryError(e.to_string()))?;
        Ok(rows
            .into_iter()
            // A run still in progress has no finish yet; live status shows it.
            .filter_map(|r| summary_of(&r))
            .collect())
    }
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
}
