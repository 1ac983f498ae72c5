//! `syncdeck fields` without a daemon: the org is described with the stored credentials
//! through the store's describe cache and the engine's quota guard; `--schema FILE` takes
//! what `syncdeck schema --json` prints; objects not yet described say so.

mod common;

use common::*;
use syncdeck::cli::fields::{FieldsAction, run_with};
use syncdeck::model::{FieldSchema, ObjectSchema, OrgSchema};

fn describe_calls(org: &Org) -> usize {
    org.sandbox
        .calls()
        .iter()
        .filter(|c| c.path.contains("/describe") || c.path.contains("/composite"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_right_after_auth_describes_the_org_and_reuses_the_cache() {
    let org = org(sandbox_config(&[("Account", 50), ("Contact", 50)])).await;
    let source = org.source("acme", &[("Account", &["Name"])]);
    org.write_config(&config_of(vec![source.clone()]));

    let (code, _, err) = cli(&org, &["fields", "acme", "list"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("run `syncdeck auth acme`"), "{err}");

    org.connect(&source).await;
    let (code, out, err) = cli(&org, &["fields", "acme", "list"]).await;
    assert_eq!(code, 0, "{err}");
    let account = out
        .lines()
        .find(|l| l.starts_with("Account  "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        account.contains("4/"),
        "configured and described: {account}"
    );
    assert!(account.contains("50 records"), "{account}");
    let contact = out
        .lines()
        .find(|l| l.starts_with("Contact  "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        contact.ends_with("0 selected · fields not loaded"),
        "{contact}"
    );
    let described = describe_calls(&org);
    assert!(described > 0);

    // A pattern naming an undescribed object describes it, then writes the config.
    let (code, out, err) = cli(&org, &["fields", "acme", "select", "Contact.Email"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Contact  +") && out.contains("Email"), "{out}");
    let config = syncdeck::config::load(&org.paths.config_file).unwrap();
    let contact = &config.source("acme").unwrap().objects["Contact"];
    assert!(contact.fields.iter().any(|f| f == "Email"), "{contact:?}");

    // Both describes are now in the store's cache: listing again asks the org for none.
    let before = describe_calls(&org);
    let (code, out, _) = cli(&org, &["fields", "acme", "list", "--selected"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("[x] Email"), "{out}");
    assert_eq!(
        describe_calls(&org),
        before,
        "describes came from the cache"
    );

    // A preset's objects (Opportunity here) are described too, so its fields are checked.
    let before = describe_calls(&org);
    let (code, out, err) = cli(&org, &["fields", "acme", "preset", "Sales", "--dry-run"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("Would apply preset Sales:"), "{out}");
    assert!(out.contains("Opportunity  +"), "{out}");
    assert!(
        describe_calls(&org) > before,
        "the preset's new objects were described"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_guard_stops_describes_above_the_threshold() {
    let org = org(sandbox_config(&[("Account", 50)])).await;
    let source = org.source("acme", &[("Account", &["Name"])]);
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    org.sandbox.set_quota(Some(990), Some(1_000));
    let before = describe_calls(&org);
    let (code, out, err) = cli(&org, &["fields", "acme", "list"]).await;
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("80% threshold"), "{err}");
    assert_eq!(describe_calls(&org), before, "no describe past the guard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_json_output_is_accepted_as_the_schema_file() {
    let org = org(sandbox_config(&[("Account", 50)])).await;
    let source = org.source("acme", &[("Account", &["Name", "Industry"])]);
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;

    let (code, objects, err) = cli(&org, &["schema", "acme", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let objects_file = org.root.path().join("objects.json");
    std::fs::write(&objects_file, &objects).unwrap();
    let (code, out, err) = cli(
        &org,
        &[
            "fields",
            "acme",
            "--schema",
            objects_file.to_str().unwrap(),
            "list",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("Account  ") && l.ends_with("2 selected · fields not loaded")),
        "{out}"
    );

    let (code, account, err) =
        cli(&org, &["schema", "acme", "--object", "Account", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let account_file = org.root.path().join("account.json");
    std::fs::write(&account_file, &account).unwrap();
    let (code, out, err) = cli(
        &org,
        &[
            "fields",
            "acme",
            "--schema",
            account_file.to_str().unwrap(),
            "select",
            "Account.Website",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let config = syncdeck::config::load(&org.paths.config_file).unwrap();
    let fields = &config.source("acme").unwrap().objects["Account"].fields;
    assert!(fields.iter().any(|f| f == "Website"), "{fields:?}");

    let bad = org.root.path().join("bad.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let (code, _, err) = cli(
        &org,
        &["fields", "acme", "--schema", bad.to_str().unwrap(), "list"],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("syncdeck schema SOURCE --json"), "{err}");
}

#[test]
fn undescribed_objects_list_their_configured_count_not_a_fraction_of_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[[source]]\nid = \"prod\"\nname = \"Prod\"\nlogin_url = \"https://login.salesforce.com\"\nclient_id = \"abc\"\n\n\
         [source.objects.Account]\nfields = [\"Name\"]\n\n\
         [source.objects.Contact]\nfields = [\"FirstName\", \"LastName\", \"Email\", \"Phone\", \"Title\"]\n",
    )
    .unwrap();
    let field = |name: &str| FieldSchema {
        name: name.into(),
        label: name.into(),
        field_type: "string".into(),
        filterable: true,
        ..FieldSchema::default()
    };
    let schema = OrgSchema {
        objects: vec![
            ObjectSchema {
                name: "Account".into(),
                label: "Account".into(),
                fields: ["Id", "IsDeleted", "Name", "SystemModstamp", "Website"]
                    .map(field)
                    .to_vec(),
                ..ObjectSchema::default()
            },
            ObjectSchema {
                name: "Contact".into(),
                label: "Contact".into(),
                ..ObjectSchema::default()
            },
        ],
    };
    let list = FieldsAction::List {
        selected: false,
        json: false,
    };
    let mut out = Vec::new();
    run_with(&path, "prod", &list, &schema, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Account  Account  4/5 selected"), "{text}");
    assert!(
        text.contains("Contact  Contact  5 selected · fields not loaded"),
        "{text}"
    );
    assert!(!text.contains("/0 selected"), "{text}");

    let json = FieldsAction::List {
        selected: false,
        json: true,
    };
    let mut out = Vec::new();
    run_with(&path, "prod", &json, &schema, &mut out).unwrap();
    let listing: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(listing[1]["object"], "Contact");
    assert_eq!(listing[1]["fields_loaded"], false);
    assert_eq!(listing[1]["selected"], 5);
}
