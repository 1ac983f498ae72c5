//! A misbehaving endpoint in front of a sandbox org: every request is forwarded to the
//! sandbox except the ones a [`Hostility`] answers itself, the way a broken proxy or a
//! hostile server would.

#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use futures::stream;

/// What the endpoint does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostility {
    /// describeGlobal answers 200 MiB.
    OversizedDescribeGlobal,
    /// describeGlobal answers a ~0.5 MiB gzip body that decodes to 512 MiB.
    GzipBombDescribeGlobal,
    /// Every query page (alone or in a composite call) holds 4 000 records whose keys all
    /// differ.
    DistinctKeysPage,
    /// Every query (alone or in a composite call) fails with an error message of this many
    /// bytes.
    HugeErrorMessage(usize),
    /// Every versioned REST call answers 503 with `Retry-After: 18446744073709551615`,
    /// after 1.1 s (the client's elapsed time plus that wait overflowed a `Duration` only
    /// once a second had passed).
    MaxRetryAfter,
    /// The device flow says `expires_in` = u64::MAX, polls right away, and is denied.
    DeviceFlowEndless,
    /// The device flow says `interval` = u64::MAX, expires in 2 s, and polls say slow_down.
    DeviceFlowSlowDown,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    hostility: Hostility,
}

/// Serve `hostility` in front of `upstream` on 127.0.0.1; returns the base URL.
pub async fn start(upstream: String, hostility: Hostility) -> String {
    let proxy = Arc::new(Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        client: reqwest::Client::new(),
        hostility,
    });
    let app = Router::new().fallback(handle).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn handle(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path();
    if let Some(response) = hostile(proxy.hostility, &parts.method, path, &body) {
        if proxy.hostility == Hostility::MaxRetryAfter {
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        return response;
    }
    forward(&proxy, parts, body).await
}

fn hostile(h: Hostility, method: &Method, path: &str, body: &[u8]) -> Option<Response> {
    let form = String::from_utf8_lossy(body);
    // query/ and queryAll/, first pages and nextRecordsUrl pages.
    let is_query = *method == Method::GET && path.contains("/query");
    // First pages travel in composite calls (grouped, or with the newest row for slicing):
    // the hostile answer reaches them there too (describes in composite calls pass).
    let is_composite = *method == Method::POST
        && path.ends_with("/composite")
        && (form.contains("/query/?q=") || form.contains("/queryAll/?q="));
    let is_global = *method == Method::GET && path.ends_with("/sobjects/");
    let is_token = *method == Method::POST && path == "/services/oauth2/token";
    match h {
        Hostility::OversizedDescribeGlobal if is_global => Some(oversized()),
        Hostility::GzipBombDescribeGlobal if is_global => Some(gzip_bomb()),
        Hostility::DistinctKeysPage if is_query => Some(json(StatusCode::OK, distinct_keys_page())),
        Hostility::DistinctKeysPage if is_composite => Some(json(
            StatusCode::OK,
            every_subrequest(body, &distinct_keys_page()),
        )),
        Hostility::HugeErrorMessage(len) if is_query || is_composite => Some(json(
            StatusCode::BAD_REQUEST,
            format!(
                r#"[{{"message":"{}","errorCode":"INVALID_FIELD"}}]"#,
                "x".repeat(len)
            ),
        )),
        Hostility::MaxRetryAfter if path.starts_with("/services/data/v") => {
            let mut r = json(
                StatusCode::SERVICE_UNAVAILABLE,
                r#"[{"message":"come back later","errorCode":"SERVER_UNAVAILABLE"}]"#.into(),
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static("18446744073709551615"),
            );
            Some(r)
        }
        Hostility::DeviceFlowEndless | Hostility::DeviceFlowSlowDown if is_token => {
            Some(device_flow(h, &form))
        }
        _ => None,
    }
}

fn json(status: StatusCode, body: String) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

/// 200 MiB of a describeGlobal-looking body, streamed (never held by the server).
fn oversized() -> Response {
    let object = r#"{"name":"Hostile__c","label":"Hostile","queryable":true,"custom":true},"#;
    let chunk = Bytes::from(object.repeat((1 << 20) / object.len()));
    let head = Bytes::from_static(br#"{"encoding":"UTF-8","maxBatchSize":200,"sobjects":["#);
    let chunks = std::iter::once(head).chain(std::iter::repeat_n(chunk, 200));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream::iter(
            chunks.map(Ok::<_, std::io::Error>),
        )))
        .unwrap()
}

/// 512 MiB of JSON whitespace, gzip-compressed once per test process.
fn bomb() -> &'static Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(br#"{"encoding":"UTF-8","maxBatchSize":200,"sobjects":["#)
            .unwrap();
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..512 {
            gz.write_all(&spaces).unwrap();
        }
        Bytes::from(gz.finish().unwrap())
    })
}

/// Bytes the gzip bomb takes on the wire.
pub fn gzip_bomb_len() -> usize {
    bomb().len()
}

fn gzip_bomb() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(bomb().clone()))
        .unwrap()
}

/// A composite answer giving `result` to each of the request's subrequests.
fn every_subrequest(request: &[u8], result: &str) -> String {
    let request: serde_json::Value = serde_json::from_slice(request).unwrap_or_default();
    let answers: Vec<String> = request["compositeRequest"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|sub| {
            format!(
                r#"{{"body":{result},"httpHeaders":{{}},"httpStatusCode":200,"referenceId":{}}}"#,
                sub["referenceId"]
            )
        })
        .collect();
    format!(r#"{{"compositeResponse":[{}]}}"#, answers.join(","))
}

/// A query page of 4 000 records whose keys all differ (about 160 KB).
fn distinct_keys_page() -> String {
    let records: Vec<String> = (0..4000)
        .map(|i| {
            format!(r#"{{"attributes":{{"type":"Account"}},"Id":"001{i:015}","F{i}__c":{i}}}"#)
        })
        .collect();
    format!(
        r#"{{"totalSize":4000,"done":true,"records":[{}]}}"#,
        records.join(",")
    )
}

fn device_flow(h: Hostility, form: &str) -> Response {
    let max = u64::MAX;
    if form.contains("response_type=device_code") {
        let (interval, expires_in) = match h {
            Hostility::DeviceFlowEndless => (0, max),
            _ => (max, 2),
        };
        return json(
            StatusCode::OK,
            format!(
                r#"{{"device_code":"dc","user_code":"HOSTILE1","verification_uri":"http://127.0.0.1/verify","interval":{interval},"expires_in":{expires_in}}}"#
            ),
        );
    }
    let error = match h {
        Hostility::DeviceFlowEndless => "access_denied",
        _ => "slow_down",
    };
    json(
        StatusCode::BAD_REQUEST,
        format!(r#"{{"error":"{error}","error_description":"hostile"}}"#),
    )
}

async fn forward(proxy: &Proxy, parts: axum::http::request::Parts, body: Bytes) -> Response {
    let url = format!(
        "{}{}",
        proxy.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = proxy.client.request(parts.method.clone(), url).body(body);
    for (name, value) in &parts.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "accept-encoding" | "connection"
        ) {
            request = request.header(name, value);
        }
    }
    let Ok(upstream) = request.send().await else {
        return json(StatusCode::BAD_GATEWAY, "[]".into());
    };
    let status = upstream.status();
    let mut headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "content-encoding" | "connection"
        ) {
            headers.insert(name.clone(), value.clone());
        }
    }
    let bytes = upstream.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
