//! HTTP handlers of the OAuth endpoints, the identity URL and userinfo.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::Shared;
use super::error::ApiError;
use super::reply::Reply;
use super::state::State;

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

pub(super) async fn token(
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

pub(super) async fn revoke_post(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = form_params(&headers, q.as_deref(), &body);
    revoke_reply(&st, p.get("token"))
}

pub(super) async fn revoke_get(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let p = form_params(&headers, q.as_deref(), &[]);
    revoke_reply(&st, p.get("token"))
}

pub(super) async fn identity(
    AxState(st): AxState<Shared>,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if super::rest::authenticate(&st, &headers).is_none() {
        return super::rest::unauthorized();
    }
    match st.user_for_id(&user) {
        Some(u) if org == st.org_id => Reply::json(&st.identity(u)).into_response(None),
        _ => Reply::from(ApiError::not_found()).into_response(None),
    }
}

pub(super) async fn userinfo(AxState(st): AxState<Shared>, headers: HeaderMap) -> Response {
    match super::rest::authenticate(&st, &headers) {
        Some(u) => Reply::json(&st.userinfo(u)).into_response(None),
        None => super::rest::unauthorized(),
    }
}
