//! What a Bulk API 2.0 read of one object selects, and how each CSV column becomes the
//! value a REST query page holds for the same field, so a row read through Bulk decodes
//! (and is stored) exactly like the row read through REST.
//!
//! Bulk refuses compound fields ("Selecting compound data not supported in Bulk Query"),
//! so an address or geolocation is read through its component fields and reassembled into
//! the nested object REST returns. Base64 fields cannot be read through Bulk at all.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::salesforce::soql::Select;
use crate::salesforce::types::Describe;

const ID: &str = "Id";
const SYSTEM_MODSTAMP: &str = "SystemModstamp";
const IS_DELETED: &str = "IsDeleted";

/// How a CSV text becomes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    Bool,
    Int,
    Float,
    /// Bulk writes `…000Z`, REST `…000+0000`.
    DateTime,
}

impl ValueKind {
    /// The kind of a describe `type`.
    pub fn of(sf_type: &str) -> ValueKind {
        match sf_type.to_ascii_lowercase().as_str() {
            "boolean" => ValueKind::Bool,
            "int" | "long" => ValueKind::Int,
            "double" | "currency" | "percent" => ValueKind::Float,
            "datetime" => ValueKind::DateTime,
            _ => ValueKind::Text,
        }
    }
}

/// Where one CSV column's value goes in the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A field of its own, at this output column.
    Field { column: usize, kind: ValueKind },
    /// A component of the compound field at this output column, under `key`.
    Component {
        column: usize,
        key: &'static str,
        kind: ValueKind,
    },
}

/// Why an object (or its selection) is read through REST instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("{object} has no SystemModstamp, so it is re-read in full through REST")]
    NoModstamp { object: String },
    #[error("{object}.{field} is a base64 field, which Bulk API 2.0 cannot return")]
    Base64 { object: String, field: String },
    #[error("{object}.{field} is a compound field whose components Bulk cannot read ({why})")]
    Compound {
        object: String,
        field: String,
        why: String,
    },
    #[error("{object}.{field} is not in the object's describe")]
    Unknown { object: String, field: String },
}

/// A Bulk read of one object: its select list and the page layout it decodes into.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkShape {
    object: String,
    /// The Bulk select list: Id, SystemModstamp, IsDeleted, then the fields with each
    /// compound replaced by its components.
    select: Vec<String>,
    /// Output columns, as REST names them: Id, SystemModstamp, IsDeleted, the fields.
    columns: Vec<String>,
    /// Output columns that hold a compound field's nested object.
    compounds: Vec<usize>,
    /// CSV header name (lowercase: Salesforce matches names case-insensitively) → target.
    targets: HashMap<String, Target>,
}

/// The key a component takes in the nested object REST returns (`BillingStateCode` →
/// `stateCode`, `Loc__Latitude__s` → `latitude`). Longest suffixes first, so `StateCode`
/// wins over `Code`-less `State`.
fn component_key(component: &str) -> Option<&'static str> {
    const SUFFIXES: [(&str, &str); 10] = [
        ("GeocodeAccuracy", "geocodeAccuracy"),
        ("CountryCode", "countryCode"),
        ("PostalCode", "postalCode"),
        ("StateCode", "stateCode"),
        ("Longitude", "longitude"),
        ("Latitude", "latitude"),
        ("Country", "country"),
        ("Street", "street"),
        ("State", "state"),
        ("City", "city"),
    ];
    let name = component.strip_suffix("__s").unwrap_or(component);
    SUFFIXES
        .iter()
        .find(|(suffix, _)| name.ends_with(suffix))
        .map(|(_, key)| *key)
}

/// One field of an object's describe, as much as Bulk's verdict needs. The run takes it
/// from the org's describe, Review from the schema it shows; both reach the verdict
/// through [`BulkShape::build`], so Review cannot route an object the run routes otherwise.
#[derive(Debug, Clone, Copy)]
pub struct FieldFacts<'a> {
    pub name: &'a str,
    pub field_type: &'a str,
    /// The compound field this one is a component of (BillingCity → BillingAddress).
    pub compound_of: Option<&'a str>,
}

impl<'a> FieldFacts<'a> {
    fn of_describe(f: &'a crate::salesforce::types::Field) -> FieldFacts<'a> {
        FieldFacts {
            name: &f.name,
            field_type: &f.field_type,
            compound_of: f.compound_field_name.as_deref(),
        }
    }

    fn of_schema(f: &'a crate::model::FieldSchema) -> FieldFacts<'a> {
        FieldFacts {
            name: &f.name,
            field_type: &f.field_type,
            compound_of: f.compound_parent.as_deref(),
        }
    }

    /// Address and geolocation fields are compounds of other fields.
    fn is_compound(&self) -> bool {
        self.field_type.eq_ignore_ascii_case("address")
            || self.field_type.eq_ignore_ascii_case("location")
    }
}

fn find<'a, 'f>(all: &'f [FieldFacts<'a>], name: &str) -> Option<&'f FieldFacts<'a>> {
    all.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

impl BulkShape {
    /// The shape of reading `fields` (selected fields without Id / SystemModstamp /
    /// IsDeleted, as the REST read takes them) of `describe`'s object.
    pub fn new(describe: &Describe, fields: &[String]) -> Result<BulkShape, Unsupported> {
        let all: Vec<FieldFacts> = describe
            .fields
            .iter()
            .map(FieldFacts::of_describe)
            .collect();
        BulkShape::build(&describe.name, &all, fields)
    }

    /// Review's verdict on reading `selected` of `object` (the schema `syncdeck fields`
    /// shows) through Bulk. Selected names the schema lacks are left out, as the run's plan
    /// leaves them out of its read; an object whose fields are not loaded has no
    /// SystemModstamp to go by, so it is read through REST, as the run without a describe.
    pub fn check_schema<'s>(
        object: &crate::model::ObjectSchema,
        selected: impl IntoIterator<Item = &'s str>,
    ) -> Result<(), Unsupported> {
        let all: Vec<FieldFacts> = object.fields.iter().map(FieldFacts::of_schema).collect();
        let fields: Vec<String> = selected
            .into_iter()
            .filter_map(|name| find(&all, name).map(|f| f.name.to_string()))
            .collect();
        BulkShape::build(&object.name, &all, &fields).map(|_| ())
    }

    /// The one decision on whether (and how) Bulk reads `fields` of `object`, whose describe
    /// lists `all`.
    pub fn build(
        object: &str,
        all: &[FieldFacts],
        fields: &[String],
    ) -> Result<BulkShape, Unsupported> {
        let object = object.to_string();
        if find(all, SYSTEM_MODSTAMP).is_none() {
            return Err(Unsupported::NoModstamp { object });
        }
        let mut shape = BulkShape {
            object: object.clone(),
            select: Vec::new(),
            columns: Vec::new(),
            compounds: Vec::new(),
            targets: HashMap::new(),
        };
        let system = [ID, SYSTEM_MODSTAMP, IS_DELETED];
        let wanted = system
            .iter()
            .map(|s| s.to_string())
            .chain(fields.iter().cloned());
        for name in wanted {
            if shape.columns.iter().any(|c| c.eq_ignore_ascii_case(&name)) {
                continue;
            }
            let field = find(all, &name).ok_or_else(|| Unsupported::Unknown {
                object: object.clone(),
                field: name.clone(),
            })?;
            let column = shape.columns.len();
            shape.columns.push(field.name.to_string());
            if field.field_type.eq_ignore_ascii_case("base64") {
                return Err(Unsupported::Base64 {
                    object,
                    field: field.name.to_string(),
                });
            }
            if !field.is_compound() {
                shape.add_select(field.name);
                shape.targets.insert(
                    field.name.to_ascii_lowercase(),
                    Target::Field {
                        column,
                        kind: ValueKind::of(field.field_type),
                    },
                );
                continue;
            }
            let components: Vec<_> = all
                .iter()
                .filter(|c| {
                    c.compound_of
                        .is_some_and(|n| n.eq_ignore_ascii_case(field.name))
                })
                .collect();
            if components.is_empty() {
                return Err(Unsupported::Compound {
                    object,
                    field: field.name.to_string(),
                    why: "the describe lists none".into(),
                });
            }
            shape.compounds.push(column);
            for c in components {
                let key = component_key(c.name).ok_or_else(|| Unsupported::Compound {
                    object: object.clone(),
                    field: field.name.to_string(),
                    why: format!("{} is not a known component", c.name),
                })?;
                shape.add_select(c.name);
                shape.targets.insert(
                    // A component also selected on its own keeps its own column too.
                    format!("{}#{}", c.name.to_ascii_lowercase(), field.name),
                    Target::Component {
                        column,
                        key,
                        kind: ValueKind::of(c.field_type),
                    },
                );
            }
        }
        Ok(shape)
    }

    /// The layout of a read of `object`'s Ids alone (`verify`'s scan, which sends its own
    /// ordered query): Ids need neither SystemModstamp nor a describe.
    pub fn ids(object: &str) -> BulkShape {
        let mut targets = HashMap::new();
        targets.insert(
            ID.to_ascii_lowercase(),
            Target::Field {
                column: 0,
                kind: ValueKind::Text,
            },
        );
        BulkShape {
            object: object.to_string(),
            select: vec![ID.to_string()],
            columns: vec![ID.to_string()],
            compounds: Vec::new(),
            targets,
        }
    }

    fn add_select(&mut self, name: &str) {
        if !self.select.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            self.select.push(name.to_string());
        }
    }

    pub fn object(&self) -> &str {
        &self.object
    }

    /// Output columns, as a REST page of the same read names its keys.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub(crate) fn compound_columns(&self) -> &[usize] {
        &self.compounds
    }

    /// The Bulk query: unordered (ORDER BY would turn off PK chunking, and Bulk results
    /// come back in no promised order anyway), from `since` when given.
    pub fn select(&self, since: Option<DateTime<Utc>>) -> Select {
        let select = Select::new(&self.object).fields(&self.select);
        match since {
            Some(at) => select.where_modstamp_at_or_after(at),
            None => select,
        }
    }

    /// Every place a CSV header column's values go (none for a column not selected).
    pub(crate) fn targets_of(&self, header: &str) -> Vec<Target> {
        let lower = header.to_ascii_lowercase();
        let mut found: Vec<Target> = self.targets.get(&lower).cloned().into_iter().collect();
        let prefix = format!("{lower}#");
        found.extend(
            self.targets
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, t)| t.clone()),
        );
        found
    }

    /// Selected names every result set must carry in its header.
    pub(crate) fn selected(&self) -> &[String] {
        &self.select
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn describe() -> Describe {
        let field = |name: &str, ty: &str, compound: Option<&str>| json!({"name": name, "type": ty, "compoundFieldName": compound});
        serde_json::from_value(json!({
            "name": "Account",
            "fields": [
                field("Id", "id", None),
                field("IsDeleted", "boolean", None),
                field("SystemModstamp", "datetime", None),
                field("Name", "string", None),
                field("NumberOfEmployees", "int", None),
                field("AnnualRevenue", "currency", None),
                field("LastActivityDate", "date", None),
                field("BillingAddress", "address", None),
                field("BillingStreet", "textarea", Some("BillingAddress")),
                field("BillingCity", "string", Some("BillingAddress")),
                field("BillingStateCode", "picklist", Some("BillingAddress")),
                field("BillingLatitude", "double", Some("BillingAddress")),
                field("Logo__c", "base64", None),
                field("Spot__c", "location", None),
            ]
        }))
        .unwrap()
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn compounds_are_read_through_their_components() {
        let shape = BulkShape::new(
            &describe(),
            &names(&["Name", "BillingAddress", "BillingCity"]),
        )
        .unwrap();
        assert_eq!(
            shape.select(None).build().unwrap().as_str(),
            "SELECT Id, SystemModstamp, IsDeleted, Name, BillingStreet, BillingCity, BillingStateCode, BillingLatitude FROM Account"
        );
        assert_eq!(
            shape.columns(),
            [
                "Id",
                "SystemModstamp",
                "IsDeleted",
                "Name",
                "BillingAddress",
                "BillingCity"
            ]
        );
        let mut city = shape.targets_of("BILLINGCITY");
        city.sort_by_key(|t| format!("{t:?}"));
        assert_eq!(city.len(), 2, "its own column and the address's: {city:?}");
        assert!(city.contains(&Target::Component {
            column: 4,
            key: "city",
            kind: ValueKind::Text
        }));
        assert!(city.contains(&Target::Field {
            column: 5,
            kind: ValueKind::Text
        }));
        assert!(shape.targets_of("Unknown").is_empty());
    }

    #[test]
    fn base64_and_componentless_compounds_go_to_rest() {
        let d = describe();
        assert!(matches!(
            BulkShape::new(&d, &names(&["Logo__c"])),
            Err(Unsupported::Base64 { .. })
        ));
        assert!(matches!(
            BulkShape::new(&d, &names(&["Spot__c"])),
            Err(Unsupported::Compound { .. })
        ));
        assert!(matches!(
            BulkShape::new(&d, &names(&["Nope__c"])),
            Err(Unsupported::Unknown { .. })
        ));
    }

    #[test]
    fn component_keys_follow_the_rest_object() {
        assert_eq!(component_key("BillingStateCode"), Some("stateCode"));
        assert_eq!(component_key("MailingState"), Some("state"));
        assert_eq!(component_key("Loc__Longitude__s"), Some("longitude"));
        assert_eq!(
            component_key("ShippingGeocodeAccuracy"),
            Some("geocodeAccuracy")
        );
        assert_eq!(component_key("Whatever"), None);
    }
}
