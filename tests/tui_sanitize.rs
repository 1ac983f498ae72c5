//! Escape sequences from Salesforce, the config or errors never reach the terminal.

mod tui_common;

use ratatui::crossterm::event::KeyCode;
use syncdeck::model::{ErrorInfo, ErrorKind, Event, EventLevel, ObjectProgress, Status};
use syncdeck::tui::{Theme, fake};
use tui_common::{buffer_text, harness_with, render};

const CLEAR: &str = "\u{1b}[2J";
const TITLE: &str = "\u{1b}]0;owned\u{7}";

fn hostile_snapshot() -> syncdeck::model::Snapshot {
    let mut snap = fake::snapshot();
    // An org name, a record value (in an event and an object name), an error message.
    snap.sources[0].name = format!("Acme{CLEAR}Prod{TITLE}");
    snap.sources[0].events.push(Event {
        at: fake::now(),
        level: EventLevel::Warn,
        message: format!("Skipped record 001xx: Name = 'Bobby{CLEAR}\u{202E}sgat' has bad bytes"),
    });
    if let Some(run) = &mut snap.sources[1].running {
        run.objects.push(ObjectProgress {
            object: format!("Evil{CLEAR}__c"),
            done: 1,
            expected: Some(2),
            finished: false,
            route: Some(format!("Bulk API: Evil{CLEAR}__c above the threshold")),
            bulk_job: Some(format!("Bulk job In{TITLE}Progress, 1 records")),
        });
    }
    snap.sources[1].fleet = Some(syncdeck::model::FleetOwner {
        host: Some(format!("host{CLEAR}-b")),
        heartbeat: Some(fake::now()),
        here: false,
        note: Some(format!("config differs{TITLE}")),
    });
    snap.sources[3].status = Status::Error(ErrorInfo {
        kind: ErrorKind::Api,
        message: format!("INVALID_FIELD: {CLEAR}\u{1b}[31mred\u{9b}1m\u{200B}x"),
        retry_at: None,
        used: None,
        max: None,
    });
    snap
}

fn assert_clean(text: &str) {
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "control character reached the screen:\n{text}"
    );
}

#[test]
fn org_name_record_value_and_error_message_are_neutralised() {
    let mut h = harness_with(hostile_snapshot(), Theme::color());
    let table = h.screen_text(120, 40);
    assert_clean(&table);
    assert!(table.contains("Acme␛[2JProd␛]0;owned␇"), "{table}");

    h.keys("Gk"); // the source with the hostile error message
    let details = h.screen_text(120, 40);
    assert_clean(&details);
    assert!(
        details.contains("INVALID_FIELD: ␛[2J␛[31mred\\u{9B}1m\\u{200B}x"),
        "{details}"
    );

    h.keys("s");
    assert_clean(&h.screen_text(120, 40));
    h.key(KeyCode::Esc);

    h.keys("gl"); // live status of the hostile org name and record value
    let status = h.screen_text(120, 40);
    assert_clean(&status);
    assert!(status.contains("Bobby␛[2J\\u{202E}sgat"), "{status}");
    h.key(KeyCode::Tab); // the next source
    let status = h.screen_text(120, 40);
    assert!(status.contains("Evil␛[2J__c"), "{status}");
}

#[test]
fn later_snapshots_are_cleaned_too() {
    let mut h = harness_with(fake::snapshot(), Theme::color());
    let mut snap = hostile_snapshot();
    snap.version = 7;
    h.app.on_snapshot(snap);
    assert!(h.app.snapshot().sources[0].name.contains('␛'));
    assert!(!h.app.snapshot().sources[0].name.contains('\u{1b}'));
}

#[test]
fn no_color_theme_draws_no_colours() {
    let h = harness_with(hostile_snapshot(), Theme::mono());
    let terminal = render(&h.app, 120, 40);
    let buffer = terminal.backend().buffer();
    use ratatui::style::Color;
    for cell in buffer.content() {
        assert_eq!(cell.fg, Color::Reset, "colour at {:?}", cell.symbol());
        assert_eq!(cell.bg, Color::Reset);
    }
    assert!(buffer_text(&terminal).contains("✗ Error"));
}

/// The flash quoting an object's name (from the org) is cleaned like every other string.
#[test]
fn the_flash_naming_an_object_shows_escape_sequences_as_text() {
    use std::sync::Arc;
    use syncdeck::fields::Selection;
    use syncdeck::model::{ObjectSchema, OrgSchema};
    let hostile = ObjectSchema {
        name: "Evil\u{1b}]0;owned\u{7}\u{202E}__c".into(),
        label: "Evil".into(),
        custom: true,
        ..ObjectSchema::default()
    };
    let schema = Arc::new(OrgSchema {
        objects: vec![hostile],
    });
    let mut s = syncdeck::tui::fields::FieldsScreen::new(schema, Selection::new(), false, None);
    // Fields not loaded: a flash names the object.
    s.handle_key(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char(' '),
        ratatui::crossterm::event::KeyModifiers::NONE,
    ));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|frame| s.render(frame, frame.area()))
        .unwrap();
    let text = buffer_text(&terminal);
    assert!(
        text.contains("Loading the fields of Evil␛]0;owned␇\\u{202E}__c"),
        "{text}"
    );
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
}

#[test]
fn bulk_job_state_route_and_fleet_owner_are_neutralised() {
    let mut h = harness_with(hostile_snapshot(), Theme::color());
    h.keys("j");
    // The sources screen's detail box names the fleet owner of the selected source too.
    let table = h.screen_text(80, 24);
    assert_clean(&table);
    assert!(table.contains("Fleet: synced by host␛[2J-b"), "{table}");
    h.keys("l"); // live status of the source whose run reads the hostile object
    let live = h.screen_text(120, 40);
    assert_clean(&live);
    assert!(live.contains("host␛[2J-b"), "{live}");
}
