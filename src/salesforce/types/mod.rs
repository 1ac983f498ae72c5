//! Serde types for the Salesforce wire format. Unknown keys are ignored everywhere, nullable
//! keys are `Option`, and shapes that vary (describe `urls`, `defaultValue`, records) stay as
//! JSON values so a new API version cannot break deserialization.

mod composite;
mod datetime;
mod describe;
mod limits;
mod oauth;
mod query;
mod records;
mod replication;
mod rest_error;

pub use composite::{CompositeResponse, CompositeResult};
pub use datetime::format_soql_datetime;
pub use describe::{
    ChildRelationship, Describe, DescribeGlobal, Field, GlobalSObject, PicklistValue,
    RecordTypeInfo,
};
pub use limits::{Limit, Limits, RecordCount, RecordCounts};
pub use oauth::{
    DeviceAuthorization, MAX_DEVICE_WINDOW, MAX_POLL_INTERVAL, OAuthErrorBody, TokenBody,
};
pub use query::{MAX_PAGE_FIELDS, QueryPage, Record};
pub use replication::{DeletedRecord, DeletedRecords, UpdatedIds};
pub use rest_error::RestError;

use serde::Deserialize;

/// One entry of `GET /services/data/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Version {
    pub version: String,
    pub url: String,
    #[serde(default)]
    pub label: Option<String>,
}
