//! Operator notifications: email (SMTP through lettre, rustls) and a webhook JSON POST.
//!
//! Once per incident: an incident is keyed by source and error kind and is not sent again
//! until that source recovers. Delivery runs in its own task, is retried a few times with
//! backoff, and failures are only logged: a broken mail server never stops syncing.

mod email;
mod webhook;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use crate::config::NotifyConfig;
use crate::model::ErrorKind;

pub use email::EmailSender;
pub use webhook::WebhookSender;

/// What happened, as sent to every channel. The webhook body is exactly this, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub source: String,
    /// Status label ("Error", or "Test" for a test notification).
    pub status: String,
    pub kind: IncidentKind,
    pub message: String,
    pub used: Option<u64>,
    pub max: Option<u64>,
    pub at: DateTime<Utc>,
}

/// What an incident is about: one of a source's errors, or an operator checking that the
/// channels work. Sent as the error kind's name (`"QuotaThreshold"`), or `"Test"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentKind {
    Error(ErrorKind),
    Test,
}

impl IncidentKind {
    pub fn label(self) -> &'static str {
        match self {
            IncidentKind::Error(kind) => kind.label(),
            IncidentKind::Test => "test notification",
        }
    }
}

impl From<ErrorKind> for IncidentKind {
    fn from(kind: ErrorKind) -> IncidentKind {
        IncidentKind::Error(kind)
    }
}

impl Serialize for IncidentKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IncidentKind::Error(kind) => kind.serialize(s),
            IncidentKind::Test => s.serialize_str("Test"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "notify.email: cannot use SMTP host \"{host}\": {reason}; check smtp_host and security"
    )]
    SmtpSetup { host: String, reason: String },
    #[error("notify.email: \"{address}\" is not an email address; fix `{key}`")]
    BadAddress { key: &'static str, address: String },
    #[error("notify.webhook: \"{url}\" is not an http(s) URL; fix `url`")]
    BadWebhookUrl { url: String },
    #[error("cannot create the HTTP client for webhooks: {0}")]
    HttpClient(String),
}

/// A failed delivery attempt (logged, never fatal).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(
        "the SMTP password variable {0} is not set in the environment; export it for the engine process"
    )]
    MissingPassword(String),
    #[error("building the email failed: {0}")]
    Message(String),
    #[error("the SMTP server refused or failed: {0}")]
    Smtp(String),
    #[error("webhook POST failed: {0}")]
    Http(String),
    #[error("webhook answered HTTP {0}")]
    HttpStatus(u16),
}

/// How a notification delivery is retried (doubling waits, no jitter); the API client has
/// its own `salesforce::RetryPolicy`, bound to Salesforce errors and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRetry {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for DeliveryRetry {
    fn default() -> Self {
        DeliveryRetry {
            attempts: 4,
            first_delay: Duration::from_secs(2),
        }
    }
}

#[derive(Clone)]
struct Channels {
    email: Option<Arc<EmailSender>>,
    webhook: Option<Arc<WebhookSender>>,
}

/// Sends incident notifications; cheap to clone, shared by all workers.
#[derive(Clone)]
pub struct Notifier {
    channels: Arc<Mutex<Channels>>,
    sent: Arc<Mutex<HashSet<(String, &'static str)>>>,
    retry: DeliveryRetry,
    deliveries: TaskTracker,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").finish_non_exhaustive()
    }
}

impl Notifier {
    pub fn new(config: &NotifyConfig, retry: DeliveryRetry) -> Result<Notifier, NotifyError> {
        Ok(Notifier {
            channels: Arc::new(Mutex::new(Self::channels(config)?)),
            sent: Arc::new(Mutex::new(HashSet::new())),
            retry,
            deliveries: TaskTracker::new(),
        })
    }

    /// A notifier that sends nothing (no channels configured).
    pub fn disabled() -> Notifier {
        Notifier {
            channels: Arc::new(Mutex::new(Channels {
                email: None,
                webhook: None,
            })),
            sent: Arc::new(Mutex::new(HashSet::new())),
            retry: DeliveryRetry::default(),
            deliveries: TaskTracker::new(),
        }
    }

    fn channels(config: &NotifyConfig) -> Result<Channels, NotifyError> {
        Ok(Channels {
            email: config
                .email
                .as_ref()
                .map(EmailSender::new)
                .transpose()?
                .map(Arc::new),
            webhook: config
                .webhook
                .as_ref()
                .map(WebhookSender::new)
                .transpose()?
                .map(Arc::new),
        })
    }

    /// Apply a changed `[notify]` section; incidents already sent stay sent.
    pub fn reconfigure(&self, config: &NotifyConfig) -> Result<(), NotifyError> {
        let channels = Self::channels(config)?;
        *lock(&self.channels) = channels;
        Ok(())
    }

    /// Send `incident` unless this source already notified this kind since it last
    /// recovered. Returns the delivery task (tests await it; the engine lets it run).
    pub fn incident(&self, incident: Incident) -> Option<JoinHandle<()>> {
        let key = (incident.source.clone(), incident.kind.label());
        if !lock(&self.sent).insert(key) {
            tracing::debug!(source = %incident.source, kind = ?incident.kind, "incident already notified");
            return None;
        }
        let channels = lock(&self.channels).clone();
        if channels.email.is_none() && channels.webhook.is_none() {
            return None;
        }
        let retry = self.retry;
        Some(self.deliveries.spawn(async move {
            let mut deliveries = Vec::new();
            if let Some(email) = channels.email {
                let incident = incident.clone();
                deliveries.push(tokio::spawn(async move {
                    deliver("email", &incident, retry, || email.send(&incident)).await
                }));
            }
            if let Some(webhook) = channels.webhook {
                let incident = incident.clone();
                deliveries.push(tokio::spawn(async move {
                    deliver("webhook", &incident, retry, || webhook.send(&incident)).await
                }));
            }
            for d in deliveries {
                if let Err(e) = d.await {
                    tracing::error!("notification task failed: {e}");
                }
            }
        }))
    }

    /// Wait until every notification handed out so far is delivered or given up, so a
    /// stopping daemon does not cut one off and a test can count what was sent.
    pub async fn settle(&self) {
        self.deliveries.close();
        self.deliveries.wait().await;
        self.deliveries.reopen();
    }

    /// Send a test notification for `source` to every channel now: one attempt each, never
    /// deduplicated, and an answer the operator can read ("sent by email and webhook", or
    /// which channel failed and why).
    pub async fn test(&self, source: &str, at: DateTime<Utc>) -> Result<String, String> {
        let channels = lock(&self.channels).clone();
        if channels.email.is_none() && channels.webhook.is_none() {
            return Err(
                "test notification not sent: no channel is set up; add [notify.email] or [notify.webhook] to config.toml".into(),
            );
        }
        let incident = Incident {
            source: source.to_string(),
            status: "Test".into(),
            kind: IncidentKind::Test,
            message:
                "A test notification from syncdeck: incidents of this source reach this channel."
                    .into(),
            used: None,
            max: None,
            at,
        };
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        if let Some(email) = channels.email {
            match email.send(&incident).await {
                Ok(()) => sent.push("email".to_string()),
                Err(e) => failed.push(format!("email: {e}")),
            }
        }
        if let Some(webhook) = channels.webhook {
            match webhook.send(&incident).await {
                Ok(()) => sent.push("webhook".to_string()),
                Err(e) => failed.push(format!("webhook: {e}")),
            }
        }
        tracing::info!(source, ?sent, ?failed, "test notification");
        match (sent.is_empty(), failed.is_empty()) {
            (_, true) => Ok(format!("test notification sent by {}", sent.join(" and "))),
            (true, false) => Err(format!("test notification failed: {}", failed.join("; "))),
            (false, false) => Err(format!(
                "test notification sent by {} but failed by {}",
                sent.join(" and "),
                failed.join("; ")
            )),
        }
    }

    /// The source is healthy again: its next incident of any kind is notified.
    pub fn recovered(&self, source: &str) {
        lock(&self.sent).retain(|(s, _)| s != source);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data behind these locks is valid after any panic elsewhere.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn deliver<F, Fut>(channel: &str, incident: &Incident, retry: DeliveryRetry, mut send: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), DeliveryError>>,
{
    let mut delay = retry.first_delay;
    for attempt in 1..=retry.attempts.max(1) {
        match send().await {
            Ok(()) => {
                tracing::info!(source = %incident.source, kind = ?incident.kind, channel, "notification sent");
                return;
            }
            Err(e) if attempt < retry.attempts => {
                tracing::warn!(source = %incident.source, channel, attempt, "notification failed, retrying: {e}");
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
            Err(e) => {
                tracing::error!(source = %incident.source, kind = ?incident.kind, channel, "notification given up after {attempt} attempts: {e}");
            }
        }
    }
}
