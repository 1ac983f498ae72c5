//! Snapshot tests of every screen at 80×24 and 120×40 (insta; CI=true fails on a change).

mod tui_common;

use ratatui::crossterm::event::KeyCode;
use syncdeck::model::AuthPrompt;
use syncdeck::tui::fake;
use tui_common::{Harness, harness, render};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn with_auth(h: &mut Harness, prompt: AuthPrompt) {
    let mut snap = fake::snapshot();
    snap.version = 2;
    snap.sources[4].auth = Some(prompt);
    h.app.on_snapshot(snap);
}

/// Every screen state worth pinning, built through the same keys an operator presses.
pub fn states() -> Vec<(&'static str, Harness)> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, f: &dyn Fn(&mut Harness)| {
        let mut h = harness();
        f(&mut h);
        out.push((name, h));
    };
    add("sources", &|_| {});
    add("sources_error_selected", &|h| {
        h.keys("Gk");
    });
    add("sources_not_connected_selected", &|h| {
        h.keys("G");
    });
    add("actions", &|h| {
        h.keys(".j");
    });
    add("settings", &|h| {
        h.keys("s");
    });
    add("settings_error_source", &|h| {
        h.keys("Gks");
    });
    add("settings_dropdown", &|h| {
        h.keys("s").key(KeyCode::Tab).key(KeyCode::Enter).keys("j");
    });
    add("settings_unsaved", &|h| {
        h.keys("s ");
    });
    add("settings_discard_prompt", &|h| {
        h.keys("s ").key(KeyCode::Tab).key(KeyCode::Esc);
    });
    add("settings_dropdown_last", &|h| {
        h.keys("Gks").key(KeyCode::Tab).key(KeyCode::Enter);
        h.keys("jjjjjjjjj");
    });
    add("settings_over_threshold", &|h| {
        h.keys("Gks").key(KeyCode::Tab).key(KeyCode::Tab);
        h.key(KeyCode::Backspace)
            .key(KeyCode::Backspace)
            .keys("20k");
        h.key(KeyCode::Enter);
    });
    add("sources_filtered", &|h| {
        h.keys("/ini");
    });
    add("sources_sorted_by_status", &|h| {
        h.keys("oo");
    });
    add("sources_paused_selected", &|h| {
        h.keys("jj");
    });
    add("status_events_scrolled", &|h| {
        h.keys("Gklj");
    });
    add("status_event_full_text", &|h| {
        h.keys("Gklj").key(KeyCode::Enter);
    });
    add("log_pane", &|h| {
        h.app.set_log(Box::new(fake::FakeLog::default()));
        h.keys("GkL");
    });
    add("settings_conflict", &|h| {
        h.settings.set_conflict_next(true);
        h.keys("s w");
    });
    add("settings_threshold_invalid", &|h| {
        h.keys("s")
            .key(KeyCode::Tab)
            .key(KeyCode::Tab)
            .key(KeyCode::Backspace)
            .key(KeyCode::Backspace)
            .keys("0")
            .key(KeyCode::Enter);
    });
    add("edit_data_sync", &|h| {
        h.keys("s")
            .key(KeyCode::Tab)
            .key(KeyCode::Tab)
            .key(KeyCode::Tab)
            .key(KeyCode::Enter);
    });
    add("auth_requesting", &|h| {
        h.keys("Ga");
    });
    add("auth_device", &|h| {
        h.keys("Ga");
        with_auth(h, fake::device_prompt());
    });
    add("auth_web", &|h| {
        h.keys("Ga");
        with_auth(
            h,
            AuthPrompt::Web {
                authorize_url: "https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=3MVG9fake&redirect_uri=http%3A%2F%2F127.0.0.1%3A1717%2Fcallback".into(),
            },
        );
    });
    add("auth_failed", &|h| {
        h.keys("Ga");
        with_auth(
            h,
            AuthPrompt::Failed {
                message: "A Salesforce admin must authorize this connection: ops@hooli.example.com is not an admin.".into(),
                refused: true,
            },
        );
    });
    add("auth_succeeded", &|h| {
        h.keys("Ga");
        with_auth(
            h,
            AuthPrompt::Succeeded {
                username: "admin@hooli.example.com".into(),
            },
        );
    });
    add("status_setting_up", &|h| {
        h.keys("jl");
    });
    add("status_error", &|h| {
        h.keys("Gkl");
    });
    add("history", &|h| {
        h.keys("h");
    });
    add("help_sources", &|h| {
        h.keys("?");
    });
    add("help_settings", &|h| {
        h.keys("s?");
    });
    out
}

#[test]
fn every_screen_matches_its_snapshot() {
    for (name, h) in states() {
        for (w, ht) in SIZES {
            let terminal = render(&h.app, w, ht);
            insta::assert_snapshot!(format!("{name}__{w}x{ht}"), terminal.backend());
        }
    }
}

#[test]
fn too_small_terminal_says_so() {
    let h = harness();
    let terminal = render(&h.app, 24, 6);
    insta::assert_snapshot!("too_small__24x6", terminal.backend());
}
