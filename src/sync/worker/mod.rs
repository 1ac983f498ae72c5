//! One source's worker: its schedule, runs, status machine, quota recovery,
//! reauthorization and schema loading. It owns the source's entry of the snapshot.
//!
//! This file holds the worker's state, its command loop and what it publishes; the rest is
//! split by concern: `runs` (a run's start, progress and end), `auth` (reauthorization),
//! `schema` (describes and record counts), `quota_probe` (quota stops and recovery).

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{Credentials, Paths, SourceConfig};
use crate::model::{
    ApiUsage, AuthFlow, AuthPrompt, ConnectionInfo, ErrorInfo, ErrorKind, Event, EventLevel,
    HISTORY_RUNS, HistoryRun, RunKind, RunOutcome, RunProgress, RunSummary, SkippedFields,
    Snapshot, SourceSnapshot, Status,
};
use crate::notify::{Incident, Notifier};
use crate::salesforce::{Client, HttpClient};
use crate::store::Store;
use crate::sync::SyncError;
use crate::sync::authorize;
use crate::sync::clock::SharedClock;
use crate::sync::connect::{client_for, seed_guard, settings};
use crate::sync::describe_cache;
use crate::sync::history;
use crate::sync::hooks::EngineHooks;
use crate::sync::object_sync::ObjectOutcome;
use crate::sync::projection::{self, RunCost, SelectionCost};
use crate::sync::quota::{self, QuotaGuard, QuotaStop, ResumeProbes};
use crate::sync::record_counts;
use crate::sync::run::{RunContext, RunObserver, RunReport, RunSpec, parse_kind, parse_outcome};
use crate::sync::scheduler::{DueRun, Scheduler};
use crate::sync::shared_store::SharedStore;
use crate::sync::status::{StatusMachine, Transition, fields_skipped_error, needs_operator};
use crate::sync::stop::{StopReason, StopSignal};

mod auth;
mod quota_probe;
mod runs;
mod schema;
mod store_open;

/// Why an interactive authorization ended without credentials.
#[derive(Debug)]
struct AuthFailure {
    message: String,
    refused: bool,
}

/// Events kept per source in the snapshot.
const MAX_EVENTS: usize = 50;
/// Usage samples shown (sparkline) cover this much history.
const SAMPLE_WINDOW: Duration = Duration::hours(24);

/// What the engine tells a worker.
#[derive(Debug)]
pub enum WorkerCommand {
    SyncNow { full: bool },
    Pause,
    Resume,
    Reload(Box<SourceConfig>),
    Reauthorize(AuthFlow),
    CancelAuth,
    LoadSchema { force: bool },
    DescribeObjects(Vec<String>),
    TestNotification,
    Shutdown,
}

/// What all workers share.
#[derive(Clone)]
pub struct EngineContext {
    pub paths: Paths,
    pub clock: SharedClock,
    pub notifier: Notifier,
    pub http: HttpClient,
    pub snapshots: Arc<watch::Sender<Snapshot>>,
}

/// Replace (or add) one source's entry of the snapshot. The fleet's view of its lease is
/// kept: the fleet task, not the worker, keeps that current.
pub fn publish_source(
    snapshots: &watch::Sender<Snapshot>,
    clock: &SharedClock,
    mut entry: SourceSnapshot,
) {
    snapshots.send_modify(|s| {
        s.version += 1;
        s.at = Some(clock.now());
        match s.sources.iter_mut().find(|x| x.id == entry.id) {
            Some(slot) => {
                if entry.fleet.is_none() {
                    entry.fleet = slot.fleet.take();
                }
                *slot = entry
            }
            None => s.sources.push(entry),
        }
    });
}

/// Messages from a running run to its worker.
enum RunEvent {
    Started(RunKind),
    Backfill {
        object: String,
        added: Vec<String>,
    },
    Warning(String),
    /// Worth an info event (an object read through Bulk API, and why).
    Info(String),
    /// The answer of a test notification (`Ok`: every channel took it).
    NotifyTested(Result<String, String>),
}

struct Running {
    stop: StopSignal,
    handle: JoinHandle<RunReport>,
}

pub struct Worker {
    source: SourceConfig,
    shared: EngineContext,
    store: Option<SharedStore>,
    guard: Arc<QuotaGuard>,
    hooks: Arc<EngineHooks>,
    creds: Option<Credentials>,
    client: Option<Client>,
    status: StatusMachine,
    scheduler: Scheduler,
    probes: ResumeProbes,
    /// Next auto-resume check while the org-wide quota stop lasts.
    probe_at: Option<DateTime<Utc>>,
    /// An error only the operator can fix stops scheduled runs.
    blocked: bool,
    running: Option<Running>,
    run_events: (
        mpsc::UnboundedSender<RunEvent>,
        mpsc::UnboundedReceiver<RunEvent>,
    ),
    auth_task: Option<JoinHandle<Result<Credentials, AuthFailure>>>,
    auth_prompt: Arc<Mutex<Option<AuthPrompt>>>,
    last_run: Option<RunSummary>,
    events: VecDeque<Event>,
    records: u64,
    samples: Vec<(DateTime<Utc>, u64)>,
    projections: Vec<crate::model::FrequencyProjection>,
    schema: Option<Arc<crate::model::OrgSchema>>,
    /// Objects the operator asked to see the fields of; kept in every later schema.
    on_demand: BTreeSet<String>,
    /// The last verification, and when the schedule counts from without one.
    last_verify: Option<crate::model::VerifySummary>,
    verify_baseline: Option<DateTime<Utc>>,
    /// Selected fields the last whole-source run could not copy.
    skipped: Vec<SkippedFields>,
    /// A Sync Now that arrived during a run (`true`: a full one), started after it.
    after_run: Option<bool>,
    /// Finished runs, newest first, as the snapshot carries them.
    history: Arc<Vec<HistoryRun>>,
    /// The background connect of a PostgreSQL store.
    store_open: store_open::StoreOpen,
    /// The fleet lease this worker runs under, set on the store as soon as it is open.
    fence: Option<crate::store::postgres::lease::Fence>,
}

impl Worker {
    pub fn new(source: SourceConfig, shared: EngineContext) -> Worker {
        let now = shared.clock.now();
        let guard = Arc::new(QuotaGuard::new(settings(&source)));
        let hooks = Arc::new(EngineHooks::new(
            guard.clone(),
            shared.clock.clone(),
            Some((shared.paths.clone(), source.id.clone())),
        ));
        let mut events = VecDeque::new();
        let (store, store_error) = if Worker::store_is_remote(&source) {
            // Connected in the background once the worker runs (see `store_open`).
            (None, None)
        } else {
            match Store::open_for(&shared.paths, &source) {
                Ok(s) => (Some(SharedStore::new(s)), None),
                Err(e) => (None, Some(e.to_string())),
            }
        };
        let (creds, creds_error) = match Credentials::load(&shared.paths, &source.id) {
            Ok(c) => (c, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let setting_up = store
            .as_ref()
            .map(|s| {
                s.with_blocking(|st| {
                    source.objects.keys().any(|o| {
                        st.cursor(o)
                            .ok()
                            .flatten()
                            .is_none_or(|c| !c.full_sync_done)
                    })
                })
            })
            .unwrap_or(true);
        let mut status = StatusMachine::new(creds.is_some(), source.sync_enabled, setting_up, now);
        let fail = |kind, message: String| ErrorInfo {
            kind,
            message,
            retry_at: None,
            used: None,
            max: None,
        };
        if let Some(e) = store_error {
            status.fail(fail(ErrorKind::Config, e), now);
        } else if let Some(e) = creds_error {
            status.set_credentials(true, now);
            status.fail(fail(ErrorKind::AuthRequired, e), now);
        }
        let last_started = store
            .as_ref()
            .and_then(|s| s.with_blocking(|st| st.last_run().ok().flatten().map(|r| r.started)));
        let (last_verify, verify_baseline) = store
            .as_ref()
            .map(|s| {
                s.with_blocking(|st| {
                    let last = st.last_verify().ok().flatten();
                    let baseline = match &last {
                        Some(v) => Some(v.finished),
                        None => st.first_run_started().ok().flatten(),
                    };
                    (last.map(|v| v.summary()), baseline)
                })
            })
            .unwrap_or((None, None));
        let scheduler = Scheduler::new(source.frequency, last_started);
        let client = creds
            .as_ref()
            .map(|c| client_for(&shared.http, &source, c, hooks.clone()));
        events.push_back(Event {
            at: now,
            level: EventLevel::Info,
            message: format!("worker started ({})", status.status().label()),
        });
        let skipped = store
            .as_ref()
            .map(|s| s.with_blocking(|st| describe_cache::load_skipped(st)))
            .unwrap_or_default();
        if status.error().is_none()
            && let Some(error) = fields_skipped_error(&skipped)
        {
            status.fail(error, now);
        }
        let blocked = status.error().is_some_and(|e| needs_operator(e.kind));
        let mut worker = Worker {
            source,
            shared,
            store,
            guard,
            hooks,
            creds,
            client,
            status,
            scheduler,
            probes: ResumeProbes::default(),
            probe_at: None,
            blocked,
            running: None,
            run_events: mpsc::unbounded_channel(),
            auth_task: None,
            auth_prompt: Arc::new(Mutex::new(None)),
            last_run: None,
            events,
            records: 0,
            samples: Vec::new(),
            projections: Vec::new(),
            schema: None,
            on_demand: BTreeSet::new(),
            last_verify,
            verify_baseline,
            skipped,
            after_run: None,
            history: Arc::default(),
            store_open: store_open::StoreOpen::default(),
            fence: None,
        };
        worker.refresh_stats();
        worker.refresh_history();
        if let Some(store) = &worker.store {
            seed_guard(&worker.guard, store, &worker.shared.clock);
        }
        worker
    }

    /// Make every page this worker commits check the fleet lease it runs under.
    /// A run the previous owner left unfinished (killed, or cut off) goes on at once from
    /// the committed cursor instead of waiting for the schedule.
    pub(crate) fn fence(&mut self, fence: Option<crate::store::postgres::lease::Fence>) {
        self.fence = fence;
        self.apply_fence();
    }

    /// Fence the store once both the lease and the store are there: a PostgreSQL store
    /// connects in the background, usually after the lease was taken, and no run can
    /// commit before it is adopted.
    fn apply_fence(&mut self) {
        let (Some(store), Some(fence)) = (&self.store, self.fence.clone()) else {
            return;
        };
        let interrupted = store.with_blocking(|s| {
            s.set_fence(Some(fence));
            s.last_run()
                .ok()
                .flatten()
                .is_some_and(|r| r.finished.is_none())
        });
        if interrupted && self.can_sync() && self.scheduler.request_now(false).is_ok() {
            self.event(
                EventLevel::Info,
                "taken over from another daemon mid-run: resuming from the committed cursor".into(),
            );
        }
    }

    /// The previous worker of this source panicked (the supervisor logged it): say so in
    /// the status. Not an error only the operator can fix, so schedules and commands go on.
    pub fn internal_error(&mut self) {
        let now = self.now();
        let t = self.status.fail(
            ErrorInfo {
                kind: ErrorKind::Internal,
                message: crate::sync::supervise::INTERNAL_ERROR.to_string(),
                retry_at: None,
                used: None,
                max: None,
            },
            now,
        );
        self.transition(t);
    }

    fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    fn event(&mut self, level: EventLevel, message: String) {
        match level {
            EventLevel::Error => tracing::error!(source = %self.source.id, "{message}"),
            EventLevel::Warn => tracing::warn!(source = %self.source.id, "{message}"),
            EventLevel::Info => tracing::info!(source = %self.source.id, "{message}"),
        }
        self.events.push_back(Event {
            at: self.now(),
            level,
            message,
        });
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
    }

    /// Record a status change: event, and a notification when it entered Error.
    fn transition(&mut self, t: Option<Transition>) {
        let Some(t) = t else { return };
        let message = match &t.to {
            Status::Error(e) => match e.retry_at {
                Some(at) => format!(
                    "status: Error ({}): {}; resumes {}",
                    e.kind.label(),
                    e.message,
                    quota::resume_text(at, t.at)
                ),
                None => format!("status: Error ({}): {}", e.kind.label(), e.message),
            },
            other => format!("status: {} (was {})", other.label(), t.from.label()),
        };
        let level = if matches!(t.to, Status::Error(_)) {
            EventLevel::Error
        } else {
            EventLevel::Info
        };
        self.event(level, message);
        match &t.to {
            Status::Error(e) => {
                let _ = self.shared.notifier.incident(Incident {
                    source: self.source.id.clone(),
                    status: t.to.label().to_string(),
                    kind: e.kind.into(),
                    message: e.message.clone(),
                    used: e.used,
                    max: e.max,
                    at: t.at,
                });
            }
            Status::Active | Status::SettingUp if matches!(t.from, Status::Error(_)) => {
                self.shared.notifier.recovered(&self.source.id);
            }
            _ => {}
        }
    }

    fn refresh_stats(&mut self) {
        let Some(store) = &self.store else { return };
        let since = self.now() - SAMPLE_WINDOW;
        let (source, schema) = (&self.source, self.schema.as_deref());
        let (records, samples, runs, selection) = store.with_blocking(|s| {
            (
                s.total_rows().unwrap_or(0),
                s.usage_since(since).unwrap_or_default(),
                s.recent_runs(projection::RUNS_CONSIDERED * 2)
                    .unwrap_or_default(),
                SelectionCost::of(source, schema, |o| s.row_count(o).unwrap_or(0)),
            )
        });
        self.records = records;
        self.samples = samples.iter().map(|u| (u.at, u.used)).collect();
        // The guard learns the daily max from any response; samples may not exist yet.
        let max = samples.last().map(|u| u.max).or(self.guard.usage().1);
        if self.last_run.is_none()
            && let Some(r) = runs.first()
            && let (Some(finished), Some(outcome)) = (r.finished, r.outcome.as_deref())
        {
            self.last_run = Some(RunSummary {
                started: r.started,
                finished,
                kind: parse_kind(&r.kind),
                outcome: parse_outcome(outcome),
                upserted: r.upserted,
                deleted: r.deleted,
                api_calls: r.api_calls,
                error: r.error.clone(),
            });
        }
        let costs: Vec<RunCost> = runs
            .iter()
            .filter_map(|r| {
                Some(RunCost {
                    kind: parse_kind(&r.kind),
                    outcome: parse_outcome(r.outcome.as_deref()?),
                    api_calls: r.api_calls,
                })
            })
            .collect();
        self.projections = projection::project(&costs, selection, max);
    }

    fn snapshot(&self, running: Option<RunProgress>) -> SourceSnapshot {
        let now = self.now();
        let (used, max) = self.guard.usage();
        SourceSnapshot {
            id: self.source.id.clone(),
            name: self.source.name.clone(),
            kind: self.source.kind,
            status: self.status.status().clone(),
            since: Some(self.status.since()),
            sync_enabled: self.status.sync_enabled(),
            frequency: self.source.frequency,
            quota_threshold_percent: self.source.quota_threshold_percent,
            connection: self.creds.as_ref().map(|c| ConnectionInfo {
                org_id: c.org_id.clone(),
                instance_url: c.instance_url.clone(),
                username: c.username.clone(),
                authorized_at: c.authorized_at,
            }),
            running,
            last_run: self.last_run.clone(),
            next_run: self.next_wake(now),
            records: self.records,
            api: ApiUsage {
                used,
                max,
                samples: self.samples.clone(),
            },
            projections: self.projections.clone(),
            events: self.events.iter().cloned().collect(),
            auth: self
                .auth_prompt
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            schema: self.schema.clone(),
            verify: self.last_verify.clone(),
            skipped_fields: self.skipped.clone(),
            history: self.history.clone(),
            fleet: None,
        }
    }

    /// Re-read the run history from the store (at start and after each run).
    fn refresh_history(&mut self) {
        let Some(store) = &self.store else { return };
        match store.with_blocking(|s| history::recent(s, HISTORY_RUNS)) {
            Ok(runs) => self.history = Arc::new(runs),
            Err(e) => tracing::warn!(source = %self.source.id, "run history not read: {e}"),
        }
    }

    pub(crate) fn publish(&self) {
        let mut records = None;
        let running = if self.running.is_some() {
            let published = self.shared.snapshots.borrow();
            let source = published.source(&self.source.id);
            // The run's observer keeps these current page by page.
            records = source.map(|s| s.records);
            source
                .and_then(|s| s.running.clone())
                .or_else(|| Some(RunProgress::default()))
        } else {
            None
        };
        let mut snapshot = self.snapshot(running);
        if let Some(records) = records {
            snapshot.records = records;
        }
        publish_source(&self.shared.snapshots, &self.shared.clock, snapshot);
    }

    fn can_sync(&self) -> bool {
        self.client.is_some() && self.store.is_some()
    }

    fn next_wake(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.running.is_some() || !self.can_sync() || !self.status.sync_enabled() {
            return None;
        }
        let scheduled = if self.blocked && !self.has_request() {
            None
        } else {
            self.scheduler.next_wake(now)
        };
        match (scheduled, self.probe_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn has_request(&self) -> bool {
        self.scheduler.has_request()
    }

    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<WorkerCommand>) {
        if Worker::store_is_remote(&self.source) {
            self.open_store();
        }
        self.publish();
        loop {
            let wake = self.next_wake(self.now());
            let sleep = wake.map(|w| self.shared.clock.sleep_until(w));
            let store_retry = self
                .store_open
                .retry_at
                .map(|w| self.shared.clock.sleep_until(w));
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None | Some(WorkerCommand::Shutdown) => {
                        self.shutdown().await;
                        return;
                    }
                    Some(cmd) => self.handle(cmd).await,
                },
                report = wait_run(&mut self.running) => {
                    self.running = None;
                    self.run_finished(report).await;
                    self.describe_on_demand().await;
                }
                Some(ev) = self.run_events.1.recv() => self.run_event(ev),
                result = wait_auth(&mut self.auth_task) => {
                    self.auth_task = None;
                    self.auth_finished(result);
                }
                _ = maybe_sleep(sleep) => self.wake().await,
                opened = store_open::connected(&mut self.store_open) => self.store_opened(opened),
                _ = maybe_sleep(store_retry) => self.open_store(),
            }
            self.publish();
        }
    }

    async fn shutdown(&mut self) {
        if let Some(task) = self.auth_task.take() {
            task.abort();
        }
        if let Some(running) = self.running.take() {
            running.stop.stop(StopReason::Shutdown);
            let report = match running.handle.await {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::error!(source = %self.source.id, "run task failed: {e}");
                    None
                }
            };
            if let Some(r) = report {
                self.last_run = Some(r.summary);
            }
        }
        self.event(EventLevel::Info, "worker stopped".into());
        self.refresh_stats();
        self.publish();
    }

    async fn handle(&mut self, cmd: WorkerCommand) {
        let now = self.now();
        match cmd {
            WorkerCommand::SyncNow { full } => {
                if !self.status.sync_enabled() {
                    self.event(
                        EventLevel::Warn,
                        "Sync Now ignored: syncing is paused; resume it first".into(),
                    );
                } else if !self.can_sync() && self.store_connecting() {
                    let _ = self.scheduler.request_now(full);
                    self.event(
                        EventLevel::Info,
                        "Sync Now queued: it starts once the store is connected".into(),
                    );
                } else if !self.can_sync() {
                    self.event(
                        EventLevel::Warn,
                        "Sync Now ignored: the source is not connected; authorize it first".into(),
                    );
                } else if self.scheduler.request_now(full).is_err() {
                    // A Sync Now after a field change must read the new fields: it runs
                    // right after the current run (whose plans predate the change).
                    self.after_run = Some(self.after_run.unwrap_or(false) || full);
                    self.event(
                        EventLevel::Info,
                        "Sync Now queued: it starts when the current run ends".into(),
                    );
                }
            }
            WorkerCommand::Pause => {
                let t = self.status.set_sync_enabled(false, now);
                self.transition(t);
                if let Some(r) = &self.running {
                    r.stop.stop(StopReason::Pause);
                    self.event(
                        EventLevel::Info,
                        "pausing: the run stops at the next page boundary".into(),
                    );
                }
            }
            WorkerCommand::Resume => {
                let t = self.status.set_sync_enabled(true, now);
                self.transition(t);
            }
            WorkerCommand::Reload(source) => self.reload(*source),
            WorkerCommand::Reauthorize(flow) => self.start_auth(flow),
            WorkerCommand::CancelAuth => {
                if let Some(task) = self.auth_task.take() {
                    task.abort();
                    *self.auth_prompt.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(AuthPrompt::Failed {
                            message: "authorization cancelled".into(),
                            refused: false,
                        });
                    self.event(
                        EventLevel::Warn,
                        "authorization cancelled; the stored credentials are unchanged".into(),
                    );
                }
            }
            WorkerCommand::LoadSchema { force } => self.load_schema(force).await,
            WorkerCommand::DescribeObjects(objects) => self.describe_objects(objects).await,
            WorkerCommand::TestNotification => {
                // Delivery can take a mail server's timeout; the answer comes back as an event.
                self.event(EventLevel::Info, "sending a test notification…".into());
                let (notifier, answers) = (self.shared.notifier.clone(), self.run_events.0.clone());
                let source = self.source.id.clone();
                tokio::spawn(async move {
                    let answer = notifier.test(&source, now).await;
                    let _ = answers.send(RunEvent::NotifyTested(answer));
                });
            }
            WorkerCommand::Shutdown => {}
        }
    }

    fn reload(&mut self, source: SourceConfig) {
        let now = self.now();
        if source.frequency != self.source.frequency {
            self.scheduler.set_frequency(source.frequency);
        }
        self.guard.set_settings(settings(&source));
        let threshold_changed =
            source.quota_threshold_percent != self.source.quota_threshold_percent;
        let enabled_changed = source.sync_enabled != self.source.sync_enabled;
        let connection_changed =
            source.login_url != self.source.login_url || source.client_id != self.source.client_id;
        self.source = source;
        if enabled_changed {
            let t = self.status.set_sync_enabled(self.source.sync_enabled, now);
            self.transition(t);
            if !self.source.sync_enabled
                && let Some(r) = &self.running
            {
                r.stop.stop(StopReason::Pause);
            }
        }
        if connection_changed {
            self.client = self
                .creds
                .as_ref()
                .map(|c| client_for(&self.shared.http, &self.source, c, self.hooks.clone()));
        }
        // A config fix may clear a Config error; the next run tells.
        if self
            .status
            .error()
            .is_some_and(|e| e.kind == ErrorKind::Config)
        {
            self.blocked = false;
        }
        self.event(EventLevel::Info, "configuration reloaded".into());
        self.refresh_stats();
        if threshold_changed {
            self.recheck_threshold(now);
        }
    }

    /// A changed quota threshold takes effect at once against the known usage: raised above
    /// it clears the quota error, lowered to or below it stops syncing until usage falls.
    fn recheck_threshold(&mut self, now: DateTime<Utc>) {
        let (Some(used), Some(max)) = self.guard.usage() else {
            return;
        };
        let Some(threshold) = self.guard.threshold_calls() else {
            return;
        };
        let quota_error = self
            .status
            .error()
            .is_some_and(|e| e.kind == ErrorKind::QuotaThreshold);
        if used < threshold {
            if quota_error {
                self.recovered_from_quota(now);
            }
        } else if !quota_error && self.running.is_none() {
            // A run in progress trips the guard at its next call and reports the same.
            self.quota_stopped(QuotaStop::OrgThreshold {
                used,
                max,
                threshold_percent: self.source.quota_threshold_percent,
            });
        }
    }
}

async fn wait_run(running: &mut Option<Running>) -> Option<RunReport> {
    match running {
        Some(r) => (&mut r.handle).await.ok(),
        None => std::future::pending().await,
    }
}

async fn wait_auth(
    task: &mut Option<JoinHandle<Result<Credentials, AuthFailure>>>,
) -> Result<Credentials, AuthFailure> {
    match task {
        Some(t) => match t.await {
            Ok(r) => r,
            Err(e) => Err(AuthFailure {
                message: format!("authorization task ended: {e}"),
                refused: false,
            }),
        },
        None => std::future::pending().await,
    }
}

async fn maybe_sleep(sleep: Option<crate::sync::clock::Sleep>) {
    match sleep {
        Some(s) => s.await,
        None => std::future::pending().await,
    }
}
