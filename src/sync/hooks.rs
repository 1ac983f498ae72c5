//! What the engine plugs into every Salesforce call of a source: the quota guard's
//! reservation before the call, the usage reading after it, and persistence of refreshed
//! tokens.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::config::{Credentials, Paths, Secret, TokenRefresh};
use crate::salesforce::{CallHooks, LimitInfo, Veto};
use crate::sync::clock::SharedClock;
use crate::sync::quota::{QuotaGuard, QuotaStop, UsageReading};

/// Usage readings kept for the snapshot's sparkline and the store, at most one per minute.
const SAMPLE_EVERY: chrono::Duration = chrono::Duration::seconds(60);

pub struct EngineHooks {
    guard: Arc<QuotaGuard>,
    clock: SharedClock,
    /// Costs of reserved, unfinished requests, oldest first. `after_call` does not say
    /// which request finished; multi-call (composite) requests are only sent while no other
    /// call is in flight (the schema phase), so releasing in FIFO order is exact.
    pending: Mutex<VecDeque<u64>>,
    calls: std::sync::atomic::AtomicU64,
    last_stop: Mutex<Option<QuotaStop>>,
    samples: Mutex<Samples>,
    credentials: Option<(Paths, String)>,
}

#[derive(Default)]
struct Samples {
    last_at: Option<DateTime<Utc>>,
    unsaved: Vec<(DateTime<Utc>, UsageReading)>,
    latest: Option<(DateTime<Utc>, UsageReading)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl EngineHooks {
    /// `credentials`: where refreshed tokens are written back (None in tests that have none).
    pub fn new(
        guard: Arc<QuotaGuard>,
        clock: SharedClock,
        credentials: Option<(Paths, String)>,
    ) -> EngineHooks {
        EngineHooks {
            guard,
            clock,
            pending: Mutex::new(VecDeque::new()),
            calls: std::sync::atomic::AtomicU64::new(0),
            last_stop: Mutex::new(None),
            samples: Mutex::new(Samples::default()),
            credentials,
        }
    }

    pub fn guard(&self) -> &Arc<QuotaGuard> {
        &self.guard
    }

    /// Calls allowed through so far (the run's API-call count is a difference of these).
    pub fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Why the guard last vetoed a call.
    pub fn last_stop(&self) -> Option<QuotaStop> {
        lock(&self.last_stop).clone()
    }

    /// Usage samples not yet written to the store (taken out).
    pub fn take_unsaved_samples(&self) -> Vec<(DateTime<Utc>, UsageReading)> {
        std::mem::take(&mut lock(&self.samples).unsaved)
    }

    /// The newest reading seen, sampled or not.
    pub fn latest_reading(&self) -> Option<(DateTime<Utc>, UsageReading)> {
        lock(&self.samples).latest
    }
}

impl CallHooks for EngineHooks {
    fn before_call(&self, calls: u32) -> Result<(), Veto> {
        let calls = u64::from(calls);
        match self.guard.try_reserve(calls) {
            Ok(()) => {
                lock(&self.pending).push_back(calls);
                self.calls
                    .fetch_add(calls, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Err(stop) => {
                let reason = stop.to_string();
                *lock(&self.last_stop) = Some(stop);
                Err(Veto { reason })
            }
        }
    }

    fn after_call(&self, usage: Option<LimitInfo>) {
        let calls = lock(&self.pending).pop_front().unwrap_or(1);
        let reading = usage.map(|u| UsageReading {
            used: u.used,
            max: u.max,
        });
        self.guard.complete(calls, reading);
        if let Some(reading) = reading {
            let now = self.clock.now();
            let mut samples = lock(&self.samples);
            samples.latest = Some((now, reading));
            if samples.last_at.is_none_or(|t| now - t >= SAMPLE_EVERY) {
                samples.last_at = Some(now);
                samples.unsaved.push((now, reading));
            }
        }
    }

    fn tokens_refreshed(
        &self,
        used_refresh_token: &Secret,
        access_token: &Secret,
        refresh_token: Option<&Secret>,
    ) {
        let Some((paths, source)) = &self.credentials else {
            return;
        };
        let refresh = TokenRefresh {
            used_refresh_token,
            access_token,
            rotated_refresh_token: refresh_token,
            received_at: self.clock.now(),
        };
        match Credentials::record_refresh(paths, source, &refresh) {
            Ok(true) => {}
            Ok(false) => tracing::info!(
                source = %source,
                "refreshed token not saved: the stored credentials are newer (reauthorized or refreshed elsewhere)"
            ),
            Err(e) => tracing::error!(source = %source, "refreshed tokens could not be saved: {e}"),
        }
    }
}
