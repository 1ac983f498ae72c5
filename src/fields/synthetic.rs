//! A generated org of any size, shaped like the sandbox's synthetic schema: for benchmarks,
//! tests and demos of the field tree at scale.

use crate::model::{FieldSchema, ObjectSchema, OrgSchema};

const TYPES: [&str; 8] = [
    "string",
    "picklist",
    "double",
    "datetime",
    "reference",
    "boolean",
    "currency",
    "textarea",
];

/// `objects` objects named `Object0000__c`…, each with `fields_per_object` fields: the three
/// bookkeeping fields, then `Field0003__c`…, with a deterministic mix of types and badges.
pub fn synthetic_schema(objects: usize, fields_per_object: usize) -> OrgSchema {
    let objects = (0..objects)
        .map(|o| {
            let mut fields: Vec<FieldSchema> = (0..fields_per_object)
                .map(|f| synthetic_field(o, f))
                .collect();
            fields.sort_by(|a, b| a.name.cmp(&b.name));
            ObjectSchema {
                name: format!("Object{o:04}__c"),
                label: format!("Object {o}"),
                custom: true,
                record_count: Some(((o * 7_919) % 250_000) as u64),
                fields,
                load_error: None,
            }
        })
        .collect();
    OrgSchema { objects }
}

fn synthetic_field(object: usize, f: usize) -> FieldSchema {
    let (name, field_type) = match f {
        0 => ("Id".to_string(), "id"),
        1 => ("SystemModstamp".to_string(), "datetime"),
        2 => ("IsDeleted".to_string(), "boolean"),
        _ => (format!("Field{f:04}__c"), TYPES[(object + f) % TYPES.len()]),
    };
    let custom = f > 2;
    FieldSchema {
        label: if custom {
            format!("Field {f} of {object}")
        } else {
            name.clone()
        },
        name,
        field_type: field_type.to_string(),
        custom,
        formula: custom && f % 11 == 0,
        compound: false,
        required: custom && f % 13 == 0,
        filterable: field_type != "textarea",
        compound_parent: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_requested_shape_sorted_by_name() {
        let schema = synthetic_schema(3, 10);
        assert_eq!(schema.objects.len(), 3);
        assert!(schema.objects.iter().all(|o| o.fields.len() == 10));
        let names: Vec<&str> = schema.objects[0]
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(names.contains(&"SystemModstamp"));
    }
}
