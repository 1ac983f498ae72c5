//! The `oauth2` crate client for Salesforce's RFC-conforming grants (refresh, authorization
//! code + PKCE), with token bodies parsed into our `TokenBody`.

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, EndpointNotSet, EndpointSet, RequestTokenError,
    StandardRevocableToken, TokenUrl,
};

use super::oauth_endpoint;
use crate::salesforce::body::too_large;
use crate::salesforce::errors::{Error, Fault};
use crate::salesforce::http::HttpError;
use crate::salesforce::types::TokenBody;

pub(super) type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenBody,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

pub(super) fn oauth_client(login_url: &str, client_id: &str) -> Result<OAuthClient, Error> {
    let bad_url = |e: url::ParseError| {
        Error::fatal(
            "BAD_LOGIN_URL",
            format!("login_url \"{login_url}\" is not a URL ({e}); fix it in the config"),
        )
    };
    Ok(oauth2::Client::new(ClientId::new(client_id.to_string()))
        // No client secret: the connected app is a public client (PKCE / device flow).
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(oauth_endpoint(login_url, "authorize")).map_err(bad_url)?)
        .set_token_uri(TokenUrl::new(oauth_endpoint(login_url, "token")).map_err(bad_url)?))
}

/// Map an `oauth2` token-request failure. `invalid_grant` means the grant (refresh token
/// or code) is dead: never retried.
pub(super) fn token_error(
    err: RequestTokenError<HttpError, BasicErrorResponse>,
    invalid_grant_reason: &str,
) -> Error {
    match err {
        RequestTokenError::ServerResponse(resp) => {
            let code = resp.error().as_ref().to_string();
            let fault = Fault::new(
                None,
                code,
                resp.error_description().cloned().unwrap_or_default(),
            );
            match resp.error() {
                BasicErrorResponseType::InvalidGrant => {
                    Error::auth_required(invalid_grant_reason, fault)
                }
                BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => {
                    Error::auth_required("the connected app refused this client_id", fault)
                }
                _ => Error::Fatal { fault },
            }
        }
        RequestTokenError::Request(HttpError::TooLarge { cap }) => {
            too_large(cap, "the OAuth token endpoint")
        }
        RequestTokenError::Request(e) => {
            Error::retryable(Fault::new(None, "CONNECTION", e.to_string()))
        }
        // The whole body arrived: only one cut short is worth asking again.
        RequestTokenError::Parse(e, _) if e.inner().is_eof() => Error::retryable(Fault::new(
            None,
            "TRUNCATED_BODY",
            format!("the token endpoint's answer ended early ({e})"),
        )),
        RequestTokenError::Parse(e, _) => Error::bad_response(
            "BAD_RESPONSE",
            format!("the token endpoint answered with something other than a token ({e})"),
        ),
        RequestTokenError::Other(message) => Error::fatal("BAD_RESPONSE", message),
    }
}
