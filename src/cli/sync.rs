//! `syncdeck sync SOURCE [--full] [--object NAME]`: one run in the foreground.

use crate::sanitize::{eprintln, println};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;

use crate::config::{self, Paths};
use crate::model::{Command, ObjectProgress, RunKind, RunOutcome, RunSummary};
use crate::remote;
use crate::sync::{
    LocalSource, ObjectOutcome, RunObserver, RunSpec, StopReason, StopSignal, SystemClock,
    kind_label,
};

pub struct SyncArgs {
    pub source: String,
    pub full: bool,
    pub object: Option<String>,
}

/// Exit codes: 0 success, 1 failure, 3 interrupted (Ctrl-C or quota guard).
pub fn sync(paths: &Paths, args: SyncArgs) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let source = super::local_source::configured(&config, paths, &args.source)?;
    if source.objects.is_empty() {
        anyhow::bail!("{}", nothing_selected(&source.id));
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match runtime.block_on(remote::attach(&paths.socket_file())) {
        Ok(attached) => return runtime.block_on(via_daemon(attached, &source.id, &args)),
        Err(remote::AttachError::NotRunning { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    if config.fleet.is_some() {
        // A run here would race the fleet daemon holding the source's lease.
        anyhow::bail!(
            "this configuration has [fleet]: its sources are synced by the fleet's daemons only; start `syncdeck daemon` here or ask the daemon that holds \"{}\" (see `syncdeck status`)",
            source.id
        );
    }
    runtime.block_on(async move {
        let local = LocalSource::open(paths, &source, SystemClock::shared()).await?;
        let stop = StopSignal::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nstopping at the next page boundary (committed pages are kept)...");
                on_signal.stop(StopReason::Shutdown);
            }
        });
        let observer = CliProgress::new(std::io::stderr().is_terminal());
        let spec = RunSpec {
            full: args.full,
            only_object: args.object.clone(),
            refresh_schema: false,
        };
        let started = Instant::now();
        let report = local.run(&spec, &stop, &observer).await;
        print_summary(&source.id, &report.summary, started.elapsed().as_secs_f64());
        let s = &report.summary;
        Ok(match (&report.error, s.outcome) {
            (Some(e), _) => {
                eprintln!("error: {e}");
                if s.outcome == RunOutcome::Interrupted {
                    3
                } else {
                    1
                }
            }
            (None, RunOutcome::Succeeded) => 0,
            (None, _) => 3,
        })
    })
}

/// Why a source without selected fields has nothing to sync, and how to select some.
fn nothing_selected(id: &str) -> String {
    format!(
        "source \"{id}\" has no fields selected, so there is nothing to sync; select some with \
         `syncdeck fields {id} preset Sales` or `syncdeck fields {id} select 'Account.*'`, \
         or in the TUI (s on its row, then Edit Data Sync)"
    )
}

/// How long a daemon may take to start the requested run before we give up waiting.
const DAEMON_START_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A daemon owns this data dir: ask it for the run and follow it through snapshots.
async fn via_daemon(
    mut attached: remote::Attached,
    source: &str,
    args: &SyncArgs,
) -> anyhow::Result<u8> {
    let pid = attached.daemon_pid;
    if args.object.is_some() {
        anyhow::bail!(
            "the syncdeck daemon (PID {pid}) runs this data dir and syncs whole sources; run without --object, or stop the daemon first"
        );
    }
    let current = attached.snapshots.borrow().source(source).cloned();
    let Some(current) = current else {
        anyhow::bail!(
            "the daemon (PID {pid}) does not know source \"{source}\"; send it the new config (SIGHUP) or restart it"
        );
    };
    if let Some(fleet) = current.fleet.as_ref().filter(|f| !f.here) {
        anyhow::bail!(
            "source \"{source}\" is synced by the daemon on {} in the fleet, not this one; run the command on that host",
            fleet
                .host
                .as_deref()
                .unwrap_or("no host yet (no daemon holds it right now)")
        );
    }
    if !current.sync_enabled {
        anyhow::bail!("source \"{source}\" is paused; resume it in the TUI first");
    }
    if current.connection.is_none() {
        anyhow::bail!(
            "source \"{source}\" is not connected yet; run `syncdeck auth {source}` first"
        );
    }
    eprintln!("syncing through the daemon (PID {pid})");
    let before = current.last_run.as_ref().map(|r| (r.started, r.finished));
    attached.commands.send(Command::SyncNow {
        source: source.to_string(),
        full: args.full,
    })?;
    let progress = CliProgress::new(std::io::stderr().is_terminal());
    let started = Instant::now();
    let mut seen_running = false;
    loop {
        let snap = attached
            .snapshots
            .borrow_and_update()
            .source(source)
            .cloned();
        if let Some(s) = snap {
            match &s.running {
                Some(run) => {
                    if !seen_running {
                        seen_running = true;
                        let names: Vec<String> =
                            run.objects.iter().map(|o| o.object.clone()).collect();
                        progress.started(run.kind, &names);
                    }
                    progress.show(&run.objects);
                }
                None => {
                    let last = s.last_run.as_ref().map(|r| (r.started, r.finished));
                    if last != before
                        && let Some(run) = &s.last_run
                    {
                        print_summary(source, run, started.elapsed().as_secs_f64());
                        let _ = attached.commands.send(Command::Shutdown); // detach only
                        return Ok(match (&run.error, run.outcome) {
                            (Some(e), _) => {
                                eprintln!("error: {e}");
                                if run.outcome == RunOutcome::Interrupted {
                                    3
                                } else {
                                    1
                                }
                            }
                            (None, RunOutcome::Succeeded) => 0,
                            (None, _) => 3,
                        });
                    }
                }
            }
        }
        let wait = if seen_running {
            None
        } else {
            Some(DAEMON_START_WAIT)
        };
        let changed = attached.snapshots.changed();
        let next = match wait {
            Some(d) => tokio::time::timeout(d, changed).await.map_err(|_| {
                anyhow::anyhow!(
                    "the daemon (PID {pid}) did not start a run; see `syncdeck status` for why"
                )
            })?,
            None => changed.await,
        };
        if next.is_err() {
            let why = attached.disconnected.borrow().clone();
            anyhow::bail!(
                "{}; the run may go on in the daemon, see `syncdeck status`",
                why.map_or("the daemon went away".to_string(), |d| d.to_string())
            );
        }
    }
}

fn print_summary(source: &str, s: &RunSummary, secs: f64) {
    let rate = if secs > 0.0 {
        (s.upserted + s.deleted) as f64 / secs
    } else {
        0.0
    };
    println!(
        "{}: {} run {}: {} records upserted, {} deleted, {} API calls, {:.1}s ({:.0} records/s)",
        source,
        kind_label(s.kind),
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
            crate::sanitize::clean(&line.object),
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

    /// Progress as a daemon's snapshot reports it.
    fn show(&self, objects: &[ObjectProgress]) {
        for o in objects {
            let known = self.lines().iter().any(|l| {
                l.object == o.object
                    && l.done == o.done
                    && l.expected == o.expected
                    && l.finished == o.finished
            });
            if !known {
                self.update(&o.object, |l| {
                    l.done = o.done;
                    l.expected = o.expected;
                    l.finished = o.finished;
                });
            }
        }
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

    fn read_route(&self, object: &str, bulk: bool, reason: &str) {
        // Only a Bulk read is news; REST is how every run reads by default.
        if bulk {
            eprintln!("{object}: read through Bulk API ({reason})");
        }
    }

    fn bulk_job(&self, object: &str, state: &str, processed: u64) {
        if !self.tty {
            eprintln!("{object}: Bulk job {state}, {processed} records processed");
        }
    }
}
