//! What the engine says is what it copied (issue 12, part 1): every selected field of every
//! selected object reaches the store, whichever objects were described before; a selected
//! field the org does not have is shown (status, `status --json`), never skipped silently.

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use syncdeck::model::Command;
use syncdeck::model::{ErrorKind, Status};
use syncdeck::sync::{Clock, ManualClock};
use syncdeck::tui::adapters::EditorSettings;
use syncdeck::tui::fake::FakeHistory;
use syncdeck::tui::{App, ScreenKind, Theme};

/// The columns of `object`'s table in the source's store.
fn columns(org: &Org, source: &str, object: &str) -> Vec<String> {
    let store = syncdeck::store::Store::open(&org.paths.store_file(source)).unwrap();
    store
        .read_rows(object, 1)
        .unwrap()
        .first()
        .map(|row| row.keys().cloned().collect())
        .unwrap_or_default()
}

const OPPORTUNITY_FIELDS: &[&str] = &["Name", "StageName", "Amount", "CloseDate", "AccountId"];
const CONTACT_NEW_FIELDS: &[&str] = &["FirstName", "Email", "AccountId"];

/// An object selected after others were described once sat between cached describes, and
/// the run matched describes to objects by position: Opportunity got another object's
/// describe and lost every field that object does not have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_selected_on_objects_the_store_never_described_are_all_synced_from_the_command_line()
{
    let org = org(sandbox_config(&[
        ("Account", 120),
        ("Contact", 90),
        ("Opportunity", 150),
    ]))
    .await;
    let source = manual(org.source(
        "acme",
        &[("Account", &["Name"]), ("Opportunity", OPPORTUNITY_FIELDS)],
    ));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    let (code, _, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{err}");

    // The operator's schema file knows Contact's fields; this store never described it.
    let field = |name: &str, field_type: &str| {
        serde_json::json!({"name": name, "label": name, "field_type": field_type,
            "custom": false, "formula": false, "compound": false, "required": false,
            "filterable": true})
    };
    let contact_fields: Vec<serde_json::Value> = [
        ("AccountId", "reference"),
        ("Email", "email"),
        ("FirstName", "string"),
        ("Id", "id"),
        ("IsDeleted", "boolean"),
        ("SystemModstamp", "datetime"),
    ]
    .iter()
    .map(|(n, t)| field(n, t))
    .collect();
    let schema = serde_json::json!({"objects": [
        {"name": "Account", "label": "Account", "custom": false, "fields": []},
        {"name": "Contact", "label": "Contact", "custom": false, "fields": contact_fields},
        {"name": "Opportunity", "label": "Opportunity", "custom": false, "fields": []},
    ]});
    let schema_file = org.root.path().join("schema.json");
    std::fs::write(&schema_file, schema.to_string()).unwrap();
    let schema_arg = schema_file.to_str().unwrap();
    let (code, out, err) = cli(
        &org,
        &[
            "fields",
            "acme",
            "--schema",
            schema_arg,
            "select",
            "Contact.FirstName",
            "Contact.Email",
            "Contact.AccountId",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");

    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("not synced"), "nothing is skipped: {err}");
    let mut saved = source.clone();
    saved.objects.insert(
        "Contact".into(),
        syncdeck::config::ObjectSelection {
            fields: CONTACT_NEW_FIELDS.iter().map(|f| f.to_string()).collect(),
        },
    );
    for (object, fields) in [
        ("Contact", CONTACT_NEW_FIELDS),
        ("Opportunity", OPPORTUNITY_FIELDS),
    ] {
        let stored = org.stored_rows("acme", object, fields);
        assert_eq!(stored, org.truth(&saved, object, fields).await, "{object}");
        let cols = columns(&org, "acme", object);
        for f in fields {
            assert!(cols.iter().any(|c| c == f), "{object}.{f} in {cols:?}");
        }
    }
    assert!(
        org.stored_rows("acme", "Contact", &["Email"])
            .iter()
            .any(|r| r.get("Email").is_some_and(|v| !v.is_null())),
        "the columns hold data"
    );

    let (code, out, _) = cli(&org, &["status", "--json"]).await;
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status[0]["status"], "Active", "{out}");
    assert_eq!(status[0]["skipped_fields"], serde_json::json!([]), "{out}");
}

/// A field the org does not have (deleted, renamed, or hidden by field-level security)
/// is named in the CLI's output, in `status --json` and in the status, which is not Active.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selected_field_the_org_lacks_is_shown_not_skipped_silently() {
    let org = org(sandbox_config(&[("Account", 60)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name", "Gone__c"])]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;

    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "the other fields are synced: {out}\n{err}");
    assert!(err.contains("Account") && err.contains("Gone__c"), "{err}");
    assert_eq!(
        org.stored_rows("acme", "Account", &["Name"]),
        org.truth(&source, "Account", &["Name"]).await
    );

    let (code, out, _) = cli(&org, &["status", "--json"]).await;
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        status[0]["skipped_fields"],
        serde_json::json!([{"object": "Account", "fields": ["Gone__c"]}]),
        "{out}"
    );
    assert_eq!(
        status[0]["status"]["Error"]["kind"], "FieldsSkipped",
        "{out}"
    );
    let message = status[0]["status"]["Error"]["message"].as_str().unwrap();
    assert!(message.contains("Account: Gone__c"), "{message}");
    let (_, table, _) = cli(&org, &["status"]).await;
    assert!(
        table.contains("Error") && table.contains("Gone__c"),
        "{table}"
    );

    // Deselecting it clears the error with the next run.
    let fixed = manual(org.source("acme", &[("Account", &["Name"])]));
    org.write_config(&config_of(vec![fixed]));
    let (code, _, err) = cli(&org, &["sync", "acme"]).await;
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = cli(&org, &["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status[0]["status"], "Active", "{out}");
}

/// The engine keeps the same facts: the running source's status names the skipped fields
/// and they are carried in its snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_reports_skipped_fields_in_its_status() {
    let org = org(sandbox_config(&[("Account", 40)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name", "Gone__c"])]));
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source], clock.clone());
    let snap = sync_now(&mut engine, &clock, "acme").await;
    match &snap.status {
        Status::Error(e) => {
            assert_eq!(e.kind, ErrorKind::FieldsSkipped);
            assert!(e.message.contains("Account: Gone__c"), "{}", e.message);
        }
        other => panic!("expected the FieldsSkipped error, got {other:?}"),
    }
    assert_eq!(snap.skipped_fields.len(), 1);
    assert_eq!(snap.skipped_fields[0].fields, ["Gone__c"]);
    assert!(
        snap.events.iter().any(|e| e.message.contains("Gone__c")),
        "an event names it too"
    );
    engine.shutdown().await;
}

/// `syncdeck sync` with nothing selected says so and how to select fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_with_nothing_selected_says_how_to_select_fields() {
    let org = org(sandbox_config(&[("Account", 10)])).await;
    let source = manual(org.source("acme", &[]));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    let (code, out, err) = cli(&org, &["sync", "acme"]).await;
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("no fields selected"), "{err}");
    assert!(err.contains("syncdeck fields acme"), "{err}");
}

/// The app with the real engine, keys as an operator types them: Settings → Edit Data
/// Sync → open User → expand all → Sales preset → Review → Sync Now. The store then has every selected
/// column of every object, with data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_preset_after_expand_all_syncs_every_selected_field_through_the_app() {
    let org = org(sandbox_config(&[
        ("Account", 150),
        ("Contact", 200),
        ("Opportunity", 120),
    ]))
    .await;
    let source = manual(org.source(
        "acme",
        &[("Account", &["Name"]), ("Contact", &["LastName"])],
    ));
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let config = syncdeck::config::load(&org.paths.config_file).unwrap();
    let mut engine = syncdeck::sync::Engine::start(
        org.paths.clone(),
        Arc::new(config),
        clock.clone(),
        syncdeck::notify::Notifier::disabled(),
    )
    .unwrap();
    // The first sync caches Account's and Contact's describes, as in the demo.
    sync_now(&mut engine, &clock, "acme").await;

    let mut app = App::new(
        engine.snapshots.borrow().clone(),
        engine.commands.clone(),
        Box::new(EditorSettings::new(&org.paths.config_file)),
        Box::new(FakeHistory::default()),
        Theme::mono(),
        Utc::now(),
    );
    let key = |app: &mut App, code: KeyCode| {
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
    };
    // Table → Settings → Edit Data Sync.
    key(&mut app, KeyCode::Char('s'));
    for _ in 0..3 {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Enter);
    let snap = wait_for(&mut engine.snapshots, "the schema", |s| {
        s.source("acme").is_some_and(|s| s.schema.is_some())
    })
    .await;
    app.on_snapshot(snap);
    assert_eq!(app.screen(), ScreenKind::Fields);
    // The operator looks at User's fields first (the last object): its describe is cached
    // while Opportunity's is not, the order that once handed Opportunity User's describe.
    key(&mut app, KeyCode::Char('G'));
    key(&mut app, KeyCode::Char('l'));
    let snap = wait_for(&mut engine.snapshots, "User's fields", |s| {
        s.source("acme")
            .and_then(|s| s.schema.as_ref())
            .is_some_and(|schema| {
                schema
                    .objects
                    .iter()
                    .any(|o| o.name == "User" && !o.fields.is_empty())
            })
    })
    .await;
    app.on_snapshot(snap);

    key(&mut app, KeyCode::Char('e')); // expand all
    key(&mut app, KeyCode::Tab); // Data Presets: Minimal, Sales, ...
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter); // the diff
    key(&mut app, KeyCode::Enter); // apply
    key(&mut app, KeyCode::Char('r'));
    let before = engine
        .snapshots
        .borrow()
        .source("acme")
        .and_then(|s| s.last_run.as_ref().map(|r| r.started));
    clock.advance(chrono::Duration::seconds(1));
    key(&mut app, KeyCode::Enter); // Sync Now
    assert_eq!(app.screen(), ScreenKind::Sources, "{:?}", app.flash());
    let snap = wait_for(&mut engine.snapshots, "the Sync Now run", |s| {
        s.source("acme").is_some_and(|s| {
            s.running.is_none() && s.last_run.as_ref().map(|r| r.started) != before
        })
    })
    .await;
    let acme = snap.source("acme").unwrap();
    assert!(acme.skipped_fields.is_empty(), "{:?}", acme.skipped_fields);
    assert!(
        !acme.events.iter().any(|e| e.message.contains("not synced")),
        "{:?}",
        acme.events
    );

    let saved = syncdeck::config::load(&org.paths.config_file).unwrap();
    let saved = saved.source("acme").unwrap().clone();
    let preset = syncdeck::fields::Preset::find("Sales").unwrap();
    for object in ["Account", "Contact", "Opportunity"] {
        let fields: Vec<&str> = preset
            .fields
            .iter()
            .filter(|f| f.object() == object)
            .map(|f| f.field_name())
            .collect();
        assert!(!fields.is_empty());
        let cols = columns(&org, "acme", object);
        for f in &fields {
            assert!(cols.iter().any(|c| c == f), "{object}.{f} not in {cols:?}");
        }
        assert_eq!(
            org.stored_rows("acme", object, &fields),
            org.truth(&saved, object, &fields).await,
            "{object}"
        );
    }
    engine.shutdown().await;
}

fn error_kind(snap: &syncdeck::model::SourceSnapshot) -> Option<ErrorKind> {
    match &snap.status {
        Status::Error(e) => Some(e.kind),
        _ => None,
    }
}

/// A changed threshold applies at once against the known usage: lowered below it, the
/// quota error is set; raised above it, the error clears without waiting for a probe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_threshold_sets_or_clears_the_quota_error_at_once() {
    let mut config = sandbox_config(&[("Account", 30)]);
    config.api_max = 1_000;
    let org = org(config).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.connect(&source).await;
    org.sandbox.set_quota(Some(500), None);
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    let snap = sync_now(&mut engine, &clock, "acme").await;
    assert_eq!(snap.status, Status::Active, "{:?}", snap.status);

    let reload = |percent: u8| {
        let mut changed = source.clone();
        changed.quota_threshold_percent = percent;
        Command::Reload(Arc::new(config_of(vec![changed])))
    };
    engine.commands.send(reload(40)).unwrap();
    let snap = wait_for(&mut engine.snapshots, "the quota error", |s| {
        s.source("acme")
            .is_some_and(|s| error_kind(s) == Some(ErrorKind::QuotaThreshold))
    })
    .await;
    let acme = snap.source("acme").unwrap();
    let Status::Error(e) = &acme.status else {
        unreachable!()
    };
    assert!(e.retry_at.is_some_and(|t| t >= clock.now()), "{e:?}");

    engine.commands.send(reload(90)).unwrap();
    wait_for(&mut engine.snapshots, "the error to clear", |s| {
        s.source("acme").is_some_and(|s| s.status == Status::Active)
    })
    .await;
    engine.shutdown().await;
}

/// The Records column counts rows as their pages commit, so it grows during a first sync,
/// and when the run ends it equals the rows the run history says were upserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_grow_page_by_page_during_a_first_sync() {
    let org = org(sandbox_config(&[("Account", 7_000)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.connect(&source).await;
    // Each page takes a moment, so the run is still going after its first pages.
    org.sandbox.inject(&syncdeck::sandbox::FaultSpec {
        latency_ms: Some(150),
        ..Default::default()
    });
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source], clock.clone());
    engine
        .commands
        .send(Command::SyncNow {
            source: "acme".into(),
            full: false,
        })
        .unwrap();
    // Before this fix Records stayed at 0 until the run ended: this wait would give up.
    wait_for(
        &mut engine.snapshots,
        "part of the rows during the run",
        |s| {
            s.source("acme")
                .is_some_and(|s| s.running.is_some() && s.records > 0 && s.records < 7_000)
        },
    )
    .await;
    let done = wait_for(&mut engine.snapshots, "the run to end", |s| {
        s.source("acme")
            .is_some_and(|s| s.running.is_none() && s.last_run.is_some())
    })
    .await;
    let acme = done.source("acme").unwrap();
    assert_eq!(acme.records, 7_000);
    assert_eq!(acme.last_run.as_ref().unwrap().upserted, acme.records);
    engine.shutdown().await;
}

/// Review prices objects whose fields are not loaded too: the schema carries their record
/// counts (one `limits/recordCount` call for every object lacking one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_has_record_counts_for_objects_whose_fields_are_not_loaded() {
    let org = org(sandbox_config(&[("Account", 25), ("Opportunity", 40)])).await;
    let source = manual(org.source("acme", &[("Account", &["Name"])]));
    org.connect(&source).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source], clock.clone());
    engine
        .commands
        .send(Command::LoadSchema {
            source: "acme".into(),
            force: false,
        })
        .unwrap();
    let snap = wait_for(&mut engine.snapshots, "the schema", |s| {
        s.source("acme").is_some_and(|s| s.schema.is_some())
    })
    .await;
    let schema = snap.source("acme").unwrap().schema.clone().unwrap();
    let opportunity = schema
        .objects
        .iter()
        .find(|o| o.name == "Opportunity")
        .unwrap();
    assert!(opportunity.fields.is_empty(), "not selected, not described");
    assert_eq!(opportunity.record_count, Some(40));
    engine.shutdown().await;
}
