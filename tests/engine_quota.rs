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
