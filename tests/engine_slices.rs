//! Parallel REST slices against a sandbox org: a sliced first sync stores exactly what a
//! sequential one stores, never holds more query cursors than allowed, leaves small and
//! quiet reads at their old cost, and SIGKILLed sliced syncs resume to the org's rows.

mod common;

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use common::crash::FIELDS;
use common::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use syncdeck::config::SourceConfig;
use syncdeck::model::{RunKind, RunOutcome};
use syncdeck::sandbox::FaultSpec;
use syncdeck::store::Store;
use syncdeck::sync::ManualClock;

/// Enough rows after the first page to be sliced (`MIN_SLICED_ROWS` is 20 000).
const RECORDS: u64 = 40_000;
/// A small bound, so the test sees it reached and not passed.
const CURSORS: u8 = 4;

fn with_cursors(mut source: SourceConfig, n: u8) -> SourceConfig {
    source.query_cursors = n;
    source
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sliced_sync_stores_what_a_sequential_one_does_within_the_cursor_bound() {
    let org = org(sandbox_config(&[("Account", RECORDS)])).await;
    let sequential = with_cursors(manual(org.source("plain", &[("Account", FIELDS)])), 1);
    let sliced = with_cursors(
        manual(org.source("sliced", &[("Account", FIELDS)])),
        CURSORS,
    );
    org.connect(&sequential).await;
    org.connect(&sliced).await;
    // Pages take a little while, so slices really overlap.
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(20),
        ..FaultSpec::default()
    });
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(
        &org,
        vec![sequential.clone(), sliced.clone()],
        clock.clone(),
    );

    let plain = sync_now(&mut engine, &clock, "plain").await;
    let plain_run = plain.last_run.clone().unwrap();
    assert_eq!(plain_run.outcome, RunOutcome::Succeeded, "{plain_run:?}");
    assert_eq!(plain_run.upserted, RECORDS);
    assert_eq!(org.sandbox.counters().open_query_cursors_peak, 1);

    let run = sync_now(&mut engine, &clock, "sliced").await;
    let sliced_run = run.last_run.clone().unwrap();
    assert_eq!(sliced_run.outcome, RunOutcome::Succeeded, "{sliced_run:?}");
    assert_eq!(sliced_run.kind, RunKind::Initial);
    assert_eq!(sliced_run.upserted, RECORDS, "a row was counted twice");
    let peak = org.sandbox.counters().open_query_cursors_peak;
    assert!(
        (3..=u64::from(CURSORS)).contains(&peak),
        "{peak} cursors open at once; the bound is {CURSORS} and slices should use it"
    );

    let plain_rows = org.stored_rows("plain", "Account", FIELDS);
    assert_eq!(plain_rows.len() as u64, RECORDS);
    assert!(
        org.stored_rows("sliced", "Account", FIELDS) == plain_rows,
        "the sliced store differs from the sequential one"
    );
    assert!(plain_rows == org.truth(&sliced, "Account", FIELDS).await);
    let store = Store::open(&org.paths.store_file("sliced")).unwrap();
    assert!(store.slice_cursors("Account").unwrap().is_empty());
    let cursor = store.cursor("Account").unwrap().unwrap();
    assert!(cursor.full_sync_done, "{cursor:?}");

    // Nothing changed: one call per object, sliced or not.
    let quiet = sync_now(&mut engine, &clock, "sliced").await;
    let quiet_run = quiet.last_run.clone().unwrap();
    assert_eq!(quiet_run.kind, RunKind::Incremental);
    assert_eq!(quiet_run.api_calls, 1, "{quiet_run:?}");

    // A few changes after the sliced sync arrive with the next run.
    let changed = org.sandbox.mutate(40);
    assert!(changed.updated + changed.deleted > 0);
    let after = sync_now(&mut engine, &clock, "sliced").await;
    let after_run = after.last_run.clone().unwrap();
    assert_eq!(after_run.outcome, RunOutcome::Succeeded, "{after_run:?}");
    assert_eq!(after_run.api_calls, 1, "{after_run:?}");
    assert!(
        org.stored_rows("sliced", "Account", FIELDS) == org.truth(&sliced, "Account", FIELDS).await
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_object_costs_what_it_did() {
    let org = org(sandbox_config(&[("Account", 5_000), ("Contact", 300)])).await;
    let selected: &[(&str, &[&str])] = &[("Account", FIELDS), ("Contact", CONTACT_FIELDS)];
    let plain = with_cursors(manual(org.source("plain", selected)), 1);
    let sliced = manual(org.source("sliced", selected));
    org.connect(&plain).await;
    org.connect(&sliced).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![plain, sliced], clock.clone());
    for _ in 0..2 {
        let a = sync_now(&mut engine, &clock, "plain")
            .await
            .last_run
            .unwrap();
        let b = sync_now(&mut engine, &clock, "sliced")
            .await
            .last_run
            .unwrap();
        assert_eq!(a.outcome, RunOutcome::Succeeded, "{a:?}");
        assert_eq!(
            (a.api_calls, a.upserted),
            (b.api_calls, b.upserted),
            "{a:?} {b:?}"
        );
    }
    assert_eq!(org.sandbox.counters().open_query_cursors_peak, 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_read_in_composite_calls_is_sliced_too() {
    let org = org(sandbox_config(&[("Account", RECORDS), ("Contact", 300)])).await;
    let selected: &[(&str, &[&str])] = &[("Account", FIELDS), ("Contact", CONTACT_FIELDS)];
    let source = with_cursors(manual(org.source("acme", selected)), CURSORS);
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    let run = sync_now(&mut engine, &clock, "acme")
        .await
        .last_run
        .unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.upserted, RECORDS + 300, "{run:?}");
    let peak = org.sandbox.counters().open_query_cursors_peak;
    assert!(
        (3..=u64::from(CURSORS)).contains(&peak),
        "{peak} cursors open at once"
    );
    assert!(
        org.stored_rows("acme", "Account", FIELDS) == org.truth(&source, "Account", FIELDS).await
    );
    assert!(
        org.stored_rows("acme", "Contact", CONTACT_FIELDS)
            == org.truth(&source, "Contact", CONTACT_FIELDS).await
    );
    engine.shutdown().await;
}

/// `syncdeck sync acme` killed at seeded random points, at least `kills` times and at least
/// once while slices were pending; records how many kills left slices pending.
async fn kill_sliced_runs(org: &Org, kills: usize) -> (Vec<u64>, usize) {
    let seed = std::env::var("SYNCDECK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("kill points from SYNCDECK_CRASH_SEED={seed}");
    let mut points = StdRng::seed_from_u64(seed);
    let (mut delays, mut mid_slices, mut attempts) = (Vec::new(), 0, 0);
    let mut full = false;
    // Random points on a loaded machine can all miss the slices; keep going (bounded by
    // the attempts) until at least one kill has hit them.
    while delays.len() < kills || mid_slices == 0 {
        attempts += 1;
        assert!(
            attempts < 60,
            "could not land {kills} kills mid-run: {delays:?}"
        );
        let mut cmd = syncdeck(org);
        cmd.args(["sync", "acme"]);
        if full {
            cmd.arg("--full");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = points.random_range(300..2_500u64);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            delays.push(delay);
            let store = Store::open(&org.paths.store_file("acme")).unwrap();
            if !store
                .slice_cursors("Account")
                .unwrap_or_default()
                .is_empty()
            {
                mid_slices += 1;
            }
            full = false;
        } else {
            let status = tokio::task::spawn_blocking(move || child.wait())
                .await
                .unwrap()
                .unwrap();
            assert!(
                status.success(),
                "a run that was not killed failed: {status:?}"
            );
            // Read everything again so the next kill has a sliced read to hit.
            full = true;
        }
    }
    (delays, mid_slices)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_sliced_syncs_resume_and_end_equal_to_the_org() {
    let org = org(sandbox_config(&[("Account", 60_000)])).await;
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(40),
        ..FaultSpec::default()
    });
    let (delays, mid_slices) = kill_sliced_runs(&org, 6).await;
    assert!(
        mid_slices >= 1,
        "no kill landed while slices were pending: {delays:?}"
    );
    // Changes between kills must not be lost either.
    let changed = org.sandbox.mutate(50);
    assert!(changed.updated + changed.deleted > 0);
    common::crash::finish(&org).await;
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(0),
        ..FaultSpec::default()
    });
    let store = Store::open(&org.paths.store_file("acme")).unwrap();
    assert!(store.slice_cursors("Account").unwrap().is_empty());
    let truth = org.truth(&source, "Account", FIELDS).await;
    let stored = org.stored_rows("acme", "Account", FIELDS);
    assert_eq!(stored.len(), truth.len(), "kills at {delays:?} ms");
    assert!(
        stored == truth,
        "store differs from the org after kills at {delays:?} ms ({mid_slices} mid-slices)"
    );
}
