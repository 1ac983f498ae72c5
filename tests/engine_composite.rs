//! The engine's composite grouping against a sandbox org: the first pages of five objects
//! share one billed call, later pages too, describes go 25 to a call, and a subrequest
//! that fails concerns only its object.

mod common;

use chrono::Utc;
use common::*;
use syncdeck::config::SourceConfig;
use syncdeck::model::{RunKind, RunOutcome};
use syncdeck::salesforce::read_plan::grouped_calls;
use syncdeck::sandbox::{FaultSpec, SandboxConfig, SchemaSource};
use syncdeck::sync::ManualClock;

const FIELDS: &[&str] = &["Name", "Field001__c", "Field002__c"];
const OBJECTS: usize = 7;

fn object(i: usize) -> String {
    format!("Synthetic{:04}__c", i + 1)
}

/// Seven custom objects; the first three need three pages each (4 500 rows), the others one.
fn seven_objects() -> SandboxConfig {
    let mut config = sandbox_config(&[]);
    config.schema = SchemaSource::Synthetic {
        objects: OBJECTS,
        fields_per_object: 12,
    };
    config.records = (0..OBJECTS)
        .map(|i| (object(i), if i < 3 { 4_500 } else { 50 }))
        .collect();
    config
}

async fn connected() -> (Org, SourceConfig) {
    let org = org(seven_objects()).await;
    let names: Vec<String> = (0..OBJECTS).map(object).collect();
    let selected: Vec<(&str, &[&str])> = names.iter().map(|n| (n.as_str(), FIELDS)).collect();
    let source = manual(org.source("acme", &selected));
    org.connect(&source).await;
    (org, source)
}

async fn assert_store_matches_org(org: &Org, source: &SourceConfig, objects: &[usize]) {
    for i in objects {
        let name = object(*i);
        assert_eq!(
            org.stored_rows("acme", &name, FIELDS),
            org.truth(source, &name, FIELDS).await,
            "{name}"
        );
    }
}

/// The next query of object `i` (alone or inside a composite call) fails with `status`.
fn fail_next_query(org: &Org, i: usize, status: u16) {
    org.sandbox.inject(&FaultSpec {
        object: Some(object(i)),
        object_status: Some(status),
        object_count: 1,
        ..FaultSpec::default()
    });
}

/// Calls of the sandbox's log since `from` that went to `/composite`.
fn composite_calls(org: &Org, from: usize) -> Vec<String> {
    org.sandbox.calls()[from..]
        .iter()
        .filter(|c| c.counted)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_many_objects_share_composite_calls() {
    let (org, source) = connected().await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());

    let first = sync_now(&mut engine, &clock, "acme").await;
    let run = first.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.kind, RunKind::Initial);
    assert_eq!(run.upserted, 3 * 4_500 + 4 * 50);
    // describeGlobal, the seven describes in one composite call, then 13 pages five to a
    // call: three calls.
    let pages = [3, 3, 3, 1, 1, 1, 1];
    assert_eq!(grouped_calls(&pages), 3);
    assert_eq!(run.api_calls, 2 + 3, "{run:?}");
    assert_store_matches_org(&org, &source, &[0, 1, 2, 3, 4, 5, 6]).await;

    // Nothing changed: the seven first pages take two calls, both to /composite.
    let before = org.sandbox.calls().len();
    let idle = sync_now(&mut engine, &clock, "acme").await;
    let run = idle.last_run.clone().unwrap();
    assert_eq!(run.kind, RunKind::Incremental);
    assert_eq!(run.api_calls, 2, "{run:?}");
    let calls = composite_calls(&org, before);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|c| c.ends_with("/composite")), "{calls:?}");

    // A few changes in every object still fit the first pages.
    let changed = org.sandbox.mutate(60);
    assert!(changed.updated > 0, "{changed:?}");
    let busy = sync_now(&mut engine, &clock, "acme").await;
    let run = busy.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.api_calls, 2, "{run:?}");
    assert_store_matches_org(&org, &source, &[0, 1, 2, 3, 4, 5, 6]).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_subrequest_fails_only_its_object() {
    let (org, source) = connected().await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());

    // A transient failure of one object's subrequest is asked again in a later call.
    fail_next_query(&org, 4, 503);
    let first = sync_now(&mut engine, &clock, "acme").await;
    let run = first.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.upserted, 3 * 4_500 + 4 * 50);
    assert_eq!(org.sandbox.counters().faults_injected, 1);
    assert_store_matches_org(&org, &source, &[0, 1, 2, 3, 4, 5, 6]).await;

    // A lasting refusal fails that object (and so the run); the other objects' pages of
    // the same calls are committed.
    let before = |i: usize| org.stored_rows("acme", &object(i), FIELDS);
    let (before_0, before_3) = (before(0), before(3));
    let changed = org.sandbox.mutate(600);
    assert!(changed.updated > 0, "{changed:?}");
    fail_next_query(&org, 3, 400);
    let failed = sync_now(&mut engine, &clock, "acme").await;
    let run = failed.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Failed, "{run:?}");
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("INVALID_FIELD"), "{error}");
    // Objects 0 to 4 shared the call in which object 3 failed.
    assert_ne!(before(0), before_0, "changes of the others arrived");
    assert_store_matches_org(&org, &source, &[0, 1, 2, 4]).await;
    assert_eq!(before(3), before_3, "the failed object wrote nothing");

    let again = sync_now(&mut engine, &clock, "acme").await;
    let run = again.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_store_matches_org(&org, &source, &[0, 1, 2, 3, 4, 5, 6]).await;
    engine.shutdown().await;
}
