//! Edit Data Sync inside the app: Settings → Edit Data Sync → select → review → Sync Now,
//! with the real config-file adapter and a fake engine (a command channel).

mod fields_support;

use std::path::{Path, PathBuf};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use syncdeck::model::{Command, Snapshot};
use syncdeck::tui::adapters::EditorSettings;
use syncdeck::tui::fake::{self, FakeHistory};
use syncdeck::tui::{App, ScreenKind, Theme};
use tokio::sync::mpsc::{self, UnboundedReceiver};

const CONFIG: &str = r#"# ops team: edit with care
[[source]]
id = "acme" # production org
name = "Acme Production"
login_url = "https://login.salesforce.com"
client_id = "3MVG9fake"
frequency = "1h" # hourly is enough for reporting

# Accounts feed the weekly report.
[source.objects.Account]
fields = ["Name", "Website", "Industry"] # keep Website for enrichment

[source.objects.Contact]
fields = ["Email", "AccountId"]
"#;

struct Flow {
    app: App,
    commands: UnboundedReceiver<Command>,
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn snapshot(with_schema: bool) -> Snapshot {
    let mut snapshot = fake::snapshot();
    snapshot.sources.truncate(1);
    if with_schema {
        snapshot.sources[0].schema = Some(fields_support::org());
    }
    snapshot
}

fn flow(snapshot: Snapshot) -> Flow {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let (tx, commands) = mpsc::unbounded_channel();
    let app = App::new(
        snapshot,
        tx,
        Box::new(EditorSettings::new(&path)),
        Box::new(FakeHistory::default()),
        Theme::color(),
        fake::now(),
    );
    Flow {
        app,
        commands,
        _dir: dir,
        path,
    }
}

impl Flow {
    fn key(&mut self, code: KeyCode) -> &mut Self {
        self.app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
        self
    }

    fn keys(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
        self
    }

    fn sent(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        while let Ok(c) = self.commands.try_recv() {
            out.push(c);
        }
        out
    }

    /// Table → Settings → Edit Data Sync.
    fn open_edit_data_sync(&mut self) -> &mut Self {
        self.keys("s")
            .key(KeyCode::Tab)
            .key(KeyCode::Tab)
            .key(KeyCode::Tab)
            .key(KeyCode::Enter)
    }

    /// In the tree: open Case (second object), step onto its first field (AccountId),
    /// select it, review, Sync Now.
    fn select_case_account_id_and_sync_now(&mut self) -> &mut Self {
        self.keys("j").keys("l").keys("l").keys(" ").keys("r");
        self.key(KeyCode::Enter)
    }
}

fn file(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn select_review_sync_now_saves_the_file_and_tells_the_engine() {
    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    assert_eq!(f.app.screen(), ScreenKind::Fields);
    assert!(f.sent().is_empty(), "the schema was already loaded");

    f.select_case_account_id_and_sync_now();

    let sent = f.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let Command::Reload(config) = &sent[0] else {
        panic!("first Reload, got {sent:?}");
    };
    let objects = &config.source("acme").unwrap().objects;
    assert_eq!(objects["Case"].fields, vec!["AccountId".to_string()]);
    assert!(
        matches!(&sent[1], Command::SyncNow { source, full: false } if source == "acme"),
        "{sent:?}"
    );

    let text = file(&f.path);
    for comment in [
        "# ops team: edit with care",
        "# production org",
        "# hourly is enough for reporting",
        "# Accounts feed the weekly report.",
        "# keep Website for enrichment",
    ] {
        assert!(text.contains(comment), "lost {comment:?}:\n{text}");
    }
    assert!(text.contains("[source.objects.Case]"), "{text}");
    assert!(text.contains(r#"fields = ["AccountId"]"#), "{text}");
    assert!(
        text.contains(r#"fields = ["Name", "Website", "Industry"]"#),
        "untouched objects are not rewritten:\n{text}"
    );
    let reread = syncdeck::config::load(&f.path).unwrap();
    assert_eq!(reread.source("acme").unwrap().objects, *objects);

    assert_eq!(f.app.screen(), ScreenKind::Sources, "back on the table");
    assert!(f.app.flash().unwrap().text.contains("syncing it now"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn without_a_schema_it_loads_one_and_opens_the_editor_when_it_arrives() {
    let mut f = flow(snapshot(false));
    f.open_edit_data_sync();
    assert_eq!(f.app.screen(), ScreenKind::Selection);
    let sent = f.sent();
    assert!(
        matches!(sent.as_slice(), [Command::LoadSchema { source, force: false }] if source == "acme"),
        "{sent:?}"
    );

    let mut next = snapshot(true);
    next.version += 1;
    f.app.on_snapshot(next);
    assert_eq!(f.app.screen(), ScreenKind::Fields);

    f.select_case_account_id_and_sync_now();
    assert!(file(&f.path).contains("[source.objects.Case]"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn a_failed_save_keeps_the_editor_and_sends_nothing() {
    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    // The source disappears from the file while the operator edits.
    std::fs::write(&f.path, "# emptied by someone else\n").unwrap();
    f.select_case_account_id_and_sync_now();

    assert!(f.sent().is_empty());
    assert_eq!(f.app.screen(), ScreenKind::Fields, "edits stay on screen");
    let flash = f.app.flash().unwrap();
    assert!(flash.is_error);
    assert!(flash.text.contains("acme"), "{}", flash.text);
    assert_eq!(file(&f.path), "# emptied by someone else\n");
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn esc_on_the_editor_returns_to_settings_without_writing() {
    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    f.key(KeyCode::Esc);
    assert_eq!(f.app.screen(), ScreenKind::Settings);
    assert!(f.sent().is_empty());
    assert_eq!(file(&f.path), CONFIG);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn ctrl_c_on_the_editor_quits_unless_there_are_unsaved_fields() {
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    f.keys("j").keys("l").keys("l").keys(" ");
    f.app.handle_key(ctrl_c);
    assert!(!f.app.should_quit(), "edits are not dropped silently");
    assert!(
        f.app
            .flash()
            .unwrap()
            .text
            .contains("Unsaved field changes")
    );

    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    f.app.handle_key(ctrl_c);
    assert!(f.app.should_quit());
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn opening_an_undescribed_object_sends_describe_objects_and_its_fields_arrive() {
    let mut partial = snapshot(true);
    let mut org = (*fields_support::org()).clone();
    let opportunity = org.objects.iter_mut().find(|o| o.name == "Opportunity");
    opportunity.unwrap().fields.clear();
    partial.sources[0].schema = Some(std::sync::Arc::new(org));
    let mut f = flow(partial);
    f.open_edit_data_sync();
    f.sent();
    f.keys("jjjj").keys("l"); // Account, Case, Contact, Lead, Opportunity
    let sent = f.sent();
    assert!(
        matches!(sent.as_slice(), [Command::DescribeObjects { source, objects }]
            if source == "acme" && objects == &["Opportunity".to_string()]),
        "{sent:?}"
    );

    let mut described = snapshot(true);
    described.version += 1;
    f.app.on_snapshot(described);
    // Still open on Opportunity: its first field is one step down.
    f.keys("j").keys(" ").keys("r");
    f.key(KeyCode::Enter);
    let sent = f.sent();
    let Some(Command::Reload(config)) = sent.first() else {
        panic!("expected Reload, got {sent:?}");
    };
    let objects = &config.source("acme").unwrap().objects;
    assert!(!objects["Opportunity"].fields.is_empty(), "{objects:?}");
}

fn screen_text(app: &App, width: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| app.render(f)).unwrap();
    fields_support::text(&terminal)
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn question_mark_shows_the_field_keys_and_any_key_closes_them() {
    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    assert!(
        screen_text(&f.app, 80, 24).contains("? help"),
        "hinted in the footer"
    );
    f.keys("?");
    let help = screen_text(&f.app, 80, 24);
    assert_eq!(
        f.app.screen(),
        ScreenKind::Fields,
        "the field screen's own help"
    );
    for expected in [
        "Help · Edit Data Sync",
        "toggle",
        "search",
        "fold",
        "expand all",
        "collapse all",
        "any key closes",
    ] {
        assert!(help.contains(expected), "{expected} missing:\n{help}");
    }
    f.keys("j");
    let after = screen_text(&f.app, 80, 24);
    assert!(!after.contains("any key closes"), "{after}");
    f.keys("r?");
    let review_help = screen_text(&f.app, 80, 24);
    assert!(review_help.contains("switch button"), "{review_help}");
    assert!(f.sent().is_empty());
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn w_saves_the_selection_without_syncing_and_the_title_names_the_source() {
    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    let screen = screen_text(&f.app, 80, 24);
    assert!(
        screen.contains("Edit Data Sync · Acme Production"),
        "{screen}"
    );
    f.keys("j").keys("l").keys("l").keys(" ").keys("w");
    let sent = f.sent();
    assert!(
        matches!(sent.as_slice(), [Command::Reload(_)]),
        "saved and reloaded, no run: {sent:?}"
    );
    assert!(file(&f.path).contains("[source.objects.Case]"));
    assert_eq!(f.app.screen(), ScreenKind::Sources);
    assert!(f.app.flash().unwrap().text.contains("next run"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn search_then_enter_lands_on_the_first_matching_field() {
    let mut f = flow(snapshot(true));
    f.open_edit_data_sync();
    f.keys("/website").key(KeyCode::Enter).keys(" ").keys("r");
    let review = screen_text(&f.app, 120, 40);
    // Only Account.Website changes (it was saved, so space deselects it) — not the
    // whole of Account.
    assert!(review.contains("Changes +0 −1"), "{review}");
}

/// Review's backfill total for Case.AccountId added, with `extra` keys in the source.
fn reviewed_backfill(extra: &str) -> String {
    let mut f = flow(snapshot(true));
    let config = CONFIG.replace(
        "frequency = \"1h\" # hourly is enough for reporting\n",
        &format!("frequency = \"1h\" # hourly is enough for reporting\n{extra}"),
    );
    std::fs::write(&f.path, config).unwrap();
    f.open_edit_data_sync();
    assert_eq!(f.app.screen(), ScreenKind::Fields);
    // Case (31 000 records): open it, select AccountId, review.
    f.keys("j").keys("l").keys("l").keys(" ").keys("r");
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    terminal.draw(|frame| f.app.render(frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
            .trim_matches(|c: char| c == '│' || c.is_whitespace())
            .to_string()
    };
    format!("{} | {}", line("Backfill:"), line("Case ·"))
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn review_prices_with_the_sources_own_bulk_threshold_and_cursors() {
    // Defaults (Bulk over 200 000, 8 cursors): 29 000 rows follow the first page, so 7
    // slices (the first query's own included) of 17 pages in all after 4 COUNT calls,
    // plus the record count that chose REST.
    let defaults = reviewed_backfill("");
    assert!(defaults.starts_with("Backfill: 23 API calls"), "{defaults}");
    assert!(defaults.contains("backfill 22 calls"), "{defaults}");
    // This source's lower threshold sends Case through Bulk: create, 4 polls, one set.
    let bulk = reviewed_backfill("bulk_threshold = 10000\n");
    assert!(bulk.starts_with("Backfill: 7 API calls"), "{bulk}");
    assert!(bulk.contains("backfill via Bulk API 6 calls"), "{bulk}");
    // Bulk off and one cursor: its 16 pages, nothing else.
    let pages = reviewed_backfill("bulk_threshold = 0\nquery_cursors = 1\n");
    assert!(pages.starts_with("Backfill: 16 API calls"), "{pages}");
}
