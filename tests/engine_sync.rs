//! The engine against a sandbox org on 127.0.0.1: first sync, incremental cost, deletes,
//! backfill after fields are added, and the formula policy.

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::*;
use syncdeck::config::{Config, FormulaPolicy, Frequency, ObjectSelection, SourceConfig};
use syncdeck::model::{Command, RunKind, RunOutcome, SourceSnapshot, Status};
use syncdeck::sync::EngineHandle;
use syncdeck::sync::ManualClock;

/// A manual "acme" source selecting Accounts and Contacts, connected, with its engine.
async fn accounts_and_contacts(
    accounts: u64,
    contacts: u64,
) -> (Org, SourceConfig, Arc<ManualClock>, EngineHandle) {
    let org = org(sandbox_config(&[
        ("Account", accounts),
        ("Contact", contacts),
    ]))
    .await;
    let source = manual(org.source(
        "acme",
        &[("Account", ACCOUNT_FIELDS), ("Contact", CONTACT_FIELDS)],
    ));
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let engine = start(&org, vec![source.clone()], clock.clone());
    (org, source, clock, engine)
}

async fn assert_store_matches_org(org: &Org, source: &SourceConfig) {
    for (object, fields) in [("Account", ACCOUNT_FIELDS), ("Contact", CONTACT_FIELDS)] {
        assert_eq!(
            org.stored_rows("acme", object, fields),
            org.truth(source, object, fields).await,
            "{object}"
        );
    }
}

/// Swap the engine's configuration for one holding only `source`.
fn reload(engine: &EngineHandle, source: SourceConfig) {
    engine
        .commands
        .send(Command::Reload(Arc::new(Config {
            sources: vec![source],
            ..Config::default()
        })))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_then_incremental_runs_cost_one_call_per_five_objects() {
    let (org, source, clock, mut engine) = accounts_and_contacts(2_500, 700).await;

    let snap = wait_for(&mut engine.snapshots, "the source to appear", |s| {
        s.source("acme").is_some()
    })
    .await;
    assert_eq!(
        src(&snap, "acme").status,
        Status::SettingUp,
        "connected, never synced"
    );

    let first = sync_now(&mut engine, &clock, "acme").await;
    let run = first.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.kind, RunKind::Initial);
    assert_eq!(run.upserted, 3_200);
    assert_eq!(first.status, Status::Active);
    assert_eq!(first.records, 3_200);
    // describeGlobal + one composite call of both describes + the first pages of Account
    // and Contact in one composite call + Account's second page; authorization just
    // checked the permissions, so the daily re-check is not due yet.
    assert_eq!(run.api_calls, 4, "{run:?}");
    assert_store_matches_org(&org, &source).await;

    let second = sync_now(&mut engine, &clock, "acme").await;
    let run = second.last_run.clone().unwrap();
    assert_eq!(run.kind, RunKind::Incremental);
    assert_eq!(
        run.api_calls, 1,
        "both objects' queries in one composite call: {run:?}"
    );
    assert!(
        second
            .projections
            .iter()
            .any(|p| p.frequency == Frequency::M15 && p.calls_per_day >= 96)
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_deletes_reach_the_store() {
    let (org, source, clock, mut engine) = accounts_and_contacts(3_000, 1_000).await;
    sync_now(&mut engine, &clock, "acme").await;

    let changed = org.sandbox.mutate(300);
    assert!(changed.deleted > 0 && changed.updated > 0, "{changed:?}");
    let after = sync_now(&mut engine, &clock, "acme").await;
    let run = after.last_run.unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded);
    assert!(run.deleted > 0, "{run:?}");
    assert_store_matches_org(&org, &source).await;
    assert_eq!(
        after.records,
        org.sandbox.record_count("Account").unwrap() + org.sandbox.record_count("Contact").unwrap()
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_fields_are_backfilled_and_removed_ones_are_not() {
    let org = org(sandbox_config(&[("Account", 2_200)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name", "Industry"])]));
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    sync_now(&mut engine, &clock, "acme").await;

    // Remove a field: no backfill, one call.
    let mut fewer = source.clone();
    fewer.objects.insert(
        "Account".into(),
        ObjectSelection {
            fields: vec!["Name".into()],
        },
    );
    reload(&engine, fewer);
    let run = sync_now(&mut engine, &clock, "acme")
        .await
        .last_run
        .unwrap();
    assert_eq!(
        (run.kind, run.api_calls),
        (RunKind::Incremental, 1),
        "{run:?}"
    );

    // Add two: the object is read again from the start with the new columns.
    let mut more = source.clone();
    more.objects.insert(
        "Account".into(),
        ObjectSelection {
            fields: vec!["Name".into(), "Phone".into(), "AnnualRevenue".into()],
        },
    );
    reload(&engine, more);
    let after = sync_now(&mut engine, &clock, "acme").await;
    let run = after.last_run.clone().unwrap();
    assert_eq!(run.kind, RunKind::Initial, "{run:?}");
    assert_eq!(run.upserted, 2_200);
    assert!(
        after
            .events
            .iter()
            .any(|e| e.message.contains("backfilling added fields")),
        "{:?}",
        after.events
    );
    assert_eq!(after.status, Status::Active);
    let fields = ["Name", "Phone", "AnnualRevenue"];
    assert_eq!(
        org.stored_rows("acme", "Account", &fields),
        org.truth(&source, "Account", &fields).await
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formula_columns_follow_the_policy() {
    let org = org(sandbox_config(&[("Account", 500)])).await;
    let fields: &[&str] = &["Name", "AnnualRevenue", "Revenue_Per_Employee__c"];
    let mut every = manual(org.source("every", &[("Account", fields)]));
    every.formula_policy = FormulaPolicy::EveryRun;
    let mut never = manual(org.source("never", &[("Account", fields)]));
    never.formula_policy = FormulaPolicy::Incremental;
    let mut daily = manual(org.source("daily", &[("Account", fields)]));
    daily.formula_policy = FormulaPolicy::DailyReread;
    for s in [&every, &never, &daily] {
        org.connect(s).await;
    }
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(
        &org,
        vec![every.clone(), never.clone(), daily.clone()],
        clock.clone(),
    );
    for id in ["every", "never", "daily"] {
        sync_now(&mut engine, &clock, id).await;
    }
    let calls = |s: SourceSnapshot| s.last_run.unwrap().api_calls;
    assert_eq!(
        calls(sync_now(&mut engine, &clock, "every").await),
        2,
        "query + formula re-read"
    );
    assert_eq!(calls(sync_now(&mut engine, &clock, "never").await), 1);
    assert_eq!(
        calls(sync_now(&mut engine, &clock, "daily").await),
        1,
        "re-read already today"
    );

    // A day later: describes and permissions are refreshed, and formulas re-read.
    clock.advance(chrono::Duration::hours(25));
    let run = sync_now(&mut engine, &clock, "daily")
        .await
        .last_run
        .unwrap();
    // describeGlobal + describe + permission check + query + formula re-read + the
    // daily delete-log read.
    assert_eq!(run.api_calls, 6, "{run:?}");
    let run = sync_now(&mut engine, &clock, "never")
        .await
        .last_run
        .unwrap();
    assert_eq!(run.api_calls, 5, "{run:?}");
    // Partial formula rows never blank the other columns.
    assert_eq!(
        org.stored_rows("daily", "Account", fields),
        org.truth(&daily, "Account", fields).await
    );
    engine.shutdown().await;
}
