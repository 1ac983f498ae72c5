//! `composite/batch`: up to 25 subrequests in one call, each counted against the quota.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::ApiError;
use super::reply::Reply;
use super::state::{State, lock};

const MAX_BATCH_REQUESTS: usize = 25;

/// The refusal of anything but POST on a composite resource.
pub(super) fn post_only(method: &Method) -> Option<Response> {
    (method != Method::POST).then(|| {
        Reply::from(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are POST"),
        ))
        .into_response(None)
    })
}

pub(super) fn composite_batch(st: &State, version: &str, method: &Method, body: &[u8]) -> Response {
    if let Some(refused) = post_only(method) {
        return refused;
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
    let mut usage = match super::rest::admit(st) {
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
    let Some(ver) =
        super::rest::parse_version(ver).or_else(|| (ver.is_empty()).then(|| version.to_string()))
    else {
        return ApiError::not_found().into();
    };
    super::rest::dispatch(st, &ver, &method, rest, q, &HeaderMap::new())
}
