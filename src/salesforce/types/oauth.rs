use std::time::Duration;

use oauth2::basic::BasicTokenType;
use oauth2::{AccessToken, RefreshToken, Scope};
use serde::{Deserialize, Serialize};

/// A token-endpoint success body (all grant types). Salesforce sends no `expires_in` (tokens
/// are valid until a 401) and adds `instance_url`, `id`, `issued_at`, `signature`.
/// `token_type` is tolerated missing: older responses and some fixtures omit it.
/// Implements `oauth2::TokenResponse` so the crate's refresh and code grants parse into it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TokenBody {
    pub access_token: AccessToken,
    #[serde(default)]
    pub refresh_token: Option<RefreshToken>,
    #[serde(default = "bearer")]
    pub token_type: BasicTokenType,
    /// Where the data API lives; never the login host.
    pub instance_url: String,
    /// Identity URL `https://login.../id/<orgId>/<userId>`.
    pub id: String,
    /// Epoch milliseconds, as a string.
    #[serde(default)]
    pub issued_at: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default, rename = "scope")]
    pub scope: Option<String>,
    #[serde(skip)]
    scopes: Option<Vec<Scope>>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl TokenBody {
    /// The user id: the last path segment of the identity URL.
    pub fn user_id(&self) -> Option<&str> {
        self.id.rsplit('/').next().filter(|s| !s.is_empty())
    }
}

impl oauth2::TokenResponse for TokenBody {
    type TokenType = BasicTokenType;
    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        None
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

/// The form-style OAuth error body `{"error","error_description"}` (not the REST array).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Salesforce's device-code response. Unlike RFC 8628 there is no `expires_in`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    /// Seconds between polls.
    #[serde(default = "default_interval")]
    pub interval: u64,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

fn default_interval() -> u64 {
    5
}

/// The longest approval window honoured from a server's `expires_in`.
pub const MAX_DEVICE_WINDOW: Duration = Duration::from_secs(30 * 60);
/// The longest wait between polls honoured from a server's `interval` (and `slow_down`s).
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);

impl DeviceAuthorization {
    /// How long to wait for approval: the server's `expires_in` (else `default`), at most
    /// [`MAX_DEVICE_WINDOW`], so no server number can overflow a deadline.
    pub fn approval_window(&self, default: Duration) -> Duration {
        self.expires_in
            .map_or(default, Duration::from_secs)
            .min(MAX_DEVICE_WINDOW)
    }

    /// Time between polls, at most [`MAX_POLL_INTERVAL`].
    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.interval).min(MAX_POLL_INTERVAL)
    }
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &"[redacted]")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("interval", &self.interval)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}
