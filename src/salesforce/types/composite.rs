use serde::Deserialize;
use serde_json::Value;

/// `POST /composite` response: the top level is 200 even when subrequests fail, and the
/// whole request counted as one API call.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeResponse {
    pub composite_response: Vec<CompositeResult>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeResult {
    /// The subrequest's body: the resource, a REST error array, or null (304).
    #[serde(default)]
    pub body: Value,
    /// Validators such as `Last-Modified` and `ETag`.
    #[serde(default)]
    pub http_headers: serde_json::Map<String, Value>,
    pub http_status_code: u16,
    pub reference_id: String,
}

impl CompositeResult {
    /// A header of the subresponse, matched without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.http_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }
}
