use serde::Deserialize;
use serde_json::{Map, Value};

/// A record as Salesforce returns it: `attributes` plus the selected fields (explicit nulls).
pub type Record = Map<String, Value>;

/// One page of `query`/`queryAll`. `total_size` counts all pages; `next_records_url` is
/// absent on the last page and must be followed verbatim.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    pub total_size: u64,
    pub done: bool,
    #[serde(default)]
    pub records: Vec<Record>,
    #[serde(default)]
    pub next_records_url: Option<String>,
}
