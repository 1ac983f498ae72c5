//! Edit Data Sync shows what is true (issue 12 part 2): the header's `+N −M` is Review's,
//! objects whose fields are not loaded show the saved count and are never "all selected",
//! and Review's totals are on screen at 80×24 with the time measured or called an estimate.

mod fields_support;

use std::sync::Arc;

use fields_support::{draw, key, org, saved, text, type_keys};
use ratatui::crossterm::event::KeyCode;
use syncdeck::model::OrgSchema;
use syncdeck::tui::fields::FieldsScreen;

/// The test org with these objects' fields not loaded (as after a schema load during a run).
fn unloaded(names: &[&str]) -> Arc<OrgSchema> {
    let mut schema = (*org()).clone();
    for o in schema.objects.iter_mut() {
        if names.contains(&o.name.as_str()) {
            o.fields.clear();
        }
    }
    Arc::new(schema)
}

fn screen_text(s: &mut FieldsScreen, w: u16, h: u16) -> String {
    text(&draw(s, w, h))
}

/// `+N −M` in a line of the screen.
fn counts_in(line: &str) -> (usize, usize) {
    let plus = line.split('+').nth(1).unwrap();
    let added: usize = plus.split(' ').next().unwrap().parse().unwrap();
    let minus = line.split('−').nth(1).unwrap();
    let removed: usize = minus.split(' ').next().unwrap().parse().unwrap();
    (added, removed)
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn header_changes_equal_reviews_totals_with_unloaded_objects() {
    // Nothing loaded, as in the demo while its first sync runs; apply the Sales preset.
    let schema = unloaded(&["Account", "Contact", "Lead", "Opportunity"]);
    let mut s = FieldsScreen::new(schema, saved(), false, None);
    s.handle_key(key(KeyCode::Char('e')));
    s.handle_key(key(KeyCode::Tab));
    type_keys(&mut s, "j");
    s.handle_key(key(KeyCode::Enter));
    s.handle_key(key(KeyCode::Enter));
    let tree = screen_text(&mut s, 80, 24);
    let header = tree.lines().find(|l| l.contains("since saved")).unwrap();
    let header_counts = counts_in(header);
    assert_ne!(header_counts, (0, 0), "the preset changed things: {header}");
    assert!(s.is_dirty(), "unsaved changes on unloaded objects count");

    type_keys(&mut s, "r");
    let review = screen_text(&mut s, 80, 24);
    let totals = review.lines().find(|l| l.contains("Changes")).unwrap();
    assert_eq!(counts_in(totals), header_counts, "{review}");
    // The totals sit above the per-object list, so they show without scrolling.
    let cost_row = review.lines().position(|l| l.contains("Backfill")).unwrap();
    let first_object = review
        .lines()
        .position(|l| l.contains("Account ·"))
        .unwrap();
    assert!(cost_row < first_object, "{review}");
    assert!(
        !review.contains("not in this org"),
        "fields of unloaded objects are unknown, not missing:\n{review}"
    );
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn unloaded_objects_show_their_saved_count_and_are_not_all_selected() {
    let schema = unloaded(&["Account"]);
    let mut s = FieldsScreen::new(schema, saved(), false, None);
    let screen = screen_text(&mut s, 80, 24);
    let account = screen.lines().find(|l| l.contains("Account")).unwrap();
    assert!(
        account.contains("[-]"),
        "partly known, never [x]: {account}"
    );
    // The saved fields without their bookkeeping fields, counted like loaded objects' N/M
    // and the header's total.
    assert!(account.contains(" 3 selected"), "{account}");
    let header = screen
        .lines()
        .find(|l| l.contains(" objects selected"))
        .unwrap();
    assert!(header.contains("5 fields in 2 objects"), "{header}");
    assert!(!account.contains("/0"), "{account}");
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn review_time_is_measured_or_called_an_estimate() {
    let mut measured = FieldsScreen::new(org(), saved(), false, Some(500.0));
    let mut estimated = FieldsScreen::new(org(), saved(), false, None);
    for s in [&mut measured, &mut estimated] {
        // AnnualRevenue of Account and Lead: a backfill of their records.
        s.handle_key(key(KeyCode::Char('/')));
        type_keys(s, "annualrev");
        s.handle_key(key(KeyCode::Enter));
        type_keys(s, "a");
        s.handle_key(key(KeyCode::Esc));
        type_keys(s, "r");
    }
    let m = screen_text(&mut measured, 80, 24);
    assert!(m.contains("records/s (measured on this source)"), "{m}");
    let e = screen_text(&mut estimated, 80, 24);
    assert!(e.contains("an estimate at 2,000 records/s"), "{e}");
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn search_says_how_many_objects_fields_were_not_searched() {
    let schema = unloaded(&["Lead", "Opportunity"]);
    let mut s = FieldsScreen::new(schema, saved(), false, None);
    type_keys(&mut s, "/opportunity");
    let screen = screen_text(&mut s, 120, 40);
    assert!(
        screen.contains("fields of 2 objects not loaded, not searched"),
        "{screen}"
    );
    // Object names are searched whether loaded or not.
    assert!(screen.contains("Opportunity"), "{screen}");
}
