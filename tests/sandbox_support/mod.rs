//! Shared helpers for the sandbox integration tests: start an org, log in, call it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use syncdeck::sandbox::{Sandbox, SandboxConfig, SandboxHandle};

pub mod bulk_form;
#[path = "../recorded/mod.rs"]
pub mod recorded;
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn config(records: &[(&str, u64)]) -> SandboxConfig {
    SandboxConfig {
        records: records
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
        auto_approve: Some(Duration::ZERO),
        ..SandboxConfig::default()
    }
}

pub struct Org {
    pub handle: SandboxHandle,
    pub http: Client,
    pub token: String,
    pub refresh: String,
    pub base: String,
}

impl Org {
    pub async fn start(cfg: SandboxConfig) -> Org {
        let handle = Sandbox::start(cfg).await.unwrap();
        let http = client();
        let base = handle.base_url();
        let tok = device_login(&http, &handle).await;
        Org {
            token: tok["access_token"].as_str().unwrap().to_string(),
            refresh: tok["refresh_token"].as_str().unwrap().to_string(),
            handle,
            http,
            base,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with_token(path, &self.token).await
    }

    /// GET with a token other than this org's own (expired, revoked, another org's).
    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// GET without any token: `/__sandbox/*` controls, the version list, auth failures.
    pub async fn get_anonymous(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// POST to a `/__sandbox/*` control, with a JSON body when the control takes one.
    pub async fn post_control(&self, path: &str, body: Option<&Value>) -> Response {
        let mut req = self.http.post(self.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    pub async fn query(&self, endpoint: &str, soql: &str, batch: Option<u32>) -> Response {
        let req = self
            .http
            .get(self.url(&format!("/services/data/v62.0/{endpoint}/")))
            .query(&[("q", soql)])
            .bearer_auth(&self.token);
        with_batch_size(req, batch).send().await.unwrap()
    }

    /// The body of a default-batch query, whatever its status.
    pub async fn query_json(&self, endpoint: &str, soql: &str) -> Value {
        self.query(endpoint, soql, None).await.json().await.unwrap()
    }

    /// Follows nextRecordsUrl to the end; returns every page body.
    pub async fn query_all_pages(
        &self,
        endpoint: &str,
        soql: &str,
        batch: Option<u32>,
    ) -> Vec<Value> {
        let first = self.query(endpoint, soql, batch).await;
        assert_eq!(first.status(), StatusCode::OK);
        let mut pages = vec![first.json::<Value>().await.unwrap()];
        while let Some(next) = pages
            .last()
            .unwrap()
            .get("nextRecordsUrl")
            .and_then(Value::as_str)
        {
            let req = self.http.get(self.url(next)).bearer_auth(&self.token);
            let r = with_batch_size(req, batch).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "page {next}");
            pages.push(r.json().await.unwrap());
        }
        pages
    }
}

fn with_batch_size(req: RequestBuilder, batch: Option<u32>) -> RequestBuilder {
    match batch {
        Some(b) => req.header("Sforce-Query-Options", format!("batchSize={b}")),
        None => req,
    }
}

/// Device flow against an auto-approving sandbox; returns the token response.
pub async fn device_login(http: &Client, handle: &SandboxHandle) -> Value {
    let base = handle.base_url();
    let start: Value = http
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("client_id", handle.client_id().as_str()),
            ("response_type", "device_code"),
            ("scope", "refresh_token web api"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("client_id", handle.client_id().as_str()),
            ("grant_type", "device"),
            ("code", start["device_code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Asserts a Salesforce REST error: status, content type, `[{"message","errorCode"}]`.
pub async fn assert_error(r: Response, status: u16, code: &str) -> String {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(r.headers()["content-type"], JSON_UTF8);
    let body: Value = r.json().await.unwrap();
    let arr = body.as_array().expect("errors are a JSON array");
    assert_eq!(arr.len(), 1);
    let obj = arr[0].as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["errorCode", "message"]);
    assert_eq!(obj["errorCode"], code);
    obj["message"].as_str().unwrap().to_string()
}

pub fn usage(r: &Response) -> (u64, u64) {
    let h = r.headers()["sforce-limit-info"].to_str().unwrap();
    let rest = h.strip_prefix("api-usage=").expect("api-usage=USED/MAX");
    let (u, m) = rest.split_once('/').unwrap();
    (u.parse().unwrap(), m.parse().unwrap())
}
