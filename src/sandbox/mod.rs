//! A Salesforce org on 127.0.0.1: the REST data API and OAuth subset that real clients use,
//! with deterministic generated data, quota accounting, live mutations and fault injection.
//! Several sandboxes can run in one process on different ports.
//!
//! This module deliberately imports nothing from `crate::salesforce`: it writes the wire
//! format on its own so a mistake on one side cannot hide in the other.

mod approval;
mod bulk;
mod composite;
mod composite_request;
mod config;
mod controls;
mod counters;
mod datagen;
mod error;
mod faults;
mod ids;
mod limits;
mod oauth;
mod oauth_http;
mod permissions;
mod query;
mod replication;
mod reply;
mod rest;
mod routes;
mod schema;
mod soql;
mod state;
mod wire;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use bulk::{BulkModel, BulkSpec, BulkUsage};
pub use config::{DEFAULT_RECORDS_PER_OBJECT, SandboxConfig, SchemaSource};
pub use controls::MutationSummary;
pub use counters::{CallRecord, Counters};
pub use error::SandboxError;
pub use faults::FaultSpec;
pub use limits::Usage;
pub use oauth::PendingDevice;
pub use state::SandboxUser;

use state::State;

type Shared = Arc<State>;

/// Starts sandbox orgs.
pub struct Sandbox;

impl Sandbox {
    /// Binds, then serves on the current tokio runtime until `shutdown`.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        if !config.bind.ip().is_loopback() && !config.allow_remote {
            return Err(SandboxError::RemoteBindRefused(config.bind));
        }
        let schema = Arc::new(schema::Schema::load(&config.schema)?);
        let counts = schema
            .objects
            .iter()
            .map(|o| {
                let n = config
                    .records
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&o.name))
                    .map(|(_, v)| *v)
                    .unwrap_or(DEFAULT_RECORDS_PER_OBJECT);
                // The admin and standard users are User rows 0 and 1.
                if o.name == "User" { n.max(2) } else { n }
            })
            .collect();
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.bind,
            source,
        })?;
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        let host = if addr.is_ipv6() && !addr.ip().is_unspecified() {
            format!("[{host}]")
        } else {
            host
        };
        let base_url = format!("http://{host}:{}", addr.port());
        let seed = config.seed;
        let schema_modified = SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
            );
        let state = Arc::new(State {
            base_url: base_url.clone(),
            client_id: format!(
                "3MVG9SyncdeckSandbox{}",
                ids::make_id("000", seed % 1_000_000)
            ),
            client_secret: format!("{:016X}", datagen::mix(seed ^ 0x5ec2e7)),
            org_id: ids::make_id("00D", seed % 1_000_000),
            data: datagen::Dataset::new(seed, schema, counts),
            quota: Mutex::new(limits::Quota::new(config.api_max)),
            faults: Mutex::new(faults::Faults::default()),
            log: Mutex::new(counters::CallLog::default()),
            cursors: Mutex::new(query::Cursors::default()),
            auth: Mutex::new(oauth::AuthState::default()),
            token_idle_timeout: config.token_idle_timeout,
            auto_approve: config.auto_approve,
            device_poll_interval: config.device_poll_interval,
            schema_modified,
            mutation_seq: AtomicU64::new(0),
            delete_log: Mutex::new(replication::DeleteLog::default()),
            clock_offset_ms: std::sync::atomic::AtomicI64::new(0),
            bulk: Mutex::new(bulk::Jobs::new(config.bulk)),
        });
        let app = routes::router(state.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stop_rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        let mutator = config.mutate_every.filter(|d| !d.is_zero()).map(|every| {
            let st = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let s = st.mutate(5);
                    tracing::debug!(
                        updated = s.updated,
                        deleted = s.deleted,
                        "sandbox mutated records"
                    );
                }
            })
        });
        tracing::info!(%base_url, "sandbox org listening");
        Ok(SandboxHandle {
            state,
            addr,
            stop: Some(stop_tx),
            server: Some(server),
            mutator,
        })
    }
}

/// A running sandbox org. Dropping it without `shutdown` leaves the server running until
/// the runtime ends.
pub struct SandboxHandle {
    state: Shared,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    mutator: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("base_url", &self.state.base_url)
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// e.g. `http://127.0.0.1:40123`: both the login URL and the instance URL.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    /// The connected-app consumer key this org accepts.
    pub fn client_id(&self) -> String {
        self.state.client_id.clone()
    }
    /// The consumer secret (optional for every grant; checked when sent).
    pub fn client_secret(&self) -> String {
        self.state.client_secret.clone()
    }
    pub fn org_id(&self) -> String {
        self.state.org_id.clone()
    }
    pub fn user_id(&self, user: SandboxUser) -> String {
        self.state.user_id(user)
    }
    /// Live (not deleted) records of `object`, or None for an unknown object.
    pub fn record_count(&self, object: &str) -> Option<u64> {
        self.state
            .data
            .schema
            .index_of(object)
            .map(|i| self.state.data.live_count(i))
    }

    pub fn set_quota(&self, used: Option<u64>, max: Option<u64>) {
        state::lock(&self.state.quota).set(used, max);
    }
    pub fn usage(&self) -> Usage {
        state::lock(&self.state.quota).usage()
    }
    pub fn mutate(&self, n: u64) -> MutationSummary {
        self.state.mutate(n)
    }
    /// Deletes `n` live records of `object` past the recycle bin (queryAll no longer
    /// returns them; the delete log does). None for an unknown object.
    pub fn hard_delete(&self, object: &str, n: u64) -> Option<u64> {
        let obj = self.state.data.schema.index_of(object)?;
        Some(self.state.hard_delete(obj, n))
    }
    /// Empties the recycle bin and the delete log; `earliestDateAvailable` becomes now.
    pub fn purge_delete_log(&self) -> u64 {
        self.state.purge_delete_log()
    }
    /// Moves the org's clock forward (deletion times, the replication windows).
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.state
            .advance_clock(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
    }
    /// Approves pending device codes (all when `user_code` is None); returns how many.
    pub fn approve(&self, user_code: Option<&str>, user: SandboxUser) -> usize {
        self.state
            .decide_device(user_code, oauth::Decision::Approved(user))
    }
    pub fn deny(&self, user_code: Option<&str>) -> usize {
        self.state.decide_device(user_code, oauth::Decision::Denied)
    }
    pub fn pending_device_codes(&self) -> Vec<PendingDevice> {
        self.state.pending_devices()
    }
    pub fn revoke_all_tokens(&self) -> usize {
        self.state.revoke_all()
    }
    pub fn inject(&self, spec: &FaultSpec) {
        self.state.inject(spec);
    }
    /// Sets the Bulk processing model, arms Bulk faults or forgets jobs.
    pub fn bulk(&self, spec: &BulkSpec) {
        self.state.bulk_control(spec);
    }
    /// Bulk jobs created and result storage used in the last 24 hours.
    pub fn bulk_usage(&self) -> BulkUsage {
        self.state.bulk_usage()
    }
    pub fn clear_faults(&self) {
        state::lock(&self.state.faults).clear();
    }
    pub fn counters(&self) -> Counters {
        self.state.counters()
    }
    pub fn calls(&self) -> Vec<CallRecord> {
        state::lock(&self.state.log)
            .entries
            .iter()
            .cloned()
            .collect()
    }

    /// Stops accepting connections, finishes in-flight requests and stops mutating.
    pub async fn shutdown(mut self) {
        if let Some(m) = self.mutator.take() {
            m.abort();
        }
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
    }
}
