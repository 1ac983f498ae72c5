//! The SQLite store: one database file per source (WAL mode, versioned migrations).
//! Column types per [`super::types`].

mod migrations;
mod reconcile;
mod slices;

use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::{Map, Value};

use super::backend::Backend;
use super::columns::{ColumnSource, PageLayout, bad_record, plan_columns};
use super::types::{self, ColumnType, quote_ident};
use super::{
    BulkCheckpoint, BulkMark, CachedSchema, Cursor, PageApplied, PageMark, PageWrite, RunId,
    RunObjectRow, RunRecord, RunRow, SliceCursor, StoreError, StoreField, UsageSample,
};
use crate::model::RecordRef;

pub use super::VerifyRecord;

#[derive(Debug, Clone)]
struct Column {
    name: String,
    field: String,
    component: Option<String>,
    /// Describe type of the field.
    sf_type: String,
    ty: ColumnType,
}

impl ColumnSource for Column {
    fn field(&self) -> &str {
        &self.field
    }
    fn component(&self) -> Option<&str> {
        self.component.as_deref()
    }
}

/// The page size of new store files, in bytes.
const PAGE_SIZE: i64 = 16 * 1024;

pub struct SqliteStore {
    conn: Connection,
    /// Test hook: fail `apply_page` after this many upserts (see [`Backend::fail_page_after`]).
    fail_after: Cell<Option<usize>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.conn.path())
            .finish()
    }
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path` and migrate it.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::config::private::create_private_dir_all(dir).map_err(|source| {
                StoreError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                }
            })?;
        }
        crate::config::private::create_private_file(path).map_err(|source| {
            StoreError::CreateFile {
                path: path.to_path_buf(),
                source,
            }
        })?;
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        // Only a new, empty file takes a page size (existing stores keep theirs). Rows of
        // synced objects are wide and written in bulk: 16 KiB pages need a quarter of the
        // write calls of the 4 KiB default, which made a 200 000-row first sync 20 % faster.
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        SqliteStore::init(conn)
    }

    /// A private in-memory store, for tests.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<SqliteStore, StoreError> {
        // WAL + NORMAL: a killed process never loses a committed page; a power cut may lose
        // the last pages, and the cursor (committed with them) rewinds consistently.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        Ok(SqliteStore {
            conn,
            fail_after: Cell::new(None),
        })
    }

    fn has_table(&self, object: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [table_name(object)],
            |r| r.get(0),
        )?)
    }

    fn columns(&self, object: &str) -> Result<Vec<Column>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT column_name, field, component, sf_type, column_type FROM object_columns WHERE object = ?1 ORDER BY rowid",
        )?;
        let cols = stmt
            .query_map([object], |r| {
                Ok(Column {
                    name: r.get(0)?,
                    field: r.get(1)?,
                    component: r.get(2)?,
                    sf_type: r.get(3)?,
                    ty: ColumnType::parse(&r.get::<_, String>(4)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(cols)
    }

    /// A page, its cursor and its Bulk mark in one transaction.
    fn write_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        mark: Option<PageMark<'_>>,
    ) -> Result<PageApplied, StoreError> {
        let columns = self.columns(object)?;
        if columns.is_empty() && !self.has_table(object)? {
            return Err(StoreError::UnknownObject(object.to_string()));
        }
        let table = quote_ident(&table_name(object));
        let fail_after = self.fail_after.get();
        let tx = self.conn.transaction()?;
        let mut applied = PageApplied::default();
        {
            // Rows of a page nearly always carry the same columns: build and look up the
            // statement once per shape (the columns present), not once per row.
            let mut current: Option<(Vec<usize>, rusqlite::CachedStatement<'_>)> = None;
            let mut shape = Vec::with_capacity(columns.len());
            let mut values = Vec::with_capacity(columns.len() + 1);
            let layout = PageLayout::new(page.upserts, &columns);
            for (i, record) in page.upserts.iter().enumerate() {
                if fail_after == Some(i) {
                    return Err(StoreError::Injected);
                }
                row_values(&layout, object, record, &columns, &mut shape, &mut values)?;
                if current.as_ref().is_none_or(|(s, _)| *s != shape) {
                    let names = shape.iter().map(|&c| columns[c].name.as_str());
                    let stmt = tx.prepare_cached(&upsert_sql(&table, names))?;
                    current = Some((shape.clone(), stmt));
                }
                if let Some((_, stmt)) = current.as_mut() {
                    stmt.execute(params_from_iter(values.iter()))?;
                }
                applied.upserted += 1;
            }
        }
        if fail_after == Some(page.upserts.len()) {
            return Err(StoreError::Injected);
        }
        {
            let mut delete =
                tx.prepare_cached(&format!("DELETE FROM {table} WHERE \"Id\" = ?1"))?;
            for id in page.deletes {
                applied.deleted += delete.execute([id])? as u64;
            }
        }
        if let Some(cursor) = page.cursor {
            write_cursor(&tx, object, cursor)?;
        }
        match mark {
            Some(PageMark::Slice(slice)) => slices::write(&tx, object, slice)?,
            Some(PageMark::Bulk(bulk)) => write_bulk_mark(&tx, object, bulk)?,
            None => {}
        }
        tx.commit()?;
        Ok(applied)
    }
}

/// How many migrations this build knows.
pub(crate) fn latest_schema_version() -> i64 {
    migrations::latest()
}

impl Backend for SqliteStore {
    fn describe(&self) -> String {
        format!("SQLite file {}", self.conn.path().unwrap_or("(in memory)"))
    }

    fn schema_version(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Create the object's table, or add columns for newly selected fields. Columns of
    /// fields no longer selected are kept (see the module docs).
    fn ensure_object_table(
        &mut self,
        object: &str,
        fields: &[StoreField],
    ) -> Result<(), StoreError> {
        let wanted: Vec<Column> = plan_columns(object, fields)?
            .into_iter()
            .map(|c| Column {
                ty: match &c.component {
                    Some(component) => types::component_type(component),
                    None => types::column_type(&c.sf_type),
                },
                name: c.name,
                field: c.field,
                component: c.component,
                sf_type: c.sf_type,
            })
            .collect();
        let table = quote_ident(&table_name(object));
        let tx = self.conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [table_name(object)],
            |r| r.get(0),
        )?;
        if !exists {
            tx.execute_batch(&format!(
                "CREATE TABLE {table} (\"Id\" TEXT PRIMARY KEY NOT NULL)"
            ))?;
        }
        let existing: Vec<String> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT name FROM pragma_table_info({})",
                sql_string(&table_name(object))
            ))?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        for col in &wanted {
            if !existing.contains(&col.name) {
                tx.execute_batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN {} {}",
                    quote_ident(&col.name),
                    col.ty.sql()
                ))?;
            }
            tx.execute(
                "INSERT INTO object_columns (object, column_name, field, component, sf_type, column_type)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (object, column_name) DO UPDATE SET
                   field = excluded.field, component = excluded.component,
                   sf_type = excluded.sf_type, column_type = excluded.column_type",
                params![object, col.name, col.field, col.component, col.sf_type, col.ty.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Upsert `page.upserts`, delete `page.deletes` and store `page.cursor`, all in one
    /// transaction: on any error nothing of the page is visible and the cursor is unchanged.
    fn apply_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
    ) -> Result<PageApplied, StoreError> {
        self.write_page(object, page, None)
    }

    fn slice_cursors(&mut self, object: &str) -> Result<Vec<SliceCursor>, StoreError> {
        slices::read(&self.conn, object)
    }

    fn put_slice_cursors(
        &mut self,
        object: &str,
        slices: &[SliceCursor],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        slices::replace(&tx, object, slices)?;
        tx.commit()?;
        Ok(())
    }

    fn apply_slice_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        slice: &SliceCursor,
    ) -> Result<PageApplied, StoreError> {
        self.write_page(object, page, Some(PageMark::Slice(slice)))
    }

    fn finish_slices(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        slices::replace(&tx, object, &[])?;
        write_cursor(&tx, object, cursor)?;
        tx.commit()?;
        Ok(())
    }

    fn apply_bulk_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        mark: BulkMark<'_>,
    ) -> Result<PageApplied, StoreError> {
        self.write_page(object, page, Some(PageMark::Bulk(mark)))
    }

    fn bulk_checkpoint(&mut self, object: &str) -> Result<Option<BulkCheckpoint>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT job_id, locator, rows_done, job_started, field_set FROM bulk_checkpoints WHERE object = ?1",
                [object],
                |r| {
                    Ok(BulkCheckpoint {
                        job_id: r.get(0)?,
                        locator: r.get(1)?,
                        rows_done: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                        job_started: r.get(3)?,
                        field_set: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn clear_bulk_checkpoint(&mut self, object: &str) -> Result<(), StoreError> {
        write_bulk_mark(&self.conn, object, BulkMark::Clear)
    }

    /// Test hook: make the next `apply_page` calls fail after `upserts` records were
    /// written inside the transaction (`None` disables). Proves pages are atomic.
    fn fail_page_after(&mut self, upserts: Option<usize>) {
        self.fail_after.set(upserts);
    }

    fn cursor(&mut self, object: &str) -> Result<Option<Cursor>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT system_modstamp, last_id, field_set_hash, full_sync_done FROM cursors WHERE object = ?1",
                [object],
                |r| {
                    Ok(Cursor {
                        system_modstamp: r.get(0)?,
                        last_id: r.get(1)?,
                        field_set_hash: r.get(2)?,
                        full_sync_done: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn set_cursor(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError> {
        write_cursor(&self.conn, object, cursor)
    }

    /// Forget where sync was, so the next run re-reads the object from the start.
    fn reset_cursor(&mut self, object: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM cursors WHERE object = ?1", [object])?;
        Ok(())
    }

    fn begin_run(&mut self, kind: &str, started: DateTime<Utc>) -> Result<RunId, StoreError> {
        self.conn.execute(
            "INSERT INTO runs (kind, started) VALUES (?1, ?2)",
            params![kind, ts(started)],
        )?;
        Ok(RunId(self.conn.last_insert_rowid()))
    }

    fn finish_run(&mut self, id: RunId, run: &RunRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET finished = ?2, outcome = ?3, upserted = ?4, deleted = ?5, api_calls = ?6, error = ?7
             WHERE id = ?1",
            params![
                id.0,
                ts(run.finished),
                run.outcome,
                run.upserted as i64,
                run.deleted as i64,
                run.api_calls as i64,
                run.error
            ],
        )?;
        Ok(())
    }

    /// What run `id` did to `object` (recorded when the object's sync ends).
    fn record_run_object(
        &mut self,
        id: RunId,
        object: &str,
        upserted: u64,
        deleted: u64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO run_objects (run_id, object, upserted, deleted)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                id.0,
                object,
                i64::try_from(upserted).unwrap_or(i64::MAX),
                i64::try_from(deleted).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(())
    }

    /// Per-object counts of run `id`, by object name.
    fn run_objects(&mut self, id: RunId) -> Result<Vec<RunObjectRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT object, upserted, deleted FROM run_objects WHERE run_id = ?1 ORDER BY object",
        )?;
        let rows = stmt
            .query_map([id.0], |r| {
                Ok(RunObjectRow {
                    object: r.get(0)?,
                    upserted: r.get::<_, i64>(1)?.max(0) as u64,
                    deleted: r.get::<_, i64>(2)?.max(0) as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Newest first.
    fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, started, finished, outcome, upserted, deleted, api_calls, error
             FROM runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(RunRow {
                    id: RunId(r.get(0)?),
                    kind: r.get(1)?,
                    started: parse_ts(&r.get::<_, String>(2)?),
                    finished: r.get::<_, Option<String>>(3)?.map(|s| parse_ts(&s)),
                    outcome: r.get(4)?,
                    upserted: r.get::<_, i64>(5)? as u64,
                    deleted: r.get::<_, i64>(6)? as u64,
                    api_calls: r.get::<_, i64>(7)? as u64,
                    error: r.get(8)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn record_usage(&mut self, at: DateTime<Utc>, used: u64, max: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO api_usage (at, used, max) VALUES (?1, ?2, ?3)",
            params![ts(at), used as i64, max as i64],
        )?;
        Ok(())
    }

    /// Samples at or after `since`, oldest first.
    fn usage_since(&mut self, since: DateTime<Utc>) -> Result<Vec<UsageSample>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, used, max FROM api_usage WHERE at >= ?1 ORDER BY at, rowid")?;
        let rows = stmt
            .query_map([ts(since)], |r| {
                Ok(UsageSample {
                    at: parse_ts(&r.get::<_, String>(0)?),
                    used: r.get::<_, i64>(1)? as u64,
                    max: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Drop samples older than `before`; returns how many went.
    fn prune_usage(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM api_usage WHERE at < ?1", [ts(before)])?)
    }

    fn put_schema(
        &mut self,
        object: &str,
        json: &str,
        fetched_at: DateTime<Utc>,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO schema_cache (object, json, fetched_at, etag, last_modified) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (object) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at,
               etag = excluded.etag, last_modified = excluded.last_modified",
            params![object, json, ts(fetched_at), etag, last_modified],
        )?;
        Ok(())
    }

    fn get_schema(&mut self, object: &str) -> Result<Option<CachedSchema>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT json, fetched_at, etag, last_modified FROM schema_cache WHERE object = ?1",
                [object],
                |r| {
                    Ok(CachedSchema {
                        json: r.get(0)?,
                        fetched_at: parse_ts(&r.get::<_, String>(1)?),
                        etag: r.get(2)?,
                        last_modified: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Objects that have a table, sorted.
    fn objects(&mut self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sf\\_%' ESCAPE '\\' ORDER BY name")?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.strip_prefix("sf_").map(str::to_string))
            .collect())
    }

    /// Rows in the object's table; 0 when it has none yet.
    fn row_count(&mut self, object: &str) -> Result<u64, StoreError> {
        if !self.has_table(object)? {
            return Ok(0);
        }
        let n: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM {}", quote_ident(&table_name(object))),
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Every Id in the object's table, sorted.
    fn all_ids(&mut self, object: &str) -> Result<Vec<String>, StoreError> {
        if !self.has_table(object)? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT \"Id\" FROM {} ORDER BY \"Id\"",
            quote_ident(&table_name(object))
        ))?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Up to `limit` rows ordered by Id, as column → JSON value (compound components under
    /// their column names, booleans as JSON booleans).
    fn read_rows(
        &mut self,
        object: &str,
        limit: usize,
    ) -> Result<Vec<Map<String, Value>>, StoreError> {
        if !self.has_table(object)? {
            return Ok(Vec::new());
        }
        let types: HashMap<String, ColumnType> = self
            .columns(object)?
            .into_iter()
            .map(|c| (c.name, c.ty))
            .collect();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT * FROM {} ORDER BY \"Id\" LIMIT ?1",
            quote_ident(&table_name(object))
        ))?;
        let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let rows = stmt
            .query_map([limit as i64], |r| {
                let mut map = Map::new();
                for (i, name) in names.iter().enumerate() {
                    let ty = types.get(name).copied().unwrap_or(ColumnType::Text);
                    map.insert(name.clone(), types::from_sql(r.get(i)?, ty));
                }
                Ok(map)
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn delete_log_checked(&mut self, object: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        SqliteStore::delete_log_checked(self, object)
    }

    fn apply_deletions(
        &mut self,
        object: &str,
        ids: &[String],
        covered_until: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        SqliteStore::apply_deletions(self, object, ids, covered_until)
    }

    fn ids_after(
        &mut self,
        object: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        SqliteStore::ids_after(self, object, after, limit)
    }

    fn stored_fields(&mut self, object: &str) -> Result<Vec<String>, StoreError> {
        SqliteStore::stored_fields(self, object)
    }

    fn first_run_started(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        SqliteStore::first_run_started(self)
    }

    fn record_verify(&mut self, v: &VerifyRecord) -> Result<(), StoreError> {
        SqliteStore::record_verify(self, v)
    }

    fn last_verify(&mut self) -> Result<Option<VerifyRecord>, StoreError> {
        SqliteStore::last_verify(self)
    }
}

fn table_name(object: &str) -> String {
    format!("sf_{object}")
}

/// A string literal for the few places SQLite wants one (table-valued pragma arguments).
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The Id and the values of the columns present in `record`, in column order; `shape`
/// gets the indices of those columns.
fn row_values<'r>(
    layout: &PageLayout,
    object: &str,
    record: RecordRef<'r>,
    columns: &[Column],
    shape: &mut Vec<usize>,
    values: &mut Vec<ToSqlOutput<'r>>,
) -> Result<(), StoreError> {
    shape.clear();
    values.clear();
    let id = layout.id(object, record)?;
    values.push(ToSqlOutput::Borrowed(ValueRef::Text(id.as_bytes())));
    layout.values(object, id, record, columns, |index, v| {
        let col = &columns[index];
        let sql = types::to_sql_ref(v, col.ty).map_err(|expected| {
            bad_record(
                object,
                format!("{id}: {} should be {expected}, got {v}", col.name),
            )
        })?;
        shape.push(index);
        values.push(sql);
        Ok(())
    })
}

fn upsert_sql<'n>(table: &str, columns: impl Iterator<Item = &'n str>) -> String {
    let mut cols = vec![quote_ident("Id")];
    cols.extend(columns.map(quote_ident));
    let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = cols
        .iter()
        .skip(1)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let on_conflict = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT (\"Id\") {on_conflict}",
        cols.join(", "),
        placeholders.join(", ")
    )
}

fn write_cursor(conn: &Connection, object: &str, c: &Cursor) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO cursors (object, system_modstamp, last_id, field_set_hash, full_sync_done)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (object) DO UPDATE SET system_modstamp = excluded.system_modstamp,
           last_id = excluded.last_id, field_set_hash = excluded.field_set_hash,
           full_sync_done = excluded.full_sync_done",
        params![
            object,
            c.system_modstamp,
            c.last_id,
            c.field_set_hash,
            c.full_sync_done
        ],
    )?;
    Ok(())
}

fn write_bulk_mark(conn: &Connection, object: &str, mark: BulkMark<'_>) -> Result<(), StoreError> {
    match mark {
        BulkMark::Save(c) => conn.execute(
            "INSERT INTO bulk_checkpoints (object, job_id, locator, rows_done, job_started, field_set)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (object) DO UPDATE SET job_id = excluded.job_id,
               locator = excluded.locator, rows_done = excluded.rows_done,
               job_started = excluded.job_started, field_set = excluded.field_set",
            params![
                object,
                c.job_id,
                c.locator,
                i64::try_from(c.rows_done).unwrap_or(i64::MAX),
                c.job_started,
                c.field_set
            ],
        )?,
        BulkMark::Clear => {
            conn.execute("DELETE FROM bulk_checkpoints WHERE object = ?1", [object])?
        }
    };
    Ok(())
}

/// Fixed-width UTC timestamps so text order is time order.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[cfg(test)]
mod tests;
