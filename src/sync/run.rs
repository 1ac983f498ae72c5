//! One run of one source: schema, the daily permission check, then every selected object
//! with a small concurrency bound, recorded in the store's run history.

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;

use crate::config::{FormulaPolicy, SourceConfig};
use crate::model::{RunKind, RunOutcome, RunSummary, SkippedFields};
use crate::salesforce::read_plan::read_select;
use crate::salesforce::{Client, ErrorClass};
use crate::store::{RunId, RunRecord, RunRow};
use crate::sync::SyncError;
use crate::sync::bulk_read::{self, BulkSettings, Route};
use crate::sync::clock::SharedClock;
use crate::sync::describe_cache::{self, PERMISSIONS_CHECKED, formulas_reread_key};
use crate::sync::hooks::EngineHooks;
use crate::sync::object_sync::{
    Incremental, ObjectObserver, ObjectOptions, ObjectOutcome, ObjectPlan, ObjectSync,
};
use crate::sync::shared_store::SharedStore;
use crate::sync::sliced_read::QueryCursors;
use crate::sync::stop::{StopReason, StopSignal};

/// Objects synced at once per source.
pub const OBJECT_CONCURRENCY: usize = 3;
/// Permissions of the authorizing user are re-checked this often (one query).
pub const PERMISSION_CHECK_EVERY: Duration = Duration::days(1);
/// Formula columns are re-read this often under the default policy.
pub const FORMULA_REREAD_EVERY: Duration = Duration::days(1);
/// Usage samples older than this are pruned.
const KEEP_USAGE: Duration = Duration::days(7);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// Discard cursors and re-read everything.
    pub full: bool,
    /// Sync only this object.
    pub only_object: Option<String>,
    /// Re-fetch describes even when cached.
    pub refresh_schema: bool,
}

/// What a run reports while it goes.
pub trait RunObserver: Send + Sync {
    fn started(&self, kind: RunKind, objects: &[String]);
    fn object_progress(&self, object: &str, done: u64, expected: Option<u64>);
    fn object_finished(&self, object: &str, outcome: &ObjectOutcome);
    fn backfill(&self, object: &str, added: &[String]);
    fn warning(&self, message: String);
    /// How an object is read this run (Bulk API or REST) and why.
    fn read_route(&self, _object: &str, _bulk: bool, _reason: &str) {}
    /// A Bulk job's state and the rows Salesforce has processed so far.
    fn bulk_job(&self, _object: &str, _state: &str, _processed: u64) {}
}

/// How long a finished run waits for the cancellation of its abandoned fetches to land
/// (normally well under a millisecond). The wait watches every call of the source, so a
/// schema load running alongside may hold it up to this long, which is harmless.
const CALLS_IN_FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Everything a run needs, borrowed from its worker (or the CLI).
pub struct RunContext<'a> {
    pub source: &'a SourceConfig,
    pub client: &'a Client,
    pub hooks: &'a EngineHooks,
    pub store: &'a SharedStore,
    pub stop: &'a StopSignal,
    pub clock: &'a SharedClock,
    /// The authorizing user, for the permission re-check.
    pub user_id: Option<&'a str>,
    /// When that user authorized the source: authorization checks the same permissions,
    /// so the daily re-check counts from then too.
    pub authorized_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct RunReport {
    pub summary: RunSummary,
    pub error: Option<SyncError>,
    /// Every selected object has finished its first full read with the current fields.
    pub all_synced: bool,
    pub stopped: Option<StopReason>,
    /// A scheduled verification run right after this run (the worker fills it in).
    pub verified: Option<crate::store::VerifyRecord>,
    /// Selected fields this run could not copy, once its plans were made (`None` before
    /// that, or for a run of one object, which says nothing about the others).
    pub skipped: Option<Vec<SkippedFields>>,
}

struct Forward<'a>(&'a dyn RunObserver);

impl ObjectObserver for Forward<'_> {
    fn backfill_started(&self, object: &str, added: &[String]) {
        self.0.backfill(object, added);
    }
    fn progress(&self, object: &str, done: u64, expected: Option<u64>) {
        self.0.object_progress(object, done, expected);
    }
    fn bulk_job(&self, object: &str, state: &str, processed: u64) {
        self.0.bulk_job(object, state, processed);
    }
    fn bulk_fallback(&self, object: &str, reason: &str) {
        self.0.warning(format!("{object}: {reason}"));
    }
}

fn outcome_label(outcome: RunOutcome, error: Option<&SyncError>) -> &'static str {
    match (outcome, error) {
        (RunOutcome::Succeeded, _) => "ok",
        (RunOutcome::Interrupted, Some(SyncError::Quota(_))) => "quota",
        (RunOutcome::Interrupted, _) => "interrupted",
        (RunOutcome::Failed, _) => "error",
    }
}

/// Parse a stored outcome label back.
pub fn parse_outcome(label: &str) -> RunOutcome {
    match label {
        "ok" => RunOutcome::Succeeded,
        "quota" | "interrupted" | "cancelled" => RunOutcome::Interrupted,
        _ => RunOutcome::Failed,
    }
}

pub fn kind_label(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Initial => "initial",
        RunKind::Incremental => "incremental",
        RunKind::Full => "full",
    }
}

pub fn parse_kind(label: &str) -> RunKind {
    match label {
        "initial" => RunKind::Initial,
        "full" => RunKind::Full,
        _ => RunKind::Incremental,
    }
}

/// A stored run as the snapshot shows it; `None` while the run has not finished.
pub fn summary_of(row: &RunRow) -> Option<RunSummary> {
    Some(RunSummary {
        started: row.started,
        finished: row.finished?,
        kind: parse_kind(&row.kind),
        outcome: parse_outcome(row.outcome.as_deref()?),
        upserted: row.upserted,
        deleted: row.deleted,
        api_calls: row.api_calls,
        error: row.error.clone(),
    })
}

impl RunContext<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Turn a call's failure into the run's error, tripping the quota guard on 403.
    fn classify(&self, e: SyncError) -> SyncError {
        match e {
            SyncError::Api(api) if api.class() == ErrorClass::Vetoed => {
                match self.hooks.last_stop() {
                    Some(stop) => SyncError::Quota(stop),
                    None => SyncError::Api(api),
                }
            }
            SyncError::Api(api) if api.class() == ErrorClass::QuotaExceeded => {
                SyncError::Quota(self.hooks.guard().limit_exceeded())
            }
            other => other,
        }
    }

    pub async fn execute(&self, spec: &RunSpec, observer: &dyn RunObserver) -> RunReport {
        let started = self.now();
        self.hooks.guard().begin_run();
        let calls_before = self.hooks.calls();
        let prepared = self.prepare(spec, observer).await;
        let kind = match &prepared {
            Ok((_, kind, _)) => *kind,
            Err(_) if spec.full => RunKind::Full,
            Err(_) => RunKind::Incremental,
        };
        let run_id = self
            .store
            .with(move |s| s.begin_run(kind_label(kind), started))
            .await;
        // Rows upserted and deleted by the whole run.
        let mut counts = (0u64, 0u64);
        let mut all_synced = false;
        let mut skipped = None;
        let result = match prepared {
            Ok((plans, _, missing)) => {
                if spec.only_object.is_none() {
                    skipped = Some(missing);
                }
                self.run_objects(
                    run_id.as_ref().ok().copied(),
                    plans,
                    spec,
                    observer,
                    &mut counts,
                    &mut all_synced,
                )
                .await
            }
            Err(e) => Err(e),
        }
        .map_err(|e| self.classify(e));
        self.wait_for_calls_in_flight().await;
        let stopped = self.stop.reason().filter(|r| *r != StopReason::Failed);
        let (outcome, error) = match result {
            Ok(()) if stopped.is_some() => (RunOutcome::Interrupted, None),
            Ok(()) => (RunOutcome::Succeeded, None),
            Err(e @ SyncError::Quota(_)) => (RunOutcome::Interrupted, Some(e)),
            Err(e) => (RunOutcome::Failed, Some(e)),
        };
        let finished = self.now();
        let api_calls = self.hooks.calls() - calls_before;
        let (upserted, deleted) = counts;
        let summary = RunSummary {
            started,
            finished,
            kind,
            outcome,
            upserted,
            deleted,
            api_calls,
            error: error.as_ref().map(ToString::to_string),
        };
        self.save_usage(finished).await;
        if let Ok(id) = run_id {
            let record = RunRecord {
                finished,
                outcome: outcome_label(outcome, error.as_ref()).to_string(),
                upserted,
                deleted,
                api_calls,
                error: summary.error.clone(),
            };
            let saved = self.store.with(move |s| s.finish_run(id, &record)).await;
            if let Err(e) = saved {
                tracing::error!(source = %self.source.id, "run could not be recorded: {e}");
            }
        }
        RunReport {
            summary,
            error,
            all_synced: all_synced && outcome == RunOutcome::Succeeded,
            stopped,
            verified: None,
            skipped,
        }
    }

    /// A stopped or failed object cancels the page it was fetching ahead; the cancellation
    /// lands a moment later. The run ends when its calls do, so its call count and the
    /// usage behind a quota estimate include them.
    async fn wait_for_calls_in_flight(&self) {
        let waited = std::time::Instant::now();
        while self.hooks.guard().in_flight() > 0 {
            if waited.elapsed() > CALLS_IN_FLIGHT_WAIT {
                tracing::debug!(source = %self.source.id, "run ended with API calls of the source still in flight");
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    async fn save_usage(&self, now: DateTime<Utc>) {
        let samples = self.hooks.take_unsaved_samples();
        let latest = self.hooks.latest_reading();
        let result = self
            .store
            .with(move |s| {
                for (at, r) in &samples {
                    s.record_usage(*at, r.used, r.max)?;
                }
                if let Some((at, r)) = latest
                    && samples
                        .last()
                        .is_none_or(|(t, s)| (*t, s.used) != (at, r.used))
                {
                    s.record_usage(at, r.used, r.max)?;
                }
                s.prune_usage(now - KEEP_USAGE).map(|_| ())
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(source = %self.source.id, "usage samples not saved: {e}");
        }
    }

    async fn check_permissions(&self) -> Result<(), SyncError> {
        let Some(user_id) = self.user_id else {
            return Ok(());
        };
        let now = self.now();
        let checked = describe_cache::last_done(self.store, PERMISSIONS_CHECKED)
            .await?
            .max(self.authorized_at);
        if checked.is_some_and(|t| now - t < PERMISSION_CHECK_EVERY) {
            return Ok(());
        }
        let permissions = match self.client.check_permissions(user_id).await {
            Ok(p) => p,
            Err(e) if e.class() == ErrorClass::Permission => {
                return Err(SyncError::MissingPermission {
                    missing: "API Enabled".into(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(missing) = permissions.missing() {
            return Err(SyncError::MissingPermission {
                missing: missing.to_string(),
            });
        }
        describe_cache::mark_done(self.store, PERMISSIONS_CHECKED, now).await
    }

    async fn plans(
        &self,
        spec: &RunSpec,
        observer: &dyn RunObserver,
    ) -> Result<(Vec<ObjectPlan>, Vec<SkippedFields>), SyncError> {
        let mut selected: Vec<(&String, &crate::config::ObjectSelection)> =
            self.source.objects.iter().collect();
        if let Some(only) = &spec.only_object {
            selected.retain(|(name, _)| name.eq_ignore_ascii_case(only));
            if selected.is_empty() {
                return Err(SyncError::Config(format!(
                    "object {only} is not selected for source {}; add it under [source.objects] or pick one of: {}",
                    self.source.id,
                    self.source
                        .objects
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let names: Vec<String> = selected.iter().map(|(n, _)| (*n).clone()).collect();
        let now = self.now();
        // The object list and the selected objects' describes are fetched together (each
        // a round trip on a first run); the list is still checked first, so a missing
        // object is reported as missing rather than by its failed describe.
        let (global, described) = futures::join!(
            describe_cache::global(self.client, self.store, now, spec.refresh_schema),
            describe_cache::describes(self.client, self.store, &names, now, spec.refresh_schema),
        );
        let global = global?;
        for name in &names {
            if !global
                .sobjects
                .iter()
                .any(|o| o.name == *name && o.queryable)
            {
                return Err(SyncError::Config(format!(
                    "object {name} does not exist in the org or is not readable by the authorizing user; deselect it or grant access"
                )));
            }
        }
        // Every selected object is described (from a fresh cache entry or the org) before
        // it is queried, and each plan is resolved against its own object's describe.
        let mut described = described?;
        let mut plans = Vec::new();
        let mut skipped = Vec::new();
        for (name, selection) in selected {
            let position = described
                .iter()
                .position(|(object, _)| object == name)
                .ok_or_else(|| SyncError::Internal(format!("no describe of {name} was fetched")))?;
            let (_, describe) = described.swap_remove(position);
            let describe = describe?;
            let (plan, missing) = describe_cache::plan(name, selection, &describe);
            if !missing.is_empty() {
                observer.warning(format!(
                    "{name}: selected fields not synced because the org does not have them or the authorizing user cannot read them (field-level security): {}; grant read access or deselect them",
                    missing.join(", ")
                ));
                skipped.push(SkippedFields {
                    object: name.clone(),
                    fields: missing,
                });
            }
            plans.push(plan);
        }
        // A run of one object leaves what is known about the others as it was.
        if spec.only_object.is_none() {
            describe_cache::save_skipped(self.store, &skipped, now).await?;
        }
        Ok((plans, skipped))
    }

    async fn needs_initial(&self, plans: &[ObjectPlan]) -> Result<bool, SyncError> {
        for plan in plans {
            let object = plan.object.clone();
            let cursor = self.store.with(move |s| s.cursor(&object)).await?;
            let field_set = plan.field_set();
            let fresh = match cursor {
                None => true,
                Some(c) => {
                    !c.full_sync_done
                        || crate::sync::object_sync::added_fields(&c.field_set_hash, &field_set)
                            .is_none_or(|added| !added.is_empty())
                }
            };
            if fresh {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn formulas_due(&self, object: &str) -> Result<bool, SyncError> {
        Ok(match self.source.formula_policy {
            FormulaPolicy::EveryRun => true,
            FormulaPolicy::Incremental => false,
            FormulaPolicy::DailyReread => {
                describe_cache::last_done(self.store, &formulas_reread_key(object))
                    .await?
                    .is_none_or(|t| self.now() - t >= FORMULA_REREAD_EVERY)
            }
        })
    }

    /// Schema, permission check and the run's kind; no object is touched yet.
    async fn prepare(
        &self,
        spec: &RunSpec,
        observer: &dyn RunObserver,
    ) -> Result<(Vec<ObjectPlan>, RunKind, Vec<SkippedFields>), SyncError> {
        let (plans, skipped) = self.plans(spec, observer).await?;
        self.check_permissions().await?;
        let kind = if spec.full {
            RunKind::Full
        } else if self.needs_initial(&plans).await? {
            RunKind::Initial
        } else {
            RunKind::Incremental
        };
        let names: Vec<String> = plans.iter().map(|p| p.object.clone()).collect();
        observer.started(kind, &names);
        Ok((plans, kind, skipped))
    }

    async fn run_objects(
        &self,
        run_id: Option<RunId>,
        plans: Vec<ObjectPlan>,
        spec: &RunSpec,
        observer: &dyn RunObserver,
        counts: &mut (u64, u64),
        all_synced: &mut bool,
    ) -> Result<(), SyncError> {
        let since = self.now();
        let mut jobs = Vec::new();
        for plan in plans {
            let reread_formulas = self.formulas_due(&plan.object).await?;
            jobs.push((plan, reread_formulas));
        }
        let forward = Forward(observer);
        let cursors = QueryCursors::new(self.source.query_cursors);
        let sync = ObjectSync {
            client: self.client,
            store: self.store,
            stop: self.stop,
            observer: &forward,
            cursors: &cursors,
        };
        let sync = &sync;
        let bulk = BulkSettings::new(self.source.bulk_threshold);
        let plans_only: Vec<ObjectPlan> = jobs.iter().map(|(plan, _)| plan.clone()).collect();
        let routes = bulk_read::choose_routes(
            self.client,
            self.store,
            &plans_only,
            spec.full,
            self.now(),
            bulk,
        )
        .await?;
        for (plan, route) in plans_only.iter().zip(&routes) {
            observer.read_route(&plan.object, route.is_bulk(), route.reason());
        }
        let (grouped, alone): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .zip(routes)
            .map(|((plan, reread_formulas), route)| {
                let options = ObjectOptions {
                    full: spec.full,
                    reread_formulas,
                };
                let shape = match route {
                    Route::Bulk { shape, records, .. } => Some((shape, records)),
                    Route::Rest { .. } => None,
                };
                (plan, options, shape)
            })
            .partition(|(plan, _, shape)| shape.is_none() && self.groupable(plan));
        let grouped: Vec<_> = grouped
            .into_iter()
            .map(|(plan, options, _)| (plan, options))
            .collect();
        let (finished, grouped_results) = futures::channel::mpsc::unbounded();
        // Drives the grouped reads; its results arrive through the channel.
        let grouped_reads = futures::stream::once(sync.read_grouped(grouped, finished))
            .filter_map(|()| futures::future::ready(None));
        let read_alone =
            futures::stream::iter(alone.into_iter().map(|(plan, options, shape)| async move {
                let result = match shape {
                    Some((shape, records)) => {
                        sync.run_bulk(&plan, options, shape, records, bulk).await
                    }
                    None => sync.run(&plan, options).await,
                };
                (plan, result)
            }))
            .buffer_unordered(OBJECT_CONCURRENCY);
        let mut results = std::pin::pin!(futures::stream::select(
            grouped_results,
            futures::stream::select(read_alone, grouped_reads),
        ));
        let mut first_error = None;
        let mut finished_all = true;
        let mut read_through = Vec::new();
        while let Some((plan, result)) = results.next().await {
            match result {
                Ok(outcome) => {
                    counts.0 += outcome.upserted;
                    counts.1 += outcome.deleted;
                    finished_all &= outcome.finished;
                    self.object_done(run_id, &plan, &outcome, observer).await?;
                    if outcome.finished && plan.has_modstamp {
                        read_through.push(plan);
                    }
                }
                Err(e) => {
                    finished_all = false;
                    let e = self.classify(e);
                    tracing::warn!(source = %self.source.id, object = %plan.object, "object sync failed: {e}");
                    if first_error.is_none() {
                        self.stop.stop(StopReason::Failed);
                        first_error = Some(e);
                    }
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        counts.1 += self.apply_delete_logs(&read_through, since).await?;
        *all_synced = finished_all;
        Ok(())
    }

    /// Bookkeeping of an object that finished (or stopped) without error: its formula
    /// re-read date, its counts in the run history, the observer.
    async fn object_done(
        &self,
        run_id: Option<RunId>,
        plan: &ObjectPlan,
        outcome: &ObjectOutcome,
        observer: &dyn RunObserver,
    ) -> Result<(), SyncError> {
        if outcome.formulas_reread || (outcome.finished && outcome.from_start) {
            let key = formulas_reread_key(&plan.object);
            describe_cache::mark_done(self.store, &key, self.now()).await?;
        }
        if let Some(id) = run_id {
            let (object, up, del) = (plan.object.clone(), outcome.upserted, outcome.deleted);
            let recorded = self
                .store
                .with(move |s| s.record_run_object(id, &object, up, del))
                .await;
            if let Err(e) = recorded {
                tracing::warn!(source = %self.source.id, object = %plan.object, "per-object counts not recorded: {e}");
            }
        }
        observer.object_finished(&plan.object, outcome);
        Ok(())
    }

    /// Objects read with grouped pages: incremental reads whose query fits one URL (the
    /// longest form of it, with a start time, is checked).
    fn groupable(&self, plan: &ObjectPlan) -> bool {
        let select = read_select(
            &plan.object,
            &plan.fields,
            true,
            Some(DateTime::<Utc>::UNIX_EPOCH),
        );
        plan.has_modstamp
            && matches!(
                self.client.single_query(&select, Incremental::OPTIONS),
                Ok(Some(_))
            )
    }

    /// Deletes queryAll cannot see, from each object's delete log when due (see
    /// `delete_log`); one object at a time, stopping at an object boundary.
    async fn apply_delete_logs(
        &self,
        plans: &[ObjectPlan],
        since: DateTime<Utc>,
    ) -> Result<u64, SyncError> {
        let log = crate::sync::delete_log::DeleteLog {
            client: self.client,
            store: self.store,
            stop: self.stop,
            bulk_threshold: self.source.bulk_threshold,
        };
        let mut deleted = 0;
        for plan in plans {
            if self.stop.is_stopped() {
                break;
            }
            deleted += log.check(plan, self.now(), since).await?.deleted();
        }
        Ok(deleted)
    }
}
