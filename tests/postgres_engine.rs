//! The engine, the CLI and `verify` on a PostgreSQL store: a full sync then `verify` exact,
//! schema evolution and deletes, and a connection lost mid-run. Needs a PostgreSQL server
//! (`SYNCDECK_TEST_POSTGRES_URL`); without one each test is left out with a note.

mod common;

use std::time::Duration;

use common::postgres::{into_postgres, stored};
use common::*;
use serde_json::Value;
use syncdeck::config::SourceConfig;
use syncdeck::model::RunOutcome;
use syncdeck::sandbox::FaultSpec;
use syncdeck::store::postgres::testing::TestSchema;
use syncdeck::sync::ManualClock;

const FIELDS: &[&str] = &[
    "Name",
    "Industry",
    "AnnualRevenue",
    "NumberOfEmployees",
    "BillingAddress",
    "IsPartner",
    "LastModifiedDate",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_sync_into_postgres_verifies_exact_and_shows_in_status() {
    let Some(ts) = TestSchema::new("a_cli_sync_into_postgres") else {
        return;
    };
    let org = org(sandbox_config(&[("Account", 4_500)])).await;
    let source = into_postgres(manual(org.source("acme", &[("Account", FIELDS)])), &ts);
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;

    let (code, out, err) = cli(&org, &["store", "check", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("will be created on the first sync"), "{out}");

    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !org.paths.store_file("acme").exists(),
        "a PostgreSQL source writes no SQLite file"
    );
    let truth = org.truth(&source, "Account", FIELDS).await;
    assert_eq!(truth.len(), 4_500);
    assert!(
        stored(&org, &source, FIELDS) == truth,
        "rows differ from the org"
    );

    let (code, out, err) = cli(&org, &["verify", "acme", "--json"]).await;
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["outcome"], "exact");

    let (code, out, err) = cli(&org, &["status", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    let acme = &status[0];
    assert_eq!(acme["records"], 4_500, "{acme}");

    let (code, out, _) = cli(&org, &["store", "check", "acme"]).await;
    assert_eq!(code, 0);
    let version = syncdeck::store::postgres::migrations::latest();
    assert!(out.contains(&format!("store version {version}")), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_and_deselected_fields_and_deletes_follow_the_org() {
    let Some(ts) = TestSchema::new("added_and_deselected_fields") else {
        return;
    };
    let org = org(sandbox_config(&[("Account", 3_000)])).await;
    let mut source = into_postgres(
        manual(org.source("acme", &[("Account", &["Name", "Industry"])])),
        &ts,
    );
    org.connect(&source).await;
    let clock = ManualClock::new(chrono::Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    let snap = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(
        snap.last_run.as_ref().unwrap().outcome,
        RunOutcome::Succeeded
    );
    assert_eq!(snap.records, 3_000);

    // Changes and deletions in the org, and a field added: the next run brings both.
    let changed = org.sandbox.mutate(300);
    assert!(changed.deleted > 0 && changed.updated > 0);
    let with_revenue: &[&str] = &["Name", "Industry", "AnnualRevenue"];
    source.objects.get_mut("Account").unwrap().fields =
        with_revenue.iter().map(|s| s.to_string()).collect();
    reload(&mut engine, &source);
    let snap = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(
        snap.last_run.as_ref().unwrap().outcome,
        RunOutcome::Succeeded,
        "{snap:?}"
    );
    let truth = org.truth(&source, "Account", with_revenue).await;
    assert_eq!(snap.records, truth.len() as u64);
    assert!(
        stored(&org, &source, with_revenue) == truth,
        "rows differ after the added field"
    );

    // Industry deselected: its column stays with its values; the rest keeps following.
    let without_industry: &[&str] = &["Name", "AnnualRevenue"];
    source.objects.get_mut("Account").unwrap().fields =
        without_industry.iter().map(|s| s.to_string()).collect();
    reload(&mut engine, &source);
    org.sandbox.mutate(100);
    let snap = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(
        snap.last_run.as_ref().unwrap().outcome,
        RunOutcome::Succeeded
    );
    let truth = org.truth(&source, "Account", without_industry).await;
    assert!(stored(&org, &source, without_industry) == truth);
    let rows = stored(&org, &source, &["Industry"]);
    assert!(
        rows.iter().any(|r| r["Industry"].is_string()),
        "Industry kept its values"
    );
    drop(engine);
}

fn reload(engine: &mut syncdeck::sync::EngineHandle, source: &SourceConfig) {
    engine
        .commands
        .send(syncdeck::model::Command::Reload(std::sync::Arc::new(
            config_of(vec![source.clone()]),
        )))
        .unwrap();
}

/// The server ends the engine's session while a run loads pages: the run fails with an
/// error saying the connection was lost and what happens next; the next run resumes from
/// the last committed page and ends equal to the org.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_run_fails_clearly_and_the_next_run_resumes() {
    let Some(ts) = TestSchema::new("a_connection_lost_mid_run") else {
        return;
    };
    let org = org(sandbox_config(&[("Account", 20_000)])).await;
    let source = into_postgres(manual(org.source("acme", &[("Account", FIELDS)])), &ts);
    org.connect(&source).await;
    let clock = ManualClock::new(chrono::Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    wait_for(&mut engine.snapshots, "the source to be idle", |s| {
        s.source("acme").is_some_and(|s| s.running.is_none())
    })
    .await;
    // Slow pages so the run is still loading when the session ends.
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(100),
        ..FaultSpec::default()
    });
    clock.advance(chrono::Duration::seconds(1));
    engine
        .commands
        .send(syncdeck::model::Command::SyncNow {
            source: "acme".into(),
            full: false,
        })
        .unwrap();
    wait_for(&mut engine.snapshots, "a committed page", |s| {
        s.source("acme")
            .is_some_and(|s| s.running.is_some() && s.records > 0)
    })
    .await;
    let committed_before = admin_query(
        &ts,
        &format!("SELECT count(*) FROM {}.\"sf_Account\"", ts.schema()),
    )
    .await;
    assert!(committed_before > 0);
    syncdeck::store::postgres::testing::terminate_sessions(&ts.url, ts.schema()).await;
    let snap = wait_for(&mut engine.snapshots, "the run to end", |s| {
        s.source("acme")
            .is_some_and(|s| s.running.is_none() && s.last_run.is_some())
    })
    .await;
    let run = src(&snap, "acme").last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Failed, "{run:?}");
    let error = run.error.unwrap_or_default();
    assert!(
        error.contains("lost the connection to PostgreSQL"),
        "{error}"
    );
    // A network error, not one for the operator: the schedule keeps retrying.
    match &src(&snap, "acme").status {
        syncdeck::model::Status::Error(e) => {
            assert_eq!(e.kind, syncdeck::model::ErrorKind::Network, "{e:?}")
        }
        other => panic!("status {other:?} after a lost connection"),
    }

    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(0),
        ..FaultSpec::default()
    });
    let snap = sync_now(&mut engine, &clock, "acme").await;
    let run = snap.last_run.unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert!(
        run.upserted < 20_000,
        "resumed from the last committed page, not from the start: {run:?}"
    );
    let truth = org.truth(&source, "Account", FIELDS).await;
    assert!(stored(&org, &source, FIELDS) == truth);
    drop(engine);
}

/// One number from the test server (a separate admin session).
async fn admin_query(ts: &TestSchema, sql: &str) -> i64 {
    let (client, conn) = tokio_postgres::connect(&ts.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(conn);
    let n = client.query_one(sql, &[]).await.unwrap().get(0);
    drop(client);
    let _ = tokio::time::timeout(Duration::from_secs(5), driver).await;
    n
}
