//! Deletes queryAll cannot see (the delete log, and the Id reconcile when the log cannot
//! cover the gap), `syncdeck verify` with and without `--repair`, the quota guard during
//! a verification, and the daemon's scheduled verification.

mod common;

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use common::*;
use serde_json::Value;
use syncdeck::config::{SourceConfig, VerifySchedule};
use syncdeck::model::RunOutcome;
use syncdeck::store::Store;
use syncdeck::sync::ManualClock;

const FIELDS: &[&str] = &["Name", "Industry", "BillingAddress"];

async fn verify_json(org: &Org, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["verify", "acme", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = cli(org, &all).await;
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, json)
}

/// A connected "acme" source syncing Accounts, written to the config file.
async fn acme(org: &Org) -> SourceConfig {
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    source
}

fn deleted_calls(org: &Org) -> Vec<u16> {
    org.sandbox
        .calls()
        .into_iter()
        .filter(|c| c.path.contains("/sobjects/Account/deleted"))
        .map(|c| c.status)
        .collect()
}

/// Removes rows from the store behind the engine's back (a bad restore, a manual edit).
fn remove_from_store(org: &Org, n: usize) -> Vec<String> {
    let mut store = Store::open(&org.paths.store_file("acme")).unwrap();
    let ids: Vec<String> = store
        .ids_after("Account", None, 5_000)
        .unwrap()
        .into_iter()
        .step_by(97)
        .take(n)
        .collect();
    assert_eq!(
        store.apply_deletions("Account", &ids, None).unwrap(),
        n as u64
    );
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_exact_then_differences_and_repair_restores_the_org() {
    let org = org(sandbox_config(&[("Account", 4_500)])).await;
    let source = acme(&org).await;
    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");

    // Exact: one COUNT() and three Id pages (4 500 rows at 2 000 per page).
    let (code, json) = verify_json(&org, &[]).await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["outcome"], "exact");
    assert_eq!(json["api_calls"], 4, "{json}");
    let account = &json["objects"][0];
    assert_eq!(
        (account["org_rows"].as_u64(), account["store_rows"].as_u64()),
        (Some(4_500), Some(4_500))
    );

    // Hard deletes: queryAll cannot see them, verify can.
    assert_eq!(org.sandbox.hard_delete("Account", 5), Some(5));
    // Rows removed from the store behind its back.
    let removed = remove_from_store(&org, 7);
    let (code, json) = verify_json(&org, &[]).await;
    assert_eq!(code, 4, "differences exit 4: {json}");
    assert_eq!(json["outcome"], "differs");
    let account = &json["objects"][0];
    assert_eq!(account["org_rows"], 4_495);
    assert_eq!(account["extra_in_store"].as_u64(), Some(5));
    assert!(
        account["missing_from_store"].as_u64().unwrap() >= 6,
        "{account}"
    );
    let missing: Vec<&str> = account["missing_sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        missing.iter().all(|id| removed.contains(&id.to_string())),
        "{missing:?}"
    );
    let missing_count = account["missing_from_store"].as_u64().unwrap();
    assert_eq!(json["rows_differing"].as_u64(), Some(5 + missing_count));

    // The human report names the fix.
    let (code, out, _) = cli(&org, &["verify", "acme"]).await;
    assert_eq!(code, 4);
    assert!(
        out.contains("rows differ · run syncdeck verify acme --repair"),
        "{out}"
    );
    assert!(out.contains("API calls"), "{out}");

    // Repair, then the second pass proves the store equals the org, row by row.
    let (code, json) = verify_json(&org, &["--repair"]).await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["objects"][0]["repaired_deleted"], 5);
    assert_eq!(
        json["objects"][0]["repaired_fetched"].as_u64(),
        Some(missing_count)
    );
    assert_eq!(
        org.stored_rows("acme", "Account", FIELDS),
        org.truth(&source, "Account", FIELDS).await
    );
    let (code, json) = verify_json(&org, &[]).await;
    assert_eq!((code, json["outcome"].as_str()), (0, Some("exact")));

    // `status` shows the last verification.
    let (_, out, _) = cli(&org, &["status"]).await;
    assert!(out.contains("verified exact"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reads_the_delete_log_typed_and_classifies_its_errors() {
    use syncdeck::config::Credentials;
    use syncdeck::salesforce::{ErrorClass, NoHooks};
    let org = org(sandbox_config(&[("Account", 200)])).await;
    let source = acme(&org).await;
    let creds = Credentials::load(&org.paths, "acme").unwrap().unwrap();
    let client =
        syncdeck::sync::client_for(&org.http, &source, &creds, std::sync::Arc::new(NoHooks));
    let from = Utc::now() - chrono::Duration::minutes(3);
    org.sandbox.hard_delete("Account", 3);
    org.sandbox.advance_clock(Duration::from_secs(120));
    let to = Utc::now() + chrono::Duration::minutes(5);
    let log = client.deleted("Account", from, to).await.unwrap();
    assert_eq!(log.deleted_records.len(), 3);
    assert!(log.earliest_date_available < from);
    assert!(log.latest_date_covered > from && log.latest_date_covered <= to);
    let updated = client.updated("Account", from, to).await.unwrap();
    assert!(
        updated.ids.is_empty(),
        "hard-deleted rows are not updated ones"
    );
    let err = client.deleted("Account", to, to).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::ReplicationRange, "{err}");
    assert!(err.to_string().contains("verify --repair"), "{err}");
    assert_eq!(client.calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_unfilled_fields_and_unknown_objects() {
    let org = org(sandbox_config(&[("Account", 300)])).await;
    let mut source = acme(&org).await;
    let (code, _, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{err}");
    // A field selected after the last sync has no column yet.
    source
        .objects
        .get_mut("Account")
        .unwrap()
        .fields
        .push("Phone".into());
    org.write_config(&config_of(vec![source.clone()]));
    let (code, json) = verify_json(&org, &[]).await;
    assert_eq!(code, 4, "{json}");
    assert_eq!(json["objects"][0]["fields_without_column"][0], "Phone");
    assert_eq!(json["rows_differing"], 0);
    let (code, _, err) = cli(&org, &["verify", "acme", "--object", "Lead"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("not selected"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_stops_at_the_quota_threshold() {
    let org = org(sandbox_config(&[("Account", 9_000)])).await;
    acme(&org).await;
    let (code, _, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{err}");
    // 2 calls left before 80 % of 1 000: the COUNT() and one Id page.
    org.sandbox.set_quota(Some(798), Some(1_000));
    let (code, json) = verify_json(&org, &["--repair"]).await;
    assert_eq!(code, 3, "interrupted like a run: {json}");
    assert!(
        json["error"].as_str().unwrap().contains("quota")
            || json["error"].as_str().unwrap().contains("threshold"),
        "{json}"
    );
    assert!(org.sandbox.usage().used <= 800, "{:?}", org.sandbox.usage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_deletes_reach_the_store_through_the_delete_log() {
    let org = org(sandbox_config(&[("Account", 2_500)])).await;
    let source = acme(&org).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    sync_now(&mut engine, &clock, "acme").await;
    assert!(
        deleted_calls(&org).is_empty(),
        "the first run only starts the log"
    );

    assert_eq!(org.sandbox.hard_delete("Account", 6), Some(6));
    // Same day: not due, and queryAll cannot see hard deletes.
    let run = sync_now(&mut engine, &clock, "acme")
        .await
        .last_run
        .unwrap();
    assert_eq!(run.deleted, 0, "{run:?}");
    assert_eq!(org.stored_ids("acme", "Account").len(), 2_500);

    // A day later (on both clocks) the log is read: one call, six deletions.
    let day = Duration::from_secs(24 * 3600 + 120);
    org.sandbox.advance_clock(day);
    clock.advance(chrono::Duration::from_std(day).unwrap());
    let run = sync_now(&mut engine, &clock, "acme")
        .await
        .last_run
        .unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.deleted, 6, "{run:?}");
    assert_eq!(deleted_calls(&org), [200]);
    assert_eq!(
        org.stored_rows("acme", "Account", FIELDS),
        org.truth(&source, "Account", FIELDS).await
    );
    // Not again the same day.
    sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(deleted_calls(&org).len(), 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_delete_log_falls_back_to_an_id_reconcile() {
    let org = org(sandbox_config(&[("Account", 2_500)])).await;
    let source = acme(&org).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    sync_now(&mut engine, &clock, "acme").await;

    // Deleted, then the log purged: Salesforce answers INVALID_REPLICATION_DATE.
    org.sandbox.hard_delete("Account", 4);
    // A purge in a later minute than the last check (within it, see the next test).
    org.sandbox.advance_clock(Duration::from_secs(120));
    org.sandbox.purge_delete_log();
    let day = Duration::from_secs(24 * 3600 + 120);
    org.sandbox.advance_clock(day);
    clock.advance(chrono::Duration::from_std(day).unwrap());
    let run = sync_now(&mut engine, &clock, "acme")
        .await
        .last_run
        .unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.deleted, 4, "{run:?}");
    assert_eq!(deleted_calls(&org), [400]);
    assert_eq!(org.stored_ids("acme", "Account").len(), 2_496);

    // Longer than the log ever covers: no call at all, straight to the reconcile.
    org.sandbox.hard_delete("Account", 3);
    let weeks = Duration::from_secs(16 * 24 * 3600);
    org.sandbox.advance_clock(weeks);
    clock.advance(chrono::Duration::from_std(weeks).unwrap());
    let run = sync_now(&mut engine, &clock, "acme")
        .await
        .last_run
        .unwrap();
    assert_eq!(run.deleted, 3, "{run:?}");
    assert_eq!(deleted_calls(&org).len(), 1, "no new delete-log call");
    assert_eq!(
        org.stored_rows("acme", "Account", FIELDS),
        org.truth(&source, "Account", FIELDS).await
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_in_the_minute_of_the_last_check_still_reconciles() {
    let org = org(sandbox_config(&[("Account", 1_500)])).await;
    let source = acme(&org).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    sync_now(&mut engine, &clock, "acme").await;
    // Salesforce keeps minutes only: this purge may be stamped with the check's minute,
    // so the log is accepted yet cannot prove nothing was lost.
    org.sandbox.hard_delete("Account", 2);
    org.sandbox.purge_delete_log();
    let day = Duration::from_secs(24 * 3600 + 120);
    org.sandbox.advance_clock(day);
    clock.advance(chrono::Duration::from_std(day).unwrap());
    let run = sync_now(&mut engine, &clock, "acme")
        .await
        .last_run
        .unwrap();
    assert_eq!(run.deleted, 2, "{run:?}");
    assert_eq!(deleted_calls(&org).len(), 1);
    assert_eq!(org.stored_ids("acme", "Account").len(), 1_498);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_verifies_on_schedule_and_notifies_a_difference_once() {
    let org = org(sandbox_config(&[("Account", 2_500)])).await;
    let mut source = acme(&org).await;
    source.verify = VerifySchedule::Daily;
    let (url, bodies) = webhook_receiver().await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start_notifying(
        &org,
        vec![source.clone()],
        clock.clone(),
        webhook_notifier(&url),
    );
    let first = sync_now(&mut engine, &clock, "acme").await;
    assert!(first.verify.is_none(), "not due right after the first sync");

    clock.advance(chrono::Duration::hours(25));
    let snap = sync_now(&mut engine, &clock, "acme").await;
    let v = snap.verify.clone().expect("verified after a day");
    assert_eq!(
        (v.outcome.as_str(), v.rows_differing),
        ("exact", 0),
        "{v:?}"
    );
    assert_eq!(v.line("3h ago"), "verified exact 3h ago");

    remove_from_store(&org, 12);
    clock.advance(chrono::Duration::hours(25));
    let snap = sync_now(&mut engine, &clock, "acme").await;
    let v = snap.verify.clone().unwrap();
    assert_eq!(v.rows_differing, 12, "{v:?}");
    assert_eq!(
        v.line("now"),
        "12 rows differ · run syncdeck verify --repair"
    );
    patiently("the webhook", async {
        while bodies.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let sent = bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["status"], "Differs");
    assert!(
        sent[0]["message"]
            .as_str()
            .unwrap()
            .contains("12 rows differ")
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_refuses_while_a_daemon_owns_the_data_dir() {
    let org = org(sandbox_config(&[("Account", 100)])).await;
    acme(&org).await;
    let mut daemon = syncdeck(&org)
        .arg("daemon")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = org.paths.socket_file();
    patiently("the daemon's socket", async {
        while !socket.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let (code, _, err) = cli(&org, &["verify", "acme"]).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("owns this data dir") && err.contains("verify = \"weekly\""),
        "{err}"
    );
}

/// A Bulk job done the moment it exists, so its polls are deterministic (one).
fn instant_bulk(records: &[(&str, u64)]) -> syncdeck::sandbox::SandboxConfig {
    syncdeck::sandbox::SandboxConfig {
        bulk: syncdeck::sandbox::BulkModel {
            queue_delay: Duration::ZERO,
            rows_per_sec: u64::MAX,
        },
        ..sandbox_config(records)
    }
}

/// `verify --json ARGS` under `bulk_threshold`, with the calls the sandbox counted
/// meanwhile (`METHOD path`).
async fn verify_under(
    org: &Org,
    source: &SourceConfig,
    threshold: u64,
    args: &[&str],
) -> (i32, Value, Vec<String>) {
    let mut source = source.clone();
    source.bulk_threshold = threshold;
    org.write_config(&config_of(vec![source]));
    let before = org.sandbox.calls().len();
    let (code, json) = verify_json(org, args).await;
    let counted = org.sandbox.calls()[before..]
        .iter()
        .filter(|c| c.counted)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    (code, json, counted)
}

/// What a verification found, without how it read the Ids.
fn findings(json: &Value) -> Value {
    let mut o = json["objects"][0].clone();
    o.as_object_mut().unwrap().remove("id_scan");
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_through_bulk_finds_what_rest_finds() {
    let org = org(instant_bulk(&[("Account", 9_000)])).await;
    let source = acme(&org).await;
    let (code, _, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{err}");
    // Extra rows (hard deletes in the org), missing rows (removed from the store) and
    // changed rows (updates and soft deletes in the org since the sync).
    assert_eq!(org.sandbox.hard_delete("Account", 5), Some(5));
    let changed = org.sandbox.mutate(40);
    assert!(changed.updated > 0 && changed.deleted > 0, "{changed:?}");
    remove_from_store(&org, 7);

    let jobs = org.sandbox.counters().bulk_jobs;
    let (rest_code, rest, rest_calls) = verify_under(&org, &source, 0, &[]).await;
    assert_eq!(rest_code, 4, "{rest}");
    assert_eq!(rest["objects"][0]["id_scan"]["via"], "Rest", "{rest}");
    assert_eq!(org.sandbox.counters().bulk_jobs, jobs);

    let sets = org.sandbox.counters().bulk_result_sets;
    let (bulk_code, bulk, bulk_calls) = verify_under(&org, &source, 1_000, &[]).await;
    assert_eq!(bulk_code, 4, "{bulk}");
    let scan = &bulk["objects"][0]["id_scan"];
    assert_eq!(scan["via"], "Bulk", "{bulk}");
    assert!(
        scan["reason"]
            .as_str()
            .unwrap()
            .ends_with("records, over bulk_threshold 1000"),
        "{scan}"
    );
    assert_eq!(findings(&bulk), findings(&rest));
    let extra = bulk["objects"][0]["extra_in_store"].as_u64().unwrap();
    assert!(extra >= 5, "hard and soft deletes: {bulk}");
    assert_eq!(bulk["objects"][0]["missing_from_store"], 7, "{bulk}");
    // One job, one result set; the calls it counted are the sandbox's: the COUNT(), the
    // job's creation, its one poll and its one set, against 1 + 5 REST pages.
    assert_eq!(org.sandbox.counters().bulk_jobs, jobs + 1);
    assert_eq!(org.sandbox.counters().bulk_result_sets, sets + 1);
    assert_eq!(bulk["api_calls"], bulk_calls.len() as u64, "{bulk_calls:?}");
    assert_eq!(bulk_calls.len(), 4, "{bulk_calls:?}");
    assert_eq!(
        bulk_calls
            .iter()
            .filter(|c| c.contains("/jobs/query"))
            .count(),
        3,
        "{bulk_calls:?}"
    );
    assert_eq!(rest["api_calls"], rest_calls.len() as u64);
    assert_eq!(rest_calls.len(), 6, "{rest_calls:?}");

    // The human report says how the Ids were read.
    let (_, out, _) = cli(&org, &["verify", "acme"]).await;
    assert!(
        out.contains("  Ids compared through Bulk API (") && out.contains("over bulk_threshold"),
        "{out}"
    );

    // A failed job leaves a note and the Ids are read through REST, finding the same.
    org.sandbox.bulk(&syncdeck::sandbox::BulkSpec {
        fail_jobs: 1,
        fail_message: Some("too many retries (sandbox)".into()),
        ..Default::default()
    });
    let (code, fell_back, _) = verify_under(&org, &source, 1_000, &[]).await;
    assert_eq!(code, 4, "{fell_back}");
    let scan = &fell_back["objects"][0]["id_scan"];
    assert_eq!(scan["via"], "Rest", "{fell_back}");
    let note = scan["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.contains("too many retries (sandbox)")
            && note.ends_with("comparing Ids through REST instead"),
        "{fell_back}"
    );
    assert_eq!(findings(&fell_back), findings(&rest));

    // Repair through Bulk (a job per pass), then the store is the org's, row by row.
    let jobs = org.sandbox.counters().bulk_jobs;
    let (code, repaired, _) = verify_under(&org, &source, 1_000, &["--repair"]).await;
    assert_eq!(code, 0, "{repaired}");
    assert_eq!(
        repaired["objects"][0]["repaired_deleted"].as_u64(),
        Some(extra)
    );
    assert_eq!(repaired["objects"][0]["repaired_fetched"], 7);
    assert_eq!(org.sandbox.counters().bulk_jobs, jobs + 2);
    // Ids only: verify compares Ids, so changed rows wait for the next sync.
    let mut ids = org.stored_ids("acme", "Account");
    ids.sort();
    let mut truth: Vec<String> = org
        .truth(&source, "Account", FIELDS)
        .await
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    truth.sort();
    assert_eq!(ids, truth);
}
