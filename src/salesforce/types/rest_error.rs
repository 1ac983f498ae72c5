use serde::Deserialize;

/// One element of Salesforce's REST error array `[{"message","errorCode","fields"}]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestError {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}
