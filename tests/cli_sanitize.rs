//! Terminal control characters from the org, the store or the config never reach the
//! terminal through the CLI: the real binary against a sandbox whose describe labels carry
//! escape sequences, bidi overrides and zero-width characters.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use syncdeck::sandbox::{Sandbox, SandboxConfig, SchemaSource};

const OBJECT_LABEL: &str = "Acc\u{1b}]0;owned\u{7}ount\u{202E}";
const FIELD_LABEL: &str = "Account \u{1b}[2JName\u{2066}\u{200B}";

/// Characters that must never be written raw.
fn forbidden(c: char) -> bool {
    matches!(c, '\u{1b}' | '\u{7}' | '\u{9b}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}')
}

fn assert_clean(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.chars().any(forbidden),
            "{what}: a control character reached {stream}:\n{text:?}"
        );
    }
}

/// An Account describe (the keys the sandbox and the client read) with hostile object and
/// field labels.
fn hostile_schema_dir(dir: &Path) {
    let field = |name: &str, label: &str, field_type: &str| {
        serde_json::json!({
            "name": name, "label": label, "type": field_type, "length": 255,
            "nillable": name != "Id", "filterable": true, "sortable": true,
            "createable": name == "Name", "updateable": name == "Name",
        })
    };
    let describe = serde_json::json!({
        "name": "Account",
        "label": OBJECT_LABEL,
        "labelPlural": "Accounts",
        "keyPrefix": "001",
        "custom": false,
        "queryable": true,
        "retrieveable": true,
        "replicateable": true,
        "fields": [
            field("Id", "Account ID", "id"),
            field("IsDeleted", "Deleted", "boolean"),
            field("Name", FIELD_LABEL, "string"),
            field("SystemModstamp", "System Modstamp", "datetime"),
            field("LastModifiedDate", "Last Modified Date", "datetime"),
            field("CreatedDate", "Created Date", "datetime"),
        ],
    });
    std::fs::write(
        dir.join("describe_Account.json"),
        serde_json::to_string(&describe).unwrap(),
    )
    .unwrap();
}

fn syncdeck_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_syncdeck"))
        .arg("--config")
        .arg(root.join("config.toml"))
        .arg("--data-dir")
        .arg(root.join("data"))
        .args(args)
        .env_remove("SYNCDECK_CONFIG")
        .env_remove("SYNCDECK_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

async fn run(root: &Path, args: &[&str]) -> Output {
    let root = root.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        syncdeck_in(&root, &args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cli_output_carries_control_characters() {
    let schema_dir = tempfile::tempdir().unwrap();
    hostile_schema_dir(schema_dir.path());
    let sb = Sandbox::start(SandboxConfig {
        schema: SchemaSource::Dir(schema_dir.path().to_path_buf()),
        auto_approve: Some(Duration::ZERO),
        device_poll_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    // TOML's \u escapes let the config itself carry control characters.
    let config = format!(
        "[[source]]\nid = \"trial\"\nname = \"Trial\\u001B]0;cfg\\u0007 org\\u202E\"\nlogin_url = \"{}\"\nclient_id = \"{}\"\nfrequency = \"manual\"\n\n[source.objects.Account]\nfields = [\"Name\"]\n",
        sb.base_url(),
        sb.client_id()
    );
    std::fs::write(root.path().join("config.toml"), config).unwrap();
    let root = root.path();

    let check = run(root, &["config", "check"]).await;
    assert_clean("config check", &check);
    let checked = String::from_utf8_lossy(&check.stdout);
    assert!(checked.contains("Trial␛]0;cfg␇ org"), "{checked}");

    let auth = run(root, &["auth", "trial"]).await;
    assert_eq!(auth.status.code(), Some(0), "{auth:?}");
    assert_clean("auth", &auth);

    let objects = run(root, &["schema", "trial"]).await;
    assert_eq!(objects.status.code(), Some(0), "{objects:?}");
    assert_clean("schema", &objects);
    let listing = String::from_utf8_lossy(&objects.stdout);
    assert!(listing.contains("Acc␛]0;owned␇ount\\u{202E}"), "{listing}");

    let fields = run(root, &["schema", "trial", "--object", "Account"]).await;
    assert_eq!(fields.status.code(), Some(0), "{fields:?}");
    assert_clean("schema --object", &fields);
    assert!(String::from_utf8_lossy(&fields.stdout).contains("Account ␛[2JName"));

    // JSON stays valid and decodes to the org's exact label.
    let json = run(root, &["schema", "trial", "--object", "Account", "--json"]).await;
    assert_clean("schema --json", &json);
    let account: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(account["label"], OBJECT_LABEL);

    // `fields` on that schema (as an org schema file).
    let schema_file = root.join("org-schema.json");
    std::fs::write(
        &schema_file,
        serde_json::to_string(&serde_json::json!({ "objects": [account] })).unwrap(),
    )
    .unwrap();
    let schema_arg = schema_file.to_string_lossy().into_owned();
    for args in [
        vec!["fields", "trial", "--schema", &schema_arg, "list"],
        vec!["fields", "trial", "--schema", &schema_arg, "list", "--json"],
    ] {
        let listed = run(root, &args).await;
        assert_eq!(listed.status.code(), Some(0), "{listed:?}");
        assert_clean("fields list", &listed);
    }

    let sync = run(root, &["sync", "trial"]).await;
    assert_eq!(sync.status.code(), Some(0), "{sync:?}");
    assert_clean("sync", &sync);

    for args in [vec!["status"], vec!["status", "--json"]] {
        let status = run(root, &args).await;
        assert_eq!(status.status.code(), Some(0), "{status:?}");
        assert_clean("status", &status);
    }
    let status = run(root, &["status", "--json"]).await;
    let sources: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(sources[0]["name"], "Trial\u{1b}]0;cfg\u{7} org\u{202E}");

    // An error quoting what the operator typed and the org answered.
    let missing = run(
        root,
        &["schema", "trial", "--object", "Ev\u{1b}[2Jil\u{202E}"],
    )
    .await;
    assert_ne!(missing.status.code(), Some(0));
    assert_clean("schema error", &missing);
}
