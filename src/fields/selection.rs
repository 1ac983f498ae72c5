//! `Selection`: the fields to sync, per object, as stored in `SourceConfig::objects`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::ObjectSelection;
use crate::model::{ObjectSchema, OrgSchema};

/// Bookkeeping fields every synced object needs (cursor, primary key, deletes). They are
/// selected with their object and cannot be deselected on their own.
pub const LOCKED_FIELDS: [&str; 3] = ["Id", "SystemModstamp", "IsDeleted"];

pub fn is_locked(field: &str) -> bool {
    LOCKED_FIELDS.contains(&field)
}

/// Object API name → selected field API names. An object is selected when it has at least
/// one field that is not a bookkeeping field; its bookkeeping fields then come along.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Selection {
    objects: BTreeMap<String, BTreeSet<String>>,
}

impl Selection {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_config(objects: &BTreeMap<String, ObjectSelection>) -> Self {
        let objects = objects
            .iter()
            .map(|(object, sel)| (object.clone(), sel.fields.iter().cloned().collect()))
            .filter(|(_, fields): &(String, BTreeSet<String>)| !fields.is_empty())
            .collect();
        Selection { objects }
    }

    pub fn to_config(&self) -> BTreeMap<String, ObjectSelection> {
        self.objects
            .iter()
            .map(|(object, fields)| {
                let fields = fields.iter().cloned().collect();
                (object.clone(), ObjectSelection { fields })
            })
            .collect()
    }

    pub fn contains(&self, object: &str, field: &str) -> bool {
        self.objects.get(object).is_some_and(|f| f.contains(field))
    }

    pub fn insert(&mut self, object: &str, field: &str) -> bool {
        self.objects
            .entry(object.to_string())
            .or_default()
            .insert(field.to_string())
    }

    pub fn remove(&mut self, object: &str, field: &str) -> bool {
        let Some(fields) = self.objects.get_mut(object) else {
            return false;
        };
        let removed = fields.remove(field);
        if fields.is_empty() {
            self.objects.remove(object);
        }
        removed
    }

    pub fn remove_object(&mut self, object: &str) -> bool {
        self.objects.remove(object).is_some()
    }

    /// Selected objects with their fields, in API-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &BTreeSet<String>)> {
        self.objects.iter().map(|(o, f)| (o.as_str(), f))
    }

    pub fn fields(&self, object: &str) -> Option<&BTreeSet<String>> {
        self.objects.get(object)
    }

    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    pub fn field_count(&self) -> usize {
        self.objects.values().map(BTreeSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Enforce the locking rule against the org: objects left with only bookkeeping fields
    /// are dropped, and every remaining object gets the bookkeeping fields it has.
    pub fn normalized(mut self, schema: &OrgSchema) -> Self {
        self.objects
            .retain(|_, fields| fields.iter().any(|f| !is_locked(f)));
        for (object, fields) in &mut self.objects {
            if let Some(object) = find_object(schema, object) {
                for locked in locked_fields_of(object) {
                    fields.insert(locked.to_string());
                }
            }
        }
        self
    }

    /// Split off the fields this org does not have (renamed, deleted, or no access).
    /// Objects whose fields are not loaded yet keep all their fields: nothing is known
    /// to be missing.
    pub fn split_missing(&self, schema: &OrgSchema) -> (Selection, Vec<super::FieldRef>) {
        let mut present = Selection::new();
        let mut missing = Vec::new();
        for (object, fields) in self.iter() {
            let described = find_object(schema, object);
            for field in fields {
                let known = described.is_some_and(|o| {
                    o.fields.is_empty() || o.fields.iter().any(|f| f.name == *field)
                });
                if known {
                    present.insert(object, field);
                } else {
                    missing.push(super::FieldRef::new(object, field));
                }
            }
        }
        (present, missing)
    }
}

pub(crate) fn find_object<'a>(schema: &'a OrgSchema, name: &str) -> Option<&'a ObjectSchema> {
    schema
        .objects
        .binary_search_by(|o| o.name.as_str().cmp(name))
        .ok()
        .map(|i| &schema.objects[i])
        .or_else(|| schema.objects.iter().find(|o| o.name == name))
}

/// The bookkeeping fields this object actually has (not every object has IsDeleted).
pub(crate) fn locked_fields_of(object: &ObjectSchema) -> impl Iterator<Item = &str> {
    object
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|f| is_locked(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::test_schema::schema;

    #[test]
    fn round_trips_through_config() {
        let mut sel = Selection::new();
        sel.insert("Account", "Name");
        sel.insert("Account", "Id");
        sel.insert("Contact", "Email");
        let back = Selection::from_config(&sel.to_config());
        assert_eq!(back, sel);
        assert_eq!(back.field_count(), 3);
        assert_eq!(back.object_count(), 2);
    }

    #[test]
    fn normalizing_adds_bookkeeping_fields_and_drops_bare_objects() {
        let mut sel = Selection::new();
        sel.insert("Account", "Name");
        sel.insert("Contact", "Id");
        let sel = sel.normalized(&schema());
        let account: Vec<_> = sel.fields("Account").unwrap().iter().cloned().collect();
        assert_eq!(account, ["Id", "IsDeleted", "Name", "SystemModstamp"]);
        assert!(sel.fields("Contact").is_none());
    }

    #[test]
    fn bookkeeping_fields_only_where_the_object_has_them() {
        let mut sel = Selection::new();
        sel.insert("Widget__c", "Name");
        let sel = sel.normalized(&schema());
        assert!(sel.contains("Widget__c", "Id"));
        assert!(!sel.contains("Widget__c", "IsDeleted"));
    }

    #[test]
    fn removing_the_last_field_drops_the_object() {
        let mut sel = Selection::new();
        sel.insert("Account", "Name");
        assert!(sel.remove("Account", "Name"));
        assert!(sel.is_empty());
        assert!(!sel.remove("Account", "Name"));
    }

    #[test]
    fn split_missing_lists_fields_the_org_lacks() {
        let mut sel = Selection::new();
        sel.insert("Account", "Name");
        sel.insert("Account", "Gone__c");
        sel.insert("Nope__c", "Name");
        let (present, missing) = sel.split_missing(&schema());
        assert!(present.contains("Account", "Name"));
        assert_eq!(present.field_count(), 1);
        let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["Account.Gone__c", "Nope__c.Name"]);
    }

    #[test]
    fn fields_of_objects_not_described_yet_are_kept() {
        let mut org = schema();
        org.objects[0].fields.clear();
        let name = org.objects[0].name.clone();
        let mut sel = Selection::new();
        sel.insert(&name, "Anything");
        let (present, missing) = sel.split_missing(&org);
        assert!(present.contains(&name, "Anything"));
        assert!(missing.is_empty());
    }
}
