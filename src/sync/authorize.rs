//! Interactive (re)authorization of a source, run by its worker: device flow or web flow
//! with PKCE, the admin check, then the credentials file. Progress is reported as
//! `AuthPrompt`s for the snapshot.

use std::time::Duration;

use chrono::Utc;

use crate::config::{Credentials, Paths, Secret, SourceConfig};
use crate::model::{AuthFlow, AuthPrompt};
use crate::salesforce::HttpClient;
use crate::salesforce::auth::{
    AuthError, Authorization, authorize_admin, poll_device_flow, start_device_flow, start_web_flow,
};

/// How long an operator has to approve before the attempt is abandoned (the device flow's
/// own expiry wins when Salesforce sends one).
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// Turn a passed authorization into the stored credentials.
pub fn credentials(source: &SourceConfig, auth: &Authorization) -> Credentials {
    let session = &auth.session;
    Credentials {
        access_token: Secret::new(session.access_token.expose()),
        refresh_token: session
            .refresh_token
            .as_ref()
            .map(|t| Secret::new(t.expose())),
        instance_url: session.instance_url.clone(),
        identity_url: session.identity_url.clone().unwrap_or_default(),
        org_id: auth.identity.organization_id.clone(),
        user_id: auth.identity.user_id.clone(),
        username: auth.identity.username.clone(),
        authorized_at: Utc::now(),
        issued_at: auth.issued_at,
        scope: auth.scope.clone(),
        login_url: source.login_url.clone(),
    }
}

/// Run one authorization to the end, reporting prompts through `prompt`, and save the
/// credentials when it passes.
pub async fn authorize(
    http: &HttpClient,
    paths: &Paths,
    source: &SourceConfig,
    flow: AuthFlow,
    prompt: impl Fn(AuthPrompt) + Send,
) -> Result<Credentials, AuthError> {
    let login = source.login_url.as_str();
    let client_id = source.client_id.as_str();
    let token = match flow {
        AuthFlow::Device => {
            let device = start_device_flow(http, login, client_id).await?;
            let wait = device.approval_window(MAX_WAIT);
            prompt(AuthPrompt::Device {
                verification_uri: device.verification_uri.clone(),
                user_code: device.user_code.clone(),
                expires_at: Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
            });
            poll_device_flow(http, login, client_id, &device, MAX_WAIT, |_| {}).await?
        }
        AuthFlow::Web { port } => {
            let web = start_web_flow(login, client_id, port).await?;
            prompt(AuthPrompt::Web {
                authorize_url: web.authorize_url().to_string(),
            });
            web.finish(http, MAX_WAIT).await?
        }
    };
    let auth = authorize_admin(http, login, client_id, token).await?;
    let creds = credentials(source, &auth);
    creds.save(paths, &source.id).map_err(|e| {
        AuthError::Callback(format!(
            "authorized, but the credentials could not be saved: {e}"
        ))
    })?;
    Ok(creds)
}
