//! Email channel: SMTP through lettre over rustls (implicit TLS or STARTTLS), or plain
//! text for loopback test sinks (`security = "none"`).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{DeliveryError, Incident, NotifyError};
use crate::config::{EmailConfig, SmtpSecurity};

const TIMEOUT: Duration = Duration::from_secs(30);

pub struct EmailSender {
    config: EmailConfig,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

fn mailbox(key: &'static str, address: &str) -> Result<Mailbox, NotifyError> {
    address.parse().map_err(|_| NotifyError::BadAddress {
        key,
        address: address.to_string(),
    })
}

impl EmailSender {
    pub fn new(config: &EmailConfig) -> Result<EmailSender, NotifyError> {
        let to = config
            .to
            .iter()
            .map(|a| mailbox("to", a))
            .collect::<Result<Vec<_>, _>>()?;
        let sender = EmailSender {
            config: config.clone(),
            from: mailbox("from", &config.from)?,
            to,
        };
        sender.builder()?; // reject a bad host now, not at the first incident
        Ok(sender)
    }

    /// The transport is built per send (inside the runtime; notifications are rare, and
    /// a rotated password is picked up).
    fn builder(&self) -> Result<AsyncSmtpTransportBuilder, NotifyError> {
        let host = self.config.smtp_host.as_str();
        let setup_error = |e: lettre::transport::smtp::Error| NotifyError::SmtpSetup {
            host: host.to_string(),
            reason: e.to_string(),
        };
        let builder = match self.config.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(setup_error)?
            }
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(setup_error)?
            }
        }
        .port(self.config.smtp_port)
        .timeout(Some(TIMEOUT));
        Ok(builder)
    }

    fn message(&self, incident: &Incident) -> Result<Message, DeliveryError> {
        let mut builder = Message::builder().from(self.from.clone()).subject(format!(
            "syncdeck: {} — {}",
            incident.source,
            incident.kind.label()
        ));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(body(incident))
            .map_err(|e| DeliveryError::Message(e.to_string()))
    }

    pub async fn send(&self, incident: &Incident) -> Result<(), DeliveryError> {
        let message = self.message(incident)?;
        let credentials = match (&self.config.username, &self.config.password_env) {
            (Some(user), Some(var)) => {
                let password =
                    std::env::var(var).map_err(|_| DeliveryError::MissingPassword(var.clone()))?;
                Some(Credentials::new(user.clone(), password))
            }
            _ => None,
        };
        let mut builder = self
            .builder()
            .map_err(|e| DeliveryError::Smtp(e.to_string()))?;
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        builder
            .build::<Tokio1Executor>()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Smtp(e.to_string()))
    }
}

fn body(incident: &Incident) -> String {
    let mut text = format!(
        "Source: {}\nStatus: {} ({})\nWhen: {}\n\n{}\n",
        incident.source,
        incident.status,
        incident.kind.label(),
        incident.at.to_rfc3339(),
        incident.message
    );
    if let (Some(used), Some(max)) = (incident.used, incident.max) {
        text.push_str(&format!("\nAPI usage: {used} of {max} daily calls\n"));
    }
    text
}
