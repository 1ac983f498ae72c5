use super::{Secret, oauth_endpoint};
use crate::salesforce::body::{self, BodyClass};
use crate::salesforce::errors::{Error, Fault};
use crate::salesforce::http::HttpClient;

/// Revoke a token: `POST /services/oauth2/revoke` with `token=` (RFC 7009). Revoking the
/// refresh token also ends its access tokens. Hand-rolled because the `oauth2` crate refuses
/// non-HTTPS revocation URLs, which would rule out the loopback sandbox.
pub async fn revoke(http: &HttpClient, login_url: &str, token: &Secret) -> Result<(), Error> {
    let response = http
        .reqwest()
        .post(oauth_endpoint(login_url, "revoke"))
        .form(&[("token", token.expose())])
        .send()
        .await
        .map_err(|e| Error::retryable(Fault::new(None, "CONNECTION", e.to_string())))?;
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(());
    }
    let body = body::read_capped(response, BodyClass::Small.cap())
        .await
        .map(|b| body::error_text(&b))
        .unwrap_or_default();
    let fault = match serde_json::from_slice::<crate::salesforce::types::OAuthErrorBody>(&body) {
        Ok(err) => Fault::new(
            Some(status),
            err.error,
            err.error_description.unwrap_or_default(),
        ),
        Err(_) => Fault::from_rest_body(status, &body),
    };
    Err(Error::Fatal { fault })
}
