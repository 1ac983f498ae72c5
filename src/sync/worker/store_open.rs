//! A PostgreSQL store is connected in the background: a server that is down, or a host that
//! drops packets until the connect timeout, must not hold up the engine's start nor the
//! worker's commands. Until it connects the source shows Error with the store's message and
//! when the next attempt is; attempts back off from `FIRST_RETRY` to `LAST_RETRY`.

use tokio::task::JoinHandle;

use super::*;
use crate::store::StoreError;

/// The wait after the first failed connect; it doubles with each failure after that.
const FIRST_RETRY: Duration = Duration::seconds(5);
const LAST_RETRY: Duration = Duration::minutes(5);

/// The background connect's state.
#[derive(Default)]
pub(super) struct StoreOpen {
    task: Option<JoinHandle<Result<Store, StoreError>>>,
    failures: u32,
    /// When to try again after a failure.
    pub(super) retry_at: Option<DateTime<Utc>>,
    /// The status shows this store's connect error (cleared once connected).
    showing_error: bool,
}

/// Wait before the attempt after `failures` failed ones.
fn retry_delay(failures: u32) -> Duration {
    let factor = 1i32 << failures.saturating_sub(1).min(10);
    (FIRST_RETRY * factor).min(LAST_RETRY)
}

/// The result of the connect in progress (never ready when none is).
pub(super) async fn connected(open: &mut StoreOpen) -> Result<Store, StoreError> {
    match &mut open.task {
        Some(task) => {
            let result = match task.await {
                Ok(r) => r,
                Err(e) => Err(StoreError::Postgres(
                    crate::store::postgres::PgError::Unreachable {
                        target: "the store".into(),
                        detail: format!("the connect task ended: {e}"),
                    },
                )),
            };
            open.task = None;
            result
        }
        None => std::future::pending().await,
    }
}

impl Worker {
    /// Whether this source's store is connected in the background (PostgreSQL) rather than
    /// opened in [`Worker::new`] (a local SQLite file).
    pub(super) fn store_is_remote(source: &SourceConfig) -> bool {
        source.store.is_some()
    }

    /// Authorized, and only the store is missing: it is being connected or will be again.
    pub(super) fn store_connecting(&self) -> bool {
        self.client.is_some() && self.store.is_none() && Worker::store_is_remote(&self.source)
    }

    /// Start connecting the store unless it is connected or a connect is under way.
    pub(super) fn open_store(&mut self) {
        if self.store.is_some() || self.store_open.task.is_some() {
            return;
        }
        self.store_open.retry_at = None;
        let (paths, source) = (self.shared.paths.clone(), self.source.clone());
        self.store_open.task = Some(tokio::task::spawn_blocking(move || {
            Store::open_for(&paths, &source)
        }));
    }

    /// The background connect ended: adopt the store, or show why not and when the next
    /// attempt is.
    pub(super) fn store_opened(&mut self, result: Result<Store, StoreError>) {
        let now = self.now();
        match result {
            Ok(store) => {
                self.store_open.failures = 0;
                self.store_open.retry_at = None;
                self.adopt_store(store, now);
            }
            Err(e) => {
                self.store_open.failures = self.store_open.failures.saturating_add(1);
                let retry_at = now + retry_delay(self.store_open.failures);
                self.store_open.retry_at = Some(retry_at);
                self.store_open.showing_error = true;
                let kind = if e.is_transient() {
                    ErrorKind::Network
                } else {
                    ErrorKind::Config
                };
                let t = self.status.fail(
                    ErrorInfo {
                        kind,
                        message: format!(
                            "{e} (connecting again {})",
                            quota::resume_text(retry_at, now)
                        ),
                        retry_at: Some(retry_at),
                        used: None,
                        max: None,
                    },
                    now,
                );
                self.transition(t);
            }
        }
    }

    /// What [`Worker::new`] reads from a store opened at once, read now.
    fn adopt_store(&mut self, store: Store, now: DateTime<Utc>) {
        let store = SharedStore::new(store);
        let objects: Vec<String> = self.source.objects.keys().cloned().collect();
        let (setting_up, last_started, last_verify, baseline, skipped) = store.with_blocking(|s| {
            let setting_up = objects
                .iter()
                .any(|o| s.cursor(o).ok().flatten().is_none_or(|c| !c.full_sync_done));
            let last_started = s.last_run().ok().flatten().map(|r| r.started);
            let last_verify = s.last_verify().ok().flatten();
            let baseline = match &last_verify {
                Some(v) => Some(v.finished),
                None => s.first_run_started().ok().flatten(),
            };
            let skipped = describe_cache::load_skipped(s);
            (setting_up, last_started, last_verify, baseline, skipped)
        });
        self.event(
            EventLevel::Info,
            format!(
                "store connected: {}",
                crate::sanitize::clean(&store.with_blocking(|s| s.describe()))
            ),
        );
        self.scheduler.learn_last_started(last_started);
        self.last_verify = last_verify.map(|v| v.summary());
        self.verify_baseline = baseline;
        self.skipped = skipped;
        seed_guard(&self.guard, &store, &self.shared.clock);
        self.store = Some(store);
        self.apply_fence();
        if std::mem::take(&mut self.store_open.showing_error) {
            let t = self.status.recover(now);
            self.transition(t);
        }
        if self.status.error().is_none()
            && let Some(error) = fields_skipped_error(&self.skipped)
        {
            let t = self.status.fail(error, now);
            self.transition(t);
        }
        let t = self.status.set_setting_up(setting_up, now);
        self.transition(t);
        self.blocked = self.status.error().is_some_and(|e| needs_operator(e.kind));
        self.refresh_stats();
        self.refresh_history();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_five_seconds_to_five_minutes() {
        let secs: Vec<i64> = (1..=9).map(|n| retry_delay(n).num_seconds()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(retry_delay(u32::MAX), LAST_RETRY);
    }
}
