//! `syncdeck auth` as a new user runs it from the README, against an in-process sandbox org.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use syncdeck::config::{Credentials, Paths};
use syncdeck::sandbox::{Sandbox, SandboxConfig, SandboxHandle, SandboxUser};
use tempfile::TempDir;

fn write_config(root: &Path, sb: &SandboxHandle) {
    let config = format!(
        "[[source]]\nid = \"trial\"\nname = \"Trial org\"\nlogin_url = \"{}\"\nclient_id = \"{}\"\n",
        sb.base_url(),
        sb.client_id()
    );
    std::fs::write(root.join("config.toml"), config).unwrap();
}

/// A sandbox org and a fresh directory whose config.toml holds one source, "trial", on it.
async fn trial_org(config: SandboxConfig) -> (SandboxHandle, TempDir) {
    let sb = Sandbox::start(config).await.unwrap();
    let root = tempfile::tempdir().unwrap();
    write_config(root.path(), &sb);
    (sb, root)
}

/// An org that approves every device code at once and lets the CLI poll every second.
fn auto_approving() -> SandboxConfig {
    SandboxConfig {
        auto_approve: Some(Duration::ZERO),
        device_poll_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    }
}

/// `syncdeck` with its config and data under `root`, no terminal input, run to the end.
fn syncdeck_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncdeck"))
        .arg("--config")
        .arg(root.join("config.toml"))
        .arg("--data-dir")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// [`syncdeck_in`] off the async runtime, so the in-process sandbox keeps answering.
async fn run_syncdeck(root: &Path, args: &[&str]) -> Output {
    let root = root.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        syncdeck_in(&root, &args)
    })
    .await
    .unwrap()
}

async fn run_auth(root: &Path, args: &[&str]) -> Output {
    run_syncdeck(root, &[&["auth"], args].concat()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_with_auto_approve_stores_private_credentials() {
    let (sb, root) = trial_org(auto_approving()).await;
    let out = run_auth(root.path(), &["trial"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains(&sb.user_id(SandboxUser::Admin)), "{stdout}");
    assert!(stdout.contains("View All Data yes"), "{stdout}");
    let paths = Paths::under(root.path());
    let file = paths.credentials_file("trial");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let creds = Credentials::load(&paths, "trial").unwrap().unwrap();
    assert_eq!(creds.user_id, sb.user_id(SandboxUser::Admin));
    assert_eq!(creds.instance_url, sb.base_url());
    assert!(creds.refresh_token.is_some());
    assert!(
        !stdout.contains(creds.access_token.expose()),
        "token printed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_by_a_non_admin_exits_3_and_stores_nothing() {
    let (sb, root) = trial_org(SandboxConfig {
        device_poll_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await;
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
    assert!(
        stderr.contains("A Salesforce admin must authorize this connection"),
        "{stderr}"
    );
    assert!(stderr.contains("lacks View All Data"), "{stderr}");
    assert!(!Paths::under(root.path()).credentials_file("trial").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_source_exits_1_naming_the_fix() {
    let (_sb, root) = trial_org(SandboxConfig::default()).await;
    let out = run_auth(root.path(), &["nope"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no source \"nope\"") && stderr.contains("trial"),
        "{stderr}"
    );
}

/// The README path: start `syncdeck sandbox --auto-approve`, paste its [[source]] into the
/// config, run `syncdeck auth`, then `syncdeck schema`.
#[test]
fn readme_path_sandbox_auth_then_schema() {
    use std::io::{BufRead, BufReader};

    let root = tempfile::tempdir().unwrap();
    let mut sandbox = Command::new(env!("CARGO_BIN_EXE_syncdeck"))
        .args(["sandbox", "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sandbox.stdout.take().unwrap()).lines();
    let mut snippet = String::new();
    let mut in_snippet = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("Press Ctrl-C") {
            break;
        }
        in_snippet |= line == "[[source]]";
        if in_snippet {
            snippet.push_str(&line);
            snippet.push('\n');
        }
    }
    let id = snippet
        .lines()
        .find_map(|l| l.strip_prefix("id = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no source id in the sandbox's snippet:\n{snippet}"))
        .to_string();
    std::fs::write(root.path().join("config.toml"), &snippet).unwrap();
    let syncdeck = |args: &[&str]| syncdeck_in(root.path(), args);
    let auth = syncdeck(&["auth", &id]);
    let schema = syncdeck(&["schema", &id, "--object", "Account", "--json"]);
    let objects = syncdeck(&["schema", &id]);
    let _ = sandbox.kill();
    let _ = sandbox.wait();

    let out = String::from_utf8_lossy(&auth.stdout);
    assert_eq!(
        auth.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&auth.stderr)
    );
    assert!(
        out.contains("enter the code") && out.contains("Connected"),
        "{out}"
    );
    assert_eq!(
        schema.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&schema.stderr)
    );
    let account: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(account["name"], "Account");
    let fields = account["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["name"] == "SystemModstamp" && f["field_type"] == "datetime")
    );
    let listing = String::from_utf8_lossy(&objects.stdout);
    assert_eq!(
        objects.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&objects.stderr)
    );
    assert!(
        listing.lines().any(|l| l.starts_with("Account ")),
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_is_served_from_the_cache_the_second_time() {
    let (sb, root) = trial_org(auto_approving()).await;
    assert_eq!(
        run_auth(root.path(), &["trial"]).await.status.code(),
        Some(0)
    );
    let schema = || run_syncdeck(root.path(), &["schema", "trial", "--object", "Contact"]);
    let describes = |sb: &SandboxHandle| {
        sb.calls()
            .iter()
            .filter(|c| {
                c.path.ends_with("/sobjects/Contact/describe/")
                    || c.path.ends_with("/sobjects/Contact/describe")
            })
            .count()
    };
    let first = schema().await;
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.starts_with("Contact (Contact)"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("LastName ") && l.contains("required")),
        "{text}"
    );
    assert_eq!(describes(&sb), 1);
    let second = schema().await;
    assert_eq!(String::from_utf8_lossy(&second.stdout), text);
    assert_eq!(describes(&sb), 1, "the second run should use the cache");
}
