//! The daemon's side: bind the control socket safely, then serve any number of clients.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::frame::{FrameError, encode, read_message, write_message};
use super::probe::{Knock, knock};
use super::protocol::{
    ClientMessage, DaemonMessage, Hello, MAX_CLIENT_MESSAGE, MAX_DAEMON_MESSAGE, PeerRole,
};
use crate::config::Config;
use crate::model::{Command, HistoryRun, OrgSchema, Snapshot};

/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "another syncdeck daemon (pid {pid}) is already serving {path}; run `syncdeck` to attach to it, or stop it first (`systemctl --user stop syncdeck` or `kill {pid}`)"
    )]
    AlreadyRunning { path: PathBuf, pid: u32 },
    #[error(
        "a process is listening on {path} but does not answer like a syncdeck daemon (hung, or not syncdeck); stop it or remove the socket, then start the daemon again"
    )]
    Unresponsive { path: PathBuf },
    #[error(
        "{path} exists and is not a socket; syncdeck will not delete it: move it away, or use another --data-dir or XDG_RUNTIME_DIR"
    )]
    NotASocket { path: PathBuf },
    #[error(
        "the control socket path {path} is {len} bytes, more than the {MAX_SOCKET_PATH} a Unix socket allows; use a shorter --data-dir or set XDG_RUNTIME_DIR"
    )]
    PathTooLong { path: PathBuf, len: usize },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ServeError {
    let path = path.to_path_buf();
    move |source| ServeError::Io {
        action,
        path,
        source,
    }
}

/// A bound control socket, mode 0600. Dropping it removes the socket file if it is still
/// the one this process created.
///
/// Binding assumes the caller holds the engine lock for the data dir, so no second daemon
/// races for the same path between the liveness check and the bind.
#[derive(Debug)]
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
    owner_uid: u32,
    identity: (u64, u64),
}

impl ControlSocket {
    /// Bind at `path`: refuse if a live daemon answers there (naming its pid), replace a
    /// stale socket left by a daemon that died, never delete anything that is not a socket.
    /// The socket appears at `path` already restricted to its owner.
    pub async fn bind(path: &Path) -> Result<ControlSocket, ServeError> {
        let parent = path.parent().unwrap_or(Path::new("."));
        static BINDS: AtomicU64 = AtomicU64::new(0);
        let staging = parent.join(format!(
            ".syncdeck.{}.{}.sock",
            std::process::id(),
            BINDS.fetch_add(1, Ordering::Relaxed)
        ));
        for p in [path, staging.as_path()] {
            let len = p.as_os_str().len();
            if len > MAX_SOCKET_PATH {
                return Err(ServeError::PathTooLong {
                    path: p.to_path_buf(),
                    len,
                });
            }
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(io_error("create the runtime directory", parent))?;

        match knock(path).await {
            Knock::Absent => {}
            Knock::Stale => {
                info!(path = %path.display(), "replacing a stale control socket (no daemon behind it)");
                remove_if_present(path).map_err(io_error("remove the stale socket", path))?;
            }
            Knock::Live(hello) => {
                return Err(ServeError::AlreadyRunning {
                    path: path.to_path_buf(),
                    pid: hello.pid,
                });
            }
            Knock::Silent => {
                return Err(ServeError::Unresponsive {
                    path: path.to_path_buf(),
                });
            }
            Knock::NotASocket => {
                return Err(ServeError::NotASocket {
                    path: path.to_path_buf(),
                });
            }
            Knock::Unreachable(e) => return Err(io_error("check the existing socket", path)(e)),
        }

        // Bind under a private name, restrict, then rename into place: the public path never
        // exists with default permissions.
        remove_if_present(&staging).map_err(io_error("remove the leftover socket", &staging))?;
        let listener =
            UnixListener::bind(&staging).map_err(io_error("bind the control socket", &staging))?;
        let placed = std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))
            .and_then(|()| std::fs::rename(&staging, path));
        if let Err(e) = placed {
            let _ = std::fs::remove_file(&staging);
            return Err(io_error("create the control socket", path)(e));
        }
        let meta = std::fs::metadata(path).map_err(io_error("inspect the control socket", path))?;
        info!(path = %path.display(), "control socket listening");
        Ok(ControlSocket {
            listener,
            path: path.to_path_buf(),
            owner_uid: meta.uid(),
            identity: (meta.dev(), meta.ino()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .map(|m| (m.dev(), m.ino()) == self.identity)
            .unwrap_or(false);
        if ours && let Err(e) = std::fs::remove_file(&self.path) {
            warn!(path = %self.path.display(), error = %e, "could not remove the control socket");
        }
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Serve clients until `shutdown` is cancelled or the engine drops its snapshot sender.
/// Commands from clients go to `commands`; snapshots and schemas come from `snapshots`
/// (the schema a client asks for is the `Arc` the engine already publishes, so there is one
/// source of truth). A client never slows the engine: each connection reads the latest
/// encoded snapshot from a watch channel and skips the ones it was too slow to take.
/// On return every connection is closed and the socket file removed.
pub async fn serve(
    socket: ControlSocket,
    commands: mpsc::UnboundedSender<Command>,
    snapshots: watch::Receiver<Snapshot>,
    shutdown: CancellationToken,
) {
    serve_with(
        socket,
        commands,
        snapshots,
        shutdown,
        ServeLimits::default(),
    )
    .await;
}

/// What one client may hold of the daemon.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Clients served at once; one more is told so and closed.
    pub max_connections: usize,
    /// How long a new connection may take to send its `Hello` before it is closed.
    pub hello_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> ServeLimits {
        ServeLimits {
            max_connections: 64,
            hello_timeout: Duration::from_secs(5),
        }
    }
}

/// [`serve`] with explicit limits.
pub async fn serve_with(
    socket: ControlSocket,
    commands: mpsc::UnboundedSender<Command>,
    mut snapshots: watch::Receiver<Snapshot>,
    shutdown: CancellationToken,
    limits: ServeLimits,
) {
    let mut generations = SchemaGenerations::default();
    let first = Encoded::new(snapshots.borrow_and_update().clone(), &mut generations);
    let (encoded_tx, encoded_rx) = watch::channel(Arc::new(first));
    let encoder = encode_snapshots(snapshots, generations, encoded_tx);
    tokio::pin!(encoder);
    let mut connections = JoinSet::new();
    let mut next_id: u64 = 0;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => {
                info!("control socket shutting down");
                break;
            }
            () = &mut encoder => {
                info!("engine stopped publishing; closing the control socket");
                break;
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = socket.listener.accept() => match accepted {
                Ok((stream, _)) => {
                    next_id += 1;
                    if !same_user(&stream, socket.owner_uid) {
                        continue;
                    }
                    if connections.len() >= limits.max_connections {
                        refuse_busy(&stream, limits.max_connections);
                        continue;
                    }
                    let connection = Connection {
                        hello_timeout: limits.hello_timeout,
                        commands: commands.clone(),
                        encoded: encoded_rx.clone(),
                    };
                    connections.spawn(
                        connection.run(stream).instrument(info_span!("control", conn = next_id)),
                    );
                }
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    error!(error = %e, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    connections.shutdown().await;
    drop(socket);
}

/// Tells a client over the connection limit why it is closed, without waiting on it: the
/// short line fits the socket buffer of a fresh connection.
fn refuse_busy(stream: &UnixStream, limit: usize) {
    warn!(limit, "refused a control connection: too many clients");
    let message = DaemonMessage::Error {
        message: format!("the daemon already serves {limit} clients; close one and try again"),
    };
    if let Ok(line) = encode(&message) {
        let _ = stream.try_write(&line);
    }
}

fn same_user(stream: &UnixStream, owner_uid: u32) -> bool {
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == owner_uid => true,
        Ok(cred) => {
            warn!(
                uid = cred.uid(),
                "refused a control connection from another user"
            );
            false
        }
        Err(e) => {
            warn!(error = %e, "refused a control connection whose user cannot be checked");
            false
        }
    }
}

/// One snapshot version, encoded once for every client.
struct Encoded {
    version: u64,
    /// The whole `DaemonMessage::Snapshot` line, newline included.
    line: Vec<u8>,
    schemas: HashMap<String, Beside>,
}

impl Encoded {
    fn new(mut snapshot: Snapshot, generations: &mut SchemaGenerations) -> Encoded {
        let schemas = generations.observe(&snapshot);
        make_json_safe(&mut snapshot);
        let version = snapshot.version;
        let message = DaemonMessage::Snapshot {
            snapshot,
            schemas: schemas
                .iter()
                .map(|(id, beside)| (id.clone(), beside.generation))
                .collect(),
        };
        let line = encode(&message).unwrap_or_else(|e| {
            error!(error = %e, version, "cannot encode a snapshot; clients keep the previous one");
            Vec::new()
        });
        Encoded {
            version,
            line,
            schemas,
        }
    }
}

/// JSON has no NaN or infinity: serde_json writes `null`, which then fails to decode as a
/// number and would disconnect every client. A rate computed over zero seconds is such a case.
fn make_json_safe(snapshot: &mut Snapshot) {
    for source in &mut snapshot.sources {
        if let Some(run) = &mut source.running
            && !run.records_per_second.is_finite()
        {
            run.records_per_second = 0.0;
        }
    }
}

/// What a source sends beside its snapshots, fetched by generation: its org schema and its
/// run history.
#[derive(Clone)]
struct Beside {
    generation: u64,
    schema: Option<Arc<OrgSchema>>,
    history: Arc<Vec<HistoryRun>>,
}

impl Beside {
    fn same(&self, schema: &Option<Arc<OrgSchema>>, history: &Arc<Vec<HistoryRun>>) -> bool {
        let same_schema = match (&self.schema, schema) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_schema && Arc::ptr_eq(&self.history, history)
    }
}

/// Numbers each distinct (schema, history) pair of `Arc`s per source, so clients refetch
/// only when one of them changes.
#[derive(Default)]
struct SchemaGenerations {
    last: u64,
    current: HashMap<String, Beside>,
}

impl SchemaGenerations {
    fn observe(&mut self, snapshot: &Snapshot) -> HashMap<String, Beside> {
        let mut next = HashMap::new();
        for source in &snapshot.sources {
            if source.schema.is_none() && source.history.is_empty() {
                continue;
            }
            let generation = match self.current.get(&source.id) {
                Some(known) if known.same(&source.schema, &source.history) => known.generation,
                _ => {
                    self.last += 1;
                    self.last
                }
            };
            let beside = Beside {
                generation,
                schema: source.schema.clone(),
                history: source.history.clone(),
            };
            next.insert(source.id.clone(), beside);
        }
        self.current = next.clone();
        next
    }
}

async fn encode_snapshots(
    mut snapshots: watch::Receiver<Snapshot>,
    mut generations: SchemaGenerations,
    encoded: watch::Sender<Arc<Encoded>>,
) {
    while snapshots.changed().await.is_ok() {
        let snapshot = snapshots.borrow_and_update().clone();
        if snapshot.version == encoded.borrow().version {
            continue;
        }
        let next = Encoded::new(snapshot, &mut generations);
        if !next.line.is_empty() {
            encoded.send_replace(Arc::new(next));
        }
    }
}

/// What the reading half asks the writing half to send.
enum Outgoing {
    Subscribe,
    Reply(DaemonMessage),
    /// Say why, then close the connection.
    Close(String),
}

struct Connection {
    hello_timeout: Duration,
    commands: mpsc::UnboundedSender<Command>,
    encoded: watch::Receiver<Arc<Encoded>>,
}

impl Connection {
    async fn run(self, stream: UnixStream) {
        debug!("client connected");
        let (read, write) = stream.into_split();
        // Small: a client that sends requests without reading replies stalls only itself.
        let (out_tx, out_rx) = mpsc::channel(8);
        let reader = read_requests(
            read,
            out_tx,
            self.commands,
            self.encoded.clone(),
            self.hello_timeout,
        );
        // The reader ends by dropping `out_tx`, which lets the writer finish what is queued;
        // the writer ending (peer gone, protocol error) ends the connection.
        tokio::select! {
            () = write_replies(write, out_rx, self.encoded) => {}
            () = async { reader.await; std::future::pending::<()>().await } => {}
        }
        debug!("client disconnected");
    }
}

async fn read_requests(
    read: OwnedReadHalf,
    out: mpsc::Sender<Outgoing>,
    commands: mpsc::UnboundedSender<Command>,
    encoded: watch::Receiver<Arc<Encoded>>,
    hello_timeout: Duration,
) {
    let mut reader = BufReader::new(read);
    let mut greeted = false;
    loop {
        let read = read_message::<ClientMessage, _>(&mut reader, MAX_CLIENT_MESSAGE);
        let received = if greeted {
            read.await
        } else {
            // A connection that never greets would hold one of the few slots forever.
            match tokio::time::timeout(hello_timeout, read).await {
                Ok(received) => received,
                Err(_) => {
                    let reason = format!("no Hello within {:?}", hello_timeout);
                    let _ = out.send(Outgoing::Close(reason)).await;
                    return;
                }
            }
        };
        let message = match received {
            Ok(Some(message)) => message,
            Ok(None) => return,
            Err(FrameError::Io(e)) => {
                debug!(error = %e, "client connection failed");
                return;
            }
            Err(e) => {
                let _ = out.send(Outgoing::Close(e.to_string())).await;
                return;
            }
        };
        let outgoing = match message {
            ClientMessage::Hello(hello) if !greeted => match hello.check(PeerRole::Client) {
                Ok(()) => {
                    greeted = true;
                    debug!(pid = hello.pid, version = %hello.syncdeck_version, "client greeted");
                    continue;
                }
                Err(mismatch) => Outgoing::Close(mismatch.to_string()),
            },
            ClientMessage::Hello(_) => Outgoing::Close("Hello sent twice".into()),
            _ if !greeted => Outgoing::Close("the first message must be Hello".into()),
            ClientMessage::Subscribe => Outgoing::Subscribe,
            ClientMessage::Command(Command::Shutdown) => Outgoing::Reply(DaemonMessage::Error {
                message: "a client cannot stop the daemon; stop it with `systemctl --user stop syncdeck` or SIGTERM".into(),
            }),
            ClientMessage::Command(Command::Reload(config)) => match validated(&config) {
                Ok(config) => {
                    info!(command = "Reload", "command from client");
                    if commands.send(Command::Reload(config)).is_ok() {
                        continue;
                    }
                    Outgoing::Close("the engine has stopped".into())
                }
                Err(message) => {
                    warn!(%message, "refused a Reload from a client");
                    Outgoing::Reply(DaemonMessage::Error { message })
                }
            },
            ClientMessage::Command(command) => {
                info!(command = command_name(&command), "command from client");
                if commands.send(command).is_ok() {
                    continue;
                }
                Outgoing::Close("the engine has stopped".into())
            }
            ClientMessage::GetSchema { request, source } => {
                let found = encoded.borrow().schemas.get(&source).cloned();
                Outgoing::Reply(DaemonMessage::Schema {
                    request,
                    source,
                    generation: found.as_ref().map(|b| b.generation),
                    schema: found.as_ref().and_then(|b| b.schema.clone()),
                    history: found.map(|b| b.history).unwrap_or_default(),
                })
            }
        };
        let closing = matches!(outgoing, Outgoing::Close(_));
        if out.send(outgoing).await.is_err() || closing {
            return;
        }
    }
}

async fn write_replies(
    mut write: OwnedWriteHalf,
    mut out: mpsc::Receiver<Outgoing>,
    mut encoded: watch::Receiver<Arc<Encoded>>,
) {
    let mut subscribed = false;
    let mut sent_version = None;
    let result: Result<(), FrameError> = async {
        send(&mut write, &DaemonMessage::Hello(Hello::ours())).await?;
        loop {
            tokio::select! {
                next = out.recv() => match next {
                    None => return Ok(()),
                    Some(Outgoing::Subscribe) => {
                        subscribed = true;
                        send_latest(&mut write, &mut encoded, &mut sent_version).await?;
                    }
                    Some(Outgoing::Reply(reply)) => send_reply(&mut write, reply).await?,
                    Some(Outgoing::Close(reason)) => {
                        warn!(%reason, "closing a control connection");
                        send(&mut write, &DaemonMessage::Error { message: reason }).await?;
                        return Ok(());
                    }
                },
                changed = encoded.changed(), if subscribed => match changed {
                    Ok(()) => send_latest(&mut write, &mut encoded, &mut sent_version).await?,
                    Err(_) => {
                        let message = "the engine stopped; the daemon is shutting down".to_owned();
                        return send(&mut write, &DaemonMessage::Error { message }).await;
                    }
                },
            }
        }
    }
    .await;
    if let Err(e) = result {
        debug!(error = %e, "stopped writing to a client");
    }
}

async fn send(write: &mut OwnedWriteHalf, message: &DaemonMessage) -> Result<(), FrameError> {
    write_message(write, message, MAX_DAEMON_MESSAGE).await
}

/// A schema too large for one line is reported instead of sent, so the client still gets an
/// answer for that generation and does not wait for it forever.
async fn send_reply(write: &mut OwnedWriteHalf, reply: DaemonMessage) -> Result<(), FrameError> {
    match (send(write, &reply).await, reply) {
        (
            Err(FrameError::TooLong { max }),
            DaemonMessage::Schema {
                request,
                source,
                generation,
                ..
            },
        ) => {
            let message = format!(
                "the schema of {source} is larger than {max} bytes and cannot be sent to clients"
            );
            error!(%source, "{message}");
            send(write, &DaemonMessage::Error { message }).await?;
            let empty = DaemonMessage::Schema {
                request,
                source,
                generation,
                schema: None,
                history: Arc::default(),
            };
            send(write, &empty).await
        }
        (result, _) => result,
    }
}

async fn send_latest(
    write: &mut OwnedWriteHalf,
    encoded: &mut watch::Receiver<Arc<Encoded>>,
    sent_version: &mut Option<u64>,
) -> Result<(), FrameError> {
    let latest = encoded.borrow_and_update().clone();
    if *sent_version == Some(latest.version) {
        return Ok(());
    }
    write.write_all(&latest.line).await?;
    *sent_version = Some(latest.version);
    Ok(())
}

/// A configuration from a client is checked exactly like the file: it is written as TOML
/// and validated by the same code, so a client can apply nothing the file could not hold.
fn validated(config: &Config) -> Result<Arc<Config>, String> {
    let text = toml::to_string(config)
        .map_err(|e| format!("the configuration sent cannot be written as TOML: {e}"))?;
    crate::config::parse_str(&text)
        .map(Arc::new)
        .map_err(|diagnostics| {
            let problems: Vec<String> = diagnostics.iter().map(|d| d.message.clone()).collect();
            format!(
                "the configuration sent was not applied: {}",
                problems.join("; ")
            )
        })
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::SyncNow { .. } => "SyncNow",
        Command::Pause { .. } => "Pause",
        Command::Resume { .. } => "Resume",
        Command::Reload(_) => "Reload",
        Command::Reauthorize { .. } => "Reauthorize",
        Command::CancelAuth { .. } => "CancelAuth",
        Command::LoadSchema { .. } => "LoadSchema",
        Command::DescribeObjects { .. } => "DescribeObjects",
        Command::TestNotification { .. } => "TestNotification",
        Command::Shutdown => "Shutdown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunProgress;
    use crate::remote::test_support::{history, snapshot, source};

    #[test]
    fn a_reload_is_validated_like_the_file() {
        let text = include_str!("../../config/syncdeck.example.toml");
        let file = crate::config::parse_str(text).unwrap();
        assert_eq!(*validated(&file).unwrap(), file);

        let mut over = file.clone();
        over.sources[0].quota_threshold_percent = 150;
        let message = validated(&over).unwrap_err();
        assert!(message.contains("quota_threshold_percent"), "{message}");

        let mut escaping = file.clone();
        escaping.sources[0].id = "../../etc/passwd".into();
        let message = validated(&escaping).unwrap_err();
        assert!(message.contains("id"), "{message}");
    }

    #[test]
    fn schema_generations_change_only_when_the_schema_is_replaced() {
        let mut generations = SchemaGenerations::default();
        let mut snapshot = snapshot(1, &["a", "b"]);
        snapshot.sources[0].schema = Some(Arc::new(OrgSchema::default()));
        let first = generations.observe(&snapshot);
        assert_eq!(first.keys().collect::<Vec<_>>(), vec!["a"]);
        let again = generations.observe(&snapshot);
        assert_eq!(first["a"].generation, again["a"].generation);
        snapshot.sources[0].schema = Some(Arc::new(OrgSchema::default()));
        let replaced = generations.observe(&snapshot);
        assert!(replaced["a"].generation > first["a"].generation);
    }

    #[test]
    fn a_new_history_is_a_new_generation_and_never_inside_the_snapshot_line() {
        let mut generations = SchemaGenerations::default();
        let mut snapshot = snapshot(1, &["a", "b"]);
        snapshot.sources[1].history = history(3);
        let first = generations.observe(&snapshot);
        assert_eq!(first.keys().collect::<Vec<_>>(), vec!["b"]);
        assert_eq!(first["b"].history, history(3));
        // The same Arc: same generation; a run finished (a new Arc): a new one.
        assert_eq!(
            generations.observe(&snapshot)["b"].generation,
            first["b"].generation
        );
        snapshot.sources[1].history = history(4);
        let after_run = generations.observe(&snapshot);
        assert!(after_run["b"].generation > first["b"].generation);

        let encoded = Encoded::new(snapshot, &mut SchemaGenerations::default());
        let line = String::from_utf8(encoded.line.clone()).unwrap();
        assert!(!line.contains("\"history\""), "{line}");
        assert_eq!(encoded.schemas["b"].history, history(4));
    }

    #[test]
    fn non_finite_rates_are_encoded_as_numbers_clients_can_decode() {
        let mut s = source("a");
        s.running = Some(RunProgress {
            records_per_second: f64::NAN,
            ..Default::default()
        });
        let snapshot = Snapshot {
            version: 3,
            sources: vec![s],
            ..Default::default()
        };
        let encoded = Encoded::new(snapshot, &mut SchemaGenerations::default());
        let back: DaemonMessage = serde_json::from_slice(&encoded.line).unwrap();
        let DaemonMessage::Snapshot { snapshot, .. } = back else {
            panic!("not a snapshot");
        };
        assert_eq!(snapshot.version, 3);
        let rate = snapshot.sources[0]
            .running
            .as_ref()
            .unwrap()
            .records_per_second;
        assert_eq!(rate, 0.0);
    }
}
