//! What the Reauthorize screen relies on from the real engine: cancelling a pending
//! authorization (esc on the screen) leaves an event the operator can read later.

mod common;

use chrono::Utc;
use common::*;
use syncdeck::sync::clock::ManualClock;
use syncdeck::sync::model::{AuthFlow, AuthPrompt, Command};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_pending_authorization_leaves_an_event() {
    let org = org(sandbox_config(&[("Account", 10)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    let mut engine = start(&org, vec![source], ManualClock::new(Utc::now()));
    wait_for(&mut engine.snapshots, "the source", |s| {
        s.source("acme").is_some()
    })
    .await;

    // The browser flow waits for a callback that never comes: it stays pending.
    let reauthorize = Command::Reauthorize {
        source: "acme".into(),
        flow: AuthFlow::Web { port: 0 },
    };
    engine.commands.send(reauthorize).unwrap();
    wait_for(&mut engine.snapshots, "the web-flow prompt", |s| {
        s.source("acme")
            .is_some_and(|s| matches!(s.auth, Some(AuthPrompt::Web { .. })))
    })
    .await;
    engine
        .commands
        .send(Command::CancelAuth {
            source: "acme".into(),
        })
        .unwrap();
    let snap = wait_for(&mut engine.snapshots, "the cancel event", |s| {
        s.source("acme").is_some_and(|s| {
            s.events
                .iter()
                .any(|e| e.message.contains("authorization cancelled"))
        })
    })
    .await;
    assert!(matches!(
        src(&snap, "acme").auth,
        Some(AuthPrompt::Failed { .. })
    ));
    engine.shutdown().await;
}
