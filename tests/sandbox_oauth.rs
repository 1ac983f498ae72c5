//! OAuth flows of the sandbox org: device flow, web-server + PKCE, refresh, revoke, idle
//! expiry, identity and the permission probe per user.

mod sandbox_support;

use std::time::Duration;

use base64::Engine;
use reqwest::Client;
use sandbox_support::*;
use serde_json::Value;
use syncdeck::sandbox::{Sandbox, SandboxConfig, SandboxHandle, SandboxUser};

async fn token_call(http: &Client, h: &SandboxHandle, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http
        .post(format!("{}/services/oauth2/token", h.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], JSON_UTF8);
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn start_device(http: &Client, h: &SandboxHandle) -> Value {
    let cid = h.client_id();
    let (s, v) = token_call(
        http,
        h,
        &[
            ("client_id", &cid),
            ("response_type", "device_code"),
            ("scope", "refresh_token web api"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    for k in ["device_code", "user_code", "verification_uri", "interval"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    assert!(v.get("expires_in").is_none());
    v
}

async fn poll(http: &Client, h: &SandboxHandle, device_code: &str) -> (u16, Value) {
    let cid = h.client_id();
    token_call(
        http,
        h,
        &[
            ("client_id", &cid),
            ("grant_type", "device"),
            ("code", device_code),
        ],
    )
    .await
}

fn manual_config() -> SandboxConfig {
    SandboxConfig {
        // Long enough that a second poll is "too fast" however loaded the machine is; an
        // approved or denied code answers at once whatever the interval.
        device_poll_interval: Duration::from_secs(60),
        ..SandboxConfig::default()
    }
}

fn assert_token_shape(t: &Value, base: &str, refresh: bool) {
    for k in [
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
        "scope",
    ] {
        assert!(t[k].is_string(), "{k} is a string: {t}");
    }
    assert!(t.get("expires_in").is_none());
    assert_eq!(t["instance_url"], base);
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["issued_at"].as_str().unwrap().parse::<u64>().is_ok());
    assert!(
        t["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/id/00D"))
    );
    assert_eq!(t.get("refresh_token").is_some(), refresh);
}

#[tokio::test]
async fn device_flow_pending_slow_down_denied_and_approved() {
    let h = Sandbox::start(manual_config()).await.unwrap();
    let http = client();

    // Pending, then too fast, then approved through the control endpoint.
    let d = start_device(&http, &h).await;
    assert_eq!(
        d["verification_uri"],
        format!("{}/setup/connect", h.base_url())
    );
    let code = d["device_code"].as_str().unwrap();
    let (s, v) = poll(&http, &h, code).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (400, "authorization_pending")
    );
    assert!(v["error_description"].is_string());
    let (s, v) = poll(&http, &h, code).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "slow_down"));
    assert_eq!(h.pending_device_codes().len(), 1);
    let r = http
        .post(format!("{}/__sandbox/approve", h.base_url()))
        .json(&serde_json::json!({"user_code": d["user_code"], "user": "standard"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, t) = poll(&http, &h, code).await;
    assert_eq!(s, 200, "{t}");
    assert_token_shape(&t, &h.base_url(), true);
    assert!(
        t["id"]
            .as_str()
            .unwrap()
            .ends_with(&h.user_id(SandboxUser::Standard))
    );

    // Denied through the HTML approval page.
    let d = start_device(&http, &h).await;
    let page = http
        .get(format!("{}/setup/connect", h.base_url()))
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("name=\"user_code\""));
    let r = http
        .post(format!("{}/setup/connect", h.base_url()))
        .form(&[
            ("user_code", d["user_code"].as_str().unwrap()),
            ("action", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, v) = poll(&http, &h, d["device_code"].as_str().unwrap()).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "access_denied"));

    // Approved as admin through the page.
    let d = start_device(&http, &h).await;
    let r = http
        .post(format!("{}/setup/connect", h.base_url()))
        .form(&[
            ("user_code", d["user_code"].as_str().unwrap()),
            ("action", "approve"),
            ("user", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, t) = poll(&http, &h, d["device_code"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert!(
        t["id"]
            .as_str()
            .unwrap()
            .ends_with(&h.user_id(SandboxUser::Admin))
    );

    let (s, v) = token_call(
        &http,
        &h,
        &[("client_id", "wrong"), ("response_type", "device_code")],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (400, "invalid_client_id")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn device_flow_accepts_multipart_like_sfdx() {
    let h = Sandbox::start(config(&[])).await.unwrap();
    let http = client();
    let body = format!(
        "--b0und\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n{}\r\n--b0und\r\nContent-Disposition: form-data; name=\"response_type\"\r\n\r\ndevice_code\r\n--b0und--\r\n",
        h.client_id()
    );
    let r = http
        .post(format!("{}/services/oauth2/token", h.base_url()))
        .header("content-type", "multipart/form-data; boundary=b0und")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    let (s, t) = poll(&http, &h, d["device_code"].as_str().unwrap()).await;
    assert_eq!(s, 200, "auto-approve: {t}");
    h.shutdown().await;
}

#[tokio::test]
async fn pkce_web_flow_refresh_and_revoke() {
    let h = Sandbox::start(config(&[])).await.unwrap();
    let http = client();
    let base = h.base_url();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    let redirect = "http://127.0.0.1:53682/callback";
    let authorize = |redirect_uri: &'static str| {
        let cid = h.client_id();
        let challenge = challenge.clone();
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}/services/oauth2/authorize"))
                .query(&[
                    ("response_type", "code"),
                    ("client_id", cid.as_str()),
                    ("redirect_uri", redirect_uri),
                    ("scope", "refresh_token api"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("state", "xyz"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let bad = authorize("https://evil.example.com/cb").await;
    assert_eq!(bad.status(), 400, "non-loopback redirect refused");

    let r = authorize(redirect).await;
    assert_eq!(r.status(), 302);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(loc.as_str().starts_with(redirect));
    let params: std::collections::HashMap<String, String> =
        loc.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz");
    let code = params["code"].clone();
    let cid = h.client_id();

    // A wrong verifier fails and burns the code.
    let (s, v) = token_call(
        &http,
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("redirect_uri", redirect),
            ("code_verifier", "wrong"),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "invalid_grant"));
    let r = authorize(redirect).await;
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code: String = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (s, t) = token_call(
        &http,
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &cid),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_token_shape(&t, &base, true);
    let refresh = t["refresh_token"].as_str().unwrap().to_string();

    // Refresh with and without the client secret; no new refresh token.
    let secret = h.client_secret();
    let (s, r1) = token_call(
        &http,
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &cid),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_token_shape(&r1, &base, false);
    let (s, r2) = token_call(
        &http,
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &cid),
            ("format", "json"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = token_call(
        &http,
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &cid),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "invalid_client"));

    // Identity URL works with the new token.
    let id: Value = http
        .get(r2["id"].as_str().unwrap())
        .bearer_auth(r2["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(id["user_id"], h.user_id(SandboxUser::Admin));
    assert_eq!(id["organization_id"], h.org_id());

    // Revoking the refresh token ends it and its access tokens.
    let r = http
        .post(format!("{base}/services/oauth2/revoke"))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("{base}/services/data/v62.0/limits"))
        .bearer_auth(r1["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "INVALID_SESSION_ID").await;
    let (s, v) = token_call(
        &http,
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &cid),
        ],
    )
    .await;
    assert_eq!(
        (
            s,
            v["error"].as_str().unwrap(),
            v["error_description"].as_str().unwrap()
        ),
        (400, "invalid_grant", "expired access/refresh token")
    );
    let r = http
        .post(format!("{base}/services/oauth2/revoke"))
        .form(&[("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    h.shutdown().await;
}

#[tokio::test]
async fn idle_access_tokens_expire_and_refresh_recovers() {
    let cfg = SandboxConfig {
        auto_approve: Some(Duration::ZERO),
        token_idle_timeout: Duration::from_millis(300),
        ..SandboxConfig::default()
    };
    let org = Org::start(cfg).await;
    assert_eq!(org.get("/services/data/v62.0/limits").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_error(
        org.get("/services/data/v62.0/limits").await,
        401,
        "INVALID_SESSION_ID",
    )
    .await;
    let cid = org.handle.client_id();
    let (s, t) = token_call(
        &org.http,
        &org.handle,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &org.refresh),
            ("client_id", &cid),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let r = org
        .get_with_token(
            "/services/data/v62.0/limits",
            t["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(r.status(), 200);

    // revoke-all control ends every session.
    let r = org.post_control("/__sandbox/revoke-all", None).await;
    assert_eq!(r.status(), 200);
    let r = org
        .get_with_token(
            "/services/data/v62.0/limits",
            t["access_token"].as_str().unwrap(),
        )
        .await;
    assert_error(r, 401, "INVALID_SESSION_ID").await;
    org.handle.shutdown().await;
}

#[tokio::test]
async fn permission_probe_answers_per_user() {
    let h = Sandbox::start(manual_config()).await.unwrap();
    let http = client();
    let mut tokens = Vec::new();
    for user in [SandboxUser::Admin, SandboxUser::Standard] {
        let d = start_device(&http, &h).await;
        assert_eq!(h.approve(d["user_code"].as_str(), user), 1);
        let (s, t) = poll(&http, &h, d["device_code"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        tokens.push((user, t));
    }
    for (user, t) in tokens {
        let uid = t["id"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(uid, h.user_id(user));
        let soql = format!(
            "SELECT PermissionSet.Name, PermissionSet.PermissionsApiEnabled, PermissionSet.PermissionsViewAllData, PermissionSet.PermissionsViewSetup FROM PermissionSetAssignment WHERE AssigneeId = '{uid}'"
        );
        let body: Value = http
            .get(format!("{}/services/data/v62.0/query/", h.base_url()))
            .query(&[("q", soql.as_str())])
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let recs = body["records"].as_array().unwrap();
        assert!(!recs.is_empty());
        let any = |k: &str| recs.iter().any(|r| r["PermissionSet"][k] == true);
        assert!(any("PermissionsApiEnabled"));
        assert_eq!(any("PermissionsViewAllData"), user == SandboxUser::Admin);
        assert_eq!(any("PermissionsViewSetup"), user == SandboxUser::Admin);
        assert_eq!(
            recs[0]["PermissionSet"]["attributes"]["type"],
            "PermissionSet"
        );
    }
    h.shutdown().await;
}

#[tokio::test]
async fn delayed_auto_approve_and_deny_control() {
    let cfg = SandboxConfig {
        // Long enough that the first poll, sent at once, comes before it even on a busy
        // machine; the approval is then awaited by polling, not by sleeping past it.
        auto_approve: Some(Duration::from_secs(2)),
        device_poll_interval: Duration::from_millis(50),
        ..SandboxConfig::default()
    };
    let h = Sandbox::start(cfg).await.unwrap();
    let http = client();
    let started = std::time::Instant::now();
    let d = start_device(&http, &h).await;
    let code = d["device_code"].as_str().unwrap();
    let (s, v) = poll(&http, &h, code).await;
    assert_eq!(
        (s, v["error"].as_str().unwrap()),
        (400, "authorization_pending")
    );
    let mut status = s;
    while status != 200 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(60)).await;
        status = poll(&http, &h, code).await.0;
    }
    assert_eq!(status, 200, "approved after the delay");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "approved before the delay"
    );

    // An explicit denial wins over a pending auto-approval.
    let d = start_device(&http, &h).await;
    let r = http
        .post(format!("{}/__sandbox/deny", h.base_url()))
        .json(&serde_json::json!({"user_code": d["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, v) = poll(&http, &h, d["device_code"].as_str().unwrap()).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "access_denied"));
    h.shutdown().await;
}
