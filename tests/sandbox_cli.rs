//! `syncdeck sandbox` as a user runs it: the printed snippet is a valid config source and
//! the printed URL serves the API; non-loopback binds are refused.

mod sandbox_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sandbox_support::client;
use syncdeck::config::{Config, SourceKind};

#[test]
fn refuses_a_non_loopback_bind_without_allow_remote() {
    let out = Command::new(env!("CARGO_BIN_EXE_syncdeck"))
        .args(["sandbox", "--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-remote"), "{err}");
}

/// Stops the sandbox process even when an assertion fails first.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_a_working_base_url_and_a_valid_config_snippet() {
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_syncdeck"))
            .args(["sandbox", "--records", "Account=123", "--auto-approve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    let start = lines
        .iter()
        .position(|l| l == "[[source]]")
        .expect("snippet printed");
    let snippet: String = lines[start..]
        .iter()
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    let config: Config = toml::from_str(&snippet).expect("snippet parses as config");
    let source = &config.sources[0];
    assert_eq!(source.kind, SourceKind::Salesforce);
    assert!(source.login_url.starts_with("http://127.0.0.1:"));
    assert!(source.client_id.starts_with("3MVG9"));

    let http = client();
    let versions = http
        .get(format!("{}/services/data/", source.login_url))
        .send()
        .await
        .unwrap();
    assert_eq!(versions.status(), 200);
    let device: serde_json::Value = http
        .post(format!("{}/services/oauth2/token", source.login_url))
        .form(&[
            ("client_id", source.client_id.as_str()),
            ("response_type", "device_code"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(device["user_code"].is_string());

    // A client that sends the printed consumer secret gets in; a wrong one does not.
    let secret = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("client_secret:"))
        .map(str::trim)
        .expect("the banner prints the consumer secret");
    let start_with = |secret: &str| {
        http.post(format!("{}/services/oauth2/token", source.login_url))
            .form(&[
                ("client_id", source.client_id.as_str()),
                ("client_secret", secret),
                ("response_type", "device_code"),
            ])
            .send()
    };
    assert_eq!(start_with(secret).await.unwrap().status(), 200);
    let wrong = start_with("not-the-secret").await.unwrap();
    assert_eq!(wrong.status(), 400);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // The controls address printed in the banner lists every control with a description.
    let controls_url = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("controls:"))
        .map(str::trim)
        .expect("the banner prints the controls address");
    assert!(controls_url.ends_with("/__sandbox/"), "{controls_url}");
    let index: serde_json::Value = http
        .get(controls_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(index["client_secret"], secret);
    let controls = index["controls"].as_array().expect("a list of controls");
    let named: Vec<String> = controls
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["method"].as_str().unwrap(),
                c["path"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "GET /__sandbox/counters",
        "POST /__sandbox/quota",
        "POST /__sandbox/faults",
        "POST /__sandbox/faults/clear",
        "POST /__sandbox/revoke-all",
    ] {
        assert!(
            named.iter().any(|n| n == expected),
            "{expected} in {named:?}"
        );
    }
    assert!(
        controls
            .iter()
            .all(|c| !c["description"].as_str().unwrap_or_default().is_empty())
    );
}
