//! Reading a large object through Bulk API 2.0 instead of REST pages.
//!
//! - **Route.** Per object and run: Bulk when the object is read from the start (first
//!   sync, full run, backfill) and holds more rows than the source's `bulk_threshold`
//!   (`limits/recordCount`, one call for all candidates), and Bulk can read the object and
//!   its selected fields (compounds by their components; base64 cannot). Otherwise REST,
//!   which is also what incremental runs use, unless their cursor is more than a day
//!   behind and a `COUNT()` of the changes since finds more than the threshold (a
//!   catch-up). The reason is reported either way.
//! - **Resumable.** The job id, the locator of the set being read and the rows of it
//!   committed are stored in the same transaction as each page (`BulkMark`), saved right
//!   after the job is created. A killed process resumes the same job; a job that is gone
//!   (404) starts again from the cursor.
//! - **Cursor.** Bulk results are unordered, so only the end of the read sets the cursor:
//!   the job's creation time minus `CLOCK_SKEW`, never the newest SystemModstamp seen.
//! - **Failure.** A job that fails, is refused (unsupported object or field, daily job
//!   limit) or returns results that do not decode is abandoned with a warning event and the
//!   object is read through REST. Quota vetoes, auth and network errors stop the run as
//!   they do for REST; the checkpoint stays for the next run.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::model::Records;
use crate::salesforce::bulk::{
    BulkJob, BulkPosition, BulkShape, DEFAULT_MAX_RECORDS, JobState, PollPolicy,
};
use crate::salesforce::read_plan::{ReadVia, backfill_via};
use crate::salesforce::types::Describe;
use crate::salesforce::{Client, ErrorClass};
use crate::store::{BulkCheckpoint, BulkMark, Cursor, PageWrite};
use crate::sync::SyncError;
use crate::sync::object_sync::{
    CLOCK_SKEW, OVERLAP, ObjectOptions, ObjectOutcome, ObjectPlan, ObjectSync,
};
use crate::sync::shared_store::SharedStore;

/// How Bulk reads behave for one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkSettings {
    /// Objects with more rows than this are read through Bulk when read from the start;
    /// 0 turns Bulk off.
    pub threshold: u64,
    pub poll: PollPolicy,
    pub max_records: u64,
}

impl BulkSettings {
    pub fn new(threshold: u64) -> BulkSettings {
        BulkSettings {
            threshold,
            poll: PollPolicy::default(),
            max_records: DEFAULT_MAX_RECORDS,
        }
    }
}

/// How one object is read this run, and why (shown to the operator).
#[derive(Debug, Clone)]
pub enum Route {
    Rest {
        reason: String,
    },
    Bulk {
        reason: String,
        shape: Arc<BulkShape>,
        /// `limits/recordCount`'s estimate (none when resuming): paces the polls.
        records: Option<u64>,
    },
}

impl Route {
    pub fn reason(&self) -> &str {
        match self {
            Route::Rest { reason } | Route::Bulk { reason, .. } => reason,
        }
    }

    pub fn is_bulk(&self) -> bool {
        matches!(self, Route::Bulk { .. })
    }
}

/// What is known of a plan's route before record counts are asked for.
#[derive(Debug, Clone)]
enum Decision {
    Decided(Route),
    /// Read from the start and Bulk can read it: its record count decides.
    Candidate(Arc<BulkShape>),
    /// An incremental read whose cursor is more than `CATCH_UP_AFTER` behind: the count of
    /// changes since the cursor decides (one `COUNT()` call).
    CatchUp {
        shape: Arc<BulkShape>,
        since: DateTime<Utc>,
    },
}

/// A cursor this far behind (a paused source, a long outage) may have more changes than
/// REST pages should carry, so they are counted first. Regular schedules never pay the
/// count: an incremental run with no changes still costs one call per object.
pub const CATCH_UP_AFTER: chrono::Duration = chrono::Duration::days(1);

/// The route of `plan` as far as the store tells: its cursor, its Bulk checkpoint and its
/// cached describe. Pure, so each reason can be tested.
fn decide(
    plan: &ObjectPlan,
    cursor: Option<&Cursor>,
    checkpoint: Option<&BulkCheckpoint>,
    describe: Option<&Describe>,
    full: bool,
    now: DateTime<Utc>,
) -> Decision {
    let rest = |reason: String| Decision::Decided(Route::Rest { reason });
    let shape = describe
        .ok_or_else(|| "no cached describe".to_string())
        .and_then(|d| BulkShape::new(d, &plan.fields).map_err(|e| e.to_string()));
    let shape = match shape {
        Ok(s) => Arc::new(s),
        Err(why) => return rest(why),
    };
    let field_set = plan.field_set();
    if let Some(cp) = checkpoint.filter(|c| c.field_set == field_set) {
        return Decision::Decided(Route::Bulk {
            reason: format!("resuming Bulk job {}", cp.job_id),
            shape,
            records: None,
        });
    }
    let from_start = full
        || cursor.is_none_or(|c| {
            crate::sync::object_sync::added_fields(&c.field_set_hash, &field_set)
                .is_none_or(|added| !added.is_empty())
        });
    if from_start {
        return Decision::Candidate(shape);
    }
    if let Some(c) = cursor.filter(|c| c.full_sync_done)
        && let Ok(at) = crate::model::parse_datetime(&c.system_modstamp)
        && at < now - CATCH_UP_AFTER
    {
        return Decision::CatchUp {
            shape,
            since: at - OVERLAP,
        };
    }
    rest(if cursor.is_some_and(|c| !c.full_sync_done) {
        "continuing its first sync from the cursor".into()
    } else {
        "incremental run".into()
    })
}

/// Choose each plan's route (same order as `plans`). Costs one `limits/recordCount` call
/// when some object is read from the start; none otherwise.
pub async fn choose_routes(
    client: &Client,
    store: &SharedStore,
    plans: &[ObjectPlan],
    full: bool,
    now: DateTime<Utc>,
    settings: BulkSettings,
) -> Result<Vec<Route>, SyncError> {
    let rest = |reason: &str| Route::Rest {
        reason: reason.to_string(),
    };
    let mut routes: Vec<Route> = Vec::with_capacity(plans.len());
    let mut candidates: Vec<(usize, Arc<BulkShape>)> = Vec::new();
    for (index, plan) in plans.iter().enumerate() {
        if settings.threshold == 0 {
            routes.push(rest("Bulk API off (bulk_threshold = 0)"));
            continue;
        }
        let object = plan.object.clone();
        let (cursor, checkpoint, cached) = store
            .with(move |s| {
                Ok((
                    s.cursor(&object)?,
                    s.bulk_checkpoint(&object)?,
                    s.get_schema(&object)?,
                ))
            })
            .await?;
        let describe = cached.and_then(|c| serde_json::from_str::<Describe>(&c.json).ok());
        match decide(
            plan,
            cursor.as_ref(),
            checkpoint.as_ref(),
            describe.as_ref(),
            full,
            now,
        ) {
            Decision::Decided(route) => routes.push(route),
            Decision::Candidate(shape) => {
                candidates.push((index, shape));
                routes.push(rest("pending"));
            }
            Decision::CatchUp { shape, since } => {
                routes.push(catch_up_route(client, &plan.object, shape, since, settings).await?);
            }
        }
    }
    if candidates.is_empty() {
        return Ok(routes);
    }
    let names: Vec<String> = candidates
        .iter()
        .map(|(index, _)| plans[*index].object.clone())
        .collect();
    let counts = match client.record_count(&names).await {
        Ok(c) => c.sobjects,
        Err(e) if matches!(e.class(), ErrorClass::Vetoed | ErrorClass::AuthRequired) => {
            return Err(e.into());
        }
        Err(e) => {
            tracing::warn!("record counts unavailable, reading through REST: {e}");
            Vec::new()
        }
    };
    for (index, shape) in candidates {
        let object = &plans[index].object;
        let count = counts.iter().find(|r| r.name == *object).map(|r| r.count);
        routes[index] = match count {
            Some(n) if backfill_via(n, settings.threshold, true) == ReadVia::Bulk => Route::Bulk {
                reason: format!(
                    "about {n} records, over bulk_threshold {}",
                    settings.threshold
                ),
                shape,
                records: Some(n),
            },
            Some(n) => rest(&format!(
                "about {n} records, within bulk_threshold {}",
                settings.threshold
            )),
            None => rest("record count unknown"),
        };
    }
    Ok(routes)
}

/// The route of a catch-up: Bulk when more rows changed since `since` than the threshold.
async fn catch_up_route(
    client: &Client,
    object: &str,
    shape: Arc<BulkShape>,
    since: DateTime<Utc>,
    settings: BulkSettings,
) -> Result<Route, SyncError> {
    let soql = crate::salesforce::soql::count(object, Some(since))
        .map_err(|e| SyncError::Config(e.to_string()))?;
    let changes = match client.count(&soql).await {
        Ok(n) => n,
        Err(e) if matches!(e.class(), ErrorClass::Vetoed | ErrorClass::AuthRequired) => {
            return Err(e.into());
        }
        Err(e) => {
            tracing::warn!(
                object,
                "change count unavailable, reading through REST: {e}"
            );
            return Ok(Route::Rest {
                reason: "incremental run (change count unavailable)".into(),
            });
        }
    };
    let threshold = settings.threshold;
    Ok(match backfill_via(changes, threshold, true) {
        ReadVia::Bulk => Route::Bulk {
            reason: format!(
                "catching up about {changes} changed records, over bulk_threshold {threshold}"
            ),
            shape,
            records: Some(changes),
        },
        ReadVia::Rest => Route::Rest {
            reason: format!("incremental run (about {changes} changed records)"),
        },
    })
}

/// Why a Bulk read ended early.
enum Failure {
    /// Read the object through REST instead (a warning says why).
    Fallback(String),
    /// Stop like a REST read would.
    Sync(SyncError),
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Failure {
        Failure::Sync(e)
    }
}

/// Errors after which REST is tried: the job or its results are refused or unusable.
/// Quota, auth, permission and network trouble stop the run instead.
fn fallback_or_stop(e: crate::salesforce::Error) -> Failure {
    if e.class() == ErrorClass::Fatal {
        Failure::Fallback(e.to_string())
    } else {
        Failure::Sync(e.into())
    }
}

fn is_gone(e: &crate::salesforce::Error) -> bool {
    e.fault()
        .is_some_and(|f| f.status == Some(404) || f.code == "NOT_FOUND")
}

/// The job to read and where to start.
struct Job {
    id: String,
    started: String,
    from: BulkPosition,
}

/// Sleep slices while polling, so a stop is noticed soon.
const STOP_CHECK: StdDuration = StdDuration::from_millis(200);

impl ObjectSync<'_> {
    /// Read `plan` through Bulk (`shape`), or through REST when Bulk fails for it.
    pub async fn run_bulk(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
        shape: Arc<BulkShape>,
        expected: Option<u64>,
        settings: BulkSettings,
    ) -> Result<ObjectOutcome, SyncError> {
        self.ensure_table(plan).await?;
        match self
            .bulk_read(plan, options, shape, expected, settings)
            .await
        {
            Ok(outcome) => Ok(outcome),
            Err(Failure::Sync(e)) => Err(e),
            Err(Failure::Fallback(reason)) => {
                let object = plan.object.clone();
                self.store
                    .with(move |s| s.clear_bulk_checkpoint(&object))
                    .await?;
                self.observer.bulk_fallback(
                    &plan.object,
                    &format!("{reason}; reading it through REST instead"),
                );
                self.run(plan, options).await
            }
        }
    }

    async fn bulk_read(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
        shape: Arc<BulkShape>,
        expected: Option<u64>,
        settings: BulkSettings,
    ) -> Result<ObjectOutcome, Failure> {
        let object = plan.object.clone();
        let field_set = plan.field_set();
        let key = object.clone();
        let checkpoint = self
            .store
            .with(move |s| s.bulk_checkpoint(&key))
            .await?
            .filter(|c| c.field_set == field_set);
        let mut outcome = ObjectOutcome {
            from_start: true,
            ..ObjectOutcome::default()
        };
        let resumed = match checkpoint {
            Some(cp) => match self.client.bulk_job(&cp.job_id).await {
                Ok(_) => Some(Job {
                    id: cp.job_id,
                    started: cp.job_started,
                    from: BulkPosition {
                        locator: cp.locator,
                        rows_done: cp.rows_done,
                    },
                }),
                Err(e) if is_gone(&e) => {
                    self.observer.bulk_fallback(
                        &object,
                        &format!(
                            "Bulk job {} is gone; starting again from the cursor",
                            cp.job_id
                        ),
                    );
                    None
                }
                Err(e) => return Err(fallback_or_stop(e)),
            },
            None => None,
        };
        let job = match resumed {
            Some(job) => job,
            None => {
                let read = self.begin_incremental(plan, options).await?;
                outcome.backfill = read.outcome.backfill;
                outcome.from_start = read.outcome.from_start;
                self.create_job(plan, &shape, read.since()).await?
            }
        };
        let info = match self
            .wait_for(&object, &job.id, settings.poll, expected)
            .await?
        {
            Some(info) => info,
            None => return Ok(outcome),
        };
        if let Some(failure) = info.failure() {
            self.client.bulk_discard(&job.id).await;
            return Err(Failure::Fallback(failure));
        }
        self.download(plan, shape, job, info, settings, outcome)
            .await
    }

    /// Create the job and checkpoint it at once, so a kill while it runs resumes it.
    async fn create_job(
        &self,
        plan: &ObjectPlan,
        shape: &BulkShape,
        since: Option<chrono::DateTime<Utc>>,
    ) -> Result<Job, Failure> {
        let soql = shape
            .select(since)
            .build()
            .map_err(|e| Failure::Fallback(e.to_string()))?;
        let started =
            (Utc::now() - CLOCK_SKEW).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let job = self
            .client
            .bulk_create(&soql, true)
            .await
            .map_err(fallback_or_stop)?;
        let checkpoint = BulkCheckpoint {
            job_id: job.id.clone(),
            locator: None,
            rows_done: 0,
            job_started: started.clone(),
            field_set: plan.field_set(),
        };
        let object = plan.object.clone();
        self.store
            .with(move |s| {
                s.apply_bulk_page(&object, &PageWrite::default(), BulkMark::Save(&checkpoint))
            })
            .await?;
        Ok(Job {
            id: job.id,
            started,
            from: BulkPosition::default(),
        })
    }

    /// Poll until the job ends; `None` when the run was stopped meanwhile.
    async fn wait_for(
        &self,
        object: &str,
        id: &str,
        policy: PollPolicy,
        expected: Option<u64>,
    ) -> Result<Option<BulkJob>, Failure> {
        let began = std::time::Instant::now();
        let mut polls = 0u32;
        // The last poll that saw the job processing rows: when, and how many.
        let mut seen: Option<(std::time::Instant, u64)> = None;
        loop {
            let job = self.client.bulk_job(id).await.map_err(fallback_or_stop)?;
            let now = std::time::Instant::now();
            self.observer
                .bulk_job(object, job.state.label(), job.records_processed);
            if job.state.is_terminal() {
                return Ok(Some(job));
            }
            let processing = job.state == JobState::InProgress;
            let wait = match (seen, expected) {
                (Some((at, before)), Some(total))
                    if processing && job.records_processed > before =>
                {
                    let rate = (job.records_processed - before) as f64
                        / now.duration_since(at).as_secs_f64().max(1e-3);
                    let remaining = total.saturating_sub(job.records_processed);
                    policy.wait_for_rows(polls, remaining, rate)
                }
                _ => policy.wait(polls),
            };
            if processing {
                seen = Some((now, job.records_processed));
            }
            polls = polls.saturating_add(1);
            if began.elapsed().saturating_add(wait) > policy.give_up_after {
                self.client.bulk_discard(id).await;
                return Err(Failure::Fallback(format!(
                    "Bulk job {id} did not finish within {} s",
                    policy.give_up_after.as_secs()
                )));
            }
            let until = std::time::Instant::now() + wait;
            while std::time::Instant::now() < until {
                if self.stop.is_stopped() {
                    return Ok(None);
                }
                tokio::time::sleep(STOP_CHECK.min(until - std::time::Instant::now())).await;
            }
        }
    }

    async fn download(
        &self,
        plan: &ObjectPlan,
        shape: Arc<BulkShape>,
        job: Job,
        info: BulkJob,
        settings: BulkSettings,
        mut outcome: ObjectOutcome,
    ) -> Result<ObjectOutcome, Failure> {
        let object = plan.object.clone();
        let field_set = plan.field_set();
        let final_cursor = Cursor {
            system_modstamp: job.started.clone(),
            last_id: String::new(),
            field_set_hash: field_set.clone(),
            full_sync_done: true,
        };
        let expected = Some(info.records_processed);
        let mut done = job.from.rows_done;
        let mut pages =
            self.client
                .bulk_pages(&job.id, shape, job.from.clone(), settings.max_records);
        let mut ended = false;
        while let Some(page) = pages.next().await {
            let page = page.map_err(fallback_or_stop)?;
            let checkpoint = BulkCheckpoint {
                job_id: job.id.clone(),
                locator: page.after.locator.clone(),
                rows_done: page.after.rows_done,
                job_started: job.started.clone(),
                field_set: field_set.clone(),
            };
            let (cursor, mark) = if page.last {
                (Some(&final_cursor), BulkMark::Clear)
            } else {
                (None, BulkMark::Save(&checkpoint))
            };
            let (up, del) = self
                .commit_marked(&object, page.records, cursor, mark)
                .await?;
            outcome.upserted += up;
            outcome.deleted += del;
            done = done.saturating_add(up + del);
            self.observer.progress(&object, done, expected);
            if page.last {
                ended = true;
                break;
            }
            if self.stop.is_stopped() {
                // A chunk boundary: the checkpoint just committed resumes here.
                return Ok(outcome);
            }
        }
        if !ended {
            // No rows at all (or none after the checkpoint): the read still ends here.
            self.commit_marked(
                &object,
                Records::default(),
                Some(&final_cursor),
                BulkMark::Clear,
            )
            .await?;
        }
        outcome.finished = true;
        Ok(outcome)
    }

    /// Upsert live rows and delete deleted ones, with the cursor and the Bulk mark, in one
    /// transaction.
    async fn commit_marked(
        &self,
        object: &str,
        records: Records,
        cursor: Option<&Cursor>,
        mark: BulkMark<'_>,
    ) -> Result<(u64, u64), SyncError> {
        let (deleted, live) = records.partition(|r| r.is_deleted());
        let deletes: Vec<String> = deleted
            .iter()
            .filter_map(|r| r.id().map(str::to_string))
            .collect();
        let (upserted, removed) = (live.len() as u64, deletes.len() as u64);
        let object = object.to_string();
        let cursor = cursor.cloned();
        let checkpoint = match mark {
            BulkMark::Save(c) => Some(c.clone()),
            BulkMark::Clear => None,
        };
        self.store
            .with(move |s| {
                let mark = checkpoint.as_ref().map_or(BulkMark::Clear, BulkMark::Save);
                s.apply_bulk_page(
                    &object,
                    &PageWrite {
                        upserts: &live,
                        deletes: &deletes,
                        cursor: cursor.as_ref(),
                    },
                    mark,
                )
            })
            .await?;
        Ok((upserted, removed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn describe(extra: serde_json::Value) -> Describe {
        let mut fields = vec![
            json!({"name": "Id", "type": "id"}),
            json!({"name": "IsDeleted", "type": "boolean"}),
            json!({"name": "SystemModstamp", "type": "datetime"}),
            json!({"name": "Name", "type": "string"}),
        ];
        fields.push(extra);
        serde_json::from_value(json!({"name": "Account", "fields": fields})).unwrap()
    }

    fn plan(fields: &[&str]) -> ObjectPlan {
        ObjectPlan {
            object: "Account".into(),
            fields: fields.iter().map(|s| s.to_string()).collect(),
            store_fields: Vec::new(),
            has_modstamp: true,
            formula_fields: Vec::new(),
        }
    }

    fn reason(d: Decision) -> String {
        match d {
            Decision::Decided(route) => format!("{}: {}", route.is_bulk(), route.reason()),
            Decision::Candidate(_) => "candidate".into(),
            Decision::CatchUp { since, .. } => format!("catch up from {since}"),
        }
    }

    /// Half a day after the cursors below.
    fn now() -> DateTime<Utc> {
        crate::model::parse_datetime("2026-01-01T12:00:00.000Z").unwrap()
    }

    fn cursor(fields: &str, done: bool) -> Cursor {
        Cursor {
            system_modstamp: "2026-01-01T00:00:00.000Z".into(),
            last_id: String::new(),
            field_set_hash: fields.into(),
            full_sync_done: done,
        }
    }

    #[test]
    fn each_route_says_why() {
        let logo = json!({"name": "Logo__c", "type": "base64"});
        let d = describe(logo);
        let first = plan(&["Name"]);
        assert_eq!(
            reason(decide(&first, None, None, Some(&d), false, now())),
            "candidate"
        );
        assert!(
            reason(decide(
                &plan(&["Name", "Logo__c"]),
                None,
                None,
                Some(&d),
                false,
                now()
            ))
            .starts_with("false: Account.Logo__c is a base64 field"),
        );
        assert_eq!(
            reason(decide(&first, None, None, None, false, now())),
            "false: no cached describe"
        );
        let synced = cursor(&first.field_set(), true);
        assert_eq!(
            reason(decide(&first, Some(&synced), None, Some(&d), false, now())),
            "false: incremental run"
        );
        assert_eq!(
            reason(decide(&first, Some(&synced), None, Some(&d), true, now())),
            "candidate"
        );
        let halfway = cursor(&first.field_set(), false);
        assert_eq!(
            reason(decide(&first, Some(&halfway), None, Some(&d), false, now())),
            "false: continuing its first sync from the cursor"
        );
        let older = cursor(&plan(&[]).field_set(), true);
        assert_eq!(
            reason(decide(&first, Some(&older), None, Some(&d), false, now())),
            "candidate",
            "added fields: a backfill"
        );
        let cp = BulkCheckpoint {
            job_id: "750000000000001AAA".into(),
            locator: None,
            rows_done: 0,
            job_started: "2026-01-01T00:00:00.000Z".into(),
            field_set: first.field_set(),
        };
        assert_eq!(
            reason(decide(
                &first,
                Some(&synced),
                Some(&cp),
                Some(&d),
                false,
                now()
            )),
            "true: resuming Bulk job 750000000000001AAA"
        );
        let stale = BulkCheckpoint {
            field_set: "fields-v1:Other".into(),
            ..cp
        };
        assert_eq!(
            reason(decide(
                &first,
                Some(&synced),
                Some(&stale),
                Some(&d),
                false,
                now()
            )),
            "false: incremental run",
            "a checkpoint of another field set is not resumed"
        );
        let days_later = now() + chrono::Duration::days(2);
        assert_eq!(
            reason(decide(
                &first,
                Some(&synced),
                None,
                Some(&d),
                false,
                days_later
            )),
            "catch up from 2025-12-31 23:59:59 UTC",
            "a cursor days behind counts its changes first"
        );
        assert_eq!(
            reason(decide(
                &first,
                Some(&halfway),
                None,
                Some(&d),
                false,
                days_later
            )),
            "false: continuing its first sync from the cursor"
        );
    }

    /// Review prices the route the run takes: both ask `BulkShape` on the same describe
    /// (Review through the schema `syncdeck fields` builds from it), so a compound field
    /// whose components the describe does not list sends the object to REST in both.
    #[test]
    fn review_and_the_run_route_every_selection_alike() {
        use crate::fields::{ReadSettings, ReadVia, Selection, estimate_cost};
        use crate::model::{ObjectSchema, OrgSchema};
        let d: Describe = serde_json::from_value(json!({"name": "Account", "fields": [
            {"name": "Id", "type": "id"},
            {"name": "IsDeleted", "type": "boolean"},
            {"name": "SystemModstamp", "type": "datetime"},
            {"name": "Name", "type": "string"},
            {"name": "BillingAddress", "type": "address"},
            {"name": "BillingCity", "type": "string", "compoundFieldName": "BillingAddress"},
            {"name": "Spot__c", "type": "location"},
            {"name": "Logo__c", "type": "base64"},
        ]}))
        .unwrap();
        let schema = OrgSchema {
            objects: vec![ObjectSchema {
                name: "Account".into(),
                label: "Account".into(),
                record_count: Some(1_000_000),
                fields: crate::sync::describe_cache::object_fields(&d),
                ..ObjectSchema::default()
            }],
        };
        let settings = ReadSettings {
            bulk_threshold: 1_000,
            query_cursors: 1,
        };
        let cases: [(&[&str], bool); 5] = [
            (&["Name"], true),
            (&["Name", "BillingAddress"], true),
            (&["Name", "Spot__c"], false),
            (&["Name", "Logo__c"], false),
            (&["Name", "Gone__c"], true),
        ];
        for (fields, bulk) in cases {
            let mut selection = Selection::new();
            for f in fields {
                selection.insert("Account", f);
            }
            let review = estimate_cost(&schema, &Selection::new(), &selection, None, settings);
            let review_bulk = review.objects[0].backfill_via == ReadVia::Bulk;
            let selected = crate::config::ObjectSelection {
                fields: fields.iter().map(|f| f.to_string()).collect(),
            };
            let (run_plan, _) = crate::sync::describe_cache::plan("Account", &selected, &d);
            let run_bulk = matches!(
                decide(&run_plan, None, None, Some(&d), false, now()),
                Decision::Candidate(_)
            );
            assert_eq!((review_bulk, run_bulk), (bulk, bulk), "{fields:?}");
        }
    }
}
