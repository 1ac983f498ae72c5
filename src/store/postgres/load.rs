//! Object tables: creation and evolution, page loading (new rows by binary COPY straight
//! into the table, others through a staging table and an upsert; rows, deletions and
//! cursor in one transaction), deletions, and reading back.

use std::pin::pin;

use serde_json::{Map, Value};
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::ToSql;

use super::direct::{self, DirectError};
use super::page_tx::PageTx;
use super::statements::Statements;
use super::types::{PgColumn, PgType, PgValue, column_value, from_row, select_expr};
use super::{PgStore, StoreError};
use crate::store::columns::{PageLayout, plan_columns};
use crate::store::types::quote_ident;
use crate::store::{BulkMark, Cursor, PageApplied, PageMark, PageWrite, StoreField};

/// `"schema"."sf_Object"`.
pub(super) fn table(schema: &str, object: &str) -> String {
    format!(
        "{}.{}",
        quote_ident(schema),
        quote_ident(&format!("sf_{object}"))
    )
}

impl PgStore {
    /// Create the object's table or add columns for newly selected fields (deselected
    /// fields keep theirs), recording each column in `object_columns`, in one transaction.
    pub(super) fn ensure_table(
        &mut self,
        object: &str,
        fields: &[StoreField],
    ) -> Result<(), StoreError> {
        let wanted: Vec<PgColumn> = plan_columns(object, fields)?
            .into_iter()
            .map(|c| PgColumn {
                ty: PgType::for_field(&c.sf_type, c.component.as_deref(), c.precision, c.scale),
                name: c.name,
                field: c.field,
                component: c.component,
            })
            .collect();
        let sf_types: Vec<String> = wanted
            .iter()
            .map(|c| {
                fields
                    .iter()
                    .find(|f| f.name == c.field)
                    .map_or_else(|| "string".to_string(), |f| f.sf_type.clone())
            })
            .collect();
        let schema = self.schema().to_string();
        let err = self.err();
        self.columns.remove(object);
        self.run(|client| async move {
            let tx = client.transaction().await.map_err(&err)?;
            let t = table(&schema, object);
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (\"Id\" text COLLATE \"C\" PRIMARY KEY)"
            ))
            .await
            .map_err(&err)?;
            let existing: Vec<String> = tx
                .query(
                    "SELECT column_name::text FROM information_schema.columns
                     WHERE table_schema = $1 AND table_name = $2",
                    &[&schema, &format!("sf_{object}")],
                )
                .await
                .map_err(&err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let record = format!(
                "INSERT INTO {}.object_columns (object, column_name, field, component, sf_type, column_type)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (object, column_name) DO UPDATE SET
                   field = excluded.field, component = excluded.component,
                   sf_type = excluded.sf_type, column_type = excluded.column_type",
                quote_ident(&schema)
            );
            for (col, sf_type) in wanted.iter().zip(&sf_types) {
                if !existing.contains(&col.name) {
                    tx.batch_execute(&format!(
                        "ALTER TABLE {t} ADD COLUMN {} {}",
                        quote_ident(&col.name),
                        col.ty.sql()
                    ))
                    .await
                    .map_err(&err)?;
                }
                tx.execute(
                    &record,
                    &[&object, &col.name, &col.field, &col.component, sf_type, &col.ty.sql()],
                )
                .await
                .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)
        })
    }

    /// The object's columns, cached until the next `ensure_table` or reconnect.
    pub(super) fn object_columns(&mut self, object: &str) -> Result<Vec<PgColumn>, StoreError> {
        if let Some(c) = self.columns.get(object) {
            return Ok(c.clone());
        }
        let schema = self.schema().to_string();
        let err = self.err();
        let cols = self.run(|client| async move {
            let rows = client
                .query(
                    &format!(
                        "SELECT column_name, field, component, column_type FROM {}.object_columns
                         WHERE object = $1 ORDER BY ord",
                        quote_ident(&schema)
                    ),
                    &[&object],
                )
                .await
                .map_err(&err)?;
            Ok(rows
                .iter()
                .map(|r| PgColumn {
                    name: r.get(0),
                    field: r.get(1),
                    component: r.get(2),
                    ty: PgType::parse(r.get(3)),
                })
                .collect::<Vec<_>>())
        })?;
        if !cols.is_empty() {
            self.columns.insert(object.to_string(), cols.clone());
        }
        Ok(cols)
    }

    pub(super) fn has_table(&mut self, object: &str) -> Result<bool, StoreError> {
        let schema = self.schema().to_string();
        let err = self.err();
        self.run(|client| async move {
            let row = client
                .query_one(
                    "SELECT EXISTS(SELECT 1 FROM information_schema.tables
                     WHERE table_schema = $1 AND table_name = $2)",
                    &[&schema, &format!("sf_{object}")],
                )
                .await
                .map_err(&err)?;
            Ok(row.get(0))
        })
    }

    /// See [`crate::store::Store::apply_page`].
    ///
    /// A page of Ids the table does not hold yet (a first sync, new records) is COPYed
    /// straight into the object table; any other page goes through a staging table and an
    /// upsert. Either way rows, deletions and cursor commit in one transaction.
    pub(super) fn load_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        mark: Option<PageMark<'_>>,
    ) -> Result<PageApplied, StoreError> {
        let columns = self.object_columns(object)?;
        if columns.is_empty() && !self.has_table(object)? {
            return Err(StoreError::UnknownObject(object.to_string()));
        }
        if !page.upserts.is_empty()
            && self.expect_new(object, page, &columns)?
            && let Some(applied) = self.load_direct(object, page, mark, &columns)?
        {
            self.new_rows.insert(object.to_string());
            return Ok(applied);
        }
        self.new_rows.remove(object);
        let rows = page_rows(object, page, &columns)?;
        // Rows of one page carry the same columns nearly always; one COPY per shape.
        let mut shapes: Vec<&[usize]> = rows.iter().map(|r| r.shape.as_slice()).collect();
        shapes.sort();
        shapes.dedup();
        let distinct = distinct_ids(rows.iter().map(|r| r.id));
        self.load_staged(object, page, mark, &columns, &shapes, &rows, distinct)
    }

    /// Whether the page's records are all new Ids, as far as it is worth finding out. Once
    /// a page of an object went in as new rows, the next is taken to be new as well (a
    /// first sync, a run of created records) without looking its Ids up, which costs the
    /// server an index probe per record. A wrong guess costs one declined COPY, never a
    /// wrong row: a stored or repeated Id fails the COPY, and the page is upserted.
    fn expect_new(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        columns: &[PgColumn],
    ) -> Result<bool, StoreError> {
        if self.new_rows.contains(object) {
            return Ok(true);
        }
        let layout = PageLayout::new(page.upserts, columns);
        let ids = page
            .upserts
            .iter()
            .map(|r| layout.id(object, r))
            .collect::<Result<Vec<&str>, _>>()?;
        if !distinct_ids(ids.iter().copied()) {
            return Ok(false);
        }
        self.counts.lookups += 1;
        Ok(!self.holds_any(object, &ids)?)
    }

    /// Whether the object table holds any of `ids`.
    fn holds_any(&mut self, object: &str, ids: &[&str]) -> Result<bool, StoreError> {
        let schema = self.schema().to_string();
        let err = self.err();
        let sql = format!(
            "SELECT EXISTS(SELECT 1 FROM {} WHERE \"Id\" = ANY($1))",
            table(&schema, object)
        );
        self.run_prepared(|client, statements| async move {
            let lookup = statements.get(&*client, &sql).await.map_err(&err)?;
            let row = client.query_one(&lookup, &[&ids]).await.map_err(&err)?;
            Ok(row.get(0))
        })
    }

    /// COPY new rows straight into the object table. `None`: the page is not all new
    /// rows after all (or has a value only the upsert's cast takes); nothing was
    /// committed and the caller upserts instead.
    fn load_direct(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        mark: Option<PageMark<'_>>,
        columns: &[PgColumn],
    ) -> Result<Option<PageApplied>, StoreError> {
        let schema = self.schema().to_string();
        let err = self.err();
        let fail_after = self.fail_after;
        let fence = &self.fence.clone();
        let target = table(&schema, object);
        let outcome = self.run_prepared(|client, statements| async move {
            let mut tx = PageTx::new(client);
            let copied = direct::copy_new_rows(
                &mut tx, statements, &target, object, page, columns, fail_after,
            )
            .await;
            let written = match copied {
                Ok(n) => n,
                Err(DirectError::Declined) => return Ok(None),
                Err(DirectError::Pg(e)) => return Err(err(e)),
                Err(DirectError::Store(e)) => return Err(e),
            };
            let applied = finish_page(
                tx.client(),
                statements,
                &schema,
                object,
                page,
                Seal {
                    mark,
                    fence: fence.as_ref(),
                },
                written,
                page.upserts.len(),
                fail_after,
                &err,
            )
            .await?;
            tx.commit().await.map_err(&err)?;
            Ok(Some(applied))
        })?;
        match outcome {
            Some(_) => self.counts.direct += 1,
            None => self.counts.declined += 1,
        }
        Ok(outcome)
    }

    /// COPY the rows into staging tables, then upsert them into the object table (the last
    /// of duplicate Ids wins, as row-by-row upserts would).
    #[allow(clippy::too_many_arguments)]
    fn load_staged(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        mark: Option<PageMark<'_>>,
        columns: &[PgColumn],
        shapes: &[&[usize]],
        rows: &[Row<'_>],
        distinct: bool,
    ) -> Result<PageApplied, StoreError> {
        let mut staging = Vec::with_capacity(shapes.len());
        for shape in shapes {
            staging.push(self.staging_table(object, columns, shape)?);
        }
        let schema = self.schema().to_string();
        let err = self.err();
        let fail_after = self.fail_after;
        let fence = &self.fence.clone();
        let staged = &staging;
        self.counts.staged += 1;
        self.run_prepared(|client, statements| async move {
            let tx = client.transaction().await.map_err(&err)?;
            let mut written = 0usize;
            for (shape, stage) in shapes.iter().zip(staged) {
                let group = rows.iter().filter(|r| r.shape.as_slice() == *shape);
                written += copy_rows(
                    &tx,
                    statements,
                    &quote_ident(stage),
                    columns,
                    shape,
                    group,
                    fail_after,
                    written,
                )
                .await
                .map_err(|e| e.into_store(&err))?;
                upsert_staged(&tx, &schema, object, columns, shape, stage, distinct)
                    .await
                    .map_err(&err)?;
            }
            let applied = finish_page(
                &tx,
                statements,
                &schema,
                object,
                page,
                Seal {
                    mark,
                    fence: fence.as_ref(),
                },
                written,
                rows.len(),
                fail_after,
                &err,
            )
            .await?;
            tx.commit().await.map_err(&err)?;
            Ok(applied)
        })
    }

    /// A temporary table holding one shape of rows of `object` for the transaction
    /// (`ON COMMIT DELETE ROWS`), created once per connection.
    fn staging_table(
        &mut self,
        object: &str,
        columns: &[PgColumn],
        shape: &[usize],
    ) -> Result<String, StoreError> {
        let mut defs = vec![
            "\"Id\" text COLLATE \"C\"".to_string(),
            "ord integer".to_string(),
        ];
        defs.extend(shape.iter().map(|&c| {
            format!(
                "{} {}",
                quote_ident(&columns[c].name),
                columns[c].ty.staging_sql()
            )
        }));
        let defs = defs.join(", ");
        let key = format!("{object}\u{0}{defs}");
        let name = format!("syncdeck_stage_{:016x}", fnv1a(&key));
        if self.staged.contains(&key) {
            return Ok(name);
        }
        let err = self.err();
        let create = format!(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {} ({defs}) ON COMMIT DELETE ROWS",
            quote_ident(&name)
        );
        self.run(|client| async move { client.batch_execute(&create).await.map_err(&err) })?;
        self.staged.insert(key);
        Ok(name)
    }

    /// See [`crate::store::Store::apply_deletions`].
    pub(super) fn delete_rows(
        &mut self,
        object: &str,
        ids: &[String],
        covered_until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<u64, StoreError> {
        let has_table = self.has_table(object)?;
        let schema = self.schema().to_string();
        let err = self.err();
        let fence = &self.fence.clone();
        self.run(|client| async move {
            let tx = client.transaction().await.map_err(&err)?;
            let mut deleted = 0;
            if has_table && !ids.is_empty() {
                deleted = tx
                    .execute(
                        &format!(
                            "DELETE FROM {} WHERE \"Id\" = ANY($1)",
                            table(&schema, object)
                        ),
                        &[&ids],
                    )
                    .await
                    .map_err(&err)?;
            }
            if let Some(at) = covered_until {
                tx.execute(
                    &format!(
                        "INSERT INTO {}.delete_log_checks (object, covered_until) VALUES ($1, $2)
                         ON CONFLICT (object) DO UPDATE SET covered_until = excluded.covered_until",
                        quote_ident(&schema)
                    ),
                    &[&object, &at],
                )
                .await
                .map_err(&err)?;
            }
            if let Some(fence) = fence {
                super::lease::check_fence(&tx, fence, &err).await?;
            }
            tx.commit().await.map_err(&err)?;
            Ok(deleted)
        })
    }

    /// See [`crate::store::Store::read_rows`]: every column of the table, deselected
    /// fields' included, as the SQLite store reads them.
    pub(super) fn rows(
        &mut self,
        object: &str,
        limit: usize,
    ) -> Result<Vec<Map<String, Value>>, StoreError> {
        if !self.has_table(object)? {
            return Ok(Vec::new());
        }
        let columns = self.object_columns(object)?;
        let schema = self.schema().to_string();
        let err = self.err();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|client| async move {
            let mut select = vec![quote_ident("Id")];
            select.extend(
                columns
                    .iter()
                    .map(|c| select_expr(&quote_ident(&c.name), c.ty)),
            );
            let rows = client
                .query(
                    &format!(
                        "SELECT {} FROM {} ORDER BY \"Id\" LIMIT $1",
                        select.join(", "),
                        table(&schema, object)
                    ),
                    &[&limit],
                )
                .await
                .map_err(&err)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut map = Map::new();
                map.insert("Id".into(), from_row(row, 0, PgType::Text).map_err(&err)?);
                for (i, c) in columns.iter().enumerate() {
                    map.insert(c.name.clone(), from_row(row, i + 1, c.ty).map_err(&err)?);
                }
                out.push(map);
            }
            Ok(out)
        })
    }
}

/// One record converted for COPY: its values in shape order.
struct Row<'r> {
    id: &'r str,
    shape: Vec<usize>,
    values: Vec<PgValue<'r>>,
}

fn page_rows<'r>(
    object: &str,
    page: &PageWrite<'r>,
    columns: &[PgColumn],
) -> Result<Vec<Row<'r>>, StoreError> {
    let layout = PageLayout::new(page.upserts, columns);
    let mut rows = Vec::with_capacity(page.upserts.len());
    for record in page.upserts.iter() {
        let id = layout.id(object, record)?;
        let mut row = Row {
            id,
            shape: Vec::with_capacity(columns.len()),
            values: Vec::with_capacity(columns.len()),
        };
        layout.values(object, id, record, columns, |index, v| {
            let value = column_value(object, id, &columns[index], v)?;
            row.shape.push(index);
            row.values.push(value);
            Ok(())
        })?;
        rows.push(row);
    }
    Ok(rows)
}

enum CopyError {
    Pg(tokio_postgres::Error),
    Store(StoreError),
}

impl CopyError {
    fn into_store(self, err: impl Fn(tokio_postgres::Error) -> StoreError) -> StoreError {
        match self {
            CopyError::Pg(e) => err(e),
            CopyError::Store(e) => e,
        }
    }
}

impl From<tokio_postgres::Error> for CopyError {
    fn from(e: tokio_postgres::Error) -> Self {
        CopyError::Pg(e)
    }
}

/// No Id repeats within the page, so no row of it can overwrite another.
fn distinct_ids<'r>(ids: impl ExactSizeIterator<Item = &'r str>) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.into_iter().all(|id| seen.insert(id))
}

/// A page transaction commits without waiting for its WAL flush. A client killed at any
/// point loses nothing committed (the server has it). A crash of the server itself may
/// lose the last commits (at most about three `wal_writer_delay`s, 600 ms by default),
/// each whole, rows and cursor together: the store stays consistent, behind by those
/// pages, and the next run reads them again from the older cursor. A run's record is
/// committed synchronously after its last page, and that flush makes every earlier page
/// durable too (WAL is flushed in order), so a run shown as finished has all its pages.
const RELAXED_COMMIT: &str = "SET LOCAL synchronous_commit = off";

/// Binary COPY of `rows` (one shape) into the staging table `stage` (quoted), each with
/// its position in the page. Returns the rows written.
#[allow(clippy::too_many_arguments)]
async fn copy_rows<'r>(
    tx: &Transaction<'_>,
    statements: &mut Statements,
    stage: &str,
    columns: &[PgColumn],
    shape: &[usize],
    rows: impl Iterator<Item = &'r Row<'r>>,
    fail_after: Option<usize>,
    written_before: usize,
) -> Result<usize, CopyError> {
    let mut names = vec![quote_ident("Id"), "ord".to_string()];
    let mut types = vec![
        tokio_postgres::types::Type::TEXT,
        tokio_postgres::types::Type::INT4,
    ];
    names.extend(shape.iter().map(|&c| quote_ident(&columns[c].name)));
    types.extend(shape.iter().map(|&c| columns[c].ty.wire()));
    let copy = format!(
        "COPY {stage} ({}) FROM STDIN (FORMAT binary)",
        names.join(", ")
    );
    let copy = statements.get(tx, &copy).await?;
    let sink = tx.copy_in(&copy).await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
    let mut written = 0usize;
    for (ord, row) in rows.enumerate() {
        if fail_after == Some(written_before + written) {
            return Err(CopyError::Store(StoreError::Injected));
        }
        let ord = i32::try_from(ord).unwrap_or(i32::MAX);
        let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(names.len());
        refs.push(&row.id);
        refs.push(&ord);
        refs.extend(row.values.iter().map(|v| v as &(dyn ToSql + Sync)));
        writer.as_mut().write(&refs).await?;
        written += 1;
    }
    writer.as_mut().finish().await?;
    Ok(written)
}

/// Upsert one staging table into the object table. Only a page that repeats an Id needs
/// `DISTINCT ON` (and its sort) to keep the last occurrence.
async fn upsert_staged(
    tx: &Transaction<'_>,
    schema: &str,
    object: &str,
    columns: &[PgColumn],
    shape: &[usize],
    stage: &str,
    distinct: bool,
) -> Result<(), tokio_postgres::Error> {
    let target_cols: Vec<String> = std::iter::once(quote_ident("Id"))
        .chain(shape.iter().map(|&c| quote_ident(&columns[c].name)))
        .collect();
    let select: Vec<String> = std::iter::once(quote_ident("Id"))
        .chain(shape.iter().map(|&c| {
            let col = &columns[c];
            let q = quote_ident(&col.name);
            match col.ty {
                PgType::Numeric { .. } => format!("{q}::{}", col.ty.sql()),
                _ => q,
            }
        }))
        .collect();
    let updates: Vec<String> = target_cols
        .iter()
        .skip(1)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let on_conflict = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    let (pick, order) = if distinct {
        ("", "")
    } else {
        ("DISTINCT ON (\"Id\") ", " ORDER BY \"Id\", ord DESC")
    };
    tx.execute(
        &format!(
            "INSERT INTO {} ({}) SELECT {pick}{} FROM {}{order}
             ON CONFLICT (\"Id\") {on_conflict}",
            table(schema, object),
            target_cols.join(", "),
            select.join(", "),
            quote_ident(stage),
        ),
        &[],
    )
    .await?;
    Ok(())
}

/// What commits with a page besides its rows and cursor: a slice's position or a Bulk
/// read's checkpoint, then the fleet lease check, last, so a takeover that happened while
/// the page was written refuses the whole page.
#[derive(Clone, Copy)]
struct Seal<'a> {
    mark: Option<PageMark<'a>>,
    fence: Option<&'a super::lease::Fence>,
}

/// The rest of a page's transaction after its rows: deletions, cursor, [`Seal`] and the
/// relaxed commit setting, sent together (one round trip once their statements are
/// prepared; the lease check still runs last, just before the commit).
#[allow(clippy::too_many_arguments)]
async fn finish_page(
    tx: &(impl tokio_postgres::GenericClient + Sync),
    statements: &mut Statements,
    schema: &str,
    object: &str,
    page: &PageWrite<'_>,
    seal: Seal<'_>,
    written: usize,
    rows: usize,
    fail_after: Option<usize>,
    err: &(impl Fn(tokio_postgres::Error) -> StoreError + Sync),
) -> Result<PageApplied, StoreError> {
    if fail_after.is_some_and(|n| n <= rows) {
        return Err(StoreError::Injected);
    }
    let delete = match page.deletes.is_empty() {
        true => None,
        false => {
            let sql = format!(
                "DELETE FROM {} WHERE \"Id\" = ANY($1)",
                table(schema, object)
            );
            Some(statements.get(tx, &sql).await.map_err(err)?)
        }
    };
    let cursor = match page.cursor {
        Some(c) => Some((
            statements.get(tx, &cursor_sql(schema)).await.map_err(err)?,
            c,
        )),
        None => None,
    };
    let mark = match seal.mark {
        Some(m) => {
            let sql = match m {
                PageMark::Slice(_) => super::slices::slice_sql(schema),
                PageMark::Bulk(b) => bulk_mark_sql(schema, b),
            };
            Some((statements.get(tx, &sql).await.map_err(err)?, m))
        }
        None => None,
    };
    let fence = match seal.fence {
        Some(f) => {
            let sql = super::lease::fence_sql(f);
            Some((statements.get(tx, &sql).await.map_err(err)?, f))
        }
        None => None,
    };
    let deleted = async {
        match &delete {
            Some(d) => tx.execute(d, &[&page.deletes]).await,
            None => Ok(0),
        }
    };
    let moved = async {
        match &cursor {
            Some((statement, c)) => tx.execute(statement, &cursor_params(&object, c)).await,
            None => Ok(0),
        }
    };
    let marked = async {
        match &mark {
            Some((statement, PageMark::Slice(s))) => {
                let slice = i64::from(s.slice);
                tx.execute(statement, &super::slices::slice_params(&object, s, &slice))
                    .await
            }
            Some((statement, PageMark::Bulk(b))) => {
                write_bulk_mark(tx, statement, object, *b).await
            }
            None => Ok(0),
        }
    };
    let checked = async {
        match &fence {
            Some((statement, f)) => tx
                .query_opt(statement, &super::lease::fence_params(f))
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let ((), deleted, _, _, lease) = futures::try_join!(
        tx.batch_execute(RELAXED_COMMIT),
        deleted,
        moved,
        marked,
        checked
    )
    .map_err(err)?;
    if let Some((_, f)) = fence {
        super::lease::fence_verdict(f, lease.flatten())?;
    }
    Ok(PageApplied {
        upserted: written as u64,
        deleted,
    })
}

/// Insert or replace an object's cursor (`$1` object, then the cursor's fields).
fn cursor_sql(schema: &str) -> String {
    format!(
        "INSERT INTO {}.cursors (object, system_modstamp, last_id, field_set_hash, full_sync_done)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (object) DO UPDATE SET system_modstamp = excluded.system_modstamp,
           last_id = excluded.last_id, field_set_hash = excluded.field_set_hash,
           full_sync_done = excluded.full_sync_done",
        quote_ident(schema)
    )
}

fn cursor_params<'a>(object: &'a &'a str, c: &'a Cursor) -> [&'a (dyn ToSql + Sync); 5] {
    [
        object,
        &c.system_modstamp,
        &c.last_id,
        &c.field_set_hash,
        &c.full_sync_done,
    ]
}

pub(super) async fn write_cursor(
    client: &impl tokio_postgres::GenericClient,
    schema: &str,
    object: &str,
    c: &Cursor,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(&cursor_sql(schema), &cursor_params(&object, c))
        .await?;
    Ok(())
}

/// A stable short name for a staging table's definition (FNV-1a, 64 bits).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
/// Save or clear an object's Bulk checkpoint (inside the page's transaction) with
/// `statement`, [`bulk_mark_sql`] of the same mark.
pub(super) async fn write_bulk_mark<S>(
    client: &impl tokio_postgres::GenericClient,
    statement: &S,
    object: &str,
    mark: BulkMark<'_>,
) -> Result<u64, tokio_postgres::Error>
where
    S: tokio_postgres::ToStatement + ?Sized + Sync + Send,
{
    match mark {
        BulkMark::Save(c) => {
            let rows_done = i64::try_from(c.rows_done).unwrap_or(i64::MAX);
            client
                .execute(
                    statement,
                    &[
                        &object,
                        &c.job_id,
                        &c.locator,
                        &rows_done,
                        &c.job_started,
                        &c.field_set,
                    ],
                )
                .await
        }
        BulkMark::Clear => client.execute(statement, &[&object]).await,
    }
}

pub(super) fn bulk_mark_sql(schema: &str, mark: BulkMark<'_>) -> String {
    let s = quote_ident(schema);
    match mark {
        BulkMark::Save(_) => format!(
            "INSERT INTO {s}.bulk_checkpoints (object, job_id, locator, rows_done, job_started, field_set)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (object) DO UPDATE SET job_id = excluded.job_id,
               locator = excluded.locator, rows_done = excluded.rows_done,
               job_started = excluded.job_started, field_set = excluded.field_set"
        ),
        BulkMark::Clear => format!("DELETE FROM {s}.bulk_checkpoints WHERE object = $1"),
    }
}
