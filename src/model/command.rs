//! What the engine accepts: a `Command`, from the TUI, the CLI or a client of the daemon's
//! control socket. Plain data, serializable for the socket.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Config;

/// A request to the engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Command {
    /// Start a run now unless one is running. `full` discards cursors and re-reads everything.
    SyncNow {
        source: String,
        full: bool,
    },
    /// Operator pause: the worker stops at the next page boundary, committed work kept.
    Pause {
        source: String,
    },
    /// Undo a pause; the source returns to its schedule.
    Resume {
        source: String,
    },
    /// Apply a changed configuration without restarting (frequency, threshold, fields...).
    Reload(Arc<Config>),
    /// Start an interactive authorization; progress appears in `SourceSnapshot::auth`.
    Reauthorize {
        source: String,
        flow: AuthFlow,
    },
    /// Cancel a pending authorization.
    CancelAuth {
        source: String,
    },
    /// Fetch (or revalidate) the org schema; it appears in `SourceSnapshot::schema`.
    LoadSchema {
        source: String,
        force: bool,
    },
    /// Describe these objects (cached like any describe) and add their fields to the
    /// published schema; for objects the operator opens before selecting them.
    DescribeObjects {
        source: String,
        objects: Vec<String>,
    },
    /// Send a test notification to every configured channel; the answer is an event.
    TestNotification {
        source: String,
    },
    Shutdown,
}

/// Loopback port of the web (PKCE) flow when none is given: the one Salesforce CLI uses, so
/// connected apps often register `http://localhost:1717/callback` already. The TUI and
/// `syncdeck auth --web` both use it; forward it with `ssh -L` when remote.
pub const WEB_FLOW_PORT: u16 = 1717;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthFlow {
    /// Device flow: the operator opens a URL anywhere and types a code.
    Device,
    /// Web-server flow with PKCE and a loopback redirect listener on this port.
    Web { port: u16 },
}
