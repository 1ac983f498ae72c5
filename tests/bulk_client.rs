//! The Bulk API 2.0 client against the sandbox org: the same object read through REST and
//! through Bulk decodes to identical records for every field type the sandbox generates;
//! a results download cut mid-body is read again from where it stopped; calls go through
//! the hooks and are counted like REST calls.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use serde_json::{Map, Value};
use syncdeck::model::FieldValue;
use syncdeck::salesforce::bulk::{BulkPosition, BulkShape, JobState, PollPolicy};
use syncdeck::salesforce::soql::Select;
use syncdeck::salesforce::types::Describe;
use syncdeck::salesforce::{CallHooks, Client, Described, LimitInfo, QueryOptions, Veto};
use syncdeck::sandbox::{BulkModel, BulkSpec, SandboxConfig};
use syncdeck::sync::client_for;

const ROWS: u64 = 6_000;
const SYSTEM: [&str; 3] = ["Id", "SystemModstamp", "IsDeleted"];

#[derive(Default)]
struct Counting {
    before: AtomicU64,
    after: AtomicU64,
    /// Calls still allowed (`None`: all), like the quota guard's veto.
    allow: std::sync::Mutex<Option<u64>>,
}

impl CallHooks for Counting {
    fn before_call(&self, calls: u32) -> Result<(), Veto> {
        let mut allow = self.allow.lock().unwrap();
        if let Some(left) = allow.as_mut() {
            if *left < u64::from(calls) {
                return Err(Veto {
                    reason: "quota guard: threshold reached".into(),
                });
            }
            *left -= u64::from(calls);
        }
        self.before.fetch_add(u64::from(calls), Ordering::SeqCst);
        Ok(())
    }
    fn after_call(&self, _usage: Option<LimitInfo>) {
        self.after.fetch_add(1, Ordering::SeqCst);
    }
}

fn instant() -> BulkModel {
    BulkModel {
        queue_delay: Duration::ZERO,
        rows_per_sec: u64::MAX,
    }
}

fn fast_polls() -> PollPolicy {
    PollPolicy {
        first: Duration::from_millis(20),
        max_interval: Duration::from_millis(200),
        give_up_after: Duration::from_secs(120),
    }
}

async fn setup(object: &str) -> (Org, Client, Arc<Counting>, Describe) {
    let org = org(SandboxConfig {
        bulk: instant(),
        ..sandbox_config(&[(object, ROWS)])
    })
    .await;
    // Updates and deletions, so both reads carry changed and `IsDeleted` rows.
    org.sandbox.mutate(400);
    let source = org.source("acme", &[(object, &["Name"])]);
    let creds = org.connect(&source).await;
    let hooks = Arc::new(Counting::default());
    let client = client_for(&org.http, &source, &creds, hooks.clone());
    client.negotiate_api_version(None).await.unwrap();
    let describe = match client.describe(object, None).await.unwrap() {
        Described::Fresh { describe, .. } => *describe,
        Described::NotModified => unreachable!(),
    };
    (org, client, hooks, describe)
}

/// Every field of the object that Bulk can read (the others go to REST in a sync).
fn bulk_fields(describe: &Describe) -> Vec<String> {
    describe
        .fields
        .iter()
        .map(|f| f.name.clone())
        .filter(|f| !SYSTEM.contains(&f.as_str()))
        .filter(|f| BulkShape::new(describe, std::slice::from_ref(f)).is_ok())
        .collect()
}

type ById = BTreeMap<String, Map<String, Value>>;

fn by_id(maps: impl IntoIterator<Item = Map<String, Value>>) -> ById {
    maps.into_iter()
        .map(|m| (m["Id"].as_str().unwrap().to_string(), m))
        .collect()
}

async fn rest_rows(client: &Client, object: &str, fields: &[String]) -> ById {
    let select = Select::incremental(object, fields, None);
    let mut pages = client.select_pages(
        &select,
        QueryOptions {
            include_deleted: true,
            batch_size: Some(2000),
        },
    );
    let mut rows = ById::new();
    while let Some(page) = pages.next().await {
        rows.extend(by_id(page.unwrap().records.to_maps()));
    }
    rows
}

async fn bulk_rows(client: &Client, shape: Arc<BulkShape>, max_records: u64) -> ById {
    let soql = shape.select(None).build().unwrap();
    let job = client.bulk_create(&soql, true).await.unwrap();
    let done = client
        .bulk_wait(&job.id, fast_polls(), &|_| {})
        .await
        .unwrap();
    assert_eq!(done.state, JobState::JobComplete);
    let mut pages = client.bulk_pages(&job.id, shape, BulkPosition::default(), max_records);
    let mut rows = ById::new();
    let mut last_seen = false;
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert!(!last_seen, "a page after the last one");
        last_seen = page.last;
        assert!(page.records.len() <= 2000, "pages stay REST-sized");
        let before = rows.len();
        rows.extend(by_id(page.records.to_maps()));
        assert_eq!(rows.len() - before, page.records.len(), "a row came twice");
    }
    assert!(last_seen, "the download ended without its last page");
    rows
}

/// Every kind of value REST gives somewhere in `rows` (so the comparison covers them).
fn kinds(rows: &ById) -> Vec<&'static str> {
    let mut seen = std::collections::BTreeSet::new();
    for row in rows.values() {
        for v in row.values() {
            seen.insert(match FieldValue::from(v) {
                FieldValue::Null => "null",
                FieldValue::Bool(_) => "bool",
                FieldValue::Int(_) | FieldValue::UInt(_) => "int",
                FieldValue::Float(_) => "float",
                FieldValue::Text(_) => "text",
                FieldValue::Json(_) => "compound",
            });
        }
    }
    seen.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_and_bulk_decode_identical_records_for_every_field_type() {
    let mut compared = std::collections::BTreeSet::new();
    for object in ["Account", "Contact"] {
        let (_org, client, hooks, describe) = setup(object).await;
        let fields = bulk_fields(&describe);
        assert!(fields.len() > 20, "{object}: {fields:?}");
        let shape = Arc::new(BulkShape::new(&describe, &fields).unwrap());
        let rest = rest_rows(&client, object, &fields).await;
        let calls_before = client.calls();
        // Sets of 1 500 rows: several locators, each set split into pages.
        let bulk = bulk_rows(&client, shape, 1_500).await;
        let bulk_calls = client.calls() - calls_before;
        assert_eq!(rest.len(), bulk.len(), "{object}");
        assert!(rest.len() as u64 >= ROWS, "{object}: deleted rows come too");
        assert!(
            rest.values().any(|r| r["IsDeleted"] == Value::Bool(true)),
            "{object}: no deleted rows to compare"
        );
        for (id, row) in &rest {
            assert_eq!(Some(row), bulk.get(id), "{object} {id}");
        }
        compared.extend(kinds(&bulk));
        // Create, at least one poll, one call per set of 1 500.
        let sets = (rest.len() as u64).div_ceil(1_500);
        assert!(bulk_calls >= 2 + sets, "{bulk_calls} calls for {sets} sets");
        assert_eq!(
            hooks.before.load(Ordering::SeqCst),
            client.calls(),
            "every call passed the hooks"
        );
        assert_eq!(
            hooks.before.load(Ordering::SeqCst),
            hooks.after.load(Ordering::SeqCst)
        );
    }
    for kind in ["null", "bool", "int", "float", "text", "compound"] {
        assert!(
            compared.contains(kind),
            "no {kind} value compared: {compared:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_download_is_read_again_from_where_it_stopped() {
    let (org, client, _hooks, describe) = setup("Account").await;
    let fields = vec!["Name".to_string(), "BillingAddress".to_string()];
    let shape = Arc::new(BulkShape::new(&describe, &fields).unwrap());
    let whole = bulk_rows(&client, shape.clone(), 2_500).await;
    let sets_before = org.sandbox.counters().bulk_result_sets;
    org.sandbox.bulk(&BulkSpec {
        cut_results: 2,
        ..BulkSpec::default()
    });
    let again = bulk_rows(&client, shape, 2_500).await;
    assert_eq!(whole, again, "nothing lost or repeated across the cuts");
    let sets = org.sandbox.counters().bulk_result_sets - sets_before;
    let expected = (whole.len() as u64).div_ceil(2_500);
    assert_eq!(sets, expected + 2, "each cut set was requested once more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_and_an_unknown_job_are_reported_not_hidden() {
    let (org, client, _hooks, describe) = setup("Account").await;
    let shape = BulkShape::new(&describe, &["Name".to_string()]).unwrap();
    org.sandbox.bulk(&BulkSpec {
        fail_jobs: 1,
        fail_message: Some("sandbox says no".into()),
        ..BulkSpec::default()
    });
    let job = client
        .bulk_create(&shape.select(None).build().unwrap(), true)
        .await
        .unwrap();
    let done = client
        .bulk_wait(&job.id, fast_polls(), &|_| {})
        .await
        .unwrap();
    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.error_message.as_deref(), Some("sandbox says no"));
    client.bulk_delete(&job.id).await.unwrap();
    let gone = client.bulk_job(&job.id).await.unwrap_err();
    assert_eq!(gone.fault().and_then(|f| f.status), Some(404), "{gone}");
    // A compound field selected as such is refused by Bulk, with Salesforce's message.
    let refused = client
        .bulk_create(
            &Select::new("Account")
                .fields(["BillingAddress"])
                .build()
                .unwrap(),
            false,
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("compound data not supported"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_veto_stops_at_a_set_boundary_and_the_download_resumes_there() {
    let (_org, client, hooks, describe) = setup("Account").await;
    let shape = Arc::new(BulkShape::new(&describe, &["Name".to_string()]).unwrap());
    let soql = shape.select(None).build().unwrap();
    let job = client.bulk_create(&soql, true).await.unwrap();
    client
        .bulk_wait(&job.id, fast_polls(), &|_| {})
        .await
        .unwrap();
    // Two sets of 2 000, then the guard says no.
    *hooks.allow.lock().unwrap() = Some(2);
    let mut pages = client.bulk_pages(&job.id, shape.clone(), BulkPosition::default(), 2_000);
    let mut first = ById::new();
    let mut at = BulkPosition::default();
    let vetoed = loop {
        match pages.next().await {
            Some(Ok(page)) => {
                first.extend(by_id(page.records.to_maps()));
                at = page.after;
            }
            Some(Err(e)) => break e,
            None => panic!("the download ended without the veto"),
        }
    };
    assert!(pages.next().await.is_none(), "nothing after the veto");
    assert_eq!(
        vetoed.class(),
        syncdeck::salesforce::ErrorClass::Vetoed,
        "{vetoed}"
    );
    assert_eq!(first.len(), 4_000, "whole sets only");
    assert!(at.locator.is_some() && at.rows_done == 0, "{at:?}");
    *hooks.allow.lock().unwrap() = None;
    let mut rest = client.bulk_pages(&job.id, shape, at, 2_000);
    let mut all = first.clone();
    while let Some(page) = rest.next().await {
        let page = page.unwrap();
        for (id, row) in by_id(page.records.to_maps()) {
            assert!(all.insert(id, row).is_none(), "a row read twice");
        }
    }
    assert!(all.len() as u64 >= ROWS);
    let whole = rest_rows(&client, "Account", &["Name".to_string()]).await;
    assert_eq!(
        all.keys().collect::<Vec<_>>(),
        whole.keys().collect::<Vec<_>>()
    );
}
