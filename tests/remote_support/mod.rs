//! A fake engine behind the real control socket, and a raw protocol client, for the
//! `remote_*` tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use syncdeck::config::Paths;
use syncdeck::model::{Command, Snapshot, SourceSnapshot, Status};
use syncdeck::model::{FieldSchema, ObjectSchema, OrgSchema};
use syncdeck::remote::protocol::{ClientMessage, DaemonMessage, Hello};
use syncdeck::remote::{self, ControlSocket};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Guards every wait so a broken test fails instead of hanging; never a performance bound.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub async fn patiently<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for {what}"))
}

pub fn source(id: &str) -> SourceSnapshot {
    SourceSnapshot::new(id, &format!("{id} org"), Status::Active)
}

pub fn account_schema() -> OrgSchema {
    OrgSchema {
        objects: vec![ObjectSchema {
            name: "Account".into(),
            label: "Account".into(),
            ..Default::default()
        }],
    }
}

/// Applies commands to its snapshot and publishes, like the engine does.
pub fn spawn_fake_engine(
    sources: &[&str],
) -> (
    mpsc::UnboundedSender<Command>,
    Arc<watch::Sender<Snapshot>>,
    JoinHandle<()>,
) {
    let initial = Snapshot {
        version: 1,
        at: None,
        sources: sources.iter().map(|id| source(id)).collect(),
    };
    let (commands, mut rx) = mpsc::unbounded_channel::<Command>();
    let publisher = Arc::new(watch::Sender::new(initial));
    let engine = publisher.clone();
    let task = tokio::spawn(async move {
        while let Some(command) = rx.recv().await {
            if matches!(command, Command::Shutdown) {
                return;
            }
            engine.send_modify(|s| {
                apply(s, command);
                s.version += 1;
            });
        }
    });
    (commands, publisher, task)
}

fn apply(snapshot: &mut Snapshot, command: Command) {
    match command {
        Command::Pause { source } => with(snapshot, &source, |s| {
            s.status = Status::NotSyncing;
            s.sync_enabled = false;
        }),
        Command::Resume { source } => with(snapshot, &source, |s| {
            s.status = Status::Active;
            s.sync_enabled = true;
        }),
        Command::SyncNow { source, .. } => with(snapshot, &source, |s| s.records += 100),
        Command::LoadSchema { source, .. } => with(snapshot, &source, |s| {
            s.schema = Some(Arc::new(account_schema()));
        }),
        Command::Reload(config) => {
            for configured in &config.sources {
                with(snapshot, &configured.id, |s| {
                    s.frequency = configured.frequency;
                    s.name = configured.name.clone();
                });
            }
        }
        // Described objects get an Id and a Name, in a new schema like the engine's.
        Command::DescribeObjects { source, objects } => with(snapshot, &source, |s| {
            let Some(current) = &s.schema else { return };
            let mut schema = (**current).clone();
            for object in schema
                .objects
                .iter_mut()
                .filter(|o| objects.contains(&o.name))
            {
                object.fields = ["Id", "Name"]
                    .map(|name| FieldSchema {
                        name: name.into(),
                        label: name.into(),
                        field_type: "string".into(),
                        filterable: true,
                        ..FieldSchema::default()
                    })
                    .into();
            }
            s.schema = Some(Arc::new(schema));
        }),
        Command::Reauthorize { .. }
        | Command::CancelAuth { .. }
        | Command::TestNotification { .. }
        | Command::Shutdown => {}
    }
}

fn with(snapshot: &mut Snapshot, id: &str, change: impl FnOnce(&mut SourceSnapshot)) {
    if let Some(source) = snapshot.sources.iter_mut().find(|s| s.id == id) {
        change(source);
    }
}

/// A fake engine served over a real socket in a temporary runtime dir.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub shutdown: CancellationToken,
    pub served: JoinHandle<()>,
    pub engine_commands: mpsc::UnboundedSender<Command>,
    pub publisher: Arc<watch::Sender<Snapshot>>,
    pub engine: JoinHandle<()>,
}

pub async fn start_daemon(sources: &[&str]) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = Paths::under(dir.path()).socket_file();
    let socket = ControlSocket::bind(&socket_path).await.unwrap();
    let (engine_commands, publisher, engine) = spawn_fake_engine(sources);
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(remote::serve(
        socket,
        engine_commands.clone(),
        publisher.subscribe(),
        shutdown.clone(),
    ));
    Daemon {
        dir,
        socket: socket_path,
        shutdown,
        served,
        engine_commands,
        publisher,
        engine,
    }
}

/// Wait until the attached or local snapshot satisfies `check`.
pub async fn wait_for(
    snapshots: &mut watch::Receiver<Snapshot>,
    what: &str,
    check: impl FnMut(&Snapshot) -> bool,
) -> Snapshot {
    patiently(what, snapshots.wait_for(check))
        .await
        .unwrap_or_else(|_| panic!("snapshots ended while waiting for {what}"))
        .clone()
}

pub fn status_of(snapshot: &Snapshot, id: &str) -> Status {
    snapshot.source(id).expect("source present").status.clone()
}

/// Speaks the protocol by hand, to misbehave on purpose.
pub struct RawClient {
    pub reader: BufReader<OwnedReadHalf>,
    pub write: OwnedWriteHalf,
    pub daemon_hello: Hello,
}

impl RawClient {
    pub async fn connect(path: &std::path::Path) -> RawClient {
        let stream = UnixStream::connect(path).await.unwrap();
        let (read, write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let mut line = String::new();
        patiently("daemon hello", reader.read_line(&mut line))
            .await
            .unwrap();
        let Ok(DaemonMessage::Hello(daemon_hello)) = serde_json::from_str(&line) else {
            panic!("expected Hello, got {line}");
        };
        RawClient {
            reader,
            write,
            daemon_hello,
        }
    }

    /// Connect, greet and subscribe.
    pub async fn subscribed(path: &std::path::Path) -> RawClient {
        let mut raw = RawClient::connect(path).await;
        raw.send(&ClientMessage::Hello(Hello::ours())).await;
        raw.send(&ClientMessage::Subscribe).await;
        raw
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        let mut line = serde_json::to_string(message).unwrap();
        line.push('\n');
        self.send_raw(line.as_bytes()).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.write.write_all(bytes).await.unwrap();
    }

    /// The next message, or None at the end of the stream (or a reset after it).
    pub async fn next(&mut self) -> Option<DaemonMessage> {
        let mut line = String::new();
        match patiently("a daemon message", self.reader.read_line(&mut line)).await {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))),
        }
    }

    /// Every message until the daemon closes the connection.
    pub async fn until_closed(&mut self) -> Vec<DaemonMessage> {
        let mut seen = Vec::new();
        while let Some(message) = self.next().await {
            seen.push(message);
        }
        seen
    }
}

/// The `message` of the last `Error` among `messages`.
pub fn last_error(messages: &[DaemonMessage]) -> String {
    messages
        .iter()
        .rev()
        .find_map(|m| match m {
            DaemonMessage::Error { message } => Some(message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Error among {messages:?}"))
}
