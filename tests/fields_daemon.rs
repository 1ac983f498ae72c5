//! `syncdeck fields` against a running daemon: the schema comes from it (described on
//! demand) and a saved change reaches it as a reload.

mod fields_support;
#[path = "remote_support/mod.rs"]
mod remote_support;

use fields_support::org;
use remote_support::{start_daemon, wait_for};
use syncdeck::cli::fields::{FieldsAction, FieldsArgs, run_async};
use syncdeck::config::Paths;

const CONFIG: &str = r#"# kept
[[source]]
id = "prod"
name = "Production"
login_url = "https://login.salesforce.com"
client_id = "abc"

[source.objects.Account]
fields = ["Name"]
"#;

fn args(action: FieldsAction) -> FieldsArgs {
    FieldsArgs {
        source: "prod".into(),
        schema: None,
        action,
    }
}

#[tokio::test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
async fn select_uses_the_daemons_schema_and_reloads_it() {
    let daemon = start_daemon(&["prod"]).await;
    let paths = Paths::under(daemon.dir.path());
    std::fs::write(&paths.config_file, CONFIG).unwrap();
    daemon.publisher.send_modify(|s| {
        s.sources[0].schema = Some(org());
        s.version += 1;
    });
    let mut out = Vec::new();
    let action = FieldsAction::Select {
        patterns: vec!["Lead.Email".into()],
    };
    let code = run_async(&paths, &args(action), &mut out).await.unwrap();
    assert_eq!(code, 0);
    assert!(String::from_utf8_lossy(&out).contains("+ Email"));
    let config = syncdeck::config::load(&paths.config_file).unwrap();
    assert_eq!(config.sources[0].objects["Lead"].fields, ["Email"]);
    // The fake engine takes the source's name from a reloaded config.
    let mut engine = daemon.publisher.subscribe();
    wait_for(&mut engine, "the reload", |s| {
        s.source("prod").unwrap().name == "Production"
    })
    .await;
}

#[tokio::test]
async fn without_a_schema_the_daemon_is_asked_to_describe_the_org() {
    let daemon = start_daemon(&["prod"]).await;
    let paths = Paths::under(daemon.dir.path());
    std::fs::write(&paths.config_file, CONFIG).unwrap();
    let mut out = Vec::new();
    let action = FieldsAction::List {
        selected: false,
        json: true,
    };
    let code = run_async(&paths, &args(action), &mut out).await.unwrap();
    assert_eq!(code, 0);
    let listing: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(listing[0]["object"], "Account", "the fake engine's schema");
    // Listing writes nothing, so the engine got no reload.
    assert_eq!(
        daemon.publisher.borrow().source("prod").unwrap().name,
        "prod org"
    );
}

#[tokio::test]
async fn an_unknown_source_is_named() {
    let daemon = start_daemon(&["prod"]).await;
    let paths = Paths::under(daemon.dir.path());
    std::fs::write(&paths.config_file, CONFIG).unwrap();
    let mut out = Vec::new();
    let mut a = args(FieldsAction::List {
        selected: false,
        json: false,
    });
    a.source = "nope".into();
    let err = run_async(&paths, &a, &mut out)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no source \"nope\""), "{err}");
}

#[tokio::test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
async fn select_on_an_undescribed_object_asks_the_daemon_to_describe_it() {
    let daemon = start_daemon(&["prod"]).await;
    let paths = Paths::under(daemon.dir.path());
    std::fs::write(&paths.config_file, CONFIG).unwrap();
    let mut partial = (*org()).clone();
    let opportunity = partial.objects.iter_mut().find(|o| o.name == "Opportunity");
    opportunity.unwrap().fields.clear();
    daemon.publisher.send_modify(|s| {
        s.sources[0].schema = Some(std::sync::Arc::new(partial));
        s.version += 1;
    });
    let mut out = Vec::new();
    let action = FieldsAction::Select {
        patterns: vec!["Opportunity.Name".into()],
    };
    let code = run_async(&paths, &args(action), &mut out).await.unwrap();
    assert_eq!(code, 0);
    assert!(String::from_utf8_lossy(&out).contains("+ Name"));
    let config = syncdeck::config::load(&paths.config_file).unwrap();
    assert_eq!(config.sources[0].objects["Opportunity"].fields, ["Name"]);
}
