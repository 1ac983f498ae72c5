//! Flow tests: key events in, commands to the fake engine and resulting state out.

mod tui_common;

use ratatui::crossterm::event::KeyCode;
use syncdeck::config::Frequency;
use syncdeck::model::{AuthFlow, AuthPrompt, Command};
use syncdeck::tui::fake;
use syncdeck::tui::{ScreenKind, SettingsChange, WEB_FLOW_PORT};
use tui_common::harness;

fn names(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .map(|c| match c {
            Command::SyncNow { source, full } => format!("SyncNow({source},{full})"),
            Command::Pause { source } => format!("Pause({source})"),
            Command::Resume { source } => format!("Resume({source})"),
            Command::Reload(_) => "Reload".into(),
            Command::Reauthorize { source, flow } => format!("Reauthorize({source},{flow:?})"),
            Command::CancelAuth { source } => format!("CancelAuth({source})"),
            Command::LoadSchema { source, .. } => format!("LoadSchema({source})"),
            Command::DescribeObjects { source, objects } => {
                format!("DescribeObjects({source},{})", objects.join(","))
            }
            Command::TestNotification { source } => format!("TestNotification({source})"),
            Command::Shutdown => "Shutdown".into(),
        })
        .collect()
}

#[test]
fn toggling_sync_data_off_and_saving_pauses_the_source() {
    let mut h = harness();
    h.keys("s");
    assert_eq!(h.app.screen(), ScreenKind::Settings);
    h.keys(" ");
    let form = h.app.settings_form().unwrap();
    assert!(!form.sync_enabled);
    assert!(form.is_dirty());
    let text = h.screen_text(80, 24);
    assert!(text.contains("Not Syncing once saved"), "{text}");
    assert!(text.contains("● unsaved"), "{text}");
    assert!(h.sent().is_empty(), "nothing is sent before saving");

    h.keys("w");
    assert_eq!(h.app.screen(), ScreenKind::Sources);
    assert_eq!(names(&h.sent()), ["Reload", "Pause(acme)"]);
    assert_eq!(
        h.settings.applied(),
        [(
            "acme".to_string(),
            SettingsChange {
                sync_enabled: false,
                frequency: Frequency::H1,
                quota_threshold_percent: 80
            }
        )]
    );
    assert!(!h.settings.source("acme").unwrap().sync_enabled);
    assert!(h.app.flash().unwrap().text.contains("Saved"));
}

#[test]
fn reload_carries_the_written_config() {
    let mut h = harness();
    h.keys("s w");
    let sent = h.sent();
    let Some(Command::Reload(config)) = sent.first() else {
        panic!("expected Reload first, got {:?}", names(&sent));
    };
    assert!(!config.source("acme").unwrap().sync_enabled);
}

#[test]
fn frequency_dropdown_shows_costs_and_choosing_saves_it() {
    let mut h = harness();
    h.keys("s").key(KeyCode::Tab).key(KeyCode::Enter);
    let text = h.screen_text(80, 24);
    assert!(text.contains("≈ 864 calls/day · 0.9% of quota"), "{text}");
    assert!(text.contains("only when you sync now"), "{text}");
    h.keys("jj").key(KeyCode::Enter);
    assert_eq!(h.app.settings_form().unwrap().frequency, Frequency::H6);
    assert!(h.app.settings_form().unwrap().dropdown.is_none());
    // Press the Save Changes button itself.
    h.key(KeyCode::Tab).key(KeyCode::Tab).key(KeyCode::Tab);
    h.key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::Sources);
    assert_eq!(
        names(&h.sent()),
        ["Reload"],
        "no pause when only the frequency changed"
    );
    assert_eq!(h.settings.source("acme").unwrap().frequency, Frequency::H6);
}

#[test]
fn esc_in_the_dropdown_closes_it_without_choosing() {
    let mut h = harness();
    h.keys("s").key(KeyCode::Tab).key(KeyCode::Enter).keys("j");
    h.key(KeyCode::Esc);
    let form = h.app.settings_form().unwrap();
    assert!(form.dropdown.is_none());
    assert_eq!(form.frequency, Frequency::H1);
    assert_eq!(h.app.screen(), ScreenKind::Settings);
}

#[test]
fn esc_with_unsaved_changes_asks_before_discarding() {
    let mut h = harness();
    // Sync Data toggled, then focus moves on: esc in an unchanged control asks.
    h.keys("s ").key(KeyCode::Tab).key(KeyCode::Esc);
    assert!(h.app.settings_form().unwrap().confirm_discard);
    assert!(h.screen_text(80, 24).contains("Discard unsaved changes?"));
    h.keys("n");
    let form = h.app.settings_form().unwrap();
    assert!(!form.confirm_discard);
    assert!(!form.sync_enabled, "edits survive 'keep editing'");
    h.key(KeyCode::Esc).keys("y");
    assert_eq!(h.app.screen(), ScreenKind::Sources);
    assert!(h.sent().is_empty());
    assert!(h.settings.applied().is_empty());
    assert!(h.settings.source("acme").unwrap().sync_enabled);
}

#[test]
fn esc_without_changes_closes_at_once() {
    let mut h = harness();
    h.keys("s").key(KeyCode::Esc);
    assert_eq!(h.app.screen(), ScreenKind::Sources);
}

#[test]
fn quit_with_unsaved_changes_asks_first() {
    let mut h = harness();
    h.keys("s ").keys("q");
    assert!(!h.app.should_quit());
    assert!(h.app.settings_form().unwrap().confirm_discard);
    h.keys("y");
    assert!(h.app.should_quit());
    assert!(h.settings.applied().is_empty());
}

#[test]
fn threshold_input_gets_keys_before_global_shortcuts() {
    let mut h = harness();
    h.keys("s").key(KeyCode::Tab).key(KeyCode::Tab);
    h.key(KeyCode::Backspace).key(KeyCode::Backspace);
    h.keys("q w");
    assert!(!h.app.should_quit(), "q in the input must not quit");
    assert_eq!(h.app.screen(), ScreenKind::Settings);
    assert_eq!(
        h.app.settings_form().unwrap().threshold.value(),
        "",
        "letters and spaces are never typed into a numeric field"
    );
    assert!(h.app.flash().unwrap().text.contains("digits only"));
    h.keys("0");
    h.key(KeyCode::Enter);
    let form = h.app.settings_form().unwrap();
    assert!(
        form.message
            .as_ref()
            .unwrap()
            .text
            .contains("from 1 to 100")
    );
    assert!(
        h.settings.applied().is_empty(),
        "invalid input is not written"
    );
    for _ in 0..5 {
        h.key(KeyCode::Backspace);
    }
    h.keys("65").key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::Sources);
    assert_eq!(
        h.settings.source("acme").unwrap().quota_threshold_percent,
        65
    );
    assert_eq!(names(&h.sent()), ["Reload"]);
}

#[test]
fn save_conflict_keeps_edits_and_a_second_save_applies_them() {
    let mut h = harness();
    h.keys("s ");
    h.settings.set_conflict_next(true);
    // Someone changes the frequency by hand meanwhile.
    h.settings
        .edit_on_disk("acme", |s| s.frequency = Frequency::H12);
    h.keys("w");
    assert_eq!(h.app.screen(), ScreenKind::Settings, "panel stays open");
    let form = h.app.settings_form().unwrap();
    assert!(!form.sync_enabled, "the operator's edit is kept");
    assert_eq!(form.frequency, Frequency::H12, "the other edit is adopted");
    assert!(
        form.message
            .as_ref()
            .unwrap()
            .text
            .contains("changed on disk")
    );
    assert!(h.sent().is_empty());
    assert!(h.settings.applied().is_empty());
    assert!(h.screen_text(80, 24).contains("changed on disk"));

    h.keys("w");
    assert_eq!(h.app.screen(), ScreenKind::Sources);
    let saved = h.settings.source("acme").unwrap();
    assert!(!saved.sync_enabled);
    assert_eq!(saved.frequency, Frequency::H12);
    assert_eq!(names(&h.sent()), ["Reload", "Pause(acme)"]);
}

#[test]
fn reauthorize_flow_device_then_web_then_failure_then_success() {
    let mut h = harness();
    // Hooli (Not Connected) is last; reach Reauthorize through the actions menu.
    h.keys("G.").keys("jjj").key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::Auth);
    assert_eq!(names(&h.sent()), ["Reauthorize(hooli,Device)"]);
    assert!(h.screen_text(80, 24).contains("Requesting a device code"));

    let mut snap = fake::snapshot();
    snap.version = 2;
    snap.sources[4].auth = Some(fake::device_prompt());
    h.app.on_snapshot(snap.clone());
    let text = h.screen_text(80, 24);
    assert!(text.contains("H X 7 Q - 9 K L M"), "{text}");
    assert!(text.contains("https://login.salesforce.com/setup/connect"));
    assert!(text.contains("expires in 4:59"), "{text}");
    assert!(h.app.tick(fake::now() + chrono::Duration::seconds(10)));
    assert!(h.screen_text(80, 24).contains("expires in 4:49"));

    h.keys("w");
    assert_eq!(
        names(&h.sent()),
        [
            "CancelAuth(hooli)".to_string(),
            format!("Reauthorize(hooli,Web {{ port: {WEB_FLOW_PORT} }})")
        ]
    );

    snap.version = 3;
    snap.sources[4].auth = Some(AuthPrompt::Failed {
        message: "A Salesforce admin must authorize this connection".into(),
        refused: true,
    });
    h.app.on_snapshot(snap.clone());
    let text = h.screen_text(80, 24);
    assert!(text.contains("Authorization failed"));
    assert!(text.contains("A Salesforce admin must authorize this connection"));
    h.keys("r");
    assert_eq!(
        names(&h.sent()),
        [format!(
            "Reauthorize(hooli,Web {{ port: {WEB_FLOW_PORT} }})"
        )],
        "retry after a failure cancels nothing"
    );

    snap.version = 4;
    snap.sources[4].auth = Some(AuthPrompt::Succeeded {
        username: "admin@hooli.example.com".into(),
    });
    h.app.on_snapshot(snap);
    assert!(
        h.screen_text(80, 24)
            .contains("Authorized as admin@hooli.example.com")
    );
    h.key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::Sources);
    assert!(h.sent().is_empty());
}

#[test]
fn esc_cancels_a_pending_authorization() {
    let mut h = harness();
    h.keys("Ga").key(KeyCode::Esc);
    assert_eq!(
        names(&h.sent()),
        ["Reauthorize(hooli,Device)", "CancelAuth(hooli)"]
    );
    assert_eq!(h.app.screen(), ScreenKind::Sources);
}

#[test]
fn reauthorize_from_settings_panel() {
    let mut h = harness();
    h.keys("s").key(KeyCode::BackTab).key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::Auth);
    assert!(matches!(
        h.sent().as_slice(),
        [Command::Reauthorize { source, flow: AuthFlow::Device }] if source == "acme"
    ));
    h.key(KeyCode::Esc);
    assert_eq!(h.app.screen(), ScreenKind::Settings, "back to the panel");
}

#[test]
fn pause_resume_from_the_table_writes_the_toggle() {
    let mut h = harness();
    h.keys("jj"); // Initech, paused
    h.keys("p");
    assert_eq!(names(&h.sent()), ["Reload", "Resume(initech)"]);
    assert!(h.settings.source("initech").unwrap().sync_enabled);
    h.keys("k.jj").key(KeyCode::Enter); // Globex via the menu: Pause
    assert_eq!(names(&h.sent()), ["Reload", "Pause(globex)"]);
}

#[test]
fn sync_now_from_table_menu_and_live_status() {
    let mut h = harness();
    h.keys("n");
    h.keys(".j").key(KeyCode::Enter);
    h.keys("jln");
    assert_eq!(
        names(&h.sent()),
        [
            "SyncNow(acme,false)",
            "SyncNow(acme,false)",
            "SyncNow(globex,false)"
        ]
    );
    assert_eq!(h.app.screen(), ScreenKind::Status);
}

#[test]
fn selection_follows_the_source_when_the_snapshot_reorders() {
    let mut h = harness();
    h.keys("jj");
    assert_eq!(h.app.selected_source().unwrap().id, "initech");
    let mut snap = fake::snapshot();
    snap.version = 9;
    snap.sources.reverse();
    assert!(h.app.on_snapshot(snap.clone()));
    assert_eq!(h.app.selected_source().unwrap().id, "initech");
    assert!(!h.app.on_snapshot(snap), "same version: no redraw");
}

#[test]
fn help_overlay_lists_the_keys_of_the_screen_below() {
    let mut h = harness();
    h.keys("?");
    assert_eq!(h.app.screen(), ScreenKind::Help);
    let text = h.screen_text(80, 24);
    for desc in [
        "sync now",
        "pause/resume",
        "reauthorize",
        "run history",
        "quit",
    ] {
        assert!(text.contains(desc), "help lacks {desc}");
    }
    h.key(KeyCode::Esc);
    assert_eq!(h.app.screen(), ScreenKind::Sources);
}

#[test]
fn run_history_shows_rows_and_full_error_of_selected() {
    let mut h = harness();
    h.keys("h");
    assert_eq!(h.app.screen(), ScreenKind::History);
    h.keys("jj");
    let text = h.screen_text(80, 24);
    assert!(text.contains("✗ Failed"));
    assert!(text.contains("connection reset by peer"), "{text}");
}

#[test]
fn engine_gone_is_reported_not_fatal() {
    let mut h = harness();
    h.commands.close();
    h.keys("n");
    let flash = h.app.flash().unwrap();
    assert!(flash.is_error);
    assert!(flash.text.contains("engine has stopped"));
}

#[test]
fn relative_times_redraw_once_a_minute_when_idle() {
    let mut h = harness();
    let now = fake::now();
    assert!(!h.app.tick(now + chrono::Duration::seconds(30)));
    assert!(h.app.tick(now + chrono::Duration::seconds(61)));
    assert!(!h.app.tick(now + chrono::Duration::seconds(62)));
}

#[test]
fn edit_data_sync_lists_the_selection_while_the_schema_loads() {
    let mut h = harness();
    h.keys("s")
        .key(KeyCode::Tab)
        .key(KeyCode::Tab)
        .key(KeyCode::Tab)
        .key(KeyCode::Enter);
    assert_eq!(h.app.screen(), ScreenKind::Selection);
    let text = h.screen_text(80, 24);
    assert!(text.contains("Account  5 fields"), "{text}");
    assert!(
        text.contains("Id, Email, AccountId, SystemModstamp"),
        "{text}"
    );
    assert_eq!(names(&h.sent()), ["LoadSchema(acme)"]);
    h.key(KeyCode::Esc);
    assert_eq!(h.app.screen(), ScreenKind::Settings);
    assert!(h.sent().is_empty());
}

#[test]
fn ctrl_c_at_the_discard_prompt_quits_without_saving() {
    use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
    let mut h = harness();
    h.keys("s ").keys("q");
    assert!(!h.app.should_quit());
    h.app
        .handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(h.app.should_quit());
    assert!(h.settings.applied().is_empty());
}

#[test]
fn footer_hints_never_cut_a_hint_in_half() {
    use syncdeck::tui::keymap::{self, Context};
    let theme = syncdeck::tui::Theme::mono();
    for width in 0..120 {
        let line = syncdeck::tui::hints_line(Context::Settings, width, &theme);
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(line.width() <= width.max(1), "width {width}: {text}");
        for hint in keymap::footer(Context::Settings) {
            if text.contains(&hint.keys) {
                assert!(
                    text.contains(hint.desc),
                    "{} shown without its description",
                    hint.keys
                );
            }
        }
    }
}
