//! Wire round-trips against a tiny local server for behaviour the sandbox cannot stage:
//! single-flight refresh with token persistence, veto, and a split query whose lookup
//! misses a record.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU32;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap as AxHeaders, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::*;
use crate::salesforce::errors::ErrorClass;
use serde_json::json;

#[derive(Default)]
struct Org {
    base: Mutex<String>,
    refreshes: AtomicU32,
    refresh_revoked: std::sync::atomic::AtomicBool,
    /// Whether record 2, which moved out of the page's range, still exists.
    moved_record_exists: std::sync::atomic::AtomicBool,
}

type Shared = Arc<Org>;

async fn token(State(org): State<Shared>) -> Response {
    org.refreshes.fetch_add(1, Ordering::SeqCst);
    if org.refresh_revoked.load(Ordering::SeqCst) {
        let body =
            r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#;
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            body,
        )
            .into_response();
    }
    let base = org.base.lock().unwrap().clone();
    let body = json!({"access_token": "fresh", "instance_url": base, "id": format!("{base}/id/00D/005"),
                      "token_type": "Bearer", "issued_at": "1700000000000"});
    ([("content-type", "application/json")], body.to_string()).into_response()
}

async fn limits(headers: AxHeaders) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer fresh") {
        let body = r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    let body = r#"{"DailyApiRequests":{"Max":15000,"Remaining":14000}}"#;
    (
        [(
            "sforce-limit-info",
            "api-usage=1000/15000; api-bursts=1/750",
        )],
        body,
    )
        .into_response()
}

async fn query_all(
    State(org): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let soql = q.get("q").cloned().unwrap_or_default();
    let record = |id: &str, field: &str| {
        json!({"attributes": {"type": "Wide__c"}, "Id": id,
               "SystemModstamp": "2024-01-02T03:04:05.000+0000", field: 1})
    };
    let records = if soql.contains("AND SystemModstamp <= 2024-01-02T03:04:05.000Z") {
        // The lookup over the page's SystemModstamp range only finds the first record.
        vec![record("a00000000000001AAA", "Late_0699__c")]
    } else if soql.contains("WHERE Id IN ('a00000000000002AAA')") {
        match org.moved_record_exists.load(Ordering::SeqCst) {
            true => vec![record("a00000000000002AAA", "Late_0699__c")],
            false => vec![],
        }
    } else {
        vec![
            record("a00000000000001AAA", "Early_0000__c"),
            record("a00000000000002AAA", "Early_0000__c"),
        ]
    };
    json!({"totalSize": records.len(), "done": true, "records": records})
        .to_string()
        .into_response()
}

async fn serve() -> (String, Shared) {
    let org: Shared = Arc::new(Org::default());
    let app = Router::new()
        .route("/services/oauth2/token", post(token))
        .route("/services/data/v62.0/limits/", get(limits))
        .route("/services/data/v62.0/queryAll/", get(query_all))
        // Never answers: a call cut off mid-flight.
        .route(
            "/services/data/v62.0/sobjects/",
            get(std::future::pending::<Response>),
        )
        .with_state(org.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *org.base.lock().unwrap() = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, org)
}

#[derive(Default)]
struct Recorder {
    started: AtomicU32,
    usage: Mutex<Vec<Option<LimitInfo>>>,
    refreshed: Mutex<Vec<String>>,
    veto: std::sync::atomic::AtomicBool,
}

impl CallHooks for Recorder {
    fn before_call(&self, _calls: u32) -> Result<(), Veto> {
        if self.veto.load(Ordering::SeqCst) {
            return Err(Veto {
                reason: "quota threshold reached (80%)".into(),
            });
        }
        self.started.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn after_call(&self, usage: Option<LimitInfo>) {
        self.usage.lock().unwrap().push(usage);
    }
    fn tokens_refreshed(&self, _used: &Secret, access_token: &Secret, _refresh: Option<&Secret>) {
        self.refreshed
            .lock()
            .unwrap()
            .push(access_token.expose().to_string());
    }
}

fn client(base: &str, hooks: Arc<Recorder>) -> Client {
    let session = Session {
        instance_url: base.to_string(),
        access_token: Secret::new("stale"),
        refresh_token: Some(Secret::new("refresh-secret")),
        login_url: base.to_string(),
        client_id: "cid".into(),
        identity_url: None,
    };
    let client = Client::new(HttpClient::new(Default::default()).unwrap(), session, hooks);
    client.set_retry_policy(RetryPolicy {
        base_delay: std::time::Duration::from_millis(1),
        ..RetryPolicy::default()
    });
    client
}

#[tokio::test]
async fn concurrent_401s_refresh_once_persist_and_retry() {
    let (base, org) = serve().await;
    let hooks = Arc::new(Recorder::default());
    let client = client(&base, hooks.clone());
    let (a, b, c) = tokio::join!(client.limits(), client.limits(), client.limits());
    for limits in [a, b, c] {
        assert_eq!(limits.unwrap().daily_api_requests.remaining, 14000);
    }
    assert_eq!(org.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(*hooks.refreshed.lock().unwrap(), vec!["fresh".to_string()]);
    assert_eq!(client.access_token().expose(), "fresh");
    // Three rejected calls and three retries, all counted and all observed.
    assert_eq!(client.calls(), 6);
    let usage = hooks.usage.lock().unwrap();
    assert_eq!(usage.len(), 6);
    assert_eq!(
        usage
            .iter()
            .filter(|u| **u
                == Some(LimitInfo {
                    used: 1000,
                    max: 15000
                }))
            .count(),
        3
    );
    assert!(!format!("{client:?}").contains("fresh"));
}

#[tokio::test]
async fn revoked_refresh_token_is_auth_required_and_not_retried() {
    let (base, org) = serve().await;
    org.refresh_revoked.store(true, Ordering::SeqCst);
    let client = client(&base, Arc::new(Recorder::default()));
    let err = client.limits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::AuthRequired);
    assert!(
        err.to_string()
            .starts_with("Reauthorize: the refresh token was revoked or has expired"),
        "{err}"
    );
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert_eq!(org.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(client.calls(), 1);
}

#[tokio::test]
async fn veto_stops_the_call_before_it_is_sent() {
    let (base, org) = serve().await;
    let hooks = Arc::new(Recorder::default());
    hooks.veto.store(true, Ordering::SeqCst);
    let client = client(&base, hooks.clone());
    let err = client.limits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Vetoed);
    assert!(err.to_string().contains("quota threshold"), "{err}");
    assert_eq!(client.calls(), 0);
    assert!(hooks.usage.lock().unwrap().is_empty());
    assert_eq!(org.refreshes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn split_query_reports_a_record_missing_from_a_group() {
    let (base, _org) = serve().await;
    let client = client(&base, Arc::new(Recorder::default()));
    let mut pages = client.select_pages(&wide_select(), ALL);
    let err = pages.next().await.unwrap().unwrap_err();
    let fault = err.fault().unwrap();
    assert_eq!(fault.code, "SPLIT_RECORD_MISSING", "{err}");
    assert!(
        fault.message.contains("a00000000000002AAA"),
        "{}",
        fault.message
    );
    assert!(pages.next().await.is_none());
}

const ALL: QueryOptions = QueryOptions {
    include_deleted: true,
    batch_size: None,
};

fn wide_select() -> Select {
    let mut fields: Vec<String> = vec!["Early_0000__c".into()];
    fields.extend((1..700).map(|i| format!("Late_{i:04}_Padding_Field_Name__c")));
    Select::incremental("Wide__c", &fields, None)
}

#[tokio::test]
async fn split_query_finds_a_record_that_moved_out_of_the_page_range_by_id() {
    let (base, org) = serve().await;
    org.moved_record_exists.store(true, Ordering::SeqCst);
    let client = client(&base, Arc::new(Recorder::default()));
    let mut pages = client.select_pages(&wide_select(), ALL);
    let page = pages.next().await.unwrap().unwrap();
    assert_eq!(page.records.len(), 2);
    for record in page.records.to_maps() {
        assert!(record.contains_key("Early_0000__c") && record.contains_key("Late_0699__c"));
    }
    // Driver, range lookup, then the by-id lookup of the moved record.
    assert_eq!(client.calls(), 3);
    assert!(pages.next().await.is_none());
}

#[tokio::test]
async fn a_call_cancelled_mid_flight_still_ends_its_quota_booking() {
    let (base, _org) = serve().await;
    let hooks = Arc::new(Recorder::default());
    let client = client(&base, hooks.clone());
    let call = tokio::spawn(async move { client.describe_global().await });
    while client_calls_started(&hooks) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    assert_eq!(
        *hooks.usage.lock().unwrap(),
        vec![None],
        "booked once, without a reading"
    );
}

/// Calls let through `before_call` so far.
fn client_calls_started(hooks: &Recorder) -> u32 {
    hooks.started.load(Ordering::SeqCst)
}
