//! One source's worker: its schedule, runs, status machine, quota recovery,
//! reauthorization and schema loading. It owns the source's entry of the snapshot.

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

/// Replace (or add) one source's entry of the snapshot.
pub fn publish_source(
    snapshots: &watch::Sender<Snapshot>,
    clock: &SharedClock,
    entry: SourceSnapshot,
) {
    snapshots.send_modify(|s| {
        s.version += 1;
        s.at = Some(clock.now());
        match s.sources.iter_mut().find(|x| x.id == entry.id) {
            Some(slot) => *slot = entry,
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
    /// The answer of a test notification (`Ok`: every channel took it).
    NotifyTested(Result<String, String>),
}

struct Running {
    stop: StopSignal,
    handle: JoinHandle<RunReport>,
}

/// Run progress, straight into the snapshot after every page.
struct WorkerObserver {
    source: String,
    shared: EngineContext,
    hooks: Arc<EngineHooks>,
    calls_before: u64,
    started_at: std::time::Instant,
    progress: Mutex<RunProgress>,
    events: mpsc::UnboundedSender<RunEvent>,
    /// Counts the rows committed so far, so Records grows page by page during a run.
    store: SharedStore,
    /// When the rows were last counted: a count reads every table, so it runs on the first
    /// page and then at most every `RECOUNT_EVERY`, not after every page of a long sync.
    counted_at: Mutex<Option<std::time::Instant>>,
}

/// How often Records is recounted while a run commits pages (the end of a run always
/// recounts).
const RECOUNT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

impl WorkerObserver {
    fn publish(&self, update: impl FnOnce(&mut RunProgress)) {
        let progress = {
            let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            update(&mut p);
            p.api_calls = self.hooks.calls() - self.calls_before;
            let done: u64 = p.objects.iter().map(|o| o.done).sum();
            let secs = self.started_at.elapsed().as_secs_f64();
            p.records_per_second = if secs > 0.0 { done as f64 / secs } else { 0.0 };
            p.clone()
        };
        let id = self.source.clone();
        let now = self.shared.clock.now();
        self.shared.snapshots.send_modify(|s| {
            s.version += 1;
            s.at = Some(now);
            if let Some(src) = s.sources.iter_mut().find(|x| x.id == id) {
                src.running = Some(progress);
            }
        });
    }
}

impl RunObserver for WorkerObserver {
    fn started(&self, kind: RunKind, objects: &[String]) {
        let _ = self.events.send(RunEvent::Started(kind));
        self.publish(|p| {
            p.kind = kind;
            p.objects = objects
                .iter()
                .map(|o| crate::model::ObjectProgress {
                    object: o.clone(),
                    ..Default::default()
                })
                .collect();
        });
    }

    fn object_progress(&self, object: &str, done: u64, expected: Option<u64>) {
        self.publish(|p| {
            if let Some(o) = p.objects.iter_mut().find(|o| o.object == object) {
                o.done = done;
                o.expected = expected;
            }
        });
        // Called right after a page commits: the table's Records counts what is stored.
        let due = {
            let mut counted_at = self.counted_at.lock().unwrap_or_else(|e| e.into_inner());
            let due = done > 0 && counted_at.is_none_or(|at| at.elapsed() >= RECOUNT_EVERY);
            if due {
                *counted_at = Some(std::time::Instant::now());
            }
            due
        };
        if !due {
            return;
        }
        if let Ok(records) = self.store.with_blocking(|s| s.total_rows()) {
            let id = self.source.clone();
            self.shared.snapshots.send_modify(|s| {
                if let Some(src) = s.sources.iter_mut().find(|x| x.id == id) {
                    src.records = records;
                }
            });
        }
    }

    fn object_finished(&self, object: &str, outcome: &ObjectOutcome) {
        let finished = outcome.finished;
        self.publish(|p| {
            if let Some(o) = p.objects.iter_mut().find(|o| o.object == object) {
                o.finished = finished;
            }
        });
    }

    fn backfill(&self, object: &str, added: &[String]) {
        let _ = self.events.send(RunEvent::Backfill {
            object: object.to_string(),
            added: added.to_vec(),
        });
    }

    fn warning(&self, message: String) {
        let _ = self.events.send(RunEvent::Warning(message));
    }
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
        let (store, store_error) = match Store::open(&shared.paths.store_file(&source.id)) {
            Ok(s) => (Some(SharedStore::new(s)), None),
            Err(e) => (None, Some(e.to_string())),
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
        };
        worker.refresh_stats();
        worker.refresh_history();
        if let Some(store) = &worker.store {
            seed_guard(&worker.guard, store, &worker.shared.clock);
        }
        worker
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
        self.publish();
        loop {
            let wake = self.next_wake(self.now());
            let sleep = wake.map(|w| self.shared.clock.sleep_until(w));
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

    fn start_auth(&mut self, flow: AuthFlow) {
        if self.auth_task.is_some() {
            self.event(
                EventLevel::Warn,
                "an authorization is already in progress".into(),
            );
            return;
        }
        let http = self.shared.http.clone();
        let paths = self.shared.paths.clone();
        let source = self.source.clone();
        let prompt = self.auth_prompt.clone();
        let snapshots = self.shared.snapshots.clone();
        let id = self.source.id.clone();
        *prompt.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.auth_task = Some(tokio::spawn(async move {
            let show = |p: AuthPrompt| {
                *prompt.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.clone());
                snapshots.send_modify(|s| {
                    s.version += 1;
                    if let Some(src) = s.sources.iter_mut().find(|x| x.id == id) {
                        src.auth = Some(p);
                    }
                });
            };
            authorize::authorize(&http, &paths, &source, flow, show)
                .await
                .map_err(|e| AuthFailure {
                    message: e.to_string(),
                    refused: e.is_refusal(),
                })
        }));
        self.event(EventLevel::Info, "authorization started".into());
    }

    fn auth_finished(&mut self, result: Result<Credentials, AuthFailure>) {
        let now = self.now();
        let prompt = match result {
            Ok(creds) => {
                self.client = Some(client_for(
                    &self.shared.http,
                    &self.source,
                    &creds,
                    self.hooks.clone(),
                ));
                let username = creds.username.clone();
                self.creds = Some(creds);
                self.blocked = false;
                let t = self.status.set_credentials(true, now);
                self.transition(t);
                self.shared.notifier.recovered(&self.source.id);
                self.event(EventLevel::Info, format!("authorized as {username}"));
                AuthPrompt::Succeeded { username }
            }
            Err(AuthFailure { message, refused }) => {
                self.event(
                    EventLevel::Error,
                    format!("authorization failed: {message}"),
                );
                AuthPrompt::Failed { message, refused }
            }
        };
        *self.auth_prompt.lock().unwrap_or_else(|e| e.into_inner()) = Some(prompt);
    }

    async fn load_schema(&mut self, force: bool) {
        let (Some(client), Some(store)) = (self.client.clone(), self.store.clone()) else {
            self.event(
                EventLevel::Warn,
                "cannot load the schema: the source is not connected".into(),
            );
            return;
        };
        let now = self.now();
        let global = match describe_cache::global(&client, &store, now, force).await {
            Ok(g) => g,
            Err(e) => {
                self.event(
                    EventLevel::Error,
                    format!("schema could not be loaded: {e}"),
                );
                return;
            }
        };
        // Selected and on-demand objects get fields. Describes go out only while no run is
        // using the client (a composite describe among concurrent calls would blur quota
        // accounting); fields shown before stay until they can be fetched again.
        let mut wanted: BTreeSet<String> = self.source.objects.keys().cloned().collect();
        wanted.extend(self.on_demand.iter().cloned());
        let wanted: Vec<String> = wanted.into_iter().collect();
        let described = if self.running.is_none() {
            describe_cache::describes(&client, &store, &wanted, now, force)
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let described: Vec<_> = described.into_iter().filter_map(|(_, d)| d.ok()).collect();
        let mut schema = describe_cache::org_schema(&global, &described);
        if let Some(previous) = &self.schema {
            describe_cache::keep_known_fields(&mut schema, previous);
            if !force {
                describe_cache::keep_record_counts(&mut schema, previous);
            }
        }
        if self.running.is_none() {
            self.fill_record_counts(&client, &mut schema).await;
        }
        self.schema = Some(Arc::new(schema));
        self.event(
            EventLevel::Info,
            format!("schema loaded: {} objects", global.sobjects.len()),
        );
    }

    /// Remember `objects` as wanted and describe them now, or after the current run
    /// (see `load_schema` for why not during one). Without a schema yet, a full load
    /// includes them.
    async fn describe_objects(&mut self, objects: Vec<String>) {
        let Some(schema) = self.schema.clone() else {
            self.on_demand.extend(objects);
            return self.load_schema(false).await;
        };
        for object in objects {
            if schema.objects.iter().any(|o| o.name == object) {
                self.on_demand.insert(object);
            } else {
                self.event(
                    EventLevel::Warn,
                    format!("cannot describe {object}: it is not a queryable object of this org; reload the schema if it was just created"),
                );
            }
        }
        if self.running.is_some() {
            self.event(
                EventLevel::Info,
                "requested fields will load when the current run finishes".into(),
            );
            return;
        }
        self.describe_on_demand().await;
    }

    /// Describe the on-demand objects the published schema has no fields for (one
    /// composite call per 25, none for cached describes) and publish the merged schema.
    async fn describe_on_demand(&mut self) {
        let Some(schema) = self.schema.clone() else {
            return;
        };
        let missing: Vec<String> = schema
            .objects
            .iter()
            .filter(|o| o.fields.is_empty() && self.on_demand.contains(&o.name))
            .map(|o| o.name.clone())
            .collect();
        if missing.is_empty() {
            return;
        }
        let (Some(client), Some(store)) = (self.client.clone(), self.store.clone()) else {
            self.event(
                EventLevel::Warn,
                "cannot load fields: the source is not connected".into(),
            );
            return;
        };
        let now = self.now();
        let results = match describe_cache::describes(&client, &store, &missing, now, false).await {
            Ok(r) => r,
            Err(e) => {
                self.on_demand.retain(|o| !missing.contains(o));
                self.event(
                    EventLevel::Error,
                    format!(
                        "fields of {} could not be loaded: {e}; open the object again to retry",
                        missing.join(", ")
                    ),
                );
                let failed: Vec<(String, String)> =
                    missing.iter().map(|o| (o.clone(), e.to_string())).collect();
                self.schema = Some(Arc::new(describe_cache::with_load_errors(&schema, &failed)));
                return;
            }
        };
        let mut described = Vec::with_capacity(results.len());
        let mut failed = Vec::new();
        for (object, result) in results {
            match result {
                Ok(d) => described.push(d),
                Err(e) => {
                    self.on_demand.remove(&object);
                    self.event(
                        EventLevel::Warn,
                        format!("fields of {object} could not be loaded: {e}"),
                    );
                    failed.push((object, e.to_string()));
                }
            }
        }
        let mut merged = describe_cache::with_load_errors(
            &describe_cache::with_fields(&schema, &described),
            &failed,
        );
        self.fill_record_counts(&client, &mut merged).await;
        self.schema = Some(Arc::new(merged));
    }

    /// Review prices a backfill by record count: one `limits/recordCount` call covers every
    /// object whose count is not known yet, fields loaded or not (a preset may add objects
    /// never opened; a forced schema load refreshes them). A failure only leaves the counts
    /// unknown (the review says so), it never blocks the schema.
    async fn fill_record_counts(&mut self, client: &Client, schema: &mut crate::model::OrgSchema) {
        let objects: Vec<String> = schema
            .objects
            .iter()
            .filter(|o| o.record_count.is_none())
            .map(|o| o.name.clone())
            .collect();
        if let Err(e) = record_counts::fill(client, schema, objects).await {
            self.event(
                EventLevel::Warn,
                format!("record counts could not be read ({e}); review shows them as unknown"),
            );
        }
    }

    fn run_event(&mut self, ev: RunEvent) {
        let now = self.now();
        match ev {
            RunEvent::Started(kind) => {
                if kind == RunKind::Initial {
                    let t = self.status.set_setting_up(true, now);
                    self.transition(t);
                }
            }
            RunEvent::Backfill { object, added } => {
                self.event(
                    EventLevel::Info,
                    format!("{object}: backfilling added fields {}", added.join(", ")),
                );
                let t = self.status.set_setting_up(true, now);
                self.transition(t);
            }
            RunEvent::Warning(message) => self.event(EventLevel::Warn, message),
            RunEvent::NotifyTested(Ok(message)) => self.event(EventLevel::Info, message),
            RunEvent::NotifyTested(Err(message)) => self.event(EventLevel::Warn, message),
        }
    }

    async fn wake(&mut self) {
        let now = self.now();
        if self.probe_at.is_some_and(|t| t <= now) {
            self.probe_quota().await;
        }
        if self.running.is_none()
            && self.status.sync_enabled()
            && self.can_sync()
            && (!self.blocked || self.has_request())
            && let Some(due) = self.scheduler.take_due(now)
        {
            self.start_run(due);
        }
    }

    fn start_run(&mut self, due: DueRun) {
        let (Some(client), Some(store)) = (self.client.clone(), self.store.clone()) else {
            return;
        };
        let stop = StopSignal::new();
        let observer = WorkerObserver {
            source: self.source.id.clone(),
            shared: self.shared.clone(),
            hooks: self.hooks.clone(),
            calls_before: self.hooks.calls(),
            started_at: std::time::Instant::now(),
            progress: Mutex::new(RunProgress {
                started: Some(self.now()),
                ..Default::default()
            }),
            events: self.run_events.0.clone(),
            store: store.clone(),
            counted_at: Mutex::new(None),
        };
        let source = self.source.clone();
        let hooks = self.hooks.clone();
        let clock = self.shared.clock.clone();
        let user_id = self.creds.as_ref().map(|c| c.user_id.clone());
        let authorized_at = self.creds.as_ref().map(|c| c.authorized_at);
        let spec = RunSpec {
            full: due.full,
            ..RunSpec::default()
        };
        let now = self.now();
        let verify_due = self.source.verify.every().is_some_and(|every| {
            self.verify_baseline
                .or(self.last_run.as_ref().map(|r| r.started))
                .is_some_and(|since| now - since >= every)
        });
        let task_stop = stop.clone();
        let handle = tokio::spawn(async move {
            if let Err(e) = client
                .negotiate_api_version(source.api_version.as_deref())
                .await
            {
                tracing::warn!(source = %source.id, "API version negotiation failed: {e}");
            }
            let ctx = RunContext {
                source: &source,
                client: &client,
                hooks: &hooks,
                store: &store,
                stop: &task_stop,
                clock: &clock,
                user_id: user_id.as_deref(),
                authorized_at,
            };
            let mut report = ctx.execute(&spec, &observer).await;
            if verify_due && report.all_synced && report.error.is_none() && !task_stop.is_stopped()
            {
                // The scheduled Id reconcile: it reports differences, never repairs.
                let verify = crate::sync::verify::VerifyContext {
                    source: &source,
                    client: &client,
                    hooks: &hooks,
                    store: &store,
                    stop: &task_stop,
                    clock: &clock,
                };
                let spec = crate::sync::verify::VerifySpec::default();
                let done = verify.execute(&spec, &crate::sync::verify::Quiet).await;
                report.verified = Some(done.record());
            }
            report
        });
        self.event(
            EventLevel::Info,
            format!(
                "run started{}",
                if due.requested { " (Sync Now)" } else { "" }
            ),
        );
        self.running = Some(Running { stop, handle });
    }

    async fn run_finished(&mut self, report: Option<RunReport>) {
        let now = self.now();
        let Some(report) = report else {
            self.scheduler.finished(now, false);
            self.event(EventLevel::Error, "the run task failed unexpectedly".into());
            return;
        };
        let succeeded = report.summary.outcome == RunOutcome::Succeeded;
        self.scheduler
            .finished(now, succeeded || report.stopped.is_some());
        if let Some(full) = self.after_run.take()
            && self.status.sync_enabled()
        {
            let _ = self.scheduler.request_now(full);
        }
        let s = &report.summary;
        self.event(
            if succeeded {
                EventLevel::Info
            } else {
                EventLevel::Warn
            },
            format!(
                "run {:?}: {} upserted, {} deleted, {} API calls",
                s.outcome, s.upserted, s.deleted, s.api_calls
            ),
        );
        self.last_run = Some(report.summary.clone());
        if let Some(v) = &report.verified {
            self.verified(v);
        }
        self.refresh_stats();
        self.refresh_history();
        // The run's warning already named them in the events.
        if let Some(skipped) = report.skipped {
            self.skipped = skipped;
        }
        match report.error {
            None if succeeded => {
                self.blocked = false;
                self.probe_at = None;
                self.probes = ResumeProbes::default();
                self.scheduler.release_hold();
                let t = match fields_skipped_error(&self.skipped) {
                    Some(error) => self.status.fail(error, now),
                    None => self.status.recover(now),
                };
                self.transition(t);
                let t = self.status.set_setting_up(!report.all_synced, now);
                self.transition(t);
            }
            None => {}
            Some(SyncError::Quota(stop)) => self.quota_stopped(stop),
            Some(e) => {
                let kind = e.kind();
                self.blocked = needs_operator(kind);
                let retry_at = if self.blocked {
                    None
                } else {
                    self.scheduler.next_wake(now)
                };
                let message = match kind {
                    ErrorKind::AuthRequired => format!(
                        "{e}. Reauthorize as a Salesforce admin (press R, or run `syncdeck auth {}`)",
                        self.source.id
                    ),
                    _ => e.to_string(),
                };
                let t = self.status.fail(
                    ErrorInfo {
                        kind,
                        message,
                        retry_at,
                        used: None,
                        max: None,
                    },
                    now,
                );
                self.transition(t);
            }
        }
    }

    /// A scheduled verification finished: shown, and a difference is an incident.
    fn verified(&mut self, v: &crate::store::VerifyRecord) {
        let summary = v.summary();
        let line = summary.line("just now");
        self.verify_baseline = Some(v.finished);
        let level = match v.outcome.as_str() {
            "exact" => EventLevel::Info,
            _ => EventLevel::Warn,
        };
        self.event(level, format!("verify: {line} ({} API calls)", v.api_calls));
        if v.outcome == "differs" {
            let _ = self.shared.notifier.incident(Incident {
                source: self.source.id.clone(),
                status: "Differs".into(),
                kind: ErrorKind::StoreDiffers.into(),
                message: format!(
                    "{line}: {} rows in the store only, {} missing, {} selected fields unfilled",
                    v.extra, v.missing, v.unfilled_fields
                ),
                used: None,
                max: None,
                at: v.finished,
            });
        }
        self.last_verify = Some(summary);
    }

    fn quota_stopped(&mut self, stop: QuotaStop) {
        let now = self.now();
        let (used, max) = stop.used_max();
        if !stop.is_org_wide() {
            let next = self.scheduler.next_wake(now);
            let t = self.status.fail(
                ErrorInfo {
                    kind: ErrorKind::QuotaThreshold,
                    message: format!("{stop}; the next run continues where this one stopped"),
                    retry_at: next,
                    used,
                    max,
                },
                now,
            );
            self.transition(t);
            return;
        }
        let probe_at = self.plan_probe(now, used, max);
        let t = self.status.fail(
            ErrorInfo {
                kind: ErrorKind::QuotaThreshold,
                message: format!(
                    "{stop}; syncing resumes by itself once usage falls below the threshold"
                ),
                retry_at: Some(probe_at),
                used,
                max,
            },
            now,
        );
        self.transition(t);
    }

    /// When to look at usage again: the rolling-window estimate from stored samples,
    /// spaced out further by every probe that found usage still too high.
    /// `used` is the usage known at the stop, which counts calls that were still in flight
    /// then and may be higher than the last reading.
    fn plan_probe(
        &mut self,
        now: DateTime<Utc>,
        used: Option<u64>,
        max: Option<u64>,
    ) -> DateTime<Utc> {
        let threshold = self
            .guard
            .threshold_calls()
            .or_else(|| max.map(|m| quota::percent_of(m, self.source.quota_threshold_percent)))
            .unwrap_or(0);
        // The guard's view is the newest reading, even when no sample was stored for it.
        let mut samples = self.samples.clone();
        if let Some(used) = self.guard.usage().0.max(used) {
            samples.push((now, used));
        }
        let estimate = quota::estimate_resume(&samples, threshold, now);
        let probe_at = self.probes.next_probe(estimate).max(now);
        self.probe_at = Some(probe_at);
        self.scheduler.hold(probe_at);
        probe_at
    }

    /// One call to read usage (limits/), let through by assuming the estimate was right.
    async fn probe_quota(&mut self) {
        let now = self.now();
        let Some(client) = self.client.clone() else {
            return;
        };
        let Some(threshold) = self.guard.threshold_calls() else {
            self.recovered_from_quota(now);
            return;
        };
        self.guard.begin_run();
        self.guard.assume_usage(threshold.saturating_sub(1));
        if let Err(e) = client.limits().await {
            tracing::info!(source = %self.source.id, "usage probe: {e}");
        }
        let samples = self.hooks.take_unsaved_samples();
        if let Some(store) = &self.store {
            let latest = self.hooks.latest_reading();
            let _ = store
                .with(move |s| {
                    for (at, r) in samples.iter().chain(latest.iter()) {
                        s.record_usage(*at, r.used, r.max)?;
                    }
                    Ok(())
                })
                .await;
        }
        self.refresh_stats();
        let (used, max) = self.guard.usage();
        match used {
            Some(u) if u < threshold => self.recovered_from_quota(now),
            _ => {
                self.probes.still_high(now);
                let probe_at = self.plan_probe(now, used, max);
                self.event(
                    EventLevel::Info,
                    format!(
                        "API usage still at {}/{}; syncing resumes {}",
                        used.unwrap_or(0),
                        max.unwrap_or(0),
                        quota::resume_text(probe_at, now)
                    ),
                );
                if let Some(mut e) = self.status.error().cloned() {
                    e.retry_at = Some(probe_at);
                    e.used = used;
                    let t = self.status.fail(e, now);
                    // Same incident: the notifier deduplicates, the event log gets the update.
                    self.transition(t);
                }
            }
        }
    }

    fn recovered_from_quota(&mut self, now: DateTime<Utc>) {
        self.probe_at = None;
        self.probes = ResumeProbes::default();
        self.scheduler.release_hold();
        self.guard.begin_run();
        self.event(
            EventLevel::Info,
            "API usage is below the threshold again; syncing resumes".into(),
        );
        if self
            .status
            .error()
            .is_some_and(|e| e.kind == ErrorKind::QuotaThreshold)
        {
            let t = self.status.recover(now);
            self.transition(t);
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
