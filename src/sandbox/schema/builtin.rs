//! Parser of the embedded compact schema (`assets/sandbox/standard_objects.schema`).

use super::{FieldDef, FieldType, ObjectDef};
use crate::sandbox::error::SandboxError;

const SOURCE: &str = include_str!("../../../assets/sandbox/standard_objects.schema");

const GEOCODE_ACCURACY: &str =
    "Address;NearAddress;Block;Street;ExtendedZip;Zip;Neighborhood;City;County;State;Unknown";

pub fn load() -> Result<Vec<ObjectDef>, SandboxError> {
    parse(SOURCE)
}

fn parse(text: &str) -> Result<Vec<ObjectDef>, SandboxError> {
    let mut objects = Vec::new();
    let mut current: Option<(Vec<String>, Vec<FieldDef>)> = None;
    let bad = |line: usize, msg: &str| {
        SandboxError::Schema(format!("built-in schema line {line}: {msg}"))
    };
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(head) = line.strip_prefix('@') {
            if let Some((h, fields)) = current.take() {
                objects.push(finish(h, fields));
            }
            let cols: Vec<String> = head.split('|').map(str::to_string).collect();
            if cols.len() != 4 {
                return Err(bad(n + 1, "object header needs Name|prefix|Label|Plural"));
            }
            current = Some((cols, Vec::new()));
            continue;
        }
        let Some((_, fields)) = current.as_mut() else {
            return Err(bad(n + 1, "field before the first @Object line"));
        };
        if line == "+audit" {
            for (name, t, refs) in [
                ("CreatedDate", FieldType::DateTime, None),
                ("CreatedById", FieldType::Reference, Some("CreatedBy")),
                ("LastModifiedDate", FieldType::DateTime, None),
                (
                    "LastModifiedById",
                    FieldType::Reference,
                    Some("LastModifiedBy"),
                ),
                ("SystemModstamp", FieldType::DateTime, None),
            ] {
                let mut f = FieldDef::new(name, t);
                f.nillable = false;
                f.read_only = true;
                if let Some(rel) = refs {
                    f.reference_to = vec!["User".into()];
                    f.relationship_name = Some(rel.into());
                }
                fields.push(f);
            }
            continue;
        }
        let cols: Vec<&str> = line.split('|').collect();
        let col = |i: usize| cols.get(i).copied().unwrap_or("").trim();
        let ftype = FieldType::parse(col(1));
        if ftype == FieldType::Address {
            fields.extend(address_fields(col(0)));
            continue;
        }
        if ftype == FieldType::Other {
            return Err(bad(n + 1, &format!("unknown field type '{}'", col(1))));
        }
        let mut f = FieldDef::new(col(0), ftype);
        if let Ok(len) = col(2).parse() {
            f.length = len;
        }
        for flag in col(3).split_whitespace() {
            match flag {
                "req" => f.nillable = false,
                "name" => f.name_field = true,
                "calc" => {
                    f.calculated = true;
                    f.read_only = true;
                }
                "unique" => f.unique = true,
                "extid" => f.external_id = true,
                "auto" => {
                    f.auto_number = true;
                    f.read_only = true;
                }
                "ro" => f.read_only = true,
                "inname" => f.compound = Some("Name".into()),
                other => return Err(bad(n + 1, &format!("unknown flag '{other}'"))),
            }
        }
        if !col(4).is_empty() {
            f.reference_to = col(4).split(',').map(str::to_string).collect();
        }
        if !col(5).is_empty() {
            f.relationship_name = Some(col(5).to_string());
        }
        if !col(6).is_empty() {
            if f.calculated {
                f.formula = Some(col(6).to_string());
            } else {
                f.picklist = col(6).split(';').map(str::to_string).collect();
            }
        }
        if ftype == FieldType::Id {
            f.read_only = true;
        }
        fields.push(f);
    }
    if let Some((h, fields)) = current.take() {
        objects.push(finish(h, fields));
    }
    Ok(objects)
}

fn finish(head: Vec<String>, mut fields: Vec<FieldDef>) -> ObjectDef {
    let has_compound_name = fields.iter().any(|f| f.name == "Name" && f.read_only);
    if has_compound_name {
        for f in fields.iter_mut() {
            if matches!(f.name.as_str(), "FirstName" | "LastName" | "Salutation") {
                f.compound = Some("Name".into());
            }
        }
    }
    ObjectDef::new(&head[0], &head[1], &head[2], &head[3], fields)
}

/// The eight components of an address compound field followed by the compound itself.
pub fn address_fields(prefix: &str) -> Vec<FieldDef> {
    let compound = format!("{prefix}Address");
    let parts: [(&str, FieldType, u32); 8] = [
        ("Street", FieldType::TextArea, 255),
        ("City", FieldType::String, 40),
        ("State", FieldType::String, 80),
        ("PostalCode", FieldType::String, 20),
        ("Country", FieldType::String, 80),
        ("Latitude", FieldType::Double, 0),
        ("Longitude", FieldType::Double, 0),
        ("GeocodeAccuracy", FieldType::Picklist, 40),
    ];
    let mut out: Vec<FieldDef> = parts
        .iter()
        .map(|(suffix, t, len)| {
            let mut f = FieldDef::new(&format!("{prefix}{suffix}"), *t);
            f.length = *len;
            f.compound = Some(compound.clone());
            if *suffix == "GeocodeAccuracy" {
                f.picklist = GEOCODE_ACCURACY.split(';').map(str::to_string).collect();
            }
            f
        })
        .collect();
    let mut c = FieldDef::new(&compound, FieldType::Address);
    c.read_only = true;
    out.push(c);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schema_has_the_promised_objects() {
        let objs = load().unwrap();
        let names: Vec<&str> = objs.iter().map(|o| o.name.as_str()).collect();
        for want in [
            "Account",
            "Contact",
            "Lead",
            "Opportunity",
            "Case",
            "User",
            "Campaign",
            "Task",
            "Event",
            "OpportunityContactRole",
        ] {
            assert!(names.contains(&want), "{want} missing");
        }
        assert_eq!(names.iter().filter(|n| n.ends_with("__c")).count(), 2);
        let account = objs.iter().find(|o| o.name == "Account").unwrap();
        assert!(account.fields.len() >= 60, "{}", account.fields.len());
        assert!(
            account
                .fields
                .iter()
                .any(|f| f.calculated && f.formula.is_some())
        );
        assert_eq!(account.address_components("BillingAddress").len(), 8);
        assert_eq!(account.field("industry").unwrap().picklist.len(), 32);
        for o in &objs {
            assert_eq!(o.key_prefix.len(), 3, "{}", o.name);
            for f in ["Id", "SystemModstamp", "IsDeleted"] {
                assert!(o.field(f).is_some(), "{}.{f}", o.name);
            }
        }
    }
}
