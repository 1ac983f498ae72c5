//! The engine: one worker per configured source, commands in, snapshots out.
//!
//! ```text
//! Command ──▶ Engine task ──WorkerCommand──▶ Worker (per source) ──▶ watch<Snapshot>
//! ```
//! The engine holds the data directory's lock for its whole life; a daemon serves its
//! commands and snapshots to other processes through `remote`.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{Config, Paths, SourceConfig};
use crate::notify::Notifier;
use crate::salesforce::{HttpClient, Timeouts};
use crate::sync::clock::SharedClock;
use crate::sync::lock::{EngineLock, LockError};
use crate::sync::model::{Command, Snapshot};
use crate::sync::worker::{Shared, Worker, WorkerCommand};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot set up HTTP: {0}")]
    Http(String),
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
        let shared = Shared {
            paths: paths.clone(),
            clock,
            notifier,
            http,
            snapshots: Arc::new(snap_tx),
        };
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        // Workers publish their sources before `start` returns, so a client attaching right
        // after (the daemon binds its socket next) never sees an engine without them.
        let workers = config
            .sources
            .iter()
            .map(|source| (source.id.clone(), spawn_worker(&shared, source.clone())))
            .collect();
        let task = tokio::spawn(async move {
            supervise(shared, workers, cmd_rx).await;
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
}

fn spawn_worker(shared: &Shared, source: SourceConfig) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let worker = Worker::new(source.clone(), shared.clone());
    worker.publish();
    WorkerHandle {
        commands: tx,
        task: tokio::spawn(worker.run(rx)),
        config: source,
    }
}

async fn supervise(
    shared: Shared,
    mut workers: HashMap<String, WorkerHandle>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    tracing::info!(sources = workers.len(), "engine started");
    while let Some(cmd) = commands.recv().await {
        let (source, wcmd) = match cmd {
            Command::Shutdown => break,
            Command::Reload(config) => {
                reload(&shared, &mut workers, &config).await;
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
        };
        match workers.get(&source) {
            Some(w) => {
                let _ = w.commands.send(wcmd);
            }
            None => tracing::warn!(source = %source, "command for an unknown source ignored"),
        }
    }
    for (_, w) in workers.drain() {
        let _ = w.commands.send(WorkerCommand::Shutdown);
        if let Err(e) = w.task.await {
            tracing::error!("worker task failed: {e}");
        }
    }
    tracing::info!("engine stopped");
}

async fn reload(shared: &Shared, workers: &mut HashMap<String, WorkerHandle>, config: &Config) {
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
                let _ = w
                    .commands
                    .send(WorkerCommand::Reload(Box::new(source.clone())));
            }
            Some(_) => {}
            None => {
                workers.insert(source.id.clone(), spawn_worker(shared, source.clone()));
            }
        }
    }
}
