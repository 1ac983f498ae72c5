//! Deterministic stand-ins for the engine, the config editor and the store: snapshots with
//! every status, an in-memory `SettingsStore` that can simulate a conflict, and a fixed
//! `RunHistory`. Used by tests and available to `demo`-style previews.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::config::{Config, Frequency, ObjectSelection, SourceConfig, SourceKind};
use crate::model::{
    ApiUsage, AuthPrompt, Command, ConnectionInfo, ErrorInfo, ErrorKind, Event, EventLevel,
    FrequencyProjection, ObjectProgress, RunKind, RunOutcome, RunProgress, RunSummary, Snapshot,
    SourceSnapshot, Status,
};
use crate::tui::ports::{
    HistoryError, HistoryRun, LogError, LogTail, ObjectCount, RunHistory, SettingsChange,
    SettingsError, SettingsStore,
};

/// The fixed "now" every fixture is relative to.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn ago(minutes: i64) -> DateTime<Utc> {
    now() - Duration::minutes(minutes)
}

fn projections(cost_per_run: u64, max: u64) -> Vec<FrequencyProjection> {
    Frequency::ALL
        .iter()
        .filter(|f| **f != Frequency::Manual)
        .map(|f| {
            let calls = cost_per_run * f.runs_per_day() as u64;
            FrequencyProjection {
                frequency: *f,
                calls_per_day: calls,
                percent_of_quota: Some(calls as f64 * 100.0 / max as f64),
            }
        })
        .collect()
}

/// Usage readings every 5 minutes, rising unevenly (about `step` per reading) so the
/// chart of calls per reading has a shape.
fn samples(start: u64, step: u64, n: usize) -> Vec<(DateTime<Utc>, u64)> {
    let mut used = start;
    (0..n)
        .map(|i| {
            let reading = (ago((n - i) as i64 * 5), used);
            used += step * (i as u64 % 4 + 1) / 2;
            reading
        })
        .collect()
}

fn base(id: &str, name: &str, status: Status) -> SourceSnapshot {
    SourceSnapshot {
        id: id.into(),
        name: name.into(),
        kind: SourceKind::Salesforce,
        status,
        since: Some(ago(180)),
        sync_enabled: true,
        frequency: Frequency::H1,
        quota_threshold_percent: 80,
        connection: Some(ConnectionInfo {
            org_id: "00D5g000004XyZaEAK".into(),
            instance_url: format!("https://{id}.my.salesforce.com"),
            username: format!("ops@{id}.example.com"),
            authorized_at: ago(3 * 24 * 60),
        }),
        running: None,
        last_run: Some(RunSummary {
            started: ago(14),
            finished: ago(12),
            kind: RunKind::Incremental,
            outcome: RunOutcome::Succeeded,
            upserted: 412,
            deleted: 3,
            api_calls: 9,
            error: None,
        }),
        next_run: Some(now() + Duration::minutes(48)),
        records: 128_450,
        api: ApiUsage {
            used: Some(21_400),
            max: Some(100_000),
            samples: samples(18_000, 170, 20),
        },
        projections: projections(9, 100_000),
        events: vec![
            Event {
                at: ago(14),
                level: EventLevel::Info,
                message: "Run started (incremental)".into(),
            },
            Event {
                at: ago(12),
                level: EventLevel::Info,
                message: "Run finished: 412 upserted, 3 deleted, 9 API calls".into(),
            },
        ],
        auth: None,
        schema: None,
        verify: None,
        skipped_fields: Vec::new(),
        history: Default::default(),
        fleet: None,
    }
}

/// One source in each status, in table order: Active, Setting Up (running), Not Syncing,
/// Error (quota threshold), Not Connected.
pub fn sources() -> Vec<SourceSnapshot> {
    vec![
        base("acme", "Acme Production", Status::Active),
        setting_up(),
        paused(),
        over_quota(),
        not_connected(),
    ]
}

/// An initial run in progress: one object done, one under way, one not started.
fn setting_up() -> SourceSnapshot {
    let mut setting_up = base("globex", "Globex Sandbox", Status::SettingUp);
    setting_up.since = Some(ago(6));
    setting_up.last_run = None;
    setting_up.next_run = None;
    setting_up.records = 31_200;
    setting_up.frequency = Frequency::M30;
    setting_up.running = Some(RunProgress {
        started: Some(ago(6)),
        kind: RunKind::Initial,
        api_calls: 41,
        records_per_second: 512.0,
        objects: vec![
            ObjectProgress {
                object: "Account".into(),
                done: 12_000,
                expected: Some(12_000),
                finished: true,
                ..Default::default()
            },
            ObjectProgress {
                object: "Contact".into(),
                done: 19_200,
                expected: Some(48_000),
                finished: false,
                ..Default::default()
            },
            ObjectProgress {
                object: "Opportunity".into(),
                done: 0,
                expected: None,
                finished: false,
                ..Default::default()
            },
        ],
    });
    setting_up
}

fn paused() -> SourceSnapshot {
    let mut paused = base("initech", "Initech", Status::NotSyncing);
    paused.sync_enabled = false;
    paused.next_run = None;
    paused.frequency = Frequency::H6;
    paused
}

/// Stopped at the quota threshold, with the 403 that stopped it among its events.
fn over_quota() -> SourceSnapshot {
    let mut quota = base(
        "umbrella",
        "Umbrella Dev Org",
        Status::Error(ErrorInfo {
            kind: ErrorKind::QuotaThreshold,
            message: "Daily API usage reached the 80% threshold (12,004 of 15,000 calls); syncing \
                      paused to leave room for other apps."
                .into(),
            retry_at: Some(now() + Duration::minutes(95)),
            used: Some(12_004),
            max: Some(15_000),
        }),
    );
    quota.since = Some(ago(25));
    quota.api = ApiUsage {
        used: Some(12_004),
        max: Some(15_000),
        samples: samples(9_000, 160, 20),
    };
    quota.projections = projections(40, 15_000);
    quota.frequency = Frequency::M15;
    quota.events.push(Event {
        at: ago(26),
        level: EventLevel::Warn,
        message: "Contact: Salesforce answered 403 REQUEST_LIMIT_EXCEEDED (TotalRequests Limit \
                  exceeded) on page 14 of the incremental query; the run stopped at the last \
                  committed page and resumes from there once the quota allows"
            .into(),
    });
    quota.events.push(Event {
        at: ago(25),
        level: EventLevel::Error,
        message: "Quota threshold reached; notification sent to ops@umbrella.example.com".into(),
    });
    quota
}

fn not_connected() -> SourceSnapshot {
    let mut not_connected = base("hooli", "Hooli", Status::NotConnected);
    not_connected.connection = None;
    not_connected.last_run = None;
    not_connected.next_run = None;
    not_connected.records = 0;
    not_connected.api = ApiUsage::default();
    not_connected.projections = Vec::new();
    not_connected.events = Vec::new();
    not_connected
}

pub fn snapshot() -> Snapshot {
    Snapshot {
        version: 1,
        at: Some(now()),
        sources: sources(),
    }
}

/// The device prompt the engine publishes while waiting for approval.
pub fn device_prompt() -> AuthPrompt {
    AuthPrompt::Device {
        verification_uri: "https://login.salesforce.com/setup/connect".into(),
        user_code: "HX7Q-9KLM".into(),
        expires_at: now() + Duration::seconds(299),
    }
}

/// The config matching [`sources`].
pub fn config() -> Config {
    let sources = sources()
        .into_iter()
        .map(|s| {
            let mut objects = BTreeMap::new();
            objects.insert(
                "Account".to_string(),
                ObjectSelection {
                    fields: ["Id", "Name", "Industry", "AnnualRevenue", "SystemModstamp"]
                        .map(String::from)
                        .to_vec(),
                },
            );
            objects.insert(
                "Contact".to_string(),
                ObjectSelection {
                    fields: ["Id", "Email", "AccountId", "SystemModstamp"]
                        .map(String::from)
                        .to_vec(),
                },
            );
            SourceConfig {
                id: s.id.clone(),
                name: s.name.clone(),
                kind: s.kind,
                login_url: "https://login.salesforce.com".into(),
                client_id: "3MVG9fake".into(),
                api_version: None,
                sync_enabled: s.sync_enabled,
                frequency: s.frequency,
                quota_threshold_percent: s.quota_threshold_percent,
                run_quota_percent: 25,
                formula_policy: crate::config::FormulaPolicy::DailyReread,
                query_cursors: crate::config::defaults::QUERY_CURSORS,
                verify: crate::config::VerifySchedule::Weekly,
                bulk_threshold: crate::config::defaults::BULK_THRESHOLD,
                objects,
                store: None,
            }
        })
        .collect();
    Config {
        sources,
        notify: Default::default(),
        store: None,
        fleet: None,
    }
}

/// In-memory settings with a shared handle so tests can inspect writes and inject a
/// conflicting edit "on disk".
#[derive(Clone)]
pub struct FakeSettings {
    pub state: Arc<Mutex<FakeSettingsState>>,
}

pub struct FakeSettingsState {
    pub config: Config,
    /// The next `apply` fails with `Conflict` (as if the file changed meanwhile).
    pub conflict_next: bool,
    pub applied: Vec<(String, SettingsChange)>,
}

impl FakeSettings {
    pub fn new(config: Config) -> Self {
        FakeSettings {
            state: Arc::new(Mutex::new(FakeSettingsState {
                config,
                conflict_next: false,
                applied: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeSettingsState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn applied(&self) -> Vec<(String, SettingsChange)> {
        self.lock().applied.clone()
    }

    pub fn set_conflict_next(&self, on: bool) {
        self.lock().conflict_next = on;
    }

    pub fn source(&self, id: &str) -> Option<SourceConfig> {
        self.lock().config.source(id).cloned()
    }

    /// A save as the real store does it: refused once after `conflict_next`, an unknown
    /// source is an error, otherwise `edit` changes the source and the new config returns.
    fn save(
        &self,
        source: &str,
        edit: impl FnOnce(&mut SourceConfig),
    ) -> Result<Arc<Config>, SettingsError> {
        let mut state = self.lock();
        if std::mem::take(&mut state.conflict_next) {
            return Err(SettingsError::Conflict);
        }
        let s = state
            .config
            .sources
            .iter_mut()
            .find(|s| s.id == source)
            .ok_or_else(|| SettingsError::UnknownSource(source.into()))?;
        edit(s);
        Ok(Arc::new(state.config.clone()))
    }

    /// Simulates someone editing the file by hand.
    pub fn edit_on_disk(&self, id: &str, f: impl FnOnce(&mut SourceConfig)) {
        let mut state = self.lock();
        if let Some(s) = state.config.sources.iter_mut().find(|s| s.id == id) {
            f(s);
        }
    }
}

impl SettingsStore for FakeSettings {
    fn load(&mut self, source: &str) -> Result<SourceConfig, SettingsError> {
        self.source(source)
            .ok_or_else(|| SettingsError::UnknownSource(source.into()))
    }

    fn notify(&mut self) -> Result<crate::config::NotifyConfig, SettingsError> {
        Ok(self.lock().config.notify.clone())
    }

    fn apply(
        &mut self,
        source: &str,
        change: SettingsChange,
    ) -> Result<Arc<Config>, SettingsError> {
        self.save(source, |s| {
            s.sync_enabled = change.sync_enabled;
            s.frequency = change.frequency;
            s.quota_threshold_percent = change.quota_threshold_percent;
        })
        .inspect(|_| self.lock().applied.push((source.into(), change)))
    }

    fn save_selection(
        &mut self,
        source: &str,
        _before: &crate::fields::Selection,
        after: &crate::fields::Selection,
        keep: &[crate::fields::FieldRef],
    ) -> Result<Arc<Config>, SettingsError> {
        let mut objects = after.to_config();
        for k in keep {
            objects
                .entry(k.object.clone())
                .or_default()
                .fields
                .push(k.field.clone());
        }
        self.save(source, |s| s.objects = objects)
    }
}

/// A fixed run history: every outcome, newest first.
#[derive(Clone, Default)]
pub struct FakeHistory {
    pub fail: bool,
}

pub fn runs() -> Vec<RunSummary> {
    let run =
        |start: i64, mins: i64, kind, outcome, up, del, calls, error: Option<&str>| RunSummary {
            started: ago(start),
            finished: ago(start - mins),
            kind,
            outcome,
            upserted: up,
            deleted: del,
            api_calls: calls,
            error: error.map(String::from),
        };
    vec![
        run(
            14,
            2,
            RunKind::Incremental,
            RunOutcome::Succeeded,
            412,
            3,
            9,
            None,
        ),
        run(
            74,
            3,
            RunKind::Incremental,
            RunOutcome::Interrupted,
            120,
            0,
            4,
            Some("Paused by the operator at a page boundary; committed work kept."),
        ),
        run(
            134,
            1,
            RunKind::Incremental,
            RunOutcome::Failed,
            0,
            0,
            2,
            Some(
                "Network error: connection reset by peer after 3 retries; the next run retries automatically.",
            ),
        ),
        run(
            2000,
            48,
            RunKind::Initial,
            RunOutcome::Succeeded,
            128_000,
            0,
            71,
            None,
        ),
    ]
}

impl RunHistory for FakeHistory {
    fn runs(&mut self, _source: &str, limit: usize) -> Result<Vec<HistoryRun>, HistoryError> {
        if self.fail {
            return Err(HistoryError("database is locked".into()));
        }
        // Accounts take about a third of each run's rows, Contacts the rest.
        let split = |r: &RunSummary| {
            let accounts = r.upserted / 3;
            vec![
                ObjectCount {
                    object: "Account".into(),
                    upserted: accounts,
                    deleted: 0,
                },
                ObjectCount {
                    object: "Contact".into(),
                    upserted: r.upserted - accounts,
                    deleted: r.deleted,
                },
            ]
        };
        Ok(runs()
            .into_iter()
            .take(limit)
            .map(|summary| HistoryRun {
                objects: split(&summary),
                summary,
            })
            .collect())
    }
}

/// A fixed log for the log pane: a few engine lines with timestamps like the real file's.
pub struct FakeLog {
    pub lines: Vec<String>,
}

impl Default for FakeLog {
    fn default() -> Self {
        let lines = [
            " INFO syncdeck::sync::engine: engine started sources=5",
            " INFO syncdeck::sync::worker: run started source=acme kind=incremental",
            " INFO syncdeck::sync::worker: run finished source=acme upserted=412 deleted=3 api_calls=9",
            " WARN syncdeck::sync::quota: API usage reached the threshold source=umbrella used=12180 max=15000",
            "ERROR syncdeck::salesforce::client: request failed source=umbrella status=403 REQUEST_LIMIT_EXCEEDED",
        ];
        FakeLog {
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("2026-11-27T11:{:02}:00.000000Z {l}", 40 + i * 4))
                .collect(),
        }
    }
}

impl LogTail for FakeLog {
    fn tail(&mut self, max_lines: usize) -> Result<Vec<String>, LogError> {
        let skip = self.lines.len().saturating_sub(max_lines);
        Ok(self.lines[skip..].to_vec())
    }

    fn location(&self) -> String {
        "/var/lib/syncdeck/state/syncdeck.log".into()
    }
}

/// A scripted engine for previews and tests: it owns a snapshot, applies each command the
/// way the real engine's status machine would (Pause → Not Syncing, Resume → Active,
/// Reauthorize → a device prompt, Reload → new settings) and publishes the result.
pub struct FakeEngine {
    pub snapshot: Snapshot,
}

impl FakeEngine {
    pub fn new(snapshot: Snapshot) -> Self {
        FakeEngine { snapshot }
    }

    /// Applies one command; returns false for `Shutdown`.
    pub fn apply(&mut self, command: Command, at: DateTime<Utc>) -> bool {
        self.snapshot.version += 1;
        self.snapshot.at = Some(at);
        let event = |level, message: &str| Event {
            at,
            level,
            message: message.into(),
        };
        match command {
            Command::Pause { source } => self.on_source(&source, |s| pause(s, at)),
            Command::Resume { source } => self.on_source(&source, |s| resume(s, at)),
            Command::SyncNow { source, .. } => self.on_source(&source, |s| {
                s.events
                    .push(event(EventLevel::Info, "Run started (manual)"))
            }),
            Command::Reauthorize { source, flow } => {
                self.on_source(&source, |s| s.auth = Some(prompt(flow, at)))
            }
            Command::CancelAuth { source } => self.on_source(&source, |s| {
                s.auth = None;
                s.events.push(event(
                    EventLevel::Warn,
                    "authorization cancelled; the stored credentials are unchanged",
                ));
            }),
            Command::Reload(config) => {
                for s in &mut self.snapshot.sources {
                    if let Some(c) = config.source(&s.id) {
                        s.frequency = c.frequency;
                        s.quota_threshold_percent = c.quota_threshold_percent;
                        s.sync_enabled = c.sync_enabled;
                    }
                }
            }
            Command::TestNotification { source } => self.on_source(&source, |s| {
                s.events
                    .push(event(EventLevel::Info, "test notification sent by webhook"))
            }),
            Command::LoadSchema { .. } | Command::DescribeObjects { .. } => {}
            Command::Shutdown => return false,
        }
        true
    }

    fn on_source(&mut self, id: &str, change: impl FnOnce(&mut SourceSnapshot)) {
        if let Some(s) = self.snapshot.sources.iter_mut().find(|s| s.id == id) {
            change(s);
        }
    }

    /// Serves commands until `Shutdown` or until every sender is gone.
    pub async fn serve(
        mut self,
        snapshots: tokio::sync::watch::Sender<Snapshot>,
        mut commands: tokio::sync::mpsc::UnboundedReceiver<Command>,
    ) {
        while let Some(command) = commands.recv().await {
            let more = self.apply(command, Utc::now());
            snapshots.send_replace(self.snapshot.clone());
            if !more {
                break;
            }
        }
    }
}

fn pause(s: &mut SourceSnapshot, at: DateTime<Utc>) {
    s.sync_enabled = false;
    s.status = Status::NotSyncing;
    s.since = Some(at);
    s.running = None;
    s.next_run = None;
}

fn resume(s: &mut SourceSnapshot, at: DateTime<Utc>) {
    s.sync_enabled = true;
    if s.connection.is_some() {
        s.status = Status::Active;
        s.since = Some(at);
        s.next_run = s
            .frequency
            .interval()
            .map(|d| at + Duration::from_std(d).unwrap_or_else(|_| Duration::zero()));
    }
}

/// The prompt the engine publishes when a flow starts.
fn prompt(flow: crate::model::AuthFlow, at: DateTime<Utc>) -> AuthPrompt {
    match flow {
        crate::model::AuthFlow::Device => AuthPrompt::Device {
            verification_uri: "https://login.salesforce.com/setup/connect".into(),
            user_code: "HX7Q-9KLM".into(),
            expires_at: at + Duration::seconds(300),
        },
        crate::model::AuthFlow::Web { port } => AuthPrompt::Web {
            authorize_url: format!(
                "https://login.salesforce.com/services/oauth2/authorize?redirect_uri=http://127.0.0.1:{port}/callback"
            ),
        },
    }
}
