//! The org's schema: which objects exist, their fields, and how those render in describe.

mod builtin;
mod describe;
mod fixtures;
mod synthetic;

use std::collections::HashMap;
use std::sync::Arc;

pub use describe::{describe_global_json, describe_json};

use super::config::SchemaSource;
use super::error::SandboxError;

/// Field types the sandbox knows how to generate and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Id,
    Boolean,
    Reference,
    String,
    Picklist,
    MultiPicklist,
    Combobox,
    TextArea,
    Phone,
    Email,
    Url,
    Double,
    Currency,
    Percent,
    Int,
    Date,
    DateTime,
    Time,
    Address,
    Location,
    Other,
}

impl FieldType {
    pub fn parse(s: &str) -> FieldType {
        match s {
            "id" => FieldType::Id,
            "boolean" => FieldType::Boolean,
            "reference" => FieldType::Reference,
            "string" | "encryptedstring" => FieldType::String,
            "picklist" => FieldType::Picklist,
            "multipicklist" => FieldType::MultiPicklist,
            "combobox" => FieldType::Combobox,
            "textarea" => FieldType::TextArea,
            "phone" => FieldType::Phone,
            "email" => FieldType::Email,
            "url" => FieldType::Url,
            "double" => FieldType::Double,
            "currency" => FieldType::Currency,
            "percent" => FieldType::Percent,
            "int" | "long" => FieldType::Int,
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            "time" => FieldType::Time,
            "address" => FieldType::Address,
            "location" => FieldType::Location,
            _ => FieldType::Other,
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Boolean => "boolean",
            FieldType::Reference => "reference",
            FieldType::String => "string",
            FieldType::Picklist => "picklist",
            FieldType::MultiPicklist => "multipicklist",
            FieldType::Combobox => "combobox",
            FieldType::TextArea => "textarea",
            FieldType::Phone => "phone",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Int => "int",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Time => "time",
            FieldType::Address => "address",
            FieldType::Location => "location",
            FieldType::Other => "anyType",
        }
    }

    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Int => "xsd:int",
            FieldType::Date => "xsd:date",
            FieldType::DateTime => "xsd:dateTime",
            FieldType::Time => "xsd:time",
            FieldType::Address => "urn:address",
            FieldType::Location => "urn:location",
            FieldType::Other => "xsd:anyType",
            _ => "xsd:string",
        }
    }

    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::Reference
                | FieldType::String
                | FieldType::Picklist
                | FieldType::MultiPicklist
                | FieldType::Combobox
                | FieldType::TextArea
                | FieldType::Phone
                | FieldType::Email
                | FieldType::Url
                | FieldType::Time
                | FieldType::Other
        )
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::Int
        )
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub ftype: FieldType,
    pub length: u32,
    pub nillable: bool,
    pub name_field: bool,
    pub calculated: bool,
    pub formula: Option<String>,
    pub unique: bool,
    pub external_id: bool,
    pub auto_number: bool,
    pub read_only: bool,
    pub picklist: Vec<String>,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    /// Name of the compound field this one is a component of (BillingAddress, Name).
    pub compound: Option<String>,
    /// Mixed into every generated value so fields differ from each other.
    pub salt: u64,
}

impl FieldDef {
    pub fn new(name: &str, ftype: FieldType) -> FieldDef {
        FieldDef {
            name: name.to_string(),
            label: label_from_api_name(name),
            ftype,
            length: default_length(ftype),
            nillable: true,
            name_field: false,
            calculated: false,
            formula: None,
            unique: false,
            external_id: false,
            auto_number: false,
            read_only: false,
            picklist: Vec::new(),
            reference_to: Vec::new(),
            relationship_name: None,
            compound: None,
            salt: fnv1a(name.as_bytes()),
        }
    }

    pub fn custom(&self) -> bool {
        self.name.ends_with("__c")
    }
}

fn default_length(t: FieldType) -> u32 {
    match t {
        FieldType::Id | FieldType::Reference => 18,
        FieldType::String | FieldType::Url | FieldType::Combobox => 255,
        FieldType::Picklist | FieldType::Phone => 40,
        FieldType::MultiPicklist => 4099,
        FieldType::TextArea => 32000,
        FieldType::Email => 80,
        _ => 0,
    }
}

#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub fields: Vec<FieldDef>,
    /// Lower-cased field name → index into `fields`.
    by_name: HashMap<String, usize>,
    /// Describe JSON recorded from a real org, served verbatim when loaded from a folder.
    pub recorded_describe: Option<Arc<serde_json::Value>>,
    pub salt: u64,
    /// Indices of FirstName and LastName when the object names a person.
    pub person_name: Option<(usize, usize)>,
}

impl ObjectDef {
    pub fn new(
        name: &str,
        key_prefix: &str,
        label: &str,
        plural: &str,
        fields: Vec<FieldDef>,
    ) -> ObjectDef {
        let by_name = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect::<HashMap<String, usize>>();
        let person_name = by_name
            .get("firstname")
            .copied()
            .zip(by_name.get("lastname").copied());
        ObjectDef {
            name: name.to_string(),
            label: label.to_string(),
            label_plural: plural.to_string(),
            key_prefix: key_prefix.to_string(),
            fields,
            by_name,
            recorded_describe: None,
            salt: fnv1a(name.as_bytes()),
            person_name,
        }
    }

    pub fn custom(&self) -> bool {
        self.name.ends_with("__c")
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    #[cfg(test)]
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_index(name).map(|i| &self.fields[i])
    }

    /// Components of a compound address field, in the order Salesforce nests them.
    pub fn address_components(&self, compound: &str) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.compound.as_deref() == Some(compound))
            .map(|(i, _)| i)
            .collect();
        v.sort_by_key(|&i| address_key(&self.fields[i].name));
        v
    }
}

/// The JSON key a component takes inside the nested address object, e.g. BillingCity → city.
pub fn address_key(component: &str) -> &'static str {
    const SUFFIXES: [(&str, &str); 8] = [
        ("City", "city"),
        ("Country", "country"),
        ("GeocodeAccuracy", "geocodeAccuracy"),
        ("Latitude", "latitude"),
        ("Longitude", "longitude"),
        ("PostalCode", "postalCode"),
        ("State", "state"),
        ("Street", "street"),
    ];
    SUFFIXES
        .iter()
        .find(|(s, _)| component.ends_with(s))
        .map(|(_, k)| *k)
        .unwrap_or("other")
}

/// An org schema: objects in describeGlobal order plus a case-insensitive index.
#[derive(Debug)]
pub struct Schema {
    pub objects: Vec<Arc<ObjectDef>>,
    by_name: HashMap<String, usize>,
}

impl Schema {
    pub fn new(objects: Vec<ObjectDef>) -> Schema {
        let objects: Vec<Arc<ObjectDef>> = objects.into_iter().map(Arc::new).collect();
        let by_name = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        Schema { objects, by_name }
    }

    pub fn load(source: &SchemaSource) -> Result<Schema, SandboxError> {
        let objects = match source {
            SchemaSource::BuiltIn => builtin::load()?,
            SchemaSource::Dir(dir) => fixtures::load_dir(dir)?,
            SchemaSource::Synthetic {
                objects,
                fields_per_object,
            } => synthetic::build(*objects, *fields_per_object),
        };
        Ok(Schema::new(objects))
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }
}

/// "BillingPostalCode" → "Billing Postal Code"; "Days_Open__c" → "Days Open".
pub fn label_from_api_name(name: &str) -> String {
    let base = name.strip_suffix("__c").unwrap_or(name);
    let mut out = String::with_capacity(base.len() + 4);
    let mut prev_lower = false;
    for ch in base.chars() {
        if ch == '_' {
            out.push(' ');
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        out.push(ch);
    }
    out
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_like_salesforce() {
        assert_eq!(
            label_from_api_name("BillingPostalCode"),
            "Billing Postal Code"
        );
        assert_eq!(label_from_api_name("Days_Open__c"), "Days Open");
    }

    #[test]
    fn address_components_map_to_nested_keys() {
        assert_eq!(address_key("BillingGeocodeAccuracy"), "geocodeAccuracy");
        assert_eq!(address_key("Street"), "street");
    }
}
