//! The Salesforce client against the built-in sandbox org over 127.0.0.1: OAuth flows,
//! refresh, pagination, every fault kind, quota, headers, describe revalidation and
//! URL-length splitting.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use syncdeck::config::Secret;
use syncdeck::salesforce::auth::{self, AuthError, DevicePoll};
use syncdeck::salesforce::client::{DescribeRequest, PageRequest};
use syncdeck::salesforce::soql::{self, MAX_URL_BYTES, Select};
use syncdeck::salesforce::types::{QueryPage, TokenBody};
use syncdeck::salesforce::{
    CallHooks, Client, Described, ErrorClass, HttpClient, LimitInfo, QueryOptions, RetryPolicy,
    Session, Timeouts, Veto,
};
use syncdeck::sandbox::{
    FaultSpec, Sandbox, SandboxConfig, SandboxHandle, SandboxUser, SchemaSource,
};

fn http() -> HttpClient {
    HttpClient::new(Timeouts::default()).unwrap()
}

async fn org(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(SandboxConfig {
        device_poll_interval: Duration::from_secs(1),
        ..config
    })
    .await
    .unwrap()
}

/// Device flow approved at once as `user`.
async fn tokens_for(sb: &SandboxHandle, user: SandboxUser) -> TokenBody {
    let http = http();
    let device = auth::start_device_flow(&http, &sb.base_url(), &sb.client_id())
        .await
        .unwrap();
    assert_eq!(sb.approve(Some(&device.user_code), user), 1);
    match auth::poll_device_once(&http, &sb.base_url(), &sb.client_id(), &device)
        .await
        .unwrap()
    {
        DevicePoll::Authorized(token) => *token,
        other => panic!("expected tokens, got {other:?}"),
    }
}

#[derive(Default)]
struct Recorder {
    usage: Mutex<Vec<Option<LimitInfo>>>,
    refreshed: Mutex<Vec<Secret>>,
    allow: Mutex<Option<u64>>,
}

impl CallHooks for Recorder {
    fn before_call(&self, calls: u32) -> Result<(), Veto> {
        let mut allow = self.allow.lock().unwrap();
        match allow.as_mut() {
            Some(left) if *left < u64::from(calls) => Err(Veto {
                reason: "quota guard: threshold reached".into(),
            }),
            Some(left) => {
                *left -= u64::from(calls);
                Ok(())
            }
            None => Ok(()),
        }
    }
    fn after_call(&self, usage: Option<LimitInfo>) {
        self.usage.lock().unwrap().push(usage);
    }
    fn tokens_refreshed(&self, _used: &Secret, access: &Secret, _refresh: Option<&Secret>) {
        self.refreshed.lock().unwrap().push(access.clone());
    }
}

async fn admin_client(sb: &SandboxHandle) -> (Client, Arc<Recorder>) {
    let token = tokens_for(sb, SandboxUser::Admin).await;
    let hooks = Arc::new(Recorder::default());
    let session = Session::from_token(&token, &sb.base_url(), &sb.client_id());
    let client = Client::new(http(), session, hooks.clone());
    client.negotiate_api_version(None).await.unwrap();
    client.set_retry_policy(fast_retries(4));
    (client, hooks)
}

/// The `Sforce-Limit-Info` of the last counted call.
fn last_usage(hooks: &Recorder) -> LimitInfo {
    hooks
        .usage
        .lock()
        .unwrap()
        .last()
        .copied()
        .flatten()
        .unwrap()
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_elapsed: Duration::from_secs(30),
    }
}

async fn collect(
    mut pages: futures::stream::BoxStream<'static, Result<QueryPage, syncdeck::salesforce::Error>>,
) -> Vec<QueryPage> {
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.push(page.unwrap());
    }
    out
}

#[tokio::test]
async fn device_flow_pending_slow_down_then_success_as_admin() {
    let sb = org(SandboxConfig::default()).await;
    let http = http();
    let (base, client_id) = (sb.base_url(), sb.client_id());
    let device = auth::start_device_flow(&http, &base, &client_id)
        .await
        .unwrap();
    assert!(!device.user_code.is_empty());
    assert!(
        device.verification_uri.starts_with(&base),
        "{}",
        device.verification_uri
    );
    assert!(!format!("{device:?}").contains(&device.device_code));
    let first = auth::poll_device_once(&http, &base, &client_id, &device)
        .await
        .unwrap();
    assert!(matches!(first, DevicePoll::Pending), "{first:?}");
    let second = auth::poll_device_once(&http, &base, &client_id, &device)
        .await
        .unwrap();
    assert!(matches!(second, DevicePoll::SlowDown), "{second:?}");
    // The admin approves while the client is waiting for its second poll, however slow
    // the machine: the client must keep polling through a pending answer.
    let mut waits = 0;
    let mut approved = 0;
    let token = auth::poll_device_flow(
        &http,
        &base,
        &client_id,
        &device,
        Duration::from_secs(60),
        |_| {
            waits += 1;
            if waits == 2 {
                approved = sb.approve(Some(&device.user_code), SandboxUser::Admin);
            }
        },
    )
    .await;
    assert_eq!(approved, 1);
    let token = token.unwrap();
    assert!(waits >= 2, "{waits}");
    assert!(token.refresh_token.is_some());
    let authorization = auth::authorize_admin(&http, &base, &client_id, token)
        .await
        .unwrap();
    assert_eq!(
        authorization.identity.user_id,
        sb.user_id(SandboxUser::Admin)
    );
    assert_eq!(authorization.identity.organization_id, sb.org_id());
    assert!(authorization.permissions.api_enabled && authorization.permissions.view_all_data);
    assert_eq!(authorization.session.instance_url, base);
}

#[tokio::test]
async fn device_flow_denial_is_a_refusal() {
    let sb = org(SandboxConfig::default()).await;
    let http = http();
    let device = auth::start_device_flow(&http, &sb.base_url(), &sb.client_id())
        .await
        .unwrap();
    assert_eq!(sb.deny(Some(&device.user_code)), 1);
    let err = auth::poll_device_once(&http, &sb.base_url(), &sb.client_id(), &device)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Denied { .. }), "{err:?}");
    assert!(err.is_refusal());
    assert!(err.to_string().contains("access_denied"), "{err}");
}

#[tokio::test]
async fn unknown_client_id_is_rejected_clearly() {
    let sb = org(SandboxConfig::default()).await;
    let err = auth::start_device_flow(&http(), &sb.base_url(), "not-the-key")
        .await
        .unwrap_err();
    assert!(!err.is_refusal());
    assert!(err.to_string().contains("client_id"), "{err}");
}

#[tokio::test]
async fn non_admin_is_refused_and_its_tokens_revoked() {
    let sb = org(SandboxConfig::default()).await;
    let http = http();
    let token = tokens_for(&sb, SandboxUser::Standard).await;
    let refresh = Secret::new(token.refresh_token.as_ref().unwrap().secret().as_str());
    let err = auth::authorize_admin(&http, &sb.base_url(), &sb.client_id(), token)
        .await
        .unwrap_err();
    assert!(err.is_refusal());
    let text = err.to_string();
    assert!(
        text.starts_with("A Salesforce admin must authorize this connection: "),
        "{text}"
    );
    assert!(text.ends_with(" lacks View All Data"), "{text}");
    let refreshed =
        auth::refresh_access_token(&http, &sb.base_url(), &sb.client_id(), &refresh).await;
    assert_eq!(refreshed.unwrap_err().class(), ErrorClass::AuthRequired);
}

#[tokio::test]
async fn web_flow_with_pkce_and_loopback_callback() {
    let sb = org(SandboxConfig {
        auto_approve: Some(Duration::ZERO),
        ..SandboxConfig::default()
    })
    .await;
    let http = http();
    let flow = auth::start_web_flow(&sb.base_url(), &sb.client_id(), 0)
        .await
        .unwrap();
    assert_ne!(flow.port(), 0);
    assert_eq!(
        flow.redirect_uri(),
        format!("http://localhost:{}/callback", flow.port())
    );
    let url = url::Url::parse(flow.authorize_url()).unwrap();
    let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["response_type"], "code");
    assert!(params["redirect_uri"].starts_with("http://localhost:"));
    // The "browser": follows the authorize redirect to our loopback listener.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize_url = flow.authorize_url().to_string();
    let finish = flow.finish(&http, Duration::from_secs(30));
    let visit = async move {
        let reply = browser.get(&authorize_url).send().await.unwrap();
        assert!(reply.status().is_redirection(), "{}", reply.status());
        let location = reply.headers()["location"]
            .to_str()
            .unwrap()
            .replace("localhost", "127.0.0.1");
        let page = browser.get(&location).send().await.unwrap();
        assert_eq!(page.status(), 200);
        page.text().await.unwrap()
    };
    let (token, page) = tokio::join!(finish, visit);
    assert!(page.contains("authorized"), "{page}");
    let authorization =
        auth::authorize_admin(&http, &sb.base_url(), &sb.client_id(), token.unwrap())
            .await
            .unwrap();
    assert_eq!(
        authorization.identity.user_id,
        sb.user_id(SandboxUser::Admin)
    );
}

#[tokio::test]
async fn expired_access_token_is_refreshed_persisted_and_the_call_retried() {
    let sb = org(SandboxConfig {
        token_idle_timeout: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
    .await;
    let (client, hooks) = admin_client(&sb).await;
    let before = client.access_token();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let limits = client.limits().await.unwrap();
    assert!(limits.daily_api_requests.max > 0);
    let refreshed = hooks.refreshed.lock().unwrap().clone();
    assert_eq!(refreshed.len(), 1);
    assert_ne!(refreshed[0], before);
    assert_eq!(client.access_token(), refreshed[0]);
}

#[tokio::test]
async fn revoked_refresh_token_requires_reauthorization() {
    let sb = org(SandboxConfig::default()).await;
    let (client, _hooks) = admin_client(&sb).await;
    assert!(sb.revoke_all_tokens() >= 2);
    let err = client.limits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::AuthRequired);
    assert!(
        err.to_string()
            .starts_with("Reauthorize: the refresh token was revoked or has expired"),
        "{err}"
    );
}

#[tokio::test]
async fn revoke_ends_the_session() {
    let sb = org(SandboxConfig::default()).await;
    let token = tokens_for(&sb, SandboxUser::Admin).await;
    let session = Session::from_token(&token, &sb.base_url(), &sb.client_id());
    let refresh = session.refresh_token.clone().unwrap();
    auth::revoke(&http(), &sb.base_url(), &refresh)
        .await
        .unwrap();
    let client = Client::new(http(), session, Arc::new(Recorder::default()));
    assert_eq!(
        client.limits().await.unwrap_err().class(),
        ErrorClass::AuthRequired
    );
}

#[tokio::test]
async fn pagination_over_ten_thousand_records_default_and_reduced_batch() {
    let records = [("Account".to_string(), 10_500u64)].into_iter().collect();
    let sb = org(SandboxConfig {
        records,
        ..SandboxConfig::default()
    })
    .await;
    let (client, _) = admin_client(&sb).await;
    let live = sb.record_count("Account").unwrap();
    for batch_size in [None, Some(500)] {
        let select = Select::incremental("Account", &["Name"], None);
        let options = QueryOptions {
            include_deleted: true,
            batch_size,
        };
        let calls_before = client.calls();
        let pages = collect(client.select_pages(&select, options)).await;
        let ids: Vec<String> = pages
            .iter()
            .flat_map(|p| p.records.iter().map(|r| r.id().unwrap().to_string()))
            .collect();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "duplicate ids with {batch_size:?}");
        assert_eq!(ids.len() as u64, pages[0].total_size);
        assert!(
            ids.len() as u64 >= live && live >= 10_000,
            "{} vs {live}",
            ids.len()
        );
        let expected_pages = ids.len().div_ceil(batch_size.unwrap_or(2000) as usize);
        assert_eq!(pages.len(), expected_pages, "{batch_size:?}");
        assert_eq!(client.calls() - calls_before, pages.len() as u64);
        assert!(pages.last().unwrap().done);
    }
    let count = client
        .count(&soql::count("Account", None).unwrap())
        .await
        .unwrap();
    assert_eq!(count, live);
}

#[tokio::test]
async fn transient_faults_are_retried_within_bounds() {
    let sb = org(SandboxConfig::default()).await;
    let (client, _) = admin_client(&sb).await;
    for spec in [
        FaultSpec {
            status: Some(503),
            count: 2,
            ..FaultSpec::default()
        },
        FaultSpec {
            status: Some(500),
            count: 1,
            ..FaultSpec::default()
        },
        FaultSpec {
            malformed: 2,
            ..FaultSpec::default()
        },
        FaultSpec {
            drop_connection: 2,
            ..FaultSpec::default()
        },
    ] {
        sb.inject(&spec);
        let before = client.calls();
        let limits = client
            .limits()
            .await
            .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        assert!(limits.daily_api_requests.max > 0);
        let expected = 1 + u64::from(spec.count.max(spec.malformed).max(spec.drop_connection));
        assert_eq!(client.calls() - before, expected, "{spec:?}");
    }
}

#[tokio::test]
async fn exhausted_retries_give_a_clear_error() {
    let sb = org(SandboxConfig::default()).await;
    let (client, _) = admin_client(&sb).await;
    client.set_retry_policy(fast_retries(3));
    sb.inject(&FaultSpec {
        status: Some(503),
        count: 10,
        ..FaultSpec::default()
    });
    let err = client.describe_global().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable);
    let text = err.to_string();
    assert!(text.contains("after 3 attempts in"), "{text}");
    assert!(text.contains("503"), "{text}");
    assert!(
        text.contains("check the network and try again (scheduled runs retry by themselves)"),
        "{text}"
    );
    sb.clear_faults();
}

#[tokio::test]
async fn slow_responses_time_out_and_are_retried() {
    let sb = org(SandboxConfig::default()).await;
    let token = tokens_for(&sb, SandboxUser::Admin).await;
    let quick = HttpClient::new(Timeouts {
        connect: Duration::from_secs(5),
        read: Duration::from_millis(200),
    })
    .unwrap();
    let client = Client::new(
        quick,
        Session::from_token(&token, &sb.base_url(), &sb.client_id()),
        Arc::new(Recorder::default()),
    );
    client.set_retry_policy(fast_retries(2));
    sb.inject(&FaultSpec {
        latency_ms: Some(1_000),
        ..FaultSpec::default()
    });
    let err = client.limits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retryable);
    assert_eq!(err.fault().unwrap().code, "TIMEOUT", "{err}");
    sb.inject(&FaultSpec {
        latency_ms: Some(0),
        ..FaultSpec::default()
    });
    client.limits().await.unwrap();
}

#[tokio::test]
async fn expired_locator_is_reported_as_restartable() {
    let records = [("Contact".to_string(), 1_000u64)].into_iter().collect();
    let sb = org(SandboxConfig {
        records,
        ..SandboxConfig::default()
    })
    .await;
    let (client, _) = admin_client(&sb).await;
    let soql = Select::full_refresh("Contact", &["LastName"])
        .build()
        .unwrap();
    let mut pages = client.query_pages_with(
        &soql,
        QueryOptions {
            include_deleted: false,
            batch_size: Some(200),
        },
    );
    let first = pages.next().await.unwrap().unwrap();
    assert!(!first.done);
    sb.inject(&FaultSpec {
        expire_locators: true,
        ..FaultSpec::default()
    });
    let err = pages.next().await.unwrap().unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidQueryLocator);
    assert!(
        err.to_string()
            .contains("restart the query from the last checkpoint"),
        "{err}"
    );
    assert!(pages.next().await.is_none());
}

#[tokio::test]
async fn quota_exhaustion_is_not_retried_and_veto_stops_calls() {
    let sb = org(SandboxConfig {
        api_max: 1_000,
        ..SandboxConfig::default()
    })
    .await;
    let (client, hooks) = admin_client(&sb).await;
    client.limits().await.unwrap();
    let seen = last_usage(&hooks);
    assert_eq!(seen.max, 1_000);
    assert!(seen.used >= 1);
    sb.set_quota(Some(1_000), None);
    let before = client.calls();
    let err = client.limits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::QuotaExceeded);
    assert!(err.fault().unwrap().code == "REQUEST_LIMIT_EXCEEDED");
    assert_eq!(client.calls() - before, 1);
    sb.set_quota(Some(0), None);
    *hooks.allow.lock().unwrap() = Some(0);
    let served = sb.counters().requests;
    let err = client.limits().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Vetoed);
    assert_eq!(
        sb.counters().requests,
        served,
        "a vetoed call reached the server"
    );
}

#[tokio::test]
async fn every_counted_response_reports_usage_and_versions_are_free() {
    let sb = org(SandboxConfig::default()).await;
    let (client, hooks) = admin_client(&sb).await;
    let calls = client.calls();
    let observed = hooks.usage.lock().unwrap().len();
    let versions = client.versions().await.unwrap();
    assert!(!versions.is_empty());
    assert_eq!(client.calls(), calls, "versions must not count");
    assert_eq!(hooks.usage.lock().unwrap().len(), observed);
    client.describe_global().await.unwrap();
    let usage = hooks.usage.lock().unwrap().clone();
    assert_eq!(usage.len(), observed + 1);
    let last = usage.last().unwrap().unwrap();
    assert_eq!(last.max, sb.usage().max);
    assert_eq!(last.used, sb.usage().used);
}

#[tokio::test]
async fn describe_revalidates_and_batches() {
    let sb = org(SandboxConfig::default()).await;
    let (client, _) = admin_client(&sb).await;
    let fresh = client.describe("Account", None).await.unwrap();
    let Described::Fresh { describe, .. } = fresh else {
        panic!("expected a describe")
    };
    assert!(describe.has_system_modstamp());
    let again = client
        .describe("Account", Some(Utc::now() + chrono::Duration::minutes(1)))
        .await
        .unwrap();
    assert!(matches!(again, Described::NotModified));
    let global = client.describe_global().await.unwrap();
    let mut names: Vec<String> = global
        .sobjects
        .iter()
        .filter(|o| o.is_sync_candidate())
        .map(|o| o.name.clone())
        .collect();
    names.truncate(30);
    names.push("NoSuchThing__c".into());
    let before = client.calls();
    let requests: Vec<DescribeRequest> = names
        .iter()
        .map(|object| DescribeRequest {
            object: object.clone(),
            if_modified_since: None,
        })
        .collect();
    let described = client.describe_composite(&requests).await.unwrap();
    assert_eq!(described.len(), names.len());
    // 25 describes to a composite call, each call billed once.
    assert_eq!(client.calls() - before, (names.len() as u64).div_ceil(25));
    for (name, result) in &described[..described.len() - 1] {
        let Ok(Described::Fresh { describe, .. }) = result else {
            panic!("{name}: {result:?}")
        };
        assert_eq!(&describe.name, name);
    }
    let missing = described.last().unwrap().1.as_ref().unwrap_err();
    assert_eq!(missing.fault().unwrap().code, "NOT_FOUND");
    let counts = client.record_count(&names[..2]).await.unwrap();
    assert_eq!(counts.sobjects.len(), 2);
}

#[tokio::test]
async fn wide_object_query_is_split_by_url_length_and_joined_by_id() {
    let records = [("Synthetic0001__c".to_string(), 450u64)]
        .into_iter()
        .collect();
    let schema = SchemaSource::Synthetic {
        objects: 1,
        fields_per_object: 700,
    };
    let sb = org(SandboxConfig {
        records,
        schema,
        ..SandboxConfig::default()
    })
    .await;
    let (client, _) = admin_client(&sb).await;
    let Described::Fresh { describe, .. } =
        client.describe("Synthetic0001__c", None).await.unwrap()
    else {
        panic!("expected a describe")
    };
    let fields: Vec<String> = describe
        .fields
        .iter()
        .filter(|f| !f.is_compound())
        .map(|f| f.name.clone())
        .collect();
    assert!(fields.len() >= 700);
    let select = Select::incremental("Synthetic0001__c", &fields, None);
    // The sandbox's field names are short (Field001__c): 700 of them fit Salesforce's
    // 16 000 bytes, so split at a proxy-like 4 000 to exercise several field groups.
    let whole = select.build().unwrap();
    assert!(whole.encoded_len() < MAX_URL_BYTES);
    let budget = 4_000;
    client.set_max_url_bytes(budget);
    let prefix = format!(
        "{}/services/data/v{}/queryAll/?q=",
        sb.base_url(),
        client.api_version()
    )
    .len();
    let plan = select.plan(prefix, budget).unwrap();
    assert!(plan.lookups.len() >= 2, "{} groups", plan.lookups.len());
    let before = sb.counters();
    let calls_before = client.calls();
    let pages = collect(client.select_pages(
        &select,
        QueryOptions {
            include_deleted: true,
            batch_size: Some(200),
        },
    ))
    .await;
    let rows: Vec<_> = pages.iter().flat_map(|p| p.records.iter()).collect();
    assert_eq!(rows.len() as u64, pages[0].total_size);
    assert!(rows.len() >= 400);
    for row in &rows {
        for field in &fields {
            assert!(
                row.get(field).is_some(),
                "{field} missing from {:?}",
                row.id()
            );
        }
    }
    let ids: HashSet<_> = rows.iter().map(|r| r.id().unwrap()).collect();
    assert_eq!(ids.len(), rows.len());
    // One driver query, then one lookup query per field group per page (over the page's
    // SystemModstamp range); every page fetched is one counted call.
    let after = sb.counters();
    assert_eq!(
        after.queries - before.queries,
        1 + (pages.len() * plan.lookups.len()) as u64
    );
    assert_eq!(
        client.calls() - calls_before,
        after.query_pages - before.query_pages
    );
}

#[tokio::test]
async fn api_version_is_negotiated_or_pinned() {
    let sb = org(SandboxConfig::default()).await;
    let (client, _) = admin_client(&sb).await;
    let offered = client.versions().await.unwrap();
    let newest = client.api_version();
    assert!(offered.iter().any(|v| v.version == newest));
    let oldest = offered[0].version.clone();
    assert_eq!(
        client.negotiate_api_version(Some(&oldest)).await.unwrap(),
        oldest
    );
    assert_eq!(client.api_version(), oldest);
    client.describe_global().await.unwrap();
    let err = client.negotiate_api_version(Some("7.0")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal);
    assert!(err.to_string().contains("api_version"), "{err}");
}

#[tokio::test]
async fn composite_pages_are_one_call_with_a_result_per_query() {
    let records = [
        ("Account".to_string(), 4_500u64),
        ("Contact".to_string(), 30),
    ]
    .into_iter()
    .collect();
    let sb = org(SandboxConfig {
        records,
        ..SandboxConfig::default()
    })
    .await;
    let (client, hooks) = admin_client(&sb).await;
    let all = QueryOptions {
        include_deleted: true,
        batch_size: Some(2000),
    };
    let accounts = soql::Soql::from_static("SELECT Id, Name FROM Account ORDER BY Id");
    let contacts = soql::Soql::from_static("SELECT Id FROM Contact");
    let nothing = soql::Soql::from_static("SELECT Id FROM Nothing__c");
    let first = |soql: &soql::Soql| PageRequest::First {
        soql: soql.clone(),
        options: all,
    };
    let (calls, used) = (client.calls(), sb.usage().used);
    let pages = client
        .composite_pages(&[first(&accounts), first(&contacts), first(&nothing)])
        .await
        .unwrap();
    assert_eq!((client.calls() - calls, sb.usage().used - used), (1, 1));
    let usage = last_usage(&hooks);
    assert_eq!(
        usage.used,
        sb.usage().used,
        "Sforce-Limit-Info of the composite call"
    );
    let [accounts_page, contacts_page, missing] = &pages[..] else {
        panic!("three results: {pages:?}")
    };
    let accounts_page = accounts_page.as_ref().unwrap();
    assert_eq!(
        (accounts_page.total_size, accounts_page.done),
        (4_500, false)
    );
    assert_eq!(accounts_page.records.len(), 2_000);
    assert_eq!(contacts_page.as_ref().unwrap().records.len(), 30);
    let missing = missing.as_ref().unwrap_err();
    assert_eq!(missing.class(), ErrorClass::Fatal);
    assert_eq!(missing.fault().unwrap().code, "INVALID_TYPE");

    // The next page, and the first again, in one call; then the rest as a stream.
    let next = accounts_page.next_records_url.clone().unwrap();
    let more = PageRequest::More {
        url: next.clone(),
        soql: accounts.clone(),
        options: all,
    };
    let pages = client
        .composite_pages(&[more, first(&accounts)])
        .await
        .unwrap();
    let second = pages[0].as_ref().unwrap();
    assert_eq!(second.records.len(), 2_000);
    assert_ne!(
        second.records.iter().next().unwrap().id(),
        accounts_page.records.iter().next().unwrap().id()
    );
    let rest = collect(client.query_pages_from(&next, &accounts, all)).await;
    assert_eq!(rest.iter().map(|p| p.records.len()).sum::<usize>(), 2_500);

    // Six query pages never go in one call.
    let six: Vec<PageRequest> = (0..6).map(|_| first(&contacts)).collect();
    let refused = client.composite_pages(&six).await.unwrap_err();
    assert_eq!(refused.fault().unwrap().code, "COMPOSITE_LIMIT");

    // The quota guard reserves one call for the whole request.
    *hooks.allow.lock().unwrap() = Some(1);
    assert!(client.composite_pages(&six[..5]).await.is_ok());
    let vetoed = client.composite_pages(&six[..1]).await.unwrap_err();
    assert_eq!(vetoed.class(), ErrorClass::Vetoed);
}

#[tokio::test]
async fn composite_describes_revalidate_with_if_modified_since() {
    let sb = org(SandboxConfig::default()).await;
    let (client, _) = admin_client(&sb).await;
    let ask = |object: &str, since| DescribeRequest {
        object: object.into(),
        if_modified_since: since,
    };
    let calls = client.calls();
    let answers = client
        .describe_composite(&[ask("Account", None), ask("Contact", None)])
        .await
        .unwrap();
    assert_eq!(client.calls() - calls, 1);
    let Ok(Described::Fresh {
        describe,
        last_modified,
    }) = &answers[0].1
    else {
        panic!("{answers:?}")
    };
    assert_eq!(describe.name, "Account");
    let since = chrono::DateTime::parse_from_rfc2822(last_modified.as_deref().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let answers = client
        .describe_composite(&[ask("Account", Some(since)), ask("Nope__c", None)])
        .await
        .unwrap();
    assert!(
        matches!(answers[0].1, Ok(Described::NotModified)),
        "{answers:?}"
    );
    let missing = answers[1].1.as_ref().unwrap_err();
    assert_eq!(missing.fault().unwrap().code, "NOT_FOUND");
}
