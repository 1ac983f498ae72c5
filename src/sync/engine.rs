//! The engine: one worker per configured source, commands in, snapshots out.
//!
//! ```text
//! Command ──▶ Engine task ──WorkerCommand──▶ Worker (per source) ──▶ watch<Snapshot>
//! ```
//! The engine holds the data directory's lock for its whole life; a daemon serves its
//! commands and snapshots to other processes through `remote`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{Config, Paths, SourceConfig};
use crate::model::{Command, Event, EventLevel, Snapshot, SourceSnapshot, Status};
use crate::notify::Notifier;
use crate::salesforce::{HttpClient, Timeouts};
use crate::store::postgres::lease::Fence;
use crate::sync::clock::SharedClock;
use crate::sync::fleet::{self, FleetTask, Order};
use crate::sync::lock::{EngineLock, LockError};
use crate::sync::supervise::{self, Backoff};
use crate::sync::worker::{EngineContext, Worker, WorkerCommand};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot set up HTTP: {0}")]
    Http(String),
    #[error("cannot join the fleet: {0}")]
    // Not a `source`: the message already carries the fleet's, and the CLI prints chains.
    Fleet(crate::sync::fleet::FleetError),
}

impl From<crate::sync::fleet::FleetError> for EngineError {
    fn from(e: crate::sync::fleet::FleetError) -> EngineError {
        EngineError::Fleet(e)
    }
}

/// How the UI, the daemon and the CLI talk to a running engine.
pub struct EngineHandle {
    pub commands: mpsc::UnboundedSender<Command>,
    pub snapshots: watch::Receiver<Snapshot>,
    task: JoinHandle<()>,
}

impl EngineHandle {
    /// Ask every worker to stop at a page boundary and wait until they have.
    pub async fn shutdown(self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Err(e) = self.task.await {
            tracing::error!("engine task failed: {e}");
        }
    }
}

pub struct Engine;

impl Engine {
    /// Start the engine for `config`: takes the data directory's lock and starts a worker
    /// per source. Must be called inside a tokio runtime.
    pub fn start(
        paths: Paths,
        config: Arc<Config>,
        clock: SharedClock,
        notifier: Notifier,
    ) -> Result<EngineHandle, EngineError> {
        let lock = EngineLock::acquire(&paths.lock_file())?;
        let http =
            HttpClient::new(Timeouts::default()).map_err(|e| EngineError::Http(e.to_string()))?;
        let (snap_tx, snap_rx) = watch::channel(Snapshot::default());
        let shared = EngineContext {
            paths: paths.clone(),
            clock,
            notifier,
            http,
            snapshots: Arc::new(snap_tx),
        };
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (order_tx, order_rx) = mpsc::unbounded_channel();
        // In a fleet, workers start as leases are taken; until then each source shows what
        // its store says and who owns it.
        let fleet = match &config.fleet {
            Some(cfg) => {
                for source in &config.sources {
                    let mut entry =
                        SourceSnapshot::new(&source.id, &source.name, Status::NotSyncing);
                    entry.fleet = Some(crate::model::FleetOwner {
                        host: None,
                        heartbeat: None,
                        here: false,
                        note: Some("waiting for the fleet's leases".into()),
                    });
                    crate::sync::worker::publish_source(&shared.snapshots, &shared.clock, entry);
                }
                tokio::spawn(show_stored(shared.clone(), config.sources.clone()));
                Some(fleet::start(
                    cfg,
                    config.clone(),
                    shared.snapshots.clone(),
                    order_tx,
                )?)
            }
            None => None,
        };
        // Workers publish their sources before `start` returns, so a client attaching right
        // after (the daemon binds its socket next) never sees an engine without them.
        let workers = match fleet {
            Some(_) => HashMap::new(),
            None => config
                .sources
                .iter()
                .map(|source| {
                    (
                        source.id.clone(),
                        spawn_worker(&shared, source.clone(), None),
                    )
                })
                .collect(),
        };
        let task = tokio::spawn(async move {
            supervise(shared, workers, cmd_rx, fleet, order_rx).await;
            drop(lock);
        });
        Ok(EngineHandle {
            commands: cmd_tx,
            snapshots: snap_rx,
            task,
        })
    }
}

struct WorkerHandle {
    commands: mpsc::UnboundedSender<WorkerCommand>,
    task: JoinHandle<()>,
    config: SourceConfig,
    /// The config a restarted worker starts with (reloads included).
    latest: Arc<Mutex<SourceConfig>>,
}

/// A worker under supervision: a panic shows as the source's Error and a fresh worker
/// takes over (see `supervise`).
fn spawn_worker(
    shared: &EngineContext,
    source: SourceConfig,
    fence: Option<Fence>,
) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut first = Worker::new(source.clone(), shared.clone());
    first.fence(fence.clone());
    first.publish();
    let latest = Arc::new(Mutex::new(source.clone()));
    let task = tokio::spawn(supervise::supervise(
        source.id.clone(),
        rx,
        |cmd| matches!(cmd, WorkerCommand::Shutdown),
        Backoff::default(),
        worker_starter(shared.clone(), latest.clone(), Some(first), fence),
    ));
    WorkerHandle {
        commands: tx,
        task,
        config: source,
        latest,
    }
}

/// Starts `first`, then after each panic a fresh worker on the latest config, showing
/// the internal error.
fn worker_starter(
    shared: EngineContext,
    latest: Arc<Mutex<SourceConfig>>,
    mut first: Option<Worker>,
    fence: Option<Fence>,
) -> impl FnMut(
    mpsc::UnboundedReceiver<WorkerCommand>,
    Option<String>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    move |commands, panicked| {
        let mut worker = first.take().unwrap_or_else(|| {
            let config = latest.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let mut worker = Worker::new(config, shared.clone());
            worker.fence(fence.clone());
            worker
        });
        if panicked.is_some() {
            worker.internal_error();
        }
        Box::pin(worker.run(commands))
    }
}

async fn supervise(
    shared: EngineContext,
    mut workers: HashMap<String, WorkerHandle>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    fleet: Option<FleetTask>,
    mut orders: mpsc::UnboundedReceiver<Order>,
) {
    tracing::info!(sources = workers.len(), "engine started");
    loop {
        let cmd = tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(cmd) => cmd,
                None => break,
            },
            Some(order) = orders.recv() => {
                obey(&shared, &mut workers, order).await;
                continue;
            }
        };
        let (source, wcmd) = match cmd {
            Command::Shutdown => break,
            Command::Reload(config) => {
                if let Some(f) = &fleet {
                    f.reconfigure(config.clone());
                }
                reload(&shared, &mut workers, &config, fleet.is_some()).await;
                continue;
            }
            Command::SyncNow { source, full } => (source, WorkerCommand::SyncNow { full }),
            Command::Pause { source } => (source, WorkerCommand::Pause),
            Command::Resume { source } => (source, WorkerCommand::Resume),
            Command::Reauthorize { source, flow } => (source, WorkerCommand::Reauthorize(flow)),
            Command::CancelAuth { source } => (source, WorkerCommand::CancelAuth),
            Command::LoadSchema { source, force } => (source, WorkerCommand::LoadSchema { force }),
            Command::DescribeObjects { source, objects } => {
                (source, WorkerCommand::DescribeObjects(objects))
            }
            Command::TestNotification { source } => (source, WorkerCommand::TestNotification),
        };
        match workers.get(&source) {
            Some(w) => {
                let _ = w.commands.send(wcmd);
            }
            None if fleet.is_some() => refuse(&shared, &source, &wcmd),
            None => tracing::warn!(source = %source, "command for an unknown source ignored"),
        }
    }
    // Orders still queued are moot: every worker stops now.
    drop(orders);
    for (_, w) in workers.drain() {
        let _ = w.commands.send(WorkerCommand::Shutdown);
        if let Err(e) = w.task.await {
            tracing::error!("worker task failed: {e}");
        }
    }
    // Only after the last page committed: the leases go back for others to take at once.
    if let Some(f) = fleet {
        f.stop().await;
    }
    tracing::info!("engine stopped");
}

/// Each fleet source as its shared store says, in place of the bare entry `start` published,
/// unless a worker of this daemon took it over meanwhile.
async fn show_stored(shared: EngineContext, sources: Vec<SourceConfig>) {
    for source in sources {
        let paths = shared.paths.clone();
        let stored = tokio::task::spawn_blocking(move || {
            crate::sync::stored::stored_snapshot(&paths, &source)
        })
        .await;
        let Ok(stored) = stored else { continue };
        let at = shared.clock.now();
        shared.snapshots.send_modify(|s| {
            // A worker's entry has its events ("worker started"); the bare one has none.
            if let Some(entry) = s
                .sources
                .iter_mut()
                .find(|x| x.id == stored.id && x.events.is_empty())
            {
                let fleet = entry.fleet.take();
                *entry = SourceSnapshot { fleet, ..stored };
                s.version += 1;
                s.at = Some(at);
            }
        });
    }
}

/// Carry out what the fleet task decided.
async fn obey(shared: &EngineContext, workers: &mut HashMap<String, WorkerHandle>, order: Order) {
    match order {
        Order::Start { source, fence } => {
            if let Some(old) = workers.remove(&source.id) {
                let _ = old.commands.send(WorkerCommand::Shutdown);
                let _ = old.task.await;
            }
            workers.insert(
                source.id.clone(),
                spawn_worker(shared, *source, Some(fence)),
            );
        }
        Order::Stop { source, why, done } => {
            if let Some(w) = workers.remove(&source) {
                let _ = w.commands.send(WorkerCommand::Shutdown);
                if let Err(e) = w.task.await {
                    tracing::error!("worker task failed: {e}");
                }
            }
            if let Some(done) = done {
                let _ = done.send(());
            }
            note_event(shared, &source, EventLevel::Warn, why);
        }
    }
}

/// A command for a source this daemon does not hold: refused, naming the owner.
fn refuse(shared: &EngineContext, source: &str, cmd: &WorkerCommand) {
    let owner = shared
        .snapshots
        .borrow()
        .source(source)
        .and_then(|s| s.fleet.as_ref())
        .and_then(|f| f.host.clone());
    let message = match owner {
        Some(host) => format!(
            "{cmd:?} refused: {host} owns this source in the fleet; send the command to the daemon on {host}"
        ),
        None => format!(
            "{cmd:?} refused: no daemon of the fleet holds this source right now; try again once one took it"
        ),
    };
    tracing::warn!(source = %source, "{message}");
    note_event(shared, source, EventLevel::Warn, message);
}

/// Add an event to a source's entry of the snapshot (one no worker of this daemon owns).
fn note_event(shared: &EngineContext, source: &str, level: EventLevel, message: String) {
    let at = shared.clock.now();
    shared.snapshots.send_modify(|s| {
        s.version += 1;
        if let Some(entry) = s.sources.iter_mut().find(|x| x.id == source) {
            entry.events.push(Event { at, level, message });
            let excess = entry.events.len().saturating_sub(50);
            entry.events.drain(..excess);
        }
    });
}

async fn reload(
    shared: &EngineContext,
    workers: &mut HashMap<String, WorkerHandle>,
    config: &Config,
    in_fleet: bool,
) {
    if let Err(e) = shared.notifier.reconfigure(&config.notify) {
        tracing::error!("notification settings not applied: {e}");
    }
    let removed: Vec<String> = workers
        .keys()
        .filter(|id| config.source(id).is_none())
        .cloned()
        .collect();
    for id in removed {
        if let Some(w) = workers.remove(&id) {
            let _ = w.commands.send(WorkerCommand::Shutdown);
            let _ = w.task.await;
        }
        shared.snapshots.send_modify(|s| {
            s.version += 1;
            s.sources.retain(|x| x.id != id);
        });
    }
    for source in &config.sources {
        match workers.get_mut(&source.id) {
            Some(w) if w.config != *source => {
                w.config = source.clone();
                *w.latest.lock().unwrap_or_else(|e| e.into_inner()) = source.clone();
                let _ = w
                    .commands
                    .send(WorkerCommand::Reload(Box::new(source.clone())));
            }
            Some(_) => {}
            // A fleet starts workers as it takes leases.
            None if in_fleet => {}
            None => {
                workers.insert(
                    source.id.clone(),
                    spawn_worker(shared, source.clone(), None),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;

    use super::*;
    use crate::config::{Credentials, Secret, defaults};
    use crate::model::{ErrorKind, Status};
    use crate::sync::clock::SystemClock;
    use crate::sync::supervise::INTERNAL_ERROR;

    fn source() -> SourceConfig {
        SourceConfig {
            id: "acme".into(),
            name: "Acme".into(),
            kind: Default::default(),
            login_url: "http://127.0.0.1:9".into(),
            client_id: "client".into(),
            api_version: None,
            sync_enabled: true,
            frequency: defaults::FREQUENCY,
            quota_threshold_percent: defaults::QUOTA_THRESHOLD_PERCENT,
            run_quota_percent: 100,
            formula_policy: defaults::FORMULA_POLICY,
            query_cursors: defaults::QUERY_CURSORS,
            objects: Default::default(),
            store: None,
            verify: crate::config::VerifySchedule::Weekly,
            bulk_threshold: crate::config::defaults::BULK_THRESHOLD,
        }
    }

    fn connect(paths: &Paths) {
        let now = Utc::now();
        Credentials {
            access_token: Secret::new("token"),
            refresh_token: None,
            instance_url: "http://127.0.0.1:9".into(),
            identity_url: "http://127.0.0.1:9/id/00D/005".into(),
            org_id: "00D".into(),
            user_id: "005".into(),
            username: "admin@acme".into(),
            authorized_at: now,
            issued_at: now,
            scope: String::new(),
            login_url: "http://127.0.0.1:9".into(),
        }
        .save(paths, "acme")
        .unwrap();
    }

    async fn until(
        snapshots: &mut watch::Receiver<Snapshot>,
        what: &str,
        ok: impl Fn(&crate::model::SourceSnapshot) -> bool,
    ) {
        let wait = snapshots.wait_for(|s| s.source("acme").is_some_and(&ok));
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("hang guard: never {what}"))
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_worker_shows_an_internal_error_and_its_source_keeps_working() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        connect(&paths);
        let (snap_tx, mut snapshots) = watch::channel(Snapshot::default());
        let shared = EngineContext {
            paths,
            clock: Arc::new(SystemClock),
            notifier: Notifier::disabled(),
            http: HttpClient::new(Timeouts::default()).unwrap(),
            snapshots: Arc::new(snap_tx),
        };
        let mut start = worker_starter(shared, Arc::new(Mutex::new(source())), None, None);
        let mut panics_left = 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(supervise::supervise(
            "acme".into(),
            rx,
            |cmd| matches!(cmd, WorkerCommand::Shutdown),
            Backoff {
                first: Duration::from_millis(1),
                max: Duration::from_millis(10),
            },
            move |commands, panicked| {
                let run = start(commands, panicked);
                let boom = panics_left > 0;
                panics_left -= 1;
                async move {
                    if boom {
                        panic!("a bug in the worker");
                    }
                    run.await;
                }
            },
        ));
        until(&mut snapshots, "an internal error", |s| {
            matches!(&s.status, Status::Error(e) if e.kind == ErrorKind::Internal && e.message == INTERNAL_ERROR)
        })
        .await;
        tx.send(WorkerCommand::Pause).unwrap();
        until(&mut snapshots, "paused", |s| !s.sync_enabled).await;
        tx.send(WorkerCommand::Resume).unwrap();
        until(&mut snapshots, "resumed", |s| s.sync_enabled).await;
        tx.send(WorkerCommand::Shutdown).unwrap();
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("hang guard: the worker stops on Shutdown")
            .unwrap();
    }
}
