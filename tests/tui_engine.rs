//! The App against the scripted engine over real channels: what the tmux end-to-end test
//! checks with the binary (Active → toggle Sync Data off → Not Syncing), in process.

mod tui_common;

use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use syncdeck::tui::fake::{self, FakeEngine, FakeHistory, FakeSettings};
use syncdeck::tui::{App, Theme};
use tokio::sync::{mpsc, watch};
use tui_common::{buffer_text, render};

async fn next_snapshot(
    rx: &mut watch::Receiver<syncdeck::model::Snapshot>,
) -> syncdeck::model::Snapshot {
    tokio::time::timeout(Duration::from_secs(10), rx.changed())
        .await
        .expect("engine published nothing")
        .expect("engine stopped");
    rx.borrow_and_update().clone()
}

fn acme_row(app: &App) -> String {
    buffer_text(&render(app, 120, 40))
        .lines()
        .find(|l| l.contains("Acme Production") && l.contains("Salesforce"))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn toggling_sync_data_off_turns_the_row_not_syncing() {
    let (snap_tx, mut snap_rx) = watch::channel(fake::snapshot());
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let engine = tokio::spawn(FakeEngine::new(fake::snapshot()).serve(snap_tx, cmd_rx));
    let mut app = App::new(
        snap_rx.borrow().clone(),
        cmd_tx.clone(),
        Box::new(FakeSettings::new(fake::config())),
        Box::new(FakeHistory::default()),
        Theme::mono(),
        fake::now(),
    );
    assert!(acme_row(&app).contains("✓ Active"));

    for key in [KeyCode::Char('s'), KeyCode::Char(' '), KeyCode::Char('w')] {
        app.handle_key(ratatui::crossterm::event::KeyEvent::from(key));
    }
    // Reload, then Pause: the second publish carries the paused status.
    let mut snap = next_snapshot(&mut snap_rx).await;
    while snap.source("acme").map(|s| s.status.label()) != Some("Not Syncing") {
        snap = next_snapshot(&mut snap_rx).await;
    }
    app.on_snapshot(snap);
    let row = acme_row(&app);
    assert!(row.contains("‖ Not Syncing"), "{row}");
    assert!(row.contains("paused"), "{row}");

    cmd_tx.send(syncdeck::model::Command::Shutdown).unwrap();
    engine.await.unwrap();
}

#[tokio::test]
async fn reauthorize_shows_the_engines_device_code() {
    let (snap_tx, mut snap_rx) = watch::channel(fake::snapshot());
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    tokio::spawn(FakeEngine::new(fake::snapshot()).serve(snap_tx, cmd_rx));
    let mut app = App::new(
        snap_rx.borrow().clone(),
        cmd_tx,
        Box::new(FakeSettings::new(fake::config())),
        Box::new(FakeHistory::default()),
        Theme::mono(),
        fake::now(),
    );
    app.handle_key(KeyCode::Char('G').into());
    app.handle_key(KeyCode::Char('a').into());
    let snap = next_snapshot(&mut snap_rx).await;
    app.on_snapshot(snap);
    let text = buffer_text(&render(&app, 80, 24));
    assert!(text.contains("H X 7 Q - 9 K L M"), "{text}");
}
