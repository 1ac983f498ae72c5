//! `syncdeck demo` end to end in a real terminal (tmux, 80×24): the table comes alive,
//! Sync Data is toggled off in Settings and saved, the row shows Not Syncing; q quits
//! cleanly, says where the demo's files were, and the temporary demo directory is gone.

mod e2e_support;

use e2e_support::{Tmux, row, tmux_available};

#[test]
fn demo_goes_active_and_sync_data_off_shows_not_syncing() {
    if !tmux_available("demo_goes_active_and_sync_data_off_shows_not_syncing") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let command = format!(
        "env -u SYNCDECK_CONFIG -u SYNCDECK_DATA_DIR NO_COLOR=1 TMPDIR='{}' '{}' demo",
        tmp.path().display(),
        env!("CARGO_BIN_EXE_syncdeck")
    );
    let tmux = Tmux::start("demo", &command, tmp.path());

    let screen = tmux.wait_for("Acme Corp to be Active", |s| {
        row(s, "Acme Corp").is_some_and(|r| r.contains("Active"))
    });
    assert!(screen.contains("local engine"), "{screen}");
    assert!(
        row(&screen, "Globex").is_some_and(|r| r.contains("Not Syncing")),
        "{screen}"
    );

    // Acme is the first row: Settings, Sync Data is focused first (after Reauthorize).
    tmux.keys(&["g", "s"]);
    let settings = tmux.wait_for("the Settings panel", |s| s.contains("Sync Data"));
    assert!(settings.contains("Save Changes"), "{settings}");
    let toggled = focus_sync_data_and_toggle(&tmux);
    assert!(toggled.contains("unsaved"), "{toggled}");
    tmux.keys(&["w"]);

    let screen = tmux.wait_for("Acme Corp to be Not Syncing", |s| {
        row(s, "Acme Corp").is_some_and(|r| r.contains("Not Syncing"))
    });
    assert!(
        !screen.contains("Save Changes"),
        "the panel closed: {screen}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("the demo to exit", |_| tmux.pane_dead());
    // Once the TUI has given the terminal back, the demo says where its files were.
    let after = tmux.screen();
    assert!(
        after.contains("syncdeck demo files (removed now):"),
        "{after}"
    );
    assert!(after.contains("config.toml"), "{after}");
    assert!(after.contains("syncdeck.log"), "{after}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("syncdeck-demo-"))
        .collect();
    assert!(left.is_empty(), "temporary demo dir left behind: {left:?}");
}

/// Tab until the Sync Data row has the focus marker, then press space.
fn focus_sync_data_and_toggle(tmux: &Tmux) -> String {
    for _ in 0..8 {
        let screen = tmux.screen();
        if screen
            .lines()
            .any(|l| l.contains('›') && l.contains("Sync Data"))
        {
            tmux.keys(&["Space"]);
            return tmux.wait_for("the toggle to be marked unsaved", |s| s.contains("unsaved"));
        }
        tmux.keys(&["Tab"]);
    }
    panic!("Sync Data never got the focus:\n{}", tmux.screen());
}
