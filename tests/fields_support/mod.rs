//! A realistic org for the field tests, read from the recorded describe payloads (see
//! `tests/recorded`), plus one custom object with a formula field. Tests that use it carry
//! the `cfg_attr(not(syncdeck_fixtures), ignore)` marker.

#![allow(dead_code)]

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;
use syncdeck::fields::Selection;
use syncdeck::model::{FieldSchema, ObjectSchema, OrgSchema};
use syncdeck::tui::fields::{FieldsOutcome, FieldsScreen};

#[path = "../recorded/mod.rs"]
pub mod recorded;

const RECORDED: [(&str, u64); 6] = [
    ("Account", 4_500),
    ("Case", 31_000),
    ("Contact", 12_250),
    ("Lead", 8_000),
    ("Opportunity", 6_100),
    ("OpportunityContactRole", 9_400),
];

fn field_from_describe(f: &Value) -> FieldSchema {
    let flag = |k: &str| f[k].as_bool().unwrap_or(false);
    let field_type = f["type"].as_str().unwrap_or("string").to_string();
    FieldSchema {
        name: f["name"].as_str().unwrap().to_string(),
        label: f["label"].as_str().unwrap_or_default().to_string(),
        compound: matches!(field_type.as_str(), "address" | "location"),
        field_type,
        custom: flag("custom"),
        formula: flag("calculated"),
        required: !flag("nillable") && flag("createable") && !flag("defaultedOnCreate"),
        filterable: flag("filterable"),
        compound_parent: f["compoundFieldName"].as_str().map(str::to_string),
    }
}

fn object_from_fixture(name: &str, records: u64) -> ObjectSchema {
    let path = recorded::path(&format!("describe_{name}_cci.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let describe: Value = serde_json::from_str(&text).unwrap();
    let mut fields: Vec<FieldSchema> = describe["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(field_from_describe)
        .collect();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    ObjectSchema {
        name: name.to_string(),
        label: describe["label"].as_str().unwrap().to_string(),
        custom: false,
        record_count: Some(records),
        fields,
        load_error: None,
    }
}

fn subscription() -> ObjectSchema {
    let field = |name: &str, label: &str, field_type: &str| FieldSchema {
        name: name.into(),
        label: label.into(),
        field_type: field_type.into(),
        custom: name.ends_with("__c"),
        filterable: true,
        ..FieldSchema::default()
    };
    let mut days = field("Days_To_Renewal__c", "Days to Renewal", "double");
    days.formula = true;
    let mut account = field("Account__c", "Account", "reference");
    account.required = true;
    let mut fields = vec![
        field("Id", "Record ID", "id"),
        field("IsDeleted", "Deleted", "boolean"),
        field("SystemModstamp", "System Modstamp", "datetime"),
        field("Name", "Subscription Name", "string"),
        account,
        days,
        field("Renewal_Date__c", "Renewal Date", "date"),
    ];
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    ObjectSchema {
        name: "Subscription__c".into(),
        label: "Subscription".into(),
        custom: true,
        record_count: None,
        fields,
        load_error: None,
    }
}

pub fn org() -> Arc<OrgSchema> {
    let mut objects: Vec<ObjectSchema> = RECORDED
        .iter()
        .map(|(name, records)| object_from_fixture(name, *records))
        .collect();
    objects.push(subscription());
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    Arc::new(OrgSchema { objects })
}

/// What the config held before editing: a few account and contact fields.
pub fn saved() -> Selection {
    let mut s = Selection::new();
    for (o, f) in [
        ("Account", "Id"),
        ("Account", "IsDeleted"),
        ("Account", "SystemModstamp"),
        ("Account", "Name"),
        ("Account", "Website"),
        ("Account", "Industry"),
        ("Contact", "Id"),
        ("Contact", "IsDeleted"),
        ("Contact", "SystemModstamp"),
        ("Contact", "Email"),
        ("Contact", "AccountId"),
    ] {
        s.insert(o, f);
    }
    s
}

pub fn screen(paused: bool) -> FieldsScreen {
    FieldsScreen::new(org(), saved(), paused, Some(850.0))
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Press each char of `keys` as a plain key; returns the last outcome.
pub fn type_keys(screen: &mut FieldsScreen, keys: &str) -> FieldsOutcome {
    let mut last = FieldsOutcome::None;
    for c in keys.chars() {
        last = screen.handle_key(key(KeyCode::Char(c)));
    }
    last
}

pub fn draw(screen: &mut FieldsScreen, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| screen.render(frame, frame.area()))
        .unwrap();
    terminal
}

#[path = "../tui_common/mod.rs"]
mod tui_common;

/// The rendered screen as plain text lines.
#[allow(unused_imports)] // each test binary uses its own subset
pub use tui_common::buffer_text as text;
