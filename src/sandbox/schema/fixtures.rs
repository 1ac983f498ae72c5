//! Loads a folder of recorded describe JSON files (`describe_*.json`) as the org schema.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::{FieldDef, FieldType, ObjectDef};
use crate::sandbox::error::SandboxError;

pub fn load_dir(dir: &Path) -> Result<Vec<ObjectDef>, SandboxError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        SandboxError::Schema(format!("cannot read schema folder {}: {e}", dir.display()))
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("describe_") && n.ends_with(".json"))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(SandboxError::Schema(format!(
            "no describe_*.json files in {}; record them with GET /services/data/vXX.X/sobjects/NAME/describe",
            dir.display()
        )));
    }
    paths.iter().map(|p| load_file(p)).collect()
}

fn load_file(path: &Path) -> Result<ObjectDef, SandboxError> {
    let fail = |msg: String| SandboxError::Schema(format!("{}: {msg}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| fail(format!("not JSON: {e}")))?;
    object_from_describe(json).map_err(fail)
}

pub fn object_from_describe(json: Value) -> Result<ObjectDef, String> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let b = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let name = s(&json, "name").ok_or("no \"name\" key: not a describe payload")?;
    let raw_fields = json
        .get("fields")
        .and_then(Value::as_array)
        .ok_or("no \"fields\" array: not a describe payload")?;
    let mut fields = Vec::with_capacity(raw_fields.len());
    for rf in raw_fields {
        let fname = s(rf, "name").ok_or("a field without a name")?;
        let mut f = FieldDef::new(&fname, FieldType::parse(&s(rf, "type").unwrap_or_default()));
        f.label = s(rf, "label").unwrap_or(f.label);
        f.length = rf.get("length").and_then(Value::as_u64).unwrap_or(0) as u32;
        f.nillable = b(rf, "nillable");
        f.name_field = b(rf, "nameField");
        f.calculated = b(rf, "calculated");
        f.formula = s(rf, "calculatedFormula");
        f.unique = b(rf, "unique");
        f.external_id = b(rf, "externalId");
        f.auto_number = b(rf, "autoNumber");
        f.read_only = !b(rf, "createable") && !b(rf, "updateable");
        f.compound = s(rf, "compoundFieldName");
        f.relationship_name = s(rf, "relationshipName");
        f.reference_to = rf
            .get("referenceTo")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        f.picklist = rf
            .get("picklistValues")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|p| s(p, "value")).collect())
            .unwrap_or_default();
        fields.push(f);
    }
    let key_prefix = s(&json, "keyPrefix").unwrap_or_else(|| {
        // Objects without a prefix still need Ids; a stable made-up one keeps Ids valid.
        let h = super::fnv1a(name.as_bytes());
        format!("z{:02}", h % 100)
    });
    let label = s(&json, "label").unwrap_or_else(|| name.clone());
    let plural = s(&json, "labelPlural").unwrap_or_else(|| label.clone());
    let mut obj = ObjectDef::new(&name, &key_prefix, &label, &plural, fields);
    obj.recorded_describe = Some(Arc::new(json));
    Ok(obj)
}
