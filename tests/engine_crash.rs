//! Crash safety: `syncdeck sync` in a child process, SIGKILLed at random points of a
//! 100 000-record sync, restarted, and in the end the store equals the org exactly
//! (same Ids, same values, deletions applied), also while the org changes underneath, and
//! with the pages of six objects grouped into composite calls.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::crash::{FIELDS, finish, kill_repeatedly};
use common::*;
use syncdeck::config::SourceConfig;
use syncdeck::sandbox::{FaultSpec, SchemaSource};

const RECORDS: u64 = 100_000;

async fn setup() -> (Org, SourceConfig) {
    let org = org(sandbox_config(&[("Account", RECORDS)])).await;
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    prepare(&org, &source).await;
    (org, source)
}

/// The config file for the children, tokens, and slow pages.
async fn prepare(org: &Org, source: &SourceConfig) {
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(source).await;
    // Slow pages a little so kills land inside runs on a fast machine too.
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(15),
        ..FaultSpec::default()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_syncs_resume_and_end_equal_to_the_org() {
    let (org, source) = setup().await;
    let delays = kill_repeatedly(&org).await;
    finish(&org).await;
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(0),
        ..FaultSpec::default()
    });
    let stored = org.stored_rows("acme", "Account", FIELDS);
    assert_eq!(stored.len() as u64, RECORDS, "kills at {delays:?} ms");
    assert!(
        stored == org.truth(&source, "Account", FIELDS).await,
        "store differs from the org after kills at {delays:?} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_syncs_with_the_org_changing_end_equal_to_the_org() {
    let (org, source) = setup().await;
    let org = Arc::new(org);
    let mutating = Arc::new(AtomicBool::new(true));
    let mutator = {
        let (org, mutating) = (org.clone(), mutating.clone());
        tokio::spawn(async move {
            let mut changes = 0;
            while mutating.load(Ordering::SeqCst) {
                let s = org.sandbox.mutate(20);
                changes += s.updated + s.deleted;
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            changes
        })
    };
    let delays = kill_repeatedly(&org).await;
    mutating.store(false, Ordering::SeqCst);
    let changes = mutator.await.unwrap();
    assert!(changes > 0);
    finish(&org).await;
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(0),
        ..FaultSpec::default()
    });
    let truth = org.truth(&source, "Account", FIELDS).await;
    assert!(truth.len() < RECORDS as usize, "some records were deleted");
    let stored = org.stored_rows("acme", "Account", FIELDS);
    assert_eq!(
        stored.len(),
        truth.len(),
        "kills at {delays:?} ms, {changes} changes"
    );
    assert!(
        stored == truth,
        "store differs from the org after kills at {delays:?} ms, {changes} changes"
    );
}

const GROUPED_OBJECTS: usize = 6;
const GROUPED_RECORDS: u64 = 20_000;
const GROUPED_FIELDS: &[&str] = &["Name", "Field001__c", "Field002__c", "Field003__c"];

fn grouped_object(i: usize) -> String {
    format!("Synthetic{:04}__c", i + 1)
}

/// Six objects of ten pages each: every composite call carries five objects' pages.
async fn setup_grouped() -> (Org, SourceConfig) {
    let mut config = sandbox_config(&[]);
    config.schema = SchemaSource::Synthetic {
        objects: GROUPED_OBJECTS,
        fields_per_object: 12,
    };
    config.records = (0..GROUPED_OBJECTS)
        .map(|i| (grouped_object(i), GROUPED_RECORDS))
        .collect();
    let org = org(config).await;
    let names: Vec<String> = (0..GROUPED_OBJECTS).map(grouped_object).collect();
    let selected: Vec<(&str, &[&str])> =
        names.iter().map(|n| (n.as_str(), GROUPED_FIELDS)).collect();
    let source = manual(org.source("acme", &selected));
    prepare(&org, &source).await;
    (org, source)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_syncs_with_grouped_pages_end_equal_to_the_org() {
    let (org, source) = setup_grouped().await;
    let org = Arc::new(org);
    let mutating = Arc::new(AtomicBool::new(true));
    let mutator = {
        let (org, mutating) = (org.clone(), mutating.clone());
        tokio::spawn(async move {
            while mutating.load(Ordering::SeqCst) {
                org.sandbox.mutate(20);
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };
    let delays = kill_repeatedly(&org).await;
    mutating.store(false, Ordering::SeqCst);
    mutator.await.unwrap();
    finish(&org).await;
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(0),
        ..FaultSpec::default()
    });
    for i in 0..GROUPED_OBJECTS {
        let name = grouped_object(i);
        let truth = org.truth(&source, &name, GROUPED_FIELDS).await;
        let stored = org.stored_rows("acme", &name, GROUPED_FIELDS);
        assert_eq!(stored.len(), truth.len(), "{name}: kills at {delays:?} ms");
        assert!(
            stored == truth,
            "{name} differs from the org after kills at {delays:?} ms"
        );
    }
}
