//! What TUI screens rely on from the real engine: cancelling a pending authorization
//! (esc on Reauthorize) leaves an event; run history's per-object breakdown is stored.

mod common;

use chrono::Utc;
use common::*;
use syncdeck::model::{AuthFlow, AuthPrompt, Command};
use syncdeck::sync::ManualClock;

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

/// Run history's per-object breakdown, read back through the TUI's history port from the
/// snapshot the engine published after a real run (the TUI never opens the store).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_history_breaks_a_run_down_per_object() {
    use syncdeck::tui::RunHistory;
    use syncdeck::tui::adapters::SnapshotHistory;
    let org = org(sandbox_config(&[("Account", 30), ("Contact", 12)])).await;
    let source = manual(org.source(
        "acme",
        &[("Account", &["Name"]), ("Contact", &["LastName"])],
    ));
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source], clock.clone());
    let done = sync_now(&mut engine, &clock, "acme").await;
    let run = done.last_run.unwrap();
    let history = SnapshotHistory::new(engine.snapshots.clone())
        .runs("acme", 5)
        .unwrap();
    let newest = &history[0];
    assert_eq!(newest.summary.upserted, run.upserted);
    let per_object: Vec<(String, u64)> = newest
        .objects
        .iter()
        .map(|o| (o.object.clone(), o.upserted))
        .collect();
    assert_eq!(
        per_object,
        [("Account".to_string(), 30), ("Contact".to_string(), 12)]
    );
    assert_eq!(
        newest.objects.iter().map(|o| o.upserted).sum::<u64>(),
        run.upserted,
        "the breakdown adds up to the run's total"
    );
    engine.shutdown().await;
}
