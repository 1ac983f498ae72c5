//! Errors of the sandbox: start-up failures for the embedding code, and REST errors in
//! Salesforce's wire shape for clients.

use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}; pick another --bind port")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "refusing to listen on non-loopback address {0}: the sandbox has no real security; pass --allow-remote if you really mean it"
    )]
    RemoteBindRefused(std::net::SocketAddr),
    #[error("schema: {0}")]
    Schema(String),
}

/// A REST error: rendered as `[{"message": ..., "errorCode": ...}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub fn invalid_session() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    pub fn limit_exceeded() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        )
    }

    pub fn invalid_locator() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )
    }

    pub fn body(&self) -> Vec<u8> {
        // Written by hand so the keys keep Salesforce's order (message, then errorCode).
        format!(
            "[{{\"message\":{},\"errorCode\":{}}}]",
            serde_json::Value::String(self.message.clone()),
            serde_json::Value::String(self.code.to_string())
        )
        .into_bytes()
    }
}
