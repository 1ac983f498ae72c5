//! Notifications over loopback: a tiny SMTP sink and an axum webhook receiver.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{TimeZone, Utc};
use syncdeck::config::{EmailConfig, NotifyConfig, SmtpSecurity, WebhookConfig};
use syncdeck::model::ErrorKind;
use syncdeck::notify::{DeliveryRetry, Incident, Notifier};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts mail like an SMTP server would (or rejects every DATA when `reject`), keeping
/// each received message body.
async fn smtp_sink(reject: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            store.lock().unwrap().push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" if reject => b"554 no mail today\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, mails)
}

#[derive(Clone, Default)]
struct Receiver {
    /// Answer 500 this many times before accepting.
    failures_left: Arc<Mutex<u32>>,
    attempts: Arc<Mutex<u32>>,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

async fn hook(State(r): State<Receiver>, Json(body): Json<serde_json::Value>) -> StatusCode {
    *r.attempts.lock().unwrap() += 1;
    let mut left = r.failures_left.lock().unwrap();
    if *left > 0 {
        *left -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    r.bodies.lock().unwrap().push(body);
    StatusCode::NO_CONTENT
}

async fn webhook_receiver(failures: u32) -> (String, Receiver) {
    let r = Receiver::default();
    *r.failures_left.lock().unwrap() = failures;
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(r.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, r)
}

fn config(smtp_port: u16, webhook: &str) -> NotifyConfig {
    NotifyConfig {
        email: Some(EmailConfig {
            smtp_host: "127.0.0.1".into(),
            smtp_port,
            security: SmtpSecurity::None,
            from: "syncdeck@example.test".into(),
            to: vec!["ops@example.test".into()],
            username: None,
            password_env: None,
        }),
        webhook: Some(WebhookConfig {
            url: webhook.to_string(),
        }),
    }
}

fn quick_retries() -> DeliveryRetry {
    DeliveryRetry {
        attempts: 3,
        first_delay: Duration::from_millis(10),
    }
}

fn quota_incident() -> Incident {
    Incident {
        source: "acme".into(),
        status: "Error".into(),
        kind: ErrorKind::QuotaThreshold.into(),
        message: "API usage reached 12000 of 15000 daily calls (80%); syncing resumes by itself"
            .into(),
        used: Some(12_000),
        max: Some(15_000),
        at: Utc.with_ymd_and_hms(2026, 4, 1, 9, 30, 0).unwrap(),
    }
}

#[tokio::test]
async fn one_email_and_one_webhook_per_incident_until_recovery() {
    let (smtp_port, mails) = smtp_sink(false).await;
    let (url, receiver) = webhook_receiver(0).await;
    let notifier = Notifier::new(&config(smtp_port, &url), quick_retries()).unwrap();

    notifier.incident(quota_incident()).unwrap().await.unwrap();
    assert!(
        notifier.incident(quota_incident()).is_none(),
        "same incident is not sent twice"
    );

    let mails_now = mails.lock().unwrap().clone();
    assert_eq!(mails_now.len(), 1);
    assert!(
        mails_now[0].contains("Subject: syncdeck: acme"),
        "{}",
        mails_now[0]
    );
    assert!(mails_now[0].contains("12000 of 15000"), "{}", mails_now[0]);

    let bodies = receiver.bodies.lock().unwrap().clone();
    assert_eq!(
        bodies,
        vec![serde_json::json!({
            "source": "acme",
            "status": "Error",
            "kind": "QuotaThreshold",
            "message": quota_incident().message,
            "used": 12000,
            "max": 15000,
            "at": "2026-04-01T09:30:00Z",
        })]
    );

    // Another kind for the same source is a new incident.
    let mut auth = quota_incident();
    auth.kind = ErrorKind::AuthRequired.into();
    notifier.incident(auth).unwrap().await.unwrap();
    assert_eq!(receiver.bodies.lock().unwrap().len(), 2);

    notifier.recovered("acme");
    notifier.incident(quota_incident()).unwrap().await.unwrap();
    assert_eq!(receiver.bodies.lock().unwrap().len(), 3);
    assert_eq!(mails.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn failed_deliveries_are_retried_then_given_up_without_harm() {
    let (smtp_port, mails) = smtp_sink(true).await;
    let (url, receiver) = webhook_receiver(2).await;
    let notifier = Notifier::new(&config(smtp_port, &url), quick_retries()).unwrap();

    notifier.incident(quota_incident()).unwrap().await.unwrap();
    assert_eq!(
        *receiver.attempts.lock().unwrap(),
        3,
        "two 500s then success"
    );
    assert_eq!(receiver.bodies.lock().unwrap().len(), 1);
    assert!(
        mails.lock().unwrap().is_empty(),
        "the sink rejected every DATA"
    );
}

#[tokio::test]
async fn unreachable_channels_and_missing_password_are_survivable() {
    // Nothing listens on these ports once the listeners are dropped.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cfg = config(closed_port, &format!("http://127.0.0.1:{closed_port}/hook"));
    if let Some(e) = cfg.email.as_mut() {
        e.username = Some("ops".into());
        e.password_env = Some("SYNCDECK_TEST_SMTP_PASSWORD_THAT_IS_NOT_SET".into());
    }
    let notifier = Notifier::new(&cfg, quick_retries()).unwrap();
    notifier.incident(quota_incident()).unwrap().await.unwrap();
}

#[test]
fn bad_settings_are_reported_clearly() {
    let mut cfg = config(25, "ftp://example.test/hook");
    let err = Notifier::new(&cfg, quick_retries())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("notify.webhook") && err.contains("ftp://"),
        "{err}"
    );
    cfg.webhook = None;
    cfg.email.as_mut().unwrap().to = vec!["not an address".into()];
    let err = Notifier::new(&cfg, quick_retries())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not an address") && err.contains("`to`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_test_notification_reaches_every_channel_and_says_what_happened() {
    let (smtp_port, mails) = smtp_sink(false).await;
    let (url, receiver) = webhook_receiver(0).await;
    let notifier = Notifier::new(&config(smtp_port, &url), quick_retries()).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 4, 1, 9, 30, 0).unwrap();

    let answer = notifier.test("acme", at).await;
    assert_eq!(
        answer,
        Ok("test notification sent by email and webhook".into())
    );
    let body = receiver.bodies.lock().unwrap()[0].clone();
    assert_eq!(
        (body["kind"].as_str(), body["status"].as_str()),
        (Some("Test"), Some("Test"))
    );
    let mail = mails.lock().unwrap()[0].clone();
    assert!(mail.contains("test notification"), "{mail}");
    // Never deduplicated: the operator may test as often as they like.
    assert!(notifier.test("acme", at).await.is_ok());
    assert_eq!(receiver.bodies.lock().unwrap().len(), 2);
    // A test is not an incident: the real one after it still goes out.
    assert!(notifier.incident(quota_incident()).is_some());
}

#[tokio::test]
async fn a_failed_or_impossible_test_notification_names_the_reason() {
    let (smtp_port, mails) = smtp_sink(true).await;
    let (url, receiver) = webhook_receiver(1).await;
    let notifier = Notifier::new(&config(smtp_port, &url), quick_retries()).unwrap();
    let answer = notifier.test("acme", Utc::now()).await.unwrap_err();
    assert!(
        answer.starts_with("test notification failed: email:"),
        "{answer}"
    );
    assert!(
        answer.contains("webhook: webhook answered HTTP 500"),
        "{answer}"
    );
    assert_eq!(
        *receiver.attempts.lock().unwrap(),
        1,
        "one attempt, no retries"
    );
    assert!(mails.lock().unwrap().is_empty());

    let none = Notifier::disabled()
        .test("acme", Utc::now())
        .await
        .unwrap_err();
    assert!(
        none.contains("add [notify.email] or [notify.webhook]"),
        "{none}"
    );
}
