//! `POST /services/data/vXX.X/composite`: up to 25 subrequests answered in one response and
//! counted as ONE call against the quota (unlike `composite/batch`, which counts each).
//!
//! What Salesforce documents and this serves (SALESFORCE-API.md §2.4):
//! - body `{"compositeRequest": [{"method", "url", "referenceId", "httpHeaders"?}], "allOrNone"?}`,
//!   `url` a full `/services/data/vXX.X/...` path;
//! - answer `{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode", "referenceId"}]}`,
//!   top level 200 even when subrequests fail; a failed subrequest's `body` is the usual REST
//!   error array; `httpHeaders` carry validators (`ETag`, `Last-Modified`), never
//!   `Content-Length`;
//! - at most 25 subrequests, of which at most 5 query operations (`query`, `queryAll` and
//!   their `nextRecordsUrl` pages);
//! - `allOrNone: true`: processing stops at the first failure; the subrequests before it
//!   and after it answer 400 `PROCESSING_HALTED`.
//!
//! The error codes and messages for breaking the two limits are not confirmed from a
//! recording; the request is refused as a whole with HTTP 400 before anything runs or is
//! counted. References (`@{refId.path}`) are resolved in subrequest URLs only (GET
//! subrequests carry no body): `path` is dot-separated keys with optional `[n]` indexes,
//! e.g. `@{q.records[0].Id}`, into an earlier subrequest's successful body.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::reply::Reply;
use super::state::State;

pub const MAX_SUBREQUESTS: usize = 25;
pub const MAX_QUERY_SUBREQUESTS: usize = 5;

const HALTED: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

fn refuse(code: &'static str, message: impl Into<String>) -> Response {
    Reply::from(ApiError::new(StatusCode::BAD_REQUEST, code, message)).into_response(None)
}

/// One parsed subrequest.
struct Sub<'a> {
    method: Method,
    url: &'a str,
    reference_id: &'a str,
    headers: HeaderMap,
}

pub(super) fn composite(st: &State, version: &str, method: &Method, body: &[u8]) -> Response {
    if let Some(refused) = super::composite::post_only(method) {
        return refused;
    }
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return refuse("JSON_PARSER_ERROR", "The request body is not valid JSON");
    };
    let Some(list) = req.get("compositeRequest").and_then(Value::as_array) else {
        return refuse("JSON_PARSER_ERROR", "compositeRequest is required");
    };
    let subs = match parse_subs(list) {
        Ok(subs) => subs,
        Err(r) => return *r,
    };
    if subs.len() > MAX_SUBREQUESTS {
        return refuse(
            "LIMIT_EXCEEDED",
            format!(
                "Maximum number of subrequests exceeded: {} sent, {MAX_SUBREQUESTS} allowed",
                subs.len()
            ),
        );
    }
    let queries = subs.iter().filter(|s| is_query(s.url)).count();
    if queries > MAX_QUERY_SUBREQUESTS {
        return refuse(
            "LIMIT_EXCEEDED",
            format!(
                "Maximum number of query subrequests exceeded: {queries} sent, {MAX_QUERY_SUBREQUESTS} allowed"
            ),
        );
    }
    let all_or_none = req
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    // The whole request is one call.
    let usage = match super::rest::admit(st) {
        Ok(u) => u,
        Err(r) => return *r,
    };
    let mut answers: Vec<(u16, Value, Map<String, Value>)> = Vec::with_capacity(subs.len());
    let mut failed = false;
    for sub in &subs {
        if failed && all_or_none {
            answers.push(halted());
            continue;
        }
        let reply = match resolve_references(sub.url, &subs, &answers) {
            Ok(url) => run_subrequest(st, version, sub, &url),
            Err(e) => e.into(),
        };
        let status = reply.status.as_u16();
        failed |= status >= 400;
        let body = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        let headers = reply
            .headers
            .iter()
            .map(|(k, v)| (wire_name(k), Value::String(v.clone())))
            .collect();
        answers.push((status, body, headers));
    }
    if failed && all_or_none {
        for answer in answers.iter_mut().filter(|a| a.0 < 400) {
            *answer = halted();
        }
    }
    let response: Vec<Value> = subs
        .iter()
        .zip(answers)
        .map(|(sub, (status, body, headers))| {
            json!({"body": body, "httpHeaders": headers, "httpStatusCode": status, "referenceId": sub.reference_id})
        })
        .collect();
    Reply::json(&json!({"compositeResponse": response})).into_response(Some(usage))
}

fn halted() -> (u16, Value, Map<String, Value>) {
    let body = ApiError::new(StatusCode::BAD_REQUEST, "PROCESSING_HALTED", HALTED).body();
    (
        400,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        Map::new(),
    )
}

fn parse_subs(list: &[Value]) -> Result<Vec<Sub<'_>>, Box<Response>> {
    let mut subs: Vec<Sub<'_>> = Vec::with_capacity(list.len().min(MAX_SUBREQUESTS + 1));
    for item in list {
        let field = |name: &str| item.get(name).and_then(Value::as_str);
        let (Some(method), Some(url), Some(reference_id)) =
            (field("method"), field("url"), field("referenceId"))
        else {
            return Err(Box::new(refuse(
                "JSON_PARSER_ERROR",
                "every subrequest needs method, url and referenceId",
            )));
        };
        let Ok(method) = Method::from_bytes(method.as_bytes()) else {
            return Err(Box::new(refuse(
                "JSON_PARSER_ERROR",
                format!("unknown method {method}"),
            )));
        };
        if subs.iter().any(|s| s.reference_id == reference_id) {
            return Err(Box::new(refuse(
                "INVALID_INPUT",
                format!("Duplicate referenceId provided in the request: {reference_id}"),
            )));
        }
        let mut headers = HeaderMap::new();
        if let Some(h) = item.get("httpHeaders").and_then(Value::as_object) {
            for (name, value) in h {
                let value = value.as_str().and_then(|v| HeaderValue::from_str(v).ok());
                if let (Ok(name), Some(value)) = (HeaderName::from_bytes(name.as_bytes()), value) {
                    headers.insert(name, value);
                }
            }
        }
        subs.push(Sub {
            method,
            url,
            reference_id,
            headers,
        });
    }
    Ok(subs)
}

/// `query`, `queryAll` and their pages count toward the five query operations.
fn is_query(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or(url);
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    matches!(
        (segs.next(), segs.next(), segs.next(), segs.next()),
        (
            Some("services"),
            Some("data"),
            Some(_),
            Some("query" | "queryAll")
        )
    )
}

/// `ETag` and `Last-Modified` as Salesforce spells them.
fn wire_name(name: &HeaderName) -> String {
    if name == axum::http::header::ETAG {
        return "ETag".to_string();
    }
    name.as_str()
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn run_subrequest(st: &State, version: &str, sub: &Sub<'_>, url: &str) -> Reply {
    let Some(rest) = url.strip_prefix("/services/data/") else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_URL",
            format!("The subrequest url must begin with /services/data/v{version}: {url}"),
        )
        .into();
    };
    let (path, q) = rest
        .split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)));
    let (ver, rest) = path.split_once('/').unwrap_or((path, ""));
    let Some(ver) = super::rest::parse_version(ver) else {
        return ApiError::not_found().into();
    };
    if rest.trim_matches('/').starts_with("composite") {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_URL",
            "A composite subrequest cannot be a composite request",
        )
        .into();
    }
    super::rest::dispatch(st, &ver, &sub.method, rest, q, &sub.headers)
}

/// Replace every `@{refId.path}` in `url` with the value it names in an earlier answer.
fn resolve_references(
    url: &str,
    subs: &[Sub<'_>],
    answers: &[(u16, Value, Map<String, Value>)],
) -> Result<String, ApiError> {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| bad_reference(&rest[start..]))?;
        let expr = &after[..end];
        let (reference, path) = expr.split_once('.').unwrap_or((expr, ""));
        let answer = subs
            .iter()
            .zip(answers)
            .find(|(s, _)| s.reference_id == reference)
            .map(|(_, a)| a)
            .filter(|a| a.0 < 300)
            .ok_or_else(|| bad_reference(expr))?;
        let value = lookup(&answer.1, path).ok_or_else(|| bad_reference(expr))?;
        match value {
            Value::String(s) => out.push_str(s),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::Bool(b) => out.push_str(&b.to_string()),
            _ => return Err(bad_reference(expr)),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn bad_reference(expr: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_REFERENCE",
        format!("Invalid reference specified. No value for {expr} found"),
    )
}

/// `records[0].Id` inside `body`.
fn lookup<'v>(body: &'v Value, path: &str) -> Option<&'v Value> {
    let mut at = body;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            at = at.get(key)?;
        }
        for index in indexes.split('[') {
            let index = index.trim_end_matches(']');
            if !index.is_empty() {
                at = at.get(index.parse::<usize>().ok()?)?;
            }
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_operations_are_query_queryall_and_their_pages() {
        assert!(is_query(
            "/services/data/v62.0/query/?q=SELECT+Id+FROM+Account"
        ));
        assert!(is_query("/services/data/v62.0/queryAll?q=x"));
        assert!(is_query("/services/data/v62.0/query/0r8xx-2000"));
        assert!(!is_query("/services/data/v62.0/sobjects/Account/describe"));
        assert!(!is_query("/services/data/v62.0/sobjects/query"));
    }

    #[test]
    fn references_name_values_of_earlier_bodies() {
        let body = json!({"records": [{"Id": "001A"}], "totalSize": 3});
        assert_eq!(lookup(&body, "records[0].Id"), Some(&json!("001A")));
        assert_eq!(lookup(&body, "totalSize"), Some(&json!(3)));
        assert_eq!(lookup(&body, "records[1].Id"), None);
        assert_eq!(
            wire_name(&axum::http::header::LAST_MODIFIED),
            "Last-Modified"
        );
        assert_eq!(wire_name(&axum::http::header::ETAG), "ETag");
    }
}
