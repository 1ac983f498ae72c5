//! The daemon's control socket: `syncdeck daemon` serves its engine's `Command`s and
//! `Snapshot`s over a Unix socket so TUIs and CLI commands attach to it, and syncing never
//! depends on an SSH session staying open. Protocol: see [`protocol`].
//!
//! Wiring:
//! - `syncdeck daemon`: after taking the engine lock, bind first so a second daemon fails
//!   early with the first one's pid, then serve beside the engine:
//!   ```ignore
//!   let socket = remote::ControlSocket::bind(&paths.socket_file()).await?;
//!   let shutdown = CancellationToken::new(); // cancel on SIGINT/SIGTERM; ignore SIGHUP
//!   tokio::spawn(remote::serve(socket, engine_commands.clone(), engine_snapshots.clone(), shutdown.clone()));
//!   ```
//!   `serve` also returns by itself when the engine drops its snapshot sender, and removes
//!   the socket file when it returns.
//! - TUI and CLI: try the daemon first, fall back to the in-process engine:
//!   ```ignore
//!   match remote::attach(&paths.socket_file()).await {
//!       Ok(a) => run(a.commands, a.snapshots), // header: "attached to daemon pid {a.daemon_pid}"
//!       Err(remote::AttachError::NotRunning { .. }) => /* lock + local engine */,
//!       Err(e) => /* show e: version mismatch, hung daemon... */,
//!   }
//!   ```
//!   When the daemon goes away `snapshots.changed()` fails and `a.disconnected` holds the
//!   reason; offer to start a local engine then. `probe` answers "is a daemon live here?"
//!   without subscribing (its pid), e.g. for `status`.

mod client;
mod frame;
mod mirror;
mod probe;
pub mod protocol;
mod server;
#[cfg(test)]
mod test_support;

pub use client::{AttachError, Attached, Disconnect, SchemaFetcher, attach};
pub use probe::probe;
pub use server::{ControlSocket, ServeError, ServeLimits, serve, serve_with};
