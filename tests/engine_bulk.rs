//! The engine's Bulk API 2.0 route against the sandbox org: a store synced through Bulk
//! equals one synced through REST; incremental runs go back to REST from the job's start
//! time; a failed job falls back to REST with an event; `syncdeck sync` SIGKILLed during a
//! Bulk download resumes the same job (counted on the sandbox), and a job that is gone is
//! started again.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use chrono::Utc;
use common::*;
use syncdeck::config::SourceConfig;
use syncdeck::model::{EventLevel, RunOutcome, SourceSnapshot};
use syncdeck::sandbox::{BulkModel, BulkSpec, SandboxConfig};
use syncdeck::store::Store;
use syncdeck::sync::ManualClock;

fn instant() -> BulkModel {
    BulkModel {
        queue_delay: Duration::ZERO,
        rows_per_sec: u64::MAX,
    }
}

fn bulk_org(records: &[(&str, u64)]) -> SandboxConfig {
    SandboxConfig {
        bulk: instant(),
        ..sandbox_config(records)
    }
}

fn with_threshold(mut source: SourceConfig, threshold: u64) -> SourceConfig {
    source.bulk_threshold = threshold;
    source
}

fn events_of(s: &SourceSnapshot, level: EventLevel) -> Vec<String> {
    s.events
        .iter()
        .filter(|e| e.level == level)
        .map(|e| e.message.clone())
        .collect()
}

const OBJECTS: [(&str, &[&str]); 2] = [("Account", ACCOUNT_FIELDS), ("Contact", CONTACT_FIELDS)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_and_rest_synced_stores_are_identical_and_later_runs_use_rest() {
    let org = org(bulk_org(&[("Account", 12_000), ("Contact", 3_000)])).await;
    org.sandbox.mutate(300);
    let rest = manual(with_threshold(org.source("rest", &OBJECTS), 0));
    let bulk = manual(with_threshold(org.source("bulk", &OBJECTS), 5_000));
    org.connect(&rest).await;
    org.connect(&bulk).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![rest.clone(), bulk.clone()], clock.clone());

    let by_rest = sync_now(&mut engine, &clock, "rest").await;
    assert_eq!(
        org.sandbox.counters().bulk_jobs,
        0,
        "threshold 0: REST only"
    );
    let before_bulk = std::time::SystemTime::now();
    let by_bulk = sync_now(&mut engine, &clock, "bulk").await;
    let run = by_bulk.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(
        org.sandbox.counters().bulk_jobs,
        1,
        "Account (12 000 > 5 000) through Bulk, Contact (3 000) through REST"
    );
    assert_eq!(run.upserted, by_rest.last_run.unwrap().upserted);
    assert!(
        events_of(&by_bulk, EventLevel::Info)
            .iter()
            .any(|m| m.contains("Account: read through Bulk API (about")
                && m.contains("over bulk_threshold 5000")),
        "{:?}",
        by_bulk.events
    );
    for (object, fields) in OBJECTS {
        let via_bulk = org.stored_rows("bulk", object, fields);
        assert_eq!(
            via_bulk,
            org.stored_rows("rest", object, fields),
            "{object}"
        );
        assert_eq!(via_bulk, org.truth(&bulk, object, fields).await, "{object}");
    }
    // The cursor is the job's start minus the clock-skew margin, not a row's stamp.
    let store = Store::open(&org.paths.store_file("bulk")).unwrap();
    assert_eq!(store.bulk_checkpoint("Account").unwrap(), None);
    let cursor = store.cursor("Account").unwrap().unwrap();
    assert!(cursor.full_sync_done);
    let at = syncdeck::model::parse_datetime(&cursor.system_modstamp).unwrap();
    let started: chrono::DateTime<Utc> = before_bulk.into();
    let skew = started - at;
    assert!(
        skew >= chrono::Duration::minutes(4) && skew <= chrono::Duration::minutes(6),
        "cursor {at} for a job started about {started}"
    );
    drop(store);

    // Changes after the backfill arrive through REST from that cursor.
    let changed = org.sandbox.mutate(200);
    assert!(changed.updated > 0 && changed.deleted > 0, "{changed:?}");
    let next = sync_now(&mut engine, &clock, "bulk").await;
    assert_eq!(next.last_run.unwrap().outcome, RunOutcome::Succeeded);
    assert_eq!(
        org.sandbox.counters().bulk_jobs,
        1,
        "incremental runs use REST"
    );
    for (object, fields) in OBJECTS {
        assert_eq!(
            org.stored_rows("bulk", object, fields),
            org.truth(&bulk, object, fields).await,
            "{object} after the incremental run"
        );
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_falls_back_to_rest_with_an_event() {
    let org = org(bulk_org(&[("Account", 8_000), ("Contact", 10)])).await;
    let source = manual(with_threshold(
        org.source("acme", &[("Account", ACCOUNT_FIELDS)]),
        1_000,
    ));
    org.connect(&source).await;
    org.sandbox.bulk(&BulkSpec {
        fail_jobs: 1,
        fail_message: Some("too many retries (sandbox)".into()),
        ..BulkSpec::default()
    });
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    let after = sync_now(&mut engine, &clock, "acme").await;
    let run = after.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(org.sandbox.counters().bulk_jobs, 1);
    let warnings = events_of(&after, EventLevel::Warn);
    assert!(
        warnings.iter().any(|m| m.contains("Account: Bulk job")
            && m.contains("too many retries (sandbox)")
            && m.contains("reading it through REST instead")),
        "{warnings:?}"
    );
    assert_eq!(
        org.stored_rows("acme", "Account", ACCOUNT_FIELDS),
        org.truth(&source, "Account", ACCOUNT_FIELDS).await
    );
    let store = Store::open(&org.paths.store_file("acme")).unwrap();
    assert_eq!(store.bulk_checkpoint("Account").unwrap(), None);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_bulk_job_limit_sends_the_read_to_rest() {
    let org = org(bulk_org(&[("Account", 6_000)])).await;
    let source = manual(with_threshold(
        org.source("acme", &[("Account", ACCOUNT_FIELDS)]),
        1_000,
    ));
    org.connect(&source).await;
    org.sandbox.bulk(&BulkSpec {
        jobs_max: Some(0),
        ..BulkSpec::default()
    });
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    let after = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(
        after.last_run.clone().unwrap().outcome,
        RunOutcome::Succeeded
    );
    assert_eq!(org.sandbox.counters().bulk_jobs, 0);
    let warnings = events_of(&after, EventLevel::Warn);
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("Max bulk v2 query jobs") && m.contains("through REST")),
        "{warnings:?}"
    );
    assert_eq!(
        org.stored_rows("acme", "Account", ACCOUNT_FIELDS),
        org.truth(&source, "Account", ACCOUNT_FIELDS).await
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_days_behind_with_many_changes_catches_up_through_bulk() {
    let org = org(bulk_org(&[("Account", 3_000)])).await;
    let source = manual(with_threshold(
        org.source("acme", &[("Account", ACCOUNT_FIELDS)]),
        500,
    ));
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(org.sandbox.counters().bulk_jobs, 1, "the first sync");
    // Two days without a run, and many changes meanwhile.
    org.sandbox.advance_clock(Duration::from_secs(2 * 86_400));
    clock.advance(chrono::Duration::days(2));
    let changed = org.sandbox.mutate(1_500);
    assert!(changed.updated > 500, "{changed:?}");
    let after = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(
        after.last_run.clone().unwrap().outcome,
        RunOutcome::Succeeded
    );
    assert_eq!(
        org.sandbox.counters().bulk_jobs,
        2,
        "the catch-up went through Bulk"
    );
    assert!(
        events_of(&after, EventLevel::Info)
            .iter()
            .any(|m| m.contains("Account: read through Bulk API (catching up about")),
        "{:?}",
        after.events
    );
    assert_eq!(
        org.stored_rows("acme", "Account", ACCOUNT_FIELDS),
        org.truth(&source, "Account", ACCOUNT_FIELDS).await
    );
    engine.shutdown().await;
}

const CRASH_RECORDS: u64 = 150_000;

fn spawn_sync(org: &Org, full: bool) -> Child {
    let mut cmd = syncdeck(org);
    cmd.args(["sync", "acme"]);
    if full {
        cmd.arg("--full");
    }
    let log = std::fs::File::create(org.root.path().join("sync.log")).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// The Bulk job and rows committed so far, read without writing: the child may still be
/// creating the store (opening it through `Store` would migrate it too).
fn checkpointed_rows(org: &Org) -> Option<(String, u64)> {
    let path = org.paths.store_file("acme");
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    let job: String = db
        .query_row(
            "SELECT job_id FROM bulk_checkpoints WHERE object = 'Account'",
            [],
            |r| r.get(0),
        )
        .ok()?;
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM sf_Account", [], |r| r.get(0))
        .ok()?;
    Some((job, u64::try_from(rows).ok()?))
}

/// Start a child and SIGKILL it once its Bulk read has committed more than `past` rows.
/// Returns the job id and rows committed at the kill.
async fn kill_during_download(org: &Org, full: bool, past: u64) -> (String, u64) {
    let mut child = spawn_sync(org, full);
    let seen = patiently("a Bulk page to be committed", async {
        loop {
            if let Some((job, rows)) = checkpointed_rows(org)
                && rows > past
            {
                return (job, rows);
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before it could be killed mid-download: {}",
                std::fs::read_to_string(org.root.path().join("sync.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    seen
}

async fn finish(org: &Org) -> std::process::ExitStatus {
    let mut child = spawn_sync(org, false);
    patiently("the final run", async {
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_bulk_download_resumes_the_same_job_and_a_gone_job_starts_again() {
    let org = org(bulk_org(&[("Account", CRASH_RECORDS)])).await;
    let fields = common::crash::FIELDS;
    let source = manual(with_threshold(
        org.source("acme", &[("Account", fields)]),
        1_000,
    ));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;

    let (job, first) = kill_during_download(&org, false, 0).await;
    assert_eq!(org.sandbox.counters().bulk_jobs, 1);
    let (resumed, second) = kill_during_download(&org, false, first).await;
    assert_eq!(resumed, job, "the second run resumed the same job");
    assert!(second > first);
    assert_eq!(
        org.sandbox.counters().bulk_jobs,
        1,
        "no new job after a kill"
    );
    let sets_before = org.sandbox.counters().bulk_result_sets;
    assert!(finish(&org).await.success());
    assert_eq!(
        org.sandbox.counters().bulk_jobs,
        1,
        "finished on the same job"
    );
    assert!(org.sandbox.counters().bulk_result_sets > sets_before);
    assert_eq!(
        checkpointed_rows(&org),
        None,
        "the checkpoint went with the last page"
    );
    let stored = org.stored_rows("acme", "Account", fields);
    assert_eq!(stored.len() as u64, CRASH_RECORDS);
    assert!(stored == org.truth(&source, "Account", fields).await);

    // A full re-read killed mid-download, its job then gone: the next run starts a new
    // job from the cursor (the start, for a full read) and ends equal to the org.
    let (full_job, _) = kill_during_download(&org, true, 0).await;
    assert_ne!(full_job, job);
    assert_eq!(org.sandbox.counters().bulk_jobs, 2);
    org.sandbox.mutate(500);
    org.sandbox.bulk(&BulkSpec {
        forget_jobs: true,
        ..BulkSpec::default()
    });
    assert!(finish(&org).await.success());
    assert_eq!(
        org.sandbox.counters().bulk_jobs,
        3,
        "a new job for the gone one"
    );
    let said = std::fs::read_to_string(org.root.path().join("sync.log")).unwrap();
    assert!(
        said.contains(&format!(
            "Account: read through Bulk API (resuming Bulk job {full_job})"
        )) && said.contains(&format!(
            "warning: Account: Bulk job {full_job} is gone; starting again from the cursor"
        )),
        "sync output: {said}"
    );
    assert_eq!(
        org.stored_rows("acme", "Account", fields),
        org.truth(&source, "Account", fields).await
    );
}
