//! OAuth flows against Salesforce: device flow (hand-rolled, see `device`), web-server flow
//! with PKCE, refresh and revoke (through the `oauth2` crate), and the admin check every
//! new authorization must pass before its tokens may be stored.

mod admin;
mod device;
mod identity;
mod oauth_client;
mod permissions;
mod persist;
mod refresh;
mod revoke;
mod web_pkce;

pub use crate::config::Secret;
pub use admin::{Authorization, authorize_admin};
pub use device::{DevicePoll, poll_device_flow, poll_device_once, start_device_flow};
pub use identity::Identity;
pub use permissions::Permissions;
pub use persist::CredentialsWriter;
pub use refresh::refresh_access_token;
pub use revoke::revoke;
pub use web_pkce::{WebFlow, start_web_flow};

use super::errors::{Error, Fault};
use super::types::TokenBody;

/// Scopes syncdeck asks for: REST API access and a refresh token for unattended syncs.
pub const SCOPES: &[&str] = &["api", "refresh_token"];

/// What a client needs to call one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Base URL of the data API (`instance_url` of the token response).
    pub instance_url: String,
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// Login host the tokens came from; refreshes go there.
    pub login_url: String,
    /// Connected-app consumer key.
    pub client_id: String,
    /// The token response's `id` URL, for `Client::identity`.
    pub identity_url: Option<String>,
}

impl Session {
    pub fn from_token(body: &TokenBody, login_url: &str, client_id: &str) -> Session {
        Session {
            instance_url: body.instance_url.trim_end_matches('/').to_string(),
            access_token: Secret::new(body.access_token.secret().as_str()),
            refresh_token: body
                .refresh_token
                .as_ref()
                .map(|t| Secret::new(t.secret().as_str())),
            login_url: login_url.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            identity_url: Some(body.id.clone()),
        }
    }
}

/// Why an interactive authorization did not produce usable credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Authorization was denied ({fault}); run `syncdeck auth` again and choose Allow")]
    Denied { fault: Fault },
    #[error(
        "The code expired before it was approved; run `syncdeck auth` again and approve within {minutes} minutes"
    )]
    Expired { minutes: u64 },
    #[error("A Salesforce admin must authorize this connection: {username} lacks {missing}")]
    NotAdmin { username: String, missing: String },
    #[error(
        "Salesforce refused the authorization request ({fault}); check login_url and client_id in the config and that the connected app enables this flow"
    )]
    Rejected { fault: Fault },
    #[error("The browser sign-in did not complete: {0}")]
    Callback(String),
    #[error(transparent)]
    Api(#[from] Error),
}

impl AuthError {
    /// Denied or not an admin: the operator must act differently (exit code 3).
    pub fn is_refusal(&self) -> bool {
        matches!(self, AuthError::Denied { .. } | AuthError::NotAdmin { .. })
    }
}

/// `{login_url}/services/oauth2/{endpoint}`.
fn oauth_endpoint(login_url: &str, endpoint: &str) -> String {
    format!(
        "{}/services/oauth2/{endpoint}",
        login_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN_JSON: &str = r#"{"access_token":"00Dx!ACCESS-SECRET","refresh_token":"REFRESH-SECRET",
        "instance_url":"https://na1.salesforce.com/","id":"https://login.salesforce.com/id/00Dx/005x",
        "issued_at":"1278448832702","signature":"sig","scope":"api refresh_token","token_type":"Bearer"}"#;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let token: TokenBody = serde_json::from_str(TOKEN_JSON).unwrap();
        let session = Session::from_token(&token, "https://login.salesforce.com/", "cid");
        assert_eq!(session.instance_url, "https://na1.salesforce.com");
        assert_eq!(session.access_token.expose(), "00Dx!ACCESS-SECRET");
        for text in [format!("{token:?}"), format!("{session:?}")] {
            assert!(!text.contains("ACCESS-SECRET"), "{text}");
            assert!(!text.contains("REFRESH-SECRET"), "{text}");
        }
        let device: crate::salesforce::types::DeviceAuthorization = serde_json::from_str(
            r#"{"device_code":"DEVICE-SECRET","user_code":"ABCD-EFGH","verification_uri":"https://x/setup/connect","interval":5}"#,
        )
        .unwrap();
        let text = format!("{device:?}");
        assert!(
            !text.contains("DEVICE-SECRET") && text.contains("ABCD-EFGH"),
            "{text}"
        );
    }

    #[test]
    fn refusals_are_told_apart_from_failures() {
        let not_admin = AuthError::NotAdmin {
            username: "ops@acme.com".into(),
            missing: "View All Data".into(),
        };
        assert!(not_admin.is_refusal());
        assert_eq!(
            not_admin.to_string(),
            "A Salesforce admin must authorize this connection: ops@acme.com lacks View All Data"
        );
        assert!(!AuthError::Expired { minutes: 10 }.is_refusal());
        assert!(!AuthError::Api(Error::fatal("X", "y")).is_refusal());
    }
}
