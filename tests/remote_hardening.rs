//! The control socket under misuse: broken, hostile or slow clients affect only their own
//! connection; the socket file is created safely and never clobbers a live daemon.

mod remote_support;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use remote_support::*;
use syncdeck::config::Paths;
use syncdeck::model::{Command, Event, EventLevel, Status};
use syncdeck::remote::protocol::{
    ClientMessage, DaemonMessage, Hello, MAX_CLIENT_MESSAGE, PROTOCOL_VERSION,
};
use syncdeck::remote::{
    AttachError, Attached, ControlSocket, ServeError, ServeLimits, attach, probe, serve_with,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The daemon still serves `client` and new clients: a full command round trip.
async fn assert_still_serving(daemon: &Daemon, client: &mut Attached) {
    let before = client.snapshots.borrow().source("acme").unwrap().records;
    client
        .commands
        .send(Command::SyncNow {
            source: "acme".into(),
            full: false,
        })
        .unwrap();
    wait_for(&mut client.snapshots, "the next run", |s| {
        s.source("acme").unwrap().records == before + 100
    })
    .await;
    let newcomer = attach(&daemon.socket).await.unwrap();
    assert_eq!(
        newcomer.snapshots.borrow().source("acme").unwrap().records,
        before + 100
    );
    assert!(!daemon.served.is_finished());
}

#[tokio::test]
async fn malformed_messages_close_only_that_connection() {
    let daemon = start_daemon(&["acme"]).await;
    let mut bystander = attach(&daemon.socket).await.unwrap();

    let mut garbage = RawClient::connect(&daemon.socket).await;
    garbage.send(&ClientMessage::Hello(Hello::ours())).await;
    garbage.send_raw(b"this is not json\n").await;
    let seen = garbage.until_closed().await;
    assert!(
        last_error(&seen).starts_with("malformed message"),
        "{seen:?}"
    );

    let mut unknown = RawClient::connect(&daemon.socket).await;
    unknown.send(&ClientMessage::Hello(Hello::ours())).await;
    unknown
        .send_raw(b"{\"type\":\"Explode\",\"body\":{}}\n")
        .await;
    assert!(last_error(&unknown.until_closed().await).contains("unknown variant"));

    let mut rude = RawClient::connect(&daemon.socket).await;
    rude.send(&ClientMessage::Subscribe).await;
    assert_eq!(
        last_error(&rude.until_closed().await),
        "the first message must be Hello"
    );

    assert_still_serving(&daemon, &mut bystander).await;
}

#[tokio::test]
async fn oversized_messages_close_only_that_connection() {
    let daemon = start_daemon(&["acme"]).await;
    let mut bystander = attach(&daemon.socket).await.unwrap();

    let mut flooder = RawClient::connect(&daemon.socket).await;
    flooder.send(&ClientMessage::Hello(Hello::ours())).await;
    let mut write = flooder.write;
    // Twice the limit and no newline; the daemon stops reading long before the end, so the
    // write may fail, which is the point.
    let flood = tokio::spawn(async move {
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(2 * MAX_CLIENT_MESSAGE / chunk.len()) {
            if write.write_all(&chunk).await.is_err() {
                break;
            }
        }
        write
    });
    let mut messages = Vec::new();
    let mut line = String::new();
    use tokio::io::AsyncBufReadExt;
    while let Ok(n) = patiently("the daemon's answer", flooder.reader.read_line(&mut line)).await {
        if n == 0 {
            break;
        }
        messages.push(serde_json::from_str::<DaemonMessage>(&line).unwrap());
        line.clear();
    }
    assert!(
        last_error(&messages).contains(&format!("longer than the {MAX_CLIENT_MESSAGE}-byte limit")),
        "{messages:?}"
    );
    let _ = patiently("the flood to stop", flood).await;

    assert_still_serving(&daemon, &mut bystander).await;
}

#[tokio::test]
async fn clients_killed_mid_message_leave_the_daemon_healthy() {
    let daemon = start_daemon(&["acme"]).await;
    let mut bystander = attach(&daemon.socket).await.unwrap();
    // Big snapshots, so the daemon is in the middle of writing one when readers vanish.
    daemon.publisher.send_modify(|s| {
        s.version += 1;
        s.sources[0].events = (0..20_000)
            .map(|i| Event {
                at: chrono::Utc::now(),
                level: EventLevel::Info,
                message: format!("event number {i} with some padding to make it longer"),
            })
            .collect();
    });
    for round in 0..10 {
        // Killed while sending: half a command, then gone.
        let mut sender = RawClient::connect(&daemon.socket).await;
        sender.send(&ClientMessage::Hello(Hello::ours())).await;
        sender
            .send_raw(b"{\"type\":\"Command\",\"body\":{\"Pau")
            .await;
        drop(sender);

        // Killed while receiving: read a little of the (megabytes long) snapshot, then gone.
        let mut receiver = RawClient::subscribed(&daemon.socket).await;
        let mut some = vec![0u8; 1024 + round];
        patiently(
            "the start of a snapshot",
            receiver.reader.read_exact(&mut some),
        )
        .await
        .unwrap();
        assert!(some.starts_with(b"{\"type\":\"Snapshot\""));
        drop(receiver);
    }
    assert_still_serving(&daemon, &mut bystander).await;
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_hold_back_the_engine_or_others() {
    let daemon = start_daemon(&["acme"]).await;
    let mut reader = attach(&daemon.socket).await.unwrap();
    let _stuck = RawClient::subscribed(&daemon.socket).await;
    let padding = "x".repeat(64 * 1024);
    for _ in 0..64 {
        // 64 × 64 KB is far more than a socket buffer holds for the stuck client.
        daemon.publisher.send_modify(|s| {
            s.version += 1;
            s.sources[0].name = padding.clone();
            s.sources[0].records += 1;
        });
        tokio::task::yield_now().await;
    }
    let last = daemon.publisher.borrow().version;
    wait_for(&mut reader.snapshots, "the newest snapshot", |s| {
        s.version == last
    })
    .await;
    assert_still_serving(&daemon, &mut reader).await;
}

#[tokio::test]
async fn the_daemon_explains_a_protocol_version_mismatch_to_the_client() {
    let daemon = start_daemon(&["acme"]).await;
    let mut old = RawClient::connect(&daemon.socket).await;
    assert_eq!(old.daemon_hello.protocol_version, PROTOCOL_VERSION);
    assert_eq!(old.daemon_hello.pid, std::process::id());
    old.send(&ClientMessage::Hello(Hello {
        protocol_version: 99,
        syncdeck_version: "0.0.1".into(),
        pid: 1234,
    }))
    .await;
    let error = last_error(&old.until_closed().await);
    assert!(
        error.starts_with("the client (pid 1234, syncdeck 0.0.1) speaks control protocol 99"),
        "{error}"
    );
}

#[tokio::test]
async fn attaching_to_a_daemon_of_another_protocol_version_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let hello = DaemonMessage::Hello(Hello {
            protocol_version: 99,
            syncdeck_version: "9.0.0".into(),
            pid: 4242,
        });
        let mut line = serde_json::to_vec(&hello).unwrap();
        line.push(b'\n');
        stream.write_all(&line).await.unwrap();
        let _ = stream.read(&mut [0u8; 64]).await;
    });
    let err = attach(&path).await.unwrap_err();
    assert!(matches!(err, AttachError::VersionMismatch(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("the daemon (pid 4242, syncdeck 9.0.0) speaks control protocol 99"),
        "{message}"
    );
    assert!(message.contains("restart the daemon"), "{message}");
}

#[tokio::test]
async fn the_socket_is_private_to_its_owner() {
    let daemon = start_daemon(&["acme"]).await;
    let meta = std::fs::metadata(&daemon.socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(daemon.socket.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["syncdeck.sock"], "no staging file left behind");
}

#[tokio::test]
async fn a_stale_socket_is_detected_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = Paths::under(dir.path()).socket_file();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A daemon that died without cleaning up: the file stays, nothing listens.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    assert_eq!(probe(&path).await, None);
    let err = attach(&path).await.unwrap_err();
    assert!(matches!(err, AttachError::NotRunning { .. }), "{err}");

    let socket = ControlSocket::bind(&path).await.unwrap();
    let (commands, publisher, _engine) = spawn_fake_engine(&["acme"]);
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(syncdeck::remote::serve(
        socket,
        commands,
        publisher.subscribe(),
        shutdown.clone(),
    ));
    assert_eq!(probe(&path).await, Some(std::process::id()));
    let attached = attach(&path).await.unwrap();
    assert_eq!(
        status_of(&attached.snapshots.borrow(), "acme"),
        Status::Active
    );
    shutdown.cancel();
}

#[tokio::test]
async fn a_live_daemon_is_never_replaced() {
    let daemon = start_daemon(&["acme"]).await;
    let err = ControlSocket::bind(&daemon.socket).await.unwrap_err();
    let pid = std::process::id();
    assert!(
        matches!(err, ServeError::AlreadyRunning { pid: p, .. } if p == pid),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "another syncdeck daemon (pid {pid}) is already serving"
        )),
        "{err}"
    );
    let mut still = attach(&daemon.socket).await.unwrap();
    assert_still_serving(&daemon, &mut still).await;
}

#[tokio::test]
async fn a_file_that_is_not_a_socket_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syncdeck.sock");
    std::fs::write(&path, "precious").unwrap();
    let err = ControlSocket::bind(&path).await.unwrap_err();
    assert!(matches!(err, ServeError::NotASocket { .. }), "{err:?}");
    assert!(err.to_string().contains("is not a socket"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[tokio::test]
async fn a_client_cannot_stop_the_daemon() {
    let daemon = start_daemon(&["acme"]).await;
    let mut raw = RawClient::subscribed(&daemon.socket).await;
    raw.send(&ClientMessage::Command(Command::Shutdown)).await;
    loop {
        match raw.next().await {
            Some(DaemonMessage::Error { message }) => {
                assert!(message.contains("cannot stop the daemon"), "{message}");
                break;
            }
            Some(_) => continue,
            None => panic!("the daemon closed instead of refusing"),
        }
    }
    let mut client = attach(&daemon.socket).await.unwrap();
    assert_still_serving(&daemon, &mut client).await;
    assert!(!daemon.engine.is_finished());
}

/// A `Reload` a client sends is validated like the file: refused with the reason, and the
/// engine never sees it.
#[tokio::test]
async fn an_invalid_reload_is_refused_and_never_reaches_the_engine() {
    let daemon = start_daemon(&["acme"]).await;
    let text = include_str!("../config/syncdeck.example.toml");
    let valid = syncdeck::config::parse_str(text).unwrap();
    let mut raw = RawClient::subscribed(&daemon.socket).await;
    for (broken, expected) in [
        {
            let mut c = valid.clone();
            c.sources[0].id = "acme".into();
            c.sources[0].quota_threshold_percent = 150;
            c.sources[0].frequency = syncdeck::config::Frequency::H6;
            (c, "quota_threshold_percent is 150")
        },
        {
            let mut c = valid.clone();
            c.sources[0].id = "../acme".into();
            (c, "not a slug")
        },
    ] {
        raw.send(&ClientMessage::Command(Command::Reload(
            std::sync::Arc::new(broken),
        )))
        .await;
        loop {
            match raw.next().await {
                Some(DaemonMessage::Error { message }) => {
                    assert!(message.contains(expected), "{message}");
                    break;
                }
                Some(_) => continue,
                None => panic!("the daemon closed instead of refusing the reload"),
            }
        }
    }
    // The connection is still usable and the engine kept its configuration.
    let mut client = attach(&daemon.socket).await.unwrap();
    assert_still_serving(&daemon, &mut client).await;
    let acme = daemon.publisher.borrow().source("acme").unwrap().clone();
    assert_ne!(acme.frequency, syncdeck::config::Frequency::H6);
}

/// A daemon with small limits, so the tests reach them quickly.
async fn start_limited_daemon(limits: ServeLimits) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = Paths::under(dir.path()).socket_file();
    let socket = ControlSocket::bind(&socket_path).await.unwrap();
    let (engine_commands, publisher, _engine) = spawn_fake_engine(&["acme"]);
    tokio::spawn(async move {
        serve_with(
            socket,
            engine_commands,
            publisher.subscribe(),
            tokio_util::sync::CancellationToken::new(),
            limits,
        )
        .await;
    });
    (dir, socket_path)
}

#[tokio::test]
async fn connections_beyond_the_limit_are_told_and_closed() {
    let limits = ServeLimits {
        max_connections: 3,
        ..ServeLimits::default()
    };
    let (_dir, socket) = start_limited_daemon(limits).await;
    let mut held = Vec::new();
    for _ in 0..limits.max_connections {
        held.push(RawClient::subscribed(&socket).await);
    }
    let refused = tokio::net::UnixStream::connect(&socket).await.unwrap();
    let mut refused = tokio::io::BufReader::new(refused);
    let mut line = String::new();
    patiently(
        "the refusal",
        tokio::io::AsyncBufReadExt::read_line(&mut refused, &mut line),
    )
    .await
    .unwrap();
    match serde_json::from_str::<DaemonMessage>(&line).unwrap() {
        DaemonMessage::Error { message } => {
            assert!(message.contains("already serves 3 clients"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A freed slot is available again.
    drop(held.pop());
    let client = patiently("a free slot", async {
        loop {
            if let Ok(client) = attach(&socket).await {
                return client;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(client.snapshots.borrow().source("acme").is_some());
}

#[tokio::test]
async fn a_connection_that_never_says_hello_is_closed() {
    let (_dir, socket) = start_limited_daemon(ServeLimits {
        hello_timeout: std::time::Duration::from_millis(50),
        ..ServeLimits::default()
    })
    .await;
    let mut silent = RawClient::connect(&socket).await;
    let seen = silent.until_closed().await;
    assert!(last_error(&seen).starts_with("no Hello within"), "{seen:?}");
}
