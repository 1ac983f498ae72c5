//! A source's API client and quota settings from its config and credentials.

use std::sync::Arc;

use crate::config::{Credentials, SourceConfig};
use crate::salesforce::auth::{Secret as ClientSecret, Session};
use crate::salesforce::{CallHooks, Client, HttpClient};
use crate::sync::quota::QuotaSettings;

pub fn settings(source: &SourceConfig) -> QuotaSettings {
    QuotaSettings {
        threshold_percent: source.quota_threshold_percent,
        run_quota_percent: source.run_quota_percent,
    }
}

pub fn client_for(
    http: &HttpClient,
    source: &SourceConfig,
    creds: &Credentials,
    hooks: Arc<dyn CallHooks>,
) -> Client {
    let session = Session {
        instance_url: creds.instance_url.clone(),
        access_token: ClientSecret::new(creds.access_token.expose()),
        refresh_token: creds
            .refresh_token
            .as_ref()
            .map(|t| ClientSecret::new(t.expose())),
        login_url: creds.login_url.clone(),
        client_id: source.client_id.clone(),
        identity_url: Some(creds.identity_url.clone()).filter(|s| !s.is_empty()),
    };
    Client::new(http.clone(), session, hooks)
}
