//! The control-socket protocol, version 1.
//!
//! Framing: one JSON object per line (UTF-8, `\n`-terminated), adjacently tagged as
//! `{"type": "...", "body": ...}` so a human with `socat` can read it.
//!
//! Conversation:
//! 1. On accept the daemon sends `Hello`; the client answers with its own `Hello`. The
//!    protocol versions must be equal, otherwise the side that notices says why (`Error`)
//!    and closes. A liveness probe just reads the daemon's `Hello` and hangs up.
//! 2. `Subscribe` starts the snapshot stream: the current snapshot at once, then every
//!    snapshot whose `version` differs from the last one sent. Snapshots are sent whole:
//!    they are small (tens of KB), the engine's watch channel already coalesces bursts, and
//!    a whole snapshot can never be misapplied the way a diff could after a lost message.
//!    The daemon encodes each version once and shares the bytes among all clients.
//! 3. `Command` carries the engine's `Command` unchanged, except `Shutdown`, which the
//!    daemon refuses: clients come and go, the daemon is stopped by its service manager.
//! 4. `SourceSnapshot::schema` and `SourceSnapshot::history` are not serialized (a schema
//!    can be megabytes, a history of 200 runs with per-object counts a hundred KB, and a
//!    snapshot is sent after every page of a run), so each `Snapshot` message lists a
//!    generation per source that has either; a client fetches what it has not seen with
//!    `GetSchema` and gets `Schema` back, with both, for the generation it answers for.
//!    Generations increase whenever a source's schema or history changes.
//!
//! Limits: client → daemon lines are at most [`MAX_CLIENT_MESSAGE`] bytes, daemon → client
//! lines at most [`MAX_DAEMON_MESSAGE`] (schemas of large orgs). A malformed or oversized
//! line closes that one connection after an `Error` with the reason; the daemon logs it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::Command;
use crate::model::HistoryRun;
use crate::model::OrgSchema;
use crate::model::Snapshot;

/// Bumped on any incompatible change to the messages below.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest line a client may send (a `Reload` with a big configuration fits easily).
pub const MAX_CLIENT_MESSAGE: usize = 1024 * 1024;
/// Largest line the daemon sends: a whole org schema can be several megabytes.
pub const MAX_DAEMON_MESSAGE: usize = 64 * 1024 * 1024;

/// Sent by both sides first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol_version: u32,
    pub syncdeck_version: String,
    pub pid: u32,
}

impl Hello {
    /// This process's hello.
    pub fn ours() -> Hello {
        Hello {
            protocol_version: PROTOCOL_VERSION,
            syncdeck_version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
        }
    }

    /// Whether a peer's hello is one we can talk to.
    pub fn check(&self, peer: PeerRole) -> Result<(), VersionMismatch> {
        if self.protocol_version == PROTOCOL_VERSION {
            return Ok(());
        }
        Err(VersionMismatch {
            peer,
            peer_protocol: self.protocol_version,
            peer_version: self.syncdeck_version.clone(),
            peer_pid: self.pid,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRole {
    Daemon,
    Client,
}

/// The two ends speak different protocol versions (usually: upgraded binary, old daemon).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} (pid {peer_pid}, syncdeck {peer_version}) speaks control protocol {peer_protocol}, this syncdeck {} speaks {}; run the same syncdeck version on both sides (after an upgrade, restart the daemon: systemctl --user restart syncdeck)",
    match peer { PeerRole::Daemon => "the daemon", PeerRole::Client => "the client" },
    env!("CARGO_PKG_VERSION"),
    PROTOCOL_VERSION
)]
pub struct VersionMismatch {
    pub peer: PeerRole,
    pub peer_protocol: u32,
    pub peer_version: String,
    pub peer_pid: u32,
}

/// Client → daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "body")]
pub enum ClientMessage {
    Hello(Hello),
    Subscribe,
    Command(Command),
    /// Answered by `DaemonMessage::Schema` with the same `request`.
    GetSchema {
        request: u64,
        source: String,
    },
}

/// Daemon → client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "body")]
pub enum DaemonMessage {
    Hello(Hello),
    Snapshot {
        snapshot: Snapshot,
        /// Source id → generation of its loaded schema and run history; sources with
        /// neither are absent.
        schemas: BTreeMap<String, u64>,
    },
    Schema {
        request: u64,
        source: String,
        /// The generation of `schema` and `history`; `None` when the source has neither.
        generation: Option<u64>,
        schema: Option<Arc<OrgSchema>>,
        /// The source's finished runs, newest first (`SourceSnapshot::history`).
        #[serde(default)]
        history: Arc<Vec<HistoryRun>>,
    },
    /// Something the peer should know, e.g. why the daemon is closing the connection.
    Error {
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectSchema;

    #[test]
    fn messages_are_self_describing_json() {
        let line = serde_json::to_string(&ClientMessage::Subscribe).unwrap();
        assert_eq!(line, r#"{"type":"Subscribe"}"#);
        let cmd = ClientMessage::Command(Command::Pause {
            source: "acme".into(),
        });
        assert_eq!(
            serde_json::to_string(&cmd).unwrap(),
            r#"{"type":"Command","body":{"Pause":{"source":"acme"}}}"#
        );
    }

    #[test]
    fn schema_replies_round_trip() {
        let schema = OrgSchema {
            objects: vec![ObjectSchema {
                name: "Account".into(),
                label: "Account".into(),
                ..Default::default()
            }],
        };
        let msg = DaemonMessage::Schema {
            request: 7,
            source: "acme".into(),
            generation: Some(3),
            schema: Some(Arc::new(schema.clone())),
            history: crate::remote::test_support::history(9),
        };
        let back: DaemonMessage =
            serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
        match back {
            DaemonMessage::Schema {
                request: 7,
                generation: Some(3),
                schema: Some(s),
                history,
                ..
            } => {
                assert_eq!(*s, schema);
                assert_eq!(history, crate::remote::test_support::history(9));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_different_protocol_version_is_explained() {
        let mut theirs = Hello::ours();
        assert_eq!(theirs.check(PeerRole::Daemon), Ok(()));
        theirs.protocol_version = PROTOCOL_VERSION + 1;
        theirs.syncdeck_version = "9.9.9".into();
        theirs.pid = 4242;
        let message = theirs.check(PeerRole::Daemon).unwrap_err().to_string();
        assert!(
            message.starts_with("the daemon (pid 4242, syncdeck 9.9.9) speaks control protocol 2"),
            "{message}"
        );
        assert!(message.contains("restart the daemon"), "{message}");
    }
}
