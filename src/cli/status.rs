//! `syncdeck status [--json]`: each source's status, reason, last and next run, records
//! and API usage. While a daemon runs its live snapshot is shown (through its control
//! socket); otherwise the state is read from the stores, which is safe beside a running
//! engine (SQLite WAL).

use crate::sanitize::println;
use chrono::{DateTime, Utc};

use crate::config::{self, Credentials, Paths, SourceConfig};
use crate::model::{
    ApiUsage, Command, ErrorInfo, ErrorKind, RunOutcome, Snapshot, SourceSnapshot, Status,
};
use crate::remote;
use crate::store::Store;
use crate::sync::describe_cache;
use crate::sync::run::summary_of;
use crate::sync::scheduler::Scheduler;
use crate::sync::status::StatusMachine;
use crate::sync::status::fields_skipped_error;

pub fn status(paths: &Paths, json: bool) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let live = live_snapshot(paths)?;
    let sources: Vec<SourceSnapshot> = config
        .sources
        .iter()
        .map(|s| {
            live.as_ref()
                .and_then(|l| l.source(&s.id).cloned())
                .unwrap_or_else(|| offline(paths, s))
        })
        .collect();
    if json {
        println!(
            "{}",
            crate::sanitize::json(&serde_json::to_string_pretty(&sources)?)
        );
    } else {
        print_table(&sources, live.is_some());
    }
    Ok(0)
}

/// The daemon's snapshot, when one runs for this data dir.
fn live_snapshot(paths: &Paths) -> anyhow::Result<Option<Snapshot>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match remote::attach(&paths.socket_file()).await {
            Ok(attached) => {
                let snapshot = attached.snapshots.borrow().clone();
                let _ = attached.commands.send(Command::Shutdown); // detach only
                Ok(Some(snapshot))
            }
            Err(remote::AttachError::NotRunning { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
}

fn offline(paths: &Paths, source: &SourceConfig) -> SourceSnapshot {
    let now = Utc::now();
    let creds = Credentials::load(paths, &source.id);
    let store_path = paths.store_file(&source.id);
    let store = store_path
        .exists()
        .then(|| Store::open(&store_path).ok())
        .flatten();
    let (records, last, samples, setting_up) = match &store {
        Some(s) => (
            s.total_rows().unwrap_or(0),
            s.last_run().ok().flatten(),
            s.usage_since(now - chrono::Duration::hours(24))
                .unwrap_or_default(),
            source
                .objects
                .keys()
                .any(|o| s.cursor(o).ok().flatten().is_none_or(|c| !c.full_sync_done)),
        ),
        None => (0, None, Vec::new(), true),
    };
    let skipped = store
        .as_ref()
        .map(describe_cache::load_skipped)
        .unwrap_or_default();
    let connected = matches!(creds, Ok(Some(_)));
    let mut machine = StatusMachine::new(connected, source.sync_enabled, setting_up, now);
    if let Err(e) = &creds {
        machine.set_credentials(true, now);
        machine.fail(error(ErrorKind::AuthRequired, e.to_string()), now);
    }
    if let Some(error) = fields_skipped_error(&skipped) {
        machine.fail(error, now);
    }
    let last_run = last.as_ref().and_then(summary_of);
    if let Some(run) = &last_run
        && run.outcome != RunOutcome::Succeeded
        && let Some(message) = &run.error
    {
        let kind = if last.as_ref().and_then(|r| r.outcome.as_deref()) == Some("quota") {
            ErrorKind::QuotaThreshold
        } else {
            ErrorKind::Api
        };
        machine.fail(error(kind, message.clone()), now);
    }
    let next_run = (connected && source.sync_enabled)
        .then(|| {
            Scheduler::new(source.frequency, last.as_ref().map(|r| r.started)).next_scheduled(now)
        })
        .flatten();
    let latest = samples.last();
    SourceSnapshot {
        id: source.id.clone(),
        name: source.name.clone(),
        kind: source.kind,
        status: machine.status().clone(),
        since: None,
        sync_enabled: source.sync_enabled,
        frequency: source.frequency,
        quota_threshold_percent: source.quota_threshold_percent,
        connection: None,
        running: None,
        last_run,
        next_run,
        records,
        api: ApiUsage {
            used: latest.map(|u| u.used),
            max: latest.map(|u| u.max),
            samples: samples.iter().map(|u| (u.at, u.used)).collect(),
        },
        projections: Vec::new(),
        events: Vec::new(),
        auth: None,
        schema: None,
        verify: store
            .as_ref()
            .and_then(|s| s.last_verify().ok().flatten())
            .map(|v| v.summary()),
        skipped_fields: skipped,
        history: Default::default(),
    }
}

fn error(kind: ErrorKind, message: String) -> ErrorInfo {
    ErrorInfo {
        kind,
        message,
        retry_at: None,
        used: None,
        max: None,
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Why the source is (not) syncing, in a few words.
pub fn reason(s: &SourceSnapshot) -> String {
    match &s.status {
        Status::NotConnected => "no credentials: run `syncdeck auth`".into(),
        Status::NotSyncing => "paused by the operator".into(),
        Status::Error(e) => match e.retry_at {
            Some(t) => format!(
                "{}: {} (resumes {})",
                e.kind.label(),
                e.message,
                crate::sync::quota::resume_text(t, Utc::now())
            ),
            None => format!("{}: {}", e.kind.label(), e.message),
        },
        Status::SettingUp => "first sync or backfill in progress".into(),
        Status::Active if s.running.is_some() => "syncing".into(),
        Status::Active => "-".into(),
    }
}

fn print_table(sources: &[SourceSnapshot], live: bool) {
    if sources.is_empty() {
        println!("no sources configured");
        return;
    }
    println!(
        "{:<16} {:<13} {:<22} {:<17} {:>10} {:>16}  REASON",
        "SOURCE", "STATUS", "LAST RUN", "NEXT RUN", "RECORDS", "API USAGE"
    );
    for s in sources {
        let last = s.last_run.as_ref().map_or("-".to_string(), |r| {
            format!(
                "{} {}",
                when(Some(r.finished)),
                match r.outcome {
                    RunOutcome::Succeeded => "ok",
                    RunOutcome::Failed => "failed",
                    RunOutcome::Interrupted => "stopped",
                }
            )
        });
        let usage = match (s.api.used, s.api.max) {
            (Some(u), Some(m)) => format!("{u}/{m}"),
            _ => "-".into(),
        };
        let mut why = reason(s);
        if let Some(v) = &s.verify {
            let verified = v.line(&crate::tui::format::ago(Utc::now(), v.finished));
            why = if why == "-" {
                verified
            } else {
                format!("{why} · {verified}")
            };
        }
        println!(
            "{:<16} {:<13} {:<22} {:<17} {:>10} {:>16}  {}",
            s.id,
            s.status.label(),
            last,
            when(s.next_run),
            s.records,
            usage,
            why
        );
    }
    if !live {
        println!("(no daemon running: state read from the stores)");
    }
}
