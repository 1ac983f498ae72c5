use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{AuthError, Identity, Permissions, Session, revoke};
use crate::salesforce::client::{Client, NoHooks};
use crate::salesforce::errors::ErrorClass;
use crate::salesforce::http::HttpClient;
use crate::salesforce::types::TokenBody;

/// A new authorization that passed the admin check; safe to store.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub session: Session,
    pub identity: Identity,
    pub permissions: Permissions,
    pub scope: String,
    /// When Salesforce issued the access token (`issued_at`), else now.
    pub issued_at: DateTime<Utc>,
}

/// Read the identity of freshly issued tokens and check the user's permissions. A user
/// without API Enabled or View All Data is refused and the tokens are revoked, so a
/// non-admin authorization never becomes the source's credentials.
pub async fn authorize_admin(
    http: &HttpClient,
    login_url: &str,
    client_id: &str,
    token: TokenBody,
) -> Result<Authorization, AuthError> {
    let session = Session::from_token(&token, login_url, client_id);
    let client = Client::new(http.clone(), session.clone(), Arc::new(NoHooks));
    let identity = client.identity().await?;
    let permissions = match client.check_permissions(&identity.user_id).await {
        Ok(p) => p,
        // Without API access the check query itself is refused.
        Err(e) if e.class() == ErrorClass::Permission => Permissions::default(),
        Err(e) => return Err(e.into()),
    };
    if let Some(missing) = permissions.missing() {
        let discard = session
            .refresh_token
            .as_ref()
            .unwrap_or(&session.access_token);
        if let Err(e) = revoke(http, login_url, discard).await {
            tracing::warn!(error = %e, "could not revoke the refused authorization's tokens");
        }
        return Err(AuthError::NotAdmin {
            username: identity.username,
            missing: missing.to_string(),
        });
    }
    let issued_at = token
        .issued_at
        .as_deref()
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or_else(Utc::now);
    Ok(Authorization {
        session,
        identity,
        permissions,
        scope: token.scope.unwrap_or_default(),
        issued_at,
    })
}
