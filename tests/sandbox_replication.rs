//! The sandbox's replication resources (`deleted/`, `updated/`) against recorded
//! Salesforce payloads, their errors, and the hard-delete / purge controls.

mod sandbox_support;

use std::time::Duration;

use serde_json::{Value, json};

use sandbox_support::*;

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(recorded::path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// `2013-05-07T22:07:19.000+0000`, as Salesforce writes datetimes.
fn assert_sf_datetime(v: &Value) {
    let s = v.as_str().expect("datetime string");
    assert!(
        chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok()
            && s.ends_with("+0000")
            && s.len() == 28,
        "{s}"
    );
}

fn window_path(object: &str, kind: &str, start: &str, end: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "/services/data/v62.0/sobjects/{object}/{kind}/?start={}&end={}",
        enc(start),
        enc(end)
    )
}

fn minutes_from_now(m: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(m)).to_rfc3339()
}

async fn start(records: &[(&str, u64)]) -> Org {
    Org::start(config(records)).await
}

#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
#[tokio::test]
async fn deleted_matches_the_recorded_shape_and_lists_hard_and_soft_deletes() {
    let org = start(&[("Account", 300)]).await;
    let from = minutes_from_now(-5);
    let hard = org
        .post_control(
            "/__sandbox/hard-delete",
            Some(&json!({"object": "Account", "count": 7})),
        )
        .await;
    assert_eq!(hard.status(), 200);
    assert_eq!(hard.json::<Value>().await.unwrap()["deleted"], 7);
    // Soft deletes through the mutator (which touches every object) land in the log too.
    while org.handle.record_count("Account") == Some(300 - 7) {
        org.handle.mutate(20);
    }
    let gone = 300 - org.handle.record_count("Account").unwrap();
    // The newest minute is not covered yet: move the org's clock past it.
    org.handle.advance_clock(Duration::from_secs(120));
    let body = org
        .get_json(&window_path(
            "Account",
            "deleted",
            &from,
            &minutes_from_now(5),
        ))
        .await;

    let recorded = fixture("sobject_deleted_restforce.json");
    assert_eq!(keys(&body), keys(&recorded));
    let list = body["deletedRecords"].as_array().unwrap();
    assert_eq!(list.len() as u64, gone, "hard and soft deletes of Account");
    for entry in list {
        assert_eq!(keys(entry), keys(&recorded["deletedRecords"][0]));
        assert_eq!(entry["id"].as_str().unwrap().len(), 18);
        assert!(entry["id"].as_str().unwrap().starts_with("001"));
        assert_sf_datetime(&entry["deletedDate"]);
    }
    assert_sf_datetime(&body["earliestDateAvailable"]);
    assert_sf_datetime(&body["latestDateCovered"]);
    assert!(
        body["latestDateCovered"]
            .as_str()
            .unwrap()
            .contains(":00.000+0000")
    );

    // Hard-deleted rows are gone even from queryAll; recycled ones are still there.
    let all = org
        .query_json("queryAll", "SELECT Id, IsDeleted FROM Account")
        .await;
    assert_eq!(all["totalSize"], 300 - 7);
    let ids: Vec<&str> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap())
        .collect();
    let listed: Vec<&str> = list.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let hard_gone = listed.iter().filter(|id| !ids.contains(id)).count();
    assert_eq!(hard_gone, 7);
}

#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
#[tokio::test]
async fn updated_matches_the_recorded_shape() {
    let org = start(&[("Account", 200)]).await;
    let from_at = chrono::Utc::now() - chrono::Duration::minutes(1);
    let from = from_at.to_rfc3339();
    // The mutator touches every object; go on until some Accounts changed.
    let changed_soql = format!(
        "SELECT Id FROM Account WHERE SystemModstamp >= {} ORDER BY Id",
        from_at.format("%Y-%m-%dT%H:%M:00Z")
    );
    let mut changed: Vec<Value> = Vec::new();
    while changed.is_empty() {
        org.handle.mutate(30);
        changed = org.query_json("query", &changed_soql).await["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Id"].clone())
            .collect();
    }
    org.handle.advance_clock(Duration::from_secs(120));
    let body = org
        .get_json(&window_path(
            "Account",
            "updated",
            &from,
            &minutes_from_now(5),
        ))
        .await;
    let recorded = fixture("sobject_updated_restforce.json");
    assert_eq!(keys(&body), keys(&recorded));
    let ids = body["ids"].as_array().unwrap();
    assert_eq!(
        ids, &changed,
        "live Accounts changed in the window, in Id order"
    );
    assert!(ids.iter().all(|i| i.as_str().unwrap().len() == 18));
    assert_sf_datetime(&body["latestDateCovered"]);
}

#[tokio::test]
async fn replication_errors_are_salesforce_errors_and_calls_are_counted() {
    let org = start(&[("Account", 50)]).await;
    let before = org.handle.usage().used;
    // Start not a minute before end.
    let now = minutes_from_now(0);
    let r = org
        .get(&window_path("Account", "deleted", &now, &now))
        .await;
    let msg = assert_error(r, 400, "INVALID_REPLICATION_DATE").await;
    assert!(msg.contains("one minute"), "{msg}");
    // More than 15 days back.
    let r = org
        .get(&window_path(
            "Account",
            "deleted",
            &minutes_from_now(-16 * 24 * 60),
            &now,
        ))
        .await;
    assert_error(r, 400, "INVALID_REPLICATION_DATE").await;
    // updated/ reaches back 30 days, deleted/ 15.
    let r = org
        .get(&window_path(
            "Account",
            "updated",
            &minutes_from_now(-20 * 24 * 60),
            &now,
        ))
        .await;
    assert_eq!(r.status(), 200);
    // After a purge, the log starts now.
    let from = minutes_from_now(-10);
    assert_eq!(
        org.post_control("/__sandbox/purge-delete-log", None)
            .await
            .status(),
        200
    );
    let r = org
        .get(&window_path(
            "Account",
            "deleted",
            &from,
            &minutes_from_now(10),
        ))
        .await;
    assert_error(r, 400, "INVALID_REPLICATION_DATE").await;
    // Unknown object: 404 like any sObject path.
    let r = org
        .get(&window_path("Nope__c", "deleted", &from, &now))
        .await;
    assert_error(r, 404, "NOT_FOUND").await;
    // Each call counts, the 404 included (it passed authentication).
    assert_eq!(org.handle.usage().used - before, 5);
}

#[tokio::test]
async fn more_than_600_000_ids_is_exceeded_id_limit() {
    let org = start(&[("Account", 600_001)]).await;
    let from = minutes_from_now(-1);
    assert_eq!(org.handle.hard_delete("Account", 600_001), Some(600_001));
    org.handle.advance_clock(Duration::from_secs(120));
    let r = org
        .get(&window_path(
            "Account",
            "deleted",
            &from,
            &minutes_from_now(5),
        ))
        .await;
    let msg = assert_error(r, 400, "EXCEEDED_ID_LIMIT").await;
    assert!(msg.contains("closer together"), "{msg}");
}

#[tokio::test]
async fn purge_removes_recycled_rows_from_query_all_without_a_trace() {
    let org = start(&[("Account", 400)]).await;
    while org.handle.record_count("Account") == Some(400) {
        org.handle.mutate(30);
    }
    let live = org.handle.record_count("Account").unwrap();
    let all = org.query_json("queryAll", "SELECT Id FROM Account").await;
    assert_eq!(all["totalSize"], 400);
    let purged: Value = org
        .post_control("/__sandbox/purge-delete-log", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(purged["purged"].as_u64().unwrap() >= 1);
    let all = org.query_json("queryAll", "SELECT Id FROM Account").await;
    assert_eq!(all["totalSize"].as_u64().unwrap(), live);
    let live = org.query_json("query", "SELECT Id FROM Account").await;
    assert_eq!(all["totalSize"], live["totalSize"]);
}
