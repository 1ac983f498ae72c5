//! A large generated org for scale tests: N custom objects with M fields each.

use super::{FieldDef, FieldType, ObjectDef};

const ROTATION: [FieldType; 10] = [
    FieldType::String,
    FieldType::Double,
    FieldType::Picklist,
    FieldType::DateTime,
    FieldType::Boolean,
    FieldType::Currency,
    FieldType::Date,
    FieldType::Email,
    FieldType::Int,
    FieldType::TextArea,
];

pub fn build(objects: usize, fields_per_object: usize) -> Vec<ObjectDef> {
    (0..objects)
        .map(|i| {
            let name = format!("Synthetic{:04}__c", i + 1);
            let prefix = synthetic_prefix(i);
            let mut fields = Vec::with_capacity(fields_per_object + 8);
            let mut id = FieldDef::new("Id", FieldType::Id);
            id.nillable = false;
            id.read_only = true;
            fields.push(id);
            let mut nm = FieldDef::new("Name", FieldType::String);
            nm.nillable = false;
            nm.name_field = true;
            nm.length = 80;
            fields.push(nm);
            let mut del = FieldDef::new("IsDeleted", FieldType::Boolean);
            del.nillable = false;
            fields.push(del);
            for (n, t) in [
                ("CreatedDate", FieldType::DateTime),
                ("LastModifiedDate", FieldType::DateTime),
                ("SystemModstamp", FieldType::DateTime),
            ] {
                let mut f = FieldDef::new(n, t);
                f.nillable = false;
                f.read_only = true;
                fields.push(f);
            }
            for j in 0..fields_per_object.saturating_sub(fields.len()) {
                let t = ROTATION[j % ROTATION.len()];
                let mut f = FieldDef::new(&format!("Field{:03}__c", j + 1), t);
                if t == FieldType::Picklist {
                    f.picklist = ["Alpha", "Beta", "Gamma", "Delta"]
                        .map(String::from)
                        .to_vec();
                }
                if j % 17 == 16 {
                    f.calculated = true;
                    f.read_only = true;
                    f.formula = Some("Name & \"!\"".into());
                }
                fields.push(f);
            }
            ObjectDef::new(
                &name,
                &prefix,
                &format!("Synthetic {}", i + 1),
                &format!("Synthetics {}", i + 1),
                fields,
            )
        })
        .collect()
}

/// Key prefixes a00..zzz (custom objects start with a letter), unique for any realistic N.
fn synthetic_prefix(i: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let base = DIGITS.len();
    let n = i + 62 * 62 * 36; // start after 'a00' style user prefixes used by the built-ins
    let c0 = DIGITS[(n / (base * base)) % base] as char;
    let c1 = DIGITS[(n / base) % base] as char;
    let c2 = DIGITS[n % base] as char;
    format!("{c0}{c1}{c2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_org_has_unique_prefixes_and_requested_width() {
        let objs = build(800, 60);
        assert_eq!(objs.len(), 800);
        assert!(objs.iter().all(|o| o.fields.len() == 60));
        let mut prefixes: Vec<&str> = objs.iter().map(|o| o.key_prefix.as_str()).collect();
        prefixes.sort();
        prefixes.dedup();
        assert_eq!(prefixes.len(), 800);
    }
}
