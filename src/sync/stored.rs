//! A source's snapshot read from its files instead of a running worker, built with the
//! worker's own status machine and scheduler so both say the same.

use chrono::Utc;

use crate::config::{Credentials, Paths, SourceConfig};
use crate::model::{ApiUsage, ErrorInfo, ErrorKind, RunOutcome, SourceSnapshot};
use crate::store::Store;
use crate::sync::describe_cache;
use crate::sync::run::summary_of;
use crate::sync::scheduler::Scheduler;
use crate::sync::status::{StatusMachine, fields_skipped_error};

/// `source` as its store and credentials file describe it, for `syncdeck status` while no
/// engine runs: status, last and next run, records, usage and the last verification. Safe
/// beside a running engine (SQLite WAL).
pub fn stored_snapshot(paths: &Paths, source: &SourceConfig) -> SourceSnapshot {
    let now = Utc::now();
    let creds = Credentials::load(paths, &source.id);
    let store = Store::exists_for(paths, source)
        .then(|| Store::open_for(paths, source).ok())
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
        fleet: None,
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
