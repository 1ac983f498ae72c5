//! Deletes that queryAll cannot see. Hard-deleted rows, and rows purged from the recycle
//! bin, never come back from queryAll, so the incremental read misses them. Salesforce's
//! delete log (`sobjects/{Object}/deleted/`) lists them for up to 15 days: each synced
//! object reads it on a schedule (daily, one call per object) and applies what it lists
//! in page-sized transactions, the last of which records how far the log is applied.
//!
//! When the log cannot cover the time since the last check (longer than 15 days, purged
//! early, `earliestDateAvailable` after the checkpoint, or too many ids), the object falls
//! back to an Id reconcile (`verify` with repair) instead, which finds the same rows.

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::salesforce::{Client, ErrorClass};
use crate::sync::SyncError;
use crate::sync::object_sync::ObjectPlan;
use crate::sync::shared_store::SharedStore;
use crate::sync::stop::StopSignal;
use crate::sync::verify::{IdVerifier, Quiet};

/// How often each object's delete log is read.
pub const DELETE_LOG_EVERY: Duration = Duration::days(1);
/// How far back Salesforce keeps the delete log.
pub const DELETE_LOG_REACH: Duration = Duration::days(15);
/// Salesforce wants `start` at least a minute before `end`.
const MIN_WINDOW: Duration = Duration::minutes(1);
/// The org's clock stamps deletions, ours stamps runs: a first check starts this much before
/// the run, so a row deleted just after the run read it is listed even when our clock runs
/// ahead of the org's. Deleting a row the org deleted a little earlier is always right.
const CLOCK_SKEW: Duration = Duration::minutes(2);
/// Deletions per transaction.
const DELETE_CHUNK: usize = 2000;

fn floor_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::minutes(1)).unwrap_or(at)
}

/// What one object's check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCheck {
    /// First check: the log is applied from `since` (less the clock-skew margin) on, nothing read.
    Started,
    /// Checked less than a day ago.
    NotDue,
    /// The log was read; this many rows were deleted locally.
    Applied { deleted: u64 },
    /// The log could not cover the gap; an Id reconcile deleted (and fetched) rows.
    Reconciled { deleted: u64, fetched: u64 },
}

impl LogCheck {
    pub fn deleted(self) -> u64 {
        match self {
            LogCheck::Applied { deleted } | LogCheck::Reconciled { deleted, .. } => deleted,
            LogCheck::Started | LogCheck::NotDue => 0,
        }
    }
}

pub struct DeleteLog<'a> {
    pub client: &'a Client,
    pub store: &'a SharedStore,
    pub stop: &'a StopSignal,
    /// The source's `bulk_threshold`: a reconcile's Id scan takes Bulk above it.
    pub bulk_threshold: u64,
}

impl DeleteLog<'_> {
    /// Check one fully synced object at `now`. `since` is where a first check starts
    /// (the start of the run that read the object: earlier deletes were never stored).
    pub async fn check(
        &self,
        plan: &ObjectPlan,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<LogCheck, SyncError> {
        let object = plan.object.clone();
        let checked = self
            .store
            .with(move |s| s.delete_log_checked(&object))
            .await?;
        let Some(checked) = checked else {
            self.checkpoint(&plan.object, &[], since - CLOCK_SKEW)
                .await?;
            return Ok(LogCheck::Started);
        };
        let gap = now - checked;
        if gap < DELETE_LOG_EVERY || gap < MIN_WINDOW {
            return Ok(LogCheck::NotDue);
        }
        if gap > DELETE_LOG_REACH {
            tracing::info!(object = %plan.object, days = gap.num_days(), "delete log older than Salesforce keeps it; reconciling Ids");
            return self.reconcile(plan, now).await;
        }
        let log = match self.client.deleted(&plan.object, checked, now).await {
            Ok(log) => log,
            Err(e) if e.class() == ErrorClass::ReplicationRange => {
                tracing::info!(object = %plan.object, "delete log cannot cover the gap ({e}); reconciling Ids");
                return self.reconcile(plan, now).await;
            }
            Err(e) => return Err(e.into()),
        };
        // Salesforce keeps minutes only: a purge stamped in the checkpoint's minute may have
        // come after it, so that minute counts as purged too.
        if log.earliest_date_available >= floor_minute(checked) {
            tracing::info!(object = %plan.object, earliest = %log.earliest_date_available, "delete log was purged after the last check; reconciling Ids");
            return self.reconcile(plan, now).await;
        }
        let ids: Vec<String> = log.deleted_records.into_iter().map(|r| r.id).collect();
        // Never move the checkpoint back (an org clock behind ours).
        let covered = log.latest_date_covered.max(checked);
        let mut deleted = 0;
        let mut chunks = ids.chunks(DELETE_CHUNK).peekable();
        if chunks.peek().is_none() {
            self.checkpoint(&plan.object, &[], covered).await?;
        }
        while let Some(chunk) = chunks.next() {
            // The checkpoint moves with the last chunk only: a crash re-reads the window.
            if chunks.peek().is_none() {
                deleted += self.checkpoint(&plan.object, chunk, covered).await?;
            } else {
                let object = plan.object.clone();
                let chunk = chunk.to_vec();
                deleted += self
                    .store
                    .with(move |s| s.apply_deletions(&object, &chunk, None))
                    .await?;
            }
        }
        Ok(LogCheck::Applied { deleted })
    }

    async fn checkpoint(
        &self,
        object: &str,
        ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<u64, SyncError> {
        let object = object.to_string();
        let ids = ids.to_vec();
        self.store
            .with(move |s| s.apply_deletions(&object, &ids, Some(at)))
            .await
    }

    /// The Id reconcile; the log counts from its start once it completes.
    async fn reconcile(
        &self,
        plan: &ObjectPlan,
        now: DateTime<Utc>,
    ) -> Result<LogCheck, SyncError> {
        let verifier = IdVerifier {
            client: self.client,
            store: self.store,
            stop: self.stop,
            observer: &Quiet,
            bulk_threshold: self.bulk_threshold,
        };
        let report = verifier.object(plan, true).await?;
        if !report.partial {
            self.checkpoint(&plan.object, &[], now).await?;
        }
        Ok(LogCheck::Reconciled {
            deleted: report.repaired_deleted,
            fetched: report.repaired_fetched,
        })
    }
}
