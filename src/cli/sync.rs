//! `syncdeck sync SOURCE [--full] [--object NAME]`: one run in the foreground.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;

use crate::config::{self, Credentials, Paths};
use crate::salesforce::{HttpClient, Timeouts};
use crate::store::Store;
use crate::sync::clock::{SharedClock, SystemClock};
use crate::sync::connect::{client_for, settings};
use crate::sync::hooks::EngineHooks;
use crate::sync::lock::EngineLock;
use crate::sync::model::{RunKind, RunOutcome};
use crate::sync::object_sync::ObjectOutcome;
use crate::sync::quota::{QuotaGuard, UsageReading};
use crate::sync::run::{RunContext, RunObserver, RunSpec};
use crate::sync::shared_store::SharedStore;
use crate::sync::stop::{StopReason, StopSignal};

pub struct SyncArgs {
    pub source: String,
    pub full: bool,
    pub object: Option<String>,
}

/// Exit codes: 0 success, 1 failure, 3 interrupted (Ctrl-C or quota guard).
pub fn sync(paths: &Paths, args: SyncArgs) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let Some(source) = config.source(&args.source).cloned() else {
        let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        anyhow::bail!(
            "no source \"{}\" in {}; configured sources: {}",
            args.source,
            paths.config_file.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    let _lock = EngineLock::acquire(&paths.lock_file())?;
    let Some(creds) = Credentials::load(paths, &source.id)? else {
        anyhow::bail!(
            "source \"{}\" is not connected yet; run `syncdeck auth {}` first",
            source.id,
            source.id
        );
    };
    let store = Store::open(&paths.store_file(&source.id))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let clock: SharedClock = SystemClock::shared();
        let guard = Arc::new(QuotaGuard::new(settings(&source)));
        let store = SharedStore::new(store);
        let latest = store.with_blocking(|s| {
            s.usage_since(clock.now() - chrono::Duration::hours(24))
                .ok()
                .and_then(|v| v.last().cloned())
        });
        if let Some(u) = latest {
            guard.seed(UsageReading { used: u.used, max: u.max });
        }
        let hooks = Arc::new(EngineHooks::new(
            guard,
            clock.clone(),
            Some((paths.clone(), source.id.clone())),
        ));
        let http = HttpClient::new(Timeouts::default())?;
        let client = client_for(&http, &source, &creds, hooks.clone());
        client
            .negotiate_api_version(source.api_version.as_deref())
            .await
            .context("cannot reach the org")?;
        let stop = StopSignal::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nstopping at the next page boundary (committed pages are kept)...");
                on_signal.stop(StopReason::Shutdown);
            }
        });
        let observer = CliProgress::new(std::io::stderr().is_terminal());
        let ctx = RunContext {
            source: &source,
            client: &client,
            hooks: &hooks,
            store: &store,
            stop: &stop,
            clock: &clock,
            user_id: Some(creds.user_id.as_str()),
        };
        let spec = RunSpec {
            full: args.full,
            only_object: args.object.clone(),
            refresh_schema: false,
        };
        let started = Instant::now();
        let report = ctx.execute(&spec, &observer).await;
        let s = &report.summary;
        let secs = started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { (s.upserted + s.deleted) as f64 / secs } else { 0.0 };
        println!(
            "{}: {} run {}: {} records upserted, {} deleted, {} API calls, {:.1}s ({:.0} records/s)",
            source.id,
            match s.kind {
                RunKind::Initial => "initial",
                RunKind::Incremental => "incremental",
                RunKind::Full => "full",
            },
            match s.outcome {
                RunOutcome::Succeeded => "succeeded",
                RunOutcome::Failed => "failed",
                RunOutcome::Interrupted => "interrupted",
            },
            s.upserted,
            s.deleted,
            s.api_calls,
            secs,
            rate
        );
        Ok(match (&report.error, s.outcome) {
            (Some(e), _) => {
                eprintln!("error: {e}");
                if s.outcome == RunOutcome::Interrupted { 3 } else { 1 }
            }
            (None, RunOutcome::Succeeded) => 0,
            (None, _) => 3,
        })
    })
}

struct ObjectLine {
    object: String,
    done: u64,
    expected: Option<u64>,
    finished: bool,
    printed_at: Option<Instant>,
}

/// Progress on stderr: a redrawn bar per object on a terminal, plain lines otherwise.
struct CliProgress {
    tty: bool,
    lines: Mutex<Vec<ObjectLine>>,
}

const PLAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
const BAR_WIDTH: usize = 24;

impl CliProgress {
    fn new(tty: bool) -> CliProgress {
        CliProgress {
            tty,
            lines: Mutex::new(Vec::new()),
        }
    }

    fn lines(&self) -> std::sync::MutexGuard<'_, Vec<ObjectLine>> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn render_bar(line: &ObjectLine) -> String {
        let fraction = match line.expected {
            _ if line.finished => 1.0,
            Some(e) if e > 0 => (line.done as f64 / e as f64).min(1.0),
            _ => 0.0,
        };
        let filled = (fraction * BAR_WIDTH as f64).round() as usize;
        format!(
            "{:<24} [{}{}] {:>9}/{:<9}{}",
            line.object,
            "#".repeat(filled),
            ".".repeat(BAR_WIDTH - filled),
            line.done,
            line.expected.map_or("?".to_string(), |e| e.to_string()),
            if line.finished { " done" } else { "" }
        )
    }

    fn redraw(&self, lines: &[ObjectLine], first: bool) {
        let mut err = std::io::stderr().lock();
        if !first {
            let _ = write!(err, "\x1b[{}A", lines.len());
        }
        for l in lines {
            let _ = writeln!(err, "\r\x1b[2K{}", Self::render_bar(l));
        }
        let _ = err.flush();
    }

    fn update(&self, object: &str, f: impl FnOnce(&mut ObjectLine)) {
        let mut lines = self.lines();
        let Some(line) = lines.iter_mut().find(|l| l.object == object) else {
            return;
        };
        f(line);
        if self.tty {
            self.redraw(&lines, false);
        } else {
            let line = lines.iter_mut().find(|l| l.object == object);
            if let Some(l) = line
                && (l.finished || l.printed_at.is_none_or(|t| t.elapsed() >= PLAIN_EVERY))
            {
                l.printed_at = Some(Instant::now());
                eprintln!(
                    "{}: {} of {} records{}",
                    l.object,
                    l.done,
                    l.expected.map_or("?".to_string(), |e| e.to_string()),
                    if l.finished { " (done)" } else { "" }
                );
            }
        }
    }
}

impl RunObserver for CliProgress {
    fn started(&self, kind: RunKind, objects: &[String]) {
        let mut lines = self.lines();
        *lines = objects
            .iter()
            .map(|o| ObjectLine {
                object: o.clone(),
                done: 0,
                expected: None,
                finished: false,
                printed_at: None,
            })
            .collect();
        if kind == RunKind::Initial {
            eprintln!("first sync (or backfill) of {} object(s)", objects.len());
        }
        if self.tty {
            self.redraw(&lines, true);
        }
    }

    fn object_progress(&self, object: &str, done: u64, expected: Option<u64>) {
        self.update(object, |l| {
            l.done = done;
            l.expected = expected;
        });
    }

    fn object_finished(&self, object: &str, outcome: &ObjectOutcome) {
        let finished = outcome.finished;
        self.update(object, |l| l.finished = finished);
    }

    fn backfill(&self, object: &str, added: &[String]) {
        if !self.tty {
            eprintln!("{object}: backfilling added fields {}", added.join(", "));
        }
    }

    fn warning(&self, message: String) {
        eprintln!("warning: {message}");
    }
}
