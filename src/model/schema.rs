//! The org schema as the UI needs it: objects and their fields with the flags the field
//! tree shows. Built by the engine from describe results; shared as `Arc<OrgSchema>`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgSchema {
    /// Queryable objects, sorted by API name.
    pub objects: Vec<ObjectSchema>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectSchema {
    pub name: String,
    pub label: String,
    pub custom: bool,
    /// Known record count (limits/recordCount), when fetched.
    pub record_count: Option<u64>,
    /// Fields, sorted by API name. Empty until the object's describe is loaded.
    pub fields: Vec<FieldSchema>,
    /// Why the last attempt to load the fields failed; cleared when they load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldSchema {
    pub name: String,
    pub label: String,
    /// Salesforce type name: id, string, boolean, datetime, reference, address...
    pub field_type: String,
    pub custom: bool,
    /// `calculated: true` in describe: formula fields may go stale.
    pub formula: bool,
    /// Compound fields (address, location) are split into components when stored.
    pub compound: bool,
    /// `nillable: false` and not defaulted on create.
    pub required: bool,
    pub filterable: bool,
    /// Name of the compound field this one is a component of (BillingCity → BillingAddress).
    pub compound_parent: Option<String>,
}
