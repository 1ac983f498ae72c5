//! Quota stops and recovery: when to look at usage again, and the one call that does.

use super::*;

impl Worker {
    pub(super) fn quota_stopped(&mut self, stop: QuotaStop) {
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
    pub(super) fn plan_probe(
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
    pub(super) async fn probe_quota(&mut self) {
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

    pub(super) fn recovered_from_quota(&mut self, now: DateTime<Utc>) {
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
