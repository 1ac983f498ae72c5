//! A small org for unit tests: a few standard objects and one custom object.

use crate::fields::Selection;
use crate::model::{FieldSchema, ObjectSchema, OrgSchema};

pub(crate) fn field(name: &str, field_type: &str) -> FieldSchema {
    FieldSchema {
        name: name.to_string(),
        label: name.to_string(),
        field_type: field_type.to_string(),
        custom: name.ends_with("__c"),
        filterable: true,
        ..FieldSchema::default()
    }
}

fn object(name: &str, records: Option<u64>, fields: &[(&str, &str)]) -> ObjectSchema {
    let mut fields: Vec<FieldSchema> = fields.iter().map(|(n, t)| field(n, t)).collect();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    ObjectSchema {
        name: name.to_string(),
        label: name.to_string(),
        custom: name.ends_with("__c"),
        record_count: records,
        fields,
        load_error: None,
    }
}

pub(crate) fn schema() -> OrgSchema {
    let bookkeeping = [
        ("Id", "id"),
        ("IsDeleted", "boolean"),
        ("SystemModstamp", "datetime"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = bookkeeping.to_vec();
        all.extend_from_slice(extra);
        all
    };
    let mut objects = vec![
        object(
            "Account",
            Some(4_500),
            &with(&[
                ("Name", "string"),
                ("Description", "textarea"),
                ("Industry", "picklist"),
                ("Website", "url"),
                ("Region__c", "picklist"),
                ("Score__c", "double"),
            ]),
        ),
        object(
            "Contact",
            Some(12_000),
            &with(&[
                ("Name", "string"),
                ("Email", "email"),
                ("AccountId", "reference"),
            ]),
        ),
        object(
            "Opportunity",
            None,
            &with(&[
                ("Name", "string"),
                ("Amount", "currency"),
                ("StageName", "picklist"),
                ("Margin__c", "percent"),
            ]),
        ),
        object(
            "Widget__c",
            Some(10),
            &[
                ("Id", "id"),
                ("Name", "string"),
                ("SystemModstamp", "datetime"),
            ],
        ),
    ];
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    OrgSchema { objects }
}

/// A selection holding exactly the given `(object, field)` pairs, not normalized.
pub(crate) fn selection(pairs: &[(&str, &str)]) -> Selection {
    let mut s = Selection::new();
    for (object, field) in pairs {
        s.insert(object, field);
    }
    s
}
