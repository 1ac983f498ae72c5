//! describe and describeGlobal payloads in Salesforce's shape (every key on every field).

use serde_json::{Value, json};

use super::{FieldDef, FieldType, ObjectDef, Schema};

fn object_urls(obj: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", obj.name);
    json!({
        "compactLayouts": format!("{base}/describe/compactLayouts"),
        "rowTemplate": format!("{base}/{{ID}}"),
        "approvalLayouts": format!("{base}/describe/approvalLayouts"),
        "describe": format!("{base}/describe"),
        "quickActions": format!("{base}/quickActions"),
        "layouts": format!("{base}/describe/layouts"),
        "sobject": base,
    })
}

fn global_entry(obj: &ObjectDef, version: &str) -> Value {
    json!({
        "activateable": false, "associateEntityType": null, "associateParentEntity": null,
        "createable": true, "custom": obj.custom(), "customSetting": false, "deepCloneable": false,
        "deletable": true, "deprecatedAndHidden": false, "feedEnabled": !obj.custom(),
        "hasSubtypes": false, "isInterface": false, "isSubtype": false,
        "keyPrefix": obj.key_prefix, "label": obj.label, "labelPlural": obj.label_plural,
        "layoutable": true, "mergeable": false, "mruEnabled": true, "name": obj.name,
        "queryable": true, "replicateable": true, "retrieveable": true, "searchable": true,
        "triggerable": true, "undeletable": true, "updateable": true,
        "urls": object_urls(obj, version),
    })
}

pub fn describe_global_json(schema: &Schema, version: &str) -> Value {
    let sobjects: Vec<Value> = schema
        .objects
        .iter()
        .map(|o| global_entry(o, version))
        .collect();
    json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})
}

pub fn describe_json(obj: &ObjectDef, version: &str) -> Value {
    if let Some(recorded) = &obj.recorded_describe {
        return (**recorded).clone();
    }
    let fields: Vec<Value> = obj.fields.iter().map(field_json).collect();
    let mut v = global_entry(obj, version);
    let extra = json!({
        "actionOverrides": [], "childRelationships": [], "compactLayoutable": true,
        "defaultImplementation": null, "extendedBy": null, "extendsInterfaces": null,
        "fields": fields, "implementedBy": null, "implementsInterfaces": null,
        "listviewable": null, "lookupLayoutable": null, "namedLayoutInfos": [],
        "networkScopeFieldName": null,
        "recordTypeInfos": [{
            "active": true, "available": true, "defaultRecordTypeMapping": true,
            "developerName": "Master", "master": true, "name": "Master",
            "recordTypeId": "012000000000000AAA",
            "urls": {"layout": format!("/services/data/v{version}/sobjects/{}/describe/layouts/012000000000000AAA", obj.name)}
        }],
        "searchLayoutable": true,
        "supportedScopes": [{"label": "All", "name": "everything"}],
    });
    if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
        for key in ["associateEntityType", "associateParentEntity"] {
            m.remove(key);
        }
        m.extend(e);
    }
    v
}

fn field_json(f: &FieldDef) -> Value {
    let t = f.ftype;
    let compound_container = matches!(t, FieldType::Address | FieldType::Location);
    let long_text = t == FieldType::TextArea && f.length > 255;
    let writable = !f.read_only;
    let (precision, scale) = match t {
        FieldType::Currency | FieldType::Percent => (18, 2),
        FieldType::Double if f.name.contains("itude") => (18, 15),
        FieldType::Double => (18, 2),
        _ => (0, 0),
    };
    let picklist: Vec<Value> = f
        .picklist
        .iter()
        .map(|p| json!({"active": true, "defaultValue": false, "label": p, "validFor": null, "value": p}))
        .collect();
    let extra_type_info = match t {
        FieldType::TextArea => json!("plaintextarea"),
        FieldType::Url if f.name.contains("Photo") => json!("imageurl"),
        _ => Value::Null,
    };
    let mut head = json!({
        "aggregatable": !compound_container && !long_text,
        "aiPredictionField": false,
        "autoNumber": f.auto_number,
        "byteLength": if t.is_textual() { f.length * 3 } else { 0 },
        "calculated": f.calculated,
        "calculatedFormula": f.formula,
        "cascadeDelete": false,
        "caseSensitive": false,
        "compoundFieldName": f.compound,
        "controllerName": null,
        "createable": writable,
        "custom": f.custom(),
        "defaultValue": if t == FieldType::Boolean && !f.calculated { json!(false) } else { Value::Null },
        "defaultValueFormula": null,
        "defaultedOnCreate": t == FieldType::Boolean || matches!(f.name.as_str(), "Id" | "OwnerId" | "CreatedDate" | "CreatedById" | "LastModifiedDate" | "LastModifiedById" | "SystemModstamp"),
        "dependentPicklist": false,
        "deprecatedAndHidden": false,
        "digits": if t == FieldType::Int { 9 } else { 0 },
        "displayLocationInDecimal": false,
        "encrypted": false,
        "externalId": f.external_id,
        "extraTypeInfo": extra_type_info,
        "filterable": !long_text,
        "filteredLookupInfo": null,
        "formulaTreatNullNumberAsZero": false,
        "groupable": !compound_container && !long_text && !matches!(t, FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::DateTime),
        "highScaleNumber": false,
        "htmlFormatted": false,
        "idLookup": t == FieldType::Id || f.external_id || f.name == "Email",
        "inlineHelpText": null,
    });
    let tail = json!({
        "label": f.label,
        "length": if t.is_textual() && !compound_container { f.length } else { 0 },
        "mask": null,
        "maskType": null,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": f.reference_to.len() > 1,
        "nillable": f.nillable,
        "permissionable": f.nillable && !f.calculated && writable,
        "picklistValues": picklist,
        "polymorphicForeignKey": f.reference_to.len() > 1,
        "precision": precision,
        "queryByDistance": t == FieldType::Address || t == FieldType::Location,
        "referenceTargetField": null,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "relationshipOrder": null,
        "restrictedDelete": false,
        "restrictedPicklist": false,
        "scale": scale,
        "searchPrefilterable": t == FieldType::Reference,
        "soapType": t.soap_type(),
        "sortable": !compound_container && !long_text,
        "type": t.api_name(),
        "unique": f.unique,
        "updateable": writable,
        "writeRequiresMasterRead": false,
    });
    if let (Some(h), Value::Object(t)) = (head.as_object_mut(), tail) {
        h.extend(t);
    }
    head
}
