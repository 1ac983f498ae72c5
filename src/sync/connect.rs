//! A source's API client and quota settings from its config and credentials.

use std::sync::Arc;

use crate::config::{Credentials, Paths, SourceConfig};
use crate::salesforce::auth::{Secret as ClientSecret, Session};
use crate::salesforce::{CallHooks, Client, HttpClient};
use crate::sync::SyncError;
use crate::sync::clock::SharedClock;
use crate::sync::hooks::EngineHooks;
use crate::sync::quota::{QuotaGuard, QuotaSettings, UsageReading};
use crate::sync::shared_store::SharedStore;

pub fn settings(source: &SourceConfig) -> QuotaSettings {
    QuotaSettings {
        threshold_percent: source.quota_threshold_percent,
        run_quota_percent: source.run_quota_percent,
    }
}

pub fn client_for(
    http: &HttpClient,
    source: &SourceConfig,
    creds: &Credentials,
    hooks: Arc<dyn CallHooks>,
) -> Client {
    let session = Session {
        instance_url: creds.instance_url.clone(),
        access_token: ClientSecret::new(creds.access_token.expose()),
        refresh_token: creds
            .refresh_token
            .as_ref()
            .map(|t| ClientSecret::new(t.expose())),
        login_url: creds.login_url.clone(),
        client_id: source.client_id.clone(),
        identity_url: Some(creds.identity_url.clone()).filter(|s| !s.is_empty()),
    };
    Client::new(http.clone(), session, hooks)
}

/// A client for work outside a worker (`LocalSource`) under the same quota guard as a
/// worker's: seeded by [`seed_guard`], refreshed tokens written back. Save its readings with
/// `save_usage` when done.
pub fn guarded_client(
    http: &HttpClient,
    paths: &Paths,
    source: &SourceConfig,
    creds: &Credentials,
    store: &SharedStore,
    clock: &SharedClock,
) -> (Client, Arc<EngineHooks>) {
    let guard = Arc::new(QuotaGuard::new(settings(source)));
    seed_guard(&guard, store, clock);
    let hooks = Arc::new(EngineHooks::new(
        guard,
        clock.clone(),
        Some((paths.clone(), source.id.clone())),
    ));
    let client = client_for(http, source, creds, hooks.clone());
    (client, hooks)
}

/// Start `guard` from the store's newest usage reading of the past day, so a new process
/// (a worker, or a command run without a daemon) does not begin blind to what the org has
/// spent. One function, so the engine and the commands cannot seed differently.
pub fn seed_guard(guard: &QuotaGuard, store: &SharedStore, clock: &SharedClock) {
    let latest = store.with_blocking(|s| {
        s.usage_since(clock.now() - chrono::Duration::hours(24))
            .ok()
            .and_then(|v| v.last().cloned())
    });
    if let Some(u) = latest {
        guard.seed(UsageReading {
            used: u.used,
            max: u.max,
        });
    }
}

/// Write the usage readings `hooks` saw to the store, as the engine does after its calls.
pub async fn save_usage(hooks: &EngineHooks, store: &SharedStore) -> Result<(), SyncError> {
    let samples = hooks.take_unsaved_samples();
    let latest = hooks.latest_reading();
    store
        .with(move |s| {
            for (at, r) in samples.iter().chain(latest.iter()) {
                s.record_usage(*at, r.used, r.max)?;
            }
            Ok(())
        })
        .await
}
