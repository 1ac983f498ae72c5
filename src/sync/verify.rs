//! `verify`: prove the store holds exactly the org's rows, and optionally repair it.
//!
//! Per object: the org's row count (one `SELECT COUNT()` call) and the store's; then the
//! two Id sets, compared in constant memory: the org's `SELECT Id FROM X ORDER BY Id`
//! pages are merged against the store's Ids read in the same order through a keyset
//! cursor (`Id > last LIMIT n`), so neither side is ever held whole. The merge reports
//! rows the store has that the org does not (hard deletes, purged recycle bins, rows
//! written behind the engine's back) and rows the org has that the store lacks, plus
//! selected fields that have no column or were never backfilled.
//!
//! The org's Ids come from REST pages, or from one Bulk API 2.0 job when the object holds
//! more rows than the source's `bulk_threshold` (`verify_scan`); the route and its reason
//! are part of the report.
//!
//! With `repair`, extra rows are deleted and missing ones fetched
//! (`SELECT <fields> FROM X WHERE Id IN (…)`) in page-sized transactions while the merge
//! goes, then the object is verified again. Calls pass the quota guard like a run's, and
//! a stop (Ctrl-C, pause, shutdown) ends at a chunk boundary with committed work kept.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::config::SourceConfig;
use crate::model::Records;
use crate::salesforce::soql::{self, Select};
use crate::salesforce::{Client, ErrorClass, QueryOptions};
use crate::store::{PageWrite, VerifyRecord};
use crate::sync::SyncError;
use crate::sync::clock::SharedClock;
use crate::sync::describe_cache;
use crate::sync::hooks::EngineHooks;
use crate::sync::object_sync::{BATCH_SIZE, ObjectPlan, added_fields};
use crate::sync::shared_store::SharedStore;
use crate::sync::stop::{StopReason, StopSignal};
use crate::sync::verify_scan::{IdSource, ScanRoute, route};

/// Store Ids read per keyset step.
const STORE_CHUNK: usize = 2000;
/// Ids repaired per transaction (and per `Id IN (…)` query).
pub const REPAIR_CHUNK: usize = 200;
/// Ids of each kind kept as examples in a report.
const SAMPLE: usize = 10;

/// What to verify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifySpec {
    pub only_object: Option<String>,
    pub repair: bool,
}

/// One object's comparison (after repair, when repairing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectReport {
    pub object: String,
    pub org_count: u64,
    pub store_count: u64,
    /// Rows the store has that the org does not.
    pub extra: u64,
    /// Rows the org has that the store lacks.
    pub missing: u64,
    pub extra_sample: Vec<String>,
    pub missing_sample: Vec<String>,
    /// Selected fields without a store column (never synced, or not in the org's
    /// describe for the authorizing user).
    pub fields_without_column: Vec<String>,
    /// Selected fields that have a column but whose backfill never finished.
    pub fields_not_backfilled: Vec<String>,
    /// What `repair` did.
    pub repaired_deleted: u64,
    pub repaired_fetched: u64,
    /// The comparison ended early (stop or quota); counts cover what was compared.
    pub partial: bool,
    /// How the org's Ids were read (the last pass, when repairing) and why.
    pub id_scan: ScanRoute,
    /// Bulk jobs given up for REST, one line each.
    pub notes: Vec<String>,
}

impl ObjectReport {
    pub fn rows_differing(&self) -> u64 {
        self.extra.saturating_add(self.missing)
    }

    pub fn unfilled_fields(&self) -> u64 {
        (self.fields_without_column.len() + self.fields_not_backfilled.len()) as u64
    }

    pub fn is_exact(&self) -> bool {
        !self.partial && self.rows_differing() == 0 && self.unfilled_fields() == 0
    }
}

#[derive(Debug)]
pub struct VerifyReport {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub objects: Vec<ObjectReport>,
    pub api_calls: u64,
    pub repair: bool,
    pub stopped: Option<StopReason>,
    pub error: Option<SyncError>,
}

impl VerifyReport {
    pub fn rows_differing(&self) -> u64 {
        self.objects
            .iter()
            .fold(0u64, |n, o| n.saturating_add(o.rows_differing()))
    }

    pub fn unfilled_fields(&self) -> u64 {
        self.objects.iter().map(ObjectReport::unfilled_fields).sum()
    }

    /// "exact", "differs", "stopped" or "error" (as stored).
    pub fn outcome(&self) -> &'static str {
        if self.error.is_some() {
            "error"
        } else if self.stopped.is_some() || self.objects.iter().any(|o| o.partial) {
            "stopped"
        } else if self.objects.iter().all(ObjectReport::is_exact) {
            "exact"
        } else {
            "differs"
        }
    }

    pub fn record(&self) -> VerifyRecord {
        VerifyRecord {
            started: self.started,
            finished: self.finished,
            outcome: self.outcome().to_string(),
            extra: self.objects.iter().map(|o| o.extra).sum(),
            missing: self.objects.iter().map(|o| o.missing).sum(),
            unfilled_fields: self.unfilled_fields(),
            repaired_deleted: self.objects.iter().map(|o| o.repaired_deleted).sum(),
            repaired_fetched: self.objects.iter().map(|o| o.repaired_fetched).sum(),
            api_calls: self.api_calls,
            error: self.error.as_ref().map(ToString::to_string),
        }
    }
}

/// Progress while Ids are compared.
pub trait VerifyObserver: Send + Sync {
    fn object_started(&self, object: &str, org_count: u64);
    fn progress(&self, object: &str, compared: u64, org_count: u64);
    fn object_finished(&self, report: &ObjectReport);
}

/// An observer that ignores everything (scheduled reconciles).
pub struct Quiet;

impl VerifyObserver for Quiet {
    fn object_started(&self, _: &str, _: u64) {}
    fn progress(&self, _: &str, _: u64, _: u64) {}
    fn object_finished(&self, _: &ObjectReport) {}
}

/// Everything a verification needs, borrowed from the worker or the CLI.
pub struct VerifyContext<'a> {
    pub source: &'a SourceConfig,
    pub client: &'a Client,
    pub hooks: &'a EngineHooks,
    pub store: &'a SharedStore,
    pub stop: &'a StopSignal,
    pub clock: &'a SharedClock,
}

impl VerifyContext<'_> {
    /// Verify (and repair) every selected object, or one; the result is stored.
    pub async fn execute(&self, spec: &VerifySpec, observer: &dyn VerifyObserver) -> VerifyReport {
        let started = self.clock.now();
        self.hooks.guard().begin_run();
        let calls_before = self.hooks.calls();
        let mut objects = Vec::new();
        let result = self.verify_all(spec, observer, &mut objects).await;
        let error = result.err().map(|e| classify(self.hooks, e));
        let report = VerifyReport {
            started,
            finished: self.clock.now(),
            objects,
            api_calls: self.hooks.calls().saturating_sub(calls_before),
            repair: spec.repair,
            stopped: self.stop.reason(),
            error,
        };
        let record = report.record();
        // Usage seen by this verification feeds the quota estimates, like a run's.
        let samples = self.hooks.take_unsaved_samples();
        let saved = self
            .store
            .with(move |s| {
                for (at, r) in &samples {
                    s.record_usage(*at, r.used, r.max)?;
                }
                s.record_verify(&record)
            })
            .await;
        if let Err(e) = saved {
            tracing::error!(source = %self.source.id, "verification could not be recorded: {e}");
        }
        report
    }

    async fn verify_all(
        &self,
        spec: &VerifySpec,
        observer: &dyn VerifyObserver,
        out: &mut Vec<ObjectReport>,
    ) -> Result<(), SyncError> {
        let plans = plans(self.source, self.client, self.store, self.clock.now(), spec).await?;
        let ids = IdVerifier {
            client: self.client,
            store: self.store,
            stop: self.stop,
            observer,
            bulk_threshold: self.source.bulk_threshold,
        };
        for (plan, unreadable) in plans {
            if self.stop.is_stopped() {
                break;
            }
            let mut report = ids.object(&plan, spec.repair).await?;
            report.fields_without_column.extend(unreadable);
            observer.object_finished(&report);
            out.push(report);
        }
        Ok(())
    }
}

/// A refused call (quota guard) or a 403 REQUEST_LIMIT_EXCEEDED becomes the quota stop.
pub fn classify(hooks: &EngineHooks, e: SyncError) -> SyncError {
    match e {
        SyncError::Api(api) if api.class() == ErrorClass::Vetoed => match hooks.last_stop() {
            Some(stop) => SyncError::Quota(stop),
            None => SyncError::Api(api),
        },
        SyncError::Api(api) if api.class() == ErrorClass::QuotaExceeded => {
            SyncError::Quota(hooks.guard().limit_exceeded())
        }
        other => other,
    }
}

/// Plans of the selected objects (all, or `spec.only_object`), each with the selected
/// fields the org's describe does not offer.
async fn plans(
    source: &SourceConfig,
    client: &Client,
    store: &SharedStore,
    now: DateTime<Utc>,
    spec: &VerifySpec,
) -> Result<Vec<(ObjectPlan, Vec<String>)>, SyncError> {
    let mut selected: Vec<_> = source.objects.iter().collect();
    if let Some(only) = &spec.only_object {
        selected.retain(|(name, _)| name.eq_ignore_ascii_case(only));
        if selected.is_empty() {
            return Err(SyncError::Config(format!(
                "object {only} is not selected for source {}; pick one of: {}",
                source.id,
                source
                    .objects
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    if selected.is_empty() {
        return Err(SyncError::Config(format!(
            "source {} has no selected objects; select fields with `syncdeck fields select {}` first",
            source.id, source.id
        )));
    }
    let names: Vec<String> = selected.iter().map(|(n, _)| (*n).clone()).collect();
    let described = describe_cache::describes(client, store, &names, now, false).await?;
    let mut plans = Vec::new();
    for ((name, selection), (_, describe)) in selected.into_iter().zip(described) {
        let (plan, missing) = describe_cache::plan(name, selection, &describe?);
        plans.push((plan, missing));
    }
    Ok(plans)
}

/// The Id merge of one object, with optional repair.
pub struct IdVerifier<'a> {
    pub client: &'a Client,
    pub store: &'a SharedStore,
    pub stop: &'a StopSignal,
    pub observer: &'a dyn VerifyObserver,
    /// Objects with more rows have their Ids read through Bulk; 0: never.
    pub bulk_threshold: u64,
}

/// Differences found by one merge pass.
#[derive(Default)]
struct Pass {
    org_count: u64,
    extra: u64,
    missing: u64,
    extra_sample: Vec<String>,
    missing_sample: Vec<String>,
    deleted: u64,
    fetched: u64,
    partial: bool,
    route: ScanRoute,
}

impl IdVerifier<'_> {
    /// Compare one object; with `repair`, fix what differs and compare again.
    pub async fn object(&self, plan: &ObjectPlan, repair: bool) -> Result<ObjectReport, SyncError> {
        let object = plan.object.clone();
        if repair {
            let fields = plan.store_fields.clone();
            let o = object.clone();
            self.store
                .with(move |s| s.ensure_object_table(&o, &fields))
                .await?;
        }
        let mut pass = self.pass(plan, repair).await?;
        let (deleted, fetched) = (pass.deleted, pass.fetched);
        let mut notes: Vec<String> = pass.route.fallback.iter().cloned().collect();
        if repair && !pass.partial && (pass.extra > 0 || pass.missing > 0) {
            pass = self.pass(plan, false).await?;
            notes.extend(pass.route.fallback.iter().cloned());
        }
        let (without_column, not_backfilled) = self.unfilled(plan).await?;
        let o = object.clone();
        let store_count = self.store.with(move |s| s.row_count(&o)).await?;
        Ok(ObjectReport {
            object,
            org_count: pass.org_count,
            store_count,
            extra: pass.extra,
            missing: pass.missing,
            extra_sample: pass.extra_sample,
            missing_sample: pass.missing_sample,
            fields_without_column: without_column,
            fields_not_backfilled: not_backfilled,
            repaired_deleted: deleted,
            repaired_fetched: fetched,
            partial: pass.partial,
            id_scan: pass.route,
            notes,
        })
    }

    async fn count(&self, object: &str) -> Result<u64, SyncError> {
        let soql = soql::count(object, None).map_err(|e| SyncError::Config(e.to_string()))?;
        Ok(self.client.count(&soql).await?)
    }

    /// Selected fields with no column, and those whose backfill never finished.
    async fn unfilled(&self, plan: &ObjectPlan) -> Result<(Vec<String>, Vec<String>), SyncError> {
        let object = plan.object.clone();
        let (stored, cursor) = self
            .store
            .with(move |s| Ok((s.stored_fields(&object)?, s.cursor(&object)?)))
            .await?;
        let without: Vec<String> = plan
            .fields
            .iter()
            .filter(|f| !stored.iter().any(|s| s.eq_ignore_ascii_case(f)))
            .cloned()
            .collect();
        let pending: Vec<String> = match cursor {
            Some(c) if c.full_sync_done => added_fields(&c.field_set_hash, &plan.field_set())
                .unwrap_or_else(|| plan.fields.clone()),
            _ => plan.fields.clone(),
        };
        let not_backfilled = pending
            .into_iter()
            .filter(|f| !without.contains(f))
            .collect();
        Ok((without, not_backfilled))
    }

    /// One merge of the org's Ids against the store's.
    async fn pass(&self, plan: &ObjectPlan, repair: bool) -> Result<Pass, SyncError> {
        let object = plan.object.clone();
        let org_count = self.count(&object).await?;
        self.observer.object_started(&object, org_count);
        let mut pass = Pass {
            org_count,
            route: route(org_count, self.bulk_threshold),
            ..Pass::default()
        };
        let source = IdSource::new(self.client, self.stop);
        let Some(mut pages) = source.open(&object, &mut pass.route).await? else {
            pass.partial = true;
            return Ok(pass);
        };
        let mut repairs = Repairs::default();
        let mut org: Vec<String> = Vec::new();
        let mut oi = 0;
        let mut org_done = false;
        let mut last_org: Option<String> = None;
        let mut compared = 0u64;
        let mut local: Vec<String> = Vec::new();
        let mut li = 0;
        let mut local_done = false;
        let mut local_last: Option<String> = None;
        loop {
            if oi == org.len() && !org_done {
                if self.stop.is_stopped() {
                    pass.partial = true;
                    break;
                }
                match pages.next().await {
                    Some(page) => {
                        org = page?;
                        oi = 0;
                        compared = compared.saturating_add(org.len() as u64);
                        self.observer.progress(&object, compared, org_count);
                    }
                    None => org_done = true,
                }
                continue;
            }
            if li == local.len() && !local_done {
                let o = object.clone();
                let after = local_last.clone();
                local = self
                    .store
                    .with(move |s| s.ids_after(&o, after.as_deref(), STORE_CHUNK))
                    .await?;
                li = 0;
                // Once the store is exhausted it is never read again, so rows fetched by
                // the repair (all beyond the last store Id) are not compared twice.
                match local.last() {
                    Some(last) => local_last = Some(last.clone()),
                    None => local_done = true,
                }
                continue;
            }
            let side = match (org.get(oi), local.get(li)) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(o), Some(l)) => o.as_bytes().cmp(l.as_bytes()),
            };
            match side {
                Ordering::Equal => {
                    last_org = org.get(oi).cloned();
                    oi += 1;
                    li += 1;
                }
                Ordering::Less => {
                    let id = org[oi].clone();
                    if last_org
                        .as_ref()
                        .is_some_and(|p| p.as_bytes() >= id.as_bytes())
                    {
                        return Err(SyncError::Internal(format!(
                            "the org returned {object} Ids out of order ({id} after {}); the Id comparison needs byte order",
                            last_org.unwrap_or_default()
                        )));
                    }
                    last_org = Some(id.clone());
                    oi += 1;
                    pass.missing += 1;
                    if pass.missing_sample.len() < SAMPLE {
                        pass.missing_sample.push(id.clone());
                    }
                    if repair {
                        repairs.fetch.push(id);
                    }
                }
                Ordering::Greater => {
                    let id = local[li].clone();
                    li += 1;
                    pass.extra += 1;
                    if pass.extra_sample.len() < SAMPLE {
                        pass.extra_sample.push(id.clone());
                    }
                    if repair {
                        repairs.delete.push(id);
                    }
                }
            }
            if repairs.fetch.len() >= REPAIR_CHUNK || repairs.delete.len() >= REPAIR_CHUNK {
                if self.stop.is_stopped() {
                    pass.partial = true;
                    break;
                }
                self.flush(plan, &mut repairs, &mut pass).await?;
            }
        }
        if !pass.partial || !repairs.is_empty() {
            self.flush(plan, &mut repairs, &mut pass).await?;
        }
        Ok(pass)
    }

    async fn flush(
        &self,
        plan: &ObjectPlan,
        repairs: &mut Repairs,
        pass: &mut Pass,
    ) -> Result<(), SyncError> {
        if !repairs.delete.is_empty() {
            let ids = std::mem::take(&mut repairs.delete);
            let object = plan.object.clone();
            pass.deleted += self
                .store
                .with(move |s| s.apply_deletions(&object, &ids, None))
                .await?;
        }
        if !repairs.fetch.is_empty() {
            let ids = std::mem::take(&mut repairs.fetch);
            pass.fetched += fetch_by_id(self.client, self.store, plan, &ids).await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Repairs {
    delete: Vec<String>,
    fetch: Vec<String>,
}

impl Repairs {
    fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.fetch.is_empty()
    }
}

/// Fetch `ids` with the plan's fields and upsert them, one transaction per page; rows
/// deleted meanwhile simply do not come back. Returns how many were written.
pub async fn fetch_by_id(
    client: &Client,
    store: &SharedStore,
    plan: &ObjectPlan,
    ids: &[String],
) -> Result<u64, SyncError> {
    let mut written = 0;
    for chunk in ids.chunks(REPAIR_CHUNK) {
        let mut select = Select::new(&plan.object);
        if plan.has_modstamp {
            select = select.fields(["SystemModstamp"]);
        }
        let select = select.fields(&plan.fields).where_id_in(chunk);
        let mut pages = client.select_pages(
            &select,
            QueryOptions {
                include_deleted: false,
                batch_size: Some(BATCH_SIZE),
            },
        );
        while let Some(page) = pages.next().await {
            let records: Records = page?.records;
            let object = plan.object.clone();
            let applied = store
                .with(move |s| {
                    s.apply_page(
                        &object,
                        &PageWrite {
                            upserts: &records,
                            deletes: &[],
                            cursor: None,
                        },
                    )
                })
                .await?;
            written += applied.upserted;
        }
    }
    Ok(written)
}
