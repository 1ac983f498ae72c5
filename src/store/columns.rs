//! Which columns an object table has for its selected fields, and where each column's value
//! sits in a query record: the layout both store implementations share.

use serde_json::Value;

use crate::config::sfname;
use crate::model::{FieldValue, RecordRef, Records};

use super::{StoreError, StoreField, types};

/// One column of an object table: a scalar field, or one component of a compound field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedColumn {
    pub name: String,
    pub field: String,
    pub component: Option<String>,
    /// Describe type of the field (of the compound field for a component).
    pub sf_type: String,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
}

/// The columns for `fields` (names validated; `Id` is the primary key, not a column here).
pub fn plan_columns(object: &str, fields: &[StoreField]) -> Result<Vec<PlannedColumn>, StoreError> {
    sfname::check_object_name(object).map_err(|why| StoreError::BadName(object.into(), why))?;
    let mut wanted = Vec::new();
    for f in fields {
        sfname::check_field_name(&f.name)
            .map_err(|why| StoreError::BadName(f.name.clone(), why))?;
        if f.name == "Id" {
            continue;
        }
        let components: Vec<String> = if !f.compound_components.is_empty() {
            f.compound_components.clone()
        } else if let Some(c) = types::default_components(&f.sf_type) {
            c.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        };
        if components.is_empty() {
            wanted.push(PlannedColumn {
                name: f.name.clone(),
                field: f.name.clone(),
                component: None,
                sf_type: f.sf_type.clone(),
                precision: f.precision,
                scale: f.scale,
            });
        } else {
            for c in components {
                wanted.push(PlannedColumn {
                    name: types::component_column(&f.name, &c),
                    field: f.name.clone(),
                    component: Some(c),
                    sf_type: f.sf_type.clone(),
                    precision: None,
                    scale: None,
                });
            }
        }
    }
    Ok(wanted)
}

/// Where each store column's field is among a page's columns, resolved once per page.
pub(crate) struct PageLayout {
    id: Option<usize>,
    fields: Vec<Option<usize>>,
}

/// A column's field and compound component, as the layout needs them.
pub(crate) trait ColumnSource {
    fn field(&self) -> &str;
    fn component(&self) -> Option<&str>;
}

impl PageLayout {
    pub(crate) fn new<C: ColumnSource>(records: &Records, columns: &[C]) -> PageLayout {
        PageLayout {
            id: records.column("Id"),
            fields: columns.iter().map(|c| records.column(c.field())).collect(),
        }
    }

    /// The record's Id; a record without one cannot be stored.
    pub(crate) fn id<'r>(
        &self,
        object: &str,
        record: RecordRef<'r>,
    ) -> Result<&'r str, StoreError> {
        self.id
            .and_then(|c| record.at(c))
            .and_then(FieldValue::as_str)
            .ok_or_else(|| bad_record(object, "it has no string Id".into()))
    }

    /// Calls `each(column index, value)` for the columns present in `record`, in column
    /// order. Fields the page does not carry are skipped, so they are left untouched on
    /// update (a formula re-read selects only some columns); relationship objects and
    /// unselected fields have no column.
    pub(crate) fn values<'r, C: ColumnSource>(
        &self,
        object: &str,
        id: &str,
        record: RecordRef<'r>,
        columns: &[C],
        mut each: impl FnMut(usize, FieldValue<'r>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for (index, (col, field)) in columns.iter().zip(&self.fields).enumerate() {
            let Some(value) = field.and_then(|c| record.at(c)) else {
                continue;
            };
            let v = match (col.component(), value) {
                (Some(component), FieldValue::Json(Value::Object(parts))) => parts
                    .get(component)
                    .map_or(FieldValue::Null, FieldValue::from),
                (Some(_), FieldValue::Null) => FieldValue::Null,
                (Some(_), _) => {
                    return Err(bad_record(
                        object,
                        format!("{id}: {} should be an object with components", col.field()),
                    ));
                }
                (None, v) => v,
            };
            each(index, v)?;
        }
        Ok(())
    }
}

pub(crate) fn bad_record(object: &str, reason: String) -> StoreError {
    StoreError::BadRecord {
        object: object.to_string(),
        reason,
    }
}
