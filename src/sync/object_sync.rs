//! One object's part of a run (docs/ARCHITECTURE.md, "Sync algorithm").
//!
//! - Incremental: `queryAll` of `Id, SystemModstamp, IsDeleted, <fields>` with
//!   `SystemModstamp >= cursor - OVERLAP ORDER BY SystemModstamp, Id`; re-reading the
//!   overlap is a harmless upsert. Rows with `IsDeleted = true` are deleted locally.
//! - Each page's upserts, deletes and the advanced cursor are one store transaction, so a
//!   killed process resumes from the last committed page.
//! - The cursor never moves past the query's start time: rows changed while a query runs
//!   are rendered with their new SystemModstamp but served in their old position, and a
//!   checkpoint past them would skip the rest of the result after a crash.
//! - A changed field selection is recorded in the cursor; newly added fields make the
//!   object re-read from the start (a backfill, the same API cost as reading only the new
//!   columns since calls are per page of rows). Removed fields are simply no longer
//!   selected; their column keeps its last values (see `store`).
//! - Objects without SystemModstamp are re-read in full each run, and rows no longer
//!   returned are deleted at the end.
//! - Formula fields change without moving SystemModstamp: per policy their columns alone
//!   are re-read (daily by default).
//! - An expired query locator restarts the query from the committed cursor.

use std::collections::{BTreeSet, HashSet};

use crate::model::{FieldValue, Records};
use crate::salesforce::read_plan::read_select;
use crate::salesforce::soql::Select;
use crate::salesforce::types::QueryPage;
use crate::salesforce::{Client, ErrorClass, QueryOptions};
use crate::store::{Cursor, PageWrite, StoreField};
use crate::sync::SyncError;
use crate::sync::page_feed::{Fed, PageFeed, Pages};
use crate::sync::shared_store::SharedStore;
use crate::sync::sliced_read::QueryCursors;
use crate::sync::stop::StopSignal;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;

/// Re-read this much before the cursor (in-flight transactions, equal timestamps).
pub const OVERLAP: Duration = Duration::seconds(1);
/// Clock difference allowed between this machine and Salesforce when capping the cursor
/// at the query's start time.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);
pub use crate::salesforce::read_plan::BATCH_SIZE;
/// How many expired-locator restarts one object gets per run.
const MAX_RESTARTS: u32 = 3;

/// The version tag of `Cursor::field_set_hash`, which holds the sorted field list itself
/// so added fields (backfill) can be told apart from removed ones (no backfill).
const FIELD_SET_TAG: &str = "fields-v1:";

/// What to sync of one object, resolved against its describe.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPlan {
    pub object: String,
    /// Selected fields that exist, without Id / SystemModstamp / IsDeleted.
    pub fields: Vec<String>,
    /// Store columns: the selected fields plus SystemModstamp when the object has it.
    pub store_fields: Vec<StoreField>,
    pub has_modstamp: bool,
    /// Selected formula (`calculated`) fields.
    pub formula_fields: Vec<String>,
}

impl ObjectPlan {
    pub fn field_set(&self) -> String {
        let set: BTreeSet<&str> = self.fields.iter().map(String::as_str).collect();
        format!(
            "{FIELD_SET_TAG}{}",
            set.into_iter().collect::<Vec<_>>().join(",")
        )
    }
}

/// Fields in `now` that were not in the stored field set (`None`: unknown, treat all as new).
pub fn added_fields(stored: &str, now: &str) -> Option<Vec<String>> {
    let stored = stored.strip_prefix(FIELD_SET_TAG)?;
    let now = now.strip_prefix(FIELD_SET_TAG).unwrap_or(now);
    let old: HashSet<&str> = stored.split(',').filter(|s| !s.is_empty()).collect();
    Some(
        now.split(',')
            .filter(|f| !f.is_empty() && !old.contains(f))
            .map(str::to_string)
            .collect(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectOptions {
    /// Discard the cursor and re-read everything.
    pub full: bool,
    /// Re-read formula columns this run.
    pub reread_formulas: bool,
}

/// How an object's sync ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectOutcome {
    pub upserted: u64,
    pub deleted: u64,
    /// Read from the start (first sync, full run or backfill).
    pub from_start: bool,
    pub backfill: bool,
    /// False when stopped at a page boundary before the end.
    pub finished: bool,
    pub formulas_reread: bool,
}

/// Progress callbacks, called after every committed page.
pub trait ObjectObserver: Send + Sync {
    /// The object is about to be read from the start because fields were added.
    fn backfill_started(&self, object: &str, added: &[String]);
    fn progress(&self, object: &str, done: u64, expected: Option<u64>);
    /// A Bulk job's state and the rows Salesforce has processed (`sync::bulk_read`).
    fn bulk_job(&self, _object: &str, _state: &str, _processed: u64) {}
    /// A Bulk read gave way to REST (or restarted), and why.
    fn bulk_fallback(&self, _object: &str, _reason: &str) {}
}

pub struct ObjectSync<'a> {
    pub client: &'a Client,
    pub store: &'a SharedStore,
    pub stop: &'a StopSignal,
    pub observer: &'a dyn ObjectObserver,
    /// The source's bound on query cursors, shared by its objects' sliced reads.
    pub cursors: &'a QueryCursors,
}

/// One object's incremental read between pages: where its query starts, what it has
/// committed so far.
#[derive(Debug)]
pub struct Incremental {
    pub object: String,
    fields: Vec<String>,
    field_set: String,
    since: Option<DateTime<Utc>>,
    was_done: bool,
    query_started: DateTime<Utc>,
    done: u64,
    expected: Option<u64>,
    last_cursor: Option<Cursor>,
    restarts: u32,
    /// Whether slicing the rest of this read was considered (once per read).
    slice_checked: bool,
    /// The newest SystemModstamp of the object when the first page was asked for, when
    /// the probe asked for it too: the rows to slice end there.
    pub newest: Option<DateTime<Utc>>,
    pub outcome: ObjectOutcome,
}

impl Incremental {
    /// `queryAll` (deleted rows too), pages of `BATCH_SIZE`.
    pub const OPTIONS: QueryOptions = QueryOptions {
        include_deleted: true,
        batch_size: Some(BATCH_SIZE),
    };

    /// Where the read starts (`None`: from the beginning).
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    /// The query to send now (first, or again after an expired locator); the cursor
    /// never moves past the time it was sent.
    pub fn query(&mut self) -> Select {
        self.query_started = Utc::now();
        read_select(&self.object, &self.fields, true, self.since)
    }

    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    pub fn field_set(&self) -> &str {
        &self.field_set
    }

    /// Rows committed so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    pub fn expected(&self) -> Option<u64> {
        self.expected
    }

    /// When the current query was sent.
    pub fn query_started(&self) -> DateTime<Utc> {
        self.query_started
    }

    /// SystemModstamp of the committed cursor, once a page with rows is committed.
    pub fn committed_stamp(&self) -> Option<DateTime<Utc>> {
        self.last_cursor
            .as_ref()
            .and_then(|c| parse_stamp(&c.system_modstamp))
    }

    /// The committed cursor's SystemModstamp text and Id, when it is a row's (not capped).
    pub fn committed_row(&self) -> Option<(&str, &str)> {
        self.last_cursor
            .as_ref()
            .filter(|c| !c.last_id.is_empty())
            .map(|c| (c.system_modstamp.as_str(), c.last_id.as_str()))
    }

    /// True the first time only: a read is considered for slicing once.
    pub fn first_slice_check(&mut self) -> bool {
        !std::mem::replace(&mut self.slice_checked, true)
    }
}

enum Start {
    FromBeginning { backfill: bool },
    After(DateTime<Utc>),
}

fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    crate::model::parse_datetime(s).ok()
}

impl ObjectSync<'_> {
    pub async fn run(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
    ) -> Result<ObjectOutcome, SyncError> {
        self.ensure_table(plan).await?;
        let mut outcome = if plan.has_modstamp {
            self.incremental(plan, options).await?
        } else {
            self.full_refresh(plan).await?
        };
        if formulas_due(plan, options, &outcome) {
            outcome.formulas_reread = self.reread_formulas(plan).await?;
        }
        Ok(outcome)
    }

    /// The object's table has a column for every planned field.
    pub async fn ensure_table(&self, plan: &ObjectPlan) -> Result<(), SyncError> {
        let object = plan.object.clone();
        let fields = plan.store_fields.clone();
        self.store
            .with(move |s| s.ensure_object_table(&object, &fields))
            .await
    }

    async fn start_point(&self, plan: &ObjectPlan, full: bool) -> Result<(Start, bool), SyncError> {
        let object = plan.object.clone();
        if full {
            self.store.with(move |s| s.reset_cursor(&object)).await?;
            return Ok((Start::FromBeginning { backfill: false }, false));
        }
        let cursor = self.store.with(move |s| s.cursor(&object)).await?;
        let Some(cursor) = cursor else {
            return Ok((Start::FromBeginning { backfill: false }, false));
        };
        let field_set = plan.field_set();
        if cursor.field_set_hash != field_set {
            let added = added_fields(&cursor.field_set_hash, &field_set)
                .unwrap_or_else(|| plan.fields.clone());
            if !added.is_empty() {
                self.observer.backfill_started(&plan.object, &added);
                let object = plan.object.clone();
                self.store.with(move |s| s.reset_cursor(&object)).await?;
                return Ok((Start::FromBeginning { backfill: true }, false));
            }
        }
        match parse_stamp(&cursor.system_modstamp) {
            Some(at) => Ok((Start::After(at - OVERLAP), cursor.full_sync_done)),
            None => Ok((
                Start::FromBeginning { backfill: false },
                cursor.full_sync_done,
            )),
        }
    }

    async fn incremental(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
    ) -> Result<ObjectOutcome, SyncError> {
        if let Some(outcome) = self.resume_slices(plan, options).await? {
            return Ok(outcome);
        }
        let mut read = self.begin_incremental(plan, options).await?;
        let select = read.query();
        // A query that cannot be planned fails in its stream, as it always did.
        let single = self
            .client
            .single_query(&select, Incremental::OPTIONS)
            .ok()
            .flatten();
        let pages = self.client.select_pages(&select, Incremental::OPTIONS);
        self.probe_then_stream(&mut read, pages, single.as_ref())
            .await
    }

    /// Where `plan`'s incremental read starts (a backfill resets the cursor first).
    pub async fn begin_incremental(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
    ) -> Result<Incremental, SyncError> {
        let (start, was_done) = self.start_point(plan, options.full).await?;
        let mut outcome = ObjectOutcome::default();
        let since = match start {
            Start::FromBeginning { backfill } => {
                outcome.from_start = true;
                outcome.backfill = backfill;
                None
            }
            Start::After(at) => Some(at),
        };
        Ok(Incremental {
            object: plan.object.clone(),
            fields: plan.fields.clone(),
            field_set: plan.field_set(),
            since,
            was_done,
            query_started: Utc::now(),
            done: 0,
            expected: None,
            last_cursor: None,
            restarts: 0,
            slice_checked: false,
            newest: None,
            outcome,
        })
    }

    /// Read `pages` (the rest of `read`'s query) to the end, committing each page with its
    /// cursor; an expired locator restarts the query from the committed cursor.
    pub async fn stream(
        &self,
        read: &mut Incremental,
        pages: Pages,
    ) -> Result<ObjectOutcome, SyncError> {
        self.stream_feed(read, PageFeed::start(pages, self.stop.clone()))
            .await
    }

    /// [`ObjectSync::stream`] from a feed already fetching.
    pub async fn stream_feed(
        &self,
        read: &mut Incremental,
        mut feed: PageFeed,
    ) -> Result<ObjectOutcome, SyncError> {
        loop {
            match feed.next().await? {
                Fed::End => return self.finish_incremental(read).await,
                Fed::Stopped => return Ok(read.outcome),
                Fed::Page(Ok(page)) => {
                    self.apply_page(read, page).await?;
                    if self.stop.is_stopped() {
                        // Page boundary: committed work stays, pages fetched ahead are dropped.
                        return Ok(read.outcome);
                    }
                }
                Fed::Page(Err(e)) => {
                    if !self.may_restart(read, &e).await? {
                        return Err(e.into());
                    }
                    let pages = self
                        .client
                        .select_pages(&read.query(), Incremental::OPTIONS);
                    feed = PageFeed::start(pages, self.stop.clone());
                }
            }
        }
    }

    /// After `error`: true when it is an expired locator and the query may restart from the
    /// committed cursor (a bounded number of times); `read.query()` is then the restart.
    pub async fn may_restart(
        &self,
        read: &mut Incremental,
        error: &crate::salesforce::Error,
    ) -> Result<bool, SyncError> {
        if error.class() != ErrorClass::InvalidQueryLocator || read.restarts >= MAX_RESTARTS {
            return Ok(false);
        }
        read.restarts += 1;
        tracing::warn!(object = %read.object, "query locator expired; restarting from the cursor");
        let object = read.object.clone();
        let cursor = self.store.with(move |s| s.cursor(&object)).await?;
        read.since = cursor
            .and_then(|c| parse_stamp(&c.system_modstamp))
            .map(|at| at - OVERLAP)
            .or(read.since);
        read.expected = None;
        read.last_cursor = None;
        Ok(true)
    }

    /// Commit one page of `read` with the cursor after it.
    pub async fn apply_page(
        &self,
        read: &mut Incremental,
        page: QueryPage,
    ) -> Result<(), SyncError> {
        let base = read.done;
        read.expected
            .get_or_insert(base.saturating_add(page.total_size));
        let cursor = page_cursor(
            &page,
            read.query_started,
            &read.field_set,
            read.was_done && !read.outcome.from_start,
        )
        .or_else(|| read.last_cursor.clone());
        let is_last = page.done;
        let cursor = cursor.map(|mut c| {
            c.full_sync_done = c.full_sync_done || is_last;
            c
        });
        let (upserted, deleted) = self
            .commit(&read.object, page.records, cursor.clone())
            .await?;
        read.outcome.upserted += upserted;
        read.outcome.deleted += deleted;
        read.done += upserted + deleted;
        read.last_cursor = cursor;
        self.observer
            .progress(&read.object, read.done, read.expected);
        Ok(())
    }

    /// The query of `read` ended: an empty result still records the field set and that
    /// the first sync is done.
    pub async fn finish_incremental(
        &self,
        read: &mut Incremental,
    ) -> Result<ObjectOutcome, SyncError> {
        if read.last_cursor.is_none() {
            let object = read.object.clone();
            let field_set = read.field_set.clone();
            self.store
                .with(move |s| {
                    let cursor = match s.cursor(&object)? {
                        Some(mut c) => {
                            c.field_set_hash = field_set;
                            c.full_sync_done = true;
                            c
                        }
                        None => Cursor {
                            system_modstamp: String::new(),
                            last_id: String::new(),
                            field_set_hash: field_set,
                            full_sync_done: true,
                        },
                    };
                    s.set_cursor(&object, &cursor)
                })
                .await?;
        }
        read.outcome.finished = true;
        Ok(read.outcome)
    }

    /// Upsert live rows and delete deleted ones, with the cursor, in one transaction.
    pub(super) async fn commit(
        &self,
        object: &str,
        records: Records,
        cursor: Option<Cursor>,
    ) -> Result<(u64, u64), SyncError> {
        let (deleted, live) = records.partition(|r| r.is_deleted());
        let deletes: Vec<String> = deleted
            .iter()
            .filter_map(|r| r.id().map(str::to_string))
            .collect();
        let object = object.to_string();
        let upserted = live.len() as u64;
        let deleted = deletes.len() as u64;
        self.store
            .with(move |s| {
                s.apply_page(
                    &object,
                    &PageWrite {
                        upserts: &live,
                        deletes: &deletes,
                        cursor: cursor.as_ref(),
                    },
                )
            })
            .await?;
        Ok((upserted, deleted))
    }

    /// No SystemModstamp: read everything, then delete rows that were not returned.
    async fn full_refresh(&self, plan: &ObjectPlan) -> Result<ObjectOutcome, SyncError> {
        let mut outcome = ObjectOutcome {
            from_start: true,
            ..ObjectOutcome::default()
        };
        let select = read_select(&plan.object, &plan.fields, false, None);
        let mut pages = self.client.select_pages(
            &select,
            QueryOptions {
                include_deleted: false,
                batch_size: Some(BATCH_SIZE),
            },
        );
        let mut seen: HashSet<String> = HashSet::new();
        let mut expected = None;
        while let Some(page) = pages.next().await {
            if self.stop.is_stopped() {
                return Ok(outcome);
            }
            let page = page?;
            expected.get_or_insert(page.total_size);
            seen.extend(
                page.records
                    .iter()
                    .filter_map(|r| r.id().map(str::to_string)),
            );
            let (upserted, _) = self.commit(&plan.object, page.records, None).await?;
            outcome.upserted += upserted;
            self.observer
                .progress(&plan.object, outcome.upserted, expected);
        }
        let object = plan.object.clone();
        let field_set = plan.field_set();
        let deleted = self
            .store
            .with(move |s| {
                let gone: Vec<String> = s
                    .all_ids(&object)?
                    .into_iter()
                    .filter(|id| !seen.contains(id))
                    .collect();
                let cursor = Cursor {
                    system_modstamp: String::new(),
                    last_id: String::new(),
                    field_set_hash: field_set,
                    full_sync_done: true,
                };
                s.apply_page(
                    &object,
                    &PageWrite {
                        upserts: &Records::default(),
                        deletes: &gone,
                        cursor: Some(&cursor),
                    },
                )
            })
            .await?;
        outcome.deleted = deleted.deleted;
        outcome.finished = true;
        Ok(outcome)
    }

    /// Re-read just the formula columns of every live row.
    pub(super) async fn reread_formulas(&self, plan: &ObjectPlan) -> Result<bool, SyncError> {
        let pages = self
            .client
            .select_pages(&formula_select(plan), FORMULA_OPTIONS);
        self.commit_formula_pages(plan, pages).await
    }

    /// Commit pages of formula columns; false when stopped before the end.
    pub(super) async fn commit_formula_pages(
        &self,
        plan: &ObjectPlan,
        mut pages: Pages,
    ) -> Result<bool, SyncError> {
        while let Some(page) = pages.next().await {
            if self.stop.is_stopped() {
                return Ok(false);
            }
            let page = page?;
            self.commit(&plan.object, page.records, None).await?;
        }
        Ok(true)
    }
}

/// Formula columns are re-read after a finished incremental read when the policy says so
/// (a read from the start has just read them).
pub fn formulas_due(plan: &ObjectPlan, options: ObjectOptions, outcome: &ObjectOutcome) -> bool {
    outcome.finished
        && plan.has_modstamp
        && options.reread_formulas
        && !outcome.from_start
        && !plan.formula_fields.is_empty()
}

/// Formula re-reads see live rows only, in pages of `BATCH_SIZE`.
pub const FORMULA_OPTIONS: QueryOptions = QueryOptions {
    include_deleted: false,
    batch_size: Some(BATCH_SIZE),
};

/// The query that re-reads `plan`'s formula columns of every live row.
pub fn formula_select(plan: &ObjectPlan) -> Select {
    Select::new(&plan.object)
        .fields(&plan.formula_fields)
        .order_by_id()
}

/// The checkpoint after `page`: its last record's position, capped at the query's start
/// (minus clock skew) so rows changed during the query are never skipped after a crash.
fn page_cursor(
    page: &QueryPage,
    query_started: DateTime<Utc>,
    field_set: &str,
    full_sync_done: bool,
) -> Option<Cursor> {
    let last = page.records.last()?;
    let stamp = last.get("SystemModstamp").and_then(FieldValue::as_str)?;
    let at = parse_stamp(stamp)?;
    let cap = query_started - CLOCK_SKEW;
    let (system_modstamp, last_id) = if at <= cap {
        (stamp.to_string(), last.id().unwrap_or_default().to_string())
    } else {
        (
            cap.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            String::new(),
        )
    };
    Some(Cursor {
        system_modstamp,
        last_id,
        field_set_hash: field_set.to_string(),
        full_sync_done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn plan(fields: &[&str]) -> ObjectPlan {
        ObjectPlan {
            object: "Account".into(),
            fields: fields.iter().map(|s| s.to_string()).collect(),
            store_fields: Vec::new(),
            has_modstamp: true,
            formula_fields: Vec::new(),
        }
    }

    #[test]
    fn field_set_tells_added_from_removed() {
        let old = plan(&["Name", "Industry"]).field_set();
        assert_eq!(old, "fields-v1:Industry,Name");
        let more = plan(&["Name", "Industry", "Phone"]).field_set();
        assert_eq!(added_fields(&old, &more), Some(vec!["Phone".to_string()]));
        let fewer = plan(&["Name"]).field_set();
        assert_eq!(added_fields(&old, &fewer), Some(vec![]));
        assert_eq!(added_fields("legacy-hash", &fewer), None);
    }

    fn page(records: serde_json::Value, done: bool) -> QueryPage {
        let body = json!({"totalSize": 5, "done": done, "records": records});
        QueryPage::from_json(body.to_string().into_bytes()).unwrap()
    }

    #[test]
    fn cursor_is_the_last_row_but_never_past_the_query_start() {
        let started = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let p = page(
            json!([
                {"Id": "001A", "SystemModstamp": "2026-06-01T10:00:00.000+0000"},
                {"Id": "001B", "SystemModstamp": "2026-06-01T11:00:00.000+0000"}
            ]),
            false,
        );
        let c = page_cursor(&p, started, "fields-v1:Name", false).unwrap();
        assert_eq!(c.system_modstamp, "2026-06-01T11:00:00.000+0000");
        assert_eq!(c.last_id, "001B");

        // The last row was changed while the query ran: cap at start - skew.
        let p = page(
            json!([{"Id": "001C", "SystemModstamp": "2026-06-01T12:00:05.000+0000"}]),
            true,
        );
        let c = page_cursor(&p, started, "fields-v1:Name", true).unwrap();
        assert_eq!(c.system_modstamp, "2026-06-01T11:55:00.000Z");
        assert!(c.full_sync_done);
        assert!(page_cursor(&page(json!([]), true), started, "x", true).is_none());
    }
}
