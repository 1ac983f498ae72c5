//! `syncdeck status [--json]`: each source's status, reason, last and next run, records
//! and API usage. While a daemon runs its live snapshot is shown (through its control
//! socket); otherwise the state is read from the stores, which is safe beside a running
//! engine (SQLite WAL).

use crate::sanitize::{eprintln, println};
use crate::store::postgres::lease::{LeaseRow, Leases};
use chrono::{DateTime, Utc};

use crate::config::{self, Paths};
use crate::model::{Command, FleetOwner, RunOutcome, Snapshot, SourceSnapshot, Status};
use crate::remote;
use crate::sync::{resume_text, stored_snapshot};

pub fn status(paths: &Paths, json: bool) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let live = live_snapshot(paths)?;
    let leases = match (&live, &config.fleet) {
        (None, Some(fleet)) => fleet_leases(fleet),
        _ => Vec::new(),
    };
    let sources: Vec<SourceSnapshot> = config
        .sources
        .iter()
        .map(|s| {
            live.as_ref()
                .and_then(|l| l.source(&s.id).cloned())
                .unwrap_or_else(|| {
                    let mut stored = stored_snapshot(paths, s);
                    stored.fleet = config.fleet.as_ref().map(|_| owner_of(&leases, &s.id));
                    stored
                })
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

/// The fleet's leases, read directly while no daemon runs here (empty when unreachable:
/// the table then says "owner none").
fn fleet_leases(fleet: &crate::config::FleetConfig) -> Vec<LeaseRow> {
    let who = format!("status/{}", std::process::id());
    match Leases::connect(fleet, &who, &who).and_then(|mut l| l.all()) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("fleet leases not read: {e}");
            Vec::new()
        }
    }
}

fn owner_of(leases: &[LeaseRow], source: &str) -> FleetOwner {
    let row = leases.iter().find(|r| r.source == source);
    FleetOwner {
        host: row.filter(|r| r.live).and_then(|r| r.owner_host.clone()),
        heartbeat: row.and_then(|r| r.heartbeat),
        here: false,
        note: None,
    }
}

/// `owner host-b (this daemon), heartbeat 12:00:03`: who syncs a fleet source.
fn owner_line(f: &FleetOwner) -> String {
    let host = f.host.as_deref().unwrap_or("none");
    let here = if f.here { " (this daemon)" } else { "" };
    let beat = f.heartbeat.map_or("-".into(), |t| {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    });
    format!("owner {host}{here}, last heartbeat {beat}")
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Why the source is (not) syncing, in a few words.
pub fn reason(s: &SourceSnapshot) -> String {
    if let Some(f) = s.fleet.as_ref().filter(|f| !f.here) {
        return match (&f.note, &f.host) {
            (Some(note), _) => note.clone(),
            (None, Some(host)) => format!("synced by the daemon on {host}"),
            (None, None) => "no daemon of the fleet holds it yet".into(),
        };
    }
    match &s.status {
        Status::NotConnected => "no credentials: run `syncdeck auth`".into(),
        Status::NotSyncing => "paused by the operator".into(),
        Status::Error(e) => match e.retry_at {
            Some(t) => format!(
                "{}: {} (resumes {})",
                e.kind.label(),
                e.message,
                resume_text(t, Utc::now())
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
        if let Some(f) = &s.fleet {
            println!("{:<16} {}", "", owner_line(f));
        }
    }
    if !live {
        println!("(no daemon running: state read from the stores)");
    }
}
