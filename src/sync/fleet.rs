//! A daemon as one member of a fleet: daemons on several hosts share the sources through
//! leases in PostgreSQL (`store::postgres::lease`), each running only the sources it holds.
//!
//! Every tick (a third of the lease time) the fleet task says it is alive, renews what it
//! holds, gives back what it holds beyond its share (`ceil(sources / live daemons)`, only
//! sources between runs) and takes free or expired leases up to its share. Taking a source
//! starts a fresh worker with the lease's fence on its store, so every page it commits
//! checks the lease; the fresh worker seeds its quota guard from the usage samples stored
//! with the source, so the guard stays exact across hosts. A lease it can no longer renew
//! stops its worker ("lease lost to <host>"); a clean stop gives every lease back at once.
//!
//! A source is taken only when this daemon's configuration of it hashes like the fleet's
//! (the hash stored with the lease, written by whoever holds it): a daemon with a different
//! configuration says so in its log and in the snapshot instead of syncing it differently.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, FleetConfig, SourceConfig};
use crate::model::{FleetOwner, Snapshot, SourceSnapshot, Status};
use crate::store::StoreError;
use crate::store::postgres::lease::{Fence, LeaseRow, Leases, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    // Not a `source`: the message already carries the store's, and the CLI prints chains.
    #[error("fleet leases: {0}")]
    Store(StoreError),
    #[error("fleet task failed: {0}")]
    Task(String),
}

impl From<StoreError> for FleetError {
    fn from(e: StoreError) -> FleetError {
        FleetError::Store(e)
    }
}

/// What the fleet task asks of the engine.
#[derive(Debug)]
pub(crate) enum Order {
    /// This daemon now holds `source`: run a worker whose commits check `fence`.
    Start {
        source: Box<SourceConfig>,
        fence: Fence,
    },
    /// Stop the source's worker (at a page boundary) and say why in its events; `done`
    /// answers once it stopped.
    Stop {
        source: String,
        why: String,
        done: Option<oneshot::Sender<()>>,
    },
}

/// The running fleet task, owned by the engine.
pub(crate) struct FleetTask {
    handle: JoinHandle<()>,
    stop: CancellationToken,
    config: watch::Sender<Arc<Config>>,
}

impl FleetTask {
    /// A reloaded configuration: new sources are registered and hashes compared anew.
    pub fn reconfigure(&self, config: Arc<Config>) {
        self.config.send_replace(config);
    }

    /// Give every lease back and leave the fleet (the workers have stopped by then).
    pub async fn stop(self) {
        self.stop.cancel();
        if let Err(e) = self.handle.await {
            tracing::error!("fleet task failed: {e}");
        }
    }
}

/// The hash of a source's configuration that every daemon of the fleet must share to sync
/// it (SHA-256 of its JSON form, fields in declaration order, objects sorted).
pub(crate) fn config_hash(source: &SourceConfig) -> String {
    let json = serde_json::to_vec(source).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &json);
    digest
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// This machine's name, for a fleet config without `host`.
fn machine_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Join the fleet `cfg` describes and start its task. Blocks while it connects.
pub(crate) fn start(
    cfg: &FleetConfig,
    config: Arc<Config>,
    snapshots: Arc<watch::Sender<Snapshot>>,
    orders: mpsc::UnboundedSender<Order>,
) -> Result<FleetTask, FleetError> {
    let host = cfg.host.clone().unwrap_or_else(machine_name);
    let daemon = format!(
        "{host}/{}/{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let leases = Leases::connect(cfg, &daemon, &host)?;
    let lease = Duration::from_secs(u64::from(cfg.lease_seconds.max(1)));
    tracing::info!(%host, lease_seconds = cfg.lease_seconds, "joined the fleet");
    let (config_tx, config_rx) = watch::channel(config);
    let member = Member {
        leases: Arc::new(Mutex::new(leases)),
        host,
        config: config_rx,
        snapshots,
        orders,
        held: BTreeMap::new(),
        adopted: HashSet::new(),
        unowned_ticks: HashMap::new(),
        registered: HashSet::new(),
        notes: HashMap::new(),
        differs: HashMap::new(),
        last_renewed: Instant::now(),
        lease,
        offset: usize::try_from(rand::random::<u32>()).unwrap_or(0),
    };
    let stop = CancellationToken::new();
    let handle = tokio::spawn(member.run(stop.clone()));
    Ok(FleetTask {
        handle,
        stop,
        config: config_tx,
    })
}

struct Member {
    leases: Arc<Mutex<Leases>>,
    host: String,
    config: watch::Receiver<Arc<Config>>,
    snapshots: Arc<watch::Sender<Snapshot>>,
    orders: mpsc::UnboundedSender<Order>,
    held: BTreeMap<String, Fence>,
    /// Sources taken beyond this daemon's share because no other daemon took them (their
    /// configuration differs elsewhere, say); never given back for balance.
    adopted: HashSet<String>,
    /// How many ticks in a row each source was seen without a live owner.
    unowned_ticks: HashMap<String, u32>,
    /// (source, hash) pairs already put in the leases table.
    registered: HashSet<(String, String)>,
    /// Why a source is not synced here (lease lost, database out of reach), by source.
    notes: HashMap<String, String>,
    /// Sources whose fleet configuration hash differs from this daemon's, with the words.
    differs: HashMap<String, String>,
    last_renewed: Instant,
    lease: Duration,
    /// Where in the source list this daemon starts taking, so daemons starting together
    /// do not all reach for the same sources first.
    offset: usize,
}

impl Member {
    async fn run(mut self, stop: CancellationToken) {
        // The first tick only announces this daemon, so daemons started together see each
        // other before anyone takes more than its share.
        let mut first = true;
        let interval = self.lease / 3;
        loop {
            self.tick(first).await;
            first = false;
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(interval) => {}
            }
        }
        self.leave().await;
    }

    /// Run `f` on the leases' connection, off the async threads.
    async fn db<T, F>(&self, f: F) -> Result<T, FleetError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Leases) -> Result<T, StoreError> + Send + 'static,
    {
        let leases = self.leases.clone();
        tokio::task::spawn_blocking(move || {
            let mut l = leases.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut l)
        })
        .await
        .map_err(|e| FleetError::Task(e.to_string()))?
        .map_err(FleetError::Store)
    }

    async fn tick(&mut self, first: bool) {
        let config = self.config.borrow().clone();
        let live = match self.db(Leases::heartbeat).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("fleet heartbeat failed: {e}");
                self.check_cut_off();
                return;
            }
        };
        self.register(&config).await;
        self.renew(&config).await;
        let share = share(config.sources.len(), live);
        let balanced = self.held.len().saturating_sub(self.adopted.len());
        if balanced > share {
            self.give_back_excess(share).await;
        } else if !first && self.held.len() < share {
            self.take(&config, share, |_| true).await;
        }
        match self.db(Leases::all).await {
            Ok(rows) => {
                self.compare_hashes(&config, &rows);
                if !first {
                    self.adopt_orphans(&config, &rows).await;
                }
                self.publish(&config, &rows);
            }
            Err(e) => tracing::warn!("fleet leases not read: {e}"),
        }
    }

    /// Every source whose fleet hash differs from this daemon's is named in the log (once)
    /// and the snapshot, whether or not this daemon would take it now.
    fn compare_hashes(&mut self, config: &Config, rows: &[LeaseRow]) {
        for source in &config.sources {
            let Some(row) = rows.iter().find(|r| r.source == source.id) else {
                continue;
            };
            let mine = config_hash(source);
            if row.config_hash == mine {
                self.differs.remove(&source.id);
                continue;
            }
            let why = format!(
                "not taken: this daemon's configuration of the source (hash {mine}) differs from the fleet's (hash {}); make the [[source]] tables equal on every host",
                crate::sanitize::clean(&row.config_hash)
            );
            if self.differs.get(&source.id) != Some(&why) {
                tracing::warn!(source = %source.id, "{why}");
            }
            self.differs.insert(source.id.clone(), why);
        }
    }

    /// A source nobody held for three ticks in a row is taken even beyond this daemon's
    /// share: the daemons whose share it would be cannot take it (their configuration of it
    /// differs), and a source must not stay unsynced for the sake of balance.
    async fn adopt_orphans(&mut self, config: &Config, rows: &[LeaseRow]) {
        let mut orphans = HashSet::new();
        for row in rows {
            if row.live || config.source(&row.source).is_none() {
                self.unowned_ticks.remove(&row.source);
                continue;
            }
            let ticks = self.unowned_ticks.entry(row.source.clone()).or_insert(0);
            *ticks = ticks.saturating_add(1);
            if *ticks >= 3 {
                orphans.insert(row.source.clone());
            }
        }
        if orphans.is_empty() {
            return;
        }
        let before: HashSet<String> = self.held.keys().cloned().collect();
        self.take(config, usize::MAX, |id| orphans.contains(id))
            .await;
        for id in self.held.keys() {
            if !before.contains(id) {
                tracing::info!(source = %id, "adopted: no other daemon took it");
                self.adopted.insert(id.clone());
                self.unowned_ticks.remove(id);
            }
        }
    }

    async fn register(&mut self, config: &Config) {
        for s in &config.sources {
            let key = (s.id.clone(), config_hash(s));
            if self.registered.contains(&key) {
                continue;
            }
            let (id, hash) = key.clone();
            match self.db(move |l| l.register(&id, &hash)).await {
                Ok(()) => {
                    self.registered.insert(key);
                }
                Err(e) => tracing::warn!(source = %s.id, "not registered with the fleet: {e}"),
            }
        }
    }

    async fn renew(&mut self, config: &Config) {
        let mut all_renewed = true;
        for (id, fence) in self.held.clone() {
            let Some(source) = config.source(&id) else {
                self.hand_back(&id, "removed from this daemon's configuration")
                    .await;
                continue;
            };
            let hash = config_hash(source);
            match self.db(move |l| l.renew(&fence, &hash)).await {
                Ok(true) => {}
                Ok(false) => self.lost(&id).await,
                Err(e) => {
                    all_renewed = false;
                    tracing::warn!(source = %id, "lease not renewed: {e}");
                }
            }
        }
        if all_renewed {
            self.last_renewed = Instant::now();
        } else {
            self.check_cut_off();
        }
    }

    /// Another daemon took `id` (this one was paused or cut off past its lease): stop its
    /// worker now; its next commit would be refused anyway.
    async fn lost(&mut self, id: &str) {
        self.held.remove(id);
        self.adopted.remove(id);
        let owner = {
            let source = id.to_string();
            self.db(move |l| Ok(l.all()?.into_iter().find(|r| r.source == source)))
                .await
                .ok()
                .flatten()
                .and_then(|r| r.owner_host)
                .unwrap_or_else(|| "no daemon".into())
        };
        let why = format!("lease lost to {}", crate::sanitize::clean(&owner));
        tracing::warn!(source = %id, "{why}: stopping its worker");
        self.notes.insert(id.to_string(), why.clone());
        let _ = self.orders.send(Order::Stop {
            source: id.to_string(),
            why,
            done: None,
        });
    }

    /// No renewal reached the database for a whole lease: the leases may have expired and
    /// been taken, so every worker stops (their commits would be refused anyway).
    fn check_cut_off(&mut self) {
        if self.held.is_empty() || self.last_renewed.elapsed() < self.lease {
            return;
        }
        tracing::error!(
            "no lease renewed for {} s: lost contact with the fleet's database; stopping every source",
            self.lease.as_secs()
        );
        self.adopted.clear();
        for id in std::mem::take(&mut self.held).into_keys() {
            let why = "lost contact with the fleet's database".to_string();
            self.notes.insert(id.clone(), why.clone());
            let _ = self.orders.send(Order::Stop {
                source: id,
                why,
                done: None,
            });
        }
    }

    /// Stop `id`'s worker, wait until it stopped (a page boundary), then give its lease back.
    async fn hand_back(&mut self, id: &str, why: &str) {
        let Some(fence) = self.held.remove(id) else {
            return;
        };
        self.adopted.remove(id);
        let (done, stopped) = oneshot::channel();
        let _ = self.orders.send(Order::Stop {
            source: id.to_string(),
            why: format!("handed back to the fleet: {why}"),
            done: Some(done),
        });
        // A dropped answer means the engine is stopping its workers itself.
        let _ = stopped.await;
        tracing::info!(source = %id, "lease handed back: {why}");
        if let Err(e) = self.db(move |l| l.release(&fence)).await {
            tracing::warn!(source = %id, "lease not released (it expires instead): {e}");
        }
    }

    /// Give back what is held beyond `share`, only sources between runs.
    async fn give_back_excess(&mut self, share: usize) {
        let idle: Vec<String> = {
            let snapshot = self.snapshots.borrow();
            self.held
                .keys()
                .filter(|id| !self.adopted.contains(*id))
                .filter(|id| snapshot.source(id).is_none_or(|s| s.running.is_none()))
                .cloned()
                .collect()
        };
        let excess = self
            .held
            .len()
            .saturating_sub(self.adopted.len())
            .saturating_sub(share);
        for id in idle.into_iter().take(excess) {
            self.hand_back(&id, "balancing the fleet").await;
        }
    }

    async fn take(&mut self, config: &Config, share: usize, wanted: impl Fn(&str) -> bool) {
        let n = config.sources.len();
        for i in 0..n {
            if self.held.len() >= share {
                break;
            }
            let Some(source) = config.sources.get((self.offset + i) % n) else {
                continue;
            };
            if self.held.contains_key(&source.id) || !wanted(&source.id) {
                continue;
            }
            let (id, hash) = (source.id.clone(), config_hash(source));
            match self.db(move |l| l.acquire(&id, &hash)).await {
                Ok(Ok(fence)) => {
                    tracing::info!(source = %source.id, token = fence.token(), "lease acquired");
                    self.notes.remove(&source.id);
                    self.held.insert(source.id.clone(), fence.clone());
                    let _ = self.orders.send(Order::Start {
                        source: Box::new(source.clone()),
                        fence,
                    });
                }
                // Held elsewhere, or (named in the log and snapshot by `compare_hashes`) a
                // configuration that differs.
                Ok(Err(Refusal::Held { .. } | Refusal::ConfigDiffers { .. })) => {}
                Err(e) => tracing::warn!(source = %source.id, "lease not acquired: {e}"),
            }
        }
    }

    /// Every configured source's lease, as read this tick, into the snapshot.
    fn publish(&self, config: &Config, rows: &[LeaseRow]) {
        let now = Utc::now();
        self.snapshots.send_modify(|snapshot| {
            snapshot.version += 1;
            snapshot.at = Some(now);
            for source in &config.sources {
                let row = rows.iter().find(|r| r.source == source.id);
                let owner = FleetOwner {
                    host: row
                        .filter(|r| r.live)
                        .and_then(|r| r.owner_host.as_deref())
                        .map(crate::sanitize::clean),
                    heartbeat: row.and_then(|r| r.heartbeat),
                    here: self.held.contains_key(&source.id),
                    note: self
                        .differs
                        .get(&source.id)
                        .or_else(|| self.notes.get(&source.id))
                        .cloned(),
                };
                match snapshot.sources.iter_mut().find(|s| s.id == source.id) {
                    Some(entry) => entry.fleet = Some(owner),
                    None => {
                        let mut entry =
                            SourceSnapshot::new(&source.id, &source.name, Status::NotSyncing);
                        entry.fleet = Some(owner);
                        snapshot.sources.push(entry);
                    }
                }
            }
        });
    }

    async fn leave(&mut self) {
        for (id, fence) in std::mem::take(&mut self.held) {
            match self.db(move |l| l.release(&fence)).await {
                Ok(()) => tracing::info!(source = %id, "lease released: daemon stopping"),
                Err(e) => {
                    tracing::warn!(source = %id, "lease not released (it expires instead): {e}")
                }
            }
        }
        if let Err(e) = self.db(Leases::leave).await {
            tracing::warn!("fleet not left cleanly: {e}");
        }
        tracing::info!(host = %self.host, "left the fleet");
    }
}

/// How many sources one of `live` daemons holds at most.
fn share(sources: usize, live: u64) -> usize {
    let live = usize::try_from(live).unwrap_or(usize::MAX).max(1);
    sources.div_ceil(live)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_daemon_holds_at_most_its_rounded_up_share() {
        assert_eq!(share(9, 3), 3);
        assert_eq!(share(9, 2), 5);
        assert_eq!(share(9, 1), 9);
        assert_eq!(share(1, 3), 1);
        assert_eq!(share(0, 3), 0);
        assert_eq!(share(9, 0), 9);
    }

    #[test]
    fn the_config_hash_follows_the_source_configuration() {
        let base: SourceConfig = toml::from_str(
            "id = \"acme\"\nname = \"Acme\"\nlogin_url = \"https://login.salesforce.com\"\nclient_id = \"c\"",
        )
        .unwrap();
        let mut other = base.clone();
        assert_eq!(config_hash(&base), config_hash(&other));
        other.quota_threshold_percent = 50;
        assert_ne!(config_hash(&base), config_hash(&other));
        assert_eq!(config_hash(&base).len(), 32);
    }
}
