use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// One entry of `GET /limits/`. Entries can carry per-connected-app objects beside
/// `Max`/`Remaining`, kept in `other`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Limit {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `GET /services/data/vXX.X/limits/`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Limits {
    #[serde(rename = "DailyApiRequests")]
    pub daily_api_requests: Limit,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `GET /limits/recordCount?sObjects=...`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordCounts {
    #[serde(rename = "sObjects", default)]
    pub sobjects: Vec<RecordCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordCount {
    pub name: String,
    pub count: u64,
}
