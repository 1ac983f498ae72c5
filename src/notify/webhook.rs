//! Webhook channel: POST the incident as JSON.

use std::time::Duration;

use super::{DeliveryError, Incident, NotifyError};
use crate::config::WebhookConfig;

const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct WebhookSender {
    url: url::Url,
    http: reqwest::Client,
}

impl WebhookSender {
    pub fn new(config: &WebhookConfig) -> Result<WebhookSender, NotifyError> {
        let url = url::Url::parse(&config.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| NotifyError::BadWebhookUrl {
                url: config.url.clone(),
            })?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| NotifyError::HttpClient(e.to_string()))?;
        Ok(WebhookSender { url, http })
    }

    pub async fn send(&self, incident: &Incident) -> Result<(), DeliveryError> {
        let response = self
            .http
            .post(self.url.clone())
            .json(incident)
            .send()
            .await
            .map_err(|e| DeliveryError::Http(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::HttpStatus(status.as_u16()))
        }
    }
}
