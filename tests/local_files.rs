//! The local system: every file syncdeck creates is private whichever command runs first,
//! one engine per data dir through an OS lock, and `schema` spends the daemon's budget.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;

/// A child process killed when the test ends, even by a failed assertion.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_daemon(org: &Org) -> Running {
    let daemon = Running(
        syncdeck(org)
            .arg("daemon")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = org.paths.socket_file();
    patiently("the daemon's socket", async {
        while !socket.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    daemon
}

/// SIGTERM, then wait for the daemon to finish stopping.
async fn stop(mut daemon: Running) {
    let _ = std::process::Command::new("kill")
        .arg(daemon.0.id().to_string())
        .status();
    let _ = tokio::task::spawn_blocking(move || daemon.0.wait()).await;
}

/// Every entry under `dir` (itself included) with its permission bits.
fn modes(dir: &Path) -> Vec<(PathBuf, u32, bool)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let mut meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            // `syncdeck.log` links to today's rotated file: a link's own mode means nothing,
            // so judge what it points to, which must be in the same private tree.
            let target = std::fs::canonicalize(&path).unwrap();
            let root = std::fs::canonicalize(dir).unwrap();
            assert!(
                target.starts_with(&root),
                "{} leaves {}",
                path.display(),
                dir.display()
            );
            meta = std::fs::metadata(&path).unwrap();
        }
        found.push((
            path.clone(),
            meta.permissions().mode() & 0o777,
            meta.is_dir(),
        ));
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        }
    }
    found
}

fn assert_private(dir: &Path) -> Vec<PathBuf> {
    let found = modes(dir);
    for (path, mode, is_dir) in &found {
        let wanted = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, wanted, "{} is {mode:o}", path.display());
    }
    found.into_iter().map(|(p, _, _)| p).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_started_before_any_auth_creates_only_private_files() {
    let org = org(sandbox_config(&[("Account", 300)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.write_config(&config_of(vec![source.clone()]));
    assert!(!org.paths.data_dir.exists());

    let daemon = start_daemon(&org).await;
    let (code, out, err) = cli(&org, &["auth", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");

    // While the daemon runs: the store has its -wal and -shm, the socket and log exist.
    let store = org.paths.store_file("acme");
    let files = assert_private(&org.paths.data_dir);
    for wanted in [
        store.clone(),
        PathBuf::from(format!("{}-wal", store.display())),
        PathBuf::from(format!("{}-shm", store.display())),
        org.paths.credentials_file("acme"),
        org.paths.lock_file(),
        org.paths.log_file(),
        org.paths.socket_file(),
    ] {
        assert!(
            files.contains(&wanted),
            "{} missing from {files:?}",
            wanted.display()
        );
    }
    stop(daemon).await;

    // A foreground sync after the daemon (no daemon now) keeps everything private too.
    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_private(&org.paths.data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_racing_for_one_data_dir_leave_exactly_one_engine() {
    let org = org(sandbox_config(&[("Account", 10)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.write_config(&config_of(vec![source]));
    for _ in 0..3 {
        let spawn = || {
            Running(
                syncdeck(&org)
                    .arg("daemon")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            )
        };
        let (mut first, mut second) = (spawn(), spawn());
        // The loser exits at once with the lock error; the winner keeps running.
        let loser = patiently("one daemon to give up", async {
            loop {
                if let Some(status) = first.0.try_wait().unwrap() {
                    return (status, first, second);
                }
                if let Some(status) = second.0.try_wait().unwrap() {
                    return (status, second, first);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        let (status, mut loser, winner) = loser;
        assert!(!status.success());
        let mut err = String::new();
        std::io::Read::read_to_string(&mut loser.0.stderr.take().unwrap(), &mut err).unwrap();
        // The winner's PID, unless the loser came between the winner's lock and its write.
        assert!(
            err.contains(&format!("PID {}", winner.0.id())) || err.contains("PID not written yet"),
            "the loser names the winner: {err}"
        );
        let mut winner = winner;
        assert!(winner.0.try_wait().unwrap().is_none(), "the winner runs on");
        let socket = org.paths.socket_file();
        patiently("the winner's socket", async {
            while !socket.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        stop(winner).await;
        // Its lock went with it: the next round starts clean.
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leftover_lock_naming_a_live_process_does_not_block_a_sync() {
    let org = org(sandbox_config(&[("Account", 10)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    std::fs::create_dir_all(&org.paths.data_dir).unwrap();
    // PID 1 is always alive, and holds no lock on this file.
    std::fs::write(org.paths.lock_file(), "1\n").unwrap();
    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_goes_through_a_running_daemon() {
    let org = org(sandbox_config(&[("Account", 10)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    let daemon = start_daemon(&org).await;
    let (code, out, err) = cli(&org, &["schema", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        err.contains(&format!("through the daemon (PID {})", daemon.0.id())),
        "{err}"
    );
    assert!(out.lines().any(|l| l.starts_with("Account ")), "{out}");
    let (code, out, err) = cli(&org, &["schema", "acme", "--object", "Account"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.starts_with("Account (Account)"), "{out}");
    assert!(out.contains("SystemModstamp"), "{out}");
    stop(daemon).await;
}
