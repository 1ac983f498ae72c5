//! Device flow, hand-rolled: Salesforce's dialect predates RFC 8628 and differs from it
//! (the device code comes from the token endpoint with `response_type=device_code`, polling
//! sends `grant_type=device` and `code=` instead of the RFC grant URN and `device_code=`, and
//! the response has no `expires_in`), so the `oauth2` crate's device flow cannot talk to it.
//! Two form POSTs are all it takes.

use std::time::Duration;

use tokio::time::Instant;

use super::{AuthError, SCOPES, oauth_endpoint};
use crate::salesforce::body::{self, BodyClass};
use crate::salesforce::errors::{Error, Fault};
use crate::salesforce::http::HttpClient;
use crate::salesforce::types::{DeviceAuthorization, MAX_POLL_INTERVAL, OAuthErrorBody, TokenBody};

/// RFC 8628 §3.5: each `slow_down` adds five seconds to the polling interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Ask for a device code and the user code to show.
pub async fn start_device_flow(
    http: &HttpClient,
    login_url: &str,
    client_id: &str,
) -> Result<DeviceAuthorization, AuthError> {
    let scope = SCOPES.join(" ");
    let form = [
        ("response_type", "device_code"),
        ("client_id", client_id),
        ("scope", scope.as_str()),
    ];
    let (status, body) = post_form(http, login_url, &form).await?;
    if status != 200 {
        return Err(AuthError::Rejected {
            fault: oauth_fault(status, &body),
        });
    }
    serde_json::from_slice(&body).map_err(|e| {
        AuthError::Api(Error::fatal(
            "BAD_RESPONSE",
            format!("the device-code response is not understood ({e})"),
        ))
    })
}

/// The result of one poll.
#[derive(Debug)]
pub enum DevicePoll {
    /// Not approved yet; poll again after the interval.
    Pending,
    /// Poll less often.
    SlowDown,
    Authorized(Box<TokenBody>),
}

/// Poll once. Denial, expiry and other OAuth errors end the flow as errors.
pub async fn poll_device_once(
    http: &HttpClient,
    login_url: &str,
    client_id: &str,
    device: &DeviceAuthorization,
) -> Result<DevicePoll, AuthError> {
    let form = [
        ("grant_type", "device"),
        ("client_id", client_id),
        ("code", device.device_code.as_str()),
    ];
    let (status, body) = post_form(http, login_url, &form).await?;
    if status == 200 {
        let token = serde_json::from_slice(&body).map_err(|e| {
            AuthError::Api(Error::fatal(
                "BAD_RESPONSE",
                format!("the token response is not understood ({e})"),
            ))
        })?;
        return Ok(DevicePoll::Authorized(Box::new(token)));
    }
    let fault = oauth_fault(status, &body);
    match fault.code.as_str() {
        "authorization_pending" => Ok(DevicePoll::Pending),
        "slow_down" => Ok(DevicePoll::SlowDown),
        "access_denied" => Err(AuthError::Denied { fault }),
        "expired_token" => Err(AuthError::Expired {
            minutes: device.approval_window(Duration::from_secs(600)).as_secs() / 60,
        }),
        _ if status >= 500 => Err(AuthError::Api(Error::retryable(fault))),
        _ => Err(AuthError::Rejected { fault }),
    }
}

/// Poll until approved, denied, or `max_wait` has passed (Salesforce sends no expiry; the
/// caller picks one; a server's `expires_in` and `interval` are honoured up to
/// `MAX_DEVICE_WINDOW` and `MAX_POLL_INTERVAL`). `on_wait` sees the remaining time before
/// each sleep, for countdowns.
pub async fn poll_device_flow(
    http: &HttpClient,
    login_url: &str,
    client_id: &str,
    device: &DeviceAuthorization,
    max_wait: Duration,
    mut on_wait: impl FnMut(Duration),
) -> Result<TokenBody, AuthError> {
    let max_wait = device.approval_window(max_wait);
    let deadline = Instant::now() + max_wait;
    let mut interval = device.poll_interval();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(AuthError::Expired {
                minutes: max_wait.as_secs() / 60,
            });
        }
        on_wait(remaining);
        tokio::time::sleep(interval.min(remaining)).await;
        match poll_device_once(http, login_url, client_id, device).await {
            Ok(DevicePoll::Authorized(token)) => return Ok(*token),
            Ok(DevicePoll::Pending) => {}
            Ok(DevicePoll::SlowDown) => {
                interval = interval
                    .saturating_add(SLOW_DOWN_STEP)
                    .min(MAX_POLL_INTERVAL);
                tracing::debug!(?interval, "device flow: slow_down");
            }
            // A network blip must not lose the code the operator is typing in.
            Err(AuthError::Api(Error::Retryable { fault, .. })) => {
                tracing::warn!(%fault, "device flow poll failed; polling again");
            }
            Err(e) => return Err(e),
        }
    }
}

async fn post_form(
    http: &HttpClient,
    login_url: &str,
    form: &[(&str, &str)],
) -> Result<(u16, Vec<u8>), AuthError> {
    let transport = |e: reqwest::Error| {
        AuthError::Api(Error::retryable(Fault::new(
            None,
            "CONNECTION",
            e.to_string(),
        )))
    };
    let response = http
        .reqwest()
        .post(oauth_endpoint(login_url, "token"))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(transport)?;
    let status = response.status().as_u16();
    let body = body::read_capped(response, BodyClass::Small.cap())
        .await
        .map_err(transport)?;
    if status == 200 && !body.complete {
        return Err(AuthError::Api(body::too_large(
            BodyClass::Small.cap(),
            "the OAuth token endpoint",
        )));
    }
    Ok((status, body::error_text(&body)))
}

fn oauth_fault(status: u16, body: &[u8]) -> Fault {
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(err) => Fault::new(
            Some(status),
            err.error,
            err.error_description.unwrap_or_default(),
        ),
        Err(_) => Fault::from_rest_body(status, body),
    }
}
