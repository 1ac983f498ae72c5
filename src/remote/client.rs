//! The attaching side: the same command sender and snapshot receiver as the in-process
//! engine, fed through the daemon's control socket.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::BufReader;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, error, info, warn};

use super::frame::{FrameError, read_message, write_message};
use super::mirror::{Mirror, SchemaReply};
use super::protocol::{
    ClientMessage, DaemonMessage, Hello, MAX_CLIENT_MESSAGE, MAX_DAEMON_MESSAGE, PeerRole,
    VersionMismatch,
};
use crate::model::OrgSchema;
use crate::model::{Command, Snapshot};

/// Greeting, subscription and the first snapshot (with its schemas) must arrive within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A live attachment to a daemon. `commands` and `snapshots` behave like the in-process
/// engine's: when the daemon goes away, the snapshot sender is dropped (so `changed()`
/// returns an error) and `disconnected` says why. Sending `Command::Shutdown`, or dropping
/// both `commands` and `snapshots`, detaches without stopping the daemon.
#[derive(Debug)]
pub struct Attached {
    pub commands: mpsc::UnboundedSender<Command>,
    pub snapshots: watch::Receiver<Snapshot>,
    pub daemon_pid: u32,
    pub daemon_version: String,
    /// `None` while attached; the reason once the connection has ended.
    pub disconnected: watch::Receiver<Option<Disconnect>>,
    pub schemas: SchemaFetcher,
}

/// Why an attachment ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Disconnect {
    #[error("detached from the daemon")]
    Detached,
    #[error("the daemon closed the connection (it stopped or restarted)")]
    Closed,
    #[error("the daemon closed the connection: {0}")]
    ClosedWithReason(String),
    #[error("lost the connection to the daemon: {0}")]
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("no syncdeck daemon is running for this data dir (nothing listening on {path})")]
    NotRunning { path: PathBuf },
    #[error("cannot connect to the syncdeck daemon at {path}: {source}")]
    Connect { path: PathBuf, source: io::Error },
    #[error(transparent)]
    VersionMismatch(#[from] VersionMismatch),
    #[error("the syncdeck daemon at {path} refused the connection: {message}")]
    Refused { path: PathBuf, message: String },
    #[error(
        "the syncdeck daemon at {path} did not answer within {}s; it may be hung (check `systemctl --user status syncdeck`)",
        HANDSHAKE_TIMEOUT.as_secs()
    )]
    Timeout { path: PathBuf },
    #[error("unexpected answer from the syncdeck daemon at {path}: {reason}")]
    Protocol { path: PathBuf, reason: String },
}

/// Fetches a source's current schema from the daemon on demand. Snapshots from `attach`
/// already carry schemas; this is for callers that want one without waiting for a snapshot.
#[derive(Debug, Clone)]
pub struct SchemaFetcher {
    requests: mpsc::UnboundedSender<(String, SchemaReply)>,
}

impl SchemaFetcher {
    /// The schema the daemon holds for `source` now (`None` if it has none loaded; send
    /// `Command::LoadSchema` first). Fails only when the connection has ended.
    pub async fn fetch(&self, source: &str) -> Result<Option<Arc<OrgSchema>>, Disconnect> {
        let (reply, answer) = oneshot::channel();
        let gone = || Disconnect::Failed("the connection ended before the schema arrived".into());
        self.requests
            .send((source.to_owned(), reply))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }
}

/// Attach to the daemon serving `socket_path`. Returns once the first snapshot is in.
/// `AttachError::NotRunning` means: no daemon, run the engine in-process.
pub async fn attach(socket_path: &Path) -> Result<Attached, AttachError> {
    let path = socket_path.to_path_buf();
    let stream = match UnixStream::connect(socket_path).await {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(AttachError::NotRunning { path });
        }
        Err(source) => return Err(AttachError::Connect { path, source }),
    };
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut mirror = Mirror::default();
    let handshake = handshake(&mut reader, &mut write, &mut mirror, &path);
    let (hello, first) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| AttachError::Timeout { path: path.clone() })??;
    info!(pid = hello.pid, version = %hello.syncdeck_version, "attached to the syncdeck daemon");

    let (commands, commands_rx) = mpsc::unbounded_channel();
    let (snapshots_tx, snapshots) = watch::channel(first);
    let (disconnected_tx, disconnected) = watch::channel(None);
    let (fetch_tx, fetch_rx) = mpsc::unbounded_channel();
    let session = Session {
        mirror,
        write,
        snapshots: snapshots_tx,
        commands: commands_rx,
        fetches: fetch_rx,
    };
    tokio::spawn(async move {
        let reason = session.run(reader).await;
        match &reason {
            Disconnect::Detached => debug!("detached from the daemon"),
            other => warn!(reason = %other, "daemon connection ended"),
        }
        disconnected_tx.send_replace(Some(reason));
    });
    Ok(Attached {
        commands,
        snapshots,
        daemon_pid: hello.pid,
        daemon_version: hello.syncdeck_version,
        disconnected,
        schemas: SchemaFetcher { requests: fetch_tx },
    })
}

async fn handshake(
    reader: &mut BufReader<OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
    mirror: &mut Mirror,
    path: &Path,
) -> Result<(Hello, Snapshot), AttachError> {
    let protocol = |reason: String| AttachError::Protocol {
        path: path.to_path_buf(),
        reason,
    };
    let refused = |message: String| AttachError::Refused {
        path: path.to_path_buf(),
        message,
    };
    let hello = match read_message(reader, MAX_DAEMON_MESSAGE).await {
        Ok(Some(DaemonMessage::Hello(hello))) => hello,
        Ok(Some(_)) => return Err(protocol("it did not start with Hello".into())),
        Ok(None) => return Err(refused("it closed the connection at once".into())),
        Err(e) => return Err(protocol(e.to_string())),
    };
    hello.check(PeerRole::Daemon)?;
    for message in [
        ClientMessage::Hello(Hello::ours()),
        ClientMessage::Subscribe,
    ] {
        write_message(write, &message, MAX_CLIENT_MESSAGE)
            .await
            .map_err(|e| protocol(e.to_string()))?;
    }
    loop {
        match read_message(reader, MAX_DAEMON_MESSAGE).await {
            Ok(Some(DaemonMessage::Snapshot { snapshot, schemas })) => {
                for request in mirror.on_snapshot(snapshot, schemas) {
                    write_message(write, &request, MAX_CLIENT_MESSAGE)
                        .await
                        .map_err(|e| protocol(e.to_string()))?;
                }
            }
            Ok(Some(DaemonMessage::Schema {
                request,
                source,
                generation,
                schema,
                history,
            })) => mirror.on_schema(request, source, generation, schema, history),
            Ok(Some(DaemonMessage::Error { message })) => return Err(refused(message)),
            Ok(Some(DaemonMessage::Hello(_))) => return Err(protocol("Hello sent twice".into())),
            Ok(None) => return Err(refused("it closed the connection".into())),
            Err(e) => return Err(protocol(e.to_string())),
        }
        if let Some(first) = mirror.take_complete() {
            return Ok((hello, first));
        }
    }
}

/// The background half of an attachment.
struct Session {
    mirror: Mirror,
    write: OwnedWriteHalf,
    snapshots: watch::Sender<Snapshot>,
    commands: mpsc::UnboundedReceiver<Command>,
    fetches: mpsc::UnboundedReceiver<(String, SchemaReply)>,
}

type Incoming = Result<DaemonMessage, FrameError>;

impl Session {
    async fn run(self, reader: BufReader<OwnedReadHalf>) -> Disconnect {
        // Reading is not cancel-safe, so it runs beside the session and hands over messages;
        // the session ending drops the reader and with it the socket.
        let (incoming_tx, incoming) = mpsc::channel(16);
        let read = async {
            read_incoming(reader, incoming_tx).await;
            std::future::pending::<()>().await
        };
        tokio::select! {
            reason = self.serve(incoming) => reason,
            () = read => Disconnect::Failed("the socket reader stopped".into()),
        }
    }

    async fn serve(mut self, mut incoming: mpsc::Receiver<Incoming>) -> Disconnect {
        let mut last_error = None;
        // Dropping the command sender alone (a CLI that only watches) keeps the stream;
        // dropping it and every snapshot receiver too means nobody is listening: detach.
        let mut commands_open = true;
        loop {
            tokio::select! {
                message = incoming.recv() => match message {
                    Some(Ok(message)) => {
                        if let Err(reason) = self.on_message(message, &mut last_error).await {
                            return reason;
                        }
                    }
                    Some(Err(e)) => return Disconnect::Failed(e.to_string()),
                    None => return last_error.map_or(Disconnect::Closed, Disconnect::ClosedWithReason),
                },
                () = self.snapshots.closed(), if !commands_open => return Disconnect::Detached,
                command = self.commands.recv(), if commands_open => match command {
                    Some(Command::Shutdown) => return Disconnect::Detached,
                    None => commands_open = false,
                    Some(command) => match self.send(&ClientMessage::Command(command)).await {
                        Err(FrameError::TooLong { max }) => {
                            error!("a command larger than {max} bytes cannot be sent to the daemon; it was dropped");
                        }
                        Err(e) => return Disconnect::Failed(e.to_string()),
                        Ok(()) => {}
                    },
                },
                Some((source, reply)) = self.fetches.recv() => {
                    let request = self.mirror.fetch(source, reply);
                    if let Err(e) = self.send(&request).await {
                        return Disconnect::Failed(e.to_string());
                    }
                }
            }
        }
    }

    async fn on_message(
        &mut self,
        message: DaemonMessage,
        last_error: &mut Option<String>,
    ) -> Result<(), Disconnect> {
        match message {
            DaemonMessage::Snapshot { snapshot, schemas } => {
                for request in self.mirror.on_snapshot(snapshot, schemas) {
                    self.send(&request)
                        .await
                        .map_err(|e| Disconnect::Failed(e.to_string()))?;
                }
            }
            DaemonMessage::Schema {
                request,
                source,
                generation,
                schema,
                history,
            } => self
                .mirror
                .on_schema(request, source, generation, schema, history),
            DaemonMessage::Error { message } => {
                warn!(%message, "the daemon reported an error");
                *last_error = Some(message);
            }
            DaemonMessage::Hello(_) => {
                return Err(Disconnect::Failed("the daemon sent Hello twice".into()));
            }
        }
        if let Some(snapshot) = self.mirror.take_complete() {
            self.snapshots.send_replace(snapshot);
        }
        Ok(())
    }

    async fn send(&mut self, message: &ClientMessage) -> Result<(), FrameError> {
        write_message(&mut self.write, message, MAX_CLIENT_MESSAGE).await
    }
}

async fn read_incoming(mut reader: BufReader<OwnedReadHalf>, incoming: mpsc::Sender<Incoming>) {
    loop {
        let next = match read_message(&mut reader, MAX_DAEMON_MESSAGE).await {
            Ok(Some(message)) => Ok(message),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = next.is_err();
        if incoming.send(next).await.is_err() || failed {
            return;
        }
    }
}
