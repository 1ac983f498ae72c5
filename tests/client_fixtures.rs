//! Every recorded Salesforce payload (see `tests/recorded`) deserializes into the client's
//! types (unknown keys ignored, nullable keys tolerated, polymorphic defaultValue).

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::Value;
use syncdeck::model::parse_datetime;
use syncdeck::salesforce::Error;
use syncdeck::salesforce::errors::{ErrorClass, Fault};
use syncdeck::salesforce::types::{
    Describe, DescribeGlobal, Limits, OAuthErrorBody, QueryPage, RecordCounts, RestError,
    TokenBody, Version,
};

#[path = "recorded/mod.rs"]
mod recorded;

fn dir() -> PathBuf {
    recorded::dir()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn parse<T: DeserializeOwned>(name: &str, bytes: &[u8]) -> T {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A query page through the client's compact parser, checked against a plain JSON parse:
/// every record holds the same keys (but `attributes`) with the same values.
fn parse_page(name: &str, bytes: &[u8]) -> QueryPage {
    let page = QueryPage::from_json(bytes.to_vec()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let plain: Value = parse(name, bytes);
    let expected: Vec<Value> = plain["records"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().map(|o| o.remove("attributes"));
            r
        })
        .collect();
    let got: Vec<Value> = page
        .records
        .to_maps()
        .into_iter()
        .map(Value::Object)
        .collect();
    assert_eq!(got, expected, "{name}");
    page
}

/// Recorded composite calls wrap the response; sub-bodies are checked by their shape.
fn check_composite_body(name: &str, status: u16, body: &Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    match status {
        200 => {
            let page = parse_page(name, &bytes);
            assert!(page.done);
        }
        304 => assert!(body.is_null(), "{name}"),
        _ => {
            let errors: Vec<RestError> = parse(name, &bytes);
            assert!(!errors[0].error_code.is_empty(), "{name}");
            let err = Error::from_response(status, &bytes);
            assert_eq!(err.class(), ErrorClass::Fatal, "{name}");
        }
    }
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn every_fixture_deserializes() {
    let mut seen = 0;
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    for name in &names {
        let bytes = read(name);
        let n = name.as_str();
        if n.starts_with("describeGlobal_") {
            let global: DescribeGlobal = parse(n, &bytes);
            assert_eq!(global.sobjects.len(), 110);
            assert_eq!(
                global
                    .sobjects
                    .iter()
                    .filter(|o| o.key_prefix.is_none())
                    .count(),
                55
            );
        } else if n.starts_with("describe_") {
            let describe: Describe = parse(n, &bytes);
            assert!(!describe.fields.is_empty(), "{n}");
            assert!(describe.field("Id").is_some(), "{n}");
        } else if n.starts_with("query_") {
            let page = parse_page(n, &bytes);
            assert!(page.total_size as usize >= page.records.len(), "{n}");
            assert_eq!(page.done, page.next_records_url.is_none(), "{n}");
        } else if n == "limits_recordCount_cci.json" {
            let counts: RecordCounts = parse(n, &bytes);
            assert_eq!(counts.sobjects[0].name, "Account");
        } else if n.starts_with("limits_") {
            let limits: Limits = parse(n, &bytes);
            assert_eq!(limits.daily_api_requests.max, 15000);
            assert_eq!(limits.daily_api_requests.remaining, 14998);
        } else if n.starts_with("error_") {
            let errors: Vec<RestError> = parse(n, &bytes);
            assert!(!errors[0].error_code.is_empty(), "{n}");
            assert!(!Fault::from_rest_body(400, &bytes).message.is_empty());
        } else if n == "oauth_password_token_success_restforce.json" {
            let token: TokenBody = parse(n, &bytes);
            assert_eq!(token.instance_url, "https://na1.salesforce.com");
            assert_eq!(token.user_id(), Some("005x00000012Q9P"));
            assert_eq!(token.issued_at.as_deref(), Some("1278448832702"));
            assert!(
                !format!("{token:?}").contains("AR8AQAxo9Uf"),
                "token leaks in Debug"
            );
        } else if n.starts_with("oauth_") {
            let err: OAuthErrorBody = parse(n, &bytes);
            assert_eq!(err.error, "invalid_grant");
        } else if n.starts_with("versions_") {
            let versions: Vec<Version> = parse(n, &bytes);
            assert_eq!(versions[0].version, "20.0");
        } else if n.starts_with("composite_") {
            let wrapper: Value = parse(n, &bytes);
            for sub in wrapper["response"]["compositeResponse"].as_array().unwrap() {
                let status = sub["httpStatusCode"].as_u64().unwrap() as u16;
                check_composite_body(n, status, &sub["body"]);
            }
        } else if n.starts_with("sobject_deleted_") {
            let log: syncdeck::salesforce::types::DeletedRecords = parse(n, &bytes);
            assert!(!log.deleted_records.is_empty(), "{n}");
            assert!(log.earliest_date_available < log.latest_date_covered, "{n}");
        } else if n.starts_with("sobject_updated_") {
            let updated: syncdeck::salesforce::types::UpdatedIds = parse(n, &bytes);
            assert!(!updated.ids.is_empty(), "{n}");
        } else if n.starts_with("record_") || n.starts_with("sobject_") {
            // Records are not client types; their datetimes are.
            let value: Value = parse(n, &bytes);
            let stamp = value
                .get("SystemModstamp")
                .or_else(|| value.get("latestDateCovered"))
                .and_then(Value::as_str)
                .unwrap();
            parse_datetime(stamp).unwrap_or_else(|e| panic!("{n}: {e}"));
        } else if n.starts_with("bulk2_job_") {
            // Bulk API 2.0 has no client type yet; the job shape every reader relies on is.
            let job: Value = parse(n, &bytes);
            for key in [
                "id",
                "operation",
                "object",
                "state",
                "contentType",
                "apiVersion",
            ] {
                assert!(job.get(key).is_some(), "{n}: no {key}");
            }
            parse_datetime(job["createdDate"].as_str().unwrap())
                .unwrap_or_else(|e| panic!("{n}: {e}"));
        } else {
            panic!("fixture {n} is not covered by this test; add it");
        }
        seen += 1;
    }
    assert_eq!(seen, names.len());
    assert!(
        seen >= 30,
        "only {seen} fixtures found in {}",
        dir().display()
    );
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn describe_details_survive() {
    let account: Describe = parse("Account", &read("describe_Account_cci.json"));
    assert_eq!(account.fields.len(), 68);
    let billing = account.field("BillingAddress").unwrap();
    assert!(billing.is_compound());
    let street = account.field("BillingStreet").unwrap();
    assert_eq!(
        street.compound_field_name.as_deref(),
        Some("BillingAddress")
    );
    assert!(account.has_system_modstamp());
    // defaultValue is polymorphic: null, bool or string across the fixtures.
    let kinds: std::collections::BTreeSet<&str> = [
        "describe_Account_cci.json",
        "describe_Lead_cci.json",
        "describe_Case_cci.json",
        "describe_Custom__c_cci.json",
        "describe_Opportunity_cci.json",
        "describe_Contact_cci.json",
    ]
    .iter()
    .flat_map(|n| {
        let d: Describe = parse(n, &read(n));
        d.fields
            .into_iter()
            .map(|f| match f.default_value {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::String(_) => "string",
                _ => "other",
            })
            .collect::<Vec<_>>()
    })
    .collect();
    assert!(
        kinds.contains("null") && kinds.contains("bool"),
        "{kinds:?}"
    );
    let lead: Describe = parse("Lead", &read("describe_Lead_cci.json"));
    let owner = lead.field("OwnerId").unwrap();
    assert!(owner.reference_to.len() >= 2, "{:?}", owner.reference_to);
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn record_datetimes_parse() {
    let page = parse_page("rel", &read("query_with_relationships_restforce.json"));
    let stamp = page
        .records
        .row(0)
        .unwrap()
        .get("DateTime_Label")
        .unwrap()
        .as_str()
        .unwrap();
    assert_eq!(
        parse_datetime(stamp).unwrap().to_rfc3339(),
        "2011-07-07T00:37:00+00:00"
    );
}
