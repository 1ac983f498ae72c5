//! Small HTML pages where a person approves a device code (at the verification URI) or a
//! web-server authorization request.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use super::oauth::{Decision, is_loopback_redirect};
use super::state::SandboxUser;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:36em;margin:3em auto}}input,button{{font-size:1.1em;margin:.3em}}</style>\
         </head><body><h1>{t}</h1>{body}<p><small>syncdeck sandbox org — not Salesforce</small></p></body></html>",
        t = escape(title)
    ))
}

const USER_CHOICE: &str = "<p><label><input type=\"radio\" name=\"user\" value=\"admin\" checked> System Administrator (API Enabled, View All Data)</label><br>\
    <label><input type=\"radio\" name=\"user\" value=\"standard\"> Standard User (no View All Data)</label></p>";

fn user_from(form: &HashMap<String, String>) -> SandboxUser {
    match form.get("user").map(String::as_str) {
        Some("standard") => SandboxUser::Standard,
        _ => SandboxUser::Admin,
    }
}

/// `GET /setup/connect`: enter the user code shown by the device.
pub async fn device_form(Query(q): Query<HashMap<String, String>>) -> Html<String> {
    let code = q.get("user_code").map(|c| escape(c)).unwrap_or_default();
    page(
        "Connect a device",
        &format!(
            "<form method=\"post\"><p>Enter the code shown by the application:</p>\
             <input name=\"user_code\" value=\"{code}\" autofocus autocomplete=\"off\">{USER_CHOICE}\
             <button name=\"action\" value=\"approve\">Allow</button> <button name=\"action\" value=\"deny\">Deny</button></form>"
        ),
    )
}

/// `POST /setup/connect`.
pub async fn device_submit(
    AxState(st): AxState<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let code = form
        .get("user_code")
        .map(String::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if code.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Connect a device",
                "<p>Enter the code shown by the application.</p>",
            ),
        )
            .into_response();
    }
    let decision = if form.get("action").map(String::as_str) == Some("deny") {
        Decision::Denied
    } else {
        Decision::Approved(user_from(&form))
    };
    let n = st.decide_device(Some(&code), decision);
    if n == 0 {
        return (
            StatusCode::NOT_FOUND,
            page("Unknown code", &format!("<p>No pending request has code <b>{}</b>. Check the code or start the login again.</p>", escape(&code))),
        )
            .into_response();
    }
    let msg = match decision {
        Decision::Denied => "Access denied. You can close this window.",
        Decision::Approved(_) => "Access granted. Return to your application.",
    };
    page("Done", &format!("<p>{msg}</p>")).into_response()
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return (
            StatusCode::BAD_REQUEST,
            page("Bad redirect_uri", "<p>redirect_uri is not a URL.</p>"),
        )
            .into_response();
    };
    {
        let mut qp = url.query_pairs_mut();
        for (k, v) in params {
            qp.append_pair(k, v);
        }
    }
    // 302 Found, as Salesforce answers the authorize endpoint.
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

fn boxed_redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Box<Response> {
    Box::new(redirect_with(redirect_uri, params))
}

/// Validates an authorize request; the refusal to send back when it is not acceptable.
fn check_authorize(st: &Shared, q: &HashMap<String, String>) -> Result<(), Box<Response>> {
    let bad = |msg: &str| {
        Box::new(
            (
                StatusCode::BAD_REQUEST,
                page("Cannot authorize", &format!("<p>{}</p>", escape(msg))),
            )
                .into_response(),
        )
    };
    if q.get("client_id") != Some(&st.client_id) {
        return Err(bad("client identifier invalid"));
    }
    let redirect = q.get("redirect_uri").map(String::as_str).unwrap_or("");
    if !is_loopback_redirect(redirect) {
        return Err(bad(
            "redirect_uri must be an http URL on a loopback address (127.0.0.1, [::1] or localhost)",
        ));
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        return Err(boxed_redirect(
            redirect,
            &[
                ("error", "unsupported_response_type"),
                ("error_description", "response_type must be code"),
            ],
        ));
    }
    if q.contains_key("code_challenge")
        && q.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return Err(boxed_redirect(
            redirect,
            &[
                ("error", "invalid_request"),
                ("error_description", "code_challenge_method must be S256"),
            ],
        ));
    }
    Ok(())
}

fn approve_redirect(st: &Shared, q: &HashMap<String, String>, user: SandboxUser) -> Response {
    let redirect = q.get("redirect_uri").map(String::as_str).unwrap_or("");
    let code = st.grant_code(user, redirect, q.get("code_challenge").map(String::as_str));
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = q.get("state") {
        params.push(("state", state.as_str()));
    }
    redirect_with(redirect, &params)
}

/// `GET /services/oauth2/authorize`: the consent page (or an immediate redirect with auto-approve).
pub async fn authorize_form(
    AxState(st): AxState<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_authorize(&st, &q) {
        return *r;
    }
    if let Some(delay) = st.auto_approve {
        tokio::time::sleep(delay).await;
        return approve_redirect(&st, &q, SandboxUser::Admin);
    }
    let hidden: String = q
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    page(
        "Allow access?",
        &format!(
            "<form method=\"post\">{hidden}<p>An application wants to access this sandbox org.</p>{USER_CHOICE}\
             <button name=\"action\" value=\"approve\">Allow</button> <button name=\"action\" value=\"deny\">Deny</button></form>"
        ),
    )
    .into_response()
}

/// `POST /services/oauth2/authorize`: the consent decision.
pub async fn authorize_submit(
    AxState(st): AxState<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_authorize(&st, &form) {
        return *r;
    }
    if form.get("action").map(String::as_str) == Some("deny") {
        let redirect = form.get("redirect_uri").map(String::as_str).unwrap_or("");
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", "end-user denied authorization"),
        ];
        if let Some(state) = form.get("state") {
            params.push(("state", state.as_str()));
        }
        return redirect_with(redirect, &params);
    }
    approve_redirect(&st, &form, user_from(&form))
}
