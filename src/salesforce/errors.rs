//! Error classification. Every failure keeps Salesforce's errorCode and message and renders
//! as one sentence saying what happened and what to do.

use std::fmt;
use std::time::Duration;

use super::types::RestError;

/// What Salesforce (or the network) said, kept verbatim for logs and the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Salesforce `errorCode`, OAuth `error`, or our own tag for transport failures
    /// (`TIMEOUT`, `CONNECTION`, `TRUNCATED_BODY`, `BAD_RESPONSE`).
    pub code: String,
    pub message: String,
}

/// Longest error text kept from a server (message) or for its code. A hostile or broken
/// endpoint can send megabytes of "message"; everything downstream (status line, store,
/// snapshots, `status --json`, log) carries what is kept here.
pub const MAX_FAULT_TEXT: usize = 2048;
const MAX_FAULT_CODE: usize = 120;

impl Fault {
    /// Texts longer than [`MAX_FAULT_TEXT`] are cut here, once, at a character boundary.
    pub fn new(status: Option<u16>, code: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault {
            status,
            code: bound_text(code.into(), MAX_FAULT_CODE),
            message: bound_text(message.into(), MAX_FAULT_TEXT),
        }
    }

    /// Build from a REST error body (an array; the first element is the one that matters).
    pub fn from_rest_body(status: u16, body: &[u8]) -> Fault {
        match serde_json::from_slice::<Vec<RestError>>(body) {
            Ok(errors) if !errors.is_empty() => {
                let first = &errors[0];
                Fault::new(
                    Some(status),
                    first.error_code.clone(),
                    first.message.clone(),
                )
            }
            _ => Fault::new(
                Some(status),
                format!("HTTP_{status}"),
                String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            ),
        }
    }
}

/// `text` cut to at most `max` bytes at a character boundary, saying how much was cut.
pub fn bound_text(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("… ({cut} bytes cut)"));
    text
}

impl fmt::Display for Fault {
    /// `CODE: message` with Salesforce's multi-line caret messages folded onto one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self
            .message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        match self.status {
            Some(status) => write!(f, "{} (HTTP {status}): {message}", self.code),
            None => write!(f, "{}: {message}", self.code),
        }
    }
}

/// Why a hook refused a call before it was sent (the engine's quota guard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veto {
    pub reason: String,
}

impl fmt::Display for Veto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Tokens are gone or rejected; only a new authorization helps.
    #[error("Reauthorize: {reason} ({fault}); run `syncdeck auth` for this source")]
    AuthRequired { reason: String, fault: Fault },
    /// The org's daily API allocation is spent.
    #[error(
        "The org's daily API limit is exhausted ({fault}); syncing resumes once Salesforce's rolling 24-hour usage falls"
    )]
    QuotaExceeded { fault: Fault },
    /// Transient failure that outlasted the retry budget.
    #[error(
        "Salesforce or the network failed ({fault}) after {attempts} attempt{} in {}s; check the network and try again (scheduled runs retry by themselves)",
        if *attempts == 1 { "" } else { "s" },
        elapsed.as_secs()
    )]
    Retryable {
        fault: Fault,
        attempts: u32,
        elapsed: Duration,
        /// The server's `Retry-After`, honoured by the retry loop.
        retry_after: Option<Duration>,
    },
    /// The query cursor expired or is unknown; restart from the last checkpoint.
    #[error(
        "The query cursor is no longer valid ({fault}); restart the query from the last checkpoint"
    )]
    InvalidQueryLocator { fault: Fault },
    /// The authorizing user lacks a permission or the org lacks API access.
    #[error(
        "Salesforce refused access ({fault}); the authorizing user needs API Enabled and View All Data, or deselect what it cannot read"
    )]
    Permission { fault: Fault },
    /// Not retryable and not fixable by re-authorizing: a bad query, object or response.
    #[error("Salesforce rejected the request ({fault}); check the selected objects and fields")]
    Fatal { fault: Fault },
    /// A hook refused the call before it was sent.
    #[error("Call not sent: {0}")]
    Vetoed(Veto),
    /// The delete log or change window cannot answer for this range
    /// (`INVALID_REPLICATION_DATE`: purged or too far back; `EXCEEDED_ID_LIMIT`: too many
    /// ids); compare the Id sets instead, or ask for a shorter range.
    #[error(
        "Salesforce cannot list changes for that time range ({fault}); syncdeck compares the Id sets instead (`syncdeck verify --repair`)"
    )]
    ReplicationRange { fault: Fault },
    /// A response syncdeck will not use: over its size cap, or complete but not the JSON
    /// expected. Sending the same request again would get the same answer: not retried.
    #[error(
        "Salesforce's response cannot be used ({fault}); if this persists, check that the login and instance URLs reach Salesforce directly (not a proxy or captive portal)"
    )]
    BadResponse { fault: Fault },
}

/// How an error should be handled, without the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    AuthRequired,
    QuotaExceeded,
    Retryable,
    InvalidQueryLocator,
    Permission,
    Fatal,
    Vetoed,
    /// `deleted/` / `updated/` cannot cover the range asked for.
    ReplicationRange,
}

impl Error {
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::AuthRequired { .. } => ErrorClass::AuthRequired,
            Error::QuotaExceeded { .. } => ErrorClass::QuotaExceeded,
            Error::Retryable { .. } => ErrorClass::Retryable,
            Error::InvalidQueryLocator { .. } => ErrorClass::InvalidQueryLocator,
            Error::Permission { .. } => ErrorClass::Permission,
            Error::Fatal { .. } | Error::BadResponse { .. } => ErrorClass::Fatal,
            Error::Vetoed(_) => ErrorClass::Vetoed,
            Error::ReplicationRange { .. } => ErrorClass::ReplicationRange,
        }
    }

    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::AuthRequired { fault, .. }
            | Error::QuotaExceeded { fault }
            | Error::Retryable { fault, .. }
            | Error::InvalidQueryLocator { fault }
            | Error::Permission { fault }
            | Error::Fatal { fault }
            | Error::ReplicationRange { fault } => Some(fault),
            Error::BadResponse { fault } => Some(fault),
            Error::Vetoed(_) => None,
        }
    }

    pub fn auth_required(reason: impl Into<String>, fault: Fault) -> Error {
        Error::AuthRequired {
            reason: reason.into(),
            fault,
        }
    }

    pub fn fatal(code: &str, message: impl Into<String>) -> Error {
        Error::Fatal {
            fault: Fault::new(None, code, message),
        }
    }

    pub fn bad_response(code: &str, message: impl Into<String>) -> Error {
        Error::BadResponse {
            fault: Fault::new(None, code, message),
        }
    }

    /// A transient failure on its first attempt; the retry loop fills in the totals.
    pub fn retryable(fault: Fault) -> Error {
        Error::Retryable {
            fault,
            attempts: 1,
            elapsed: Duration::ZERO,
            retry_after: None,
        }
    }

    /// Classify a REST API error response (status + body).
    pub fn from_response(status: u16, body: &[u8]) -> Error {
        classify(Fault::from_rest_body(status, body))
    }
}

/// Map a fault to its class. 401 is `AuthRequired` here; the client refreshes once before
/// letting it surface.
pub fn classify(fault: Fault) -> Error {
    let code = fault.code.as_str();
    match (fault.status, code) {
        (_, "INVALID_QUERY_LOCATOR") => Error::InvalidQueryLocator { fault },
        (_, "INVALID_REPLICATION_DATE" | "EXCEEDED_ID_LIMIT") => Error::ReplicationRange { fault },
        (_, "REQUEST_LIMIT_EXCEEDED") if is_concurrency_limit(&fault.message) => {
            Error::retryable(fault)
        }
        (_, "REQUEST_LIMIT_EXCEEDED") => Error::QuotaExceeded { fault },
        (_, "INVALID_SESSION_ID" | "INVALID_AUTH_HEADER") | (Some(401), _) => {
            Error::auth_required("the session was rejected", fault)
        }
        (
            _,
            "INSUFFICIENT_ACCESS"
            | "INSUFFICIENT_ACCESS_OR_READONLY"
            | "API_DISABLED_FOR_ORG"
            | "API_CURRENTLY_DISABLED"
            | "FUNCTIONALITY_NOT_ENABLED",
        )
        | (Some(403), _) => Error::Permission { fault },
        (_, "SERVER_UNAVAILABLE" | "UNKNOWN_EXCEPTION")
        | (Some(500..=599), _)
        | (Some(408 | 429), _) => Error::retryable(fault),
        _ => Error::Fatal { fault },
    }
}

/// Long-running-request concurrency ("ConcurrentPerOrgLongTxn Limit exceeded") clears in
/// seconds, unlike the daily allocation ("TotalRequests Limit exceeded").
fn is_concurrency_limit(message: &str) -> bool {
    message.contains("Concurrent")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of(status: u16, body: &str) -> ErrorClass {
        Error::from_response(status, body.as_bytes()).class()
    }

    #[test]
    fn replication_range_errors_are_their_own_class() {
        for code in ["INVALID_REPLICATION_DATE", "EXCEEDED_ID_LIMIT"] {
            let body = format!(r#"[{{"message":"m","errorCode":"{code}"}}]"#);
            assert_eq!(class_of(400, &body), ErrorClass::ReplicationRange, "{code}");
        }
    }

    #[test]
    fn classifies_salesforce_codes() {
        let cases = [
            (
                401,
                r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
                ErrorClass::AuthRequired,
            ),
            (
                403,
                r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
                ErrorClass::QuotaExceeded,
            ),
            (
                403,
                r#"[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
                ErrorClass::Retryable,
            ),
            (
                503,
                r#"[{"message":"busy","errorCode":"SERVER_UNAVAILABLE"}]"#,
                ErrorClass::Retryable,
            ),
            (
                500,
                r#"[{"message":"boom","errorCode":"UNKNOWN_EXCEPTION"}]"#,
                ErrorClass::Retryable,
            ),
            (502, "<html>bad gateway</html>", ErrorClass::Retryable),
            (
                400,
                r#"[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]"#,
                ErrorClass::InvalidQueryLocator,
            ),
            (
                403,
                r#"[{"message":"no","errorCode":"INSUFFICIENT_ACCESS"}]"#,
                ErrorClass::Permission,
            ),
            (
                403,
                r#"[{"message":"API is not enabled for this Organization or Partner","errorCode":"API_DISABLED_FOR_ORG"}]"#,
                ErrorClass::Permission,
            ),
            (
                403,
                r#"[{"message":"no api","errorCode":"API_CURRENTLY_DISABLED"}]"#,
                ErrorClass::Permission,
            ),
            (
                400,
                r#"[{"message":"No such column 'foo' on sobject of type Bar","errorCode":"INVALID_FIELD"}]"#,
                ErrorClass::Fatal,
            ),
            (
                404,
                r#"[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]"#,
                ErrorClass::Fatal,
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(class_of(status, body), want, "{status} {body}");
        }
    }

    #[test]
    fn keeps_code_and_message_and_renders_one_sentence() {
        let body = r#"[{"message":"\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported.","errorCode":"INVALID_TYPE"}]"#;
        let err = Error::from_response(400, body.as_bytes());
        let fault = err.fault().unwrap();
        assert_eq!(fault.code, "INVALID_TYPE");
        assert!(fault.message.contains("XYZZY"));
        let text = err.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains("INVALID_TYPE (HTTP 400): select count() from XYZZY ^ ERROR"));
        assert!(text.ends_with("check the selected objects and fields"));
    }

    #[test]
    fn huge_messages_are_cut_once_at_a_char_boundary() {
        let message = "é".repeat(20 * 1024 * 1024); // 40 MB
        let fault = Fault::new(Some(400), "X".repeat(10_000), message);
        assert!(
            fault.message.len() < MAX_FAULT_TEXT + 40,
            "{}",
            fault.message.len()
        );
        assert!(
            fault.message.ends_with(" bytes cut)"),
            "{}",
            &fault.message[2000..]
        );
        assert!(
            fault
                .message
                .contains(&format!("({} bytes cut)", 40 * 1024 * 1024 - 2048))
        );
        assert!(fault.code.len() < 200);
        let body = format!(
            r#"[{{"message":"{}","errorCode":"INVALID_FIELD"}}]"#,
            "x".repeat(1 << 20)
        );
        let shown = Error::from_response(400, body.as_bytes()).to_string();
        assert!(shown.len() < MAX_FAULT_TEXT + 300, "{}", shown.len());
        assert_eq!(bound_text("short".into(), 10), "short");
    }

    #[test]
    fn non_json_body_keeps_status() {
        let err = Error::from_response(404, b"not json");
        assert_eq!(err.fault().unwrap().code, "HTTP_404");
        assert_eq!(err.class(), ErrorClass::Fatal);
    }
}
