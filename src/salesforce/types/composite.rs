use serde::Deserialize;
use serde_json::Value;

/// `POST /composite/batch` response: the top level is 200 even when sub-requests fail.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    #[serde(default)]
    pub has_errors: bool,
    pub results: Vec<BatchResult>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResult {
    pub status_code: u16,
    /// The sub-response body: the resource, a REST error array, or null (304).
    #[serde(default)]
    pub result: Value,
}
