//! What the engine publishes: a `Snapshot` of every source, on a watch channel.
//!
//! The UI and the CLI only read snapshots and send commands; they never touch the network
//! or the store directly. Everything here is plain data, serializable so that a daemon can
//! stream it over its control socket and `status --json` can print it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::schema::OrgSchema;
use crate::config::{Frequency, SourceKind, defaults};

/// The whole state the UI draws, published on a `tokio::sync::watch` channel.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Bumped on every publish so observers can tell snapshots apart cheaply.
    pub version: u64,
    pub at: Option<DateTime<Utc>>,
    pub sources: Vec<SourceSnapshot>,
}

impl Snapshot {
    pub fn source(&self, id: &str) -> Option<&SourceSnapshot> {
        self.sources.iter().find(|s| s.id == id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceSnapshot {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub status: Status,
    /// When the current status began.
    pub since: Option<DateTime<Utc>>,
    pub sync_enabled: bool,
    pub frequency: Frequency,
    pub quota_threshold_percent: u8,
    pub connection: Option<ConnectionInfo>,
    /// The run in progress, if any.
    pub running: Option<RunProgress>,
    pub last_run: Option<RunSummary>,
    pub next_run: Option<DateTime<Utc>>,
    /// Rows in the local store across all synced objects.
    pub records: u64,
    pub api: ApiUsage,
    /// Projected daily API calls per frequency choice, from measured run costs.
    pub projections: Vec<FrequencyProjection>,
    /// Newest last.
    pub events: Vec<Event>,
    /// Pending interactive authorization, if one is in progress.
    pub auth: Option<AuthPrompt>,
    /// The org schema once loaded (shared, never cloned deeply).
    #[serde(skip)]
    pub schema: Option<Arc<OrgSchema>>,
    /// The last verification (`syncdeck verify` or the daemon's schedule).
    #[serde(default)]
    pub verify: Option<VerifySummary>,
    /// Selected fields the last run could not copy (see `ErrorKind::FieldsSkipped`).
    #[serde(default)]
    pub skipped_fields: Vec<SkippedFields>,
    /// Finished runs, newest first, at most [`HISTORY_RUNS`]; shared, never cloned deeply.
    /// Not serialized, like `schema`: a snapshot is re-sent after every page of a run, the
    /// history changes once per run (`remote` sends it beside the snapshot by generation).
    #[serde(skip)]
    pub history: Arc<Vec<HistoryRun>>,
    /// Who syncs this source when daemons share it as a fleet (`None` outside a fleet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetOwner>,
}

/// A fleet source's lease as the daemon publishing the snapshot last read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetOwner {
    /// The host whose daemon holds the lease; `None` while nobody does.
    pub host: Option<String>,
    /// The owner's last renewal, by the database clock.
    pub heartbeat: Option<DateTime<Utc>>,
    /// The daemon publishing this snapshot is the owner.
    pub here: bool,
    /// Why this daemon does not sync it, when it does not take it (a configuration that
    /// differs from the fleet's) or lost it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Runs a snapshot's history keeps: as many as the Run history screen lists.
pub const HISTORY_RUNS: usize = 200;

/// One object's share of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCount {
    pub object: String,
    pub upserted: u64,
    pub deleted: u64,
}

/// A finished run and what it did per object (empty for runs recorded before the store
/// kept per-object counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRun {
    pub summary: RunSummary,
    pub objects: Vec<ObjectCount>,
}

/// The last comparison of the store with the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySummary {
    pub finished: DateTime<Utc>,
    /// "exact", "differs", "stopped" or "error".
    pub outcome: String,
    /// Rows in the store only plus rows missing from it.
    pub rows_differing: u64,
    /// Selected fields with no column or never backfilled.
    pub unfilled_fields: u64,
    pub api_calls: u64,
}

impl VerifySummary {
    /// "verified exact 3h ago" or "12 rows differ · run syncdeck verify --repair";
    /// `ago` is how long ago it finished, already worded ("3h ago").
    pub fn line(&self, ago: &str) -> String {
        match self.outcome.as_str() {
            "exact" => format!("verified exact {ago}"),
            "differs" if self.rows_differing > 0 => format!(
                "{} row{} differ · run syncdeck verify --repair",
                self.rows_differing,
                if self.rows_differing == 1 { "" } else { "s" }
            ),
            "differs" => format!(
                "{} selected field{} not filled · run syncdeck sync",
                self.unfilled_fields,
                if self.unfilled_fields == 1 { "" } else { "s" }
            ),
            "stopped" => format!("verification stopped before the end {ago}"),
            _ => format!("verification failed {ago}"),
        }
    }
}

/// Selected fields of one object that a run left out because the org's describe does not
/// list them: deleted, renamed, or hidden from the authorizing user by field-level security.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFields {
    pub object: String,
    pub fields: Vec<String>,
}

impl SkippedFields {
    /// `Opportunity: Foo__c, Bar__c; User: Title`.
    pub fn describe_all(skipped: &[SkippedFields]) -> String {
        skipped
            .iter()
            .map(|s| format!("{}: {}", s.object, s.fields.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl SourceSnapshot {
    /// A source with nothing known yet beyond its name and status: default schedule and
    /// threshold, no connection, runs, usage or events.
    pub fn new(id: &str, name: &str, status: Status) -> SourceSnapshot {
        SourceSnapshot {
            id: id.into(),
            name: name.into(),
            kind: SourceKind::Salesforce,
            status,
            since: None,
            sync_enabled: true,
            frequency: defaults::FREQUENCY,
            quota_threshold_percent: defaults::QUOTA_THRESHOLD_PERCENT,
            connection: None,
            running: None,
            last_run: None,
            next_run: None,
            records: 0,
            api: ApiUsage::default(),
            projections: Vec::new(),
            events: Vec::new(),
            auth: None,
            schema: None,
            verify: None,
            skipped_fields: Vec::new(),
            history: Arc::default(),
            fleet: None,
        }
    }
}

/// Status exactly as the product defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Status {
    /// No credentials yet: authorize to start.
    NotConnected,
    /// First sync, or a backfill after fields were added.
    SettingUp,
    /// Enabled and syncing on schedule (idle or running).
    Active,
    /// Paused by the operator (Sync Data off).
    NotSyncing,
    Error(ErrorInfo),
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::NotConnected => "Not Connected",
            Status::SettingUp => "Setting Up",
            Status::Active => "Active",
            Status::NotSyncing => "Not Syncing",
            Status::Error(_) => "Error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    /// One actionable sentence: what happened and what to do.
    pub message: String,
    /// When the engine will try again by itself (quota recovery, backoff), if it will.
    pub retry_at: Option<DateTime<Utc>>,
    /// For quota errors: usage when the guard tripped.
    pub used: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    AuthRequired,
    QuotaThreshold,
    PermissionDenied,
    Api,
    Network,
    Config,
    /// A scheduled verification found rows that differ (an incident, not a status).
    StoreDiffers,
    /// The run copied everything else, but some selected fields are not in the org's
    /// describe (deleted, renamed, or not readable by the authorizing user). Runs go on;
    /// the error clears on the first run that copies every selected field.
    FieldsSkipped,
    /// A bug in syncdeck (a worker panicked); the panic is in the log.
    Internal,
}

impl ErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::AuthRequired => "authorization required",
            ErrorKind::QuotaThreshold => "API quota threshold reached",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Api => "Salesforce API error",
            ErrorKind::Network => "network error",
            ErrorKind::Config => "configuration error",
            ErrorKind::StoreDiffers => "store differs from the org",
            ErrorKind::FieldsSkipped => "selected fields not synced",
            ErrorKind::Internal => "internal error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    pub org_id: String,
    pub instance_url: String,
    pub username: String,
    pub authorized_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunProgress {
    pub started: Option<DateTime<Utc>>,
    pub kind: RunKind,
    pub api_calls: u64,
    pub records_per_second: f64,
    pub objects: Vec<ObjectProgress>,
}

impl RunProgress {
    /// Records done out of those expected, in whole percent, once every object's count is
    /// known; 100 only when every object has finished.
    pub fn percent_done(&self) -> Option<u8> {
        let (mut done, mut expected) = (0u64, 0u64);
        // `expected` is the server's count: any number, so no overflow anywhere.
        for o in &self.objects {
            done = done.saturating_add(o.done);
            expected = expected.saturating_add(o.expected?);
        }
        if self.objects.is_empty() || expected == 0 {
            return None;
        }
        let percent = (u128::from(done.min(expected)) * 100 / u128::from(expected)) as u8;
        Some(if self.objects.iter().all(|o| o.finished) {
            100
        } else {
            percent.min(99)
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunKind {
    /// First sync of a source, or a backfill of newly added fields.
    Initial,
    #[default]
    Incremental,
    /// Operator asked to discard cursors and re-read everything.
    Full,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectProgress {
    pub object: String,
    pub done: u64,
    /// From COUNT() before the run; None while unknown.
    pub expected: Option<u64>,
    pub finished: bool,
    /// How the object is read this run and why (`Bulk API: about 120000 records, over
    /// bulk_threshold 10000`, `REST: incremental run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The object's Bulk job while Salesforce runs it (`Bulk job InProgress, 35000 records`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_job: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub kind: RunKind,
    pub outcome: RunOutcome,
    pub upserted: u64,
    pub deleted: u64,
    pub api_calls: u64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunOutcome {
    Succeeded,
    Failed,
    /// Stopped by a pause, a quota guard or shutdown at a page boundary.
    Interrupted,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiUsage {
    pub used: Option<u64>,
    pub max: Option<u64>,
    /// Recent (time, used) samples, oldest first, for a sparkline.
    pub samples: Vec<(DateTime<Utc>, u64)>,
}

impl ApiUsage {
    pub fn percent(&self) -> Option<f64> {
        match (self.used, self.max) {
            (Some(u), Some(m)) if m > 0 => Some(u as f64 * 100.0 / m as f64),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyProjection {
    pub frequency: Frequency,
    pub calls_per_day: u64,
    /// Share of the daily quota, when the quota is known.
    pub percent_of_quota: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub level: EventLevel,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventLevel {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AuthPrompt {
    /// Waiting for the operator to open the URL and enter the code.
    Device {
        verification_uri: String,
        user_code: String,
        expires_at: DateTime<Utc>,
    },
    /// Waiting for the browser to hit the loopback redirect.
    Web {
        authorize_url: String,
    },
    Succeeded {
        username: String,
    },
    /// The exact reason: denied, expired, not an admin...
    Failed {
        message: String,
        /// The authorizer said no or is not an admin (as opposed to a network or
        /// configuration failure): `syncdeck auth` exits 3 for these.
        #[serde(default)]
        refused: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(done: u64, expected: Option<u64>, finished: bool) -> ObjectProgress {
        ObjectProgress {
            object: "Account".into(),
            done,
            expected,
            finished,
            ..ObjectProgress::default()
        }
    }

    fn run(objects: Vec<ObjectProgress>) -> RunProgress {
        RunProgress {
            started: None,
            kind: RunKind::Initial,
            api_calls: 0,
            records_per_second: 0.0,
            objects,
        }
    }

    #[test]
    fn history_never_travels_inside_a_snapshot() {
        let mut source = SourceSnapshot::new("acme", "Acme", Status::Active);
        let at = DateTime::UNIX_EPOCH;
        source.history = Arc::new(vec![HistoryRun {
            summary: RunSummary {
                started: at,
                finished: at,
                kind: RunKind::Full,
                outcome: RunOutcome::Failed,
                upserted: 7,
                deleted: 1,
                api_calls: 3,
                error: Some("boom".into()),
            },
            objects: vec![ObjectCount {
                object: "Account".into(),
                upserted: 7,
                deleted: 1,
            }],
        }]);
        let text = serde_json::to_value(&source).unwrap();
        assert!(text.get("history").is_none(), "{text}");
        let back: SourceSnapshot = serde_json::from_value(text).unwrap();
        assert!(back.history.is_empty());
    }

    #[test]
    fn percent_done_needs_every_count_and_reaches_100_only_when_finished() {
        assert_eq!(run(vec![]).percent_done(), None);
        let huge = run(vec![
            object(5, Some(u64::MAX), false),
            object(u64::MAX, Some(u64::MAX), false),
        ]);
        assert_eq!(
            huge.percent_done(),
            Some(99),
            "server counts never overflow"
        );
        let counting = run(vec![object(10, Some(100), false), object(0, None, false)]);
        assert_eq!(counting.percent_done(), None, "a count is still unknown");
        let going = run(vec![
            object(30, Some(100), false),
            object(70, Some(100), true),
        ]);
        assert_eq!(going.percent_done(), Some(50));
        // Rows added during the run can push done past the count.
        let nearly = run(vec![object(120, Some(100), false)]);
        assert_eq!(nearly.percent_done(), Some(99));
        let finished = run(vec![object(100, Some(100), true)]);
        assert_eq!(finished.percent_done(), Some(100));
    }
}
