//! `syncdeck auth` as a new user runs it from the README, against an in-process sandbox org.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use syncdeck::config::{Credentials, Paths};
use syncdeck::sandbox::{Sandbox, SandboxConfig, SandboxHandle, SandboxUser};

fn write_config(root: &Path, sb: &SandboxHandle) {
    let config = format!(
        "[[source]]\nid = \"trial\"\nname = \"Trial org\"\nlogin_url = \"{}\"\nclient_id = \"{}\"\n",
        sb.base_url(),
        sb.client_id()
    );
    std::fs::write(root.join("config.toml"), config).unwrap();
}

async fn run_auth(root: &Path, args: &[&str]) -> Output {
    let root = root.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_syncdeck"))
            .arg("--config")
            .arg(root.join("config.toml"))
            .arg("--data-dir")
            .arg(root.join("data"))
            .arg("auth")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_with_auto_approve_stores_private_credentials() {
    let sb = Sandbox::start(SandboxConfig {
        auto_approve: Some(Duration::ZERO),
        device_poll_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    write_config(root.path(), &sb);
    let out = run_auth(root.path(), &["trial"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains(&sb.user_id(SandboxUser::Admin)), "{stdout}");
    assert!(stdout.contains("View All Data yes"), "{stdout}");
    let paths = Paths::under(root.path());
    let file = paths.credentials_file("trial");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let creds = Credentials::load(&paths, "trial").unwrap().unwrap();
    assert_eq!(creds.user_id, sb.user_id(SandboxUser::Admin));
    assert_eq!(creds.instance_url, sb.base_url());
    assert!(creds.refresh_token.is_some());
    assert!(!stdout.contains(creds.access_token.expose()), "token printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_by_a_non_admin_exits_3_and_stores_nothing() {
    let sb = Sandbox::start(SandboxConfig {
        device_poll_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    write_config(root.path(), &sb);
    let approve = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if sb.approve(None, SandboxUser::Standard) > 0 {
                break;
            }
        }
    };
    let (out, ()) = tokio::join!(run_auth(root.path(), &["trial"]), approve);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("A Salesforce admin must authorize this connection"), "{stderr}");
    assert!(stderr.contains("lacks View All Data"), "{stderr}");
    assert!(!Paths::under(root.path()).credentials_file("trial").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_source_exits_1_naming_the_fix() {
    let sb = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let root = tempfile::tempdir().unwrap();
    write_config(root.path(), &sb);
    let out = run_auth(root.path(), &["nope"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no source \"nope\"") && stderr.contains("trial"), "{stderr}");
}
