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
use crate::sync::page_feed::{Fed, PageFeed};
use crate::sync::shared_store::SharedStore;
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
}

pub struct ObjectSync<'a> {
    pub client: &'a Client,
    pub store: &'a SharedStore,
    pub stop: &'a StopSignal,
    pub observer: &'a dyn ObjectObserver,
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
        let object = plan.object.clone();
        let fields = plan.store_fields.clone();
        self.store
            .with(move |s| s.ensure_object_table(&object, &fields))
            .await?;
        let mut outcome = if plan.has_modstamp {
            self.incremental(plan, options).await?
        } else {
            self.full_refresh(plan).await?
        };
        if outcome.finished
            && plan.has_modstamp
            && options.reread_formulas
            && !outcome.from_start
            && !plan.formula_fields.is_empty()
        {
            outcome.formulas_reread = self.reread_formulas(plan).await?;
        }
        Ok(outcome)
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
        let (start, was_done) = self.start_point(plan, options.full).await?;
        let mut outcome = ObjectOutcome::default();
        let mut since = match start {
            Start::FromBeginning { backfill } => {
                outcome.from_start = true;
                outcome.backfill = backfill;
                None
            }
            Start::After(at) => Some(at),
        };
        let field_set = plan.field_set();
        let mut done = 0u64;
        let mut restarts = 0;
        'query: loop {
            if self.stop.is_stopped() {
                return Ok(outcome);
            }
            let query_started = Utc::now();
            let select = read_select(&plan.object, &plan.fields, true, since);
            let pages = self.client.select_pages(
                &select,
                QueryOptions {
                    include_deleted: true,
                    batch_size: Some(BATCH_SIZE),
                },
            );
            let mut expected: Option<u64> = None;
            let mut last_cursor: Option<Cursor> = None;
            let mut feed = PageFeed::start(pages, self.stop.clone());
            loop {
                let page = match feed.next().await? {
                    Fed::End => break,
                    Fed::Stopped => return Ok(outcome),
                    Fed::Page(Ok(p)) => p,
                    Fed::Page(Err(e))
                        if e.class() == ErrorClass::InvalidQueryLocator
                            && restarts < MAX_RESTARTS =>
                    {
                        restarts += 1;
                        tracing::warn!(object = %plan.object, "query locator expired; restarting from the cursor");
                        let object = plan.object.clone();
                        let cursor = self.store.with(move |s| s.cursor(&object)).await?;
                        since = cursor
                            .and_then(|c| parse_stamp(&c.system_modstamp))
                            .map(|at| at - OVERLAP)
                            .or(since);
                        continue 'query;
                    }
                    Fed::Page(Err(e)) => return Err(e.into()),
                };
                let base = done;
                expected.get_or_insert(base.saturating_add(page.total_size));
                let cursor = page_cursor(
                    &page,
                    query_started,
                    &field_set,
                    was_done && !outcome.from_start,
                )
                .or_else(|| last_cursor.clone());
                let is_last = page.done;
                let cursor = cursor.map(|mut c| {
                    c.full_sync_done = c.full_sync_done || is_last;
                    c
                });
                let (upserted, deleted) = self
                    .commit(&plan.object, page.records, cursor.clone())
                    .await?;
                outcome.upserted += upserted;
                outcome.deleted += deleted;
                done += upserted + deleted;
                last_cursor = cursor;
                self.observer.progress(&plan.object, done, expected);
                if self.stop.is_stopped() {
                    // Page boundary: committed work stays, pages fetched ahead are dropped.
                    return Ok(outcome);
                }
            }
            // An empty result still records the field set and that the first sync is done.
            if last_cursor.is_none() {
                let object = plan.object.clone();
                let stored = self.store.with(move |s| s.cursor(&object)).await?;
                let cursor = match stored {
                    Some(mut c) => {
                        c.field_set_hash = field_set.clone();
                        c.full_sync_done = true;
                        c
                    }
                    None => Cursor {
                        system_modstamp: String::new(),
                        last_id: String::new(),
                        field_set_hash: field_set.clone(),
                        full_sync_done: true,
                    },
                };
                let object = plan.object.clone();
                self.store
                    .with(move |s| s.set_cursor(&object, &cursor))
                    .await?;
            }
            outcome.finished = true;
            return Ok(outcome);
        }
    }

    /// Upsert live rows and delete deleted ones, with the cursor, in one transaction.
    async fn commit(
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
    async fn reread_formulas(&self, plan: &ObjectPlan) -> Result<bool, SyncError> {
        let select = Select::new(&plan.object)
            .fields(&plan.formula_fields)
            .order_by_id();
        let mut pages = self.client.select_pages(
            &select,
            QueryOptions {
                include_deleted: false,
                batch_size: Some(BATCH_SIZE),
            },
        );
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
