//! A run's life: when it is due, starting it with an observer that puts progress into the
//! snapshot page by page, and what its end changes (status, schedule, verification).

use super::*;

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

    fn read_route(&self, object: &str, bulk: bool, reason: &str) {
        let how = if bulk { "Bulk API" } else { "REST" };
        if bulk {
            let _ = self.events.send(RunEvent::Info(format!(
                "{object}: read through {how} ({reason})"
            )));
        }
        self.publish(|p| {
            if let Some(o) = p.objects.iter_mut().find(|o| o.object == object) {
                o.route = Some(format!("{how}: {reason}"));
            }
        });
    }

    fn bulk_job(&self, object: &str, state: &str, processed: u64) {
        self.publish(|p| {
            if let Some(o) = p.objects.iter_mut().find(|o| o.object == object) {
                o.bulk_job = Some(format!("Bulk job {state}, {processed} records"));
            }
        });
    }
}

impl Worker {
    pub(super) fn run_event(&mut self, ev: RunEvent) {
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
            RunEvent::Info(message) => self.event(EventLevel::Info, message),
            RunEvent::NotifyTested(Ok(message)) => self.event(EventLevel::Info, message),
            RunEvent::NotifyTested(Err(message)) => self.event(EventLevel::Warn, message),
        }
    }

    pub(super) async fn wake(&mut self) {
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

    pub(super) fn start_run(&mut self, due: DueRun) {
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

    pub(super) async fn run_finished(&mut self, report: Option<RunReport>) {
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
    pub(super) fn verified(&mut self, v: &crate::store::VerifyRecord) {
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
}
