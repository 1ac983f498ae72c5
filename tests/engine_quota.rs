//! The quota guard against a sandbox org: concurrent objects never cross the threshold,
//! 403 REQUEST_LIMIT_EXCEEDED is handled the same way, one notification per incident,
//! and the source resumes by itself once usage falls, checked with a single call.

mod common;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use common::*;
use serde_json::Value;
use syncdeck::config::SourceConfig;
use syncdeck::model::{ErrorInfo, ErrorKind, RunOutcome, Status};
use syncdeck::notify::Notifier;
use syncdeck::sync::EngineHandle;
use syncdeck::sync::{Clock, ManualClock};

const FIELDS: &[&str] = &["Name", "CreatedDate"];

fn quota_error(status: &Status) -> &ErrorInfo {
    match status {
        Status::Error(e) if e.kind == ErrorKind::QuotaThreshold => e,
        other => panic!("expected a quota error, got {other:?}"),
    }
}

/// Webhooks received once every notification handed out so far is delivered or given up.
/// The worker hands an incident out before it publishes the status that reports it, and
/// the receiver keeps a body before it answers, so a duplicate cannot land later unseen.
async fn webhook_count(notifier: &Notifier, bodies: &Mutex<Vec<Value>>) -> usize {
    patiently("the webhook deliveries", notifier.settle()).await;
    bodies.lock().unwrap().len()
}

/// An engine for `source` whose notifications go to a local webhook; returns what it received.
async fn start_with_webhook(
    org: &Org,
    source: &SourceConfig,
) -> (
    Arc<ManualClock>,
    EngineHandle,
    Arc<Mutex<Vec<Value>>>,
    Notifier,
) {
    let (url, bodies) = webhook_receiver().await;
    let clock = ManualClock::new(Utc::now());
    let notifier = webhook_notifier(&url);
    let engine = start_notifying(org, vec![source.clone()], clock.clone(), notifier.clone());
    (clock, engine, bodies, notifier)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_objects_stop_exactly_at_the_threshold_and_notify_once() {
    let mut config = sandbox_config(&[
        ("Account", 20_000),
        ("Contact", 20_000),
        ("Opportunity", 20_000),
    ]);
    config.api_max = 1_000;
    let org = org(config).await;
    let source = manual(org.source(
        "acme",
        &[
            ("Account", FIELDS),
            ("Contact", FIELDS),
            ("Opportunity", FIELDS),
        ],
    ));
    org.connect(&source).await;
    // Other apps already spent most of the day: 790 of 1000, threshold 80 % = 800. The
    // three objects' 30 pages take 10 composite calls after the describes: more than the
    // 10 calls left.
    org.sandbox.set_quota(Some(790), None);
    let (clock, mut engine, bodies, notifier) = start_with_webhook(&org, &source).await;

    let stopped = sync_now(&mut engine, &clock, "acme").await;
    let run = stopped.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Interrupted, "{run:?}");
    let used = org.sandbox.usage().used;
    assert!(
        used <= 800,
        "usage {used} crossed the 800-call threshold; events: {:?}",
        stopped.events
    );
    assert!(used >= 797, "the guard stopped early at {used}");
    let e = quota_error(&stopped.status);
    assert_eq!(e.max, Some(1_000));
    assert!(e.used.is_some_and(|u| (797..=800).contains(&u)), "{e:?}");
    assert!(e.retry_at.is_some_and(|t| t > clock.now()), "{e:?}");
    assert!(e.message.contains("resumes by itself"), "{}", e.message);
    // Committed pages are kept.
    assert!(org.stored_ids("acme", "Account").len() >= 2_000);

    assert_eq!(webhook_count(&notifier, &bodies).await, 1);
    let body = bodies.lock().unwrap()[0].clone();
    assert_eq!(body["source"], "acme");
    assert_eq!(body["kind"], "QuotaThreshold");
    assert_eq!(body["max"], 1_000);

    // Asking again never crosses the threshold and does not notify again. With calls in
    // flight the guard cannot tell whether a reading already counts them, so it may have
    // stopped a call or two short; only those may be spent now.
    let again = sync_now(&mut engine, &clock, "acme").await;
    quota_error(&again.status);
    let spent = again.last_run.unwrap().api_calls;
    assert_eq!(org.sandbox.usage().used, used + spent);
    assert!(
        used + spent <= 800,
        "{used} + {spent} crossed the threshold"
    );
    notifier.settle().await;
    assert_eq!(
        bodies.lock().unwrap().len(),
        1,
        "one notification per incident"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limit_exceeded_stops_like_the_threshold_then_resumes_by_itself() {
    let mut config = sandbox_config(&[("Account", 500)]);
    config.api_max = 10_000;
    let org = org(config).await;
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    org.connect(&source).await;
    let (clock, mut engine, bodies, notifier) = start_with_webhook(&org, &source).await;
    assert_eq!(
        sync_now(&mut engine, &clock, "acme").await.status,
        Status::Active
    );

    // Another app exhausts the org behind our back: our guard still thinks usage is low,
    // so the next call goes out and Salesforce refuses it.
    org.sandbox.set_quota(Some(10_000), None);
    let refused = sync_now(&mut engine, &clock, "acme").await;
    let run = refused.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Interrupted, "{run:?}");
    let e = quota_error(&refused.status).clone();
    assert!(
        e.message.contains("daily API request limit"),
        "{}",
        e.message
    );
    let retry_at = e.retry_at.expect("an estimated resume time");
    assert_eq!(webhook_count(&notifier, &bodies).await, 1);

    // The window rolls: usage is low again. Nothing happens before the estimate...
    org.sandbox.set_quota(Some(100), None);
    // ...and at the estimate one usage check (one call) brings the source back.
    clock.set(retry_at);
    let snap = wait_for(&mut engine.snapshots, "auto-resume", |s| {
        s.source("acme").is_some_and(|s| s.status == Status::Active)
    })
    .await;
    assert_eq!(
        org.sandbox.usage().used,
        101,
        "exactly one call to check usage"
    );
    assert!(
        src(&snap, "acme")
            .events
            .iter()
            .any(|e| e.message.contains("below the threshold")),
        "{:?}",
        src(&snap, "acme").events
    );
    let resumed = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(resumed.last_run.unwrap().outcome, RunOutcome::Succeeded);
    engine.shutdown().await;
}

/// Rows per Bulk result set in the test below: one store page each, so every set is a
/// call and a checkpoint.
const SET_ROWS: u64 = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bulk_and_rest_reading_together_stop_at_the_threshold_at_a_set_boundary() {
    let mut config = sandbox_config(&[("Account", 60_000), ("Contact", 30_000)]);
    config.api_max = 1_000;
    config.bulk = syncdeck::sandbox::BulkModel {
        queue_delay: std::time::Duration::ZERO,
        rows_per_sec: u64::MAX,
    };
    let org = org(config).await;
    org.sandbox.bulk(&syncdeck::sandbox::BulkSpec {
        max_set_rows: Some(SET_ROWS),
        ..Default::default()
    });
    // Calls overlap on the wire, as with a real org.
    org.sandbox.inject(&syncdeck::sandbox::FaultSpec {
        latency_ms: Some(20),
        ..Default::default()
    });
    // Account (60 000 rows) through Bulk, Contact (30 000, not sliced) through REST pages,
    // both at once: 30 sets and 15 pages, far more than the 15 calls left below 800.
    let mut source = manual(org.source("acme", &[("Account", FIELDS), ("Contact", FIELDS)]));
    source.bulk_threshold = 30_000;
    source.query_cursors = 1;
    org.connect(&source).await;
    org.sandbox.set_quota(Some(785), None);
    let (clock, mut engine, _bodies, _notifier) = start_with_webhook(&org, &source).await;
    let before = org.sandbox.calls().len();

    let stopped = sync_now(&mut engine, &clock, "acme").await;
    let run = stopped.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Interrupted, "{run:?}");
    // Every call the sandbox counted, Bulk and REST, against the limit.
    let counted: Vec<String> = org.sandbox.calls()[before..]
        .iter()
        .filter(|c| c.counted)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    let used = org.sandbox.usage().used;
    assert_eq!(used, 785 + counted.len() as u64, "{counted:?}");
    assert!(
        used <= 800,
        "usage {used} crossed the threshold: {counted:?}"
    );
    assert!(used >= 797, "the guard stopped early at {used}");
    let sets = counted.iter().filter(|c| c.ends_with("/results")).count();
    let pages = counted
        .iter()
        .filter(|c| c.contains("/query") && !c.contains("/jobs/"))
        .count();
    assert!(sets >= 1, "the Bulk download ran: {counted:?}");
    assert!(pages >= 1, "REST pages ran alongside: {counted:?}");

    // Neither object finished; the Bulk read stopped between two sets, its checkpoint at
    // the start of the next set and every row of the sets before it committed.
    let store = syncdeck::store::Store::open(&org.paths.store_file("acme")).unwrap();
    let checkpoint = store
        .bulk_checkpoint("Account")
        .unwrap()
        .expect("the Bulk read keeps its checkpoint");
    assert_eq!(checkpoint.rows_done, 0, "{checkpoint:?}");
    assert!(checkpoint.locator.is_some(), "{checkpoint:?}");
    drop(store);
    let accounts = org.stored_ids("acme", "Account").len() as u64;
    assert!(accounts > 0 && accounts < 60_000, "{accounts}");
    assert_eq!(accounts % SET_ROWS, 0, "whole sets only: {accounts}");
    assert_eq!(
        accounts / SET_ROWS,
        sets as u64,
        "every set read was committed"
    );
    let contacts = org.stored_ids("acme", "Contact").len() as u64;
    assert!(contacts < 30_000, "{contacts}");

    // The source shows the error its table row shows: the quota stop, with the usage.
    let e = quota_error(&stopped.status).clone();
    assert_eq!(stopped.status.label(), "Error");
    assert_eq!(e.kind.label(), "API quota threshold reached");
    assert!(e.used.is_some_and(|u| (797..=800).contains(&u)), "{e:?}");
    assert!(
        run.error
            .as_deref()
            .is_some_and(|m| m.contains("threshold")),
        "{run:?}"
    );

    // Usage falls: the next run resumes the same job from its set and ends with the org.
    let jobs = org.sandbox.counters().bulk_jobs;
    org.sandbox.set_quota(Some(0), None);
    org.sandbox.clear_faults();
    clock.set(e.retry_at.expect("an estimated resume time"));
    wait_for(&mut engine.snapshots, "auto-resume", |s| {
        s.source("acme").is_some_and(|s| s.status != stopped.status)
    })
    .await;
    let resumed = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(
        resumed.last_run.unwrap().outcome,
        RunOutcome::Succeeded,
        "{:?}",
        resumed.events
    );
    assert_eq!(org.sandbox.counters().bulk_jobs, jobs, "the same job");
    for (object, rows) in [("Account", 60_000), ("Contact", 30_000)] {
        assert_eq!(org.stored_ids("acme", object).len(), rows, "{object}");
        assert_eq!(
            org.stored_rows("acme", object, FIELDS),
            org.truth(&source, object, FIELDS).await,
            "{object}"
        );
    }
    engine.shutdown().await;
}
