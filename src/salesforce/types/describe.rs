use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /services/data/vXX.X/sobjects/`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeGlobal {
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    pub sobjects: Vec<GlobalSObject>,
}

/// One object of describeGlobal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalSObject {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub label_plural: Option<String>,
    /// Null for many virtual objects (`*ChangeEvent`, ...).
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub custom_setting: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub retrieveable: bool,
    #[serde(default)]
    pub replicateable: bool,
    #[serde(default)]
    pub deprecated_and_hidden: bool,
    /// Key set varies per object and version.
    #[serde(default)]
    pub urls: BTreeMap<String, String>,
}

impl GlobalSObject {
    /// Objects a sync can read: queryable, retrieveable and not hidden.
    pub fn is_sync_candidate(&self) -> bool {
        self.queryable && self.retrieveable && !self.deprecated_and_hidden
    }
}

/// `GET /services/data/vXX.X/sobjects/{Name}/describe/`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Describe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub label_plural: Option<String>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub retrieveable: bool,
    #[serde(default)]
    pub replicateable: bool,
    #[serde(default)]
    pub deprecated_and_hidden: bool,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub child_relationships: Vec<ChildRelationship>,
    #[serde(default)]
    pub record_type_infos: Vec<RecordTypeInfo>,
    #[serde(default)]
    pub urls: BTreeMap<String, String>,
}

impl Describe {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Incremental sync needs SystemModstamp; objects without it get full refreshes.
    pub fn has_system_modstamp(&self) -> bool {
        self.field("SystemModstamp").is_some()
    }
}

/// One field of a describe.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub soap_type: Option<String>,
    #[serde(default)]
    pub custom: bool,
    /// Formula fields (`calculated`) change without moving SystemModstamp.
    #[serde(default)]
    pub calculated: bool,
    #[serde(default)]
    pub calculated_formula: Option<String>,
    #[serde(default)]
    pub nillable: bool,
    #[serde(default)]
    pub defaulted_on_create: bool,
    #[serde(default)]
    pub filterable: bool,
    #[serde(default)]
    pub sortable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub length: Option<u64>,
    #[serde(default)]
    pub byte_length: Option<u64>,
    #[serde(default)]
    pub precision: Option<u32>,
    #[serde(default)]
    pub scale: Option<u32>,
    /// Set on components of a compound field (BillingCity → BillingAddress).
    #[serde(default)]
    pub compound_field_name: Option<String>,
    #[serde(default)]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub polymorphic_foreign_key: bool,
    /// Polymorphic on the wire: null, boolean or string.
    #[serde(default)]
    pub default_value: Value,
    #[serde(default)]
    pub picklist_values: Vec<PicklistValue>,
    #[serde(default)]
    pub deprecated_and_hidden: bool,
}

impl Field {
    /// Address and geolocation fields are compounds of other fields.
    pub fn is_compound(&self) -> bool {
        matches!(self.field_type.as_str(), "address" | "location")
    }

    /// Required on create: not nillable and not defaulted by Salesforce.
    pub fn is_required(&self) -> bool {
        !self.nillable && !self.defaulted_on_create && self.createable
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub default_value: bool,
    #[serde(default)]
    pub label: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    #[serde(rename = "childSObject")]
    pub child_sobject: String,
    pub field: String,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub cascade_delete: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordTypeInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub record_type_id: Option<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub master: bool,
}
