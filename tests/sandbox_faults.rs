//! Fault injection, quota exhaustion, controls and the call log.

mod sandbox_support;

use std::time::{Duration, Instant};

use sandbox_support::*;
use serde_json::{Value, json};

async fn inject(org: &Org, spec: Value) {
    let r = org.post_control("/__sandbox/faults", Some(&spec)).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn error_statuses_for_the_next_n_responses() {
    let org = Org::start(config(&[("Account", 10)])).await;
    inject(&org, json!({"status": 503, "count": 2})).await;
    assert_error(
        org.get("/services/data/v62.0/limits").await,
        503,
        "SERVER_UNAVAILABLE",
    )
    .await;
    assert_error(
        org.get("/services/data/v62.0/limits").await,
        503,
        "SERVER_UNAVAILABLE",
    )
    .await;
    assert_eq!(org.get("/services/data/v62.0/limits").await.status(), 200);
    inject(&org, json!({"status": 500, "count": 1})).await;
    assert_error(
        org.get("/services/data/v62.0/sobjects").await,
        500,
        "UNKNOWN_EXCEPTION",
    )
    .await;
    assert_eq!(org.get("/services/data/v62.0/sobjects").await.status(), 200);
    let c = org.handle.counters();
    assert_eq!(c.faults_injected, 3);
    let r = org
        .post_control("/__sandbox/faults", Some(&json!({"bogus": 1})))
        .await;
    assert!(
        r.status().is_client_error(),
        "unknown fault keys are rejected"
    );
    org.handle.shutdown().await;
}

#[tokio::test]
async fn malformed_body_and_dropped_connection() {
    let org = Org::start(config(&[("Account", 300)])).await;
    inject(&org, json!({"malformed": 1})).await;
    let r = org
        .query("query", "SELECT Id, Name FROM Account", None)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], JSON_UTF8);
    let text = r.text().await.unwrap();
    assert!(!text.is_empty());
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "body must be malformed JSON"
    );

    inject(&org, json!({"drop_connection": 1})).await;
    let r = org
        .query("query", "SELECT Id, Name FROM Account", None)
        .await;
    assert!(r.bytes().await.is_err(), "body must be cut off");

    let ok = org.query("query", "SELECT Id FROM Account", None).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.json::<Value>().await.is_ok());
    org.handle.shutdown().await;
}

#[tokio::test]
async fn added_latency_and_clearing_faults() {
    let org = Org::start(config(&[("Account", 1)])).await;
    inject(&org, json!({"latency_ms": 150})).await;
    let t = Instant::now();
    assert_eq!(org.get("/services/data/v62.0/limits").await.status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "the injected delay is a lower bound"
    );
    let r = org.post_control("/__sandbox/faults/clear", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(org.get("/services/data/v62.0/limits").await.status(), 200);
    org.handle.shutdown().await;
}

#[tokio::test]
async fn expired_locator_is_invalid_query_locator() {
    let org = Org::start(config(&[("Account", 4500)])).await;
    let first: Value = org.query_json("query", "SELECT Id FROM Account").await;
    let next = first["nextRecordsUrl"].as_str().unwrap().to_string();
    inject(&org, json!({"expire_locators": true})).await;
    assert_error(org.get(&next).await, 400, "INVALID_QUERY_LOCATOR").await;
    org.handle.shutdown().await;
}

#[tokio::test]
async fn quota_exhaustion_is_403_request_limit_exceeded() {
    let org = Org::start(config(&[("Account", 3)])).await;
    let r = org
        .post_control("/__sandbox/quota", Some(&json!({"used": 98, "max": 100})))
        .await;
    assert_eq!(r.status(), 200);
    let a = org.get("/services/data/v62.0/limits").await;
    assert_eq!(a.headers()["sforce-limit-info"], "api-usage=99/100");
    let b = org.get("/services/data/v62.0/sobjects").await;
    assert_eq!(usage(&b), (100, 100));
    let c = org.get("/services/data/v62.0/sobjects").await;
    assert!(c.headers().get("sforce-limit-info").is_some());
    let msg = assert_error(c, 403, "REQUEST_LIMIT_EXCEEDED").await;
    assert_eq!(msg, "TotalRequests Limit exceeded.");
    let q = org.query("query", "SELECT Id FROM Account", None).await;
    assert_error(q, 403, "REQUEST_LIMIT_EXCEEDED").await;
    assert_eq!(org.handle.counters().limit_refusals, 2);
    // Raising the max lets calls through again.
    org.handle.set_quota(None, Some(200));
    assert_eq!(
        usage(&org.get("/services/data/v62.0/limits").await),
        (101, 200)
    );
    org.handle.shutdown().await;
}

#[tokio::test]
async fn call_log_counters_and_http_controls() {
    let org = Org::start(config(&[("Account", 2500)])).await;
    let _ = org
        .query_all_pages("query", "SELECT Id FROM Account", None)
        .await;
    let counters: Value = org
        .get_anonymous("/__sandbox/counters")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(counters["queries"], 1);
    assert_eq!(counters["query_pages"], 2);
    assert_eq!(counters["records_served"], 2500);
    assert_eq!(counters["api_used"], 2);
    assert_eq!(counters["tokens_issued"], 1);
    let calls: Vec<Value> = org
        .get_anonymous("/__sandbox/calls")
        .await
        .json()
        .await
        .unwrap();
    let counted: Vec<&Value> = calls.iter().filter(|c| c["counted"] == true).collect();
    assert_eq!(counted.len(), 2);
    assert!(
        counted
            .iter()
            .all(|c| c["status"] == 200 && c["method"] == "GET")
    );
    assert!(
        calls
            .iter()
            .all(|c| !c["path"].as_str().unwrap().contains('?')),
        "no query strings logged"
    );

    let m: Value = org
        .post_control("/__sandbox/mutate", Some(&json!({"count": 40})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        m["updated"].as_u64().unwrap() + m["deleted"].as_u64().unwrap(),
        40
    );
    let r = org
        .post_control("/__sandbox/approve", Some(&json!({})))
        .await;
    assert_eq!(r.status(), 404, "nothing pending to approve");
    org.handle.shutdown().await;
}

#[tokio::test]
async fn several_orgs_in_one_process_are_independent() {
    let a = Org::start(config(&[("Account", 7)])).await;
    let b = Org::start(SandboxConfig {
        seed: 2,
        ..config(&[("Account", 9)])
    })
    .await;
    assert_ne!(a.base, b.base);
    let ca: Value = a.query_json("query", "SELECT COUNT() FROM Account").await;
    let cb: Value = b.query_json("query", "SELECT COUNT() FROM Account").await;
    assert_eq!(
        (ca["totalSize"].as_u64(), cb["totalSize"].as_u64()),
        (Some(7), Some(9))
    );
    let r = b
        .get_with_token("/services/data/v62.0/limits", &a.token)
        .await;
    assert_error(r, 401, "INVALID_SESSION_ID").await;
    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

use syncdeck::sandbox::SandboxConfig;

#[tokio::test]
async fn mutate_every_changes_records_in_the_background() {
    let cfg = SandboxConfig {
        mutate_every: Some(Duration::from_millis(20)),
        ..config(&[("Account", 100)])
    };
    let org = Org::start(cfg).await;
    let mut waited = 0;
    while org.handle.counters().mutations == 0 {
        assert!(waited < 500, "no background mutation after 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    org.handle.shutdown().await;
}

#[tokio::test]
async fn a_million_row_object_is_served_without_materialising_it() {
    let org = Org::start(config(&[("Lead", 1_000_000)])).await;
    let c: Value = org.query_json("query", "SELECT COUNT() FROM Lead").await;
    assert_eq!(c["totalSize"], 1_000_000);
    let p: Value = org
        .query_json("query", "SELECT Id, Name, Email FROM Lead")
        .await;
    assert_eq!(p["totalSize"], 1_000_000);
    assert_eq!(p["records"].as_array().unwrap().len(), 2000);
    let last = org
        .get_json(&format!(
            "{}-999000",
            p["nextRecordsUrl"]
                .as_str()
                .unwrap()
                .rsplit_once('-')
                .unwrap()
                .0
        ))
        .await;
    assert_eq!(last["done"], true);
    assert_eq!(last["records"].as_array().unwrap().len(), 1000);
    org.handle.shutdown().await;
}
