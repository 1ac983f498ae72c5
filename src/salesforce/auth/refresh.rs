use oauth2::RefreshToken;

use super::Secret;
use super::oauth_client::{oauth_client, token_error};
use crate::salesforce::errors::Error;
use crate::salesforce::http::HttpClient;
use crate::salesforce::types::TokenBody;

pub const REFRESH_REVOKED: &str = "the refresh token was revoked or has expired";

/// Refresh-token grant. `invalid_grant` → `AuthRequired("Reauthorize: the refresh token was
/// revoked or has expired")`; the response usually carries no new refresh token.
pub async fn refresh_access_token(
    http: &HttpClient,
    login_url: &str,
    client_id: &str,
    refresh_token: &Secret,
) -> Result<TokenBody, Error> {
    let client = oauth_client(login_url, client_id)?;
    let token = RefreshToken::new(refresh_token.expose().to_string());
    client
        .exchange_refresh_token(&token)
        .request_async(http)
        .await
        .map_err(|e| token_error(e, REFRESH_REVOKED))
}
