//! Typed, comment-preserving edits to the configuration file.
//!
//! Only the keys a change touches are rewritten (through `toml_edit`), so comments, key
//! order and sections syncdeck does not know survive. `save` validates the result, refuses
//! when the file changed on disk since it was read, and replaces the file atomically.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value, value};

use super::atomic::{existing_mode, write_atomic};
use super::model::{Config, Frequency, SourceConfig};
use super::validate::{Diagnostic, parse_str, render_diagnostics};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render_diagnostics(path, diagnostics))]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(
        "{path} changed on disk since syncdeck read it; nothing was written. Reload to see the other change, then apply yours again"
    )]
    Conflict { path: PathBuf },
    #[error(
        "`{0}` is not a table in the configuration; fix it by hand (see `syncdeck config check`)"
    )]
    NotATable(String),
    #[error("{path} is not UTF-8 text; fix or recreate it")]
    NotUtf8 { path: PathBuf },
    #[error("no source with id \"{0}\" in the configuration")]
    UnknownSource(String),
    #[error("a source with id \"{0}\" already exists; choose another id")]
    DuplicateSource(String),
    #[error("cannot write {path}: {source}; the file was left as it was")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A loaded configuration file plus pending edits.
#[derive(Debug)]
pub struct Editor {
    path: PathBuf,
    /// The bytes on disk when loaded (or last saved); `None` when the file did not exist.
    baseline: Option<Vec<u8>>,
    /// Problems the file already had when loaded (e.g. a section for another tool). They
    /// are the operator's to fix; `save` only refuses to add new ones.
    known_problems: Vec<String>,
    doc: DocumentMut,
}

const NEW_FILE_HEADER: &str = "# syncdeck configuration. `syncdeck config init --config OTHER.toml` writes a commented reference of every key.\n";

impl Editor {
    /// Read `path`, which must at least be well-formed TOML. A missing file starts an empty
    /// configuration that `save` creates (refusing if someone else created it meanwhile).
    pub fn load(path: &Path) -> Result<Editor, EditError> {
        let (baseline, text) = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes.clone()) {
                Ok(text) => (Some(bytes), text),
                Err(_) => {
                    return Err(EditError::NotUtf8 {
                        path: path.to_path_buf(),
                    });
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (None, NEW_FILE_HEADER.to_string())
            }
            Err(source) => {
                return Err(EditError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let invalid = |diagnostics| EditError::Invalid {
            path: path.to_path_buf(),
            diagnostics,
        };
        let doc = text.parse::<DocumentMut>().map_err(|_| {
            // Re-parse for the positioned syntax diagnostic.
            invalid(parse_str(&text).err().unwrap_or_default())
        })?;
        Ok(Editor {
            path: path.to_path_buf(),
            baseline,
            known_problems: problems(&text),
            doc,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration as it would be saved now. Problems the file already had when
    /// loaded (such as a section for another tool) do not prevent this.
    pub fn config(&self) -> Result<Config, EditError> {
        let text = self.doc.to_string();
        self.new_problems(&text)?;
        toml::from_str(&text)
            .map(Config::with_store_defaults)
            .map_err(|e| EditError::Invalid {
                path: self.path.clone(),
                diagnostics: vec![Diagnostic {
                    line: 1,
                    col: 1,
                    message: e.message().to_string(),
                }],
            })
    }

    fn new_problems(&self, text: &str) -> Result<(), EditError> {
        if let Err(diagnostics) = parse_str(text) {
            let new: Vec<Diagnostic> = diagnostics
                .into_iter()
                .filter(|d| !self.known_problems.contains(&d.message))
                .collect();
            if !new.is_empty() {
                return Err(EditError::Invalid {
                    path: self.path.clone(),
                    diagnostics: new,
                });
            }
        }
        Ok(())
    }

    /// The file text as it would be saved now.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    pub fn set_frequency(&mut self, source: &str, frequency: Frequency) -> Result<(), EditError> {
        set_value(
            self.source_mut(source)?,
            "frequency",
            frequency.as_str().into(),
        );
        Ok(())
    }

    pub fn set_sync_enabled(&mut self, source: &str, enabled: bool) -> Result<(), EditError> {
        set_value(self.source_mut(source)?, "sync_enabled", enabled.into());
        Ok(())
    }

    /// Out-of-range values are caught by validation in `save`.
    pub fn set_quota_threshold(&mut self, source: &str, percent: u8) -> Result<(), EditError> {
        set_value(
            self.source_mut(source)?,
            "quota_threshold_percent",
            i64::from(percent).into(),
        );
        Ok(())
    }

    /// Replace an object's field list; an empty list removes the object.
    pub fn set_object_fields(
        &mut self,
        source: &str,
        object: &str,
        fields: Vec<String>,
    ) -> Result<(), EditError> {
        if fields.is_empty() {
            return self.remove_object(source, object);
        }
        let table = self.source_mut(source)?;
        let objects = table.entry("objects").or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        // `objects = { ... }` written inline can only hold inline tables.
        let inline = objects.is_inline_table();
        let Some(objects) = objects.as_table_like_mut() else {
            return Err(EditError::NotATable(format!("{source}.objects")));
        };
        let entry = objects.entry(object).or_insert_with(|| {
            if inline {
                value(toml_edit::InlineTable::new())
            } else {
                Item::Table(Table::new())
            }
        });
        let Some(entry) = entry.as_table_like_mut() else {
            return Err(EditError::NotATable(format!("{source}.objects.{object}")));
        };
        let multiline = entry
            .get("fields")
            .and_then(Item::as_array)
            .is_some_and(|a| a.to_string().contains('\n'));
        let mut array: Array = fields.into_iter().collect();
        if multiline {
            for v in array.iter_mut() {
                v.decor_mut().set_prefix("\n    ");
            }
            array.set_trailing("\n");
            array.set_trailing_comma(true);
        }
        match entry.get_mut("fields").and_then(Item::as_value_mut) {
            Some(old) => replace_keeping_decor(old, Value::Array(array)),
            None => {
                entry.insert("fields", value(array));
            }
        }
        Ok(())
    }

    /// Stop syncing `object` for `source`; its table (and comments inside it) goes away.
    pub fn remove_object(&mut self, source: &str, object: &str) -> Result<(), EditError> {
        let table = self.source_mut(source)?;
        if let Some(objects) = table.get_mut("objects").and_then(Item::as_table_like_mut) {
            objects.remove(object);
        }
        Ok(())
    }

    /// Append a new `[[source]]` with every setting written out.
    pub fn add_source(&mut self, source: &SourceConfig) -> Result<(), EditError> {
        if self.source_index(&source.id).is_some() {
            return Err(EditError::DuplicateSource(source.id.clone()));
        }
        let mut t = Table::new();
        t.insert("id", value(&source.id));
        t.insert("name", value(&source.name));
        t.insert("kind", value("salesforce"));
        t.insert("login_url", value(&source.login_url));
        t.insert("client_id", value(&source.client_id));
        if let Some(v) = &source.api_version {
            t.insert("api_version", value(v));
        }
        t.insert("sync_enabled", value(source.sync_enabled));
        t.insert("frequency", value(source.frequency.as_str()));
        t.insert(
            "quota_threshold_percent",
            value(i64::from(source.quota_threshold_percent)),
        );
        t.insert(
            "run_quota_percent",
            value(i64::from(source.run_quota_percent)),
        );
        t.insert(
            "formula_policy",
            value(match source.formula_policy {
                super::FormulaPolicy::DailyReread => "daily-reread",
                super::FormulaPolicy::EveryRun => "every-run",
                super::FormulaPolicy::Incremental => "incremental",
            }),
        );
        if !source.objects.is_empty() {
            let mut objects = Table::new();
            objects.set_implicit(true);
            for (name, sel) in &source.objects {
                let mut o = Table::new();
                o.insert("fields", value(sel.fields.iter().collect::<Array>()));
                objects.insert(name, Item::Table(o));
            }
            t.insert("objects", Item::Table(objects));
        }
        t.decor_mut().set_prefix("\n");
        let root = self.doc.as_table_mut();
        match root
            .get_mut("source")
            .and_then(Item::as_array_of_tables_mut)
        {
            Some(sources) => sources.push(t),
            None => {
                let mut sources = ArrayOfTables::new();
                sources.push(t);
                root.insert("source", Item::ArrayOfTables(sources));
            }
        }
        Ok(())
    }

    /// Validate, check for a concurrent change, and atomically replace the file. On any
    /// error nothing is written and the pending edits are kept.
    pub fn save(&mut self) -> Result<(), EditError> {
        let text = self.doc.to_string();
        self.new_problems(&text)?;
        let on_disk = match std::fs::read(&self.path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(EditError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if on_disk != self.baseline {
            return Err(EditError::Conflict {
                path: self.path.clone(),
            });
        }
        let mode = existing_mode(&self.path).unwrap_or(0o644);
        write_atomic(&self.path, text.as_bytes(), mode).map_err(|source| EditError::Write {
            path: self.path.clone(),
            source,
        })?;
        tracing::info!(path = %self.path.display(), "configuration saved");
        self.baseline = Some(text.into_bytes());
        Ok(())
    }

    fn source_index(&self, id: &str) -> Option<usize> {
        self.doc
            .get("source")
            .and_then(Item::as_array_of_tables)?
            .iter()
            .position(|t| t.get("id").and_then(Item::as_str) == Some(id))
    }

    fn source_mut(&mut self, id: &str) -> Result<&mut Table, EditError> {
        let index = self
            .source_index(id)
            .ok_or_else(|| EditError::UnknownSource(id.to_string()))?;
        self.doc
            .get_mut("source")
            .and_then(Item::as_array_of_tables_mut)
            .and_then(|s| s.get_mut(index))
            .ok_or_else(|| EditError::UnknownSource(id.to_string()))
    }
}

/// Messages (without positions, which edits shift) of the problems in `text`.
fn problems(text: &str) -> Vec<String> {
    parse_str(text)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.message)
        .collect()
}

/// Set `key` in `table`, keeping an existing value's surrounding whitespace and comment.
fn set_value(table: &mut Table, key: &str, new: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => replace_keeping_decor(old, new),
        None => {
            table.insert(key, Item::Value(new));
        }
    }
}

fn replace_keeping_decor(old: &mut Value, mut new: Value) {
    *new.decor_mut() = old.decor().clone();
    *old = new;
}

#[cfg(test)]
mod tests;
