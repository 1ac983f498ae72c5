//! One Bulk API 2.0 query job: what was asked, when it moves through its states on the
//! org's clock, and its JSON in Salesforce's key order.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::rows::Snapshot;
use crate::sandbox::wire::push_datetime;

/// How fast the org works through query jobs. The defaults follow Salesforce's own
/// examples: a small job completes about a second after it is created, and 740,003 rows
/// took 21 s of processing (≈ 35,000 rows/s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkModel {
    /// Time a job waits in `UploadComplete` before processing starts.
    pub queue_delay: Duration,
    /// Rows processed per second once `InProgress` (0 counts as 1).
    pub rows_per_sec: u64,
}

impl Default for BulkModel {
    fn default() -> Self {
        BulkModel {
            queue_delay: Duration::from_millis(1000),
            rows_per_sec: 35_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Query,
    QueryAll,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Operation> {
        match s {
            "query" => Some(Operation::Query),
            "queryAll" => Some(Operation::QueryAll),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Query => "query",
            Operation::QueryAll => "queryAll",
        }
    }
}

/// The five states a query job can show; clients treat anything else as a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
        }
    }
    /// The spelling of `JOB_NOT_COMPLETE` messages ("Current status: IN_PROGRESS").
    pub fn shouting(self) -> &'static str {
        match self {
            JobState::UploadComplete => "UPLOAD_COMPLETE",
            JobState::InProgress => "IN_PROGRESS",
            JobState::JobComplete => "JOB_COMPLETE",
            JobState::Failed => "FAILED",
            JobState::Aborted => "ABORTED",
        }
    }
    pub fn terminal(self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }
}

/// The CSV dialect a job was created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    pub delimiter_name: &'static str,
    pub crlf: bool,
}

impl Dialect {
    pub fn parse(delimiter: Option<&str>, line_ending: Option<&str>) -> Option<Dialect> {
        let (delimiter, delimiter_name) = match delimiter.unwrap_or("COMMA") {
            "COMMA" => (b',', "COMMA"),
            "BACKQUOTE" => (b'`', "BACKQUOTE"),
            "CARET" => (b'^', "CARET"),
            "PIPE" => (b'|', "PIPE"),
            "SEMICOLON" => (b';', "SEMICOLON"),
            "TAB" => (b'\t', "TAB"),
            _ => return None,
        };
        let crlf = match line_ending.unwrap_or("LF") {
            "LF" => false,
            "CRLF" => true,
            _ => return None,
        };
        Some(Dialect {
            delimiter,
            delimiter_name,
            crlf,
        })
    }
}

pub struct Job {
    pub id: String,
    pub operation: Operation,
    pub object: String,
    pub created_by: String,
    /// "62.0": results must be read with the same version.
    pub api_version: String,
    pub dialect: Dialect,
    pub created_ms: i64,
    /// Processing starts (queue delay over).
    pub started_ms: i64,
    /// Processing ends: `JobComplete`, or `Failed` when `failure` is set.
    pub done_ms: i64,
    pub failure: Option<String>,
    pub aborted_ms: Option<i64>,
    pub rows: Arc<Snapshot>,
    /// Result sets (by first row) already counted against the daily result storage.
    pub stored_sets: HashSet<u64>,
}

impl Job {
    pub fn state(&self, now_ms: i64) -> JobState {
        if self.aborted_ms.is_some() {
            JobState::Aborted
        } else if now_ms < self.started_ms {
            JobState::UploadComplete
        } else if now_ms < self.done_ms {
            JobState::InProgress
        } else if self.failure.is_some() {
            JobState::Failed
        } else {
            JobState::JobComplete
        }
    }

    /// When the job last changed state.
    fn modstamp(&self, now_ms: i64) -> i64 {
        match (self.aborted_ms, self.state(now_ms)) {
            (Some(at), _) => at,
            (None, JobState::UploadComplete) => self.created_ms,
            (None, JobState::InProgress) => self.started_ms,
            (None, _) => self.done_ms,
        }
    }

    /// Rows processed so far: grows through `InProgress`, all of them at `JobComplete`.
    fn processed(&self, now_ms: i64) -> u64 {
        let end = self.aborted_ms.map_or(now_ms, |a| a.min(now_ms));
        match self.state(end) {
            JobState::UploadComplete | JobState::Failed => 0,
            JobState::JobComplete => self.rows.total,
            JobState::InProgress | JobState::Aborted => {
                let span = (self.done_ms - self.started_ms).max(1) as u128;
                let spent =
                    (end - self.started_ms).clamp(0, self.done_ms - self.started_ms) as u128;
                (u128::from(self.rows.total) * spent / span) as u64
            }
        }
    }

    fn head(&self, now_ms: i64) -> Vec<(&'static str, Value)> {
        let version: f64 = self.api_version.parse().unwrap_or(0.0);
        vec![
            ("id", self.id.clone().into()),
            ("operation", self.operation.as_str().into()),
            ("object", self.object.clone().into()),
            ("createdById", self.created_by.clone().into()),
            ("createdDate", datetime(self.created_ms).into()),
            ("systemModstamp", datetime(self.modstamp(now_ms)).into()),
            ("state", self.state(now_ms).as_str().into()),
            ("concurrencyMode", "Parallel".into()),
            ("contentType", "CSV".into()),
            // A JSON number (57.0 in recorded responses), though the docs call it a string.
            ("apiVersion", version.into()),
        ]
    }

    fn dialect_keys(&self) -> [(&'static str, Value); 2] {
        [
            (
                "lineEnding",
                if self.dialect.crlf { "CRLF" } else { "LF" }.into(),
            ),
            ("columnDelimiter", self.dialect.delimiter_name.into()),
        ]
    }

    /// The answer to `POST jobs/query`: a new job is always `UploadComplete` (even when the
    /// model starts it at once), with no jobType and no counters yet.
    pub fn created_json(&self) -> String {
        let mut keys = self.head(self.created_ms);
        for (k, v) in keys.iter_mut() {
            match *k {
                "state" => *v = JobState::UploadComplete.as_str().into(),
                "systemModstamp" => *v = datetime(self.created_ms).into(),
                _ => {}
            }
        }
        keys.extend(self.dialect_keys());
        ordered(&keys)
    }

    /// The answer to `GET jobs/query/{id}` (`counters`) or one entry of the job list.
    pub fn info_json(&self, now_ms: i64, counters: bool) -> String {
        let mut keys = self.head(now_ms);
        keys.push(("jobType", "V2Query".into()));
        keys.extend(self.dialect_keys());
        if counters {
            let processing = match self.state(now_ms) {
                JobState::JobComplete | JobState::Failed => self.done_ms - self.started_ms,
                JobState::InProgress => now_ms - self.started_ms,
                JobState::Aborted => self
                    .aborted_ms
                    .unwrap_or(now_ms)
                    .min(self.done_ms)
                    .saturating_sub(self.started_ms)
                    .max(0),
                JobState::UploadComplete => 0,
            };
            keys.push(("numberRecordsProcessed", self.processed(now_ms).into()));
            keys.push(("retries", 0.into()));
            keys.push(("totalProcessingTime", processing.max(0).into()));
            if let (JobState::Failed, Some(msg)) = (self.state(now_ms), &self.failure) {
                keys.push(("errorMessage", msg.clone().into()));
            }
        }
        ordered(&keys)
    }

    /// The answer to an abort: the head only.
    pub fn aborted_json(&self, now_ms: i64) -> String {
        ordered(&self.head(now_ms))
    }
}

/// `2024-01-31T12:00:00.000+0000`, as job JSON writes dates.
fn datetime(ms: i64) -> String {
    let mut out = Vec::with_capacity(28);
    push_datetime(&mut out, ms);
    out.extend_from_slice(b"+0000");
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON object with its keys in the given order (serde_json's map would sort them).
pub fn ordered(keys: &[(&str, Value)]) -> String {
    let body: Vec<String> = keys
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::String((*k).to_string())))
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_follow_the_documented_names() {
        let d = Dialect::parse(None, None).unwrap();
        assert_eq!(
            (d.delimiter, d.crlf, d.delimiter_name),
            (b',', false, "COMMA")
        );
        let d = Dialect::parse(Some("TAB"), Some("CRLF")).unwrap();
        assert_eq!((d.delimiter, d.crlf), (b'\t', true));
        assert!(Dialect::parse(Some("COLON"), None).is_none());
        assert!(Dialect::parse(None, Some("CR")).is_none());
    }

    #[test]
    fn ordered_keeps_key_order() {
        let s = ordered(&[("b", 1.into()), ("a", 57.0.into())]);
        assert_eq!(s, r#"{"b":1,"a":57.0}"#);
    }
}
