//! Is a daemon listening on a socket path? Used by `attach`'s callers and by `bind`.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use tokio::io::BufReader;
use tokio::net::UnixStream;

use super::frame::read_message;
use super::protocol::{DaemonMessage, Hello, MAX_DAEMON_MESSAGE};

/// How long a listener may take to greet before it counts as unresponsive. Generous: a
/// daemon under load still answers in milliseconds, and only a hung process is this slow.
pub(crate) const GREETING_TIMEOUT: Duration = Duration::from_secs(5);

/// What is at a socket path.
#[derive(Debug)]
pub(crate) enum Knock {
    /// Nothing there.
    Absent,
    /// Something that is not a socket: never ours to delete.
    NotASocket,
    /// A socket file with no process behind it (a daemon that crashed or was killed).
    Stale,
    /// A daemon that greeted us.
    Live(Hello),
    /// Something accepted the connection but did not greet like a syncdeck daemon.
    Silent,
    /// The socket could not be tried (permissions...).
    Unreachable(io::Error),
}

pub(crate) async fn knock(path: &Path) -> Knock {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Knock::Absent,
        Err(e) => return Knock::Unreachable(e),
        Ok(meta) if !meta.file_type().is_socket() => return Knock::NotASocket,
        Ok(_) => {}
    }
    let stream = match UnixStream::connect(path).await {
        Ok(stream) => stream,
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Knock::Stale,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Knock::Absent,
        Err(e) => return Knock::Unreachable(e),
    };
    let mut reader = BufReader::new(stream);
    let greeting = read_message::<DaemonMessage, _>(&mut reader, MAX_DAEMON_MESSAGE);
    match tokio::time::timeout(GREETING_TIMEOUT, greeting).await {
        Ok(Ok(Some(DaemonMessage::Hello(hello)))) => Knock::Live(hello),
        _ => Knock::Silent,
    }
}

/// The pid of the daemon serving `socket_path`, if one is live and greets. Cheap: one
/// connection that reads the daemon's `Hello` and hangs up.
pub async fn probe(socket_path: &Path) -> Option<u32> {
    match knock(socket_path).await {
        Knock::Live(hello) => Some(hello.pid),
        _ => None,
    }
}
