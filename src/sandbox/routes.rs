//! HTTP surface: the REST data API, OAuth endpoints, approval pages and controls, plus the
//! layer that applies faults, sets the Content-Type and logs every call.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State as AxState};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

use super::Shared;
use super::approval;
use super::controls;
use super::counters::CallRecord;
use super::error::ApiError;
use super::faults::Fault;
use super::limits::Usage;
use super::query;
use super::schema::{describe_global_json, describe_json, fnv1a};
use super::state::{SandboxUser, State, lock};

pub const JSON_UTF8: &str = "application/json;charset=UTF-8";
pub const OLDEST_VERSION: u32 = 31;
pub const NEWEST_VERSION: u32 = 62;
const MAX_BATCH_REQUESTS: usize = 25;

pub fn router(st: Shared) -> Router {
    Router::new()
        .route("/services/data", get(versions))
        .route("/services/data/", get(versions))
        .route("/services/data/{version}", any(data_root))
        .route("/services/data/{version}/", any(data_root))
        .route("/services/data/{version}/{*rest}", any(data))
        .route("/services/oauth2/token", post(token))
        .route(
            "/services/oauth2/authorize",
            get(approval::authorize_form).post(approval::authorize_submit),
        )
        .route("/services/oauth2/revoke", get(revoke_get).post(revoke_post))
        .route("/services/oauth2/userinfo", get(userinfo))
        .route("/id/{org}/{user}", get(identity))
        .route(
            "/setup/connect",
            get(approval::device_form).post(approval::device_submit),
        )
        .nest("/__sandbox", controls::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(st.clone(), wire_layer))
        .with_state(st)
}

/// A REST reply before it becomes an HTTP response (composite batch reuses it).
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub headers: Vec<(HeaderName, String)>,
}

impl Reply {
    fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            headers: Vec::new(),
        }
    }
    fn json(v: &Value) -> Reply {
        Reply::ok(v.to_string().into_bytes())
    }
    fn into_response(self, usage: Option<Usage>) -> Response {
        let mut r = (self.status, self.body).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
        if let Some(u) = usage {
            if let Ok(v) = HeaderValue::from_str(&u.header()) {
                h.insert("sforce-limit-info", v);
            }
        }
        r
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            body: e.body(),
            headers: Vec::new(),
        }
    }
}

fn season_label(major: u32) -> String {
    let idx = major.saturating_sub(20);
    let season = ["Winter", "Spring", "Summer"][(idx % 3) as usize];
    format!("{season} '{:02}", 11 + idx / 3)
}

async fn versions() -> Response {
    let list: Vec<Value> = (OLDEST_VERSION..=NEWEST_VERSION)
        .map(|v| json!({"version": format!("{v}.0"), "url": format!("/services/data/v{v}.0"), "label": season_label(v)}))
        .collect();
    Reply::json(&Value::Array(list)).into_response(None)
}

/// "v62.0" → "62.0" when the sandbox serves that version.
fn parse_version(v: &str) -> Option<String> {
    let num = v.strip_prefix('v')?;
    let (major, minor) = num.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    (minor == "0" && (OLDEST_VERSION..=NEWEST_VERSION).contains(&major)).then(|| num.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("OAuth "))
        .map(str::trim)
}

/// The user behind the request's bearer token, if it is valid and not idle too long.
fn authenticate(st: &State, headers: &HeaderMap) -> Option<SandboxUser> {
    bearer(headers).and_then(|t| st.check_access(t))
}

fn unauthorized() -> Response {
    Reply::from(ApiError::invalid_session()).into_response(None)
}

/// Counts a call; past the daily maximum, the 403 the caller must send instead.
fn admit(st: &State) -> Result<Usage, Box<Response>> {
    let r = lock(&st.quota).admit();
    r.map_err(|usage| {
        lock(&st.log).counters.limit_refusals += 1;
        Box::new(Reply::from(ApiError::limit_exceeded()).into_response(Some(usage)))
    })
}

async fn data_root(
    st: AxState<Shared>,
    Path(version): Path<String>,
    method: Method,
    headers: HeaderMap,
    q: RawQuery,
    body: Bytes,
) -> Response {
    off_runtime(st.0, version, String::new(), method, headers, q.0, body).await
}

async fn data(
    st: AxState<Shared>,
    Path((version, rest)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    q: RawQuery,
    body: Bytes,
) -> Response {
    off_runtime(st.0, version, rest, method, headers, q.0, body).await
}

/// Runs a REST request on the blocking pool: a query over a million generated rows is CPU
/// work that must not stall the other sandboxes sharing the runtime.
async fn off_runtime(
    st: Shared,
    version: String,
    rest: String,
    method: Method,
    headers: HeaderMap,
    q: Option<String>,
    body: Bytes,
) -> Response {
    let job = tokio::task::spawn_blocking(move || {
        handle_data(st, &version, &rest, method, headers, q, body)
    });
    match job.await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "sandbox request handler failed");
            Reply::from(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred in the sandbox; see its log",
            ))
            .into_response(None)
        }
    }
}

fn handle_data(
    st: Shared,
    version: &str,
    rest: &str,
    method: Method,
    headers: HeaderMap,
    q: Option<String>,
    body: Bytes,
) -> Response {
    let Some(version) = parse_version(version) else {
        return Reply::from(ApiError::not_found()).into_response(None);
    };
    if authenticate(&st, &headers).is_none() {
        return unauthorized();
    }
    if rest.trim_end_matches('/') == "composite/batch" {
        return composite_batch(&st, &version, &method, &body);
    }
    let usage = match admit(&st) {
        Ok(u) => u,
        Err(r) => return *r,
    };
    dispatch(&st, &version, &method, rest, q.as_deref(), &headers).into_response(Some(usage))
}

fn query_param(q: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(q?.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn http_date(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// 304 when the client's copy (If-Modified-Since / If-None-Match) is current.
fn cached(
    st: &State,
    headers: &HeaderMap,
    tag: &str,
) -> (Option<Reply>, Vec<(HeaderName, String)>) {
    let etag = format!(
        "\"{:08x}\"",
        fnv1a(format!("{tag}/{}", st.data.seed).as_bytes()) as u32
    );
    let last_modified = http_date(st.schema_modified);
    let validators = vec![
        (header::ETAG, etag.clone()),
        (header::LAST_MODIFIED, last_modified),
    ];
    let modified_secs = st
        .schema_modified
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ims_fresh = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        .is_some_and(|d| d.timestamp() >= modified_secs);
    let inm_fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if ims_fresh || inm_fresh {
        let reply = Reply {
            status: StatusCode::NOT_MODIFIED,
            body: Vec::new(),
            headers: validators.clone(),
        };
        return (Some(reply), validators);
    }
    (None, validators)
}

/// Routes one REST request (after authentication and quota).
pub fn dispatch(
    st: &State,
    version: &str,
    method: &Method,
    rest: &str,
    q: Option<&str>,
    headers: &HeaderMap,
) -> Reply {
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let known_get = matches!(
        segs.as_slice(),
        [] | ["sobjects", ..] | ["query" | "queryAll", ..] | ["limits"] | ["limits", "recordCount"]
    );
    if known_get && method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are GET,HEAD"),
        )
        .into();
    }
    let base = format!("/services/data/v{version}");
    match segs.as_slice() {
        [] => Reply::json(&json!({
            "tooling": format!("{base}/tooling"), "metadata": format!("{base}/metadata"),
            "query": format!("{base}/query"), "queryAll": format!("{base}/queryAll"),
            "sobjects": format!("{base}/sobjects"), "limits": format!("{base}/limits"),
            "composite": format!("{base}/composite"), "recent": format!("{base}/recent"),
            "search": format!("{base}/search"), "jobs": format!("{base}/jobs"),
        })),
        ["sobjects"] => {
            let (hit, validators) = cached(st, headers, "global");
            if let Some(r) = hit {
                return r;
            }
            let mut r = Reply::json(&describe_global_json(&st.data.schema, version));
            r.headers = validators;
            r
        }
        ["sobjects", name, rest @ ..] => {
            let Some(obj) = st.data.schema.index_of(name) else {
                return ApiError::not_found().into();
            };
            let def = st.data.object(obj);
            match rest {
                [] => {
                    let global = describe_global_json(&st.data.schema, version);
                    let entry = global["sobjects"].get(obj).cloned().unwrap_or(Value::Null);
                    Reply::json(&json!({"objectDescribe": entry, "recentItems": []}))
                }
                ["describe"] => {
                    let (hit, validators) = cached(st, headers, &def.name);
                    if let Some(r) = hit {
                        return r;
                    }
                    let mut r = Reply::json(&describe_json(def, version));
                    r.headers = validators;
                    r
                }
                [id] => match super::ids::parse_id(id) {
                    Some((prefix, row)) if prefix == def.key_prefix => {
                        query::record(st, obj, row, version)
                            .map(Reply::ok)
                            .unwrap_or_else(|| ApiError::not_found().into())
                    }
                    _ => ApiError::not_found().into(),
                },
                _ => ApiError::not_found().into(),
            }
        }
        [kind @ ("query" | "queryAll")] => {
            let Some(soql) = query_param(q, "q") else {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "MALFORMED_QUERY",
                    "A query string has to be specified",
                )
                .into();
            };
            let batch = query::batch_size(
                headers
                    .get("sforce-query-options")
                    .and_then(|v| v.to_str().ok()),
            );
            match query::run(st, &soql, *kind == "queryAll", version, batch) {
                Ok(body) => Reply::ok(body),
                Err(e) => e.into(),
            }
        }
        ["query" | "queryAll", locator] => {
            let batch_header = headers
                .get("sforce-query-options")
                .and_then(|v| v.to_str().ok());
            match query::page(st, locator, version, batch_header) {
                Ok(body) => Reply::ok(body),
                Err(e) => e.into(),
            }
        }
        ["limits"] => Reply::json(&limits_json(st)),
        ["limits", "recordCount"] => {
            let wanted: Option<Vec<String>> = query_param(q, "sObjects")
                .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
            let list: Vec<Value> = st
                .data
                .schema
                .objects
                .iter()
                .enumerate()
                .filter(|(_, o)| {
                    wanted
                        .as_ref()
                        .is_none_or(|w| w.iter().any(|n| n.eq_ignore_ascii_case(&o.name)))
                })
                .map(|(i, o)| json!({"count": st.data.live_count(i), "name": o.name}))
                .collect();
            Reply::json(&json!({"sObjects": list}))
        }
        _ => ApiError::not_found().into(),
    }
}

fn limits_json(st: &State) -> Value {
    let u = lock(&st.quota).usage();
    let mr = |max: u64, rem: u64| json!({"Max": max, "Remaining": rem});
    json!({
        "ConcurrentAsyncGetReportInstances": mr(200, 200),
        "ConcurrentSyncReportRuns": mr(20, 20),
        "DailyApiRequests": mr(u.max, u.max.saturating_sub(u.used)),
        "DailyAsyncApexExecutions": mr(250_000, 250_000),
        "DailyBulkApiBatches": mr(15_000, 15_000),
        "DailyBulkV2QueryFileStorageMB": mr(976_562, 976_562),
        "DailyBulkV2QueryJobs": mr(10_000, 10_000),
        "DataStorageMB": mr(5, 5),
        "FileStorageMB": mr(20, 20),
        "HourlyODataCallout": mr(10_000, 10_000),
        "SingleEmail": mr(15, 15),
    })
}

fn composite_batch(st: &State, version: &str, method: &Method, body: &[u8]) -> Response {
    if method != Method::POST {
        return Reply::from(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are POST"),
        ))
        .into_response(None);
    }
    let bad = |m: &str| {
        Reply::from(ApiError::new(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            m.to_string(),
        ))
        .into_response(None)
    };
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return bad("The request body is not valid JSON");
    };
    let Some(subs) = req.get("batchRequests").and_then(Value::as_array) else {
        return bad("batchRequests is required");
    };
    if subs.len() > MAX_BATCH_REQUESTS {
        return Reply::from(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_BATCH_REQUEST",
            "A batch cannot contain more than 25 requests",
        ))
        .into_response(None);
    }
    let halt_on_error = req
        .get("haltOnError")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut usage = match admit(st) {
        Ok(u) => u,
        Err(r) => return *r,
    };
    let mut first = true;
    let mut halted = false;
    let mut has_errors = false;
    let mut results = Vec::with_capacity(subs.len());
    for sub in subs {
        let reply = if halted {
            Reply::from(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "BATCH_PROCESSING_HALTED",
                "Batch processing halted per request",
            ))
        } else {
            // The first subrequest uses the call admitted above; each further one is counted.
            let admitted = if first {
                Ok(usage)
            } else {
                lock(&st.quota).admit()
            };
            first = false;
            match admitted {
                Err(u) => {
                    usage = u;
                    ApiError::limit_exceeded().into()
                }
                Ok(u) => {
                    usage = u;
                    run_subrequest(st, version, sub)
                }
            }
        };
        if reply.status.as_u16() >= 400 {
            has_errors = true;
            halted |= halt_on_error;
        }
        let result: Value = if reply.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
        };
        results.push(json!({"statusCode": reply.status.as_u16(), "result": result}));
    }
    Reply::json(&json!({"hasErrors": has_errors, "results": results})).into_response(Some(usage))
}

fn run_subrequest(st: &State, version: &str, sub: &Value) -> Reply {
    let method = sub.get("method").and_then(Value::as_str).unwrap_or("GET");
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
    let url = sub.get("url").and_then(Value::as_str).unwrap_or("");
    let url = url
        .trim_start_matches('/')
        .trim_start_matches("services/data/");
    let (path, q) = url
        .split_once('?')
        .map_or((url, None), |(p, q)| (p, Some(q)));
    let (ver, rest) = path.split_once('/').unwrap_or((path, ""));
    let Some(ver) = parse_version(ver).or_else(|| (ver.is_empty()).then(|| version.to_string()))
    else {
        return ApiError::not_found().into();
    };
    dispatch(st, &ver, &method, rest, q, &HeaderMap::new())
}

fn form_params(headers: &HeaderMap, q: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut p: HashMap<String, String> = q
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("multipart/form-data") {
        if let Some(m) = super::oauth::parse_multipart(ct, body) {
            p.extend(m);
        }
    } else {
        p.extend(url::form_urlencoded::parse(body).into_owned());
    }
    p
}

async fn token(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let params = form_params(&headers, q.as_deref(), &body);
    let reply = st.token_endpoint(&params);
    Reply {
        status: reply.status,
        body: reply.body.to_string().into_bytes(),
        headers: Vec::new(),
    }
    .into_response(None)
}

fn revoke_reply(st: &State, token: Option<&String>) -> Response {
    if token.is_some_and(|t| st.revoke(t)) {
        return Reply::ok(Vec::new()).into_response(None);
    }
    let body = json!({"error": "unsupported_token_type", "error_description": "this token type is not supported"});
    Reply {
        status: StatusCode::BAD_REQUEST,
        body: body.to_string().into_bytes(),
        headers: Vec::new(),
    }
    .into_response(None)
}

async fn revoke_post(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = form_params(&headers, q.as_deref(), &body);
    revoke_reply(&st, p.get("token"))
}

async fn revoke_get(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = form_params(&headers, q.as_deref(), &[]);
    revoke_reply(&st, p.get("token"))
}

async fn identity(
    AxState(st): AxState<Shared>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if authenticate(&st, &headers).is_none() {
        return unauthorized();
    }
    match st.user_for_id(&user) {
        Some(u) if org == st.org_id => Reply::json(&st.identity(u)).into_response(None),
        _ => Reply::from(ApiError::not_found()).into_response(None),
    }
}

async fn userinfo(AxState(st): AxState<Shared>, headers: HeaderMap) -> Response {
    match authenticate(&st, &headers) {
        Some(u) => Reply::json(&st.userinfo(u)).into_response(None),
        None => unauthorized(),
    }
}

async fn not_found() -> Response {
    Reply::from(ApiError::not_found()).into_response(None)
}

fn fault_response(status: u16) -> Response {
    let (code, msg) = match status {
        503 => (
            "SERVER_UNAVAILABLE",
            "Server temporarily unavailable (sandbox fault injection)",
        ),
        _ => (
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred (sandbox fault injection)",
        ),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Reply::from(ApiError::new(status, code, msg)).into_response(None)
}

/// Applies faults to API paths, forces the Salesforce Content-Type, and logs the call.
async fn wire_layer(AxState(st): AxState<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().to_string();
    let api = path.starts_with("/services/") || path.starts_with("/id/");
    let mut fault = None;
    if api {
        let (latency, f) = {
            let mut faults = lock(&st.faults);
            (faults.latency, faults.take())
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        fault = f;
    }
    let mut resp = match fault {
        Some(Fault::Status(s)) => fault_response(s),
        _ => next.run(req).await,
    };
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    }
    let counted = resp.headers().contains_key("sforce-limit-info");
    let status = resp.status().as_u16();
    {
        let mut log = lock(&st.log);
        log.counters.faults_injected = lock(&st.faults).injected;
        log.push(CallRecord {
            at_ms: State::now_ms(),
            method,
            path,
            status,
            counted,
        });
    }
    match fault {
        Some(Fault::Malformed) | Some(Fault::Drop) => {
            let (mut parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.len() / 2;
            let head = if cut < 2 {
                Bytes::from_static(b"{\"")
            } else {
                bytes.slice(..cut)
            };
            parts.headers.remove(header::CONTENT_LENGTH);
            let body = if fault == Some(Fault::Malformed) {
                Body::from(head)
            } else {
                use futures::StreamExt;
                // The pause lets the status line and the first half reach the client first.
                let first = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(head) });
                let cut = futures::stream::once(async {
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "sandbox fault: connection dropped",
                    ))
                });
                Body::from_stream(first.chain(cut))
            };
            Response::from_parts(parts, body)
        }
        _ => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_labels() {
        assert_eq!(season_label(20), "Winter '11");
        assert_eq!(season_label(62), "Winter '25");
        assert_eq!(season_label(61), "Summer '24");
        assert_eq!(parse_version("v55.0").as_deref(), Some("55.0"));
        assert_eq!(parse_version("v99.0"), None);
        assert_eq!(parse_version("62.0"), None);
    }
}
