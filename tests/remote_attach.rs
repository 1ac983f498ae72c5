//! Clients attached to a (fake-engine) daemon through the real control socket see the same
//! live state, drive it with commands, and learn when the daemon goes away.

mod remote_support;

use std::sync::Arc;

use remote_support::*;
use syncdeck::config::{Frequency, parse_str};
use syncdeck::model::{Command, HistoryRun, ObjectCount, RunKind, RunOutcome, RunSummary, Status};
use syncdeck::remote::{AttachError, Disconnect, attach, probe};

#[tokio::test]
async fn two_clients_see_the_same_state_and_each_others_commands() {
    let daemon = start_daemon(&["acme", "globex"]).await;
    let mut a = attach(&daemon.socket).await.unwrap();
    let mut b = attach(&daemon.socket).await.unwrap();
    assert_eq!(a.daemon_pid, std::process::id());
    assert_eq!(a.daemon_version, env!("CARGO_PKG_VERSION"));
    for client in [&a, &b] {
        let first = client.snapshots.borrow().clone();
        assert_eq!(first.version, 1);
        let ids: Vec<_> = first.sources.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["acme", "globex"]);
    }

    a.commands
        .send(Command::Pause {
            source: "acme".into(),
        })
        .unwrap();
    let seen_by_b = wait_for(&mut b.snapshots, "acme paused in b", |s| {
        status_of(s, "acme") == Status::NotSyncing
    })
    .await;
    assert!(!seen_by_b.source("acme").unwrap().sync_enabled);
    assert_eq!(status_of(&seen_by_b, "globex"), Status::Active);
    wait_for(&mut a.snapshots, "acme paused in a", |s| {
        status_of(s, "acme") == Status::NotSyncing
    })
    .await;

    b.commands
        .send(Command::Resume {
            source: "acme".into(),
        })
        .unwrap();
    wait_for(&mut a.snapshots, "acme resumed in a", |s| {
        status_of(s, "acme") == Status::Active
    })
    .await;
}

#[tokio::test]
async fn schemas_reach_attached_clients_inside_snapshots_and_on_request() {
    let daemon = start_daemon(&["acme"]).await;
    let mut a = attach(&daemon.socket).await.unwrap();
    let mut b = attach(&daemon.socket).await.unwrap();
    assert_eq!(a.schemas.fetch("acme").await.unwrap(), None);

    b.commands
        .send(Command::LoadSchema {
            source: "acme".into(),
            force: false,
        })
        .unwrap();
    let with_schema = wait_for(&mut a.snapshots, "the schema in a's snapshot", |s| {
        s.source("acme").unwrap().schema.is_some()
    })
    .await;
    let schema = with_schema.source("acme").unwrap().schema.clone().unwrap();
    assert_eq!(*schema, account_schema());
    wait_for(&mut b.snapshots, "the schema in b's snapshot", |s| {
        s.source("acme").unwrap().schema.is_some()
    })
    .await;
    let fetched = a.schemas.fetch("acme").await.unwrap().unwrap();
    assert_eq!(*fetched, account_schema());
    assert_eq!(a.schemas.fetch("nope").await.unwrap(), None);

    // A client attaching after the schema was loaded gets it with its first snapshot.
    let late = attach(&daemon.socket).await.unwrap();
    let first = late.snapshots.borrow().clone();
    assert_eq!(
        first.source("acme").unwrap().schema.as_deref(),
        Some(&account_schema())
    );
}

/// Run history travels beside the snapshots (by generation, like schemas): attached clients
/// see what the engine published, later progress snapshots keep it without carrying it.
#[tokio::test]
async fn run_history_reaches_attached_clients_beside_the_snapshots() {
    let daemon = start_daemon(&["acme"]).await;
    let mut a = attach(&daemon.socket).await.unwrap();
    let at = chrono::DateTime::UNIX_EPOCH;
    let runs = Arc::new(vec![HistoryRun {
        summary: RunSummary {
            started: at,
            finished: at,
            kind: RunKind::Initial,
            outcome: RunOutcome::Succeeded,
            upserted: 42,
            deleted: 1,
            api_calls: 3,
            error: None,
        },
        objects: vec![ObjectCount {
            object: "Account".into(),
            upserted: 42,
            deleted: 1,
        }],
    }]);
    daemon.publisher.send_modify(|s| {
        s.version += 1;
        s.sources[0].history = runs.clone();
    });
    let seen = wait_for(&mut a.snapshots, "the history in a's snapshot", |s| {
        !s.source("acme").unwrap().history.is_empty()
    })
    .await;
    assert_eq!(seen.source("acme").unwrap().history, runs);

    daemon.publisher.send_modify(|s| {
        s.version += 1;
        s.sources[0].records = 5;
    });
    let later = wait_for(&mut a.snapshots, "the next progress snapshot", |s| {
        s.source("acme").unwrap().records == 5
    })
    .await;
    assert_eq!(later.source("acme").unwrap().history, runs);

    let late = attach(&daemon.socket).await.unwrap();
    let first = late.snapshots.borrow().clone();
    assert_eq!(first.source("acme").unwrap().history, runs);
}

#[tokio::test]
async fn a_reload_from_one_client_reaches_the_engine_and_every_other_client() {
    let daemon = start_daemon(&["acme"]).await;
    let a = attach(&daemon.socket).await.unwrap();
    let mut b = attach(&daemon.socket).await.unwrap();
    let config = parse_str(
        r#"
[[source]]
id = "acme"
name = "Acme renamed"
login_url = "https://login.salesforce.com"
client_id = "key"
frequency = "15m"
"#,
    )
    .unwrap();
    a.commands.send(Command::Reload(Arc::new(config))).unwrap();
    let seen = wait_for(&mut b.snapshots, "the reloaded config", |s| {
        s.source("acme").unwrap().frequency == Frequency::M15
    })
    .await;
    assert_eq!(seen.source("acme").unwrap().name, "Acme renamed");
}

#[tokio::test]
async fn closing_a_client_never_stops_the_daemon() {
    let daemon = start_daemon(&["acme"]).await;
    let mut leaving = attach(&daemon.socket).await.unwrap();
    let mut staying = attach(&daemon.socket).await.unwrap();

    // A TUI that quits the way it stops a local engine merely detaches.
    leaving.commands.send(Command::Shutdown).unwrap();
    let reason = patiently("detach", leaving.disconnected.wait_for(Option::is_some))
        .await
        .unwrap()
        .clone();
    assert_eq!(reason, Some(Disconnect::Detached));
    assert!(
        patiently("the snapshot sender to drop", leaving.snapshots.changed())
            .await
            .is_err()
    );
    // A watcher that drops its command sender keeps receiving snapshots...
    let watcher = attach(&daemon.socket).await.unwrap();
    let (mut watching, mut watcher_gone) = (watcher.snapshots, watcher.disconnected);
    drop(watcher.commands);
    // ...and dropping both is the other way to leave.
    let quitter = attach(&daemon.socket).await.unwrap();
    let mut quitter_gone = quitter.disconnected;
    drop((quitter.commands, quitter.snapshots));
    let reason = patiently(
        "the quitter to detach",
        quitter_gone.wait_for(Option::is_some),
    )
    .await
    .unwrap()
    .clone();
    assert_eq!(reason, Some(Disconnect::Detached));

    staying
        .commands
        .send(Command::SyncNow {
            source: "acme".into(),
            full: false,
        })
        .unwrap();
    wait_for(&mut staying.snapshots, "the run after others left", |s| {
        s.source("acme").unwrap().records == 100
    })
    .await;
    wait_for(&mut watching, "the run seen by the watcher", |s| {
        s.source("acme").unwrap().records == 100
    })
    .await;
    assert_eq!(*watcher_gone.borrow_and_update(), None);
    assert!(
        !daemon.engine.is_finished(),
        "the engine never saw Shutdown"
    );
    assert!(!daemon.served.is_finished());
    assert_eq!(probe(&daemon.socket).await, Some(std::process::id()));
}

#[tokio::test]
async fn clients_learn_when_the_daemon_stops_and_the_socket_is_removed() {
    let daemon = start_daemon(&["acme"]).await;
    let mut a = attach(&daemon.socket).await.unwrap();
    daemon.shutdown.cancel();
    patiently("serve to return", daemon.served).await.unwrap();

    let reason = patiently("disconnect", a.disconnected.wait_for(Option::is_some))
        .await
        .unwrap()
        .clone();
    assert!(
        matches!(
            reason,
            Some(Disconnect::Closed | Disconnect::Failed(_) | Disconnect::ClosedWithReason(_))
        ),
        "{reason:?}"
    );
    assert!(
        patiently("snapshots to end", a.snapshots.changed())
            .await
            .is_err()
    );
    assert!(a.schemas.fetch("acme").await.is_err());
    assert!(!daemon.socket.exists(), "socket file removed on shutdown");
    assert_eq!(probe(&daemon.socket).await, None);
    let err = attach(&daemon.socket).await.unwrap_err();
    assert!(matches!(err, AttachError::NotRunning { .. }), "{err}");
    assert!(
        err.to_string().contains("no syncdeck daemon is running"),
        "{err}"
    );
}

#[tokio::test]
async fn the_daemon_closes_when_the_engine_stops_publishing() {
    let daemon = start_daemon(&["acme"]).await;
    let mut a = attach(&daemon.socket).await.unwrap();
    daemon.engine_commands.send(Command::Shutdown).unwrap();
    patiently("the fake engine to stop", daemon.engine)
        .await
        .unwrap();
    drop(daemon.publisher);
    patiently("serve to return", daemon.served).await.unwrap();
    let reason = patiently("disconnect", a.disconnected.wait_for(Option::is_some))
        .await
        .unwrap()
        .clone();
    assert!(reason.is_some());
    assert!(!daemon.socket.exists());
}
