//! `syncdeck config check|path|init` through the built binary.

use std::path::Path;
use std::process::{Command, Output};

fn syncdeck(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("SYNCDECK_CONFIG")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn example_config_checks_and_summarises_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/syncdeck.example.toml");
    let out = syncdeck(&["config", "check", "--config", example], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("acme-prod  \"Acme production\"  login host login.salesforce.com  every 1h  quota threshold 80%"), "{stdout}");
    assert!(
        stdout.contains("sandbox  \"Local sandbox\"  login host 127.0.0.1:8443  every 15m"),
        "{stdout}"
    );
    assert!(stdout.contains("2 objects, 9 fields"), "{stdout}");
}

#[test]
fn malformed_file_fails_with_positions_and_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let bad = "[[source]]\nid = \"acme\"\nname = \"Acme\"\nlogin_url = \"https://login.salesforce.com\"\nclient_id = \"x\"\nfrequency = \"5 parsecs\"\nquota_threshold_percent = 150\n";
    std::fs::write(&path, bad).unwrap();
    let out = syncdeck(
        &["config", "check", "--config", path.to_str().unwrap()],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let p = path.display();
    assert!(
        stderr.contains(&format!(
            "{p}:6:13: frequency \"5 parsecs\" is not a frequency"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{p}:7:27: quota_threshold_percent is 150")),
        "{stderr}"
    );
    assert!(stderr.contains("2 problems found"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), bad);

    std::fs::write(&path, "[[source]\n").unwrap();
    let out = syncdeck(
        &["config", "check", "--config", path.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("{p}:1:")),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "[[source]\n");
}

#[test]
fn missing_config_says_how_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/config.toml");
    let out = syncdeck(
        &["config", "check", "--config", path.to_str().unwrap()],
        dir.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no configuration at"), "{stderr}");
    assert!(stderr.contains("`syncdeck config init`"), "{stderr}");
    assert!(stderr.contains("`syncdeck demo`"), "{stderr}");
    assert!(!stderr.contains("config/syncdeck.example.toml"), "{stderr}");
    assert!(!path.exists());
}

#[test]
fn every_command_without_a_config_suggests_init_and_demo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none/config.toml");
    for args in [
        &[][..], // the TUI
        &["status"],
        &["sync", "acme"],
        &["schema", "acme"],
        &["fields", "acme", "list"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--config", path.to_str().unwrap()]);
        let out = syncdeck(&all, dir.path());
        let stderr = text(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            stderr.contains("`syncdeck config init`") && stderr.contains("`syncdeck demo`"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn init_writes_the_example_once_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh/syncdeck/config.toml");
    let config = path.to_str().unwrap();
    let out = syncdeck(&["config", "init", "--config", config], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(config), "{}", text(&out.stdout));
    let example = include_str!("../config/syncdeck.example.toml");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), example);

    let check = syncdeck(&["config", "check", "--config", config], dir.path());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));

    std::fs::write(&path, "# edited by hand\n").unwrap();
    let again = syncdeck(&["config", "init", "--config", config], dir.path());
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# edited by hand\n"
    );
}

#[test]
fn config_path_with_a_data_dir_names_the_demos_files_for_that_dir() {
    let dir = tempfile::tempdir().unwrap();
    let demo = syncdeck::config::Paths::under(dir.path());
    let out = syncdeck(
        &[
            "config",
            "path",
            "--config",
            demo.config_file.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stdout = text(&out.stdout);
    for (label, path) in [
        ("config      ", demo.config_file.clone()),
        ("credentials ", demo.credentials_dir()),
        ("stores      ", demo.sources_dir()),
        ("logs        ", demo.log_file()),
    ] {
        assert!(
            stdout.contains(&format!("{label} {}", path.display())),
            "{label}: {stdout}"
        );
    }
}

#[test]
fn path_lists_every_location_under_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = syncdeck(&["config", "path", "--config", "/etc/x.toml"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let d = dir.path().display();
    assert!(stdout.contains("config       /etc/x.toml"), "{stdout}");
    assert!(
        stdout.contains(&format!("credentials  {d}/credentials")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("stores       {d}/sources")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("logs         {d}/state/syncdeck.log")),
        "{stdout}"
    );
}
