//! `syncdeck` without a subcommand: the TUI, attached to a running daemon when there is
//! one for this data dir, otherwise on an in-process engine holding the engine lock.

use crate::sanitize::{eprint, eprintln};
use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::{self, Config, Paths};
use crate::model::Command;
use crate::notify::{DeliveryRetry, Notifier};
use crate::remote;
use crate::sync::Engine;
use crate::sync::SystemClock;
use crate::tui::adapters::{EditorSettings, SnapshotHistory};
use crate::tui::{self, EngineLink, EngineMode, RunOptions};

/// Exit code for "cannot start": no config, invalid config, no terminal.
const EXIT_SETUP: u8 = 2;

pub fn run(paths: &Paths) -> anyhow::Result<u8> {
    let config = match config::load(&paths.config_file) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            // A missing file's message already suggests `config init` and `demo`.
            eprintln!("error: {e}");
            return Ok(EXIT_SETUP);
        }
    };
    if let Some(code) = refuse_without_terminal() {
        return Ok(code);
    }
    let _log = log_to_file(paths)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_async(paths, config))
}

/// The TUI needs a terminal on both sides; say so before touching it.
pub(crate) fn refuse_without_terminal() -> Option<u8> {
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return None;
    }
    eprintln!(
        "error: syncdeck's TUI needs an interactive terminal; in scripts use `syncdeck status`, `syncdeck sync SOURCE` or `syncdeck daemon`"
    );
    Some(EXIT_SETUP)
}

/// Daily log files kept.
const LOG_DAYS: usize = 7;

/// Route `tracing` to `<state dir>/syncdeck.log`: nothing may reach the screen the TUI
/// owns. Keep the guard alive until exit so buffered lines are flushed.
pub(crate) fn log_to_file(paths: &Paths) -> anyhow::Result<WorkerGuard> {
    crate::config::private::create_private_dir_all(&paths.state_dir).with_context(|| {
        format!(
            "cannot create the state directory {} for the log file",
            paths.state_dir.display()
        )
    })?;
    // One file a day (`syncdeck.YYYY-MM-DD.log`), the last LOG_DAYS kept; `syncdeck.log`
    // links to today's, so a daemon running for months cannot fill the disk.
    let open = || {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("syncdeck")
            .filename_suffix("log")
            .max_log_files(LOG_DAYS)
            .latest_symlink("syncdeck.log")
            .build(&paths.state_dir)
    };
    // Another syncdeck process starting at the same moment may be replacing the link
    // (remove, then create): the second attempt finds it in place.
    let appender = open()
        .or_else(|_| open())
        .with_context(|| format!("cannot open the log in {}", paths.state_dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}

async fn run_async(paths: &Paths, config: Arc<Config>) -> anyhow::Result<u8> {
    let socket = paths.socket_file();
    if remote::probe(&socket).await.is_some() {
        match remote::attach(&socket).await {
            Ok(attached) => return run_attached(paths, attached).await,
            // It went away between the probe and the attach: run locally.
            Err(remote::AttachError::NotRunning { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    run_local(paths, config).await
}

async fn run_attached(paths: &Paths, attached: remote::Attached) -> anyhow::Result<u8> {
    let pid = attached.daemon_pid;
    tracing::info!(pid, "TUI attached to the daemon");
    let history = SnapshotHistory::new(attached.snapshots.clone());
    let engine = EngineLink {
        snapshots: attached.snapshots,
        commands: attached.commands.clone(),
    };
    let options = RunOptions {
        mode: Some(EngineMode::Attached { pid }),
        disconnected: Some(attached.disconnected.clone()),
        log_file: Some(paths.log_file()),
        ..RunOptions::default()
    };
    let result = tui::run(
        engine,
        EditorSettings::new(&paths.config_file),
        history,
        options,
    )
    .await;
    // Detach only: the daemon keeps syncing.
    let _ = attached.commands.send(Command::Shutdown);
    result?;
    let lost = attached
        .disconnected
        .borrow()
        .clone()
        .filter(|d| *d != remote::Disconnect::Detached);
    match lost {
        Some(reason) if offer_local_engine(pid, &reason) => {
            let config = Arc::new(config::load(&paths.config_file)?);
            run_local(paths, config).await
        }
        _ => Ok(0),
    }
}

/// After the daemon went away under the TUI (terminal restored): ask on the terminal
/// whether to go on with an in-process engine.
fn offer_local_engine(pid: u32, reason: &remote::Disconnect) -> bool {
    use std::io::Write;
    eprint!(
        "The syncdeck daemon (pid {pid}) is gone: {reason}.\nStart a local engine for this data dir now? [Y/n] "
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "" | "y" | "Y" | "yes")
}

/// Start the in-process engine (taking the data dir's lock) and run the TUI on it until
/// the operator quits; then stop the workers at a page boundary.
pub(crate) async fn run_local(paths: &Paths, config: Arc<Config>) -> anyhow::Result<u8> {
    let notifier = Notifier::new(&config.notify, DeliveryRetry::default())
        .context("the [notify] settings cannot be used")?;
    let engine = Engine::start(paths.clone(), config, SystemClock::shared(), notifier)?;
    let handle = EngineLink {
        snapshots: engine.snapshots.clone(),
        commands: engine.commands.clone(),
    };
    let options = RunOptions {
        mode: Some(EngineMode::Local),
        log_file: Some(paths.log_file()),
        ..RunOptions::default()
    };
    let result = tui::run(
        handle,
        EditorSettings::new(&paths.config_file),
        SnapshotHistory::new(engine.snapshots.clone()),
        options,
    )
    .await;
    engine.shutdown().await;
    result?;
    Ok(0)
}
