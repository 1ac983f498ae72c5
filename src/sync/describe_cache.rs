//! Schema for runs and for the UI: describeGlobal and per-object describes cached in the
//! store, re-fetched when older than a day or on demand; object plans resolved against
//! them; the UI's `OrgSchema` built from them.
//!
//! Small once-a-day bookkeeping (permission check, formula re-reads) shares the store's
//! schema cache under keys that cannot be object names (they start with `__`).

use chrono::{DateTime, Duration, Utc};

use crate::config::ObjectSelection;
use crate::model::SkippedFields;
use crate::model::{FieldSchema, ObjectSchema, OrgSchema};
use crate::salesforce::client::DescribeRequest;
use crate::salesforce::types::{Describe, DescribeGlobal};
use crate::salesforce::{Client, Described};
use crate::store::{GLOBAL_SCHEMA, StoreField};
use crate::sync::SyncError;
use crate::sync::object_sync::ObjectPlan;
use crate::sync::shared_store::SharedStore;

/// Describes older than this are fetched again.
pub const MAX_AGE: Duration = Duration::days(1);
/// Bookkeeping key: when the authorizing user's permissions were last checked.
pub const PERMISSIONS_CHECKED: &str = "__permissions_checked__";

/// Bookkeeping key: when `object`'s formula columns were last re-read.
pub fn formulas_reread_key(object: &str) -> String {
    format!("__formulas_reread__:{object}")
}

/// Fields every plan reads itself; never part of the selection.
const SYSTEM_FIELDS: &[&str] = &["Id", "SystemModstamp", "IsDeleted"];

/// Bookkeeping key: the selected fields the last whole-source run could not copy (JSON).
pub const SKIPPED_FIELDS: &str = "__skipped_fields__";

/// Remember what the run skipped (nothing clears it), for `status` without a daemon and
/// for a restarted worker.
pub async fn save_skipped(
    store: &SharedStore,
    skipped: &[SkippedFields],
    at: DateTime<Utc>,
) -> Result<(), SyncError> {
    let json = serde_json::to_string(skipped).map_err(|e| SyncError::Internal(e.to_string()))?;
    store
        .with(move |s| s.put_schema(SKIPPED_FIELDS, &json, at, None, None))
        .await
}

/// What the last whole-source run skipped, from the store (empty when unknown).
pub fn load_skipped(store: &crate::store::Store) -> Vec<SkippedFields> {
    store
        .get_schema(SKIPPED_FIELDS)
        .ok()
        .flatten()
        .and_then(|c| serde_json::from_str(&c.json).ok())
        .unwrap_or_default()
}

/// When a bookkeeping key was last touched.
pub async fn last_done(store: &SharedStore, key: &str) -> Result<Option<DateTime<Utc>>, SyncError> {
    let key = key.to_string();
    Ok(store
        .with(move |s| s.get_schema(&key))
        .await?
        .map(|c| c.fetched_at))
}

pub async fn mark_done(store: &SharedStore, key: &str, at: DateTime<Utc>) -> Result<(), SyncError> {
    let key = key.to_string();
    store
        .with(move |s| s.put_schema(&key, "", at, None, None))
        .await
}

/// describeGlobal, from the cache when fresh (one call otherwise).
pub async fn global(
    client: &Client,
    store: &SharedStore,
    now: DateTime<Utc>,
    force: bool,
) -> Result<DescribeGlobal, SyncError> {
    if !force {
        let cached = store.with(|s| s.get_schema(GLOBAL_SCHEMA)).await?;
        if let Some(c) = cached.filter(|c| now - c.fetched_at < MAX_AGE)
            && let Ok(g) = serde_json::from_str::<DescribeGlobal>(&c.json)
        {
            return Ok(g);
        }
    }
    let fresh = client.describe_global().await?;
    let json = serde_json::to_string(&fresh).map_err(|e| SyncError::Internal(e.to_string()))?;
    store
        .with(move |s| s.put_schema(GLOBAL_SCHEMA, &json, now, None, None))
        .await?;
    Ok(fresh)
}

/// Describes of `objects`, in the order asked: fresh cache entries as they are, the rest
/// fetched together through composite (25 per call, each call counted once); a stale
/// cached copy is revalidated with `If-Modified-Since` and kept when unchanged. A
/// per-object failure stays with that object. Callers may zip the answer with `objects`:
/// a mixed cached/fetched answer once came back cached-first and handed objects each
/// other's describes.
pub async fn describes(
    client: &Client,
    store: &SharedStore,
    objects: &[String],
    now: DateTime<Utc>,
    force: bool,
) -> Result<Vec<(String, Result<Describe, SyncError>)>, SyncError> {
    let mut found: Vec<Option<Result<Describe, SyncError>>> = Vec::with_capacity(objects.len());
    let mut stale = Vec::new();
    let mut kept: Vec<(Describe, Option<String>)> = Vec::new();
    for object in objects {
        let key = object.clone();
        let cached = if force {
            None
        } else {
            store.with(move |s| s.get_schema(&key)).await?
        };
        let copy = cached.and_then(|c| {
            serde_json::from_str::<Describe>(&c.json)
                .ok()
                .filter(|d| d.name.eq_ignore_ascii_case(object))
                .map(|d| (d, c.fetched_at, c.last_modified))
        });
        match copy {
            Some((d, at, _)) if now - at < MAX_AGE => found.push(Some(Ok(d))),
            Some((d, at, last_modified)) => {
                let since = last_modified
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc2822(t).ok())
                    .map_or(at, |t| t.with_timezone(&Utc));
                stale.push(DescribeRequest {
                    object: object.clone(),
                    if_modified_since: Some(since),
                });
                kept.push((d, last_modified));
                found.push(None);
            }
            None => {
                stale.push(DescribeRequest {
                    object: object.clone(),
                    if_modified_since: None,
                });
                found.push(None);
            }
        }
    }
    if !stale.is_empty() {
        let answers = client.describe_composite(&stale).await?;
        for (object, result) in answers {
            let result = match result {
                Ok(Described::Fresh {
                    describe,
                    last_modified,
                }) => {
                    save_describe(store, &object, &describe, now, last_modified).await?;
                    Ok(*describe)
                }
                Ok(Described::NotModified) => {
                    let copy = kept
                        .iter()
                        .find(|(d, _)| d.name.eq_ignore_ascii_case(&object))
                        .cloned();
                    match copy {
                        Some((describe, last_modified)) => {
                            save_describe(store, &object, &describe, now, last_modified).await?;
                            Ok(describe)
                        }
                        None => Err(SyncError::Internal(format!(
                            "the describe of {object} was not modified but no copy is cached"
                        ))),
                    }
                }
                Err(e) => Err(SyncError::from(e)),
            };
            if let Some(slot) = objects
                .iter()
                .zip(found.iter_mut())
                .find(|(name, slot)| **name == object && slot.is_none())
                .map(|(_, slot)| slot)
            {
                *slot = Some(result);
            }
        }
    }
    Ok(objects
        .iter()
        .zip(found)
        .map(|(object, result)| {
            let result = result.unwrap_or_else(|| {
                Err(SyncError::Internal(format!(
                    "the describe of {object} was not answered"
                )))
            });
            (object.clone(), result)
        })
        .collect())
}

/// Cache a describe (fetched or revalidated at `now`) with its `Last-Modified`.
async fn save_describe(
    store: &SharedStore,
    object: &str,
    describe: &Describe,
    now: DateTime<Utc>,
    last_modified: Option<String>,
) -> Result<(), SyncError> {
    let json = serde_json::to_string(describe).map_err(|e| SyncError::Internal(e.to_string()))?;
    let key = object.to_string();
    store
        .with(move |s| s.put_schema(&key, &json, now, None, last_modified.as_deref()))
        .await
}

/// One object's describe for `syncdeck schema --object`: the cache when fresh, else one
/// call that revalidates a stale entry with If-Modified-Since (a 304 keeps the entry).
pub async fn revalidated(
    client: &Client,
    store: &SharedStore,
    object: &str,
    now: DateTime<Utc>,
) -> Result<Describe, SyncError> {
    let key = object.to_string();
    let cached = store.with(move |s| s.get_schema(&key)).await?;
    if let Some(c) = &cached
        && now - c.fetched_at < MAX_AGE
        && let Ok(describe) = serde_json::from_str(&c.json)
    {
        return Ok(describe);
    }
    let since = cached.as_ref().map(|c| c.fetched_at);
    let key = object.to_string();
    match client.describe(object, since).await? {
        Described::Fresh {
            describe,
            last_modified,
        } => {
            let json =
                serde_json::to_string(&describe).map_err(|e| SyncError::Internal(e.to_string()))?;
            store
                .with(move |s| s.put_schema(&key, &json, now, None, last_modified.as_deref()))
                .await?;
            Ok(*describe)
        }
        Described::NotModified => {
            let Some(c) = cached else {
                return Err(SyncError::Internal(
                    "Salesforce answered 304 Not Modified without a cached describe".into(),
                ));
            };
            let describe =
                serde_json::from_str(&c.json).map_err(|e| SyncError::Internal(e.to_string()))?;
            store
                .with(move |s| {
                    s.put_schema(
                        &key,
                        &c.json,
                        now,
                        c.etag.as_deref(),
                        c.last_modified.as_deref(),
                    )
                })
                .await?;
            Ok(describe)
        }
    }
}

/// Resolve a selection against the describe. Returns the plan and the selected fields the
/// describe does not have (deleted, renamed, or not readable by the authorizing user).
pub fn plan(
    object: &str,
    selection: &ObjectSelection,
    describe: &Describe,
) -> (ObjectPlan, Vec<String>) {
    let mut fields = Vec::new();
    let mut store_fields = Vec::new();
    let mut formula_fields = Vec::new();
    let mut missing = Vec::new();
    for name in &selection.fields {
        if SYSTEM_FIELDS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            continue;
        }
        match describe.field(name) {
            Some(f) => {
                if fields
                    .iter()
                    .any(|x: &String| x.eq_ignore_ascii_case(&f.name))
                {
                    continue;
                }
                fields.push(f.name.clone());
                store_fields.push(
                    StoreField::new(f.name.clone(), f.field_type.clone())
                        .with_digits(f.precision, f.scale),
                );
                if f.calculated {
                    formula_fields.push(f.name.clone());
                }
            }
            None => missing.push(name.clone()),
        }
    }
    let has_modstamp = describe.has_system_modstamp();
    if has_modstamp {
        store_fields.push(StoreField::new("SystemModstamp", "datetime"));
    }
    (
        ObjectPlan {
            object: object.to_string(),
            fields,
            store_fields,
            has_modstamp,
            formula_fields,
        },
        missing,
    )
}

/// The UI's view of the org: every sync candidate, with fields for the described ones.
pub fn org_schema(global: &DescribeGlobal, described: &[Describe]) -> OrgSchema {
    let mut objects: Vec<ObjectSchema> = global
        .sobjects
        .iter()
        .filter(|o| o.is_sync_candidate())
        .map(|o| ObjectSchema {
            name: o.name.clone(),
            label: o.label.clone(),
            custom: o.custom,
            record_count: None,
            fields: described
                .iter()
                .find(|d| d.name == o.name)
                .map(object_fields)
                .unwrap_or_default(),
            load_error: None,
        })
        .collect();
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    OrgSchema { objects }
}

/// `schema` with the fields of `described` filled in; objects it does not list are ignored.
pub fn with_fields(schema: &OrgSchema, described: &[Describe]) -> OrgSchema {
    let mut merged = schema.clone();
    for d in described {
        if let Some(object) = merged.objects.iter_mut().find(|o| o.name == d.name) {
            object.fields = object_fields(d);
            object.load_error = None;
        }
    }
    merged
}

/// `schema` with the reasons some objects' fields could not be loaded, so the field screen
/// stops waiting for them and says why.
pub fn with_load_errors(schema: &OrgSchema, failed: &[(String, String)]) -> OrgSchema {
    let mut marked = schema.clone();
    for (name, reason) in failed {
        if let Some(object) = marked.objects.iter_mut().find(|o| o.name == *name) {
            object.load_error = Some(reason.clone());
        }
    }
    marked
}

/// Fill objects that `fresh` left without fields (describe skipped or failed) from
/// `previous`, so fields already shown do not disappear on a reload.
pub fn keep_known_fields(fresh: &mut OrgSchema, previous: &OrgSchema) {
    for object in fresh.objects.iter_mut().filter(|o| o.fields.is_empty()) {
        if let Some(old) = previous.objects.iter().find(|o| o.name == object.name) {
            object.fields = old.fields.clone();
        }
    }
}

/// Record counts only price the review; reloading the schema keeps them rather than
/// spending a call on each open of Edit Data Sync.
pub fn keep_record_counts(fresh: &mut OrgSchema, previous: &OrgSchema) {
    for object in fresh
        .objects
        .iter_mut()
        .filter(|o| o.record_count.is_none())
    {
        if let Some(old) = previous.objects.iter().find(|o| o.name == object.name) {
            object.record_count = old.record_count;
        }
    }
}

/// A describe's fields as the UI shows them, sorted by API name (also `syncdeck schema`).
pub fn object_fields(d: &Describe) -> Vec<FieldSchema> {
    let mut fields: Vec<FieldSchema> = d
        .fields
        .iter()
        .map(|f| FieldSchema {
            name: f.name.clone(),
            label: f.label.clone(),
            field_type: f.field_type.clone(),
            custom: f.custom,
            formula: f.calculated,
            compound: f.is_compound(),
            required: f.is_required(),
            filterable: f.filterable,
            compound_parent: f.compound_field_name.clone(),
        })
        .collect();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn describe() -> Describe {
        serde_json::from_value(json!({
            "name": "Account",
            "fields": [
                {"name": "Id", "type": "id"},
                {"name": "Name", "type": "string"},
                {"name": "SystemModstamp", "type": "datetime"},
                {"name": "Score__c", "type": "double", "calculated": true},
                {"name": "BillingAddress", "type": "address"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn plan_keeps_existing_fields_and_reports_missing_ones() {
        let selection = ObjectSelection {
            fields: vec![
                "Id".into(),
                "name".into(),
                "Score__c".into(),
                "Gone__c".into(),
                "BillingAddress".into(),
                "Name".into(),
            ],
        };
        let (plan, missing) = plan("Account", &selection, &describe());
        assert_eq!(plan.fields, vec!["Name", "Score__c", "BillingAddress"]);
        assert_eq!(plan.formula_fields, vec!["Score__c"]);
        assert!(plan.has_modstamp);
        let names: Vec<_> = plan.store_fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["Name", "Score__c", "BillingAddress", "SystemModstamp"]
        );
        assert_eq!(missing, vec!["Gone__c"]);
    }

    fn listed(names: &[&str]) -> OrgSchema {
        OrgSchema {
            objects: names
                .iter()
                .map(|n| ObjectSchema {
                    name: n.to_string(),
                    ..ObjectSchema::default()
                })
                .collect(),
        }
    }

    #[test]
    fn with_fields_fills_listed_objects_only() {
        let mut other = describe();
        other.name = "Unlisted".into();
        let merged = with_fields(&listed(&["Account", "Contact"]), &[describe(), other]);
        let names: Vec<_> = merged.objects[0].fields.iter().map(|f| &f.name).collect();
        assert_eq!(
            names,
            ["BillingAddress", "Id", "Name", "Score__c", "SystemModstamp"]
        );
        assert!(merged.objects[1].fields.is_empty());
        assert_eq!(merged.objects.len(), 2);
    }

    #[test]
    fn a_reload_keeps_fields_it_did_not_fetch_again() {
        let previous = with_fields(&listed(&["Account", "Contact"]), &[describe()]);
        let mut fresh = listed(&["Account", "Contact"]);
        keep_known_fields(&mut fresh, &previous);
        assert_eq!(fresh, previous);
    }
}
