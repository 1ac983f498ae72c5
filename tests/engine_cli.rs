//! `syncdeck sync`, `status` and `daemon` as processes against a sandbox org, and the
//! one-engine-per-data-dir lock.

mod common;

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use common::*;
use syncdeck::sync::EngineError;
use syncdeck::sync::LockError;
use syncdeck::sync::ManualClock;

/// `syncdeck daemon` for the org's data dir, once its control socket is up.
async fn start_daemon(org: &Org) -> std::process::Child {
    let daemon = syncdeck(org)
        .arg("daemon")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let socket = org.paths.socket_file();
    patiently("the daemon's socket", async {
        while !socket.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    daemon
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_then_status_from_the_command_line() {
    let org = org(sandbox_config(&[("Account", 4_500), ("Contact", 300)])).await;
    let source = manual(org.source(
        "acme",
        &[("Account", ACCOUNT_FIELDS), ("Contact", CONTACT_FIELDS)],
    ));
    org.write_config(&config_of(vec![source.clone()]));

    // Not connected yet: a clear refusal.
    let (code, _, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("syncdeck auth acme"), "{err}");
    let (code, _, err) = cli(&org, &["sync", "nope"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("configured sources: acme"), "{err}");

    org.connect(&source).await;
    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("initial run succeeded: 4800 records upserted"),
        "{out}"
    );
    assert!(
        err.contains("Account: 4500 of 4500 records (done)"),
        "plain progress lines off a TTY: {err}"
    );
    assert_eq!(
        org.stored_rows("acme", "Account", ACCOUNT_FIELDS),
        org.truth(&source, "Account", ACCOUNT_FIELDS).await
    );

    let (code, out, err) = cli(&org, &["sync", "acme", "--object", "Contact"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("incremental run succeeded") && out.contains(" 1 API calls"),
        "{out}"
    );

    let (code, out, _) = cli(&org, &["status", "--json"]).await;
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status[0]["id"], "acme");
    assert_eq!(status[0]["status"], "Active");
    assert_eq!(status[0]["records"], 4_800);
    assert_eq!(status[0]["last_run"]["outcome"], "Succeeded");

    let (code, out, _) = cli(&org, &["status"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("acme") && out.contains("Active") && out.contains("4800"),
        "{out}"
    );
    assert!(out.contains("no daemon running"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_engine_per_data_dir() {
    let org = org(sandbox_config(&[("Account", 100)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    let engine = start(&org, vec![source.clone()], ManualClock::new(Utc::now()));
    let second = syncdeck::sync::Engine::start(
        org.paths.clone(),
        std::sync::Arc::new(config_of(vec![source])),
        ManualClock::new(Utc::now()),
        syncdeck::notify::Notifier::disabled(),
    );
    match second {
        Err(EngineError::Lock(LockError::Held { pid, .. })) => {
            assert_eq!(pid, Some(std::process::id()))
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a second engine started on the same data dir"),
    }
    let (code, _, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("PID {}", std::process::id())),
        "{err}"
    );
    engine.shutdown().await;
    assert!(!org.paths.lock_file().exists(), "lock released on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_serves_sync_and_status_and_stops_on_sigterm() {
    let org = org(sandbox_config(&[("Account", 3_000)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name", "Industry"])]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;

    let mut daemon = start_daemon(&org).await;
    let socket = org.paths.socket_file();

    let (code, _, err) = cli(&org, &["daemon"]).await;
    assert_ne!(code, 0, "a second daemon must refuse");
    assert!(err.contains(&format!("PID {}", daemon.id())), "{err}");

    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(&format!("syncing through the daemon (PID {})", daemon.id())),
        "{err}"
    );
    assert!(out.contains("3000 records upserted"), "{out}");

    let (code, out, _) = cli(&org, &["status"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("Active") && out.contains("3000"), "{out}");
    assert!(
        !out.contains("no daemon running"),
        "live state from the daemon: {out}"
    );

    // SAFETY-free signal: kill(1) sends SIGTERM.
    let killed = std::process::Command::new("kill")
        .arg(daemon.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || daemon.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!org.paths.lock_file().exists());
    assert!(!socket.exists());
    assert!(org.paths.log_file().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_goes_through_a_running_daemon() {
    let org = org(sandbox_config(&[("Account", 500)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.write_config(&config_of(vec![source.clone()]));

    let mut daemon = start_daemon(&org).await;
    let (_, out, _) = cli(&org, &["status"]).await;
    assert!(out.contains("Not Connected"), "{out}");

    let (code, out, err) = cli(&org, &["auth", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(&format!(
            "authorizing through the daemon (PID {})",
            daemon.id()
        )),
        "{err}"
    );
    assert!(
        out.contains("user code") || out.contains("enter the code"),
        "{out}"
    );
    assert!(
        out.contains("Connected \"") && out.contains("admin@"),
        "{out}"
    );

    // The daemon's worker took the credentials at once: a sync now succeeds through it.
    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("500 records upserted"), "{out}");

    let _ = std::process::Command::new("kill")
        .arg(daemon.id().to_string())
        .status();
    let _ = tokio::task::spawn_blocking(move || daemon.wait()).await;
}
