//! `syncdeck daemon`: every source on its schedule, headless, until SIGINT or SIGTERM,
//! serving its engine on the control socket so TUIs and CLI commands attach to it.
//! SIGHUP reloads the configuration. Logs go to the state directory.

use crate::sanitize::eprintln;
use std::sync::Arc;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Paths};
use crate::model::Command;
use crate::notify::{DeliveryRetry, Notifier};
use crate::remote;
use crate::sync::Engine;
use crate::sync::SystemClock;

/// How long a stopping daemon waits for notifications still in flight.
const NOTIFY_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

pub fn daemon(paths: &Paths) -> anyhow::Result<u8> {
    let config = Arc::new(config::load(&paths.config_file)?);
    let _flush_guard = super::tui::log_to_file(paths)?;
    let notifier = Notifier::new(&config.notify, DeliveryRetry::default())?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let engine = Engine::start(
            paths.clone(),
            config.clone(),
            SystemClock::shared(),
            notifier.clone(),
        )?;
        let socket = match remote::ControlSocket::bind(&paths.socket_file()).await {
            Ok(s) => s,
            Err(e) => {
                engine.shutdown().await;
                return Err(e.into());
            }
        };
        let stop_serving = CancellationToken::new();
        let server = tokio::spawn(remote::serve(
            socket,
            engine.commands.clone(),
            engine.snapshots.clone(),
            stop_serving.clone(),
        ));
        eprintln!(
            "syncdeck daemon running (PID {}) with {} source(s); logs: {}",
            std::process::id(),
            config.sources.len(),
            paths.log_file().display()
        );
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                _ = hup.recv() => match config::load(&paths.config_file) {
                    Ok(c) => {
                        tracing::info!("SIGHUP: configuration reloaded");
                        let _ = engine.commands.send(Command::Reload(Arc::new(c)));
                    }
                    Err(e) => tracing::error!("SIGHUP: configuration not reloaded: {e}"),
                },
            }
        }
        eprintln!("stopping: runs finish their current page...");
        stop_serving.cancel();
        let _ = server.await;
        engine.shutdown().await;
        if tokio::time::timeout(NOTIFY_GRACE, notifier.settle())
            .await
            .is_err()
        {
            tracing::warn!("stopped with notifications still being retried; they are dropped");
        }
        eprintln!("stopped");
        anyhow::Ok(0)
    })
}
