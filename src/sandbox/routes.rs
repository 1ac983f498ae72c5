//! HTTP surface: the REST data API, OAuth endpoints, approval pages and controls, plus the
//! layer that applies faults, sets the Content-Type and logs every call.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};

use super::Shared;
use super::approval;
use super::controls;
use super::counters::CallRecord;
use super::error::ApiError;
use super::faults::Fault;
use super::oauth_http;
use super::reply::{JSON_UTF8, Reply};
use super::rest;
use super::state::{State, lock};

pub fn router(st: Shared) -> Router {
    Router::new()
        .route("/services/data", get(rest::versions))
        .route("/services/data/", get(rest::versions))
        .route("/services/data/{version}", any(rest::data_root))
        .route("/services/data/{version}/", any(rest::data_root))
        .route("/services/data/{version}/{*rest}", any(rest::data))
        .route("/services/oauth2/token", post(oauth_http::token))
        .route(
            "/services/oauth2/authorize",
            get(approval::authorize_form).post(approval::authorize_submit),
        )
        .route(
            "/services/oauth2/revoke",
            get(oauth_http::revoke_get).post(oauth_http::revoke_post),
        )
        .route("/services/oauth2/userinfo", get(oauth_http::userinfo))
        .route("/id/{org}/{user}", get(oauth_http::identity))
        .route(
            "/setup/connect",
            get(approval::device_form).post(approval::device_submit),
        )
        // `nest` serves its "/" at "/__sandbox" only; the README's address has the slash.
        .route("/__sandbox/", get(controls::index))
        .nest("/__sandbox", controls::router())
        .merge(super::bulk::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(st.clone(), wire_layer))
        .with_state(st)
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
    // HTML pages and Bulk CSV results keep their own type; everything else is JSON.
    let keeps_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("text/csv"));
    if !keeps_type {
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
