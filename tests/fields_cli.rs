//! `syncdeck fields`: patterns, presets and writes through the config Editor, on a real
//! config file with comments.

mod fields_support;

use std::path::{Path, PathBuf};

use fields_support::org;
use syncdeck::cli::fields::{FieldsAction, run_with};

const CONFIG: &str = r#"# Operators' notes stay in this file.
[[source]]
id = "prod"
name = "Production"
login_url = "https://login.salesforce.com"
client_id = "abc"

# Account: what sales needs.
[source.objects.Account]
fields = ["Id", "IsDeleted", "SystemModstamp", "Name", "Website"] # reviewed in March

[source.objects.Contact]
fields = ["Id", "IsDeleted", "SystemModstamp", "Email", "Gone__c"]
"#;

fn config() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, CONFIG).unwrap();
    (dir, path)
}

fn run(path: &Path, action: FieldsAction) -> anyhow::Result<String> {
    let mut out = Vec::new();
    let code = run_with(path, "prod", &action, &org(), &mut out)?;
    assert_eq!(code, 0);
    Ok(String::from_utf8(out).unwrap())
}

fn select(patterns: &[&str]) -> FieldsAction {
    FieldsAction::Select {
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
    }
}

fn saved_fields(path: &Path, object: &str) -> Vec<String> {
    let config = syncdeck::config::load(path).unwrap();
    config.sources[0]
        .objects
        .get(object)
        .map(|o| o.fields.clone())
        .unwrap_or_default()
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn select_writes_through_the_editor_keeping_comments() {
    let (_dir, path) = config();
    let out = run(
        &path,
        select(&[
            "Opportunity.Amount",
            "Account.Bill*",
            "!Account.BillingLatitude",
        ]),
    )
    .unwrap();
    assert!(out.contains("+ Amount"), "{out}");
    assert!(out.contains("+ BillingCity"), "{out}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# Operators' notes stay in this file."));
    assert!(text.contains("# Account: what sales needs."));
    let account = saved_fields(&path, "Account");
    assert!(account.contains(&"BillingCity".to_string()));
    assert!(!account.contains(&"BillingLatitude".to_string()));
    assert_eq!(
        saved_fields(&path, "Opportunity"),
        ["Amount"],
        "bookkeeping fields are implied, not written"
    );
    // Contact was not touched: its field the org lacks is still there.
    assert!(saved_fields(&path, "Contact").contains(&"Gone__c".to_string()));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn deselect_removes_and_drops_objects_left_with_bookkeeping_only() {
    let (_dir, path) = config();
    run(
        &path,
        FieldsAction::Deselect {
            patterns: vec!["Account.*".into(), "!Account.Name".into()],
        },
    )
    .unwrap();
    assert_eq!(saved_fields(&path, "Account"), ["Name"]);
    run(
        &path,
        FieldsAction::Deselect {
            patterns: vec!["Account.Name".into()],
        },
    )
    .unwrap();
    assert!(saved_fields(&path, "Account").is_empty());
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("[source.objects.Account]")
    );
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn unknown_names_fail_with_the_closest_match_and_write_nothing() {
    let (_dir, path) = config();
    let err = run(&path, select(&["Acount.Name"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean \"Account\""), "{err}");
    let err = run(&path, select(&["Account.Webiste"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean \"Website\""), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), CONFIG);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn preset_dry_run_prints_the_diff_without_writing() {
    let (_dir, path) = config();
    let out = run(
        &path,
        FieldsAction::Preset {
            name: "minimal".into(),
            dry_run: true,
        },
    )
    .unwrap();
    assert!(out.starts_with("Would apply preset Minimal:"), "{out}");
    assert!(out.contains("+ CloseDate"), "{out}");
    assert!(
        out.contains("- Gone__c"),
        "saved fields the org lacks are shown: {out}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), CONFIG);
    let out = run(
        &path,
        FieldsAction::Preset {
            name: "Minimal".into(),
            dry_run: false,
        },
    )
    .unwrap();
    assert!(out.starts_with("Applied preset Minimal:"));
    assert!(saved_fields(&path, "Opportunity").contains(&"StageName".to_string()));
    assert!(!saved_fields(&path, "Contact").contains(&"Gone__c".to_string()));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn list_selected_as_json() {
    let (_dir, path) = config();
    let out = run(
        &path,
        FieldsAction::List {
            selected: true,
            json: true,
        },
    )
    .unwrap();
    let listing: serde_json::Value = serde_json::from_str(&out).unwrap();
    let objects: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["object"].as_str().unwrap())
        .collect();
    assert_eq!(objects, ["Account", "Contact"]);
    let names: Vec<&str> = listing[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Id", "IsDeleted", "Name", "SystemModstamp", "Website"]
    );
    assert_eq!(listing[0]["fields"][0]["locked"], true);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn list_as_text_marks_selected_fields() {
    let (_dir, path) = config();
    let out = run(
        &path,
        FieldsAction::List {
            selected: false,
            json: false,
        },
    )
    .unwrap();
    assert!(
        out.contains("Account  Account  5/68 selected  4500 records"),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("  [x] Website")));
    assert!(out.lines().any(|l| l.starts_with("  [ ] Industry")));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn unknown_source_lists_the_configured_ones() {
    let (_dir, path) = config();
    let mut out = Vec::new();
    let err = run_with(
        &path,
        "nope",
        &FieldsAction::List {
            selected: false,
            json: false,
        },
        &org(),
        &mut out,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("configured: prod"), "{err}");
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn the_binary_runs_fields_with_a_schema_file() {
    let (dir, path) = config();
    let schema = dir.path().join("schema.json");
    std::fs::write(&schema, serde_json::to_string(&*org()).unwrap()).unwrap();
    let syncdeck = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_syncdeck"))
            .arg("--config")
            .arg(&path)
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let schema = schema.to_str().unwrap();
    let out = syncdeck(&["fields", "prod", "--schema", schema, "select", "*.Name"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("+ Name"));
    assert!(saved_fields(&path, "Lead").contains(&"Name".to_string()));

    let out = syncdeck(&[
        "fields",
        "prod",
        "--schema",
        schema,
        "select",
        "Acount.Name",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"Account\""));

    let out = syncdeck(&["fields", "prod", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--schema FILE"));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn list_output_cannot_drive_the_terminal() {
    let (_dir, path) = config();
    let mut schema = (*org()).clone();
    schema.objects[0].label = "Acc\u{1b}]0;pwned\u{7}ount".into();
    schema.objects[0].fields[0].label = "Evil\u{1b}[2J label".into();
    let mut out = Vec::new();
    let action = FieldsAction::List {
        selected: false,
        json: false,
    };
    run_with(&path, "prod", &action, &schema, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
    assert!(
        text.contains("Evil␛[2J label"),
        "made visible, not obeyed: {text}"
    );
}
