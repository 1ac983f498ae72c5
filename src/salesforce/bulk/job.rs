//! A Bulk API 2.0 query job as `jobs/query` describes it, and how long to wait for one.

use std::time::Duration;

use serde::Deserialize;

/// The states of a query job (SALESFORCE-API.md §6). Anything else Salesforce might add
/// is `Other`, treated as still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
    Other(String),
}

impl JobState {
    fn parse(s: &str) -> JobState {
        match s {
            "UploadComplete" => JobState::UploadComplete,
            "InProgress" => JobState::InProgress,
            "JobComplete" => JobState::JobComplete,
            "Failed" => JobState::Failed,
            "Aborted" => JobState::Aborted,
            other => JobState::Other(crate::salesforce::errors::bound_text(other.to_string(), 40)),
        }
    }

    /// Complete, failed or aborted: polling ends.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }

    pub fn label(&self) -> &str {
        match self {
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
            JobState::Other(s) => s,
        }
    }
}

/// What the client keeps of a job-info response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJob {
    pub id: String,
    pub state: JobState,
    /// `numberRecordsProcessed` (0 at create).
    pub records_processed: u64,
    /// `errorMessage` of a failed job, when Salesforce gives one.
    pub error_message: Option<String>,
    /// `createdDate` as sent.
    pub created: Option<String>,
}

impl BulkJob {
    /// Why a job that stopped did not complete ("Bulk job J failed: …"), or None when its
    /// results can be read.
    pub fn failure(&self) -> Option<String> {
        if self.state == JobState::JobComplete {
            return None;
        }
        let why = self
            .error_message
            .clone()
            .unwrap_or_else(|| format!("it ended {}", self.state.label()));
        Some(format!("Bulk job {} failed: {why}", self.id))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobInfo {
    id: String,
    state: String,
    #[serde(default)]
    number_records_processed: Option<serde_json::Value>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    created_date: Option<String>,
}

impl JobInfo {
    pub(crate) fn into_job(self) -> BulkJob {
        // A count beyond u64 or of another JSON type reads as its saturation or 0.
        let processed = match self.number_records_processed {
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or_else(|| {
                if n.as_f64().is_some_and(|f| f > 0.0) {
                    u64::MAX
                } else {
                    0
                }
            }),
            _ => 0,
        };
        BulkJob {
            id: crate::salesforce::errors::bound_text(self.id, 64),
            state: JobState::parse(&self.state),
            records_processed: processed,
            error_message: self
                .error_message
                .map(|m| crate::salesforce::errors::bound_text(m, 2048)),
            created: self
                .created_date
                .map(|d| crate::salesforce::errors::bound_text(d, 64)),
        }
    }
}

/// How long and how often to poll a job: a first look soon (small jobs finish in about a
/// second), then doubling waits up to `max_interval`, giving up after `give_up_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    pub first: Duration,
    pub max_interval: Duration,
    pub give_up_after: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            first: Duration::from_millis(500),
            max_interval: Duration::from_secs(15),
            give_up_after: Duration::from_secs(2 * 3600),
        }
    }
}

impl PollPolicy {
    /// The wait before poll number `n` (0-based).
    pub fn wait(&self, n: u32) -> Duration {
        self.first
            .saturating_mul(2u32.saturating_pow(n.min(30)))
            .min(self.max_interval)
    }

    /// The wait before poll `n` when the job is seen processing `rows_per_sec` with about
    /// `remaining` rows to go: the predicted end (plus a tenth) when that comes sooner,
    /// never less than half the first wait, never more than [`PollPolicy::wait`].
    pub fn wait_for_rows(&self, n: u32, remaining: u64, rows_per_sec: f64) -> Duration {
        let base = self.wait(n);
        if !(rows_per_sec.is_finite() && rows_per_sec > 0.0) {
            return base;
        }
        let predicted =
            Duration::try_from_secs_f64(remaining as f64 / rows_per_sec * 1.1).unwrap_or(base);
        predicted.max(self.first / 2).min(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap() {
        let p = PollPolicy::default();
        assert_eq!(p.wait(0), Duration::from_millis(500));
        assert_eq!(p.wait(3), Duration::from_secs(4));
        assert_eq!(p.wait(10), Duration::from_secs(15));
        assert_eq!(p.wait(u32::MAX), Duration::from_secs(15));
    }

    #[test]
    fn a_job_seen_progressing_is_polled_near_its_predicted_end() {
        let p = PollPolicy::default();
        // 35 000 rows/s, 70 000 to go: about 2.2 s, sooner than the 4 s of poll 3.
        let w = p.wait_for_rows(3, 70_000, 35_000.0);
        assert!(
            w > Duration::from_secs(2) && w < Duration::from_millis(2300),
            "{w:?}"
        );
        assert_eq!(p.wait_for_rows(3, 10_000_000, 35_000.0), p.wait(3));
        assert_eq!(p.wait_for_rows(3, 0, 35_000.0), Duration::from_millis(250));
        assert_eq!(p.wait_for_rows(3, 5, f64::NAN), p.wait(3));
        assert_eq!(p.wait_for_rows(3, u64::MAX, 1e-300), p.wait(3));
    }

    #[test]
    fn job_info_numbers_saturate_and_states_are_bounded() {
        let info: JobInfo =
            serde_json::from_str(r#"{"id":"750x","state":"Weird","numberRecordsProcessed":1e300}"#)
                .unwrap();
        let job = info.into_job();
        assert_eq!(job.records_processed, u64::MAX);
        assert_eq!(job.state, JobState::Other("Weird".into()));
        assert!(!job.state.is_terminal());
        let info: JobInfo = serde_json::from_str(
            r#"{"id":"750x","state":"JobComplete","numberRecordsProcessed":-4}"#,
        )
        .unwrap();
        assert_eq!(info.into_job().records_processed, 0);
    }
}
