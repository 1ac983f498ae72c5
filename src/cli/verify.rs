//! `syncdeck verify SOURCE [--object NAME] [--repair] [--json]`: prove the store holds
//! exactly the org's rows (see `sync::verify`), and optionally repair it.
//!
//! While a daemon owns the data dir this refuses: the daemon verifies on its own schedule
//! (`verify = "weekly"`), and two engines must never write one store.

use crate::sanitize::{eprintln, println};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::config::{self, Paths};
use crate::model::Command;
use crate::remote;
use crate::salesforce::read_plan::ReadVia;
use crate::sync::{
    LocalSource, ObjectReport, StopReason, StopSignal, SyncError, SystemClock, VerifyObserver,
    VerifyReport, VerifySpec,
};
use crate::tui::sanitize::clean;

/// Exit code when the store and the org differ (0: exact, 1: error, 3: interrupted).
pub const EXIT_DIFFERENT: u8 = 4;
/// Exit code when stopped (Ctrl-C or the quota guard) before the end, as for `sync`.
pub const EXIT_INTERRUPTED: u8 = 3;

#[derive(clap::Args, Debug, Clone)]
pub struct VerifyArgs {
    /// Source id from the config
    pub source: String,
    /// Verify only this object
    #[arg(long, value_name = "NAME")]
    pub object: Option<String>,
    /// Delete rows the org no longer has, fetch rows the store lacks, then verify again
    #[arg(long)]
    pub repair: bool,
    /// Print the result as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

pub fn verify(paths: &Paths, args: VerifyArgs) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let source = super::local_source::configured(&config, paths, &args.source)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match runtime.block_on(remote::attach(&paths.socket_file())) {
        Ok(attached) => {
            let pid = attached.daemon_pid;
            let _ = attached.commands.send(Command::Shutdown); // detach only
            anyhow::bail!(
                "the syncdeck daemon (PID {pid}) owns this data dir and verifies \"{}\" on its schedule (verify = \"{}\"; see `syncdeck status`); stop the daemon to run `syncdeck verify` now",
                source.id,
                source.verify.label()
            );
        }
        Err(remote::AttachError::NotRunning { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    runtime.block_on(async move {
        let local = LocalSource::open(paths, &source, SystemClock::shared()).await?;
        let stop = StopSignal::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nstopping after the current chunk (repairs made so far are kept)...");
                on_signal.stop(StopReason::Shutdown);
            }
        });
        let spec = VerifySpec {
            only_object: args.object.clone(),
            repair: args.repair,
        };
        let progress = Progress::new(std::io::stderr().is_terminal() && !args.json);
        let started = Instant::now();
        let report = local.verify(&spec, &stop, &progress).await;
        let secs = started.elapsed().as_secs_f64();
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&to_json(&source.id, &report, secs))?
            );
        } else {
            print_report(&source.id, &report, secs);
        }
        Ok(exit_code(&report))
    })
}

pub fn exit_code(report: &VerifyReport) -> u8 {
    match (&report.error, report.outcome()) {
        (Some(SyncError::Quota(_)), _) => EXIT_INTERRUPTED,
        (Some(_), _) => 1,
        (None, "exact") => 0,
        (None, "stopped") => EXIT_INTERRUPTED,
        (None, _) => EXIT_DIFFERENT,
    }
}

fn object_json(o: &ObjectReport) -> serde_json::Value {
    json!({
        "object": o.object,
        "org_rows": o.org_count,
        "store_rows": o.store_count,
        "extra_in_store": o.extra,
        "missing_from_store": o.missing,
        "extra_sample": o.extra_sample,
        "missing_sample": o.missing_sample,
        "fields_without_column": o.fields_without_column,
        "fields_not_backfilled": o.fields_not_backfilled,
        "repaired_deleted": o.repaired_deleted,
        "repaired_fetched": o.repaired_fetched,
        "complete": !o.partial,
        "exact": o.is_exact(),
        "id_scan": {
            "via": o.id_scan.via,
            "reason": o.id_scan.reason,
            "notes": o.notes.iter().map(|n| clean(n)).collect::<Vec<_>>(),
        },
    })
}

fn to_json(source: &str, r: &VerifyReport, secs: f64) -> serde_json::Value {
    json!({
        "source": source,
        "outcome": r.outcome(),
        "exact": r.outcome() == "exact",
        "rows_differing": r.rows_differing(),
        "repair": r.repair,
        "api_calls": r.api_calls,
        "seconds": (secs * 10.0).round() / 10.0,
        "error": r.error.as_ref().map(|e| clean(&e.to_string())),
        "objects": r.objects.iter().map(object_json).collect::<Vec<_>>(),
    })
}

fn print_report(source: &str, r: &VerifyReport, secs: f64) {
    for o in &r.objects {
        let mut line = format!(
            "{}: org {} rows, store {} rows; {} in the store only, {} missing from the store",
            o.object, o.org_count, o.store_count, o.extra, o.missing
        );
        if o.repaired_deleted + o.repaired_fetched > 0 {
            line.push_str(&format!(
                "; repaired: {} deleted, {} fetched",
                o.repaired_deleted, o.repaired_fetched
            ));
        }
        if o.partial {
            line.push_str(" (stopped before the end)");
        }
        println!("{line}");
        println!(
            "  Ids compared through {} ({})",
            match o.id_scan.via {
                ReadVia::Bulk => "Bulk API",
                ReadVia::Rest => "REST",
            },
            o.id_scan.reason
        );
        for note in &o.notes {
            eprintln!("warning: {}: {}", o.object, clean(note));
        }
        // Ids come from the org and the store: never pass control characters through.
        if !o.extra_sample.is_empty() {
            println!(
                "  in the store only, e.g. {}",
                clean(&o.extra_sample.join(", "))
            );
        }
        if !o.missing_sample.is_empty() {
            println!("  missing, e.g. {}", clean(&o.missing_sample.join(", ")));
        }
        if !o.fields_without_column.is_empty() {
            println!(
                "  selected fields with no column: {}",
                o.fields_without_column.join(", ")
            );
        }
        if !o.fields_not_backfilled.is_empty() {
            println!(
                "  selected fields never backfilled (the next sync does it): {}",
                o.fields_not_backfilled.join(", ")
            );
        }
    }
    let verdict = match r.outcome() {
        "exact" => "exact: the store holds exactly the org's rows".to_string(),
        "differs" if r.rows_differing() > 0 => format!(
            "{} rows differ · run syncdeck verify {source} --repair",
            r.rows_differing()
        ),
        "differs" => format!(
            "{} selected fields are not filled · run syncdeck sync {source}",
            r.unfilled_fields()
        ),
        "stopped" => "stopped before the end; run it again to finish".to_string(),
        _ => "failed".to_string(),
    };
    println!(
        "{source}: {verdict} ({} API calls, {secs:.1}s)",
        r.api_calls
    );
    if let Some(e) = &r.error {
        eprintln!("error: {}", clean(&e.to_string()));
    }
}

/// A redrawn bar on a terminal; nothing otherwise (the report says it all).
struct Progress {
    tty: bool,
    last: Mutex<Option<Instant>>,
}

const BAR_WIDTH: usize = 24;

impl Progress {
    fn new(tty: bool) -> Progress {
        Progress {
            tty,
            last: Mutex::new(None),
        }
    }

    fn draw(&self, object: &str, done: u64, of: u64, force: bool) {
        if !self.tty {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if !force && last.is_some_and(|t| t.elapsed() < std::time::Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        let fraction = if of == 0 {
            1.0
        } else {
            (done as f64 / of as f64).min(1.0)
        };
        let filled = (fraction * BAR_WIDTH as f64).round() as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{:<24} [{}{}] {:>9}/{:<9} Ids compared",
            object,
            "#".repeat(filled),
            ".".repeat(BAR_WIDTH - filled),
            done,
            of
        );
        let _ = err.flush();
    }
}

impl VerifyObserver for Progress {
    fn object_started(&self, object: &str, org_count: u64) {
        self.draw(object, 0, org_count, true);
    }

    fn progress(&self, object: &str, compared: u64, org_count: u64) {
        self.draw(object, compared, org_count, false);
    }

    fn object_finished(&self, _report: &ObjectReport) {
        if self.tty {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
