//! Flows through the Edit Data Sync screen driven by keys, ending in the outcome the app
//! acts on.

mod fields_support;

use fields_support::{ctrl, draw, key, org, saved, screen, text, type_keys};
use ratatui::crossterm::event::KeyCode;
use std::sync::Arc;
use syncdeck::fields::{Preset, Selection, synthetic::synthetic_schema};
use syncdeck::model::OrgSchema;
use syncdeck::tui::fields::{FieldsOutcome, FieldsScreen};

fn sync_now(screen: &mut FieldsScreen) -> Selection {
    type_keys(screen, "r");
    match screen.handle_key(key(KeyCode::Enter)) {
        FieldsOutcome::SyncNow(selection) => selection,
        other => panic!("expected SyncNow, got {other:?}"),
    }
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn select_a_field_and_sync_now_returns_the_selection() {
    let mut s = screen(false);
    // Open Case, step into it and select its first field (AccountId).
    type_keys(&mut s, "j");
    s.handle_key(key(KeyCode::Char('l')));
    s.handle_key(key(KeyCode::Char('l')));
    s.handle_key(key(KeyCode::Char(' ')));
    let selection = sync_now(&mut s);
    assert!(selection.contains("Case", "AccountId"));
    assert!(
        selection.contains("Case", "Id"),
        "bookkeeping fields come along"
    );
    assert!(selection.contains("Case", "SystemModstamp"));
    assert!(selection.contains("Case", "IsDeleted"));
    assert!(
        selection.contains("Account", "Website"),
        "saved fields are kept"
    );
    assert_eq!(selection.field_count(), saved().field_count() + 4);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn search_select_matches_then_review_and_sync() {
    let mut s = screen(false);
    type_keys(&mut s, "/email");
    s.handle_key(key(KeyCode::Enter));
    let screen_text = text(&draw(&mut s, 120, 40));
    assert!(screen_text.contains("SuppliedEmail"));
    assert!(
        !screen_text.contains("BillingCity"),
        "non-matching fields are hidden"
    );
    type_keys(&mut s, "a");
    let selection = sync_now(&mut s);
    for (object, field) in [
        ("Case", "SuppliedEmail"),
        ("Lead", "Email"),
        ("Contact", "Email"),
    ] {
        assert!(selection.contains(object, field), "{object}.{field}");
    }
    assert!(selection.contains("Lead", "SystemModstamp"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn typing_narrows_and_backspace_widens_the_tree() {
    let mut s = screen(false);
    type_keys(&mut s, "/bill");
    let wide = text(&draw(&mut s, 120, 40));
    type_keys(&mut s, "ingci");
    let narrow = text(&draw(&mut s, 120, 40));
    assert!(wide.contains("BillingStreet") && !narrow.contains("BillingStreet"));
    assert!(narrow.contains("BillingCity"));
    s.handle_key(key(KeyCode::Backspace));
    s.handle_key(key(KeyCode::Backspace));
    let again = text(&draw(&mut s, 120, 40));
    assert!(again.contains("BillingStreet"));
    s.handle_key(key(KeyCode::Esc));
    let cleared = text(&draw(&mut s, 120, 40));
    assert!(
        cleared.contains("▸ [ ] Case"),
        "esc clears the filter: {cleared}"
    );
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn apply_a_preset_after_seeing_the_diff() {
    let mut s = screen(false);
    s.handle_key(key(KeyCode::Tab));
    type_keys(&mut s, "jj"); // Marketing
    s.handle_key(key(KeyCode::Enter));
    let diff = text(&draw(&mut s, 120, 40));
    assert!(diff.contains("Apply Marketing?"));
    type_keys(&mut s, "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj");
    let bottom = text(&draw(&mut s, 120, 40));
    assert!(
        bottom.contains("Contact.HasOptedOutOfEmail") && bottom.contains("Campaign.Name"),
        "fields this org lacks are listed: {bottom}"
    );
    s.handle_key(key(KeyCode::Enter));
    let expected = Preset::find("Marketing").unwrap().apply(&org()).selection;
    assert_eq!(s.selection(), expected);
    assert_eq!(sync_now(&mut s), expected);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn backing_out_of_a_preset_diff_changes_nothing() {
    let mut s = screen(false);
    s.handle_key(key(KeyCode::Tab));
    s.handle_key(key(KeyCode::Enter));
    s.handle_key(key(KeyCode::Esc));
    s.handle_key(key(KeyCode::Esc));
    assert_eq!(s.selection(), saved());
    assert!(!s.is_dirty());
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn customize_returns_to_the_tree_with_the_selection_intact() {
    let mut s = screen(false);
    type_keys(&mut s, "jjj"); // Lead
    s.handle_key(key(KeyCode::Char(' ')));
    let before = s.selection();
    type_keys(&mut s, "r");
    s.handle_key(key(KeyCode::Tab)); // focus Customize
    assert_eq!(s.handle_key(key(KeyCode::Enter)), FieldsOutcome::None);
    assert_eq!(s.selection(), before);
    assert!(text(&draw(&mut s, 80, 24)).contains("▸ [x] Lead"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn paused_sources_cannot_be_edited() {
    let mut s = screen(true);
    s.handle_key(key(KeyCode::Char(' ')));
    type_keys(&mut s, "/name");
    s.handle_key(key(KeyCode::Enter));
    type_keys(&mut s, "a");
    assert_eq!(s.selection(), saved());
    type_keys(&mut s, "r");
    assert_eq!(s.handle_key(key(KeyCode::Char('s'))), FieldsOutcome::None);
    assert!(text(&draw(&mut s, 80, 24)).contains("Turn Sync Data on to edit fields"));
    s.set_paused(false);
    assert_eq!(sync_now(&mut s), saved());
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn bookkeeping_fields_stay_locked() {
    let mut s = screen(false);
    s.handle_key(key(KeyCode::Char('l'))); // Account
    type_keys(&mut s, "/");
    type_keys(&mut s, "systemmod");
    s.handle_key(key(KeyCode::Enter));
    type_keys(&mut s, "n ");
    assert!(text(&draw(&mut s, 80, 24)).contains("always synced"));
    assert_eq!(s.selection(), saved());
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn escape_with_changes_asks_before_discarding() {
    let mut s = screen(false);
    type_keys(&mut s, "jjj ");
    assert_eq!(s.handle_key(key(KeyCode::Esc)), FieldsOutcome::None);
    assert!(text(&draw(&mut s, 120, 40)).contains("Discard"));
    assert_eq!(s.handle_key(key(KeyCode::Char('n'))), FieldsOutcome::None);
    assert_eq!(s.handle_key(key(KeyCode::Esc)), FieldsOutcome::None);
    assert_eq!(s.handle_key(key(KeyCode::Char('y'))), FieldsOutcome::Cancel);
    let mut clean = screen(false);
    assert_eq!(clean.handle_key(key(KeyCode::Esc)), FieldsOutcome::Cancel);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn navigates_a_48_000_field_org_end_to_end() {
    let schema = Arc::new(synthetic_schema(800, 60));
    let mut s = FieldsScreen::new(schema, Selection::new(), false, None);
    draw(&mut s, 120, 40);
    type_keys(&mut s, "e"); // expand everything: 48 800 rows
    s.handle_key(key(KeyCode::End));
    let bottom = text(&draw(&mut s, 120, 40));
    assert!(bottom.contains("Field0059__c"), "{bottom}");
    s.handle_key(ctrl('u'));
    s.handle_key(ctrl('u'));
    s.handle_key(key(KeyCode::Home));
    let top = text(&draw(&mut s, 120, 40));
    assert!(top.contains("▾ [ ] Object0000__c"), "{top}");
    for _ in 0..100 {
        s.handle_key(ctrl('d'));
    }
    draw(&mut s, 120, 40);
    // Search narrows as it is typed, then every match is selected.
    type_keys(&mut s, "/field0042");
    s.handle_key(key(KeyCode::Enter));
    let found = text(&draw(&mut s, 120, 40));
    assert!(found.contains("800 matches in 800 objects"), "{found}");
    type_keys(&mut s, "nnnN");
    type_keys(&mut s, "a");
    s.handle_key(key(KeyCode::Esc));
    let selection = sync_now(&mut s);
    assert_eq!(selection.object_count(), 800);
    assert_eq!(selection.field_count(), 800 * 4);
    assert!(selection.contains("Object0799__c", "Field0042__c"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn sync_now_selection_saves_through_the_editor_keeping_comments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let original = r#"# Hand-written notes survive saves.
[[source]]
id = "prod"
name = "Production"
login_url = "https://login.salesforce.com"
client_id = "abc"

[source.objects.Account]
# what sales reviewed
fields = ["Id", "IsDeleted", "Name", "SystemModstamp", "Website"]
"#;
    std::fs::write(&path, original).unwrap();
    let config = syncdeck::config::load(&path).unwrap();
    let saved = Selection::from_config(&config.sources[0].objects);
    let mut s = FieldsScreen::new(org(), saved.clone(), false, None);
    s.handle_key(key(KeyCode::Tab));
    s.handle_key(key(KeyCode::Enter)); // Minimal
    s.handle_key(key(KeyCode::Enter)); // apply
    let selection = sync_now(&mut s);

    let mut editor = syncdeck::config::Editor::load(&path).unwrap();
    let staged =
        syncdeck::fields::stage_selection(&mut editor, "prod", &saved, &selection, &[]).unwrap();
    assert!(staged > 0);
    editor.save().unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("# Hand-written notes survive saves."),
        "{text}"
    );
    assert!(text.contains("# what sales reviewed"), "{text}");
    let reloaded = syncdeck::config::load(&path).unwrap();
    let reloaded = Selection::from_config(&reloaded.sources[0].objects);
    assert!(
        !reloaded.contains("Account", "Id"),
        "bookkeeping fields are implied"
    );
    assert_eq!(reloaded.normalized(&org()), selection);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn a_newer_schema_keeps_edits_and_undescribed_selections() {
    let full = org();
    let mut partial = (*full).clone();
    partial
        .objects
        .iter_mut()
        .find(|o| o.name == "Contact")
        .unwrap()
        .fields
        .clear();
    let mut s = FieldsScreen::new(Arc::new(partial), saved(), false, None);
    let before = text(&draw(&mut s, 120, 40));
    assert!(before.contains("fields not loaded · l loads"), "{before}");
    assert!(before.contains("+0 −0 since saved"), "{before}");
    type_keys(&mut s, "jjj "); // select all of Lead
    s.set_schema(Arc::clone(&full));
    let after = text(&draw(&mut s, 120, 40));
    assert!(after.contains("▸ [-] Contact"), "{after}");
    let selection = s.selection();
    assert!(selection.contains("Contact", "Email"));
    assert!(selection.contains("Lead", "Company"));
    assert_eq!(
        selection.fields("Lead").unwrap().len(),
        full.objects
            .iter()
            .find(|o| o.name == "Lead")
            .unwrap()
            .fields
            .len()
    );
}

/// The org with Opportunity (not in the saved selection) listed but not described yet.
fn without_opportunity_fields() -> Arc<OrgSchema> {
    let mut partial = (*org()).clone();
    let opportunity = partial.objects.iter_mut().find(|o| o.name == "Opportunity");
    opportunity.unwrap().fields.clear();
    Arc::new(partial)
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn opening_an_undescribed_object_asks_for_its_fields_and_shows_them_on_arrival() {
    let mut s = FieldsScreen::new(without_opportunity_fields(), saved(), false, None);
    type_keys(&mut s, "jjjj"); // Account, Case, Contact, Lead, Opportunity
    assert_eq!(
        type_keys(&mut s, "l"),
        FieldsOutcome::Describe(vec!["Opportunity".into()])
    );
    let waiting = text(&draw(&mut s, 120, 40));
    let row = waiting
        .lines()
        .find(|l| l.contains("Opportunity "))
        .unwrap();
    assert!(row.contains("loading fields…"), "{waiting}");

    s.set_schema(org());
    assert!(s.loading().is_empty());
    let shown = text(&draw(&mut s, 120, 40));
    assert!(shown.contains("▾ [ ] Opportunity"), "{shown}");
    assert!(shown.contains("CloseDate"), "{shown}");
    type_keys(&mut s, "j ");
    let selection = s.selection();
    let picked = selection.fields("Opportunity").expect("a field picked");
    assert!(!picked.is_empty());
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn a_failed_load_stops_waiting_says_so_and_can_be_retried() {
    let mut s = FieldsScreen::new(without_opportunity_fields(), saved(), false, None);
    type_keys(&mut s, "jjjj");
    assert_eq!(
        type_keys(&mut s, "l"),
        FieldsOutcome::Describe(vec!["Opportunity".into()])
    );
    let mut failed = (*without_opportunity_fields()).clone();
    let opportunity = failed.objects.iter_mut().find(|o| o.name == "Opportunity");
    opportunity.unwrap().load_error = Some("Reauthorize: the session expired".into());
    s.set_schema(Arc::new(failed));
    assert!(s.loading().is_empty(), "no longer waiting");
    let shown = text(&draw(&mut s, 120, 40));
    let row = shown.lines().find(|l| l.contains("Opportunity ")).unwrap();
    assert!(row.contains("fields failed to load · l retries"), "{shown}");

    assert_eq!(
        type_keys(&mut s, "hl"),
        FieldsOutcome::Describe(vec!["Opportunity".into()]),
        "opening it again asks again"
    );
    s.set_schema(org());
    assert!(text(&draw(&mut s, 120, 40)).contains("CloseDate"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn space_on_an_undescribed_object_loads_it_and_selects_it_when_the_fields_arrive() {
    let mut s = FieldsScreen::new(without_opportunity_fields(), saved(), false, None);
    type_keys(&mut s, "jjjj");
    assert_eq!(
        type_keys(&mut s, " "),
        FieldsOutcome::Describe(vec!["Opportunity".into()])
    );
    let footer = text(&draw(&mut s, 120, 40));
    assert!(
        footer.contains("Loading the fields of Opportunity; they are selected when they arrive"),
        "{footer}"
    );
    assert!(s.selection().fields("Opportunity").is_none());

    s.set_schema(org());
    let all = org()
        .objects
        .iter()
        .find(|o| o.name == "Opportunity")
        .unwrap()
        .fields
        .len();
    assert_eq!(s.selection().fields("Opportunity").unwrap().len(), all);
    assert!(s.is_dirty());
    let screen = text(&draw(&mut s, 120, 40));
    assert!(screen.contains("Selected the"), "{screen}");
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn a_second_space_before_the_fields_arrive_cancels_the_selection() {
    let mut s = FieldsScreen::new(without_opportunity_fields(), saved(), false, None);
    type_keys(&mut s, "jjjj");
    type_keys(&mut s, " ");
    type_keys(&mut s, " ");
    s.set_schema(org());
    assert!(s.selection().fields("Opportunity").is_none());
}
