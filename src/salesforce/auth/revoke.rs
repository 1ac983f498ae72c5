use oauth2::{RefreshToken, StandardRevocableToken};

use super::Secret;
use super::oauth_client::oauth_client;
use crate::salesforce::errors::{Error, Fault};
use crate::salesforce::http::HttpClient;

/// Revoke a token (RFC 7009). Revoking the refresh token also ends its access tokens.
pub async fn revoke(
    http: &HttpClient,
    login_url: &str,
    client_id: &str,
    token: &Secret,
) -> Result<(), Error> {
    let client = oauth_client(login_url, client_id)?;
    let token = StandardRevocableToken::RefreshToken(RefreshToken::new(token.expose().to_string()));
    let request = client
        .revoke_token(token)
        .map_err(|e| Error::fatal("BAD_LOGIN_URL", e.to_string()))?;
    request.request_async(http).await.map_err(|e| Error::Fatal {
        fault: Fault::new(None, "REVOKE_FAILED", e.to_string()),
    })
}
