//! Flow tests of the newcomer fixes: scrolling lists, field keys, per-source footer,
//! filter/sort, log pane, event full text, clipboard, reauthorize details.

mod tui_common;

use ratatui::crossterm::event::KeyCode;
use syncdeck::config::Frequency;
use syncdeck::model::{AuthPrompt, Command};
use syncdeck::tui::ScreenKind;
use syncdeck::tui::fake::{self, FakeEngine, FakeLog};
use syncdeck::tui::table_view::SortKey;
use tui_common::{Harness, harness, harness_with};

fn footer(h: &Harness, width: u16, height: u16) -> String {
    h.screen_text(width, height)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// The highlighted dropdown line (the one drawn in the selection style is not visible
/// in plain text, so find the choice label of the form's highlighted index).
fn highlighted_label(h: &Harness) -> &'static str {
    let i = h.app.settings_form().unwrap().dropdown.unwrap();
    Frequency::ALL[i].label()
}

#[test]
fn the_dropdown_keeps_the_highlighted_choice_on_screen_at_every_step() {
    for (w, ht) in [(80, 24), (80, 16), (120, 40), (60, 12)] {
        let mut h = harness();
        // The error source has the tallest panel (its error lines come first).
        h.keys("Gks").key(KeyCode::Tab).key(KeyCode::Enter);
        assert!(h.app.settings_form().unwrap().dropdown.is_some());
        for step in 0..Frequency::ALL.len() + 2 {
            let text = h.screen_text(w, ht);
            let label = highlighted_label(&h);
            assert!(
                text.contains(label),
                "{w}x{ht} step {step}: {label} is off screen\n{text}"
            );
            h.keys("j");
        }
        let last = Frequency::ALL[Frequency::ALL.len() - 1];
        assert_eq!(highlighted_label(&h), last.label());
        h.key(KeyCode::Enter);
        assert_eq!(h.app.settings_form().unwrap().frequency, last);
    }
}

#[test]
fn j_and_k_move_between_controls_even_from_the_threshold_field() {
    let mut h = harness();
    h.keys("s").key(KeyCode::Tab).key(KeyCode::Tab);
    assert_eq!(
        h.app.settings_form().unwrap().focus,
        syncdeck::tui::settings_form::Control::Threshold
    );
    h.keys("j");
    let form = h.app.settings_form().unwrap();
    assert_eq!(
        form.focus,
        syncdeck::tui::settings_form::Control::EditDataSync
    );
    assert_eq!(form.threshold.value(), "80", "j is never typed");
    h.keys("k");
    assert_eq!(
        h.app.settings_form().unwrap().focus,
        syncdeck::tui::settings_form::Control::Threshold
    );
    assert!(footer(&h, 80, 24).contains("tab/↓/j next"));
}

#[test]
fn esc_in_a_changed_field_reverts_only_that_field() {
    let mut h = harness();
    h.keys("s "); // Sync Data off
    h.key(KeyCode::Tab).key(KeyCode::Tab); // threshold
    h.key(KeyCode::Backspace).keys("5");
    assert_eq!(h.app.settings_form().unwrap().threshold.value(), "85");
    h.key(KeyCode::Esc);
    let form = h.app.settings_form().unwrap();
    assert_eq!(h.app.screen(), ScreenKind::Settings);
    assert!(!form.confirm_discard, "no discard dialog for a field's esc");
    assert_eq!(form.threshold.value(), "80", "the field is reverted");
    assert!(!form.sync_enabled, "the other edit stays");
    // In the unchanged field, esc is the panel's: unsaved edits elsewhere ask first.
    h.key(KeyCode::Esc);
    assert!(h.app.settings_form().unwrap().confirm_discard);
}

#[test]
fn saving_a_frequency_sends_that_frequency_and_keeps_the_rest() {
    let mut h = harness();
    h.keys("s").key(KeyCode::Tab).key(KeyCode::Enter);
    h.keys("G"); // G is not bound in the dropdown: nothing happens
    for _ in 0..Frequency::ALL.len() {
        h.keys("j");
    }
    h.key(KeyCode::Enter).keys("w");
    let source = h.settings.source("acme").unwrap();
    assert_eq!(source.frequency, Frequency::ALL[Frequency::ALL.len() - 1]);
    assert!(source.sync_enabled);
    assert_eq!(source.quota_threshold_percent, 80);
}

#[test]
fn a_choice_over_the_threshold_is_marked() {
    let mut h = harness();
    // Umbrella: 40 calls per run on a 15,000 quota; every 15 minutes is 25.6%.
    h.keys("Gks").key(KeyCode::Tab).key(KeyCode::Tab);
    h.key(KeyCode::Backspace).key(KeyCode::Backspace).keys("20");
    h.keys("k").key(KeyCode::Enter);
    for (w, ht) in [(80, 24), (120, 40)] {
        let text = h.screen_text(w, ht);
        assert!(
            text.lines()
                .any(|l| l.contains("Every 15 minutes") && l.contains("over 20 % threshold")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("Every 2 hours") && l.contains("of quota")),
            "choices under the threshold are not marked\n{text}"
        );
    }
}

#[test]
fn the_footer_offers_what_applies_to_the_selected_source() {
    let mut h = harness();
    let active = footer(&h, 80, 24);
    assert!(active.contains("n sync now"), "{active}");
    assert!(!active.contains("a authorize"), "{active}");
    h.keys("G"); // Hooli, Not Connected
    let not_connected = footer(&h, 80, 24);
    assert!(not_connected.starts_with(" a authorize"), "{not_connected}");
    assert!(!not_connected.contains("sync now"), "{not_connected}");
    h.keys("g").keys("jj"); // Initech, Not Syncing
    let paused = footer(&h, 80, 24);
    assert!(paused.starts_with(" p resume"), "{paused}");
    let text = h.screen_text(80, 24);
    assert!(text.contains("Paused: press p to resume"), "{text}");
}

#[test]
fn slash_filters_and_esc_clears() {
    let mut h = harness();
    h.keys("/ini");
    assert_eq!(h.app.selected_source().unwrap().id, "initech");
    let text = h.screen_text(80, 24);
    assert!(text.contains("/ini▏ (1 of 5)"), "{text}");
    assert!(!text.contains("Acme Prod"), "{text}");
    // While typing, letters are the filter's, not shortcuts.
    h.keys("s");
    assert_eq!(h.app.screen(), ScreenKind::Sources);
    assert_eq!(h.app.filter_text(), Some("inis"));
    h.key(KeyCode::Backspace).key(KeyCode::Enter);
    assert_eq!(h.app.filter_text(), Some("ini"));
    // After enter the keys are shortcuts again and act on the filtered row.
    h.keys("p");
    assert_eq!(h.app.flash().unwrap().text, "Resumed Initech");
    h.key(KeyCode::Esc);
    assert_eq!(h.app.filter_text(), None);
    assert!(h.screen_text(80, 24).contains("Acme Prod"));
}

#[test]
fn a_filter_matching_nothing_selects_nothing() {
    let mut h = harness();
    h.keys("/zzz").key(KeyCode::Enter);
    assert!(h.app.selected_source().is_none());
    assert!(h.screen_text(80, 24).contains("No source matches"));
    h.keys("n");
    assert!(h.sent().is_empty(), "no command for a hidden source");
}

#[test]
fn o_cycles_the_sort_and_keeps_the_selection() {
    let mut h = harness();
    h.keys("jj"); // Initech
    h.keys("o");
    assert_eq!(h.app.sort(), SortKey::Name);
    assert_eq!(h.app.selected_source().unwrap().id, "initech");
    h.keys("o");
    assert_eq!(h.app.sort(), SortKey::Status);
    h.keys("g");
    assert_eq!(
        h.app.selected_source().unwrap().id,
        "umbrella",
        "errors sort first"
    );
    assert!(h.screen_text(80, 24).contains("sorted by status"));
}

#[test]
fn e_opens_edit_data_sync_for_the_selected_source() {
    let mut h = harness();
    h.keys("je");
    assert_eq!(h.app.screen(), ScreenKind::Selection);
    let text = h.screen_text(80, 24);
    assert!(text.contains("Edit Data Sync · Globex Sandbox"), "{text}");
    assert!(
        text.contains("Account"),
        "the saved selection is listed: {text}"
    );
    assert!(matches!(
        h.sent().as_slice(),
        [Command::LoadSchema { source, .. }] if source == "globex"
    ));
}

fn with_log() -> Harness {
    let mut h = harness();
    h.app.set_log(Box::new(FakeLog::default()));
    h
}

#[test]
fn l_shows_the_log_and_the_sources_events() {
    let mut h = with_log();
    h.keys("GkL");
    assert_eq!(h.app.screen(), ScreenKind::Log);
    let text = h.screen_text(120, 40);
    assert!(text.contains("syncdeck.log"), "{text}");
    assert!(text.contains("REQUEST_LIMIT_EXCEEDED"), "{text}");
    assert!(text.contains("Events · Umbrella Dev Org"), "{text}");
    assert!(text.contains("Quota threshold reached"), "{text}");
    h.keys("k");
    assert!(h.screen_text(120, 40).contains("1 lines up"));
    h.key(KeyCode::Esc);
    assert_eq!(h.app.screen(), ScreenKind::Sources);
}

#[test]
fn without_a_log_port_the_pane_says_so() {
    let mut h = harness();
    h.keys("L");
    assert!(h.screen_text(80, 24).contains("No log file is connected"));
}

#[test]
fn live_status_events_scroll_open_in_full_and_copy() {
    let mut h = harness();
    h.keys("Gkl"); // Umbrella's live status
    assert_eq!(h.app.screen(), ScreenKind::Status);
    h.keys("j"); // the long 403 event (second newest)
    let list = h.screen_text(80, 24);
    assert!(list.contains("2 of 4"), "{list}");
    assert!(list.contains('…'), "long lines are cut in the list: {list}");
    h.key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::EventText);
    let full = h.screen_text(80, 24);
    assert!(
        full.contains("resumes from there once the quota allows"),
        "{full}"
    );
    h.keys("y");
    let copied = h.app.take_clipboard().unwrap();
    assert!(copied.starts_with("Contact: Salesforce answered 403"));
    assert!(h.app.take_clipboard().is_none(), "copied once");
    h.key(KeyCode::Esc);
    assert_eq!(h.app.screen(), ScreenKind::Status);
    h.key(KeyCode::Tab);
    let text = h.screen_text(80, 24);
    assert!(
        text.contains("Hooli"),
        "tab moves to the next source: {text}"
    );
}

#[test]
fn y_on_the_table_copies_the_error_and_on_reauthorize_the_code_or_url() {
    let mut h = harness();
    h.keys("Gky");
    assert!(h.app.take_clipboard().unwrap().contains("12,004 of 15,000"));
    h.keys("ja");
    let mut snap = fake::snapshot();
    snap.version = 2;
    snap.sources[4].auth = Some(fake::device_prompt());
    h.app.on_snapshot(snap.clone());
    h.keys("y");
    assert_eq!(h.app.take_clipboard().as_deref(), Some("HX7Q-9KLM"));
    let url = "https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=3MVG9fake&redirect_uri=http%3A%2F%2F127.0.0.1%3A1717%2Fcallback";
    snap.version = 3;
    snap.sources[4].auth = Some(AuthPrompt::Web {
        authorize_url: url.into(),
    });
    h.app.on_snapshot(snap);
    h.keys("y");
    assert_eq!(h.app.take_clipboard().as_deref(), Some(url));
}

#[test]
fn the_web_flow_url_is_on_full_width_lines_without_borders() {
    let url = "https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=3MVG9fake&redirect_uri=http%3A%2F%2F127.0.0.1%3A1717%2Fcallback";
    for (w, ht) in [(80u16, 24u16), (120, 40)] {
        let mut h = harness();
        h.keys("Ga");
        let mut snap = fake::snapshot();
        snap.version = 2;
        snap.sources[4].auth = Some(AuthPrompt::Web {
            authorize_url: url.into(),
        });
        h.app.on_snapshot(snap);
        let text = h.screen_text(w, ht);
        // Joining the lines that hold the URL, with nothing else, gives the URL back.
        let start = text.find("https://login.salesforce.com/services").unwrap();
        let joined: String = text[start..]
            .lines()
            .take(url.len().div_ceil(w as usize))
            .map(str::trim_end)
            .collect();
        assert_eq!(joined, url, "{text}");
        for line in text[start..].lines().take(url.len().div_ceil(w as usize)) {
            assert!(!line.contains('│'), "border inside the URL: {line}");
        }
    }
}

#[test]
fn the_success_screen_offers_only_closing() {
    let mut h = harness();
    h.keys("Ga");
    let mut snap = fake::snapshot();
    snap.version = 2;
    snap.sources[4].auth = Some(AuthPrompt::Succeeded {
        username: "admin@hooli.example.com".into(),
    });
    h.app.on_snapshot(snap);
    let foot = footer(&h, 120, 40);
    assert!(foot.contains("enter close"), "{foot}");
    for key in ["w use web flow", "d use device", "r retry"] {
        assert!(!foot.contains(key), "{foot}");
    }
    h.sent();
    h.keys("wdr");
    assert!(h.sent().is_empty(), "w, d and r do nothing once authorized");
    h.key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::Sources);
}

#[test]
fn a_cancelled_authorization_leaves_an_event() {
    let mut h = harness();
    let mut engine = FakeEngine::new(fake::snapshot());
    h.keys("Ga");
    for c in h.sent() {
        engine.apply(c, fake::now());
    }
    h.app.on_snapshot(engine.snapshot.clone());
    h.key(KeyCode::Esc);
    let sent = h.sent();
    assert!(sent.iter().any(|c| matches!(c, Command::CancelAuth { .. })));
    for c in sent {
        engine.apply(c, fake::now());
    }
    h.app.on_snapshot(engine.snapshot.clone());
    let hooli = h.app.source("hooli").unwrap();
    assert!(
        hooli
            .events
            .iter()
            .any(|e| e.message.contains("authorization cancelled")),
        "{:?}",
        hooli.events
    );
}

#[test]
fn help_overlays_fit_and_are_titled_help() {
    let mut h = harness();
    h.keys("?");
    for (w, ht) in [(80, 24), (120, 40)] {
        let text = h.screen_text(w, ht);
        assert!(text.contains("Help · Data Sources"), "{text}");
        for desc in [
            "filter",
            "log pane",
            "edit data sync",
            "copy the error",
            "quit",
        ] {
            assert!(text.contains(desc), "{w}x{ht}: help lacks {desc}\n{text}");
        }
    }
}

#[test]
fn settings_say_whether_notifications_are_set_up() {
    let mut h = harness();
    h.keys("s");
    let text = h.screen_text(120, 40);
    assert!(
        text.contains("Notifications     not set up: add [notify.email] or [notify.webhook]"),
        "{text}"
    );
    h.key(KeyCode::Esc);
    h.settings.state.lock().unwrap().config.notify = syncdeck::config::NotifyConfig {
        email: None,
        webhook: Some(syncdeck::config::WebhookConfig {
            url: "https://hooks.example.com/services/T0/B1/secret-token".into(),
        }),
    };
    h.keys("s");
    let text = h.screen_text(120, 40);
    assert!(text.contains("webhook → hooks.example.com"), "{text}");
    assert!(
        !text.contains("secret-token"),
        "the URL's path is never shown: {text}"
    );
}

#[test]
fn t_in_settings_asks_the_engine_for_a_test_notification() {
    let mut h = harness();
    h.settings.state.lock().unwrap().config.notify = syncdeck::config::NotifyConfig {
        email: None,
        webhook: Some(syncdeck::config::WebhookConfig {
            url: "https://hooks.example.com/x".into(),
        }),
    };
    h.keys("s");
    assert!(h.screen_text(120, 40).contains("t sends a test"));
    h.sent();
    h.keys("t");
    let sent = h.sent();
    assert!(
        matches!(sent.as_slice(), [Command::TestNotification { .. }]),
        "{sent:?}"
    );
    let text = h.screen_text(120, 40);
    assert!(text.contains("Test notification requested"), "{text}");
}

#[test]
fn the_actions_menu_keeps_its_cursor_visible_when_short() {
    let mut h = harness();
    h.keys(".jjjjj"); // Live status, the last item
    for height in [8u16, 9, 10, 24] {
        let text = h.screen_text(80, height);
        assert!(text.contains("Live status"), "80x{height}\n{text}");
    }
}

#[test]
fn run_history_shows_the_selected_runs_per_object_counts() {
    let mut h = harness();
    h.keys("h");
    let text = h.screen_text(80, 24);
    // The newest fake run: 412 upserted (137 Accounts, 275 Contacts), 3 deleted.
    assert!(text.contains("Account +137 −0 · Contact +275 −3"), "{text}");
}

#[test]
fn event_text_scrolls_no_further_than_its_last_line() {
    let mut snap = fake::snapshot();
    let words: Vec<String> = (1..=600).map(|i| format!("w{i:03}")).collect();
    let umbrella = snap
        .sources
        .iter_mut()
        .find(|s| s.name == "Umbrella Dev Org")
        .unwrap();
    let newest = umbrella.events.last().map_or(fake::now(), |e| e.at);
    umbrella.events.push(syncdeck::model::Event {
        at: newest,
        level: syncdeck::model::EventLevel::Error,
        message: words.join(" "),
    });
    let mut h = harness_with(snap, syncdeck::tui::Theme::color());
    h.keys("Gkl");
    h.key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::EventText);
    let top = h.screen_text(80, 24);
    assert!(top.contains("w001") && !top.contains("w600"), "{top}");
    for _ in 0..200 {
        h.keys("j");
    }
    let end = h.screen_text(80, 24);
    assert!(end.contains("w600") && !end.contains("w001"), "{end}");
    // One `k` must move the view at once: `j` did not pile up scroll past the end.
    h.keys("k");
    let up = h.screen_text(80, 24);
    assert!(!up.contains("w600"), "the last line left the view: {up}");
    h.keys("j");
    assert_eq!(h.screen_text(80, 24), end, "and one `j` brings it back");
}
