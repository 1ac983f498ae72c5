//! The store interface on PostgreSQL: bookkeeping (cursors, runs, API usage, describe
//! cache, delete-log checkpoints, verifications) here, object tables in [`super::load`].

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql};

use super::load::{bulk_mark_sql, table, write_bulk_mark, write_cursor};
use super::{PgStore, migrations};
use crate::store::backend::Backend;
use crate::store::types::quote_ident;
use crate::store::{
    BulkCheckpoint, BulkMark, CachedSchema, Cursor, PageApplied, PageMark, PageWrite, RunId,
    RunObjectRow, RunRecord, RunRow, SliceCursor, StoreError, StoreField, UsageSample,
    VerifyRecord,
};

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgStore {
    /// `sql` with `{s}` naming the source's schema.
    fn in_schema(&self, sql: &str) -> String {
        sql.replace("{s}", &quote_ident(self.schema()))
    }

    fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let sql = self.in_schema(sql);
        let err = self.err();
        self.run(|c| async move { c.query(&sql, params).await.map_err(&err) })
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64, StoreError> {
        let sql = self.in_schema(sql);
        let err = self.err();
        self.run(|c| async move { c.execute(&sql, params).await.map_err(&err) })
    }

    fn get<'r, T: FromSql<'r>>(&self, row: &'r Row, i: usize) -> Result<T, StoreError> {
        row.try_get(i).map_err(self.err())
    }
}

/// Counts are stored as bigint; negative ones (never written) read as 0.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn bigint(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Backend for PgStore {
    fn describe(&self) -> String {
        format!(
            "PostgreSQL {} schema {}",
            self.target.display(),
            self.schema()
        )
    }

    fn schema_version(&mut self) -> Result<i64, StoreError> {
        let schema = self.schema().to_string();
        let display = self.target.display();
        self.run(|c| async move { Ok(migrations::version(c, &schema, &display).await?) })
    }

    fn ensure_object_table(
        &mut self,
        object: &str,
        fields: &[StoreField],
    ) -> Result<(), StoreError> {
        self.ensure_table(object, fields)
    }

    fn apply_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
    ) -> Result<PageApplied, StoreError> {
        self.load_page(object, page, None)
    }

    fn apply_bulk_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        mark: BulkMark<'_>,
    ) -> Result<PageApplied, StoreError> {
        self.load_page(object, page, Some(PageMark::Bulk(mark)))
    }

    fn bulk_checkpoint(&mut self, object: &str) -> Result<Option<BulkCheckpoint>, StoreError> {
        let rows = self.query(
            "SELECT job_id, locator, rows_done, job_started, field_set FROM {s}.bulk_checkpoints WHERE object = $1",
            &[&object],
        )?;
        rows.first()
            .map(|r| {
                Ok(BulkCheckpoint {
                    job_id: self.get(r, 0)?,
                    locator: self.get(r, 1)?,
                    rows_done: count(self.get(r, 2)?),
                    job_started: self.get(r, 3)?,
                    field_set: self.get(r, 4)?,
                })
            })
            .transpose()
    }

    fn clear_bulk_checkpoint(&mut self, object: &str) -> Result<(), StoreError> {
        let schema = self.schema().to_string();
        let err = self.err();
        self.run(|c| async move {
            let sql = bulk_mark_sql(&schema, BulkMark::Clear);
            write_bulk_mark(&*c, sql.as_str(), object, BulkMark::Clear)
                .await
                .map(|_| ())
                .map_err(&err)
        })
    }

    fn slice_cursors(&mut self, object: &str) -> Result<Vec<SliceCursor>, StoreError> {
        self.read_slices(object)
    }

    fn put_slice_cursors(
        &mut self,
        object: &str,
        slices: &[SliceCursor],
    ) -> Result<(), StoreError> {
        self.replace_slices(object, slices, None)
    }

    fn apply_slice_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        slice: &SliceCursor,
    ) -> Result<PageApplied, StoreError> {
        self.load_page(object, page, Some(PageMark::Slice(slice)))
    }

    fn finish_slices(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError> {
        self.replace_slices(object, &[], Some(cursor))
    }

    fn fail_page_after(&mut self, upserts: Option<usize>) {
        self.fail_after = upserts;
    }

    fn set_fence(&mut self, fence: Option<super::lease::Fence>) {
        self.fence = fence;
    }

    fn cursor(&mut self, object: &str) -> Result<Option<Cursor>, StoreError> {
        let rows = self.query(
            "SELECT system_modstamp, last_id, field_set_hash, full_sync_done FROM {s}.cursors WHERE object = $1",
            &[&object],
        )?;
        rows.first()
            .map(|r| {
                Ok(Cursor {
                    system_modstamp: self.get(r, 0)?,
                    last_id: self.get(r, 1)?,
                    field_set_hash: self.get(r, 2)?,
                    full_sync_done: self.get(r, 3)?,
                })
            })
            .transpose()
    }

    fn set_cursor(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError> {
        let schema = self.schema().to_string();
        let err = self.err();
        let fence = self.fence.clone();
        self.run(|c| async move {
            let tx = c.transaction().await.map_err(&err)?;
            write_cursor(&tx, &schema, object, cursor)
                .await
                .map_err(&err)?;
            if let Some(fence) = &fence {
                super::lease::check_fence(&tx, fence, &err).await?;
            }
            tx.commit().await.map_err(&err)
        })
    }

    fn reset_cursor(&mut self, object: &str) -> Result<(), StoreError> {
        let sql = self.in_schema("DELETE FROM {s}.cursors WHERE object = $1");
        let err = self.err();
        let fence = self.fence.clone();
        self.run(|c| async move {
            let tx = c.transaction().await.map_err(&err)?;
            tx.execute(&sql, &[&object]).await.map_err(&err)?;
            // A daemon that lost the lease must not send the new owner back to the start.
            if let Some(fence) = &fence {
                super::lease::check_fence(&tx, fence, &err).await?;
            }
            tx.commit().await.map_err(&err)
        })
    }

    fn begin_run(&mut self, kind: &str, started: DateTime<Utc>) -> Result<RunId, StoreError> {
        let rows = self.query(
            "INSERT INTO {s}.runs (kind, started) VALUES ($1, $2) RETURNING id",
            &[&kind, &started],
        )?;
        let row = rows.first().ok_or_else(|| {
            StoreError::Postgres(super::PgError::Db {
                target: self.target.display(),
                detail: "INSERT ... RETURNING id returned no row".into(),
            })
        })?;
        Ok(RunId(self.get(row, 0)?))
    }

    fn finish_run(&mut self, id: RunId, run: &RunRecord) -> Result<(), StoreError> {
        self.execute(
            "UPDATE {s}.runs SET finished = $2, outcome = $3, upserted = $4, deleted = $5,
               api_calls = $6, error = $7 WHERE id = $1",
            &[
                &id.0,
                &run.finished,
                &run.outcome,
                &bigint(run.upserted),
                &bigint(run.deleted),
                &bigint(run.api_calls),
                &run.error,
            ],
        )?;
        Ok(())
    }

    fn record_run_object(
        &mut self,
        id: RunId,
        object: &str,
        upserted: u64,
        deleted: u64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO {s}.run_objects (run_id, object, upserted, deleted) VALUES ($1, $2, $3, $4)
             ON CONFLICT (run_id, object) DO UPDATE SET upserted = excluded.upserted, deleted = excluded.deleted",
            &[&id.0, &object, &bigint(upserted), &bigint(deleted)],
        )?;
        Ok(())
    }

    fn run_objects(&mut self, id: RunId) -> Result<Vec<RunObjectRow>, StoreError> {
        let rows = self.query(
            "SELECT object, upserted, deleted FROM {s}.run_objects WHERE run_id = $1
             ORDER BY object COLLATE \"C\"",
            &[&id.0],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RunObjectRow {
                    object: self.get(r, 0)?,
                    upserted: count(self.get(r, 1)?),
                    deleted: count(self.get(r, 2)?),
                })
            })
            .collect()
    }

    fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRow>, StoreError> {
        let rows = self.query(
            "SELECT id, kind, started, finished, outcome, upserted, deleted, api_calls, error
             FROM {s}.runs ORDER BY id DESC LIMIT $1",
            &[&bigint(limit as u64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RunRow {
                    id: RunId(self.get(r, 0)?),
                    kind: self.get(r, 1)?,
                    started: self.get(r, 2)?,
                    finished: self.get(r, 3)?,
                    outcome: self.get(r, 4)?,
                    upserted: count(self.get(r, 5)?),
                    deleted: count(self.get(r, 6)?),
                    api_calls: count(self.get(r, 7)?),
                    error: self.get(r, 8)?,
                })
            })
            .collect()
    }

    fn record_usage(&mut self, at: DateTime<Utc>, used: u64, max: u64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO {s}.api_usage (at, used, max) VALUES ($1, $2, $3)",
            &[&at, &bigint(used), &bigint(max)],
        )?;
        Ok(())
    }

    fn usage_since(&mut self, since: DateTime<Utc>) -> Result<Vec<UsageSample>, StoreError> {
        let rows = self.query(
            "SELECT at, used, max FROM {s}.api_usage WHERE at >= $1 ORDER BY at, id",
            &[&since],
        )?;
        rows.iter()
            .map(|r| {
                Ok(UsageSample {
                    at: self.get(r, 0)?,
                    used: count(self.get(r, 1)?),
                    max: count(self.get(r, 2)?),
                })
            })
            .collect()
    }

    fn prune_usage(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let n = self.execute("DELETE FROM {s}.api_usage WHERE at < $1", &[&before])?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn put_schema(
        &mut self,
        object: &str,
        json: &str,
        fetched_at: DateTime<Utc>,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO {s}.schema_cache (object, json, fetched_at, etag, last_modified)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (object) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at,
               etag = excluded.etag, last_modified = excluded.last_modified",
            &[&object, &json, &fetched_at, &etag, &last_modified],
        )?;
        Ok(())
    }

    fn get_schema(&mut self, object: &str) -> Result<Option<CachedSchema>, StoreError> {
        let rows = self.query(
            "SELECT json, fetched_at, etag, last_modified FROM {s}.schema_cache WHERE object = $1",
            &[&object],
        )?;
        rows.first()
            .map(|r| {
                Ok(CachedSchema {
                    json: self.get(r, 0)?,
                    fetched_at: self.get(r, 1)?,
                    etag: self.get(r, 2)?,
                    last_modified: self.get(r, 3)?,
                })
            })
            .transpose()
    }

    fn objects(&mut self) -> Result<Vec<String>, StoreError> {
        let schema = self.schema().to_string();
        let rows = self.query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = $1 AND table_name LIKE 'sf\\_%'
             ORDER BY table_name COLLATE \"C\"",
            &[&schema],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let name: String = self.get(r, 0)?;
            if let Some(o) = name.strip_prefix("sf_") {
                out.push(o.to_string());
            }
        }
        Ok(out)
    }

    fn row_count(&mut self, object: &str) -> Result<u64, StoreError> {
        if !self.has_table(object)? {
            return Ok(0);
        }
        let t = table(self.schema(), object);
        let rows = self.query(&format!("SELECT COUNT(*) FROM {t}"), &[])?;
        match rows.first() {
            Some(r) => Ok(count(self.get(r, 0)?)),
            None => Ok(0),
        }
    }

    fn all_ids(&mut self, object: &str) -> Result<Vec<String>, StoreError> {
        self.ids_after(object, None, usize::MAX)
    }

    fn read_rows(
        &mut self,
        object: &str,
        limit: usize,
    ) -> Result<Vec<Map<String, Value>>, StoreError> {
        self.rows(object, limit)
    }

    fn delete_log_checked(&mut self, object: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let rows = self.query(
            "SELECT covered_until FROM {s}.delete_log_checks WHERE object = $1",
            &[&object],
        )?;
        rows.first().map(|r| self.get(r, 0)).transpose()
    }

    fn apply_deletions(
        &mut self,
        object: &str,
        ids: &[String],
        covered_until: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        self.delete_rows(object, ids, covered_until)
    }

    fn ids_after(
        &mut self,
        object: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        if !self.has_table(object)? {
            return Ok(Vec::new());
        }
        let t = table(self.schema(), object);
        let after = after.unwrap_or("");
        let rows = self.query(
            &format!("SELECT \"Id\" FROM {t} WHERE \"Id\" > $1 ORDER BY \"Id\" LIMIT $2"),
            &[&after, &bigint(limit as u64)],
        )?;
        rows.iter().map(|r| self.get(r, 0)).collect()
    }

    fn stored_fields(&mut self, object: &str) -> Result<Vec<String>, StoreError> {
        let mut fields: Vec<String> = self
            .object_columns(object)?
            .into_iter()
            .map(|c| c.field)
            .collect();
        fields.dedup();
        Ok(fields)
    }

    fn first_run_started(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let rows = self.query("SELECT MIN(started) FROM {s}.runs", &[])?;
        match rows.first() {
            Some(r) => self.get(r, 0),
            None => Ok(None),
        }
    }

    fn record_verify(&mut self, v: &VerifyRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO {s}.verify_results (started, finished, outcome, extra, missing,
               unfilled_fields, repaired_deleted, repaired_fetched, api_calls, error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &v.started,
                &v.finished,
                &v.outcome,
                &bigint(v.extra),
                &bigint(v.missing),
                &bigint(v.unfilled_fields),
                &bigint(v.repaired_deleted),
                &bigint(v.repaired_fetched),
                &bigint(v.api_calls),
                &v.error,
            ],
        )?;
        Ok(())
    }

    fn last_verify(&mut self) -> Result<Option<VerifyRecord>, StoreError> {
        let rows = self.query(
            "SELECT started, finished, outcome, extra, missing, unfilled_fields,
               repaired_deleted, repaired_fetched, api_calls, error
             FROM {s}.verify_results ORDER BY id DESC LIMIT 1",
            &[],
        )?;
        rows.first()
            .map(|r| {
                Ok(VerifyRecord {
                    started: self.get(r, 0)?,
                    finished: self.get(r, 1)?,
                    outcome: self.get(r, 2)?,
                    extra: count(self.get(r, 3)?),
                    missing: count(self.get(r, 4)?),
                    unfilled_fields: count(self.get(r, 5)?),
                    repaired_deleted: count(self.get(r, 6)?),
                    repaired_fetched: count(self.get(r, 7)?),
                    api_calls: count(self.get(r, 8)?),
                    error: self.get(r, 9)?,
                })
            })
            .transpose()
    }
}
