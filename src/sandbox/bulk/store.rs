//! Every query job of one org, the processing model, armed Bulk faults and the daily Bulk
//! allocations (`DailyBulkV2QueryJobs`, `DailyBulkV2QueryFileStorageMB`).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::job::{BulkModel, Job};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Salesforce deletes finished jobs (and their results) after 7 days.
const RETENTION_MS: i64 = 7 * DAY_MS;
/// Salesforce's daily maxima (Bulk API 2.0 limits page).
pub const JOBS_MAX: u64 = 10_000;
pub const STORAGE_MAX_MB: u64 = 976_562;
const MB: u64 = 1024 * 1024;
const DEFAULT_FAILURE: &str = "Failed to process query: the job was retried 15 times and still failed; apply a filter criteria to reduce the rows the query selects (sandbox fault injection)";

/// A Bulk control request, as accepted by `POST /__sandbox/bulk` and
/// `SandboxHandle::bulk`: any subset of the keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkSpec {
    /// Time a new job waits in `UploadComplete`.
    pub queue_delay_ms: Option<u64>,
    /// Rows per second once `InProgress`.
    pub rows_per_sec: Option<u64>,
    /// The next N jobs created end in `Failed` instead of `JobComplete`.
    pub fail_jobs: u32,
    /// Their `errorMessage` (a default says what happened).
    pub fail_message: Option<String>,
    /// The next N results downloads stop halfway with the connection reset.
    pub cut_results: u32,
    /// Forget every job now (their info and results answer 404 NOT_FOUND).
    pub forget_jobs: bool,
    /// DailyBulkV2QueryJobs maximum.
    pub jobs_max: Option<u64>,
    /// Rows per result set at most, whatever `maxRecords` asks (Salesforce may send
    /// fewer): many small sets, so a test can stop a download between them.
    pub max_set_rows: Option<u64>,
}

#[derive(Default)]
pub struct Jobs {
    pub model: BulkModel,
    pub jobs: BTreeMap<String, Job>,
    pub seq: u64,
    fail_jobs: u32,
    fail_message: Option<String>,
    cut_results: u32,
    jobs_max: Option<u64>,
    pub max_set_rows: Option<u64>,
    /// Creation times (org clock) of the jobs of the last 24 hours.
    created: VecDeque<i64>,
    /// (when, bytes) of result sets stored in the last 24 hours.
    stored: VecDeque<(i64, u64)>,
}

/// Remaining daily Bulk allocations, for `limits/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkUsage {
    pub jobs_max: u64,
    pub jobs_used: u64,
    pub storage_used_mb: u64,
}

impl Jobs {
    pub fn new(model: BulkModel) -> Jobs {
        Jobs {
            model,
            ..Jobs::default()
        }
    }

    pub fn apply(&mut self, spec: &BulkSpec) {
        if let Some(ms) = spec.queue_delay_ms {
            self.model.queue_delay = Duration::from_millis(ms);
        }
        if let Some(rps) = spec.rows_per_sec {
            self.model.rows_per_sec = rps.max(1);
        }
        if spec.fail_jobs > 0 {
            self.fail_jobs = self.fail_jobs.saturating_add(spec.fail_jobs);
            self.fail_message = spec.fail_message.clone();
        }
        self.cut_results = self.cut_results.saturating_add(spec.cut_results);
        if spec.forget_jobs {
            self.jobs.clear();
        }
        if spec.jobs_max.is_some() {
            self.jobs_max = spec.jobs_max;
        }
        if let Some(rows) = spec.max_set_rows {
            self.max_set_rows = Some(rows.max(1));
        }
    }

    fn prune(&mut self, now_ms: i64) {
        while self.created.front().is_some_and(|t| now_ms - t >= DAY_MS) {
            self.created.pop_front();
        }
        while self
            .stored
            .front()
            .is_some_and(|(t, _)| now_ms - t >= DAY_MS)
        {
            self.stored.pop_front();
        }
    }

    pub fn usage(&mut self, now_ms: i64) -> BulkUsage {
        self.prune(now_ms);
        let bytes: u64 = self.stored.iter().map(|(_, b)| *b).sum();
        BulkUsage {
            jobs_max: self.jobs_max.unwrap_or(JOBS_MAX),
            jobs_used: self.created.len() as u64,
            storage_used_mb: bytes.div_ceil(MB),
        }
    }

    /// Counts a new job against the daily maximum; Err(max) once it is spent.
    pub fn admit_job(&mut self, now_ms: i64) -> Result<(), u64> {
        let u = self.usage(now_ms);
        if u.jobs_used >= u.jobs_max {
            return Err(u.jobs_max);
        }
        self.created.push_back(now_ms);
        Ok(())
    }

    /// Drops jobs that finished more than the retention period ago.
    pub fn retire(&mut self, now_ms: i64) {
        self.jobs.retain(|_, j| {
            let finished = j.aborted_ms.unwrap_or(j.done_ms);
            !(j.state(now_ms).terminal() && now_ms - finished > RETENTION_MS)
        });
    }

    /// The failure the next job must end with, if one is armed.
    pub fn take_failure(&mut self) -> Option<String> {
        if self.fail_jobs == 0 {
            return None;
        }
        self.fail_jobs -= 1;
        Some(
            self.fail_message
                .clone()
                .unwrap_or_else(|| DEFAULT_FAILURE.to_string()),
        )
    }

    pub fn take_cut(&mut self) -> bool {
        let armed = self.cut_results > 0;
        self.cut_results = self.cut_results.saturating_sub(1);
        armed
    }

    /// Counts a result set's bytes once per job and set.
    pub fn store(&mut self, id: &str, offset: u64, bytes: u64, now_ms: i64) {
        if let Some(job) = self.jobs.get_mut(id) {
            if job.stored_sets.insert(offset) {
                self.stored.push_back((now_ms, bytes));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_job_maximum_rolls_over_a_day() {
        let mut j = Jobs::default();
        j.apply(&BulkSpec {
            jobs_max: Some(2),
            ..BulkSpec::default()
        });
        assert_eq!(j.admit_job(0), Ok(()));
        assert_eq!(j.admit_job(10), Ok(()));
        assert_eq!(j.admit_job(20), Err(2));
        assert_eq!(j.admit_job(DAY_MS), Ok(()));
        assert_eq!(j.usage(DAY_MS).jobs_used, 2);
    }

    #[test]
    fn armed_faults_are_consumed() {
        let mut j = Jobs::default();
        j.apply(&BulkSpec {
            fail_jobs: 1,
            cut_results: 1,
            ..BulkSpec::default()
        });
        assert!(
            j.take_failure()
                .is_some_and(|m| m.contains("fault injection"))
        );
        assert_eq!(j.take_failure(), None);
        assert!(j.take_cut());
        assert!(!j.take_cut());
    }
}
