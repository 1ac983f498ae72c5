//! REST records in Bulk 2.0's CSV forms, so a Bulk client's rows can be compared with what
//! the REST API returns for the same SOQL at the same moment.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Org;

/// A REST record's value as Bulk CSV text: null empty, datetimes in `Z` form.
pub fn bulk_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => match s.strip_suffix("+0000") {
            Some(dt) if s.len() == 28 && s.as_bytes()[10] == b'T' => format!("{dt}Z"),
            _ => s.clone(),
        },
        other => other.to_string(),
    }
}

/// REST records keyed by Id, each as the Bulk CSV row (in `header` order) it must equal.
pub async fn rest_rows(
    org: &Org,
    endpoint: &str,
    soql: &str,
    header: &[String],
) -> BTreeMap<String, Vec<String>> {
    let pages = org.query_all_pages(endpoint, soql, None).await;
    pages
        .iter()
        .flat_map(|p| p["records"].as_array().unwrap().clone())
        .map(|r| {
            let row: Vec<String> = header.iter().map(|f| bulk_text(&r[f.as_str()])).collect();
            (r["Id"].as_str().unwrap().to_string(), row)
        })
        .collect()
}
