//! Schema sources and describe payloads compared with real recorded Salesforce payloads.

mod sandbox_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use sandbox_support::*;
use serde_json::Value;
use syncdeck::sandbox::{Sandbox, SandboxConfig, SandboxError, SchemaSource};

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(recorded::path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
async fn query_output_matches_the_recorded_account_payload() {
    let recorded = fixture("query_Account_42fields_cci.json");
    let rec = &recorded["records"][0];
    let fields: Vec<&String> = rec
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "attributes")
        .collect();
    let soql = format!(
        "SELECT {} FROM Account",
        fields
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let org = Org::start(config(&[("Account", 300)])).await;
    let body: Value = org.query_json("query", &soql).await;
    assert_eq!(keys(&body), keys(&recorded), "top-level keys");
    let ours = body["records"].as_array().unwrap();
    // Per field: the recorded type wherever both sides have a value; some row has a value
    // for every field the recording shows one for.
    let mut seen_kinds: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for r in ours {
        assert_eq!(keys(r), keys(rec), "record key set");
        assert_eq!(keys(&r["attributes"]), keys(&rec["attributes"]));
        for f in &fields {
            seen_kinds
                .entry(f.to_string())
                .or_default()
                .insert(kind(&r[f.as_str()]));
        }
    }
    for recorded_row in recorded["records"].as_array().unwrap() {
        for f in &fields {
            let k = kind(&recorded_row[f.as_str()]);
            if k != "null" {
                assert!(
                    seen_kinds[f.as_str()].contains(k),
                    "{f}: recorded {k}, sandbox {:?}",
                    seen_kinds[f.as_str()]
                );
                assert!(
                    seen_kinds[f.as_str()]
                        .iter()
                        .all(|s| *s == k || *s == "null"),
                    "{f}"
                );
            }
        }
    }
    org.handle.shutdown().await;
}

#[tokio::test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
async fn builtin_describe_has_every_key_salesforce_sends() {
    let recorded = fixture("describe_Account_cci.json");
    let org = Org::start(config(&[("Account", 1)])).await;
    let ours = org
        .get_json("/services/data/v62.0/sobjects/Account/describe/")
        .await;
    assert_eq!(keys(&ours), keys(&recorded), "top-level describe keys");
    let recorded_field_keys = keys(&recorded["fields"][0]);
    let ours_fields = ours["fields"].as_array().unwrap();
    assert!(ours_fields.len() >= 60);
    for f in ours_fields {
        assert_eq!(keys(f), recorded_field_keys, "field {}", f["name"]);
    }
    // Field by field, shared fields agree on type and on the compound relationship.
    let by_name: BTreeMap<&str, &Value> = ours_fields
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f))
        .collect();
    let mut shared = 0;
    for rf in recorded["fields"].as_array().unwrap() {
        if let Some(of) = by_name.get(rf["name"].as_str().unwrap()) {
            shared += 1;
            for k in [
                "type",
                "soapType",
                "compoundFieldName",
                "nillable",
                "referenceTo",
            ] {
                assert_eq!(of[k], rf[k], "{}.{k}", rf["name"]);
            }
        }
    }
    assert!(shared >= 55, "{shared}");
    assert!(
        ours_fields
            .iter()
            .any(|f| f["calculated"] == true && f["calculatedFormula"].is_string())
    );
    let industry = by_name["Industry"];
    assert_eq!(industry["picklistValues"].as_array().unwrap().len(), 32);
    assert_eq!(
        keys(&industry["picklistValues"][0]),
        keys(
            &recorded["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == "Industry")
                .unwrap()["picklistValues"][0]
        )
    );

    let global = org.get_json("/services/data/v62.0/sobjects").await;
    let recorded_global = fixture("describeGlobal_cci_v52_subset.json");
    assert_eq!(keys(&global), keys(&recorded_global));
    let entry_keys = keys(&recorded_global["sobjects"][0]);
    for o in global["sobjects"].as_array().unwrap() {
        assert_eq!(keys(o), entry_keys, "{}", o["name"]);
    }
    org.handle.shutdown().await;
}

#[tokio::test]
async fn describe_honours_if_modified_since() {
    let org = Org::start(config(&[("Account", 1)])).await;
    let first = org
        .get("/services/data/v62.0/sobjects/Account/describe")
        .await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let last_modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_string();
    for (h, v) in [
        ("If-Modified-Since", last_modified.as_str()),
        ("If-None-Match", etag.as_str()),
    ] {
        let r = org
            .http
            .get(org.url("/services/data/v62.0/sobjects/Account/describe"))
            .bearer_auth(&org.token)
            .header(h, v)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{h}");
        assert_eq!(r.headers()["etag"], etag.as_str());
        assert_eq!(r.headers()["last-modified"], last_modified.as_str());
        assert!(r.headers().get("sforce-limit-info").is_some());
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let old = org
        .http
        .get(org.url("/services/data/v62.0/sobjects/"))
        .bearer_auth(&org.token)
        .header("If-Modified-Since", "Fri, 14 Aug 2020 20:53:02 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 200);
    org.handle.shutdown().await;
}

#[tokio::test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
async fn schema_dir_loads_every_recorded_describe() {
    let files: Vec<PathBuf> = std::fs::read_dir(recorded::dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("describe_")
        })
        .collect();
    assert!(files.len() >= 7);
    let cfg = SandboxConfig {
        schema: SchemaSource::Dir(recorded::dir()),
        ..config(&[("Account", 2500)])
    };
    let org = Org::start(cfg).await;
    let global = org.get_json("/services/data/v62.0/sobjects").await;
    let names: BTreeSet<String> = global["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    for f in &files {
        let recorded: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let name = recorded["name"].as_str().unwrap();
        assert!(names.contains(name), "{name} loaded");
        let served = org
            .get_json(&format!("/services/data/v62.0/sobjects/{name}/describe"))
            .await;
        assert_eq!(served, recorded, "{name} describe served as recorded");
        let q: Value = org
            .query_json("query", &format!("SELECT Id FROM {name} LIMIT 3"))
            .await;
        assert_eq!(q["records"].as_array().unwrap().len(), 3, "{name} has rows");
    }
    let pages = org
        .query_all_pages(
            "query",
            "SELECT Id, Name, BillingAddress, Primary_Contact__c FROM Account",
            None,
        )
        .await;
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[0]["records"][0]["Id"].as_str().unwrap().get(..3),
        Some("001")
    );
    org.handle.shutdown().await;
}

#[tokio::test]
async fn synthetic_org_and_bad_schema_sources() {
    let cfg = SandboxConfig {
        schema: SchemaSource::Synthetic {
            objects: 800,
            fields_per_object: 60,
        },
        ..config(&[])
    };
    let org = Org::start(cfg).await;
    let global = org.get_json("/services/data/v62.0/sobjects").await;
    assert_eq!(global["sobjects"].as_array().unwrap().len(), 800);
    let d = org
        .get_json("/services/data/v62.0/sobjects/Synthetic0800__c/describe")
        .await;
    assert_eq!(d["fields"].as_array().unwrap().len(), 60);
    let q: Value = org
        .query_json(
            "query",
            "SELECT Id, Name, Field001__c, SystemModstamp FROM Synthetic0042__c",
        )
        .await;
    assert_eq!(q["totalSize"], 200);
    org.handle.shutdown().await;

    let empty = tempfile::tempdir().unwrap();
    let err = Sandbox::start(SandboxConfig {
        schema: SchemaSource::Dir(empty.path().into()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, SandboxError::Schema(ref m) if m.contains("no describe_*.json")),
        "{err}"
    );
    let remote = Sandbox::start(SandboxConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(remote, SandboxError::RemoteBindRefused(_)));
}
