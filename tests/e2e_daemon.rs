//! Issue 8 end to end: `syncdeck daemon` runs; a TUI in tmux attaches to it, asks for a
//! sync and is closed at once; the daemon still finishes that run (seen through
//! `syncdeck status --json`) and keeps running.

mod common;
mod e2e_support;

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::*;
use e2e_support::{Tmux, tmux_available};
use serde_json::Value;

/// The daemon process, killed if the test fails before stopping it.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `syncdeck status --json`, parsed.
async fn status(org: &Org) -> Value {
    let mut cmd = syncdeck(org);
    cmd.args(["status", "--json"]).stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn last_run_started(status: &Value) -> Option<DateTime<Utc>> {
    status[0]["last_run"]["started"]
        .as_str()
        .and_then(|s| s.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_tui_leaves_the_daemon_syncing() {
    if !tmux_available("a_closed_tui_leaves_the_daemon_syncing") {
        return;
    }
    let org = org(sandbox_config(&[("Account", 3_000)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name", "Industry"])]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;

    let mut daemon = Daemon(
        syncdeck(&org)
            .arg("daemon")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = daemon.0.id();
    let socket = org.paths.socket_file();
    patiently("the daemon's socket", async {
        while !socket.exists() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let idle = status(&org).await;
    assert!(
        last_run_started(&idle).is_none(),
        "a manual source runs only when asked: {idle:#}"
    );

    let command = format!(
        "env -u SYNCDECK_CONFIG -u SYNCDECK_DATA_DIR NO_COLOR=1 '{}' --config '{}' --data-dir '{}'",
        env!("CARGO_BIN_EXE_syncdeck"),
        org.paths.config_file.display(),
        org.paths.data_dir.display()
    );
    let cwd = org.root.path().to_path_buf();
    let tmux = tokio::task::spawn_blocking(move || Tmux::start("daemon", &command, &cwd))
        .await
        .unwrap();
    let (tmux, before_request) = tokio::task::spawn_blocking(move || {
        let header = format!("attached to daemon pid {pid}");
        tmux.wait_for("the TUI to attach", |s| s.contains(&header));
        // Sync now on the only source, then quit at once: the run outlives the TUI.
        let before_request = Utc::now();
        tmux.keys(&["n", "q"]);
        tmux.wait_for("the TUI to exit", |_| tmux.pane_dead());
        (tmux, before_request)
    })
    .await
    .unwrap();

    let finished = patiently("the daemon to finish the requested run", async {
        loop {
            let s = status(&org).await;
            if last_run_started(&s).is_some_and(|t| t >= before_request)
                && s[0]["last_run"]["outcome"] == "Succeeded"
            {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    assert_eq!(finished[0]["last_run"]["upserted"], 3_000, "{finished:#}");
    assert!(
        daemon.0.try_wait().unwrap().is_none(),
        "closing the TUI must not stop the daemon"
    );
    drop(tmux);

    let killed = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = tokio::task::spawn_blocking(move || daemon.0.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}
