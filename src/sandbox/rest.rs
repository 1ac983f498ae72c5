//! The REST data API under `/services/data/`: versions, resources, sObjects, describe,
//! query/queryAll and their pages, limits.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::error::ApiError;
use super::limits::Usage;
use super::query;
use super::reply::Reply;
use super::schema::{describe_global_json, describe_json, fnv1a};
use super::state::{SandboxUser, State, lock};

pub const OLDEST_VERSION: u32 = 31;
pub const NEWEST_VERSION: u32 = 62;

fn season_label(major: u32) -> String {
    let idx = major.saturating_sub(20);
    let season = ["Winter", "Spring", "Summer"][(idx % 3) as usize];
    format!("{season} '{:02}", 11 + idx / 3)
}

pub(super) async fn versions() -> Response {
    let list: Vec<Value> = (OLDEST_VERSION..=NEWEST_VERSION)
        .map(|v| json!({"version": format!("{v}.0"), "url": format!("/services/data/v{v}.0"), "label": season_label(v)}))
        .collect();
    Reply::json(&Value::Array(list)).into_response(None)
}

/// "v62.0" → "62.0" when the sandbox serves that version.
pub(super) fn parse_version(v: &str) -> Option<String> {
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
pub(super) fn authenticate(st: &State, headers: &HeaderMap) -> Option<SandboxUser> {
    bearer(headers).and_then(|t| st.check_access(t))
}

pub(super) fn unauthorized() -> Response {
    Reply::from(ApiError::invalid_session()).into_response(None)
}

/// Counts a call; past the daily maximum, the 403 the caller must send instead.
pub(super) fn admit(st: &State) -> Result<Usage, Box<Response>> {
    let r = lock(&st.quota).admit();
    r.map_err(|usage| {
        lock(&st.log).counters.limit_refusals += 1;
        Box::new(Reply::from(ApiError::limit_exceeded()).into_response(Some(usage)))
    })
}

pub(super) async fn data_root(
    st: AxState<Shared>,
    Path(version): Path<String>,
    method: Method,
    headers: HeaderMap,
    q: RawQuery,
    body: Bytes,
) -> Response {
    off_runtime(st.0, version, String::new(), method, headers, q.0, body).await
}

pub(super) async fn data(
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
    match rest.trim_end_matches('/') {
        "composite/batch" => {
            return super::composite::composite_batch(&st, &version, &method, &body);
        }
        "composite" => return super::composite_request::composite(&st, &version, &method, &body),
        _ => {}
    }
    let usage = match admit(&st) {
        Ok(u) => u,
        Err(r) => return *r,
    };
    dispatch(&st, &version, &method, rest, q.as_deref(), &headers).into_response(Some(usage))
}

pub(super) fn query_param(q: Option<&str>, key: &str) -> Option<String> {
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
                [kind @ ("deleted" | "updated")] => {
                    let (start, end) = (query_param(q, "start"), query_param(q, "end"));
                    let body = if *kind == "deleted" {
                        st.deleted(obj, start.as_deref(), end.as_deref())
                    } else {
                        st.updated(obj, start.as_deref(), end.as_deref())
                    };
                    match body {
                        Ok(b) => Reply::ok(b),
                        Err(e) => e.into(),
                    }
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
    let b = st.bulk_usage();
    let storage = super::bulk::STORAGE_MAX_MB;
    let mr = |max: u64, rem: u64| json!({"Max": max, "Remaining": rem});
    json!({
        "ConcurrentAsyncGetReportInstances": mr(200, 200),
        "ConcurrentSyncReportRuns": mr(20, 20),
        "DailyApiRequests": mr(u.max, u.max.saturating_sub(u.used)),
        "DailyAsyncApexExecutions": mr(250_000, 250_000),
        "DailyBulkApiBatches": mr(15_000, 15_000),
        "DailyBulkV2QueryFileStorageMB": mr(storage, storage.saturating_sub(b.storage_used_mb)),
        "DailyBulkV2QueryJobs": mr(b.jobs_max, b.jobs_max.saturating_sub(b.jobs_used)),
        "DataStorageMB": mr(5, 5),
        "FileStorageMB": mr(20, 20),
        "HourlyODataCallout": mr(10_000, 10_000),
        "SingleEmail": mr(15, 15),
    })
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
