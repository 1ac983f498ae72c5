//! The records of a query page in a compact layout: the response text, the page's field
//! names once, and one small cell per value that points into the text. The client's wire
//! decoder (`salesforce::types`) fills them through the crate-visible builder methods.
//!
//! Why: a sync reads millions of records. Parsing each into a map of owned strings cost
//! about half of a full sync's CPU (allocating and freeing keys, values and tree nodes).
//! Here a page costs one text buffer, one cell vector and a handful of owned values
//! (strings with escapes, nested objects).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

/// One field's value in one record, borrowed from its page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(&'a str),
    /// An object or array: a compound field (address, location) or a relationship.
    Json(&'a Value),
}

impl<'a> FieldValue<'a> {
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            FieldValue::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(self) -> Option<bool> {
        match self {
            FieldValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_null(self) -> bool {
        matches!(self, FieldValue::Null)
    }

    pub fn to_value(self) -> Value {
        match self {
            FieldValue::Null => Value::Null,
            FieldValue::Bool(b) => Value::Bool(b),
            FieldValue::Int(i) => Value::from(i),
            FieldValue::UInt(u) => Value::from(u),
            FieldValue::Float(f) => Value::from(f),
            FieldValue::Text(s) => Value::String(s.to_string()),
            FieldValue::Json(v) => v.clone(),
        }
    }
}

impl<'a> From<&'a Value> for FieldValue<'a> {
    fn from(value: &'a Value) -> FieldValue<'a> {
        match value {
            Value::Null => FieldValue::Null,
            Value::Bool(b) => FieldValue::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(FieldValue::Int)
                .or_else(|| n.as_u64().map(FieldValue::UInt))
                .unwrap_or_else(|| FieldValue::Float(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => FieldValue::Text(s),
            other => FieldValue::Json(other),
        }
    }
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

/// A value's place: inline, a span of the page text, or an owned value on the side.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell {
    /// The record has no such key.
    Missing,
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text {
        start: u32,
        len: u32,
    },
    Owned(u32),
}

/// The records of one page. Rows keep the server's order; columns are the record keys in
/// the order first seen (`attributes` is left out).
#[derive(Clone, Default)]
pub struct Records {
    /// The response body (an `Arc<String>` rather than `Arc<str>`, which would copy it).
    text: Arc<String>,
    columns: Vec<String>,
    /// Column of each name: lookups stay O(1) on wide pages.
    index: HashMap<String, usize>,
    /// Row-major, `stride` cells per row. `stride == columns.len()` except while parsing.
    cells: Vec<Cell>,
    stride: usize,
    rows: usize,
    owned: Vec<Value>,
}

/// One record of a page.
#[derive(Clone, Copy)]
pub struct RecordRef<'a> {
    records: &'a Records,
    row: usize,
}

impl<'a> RecordRef<'a> {
    pub fn get(&self, field: &str) -> Option<FieldValue<'a>> {
        let column = self.records.column(field)?;
        self.records.value(self.row, column)
    }

    /// The value in a column found with [`Records::column`].
    pub fn at(&self, column: usize) -> Option<FieldValue<'a>> {
        self.records.value(self.row, column)
    }

    pub fn id(&self) -> Option<&'a str> {
        self.get("Id").and_then(FieldValue::as_str)
    }

    /// `IsDeleted = true` (queryAll's deleted and archived rows).
    pub fn is_deleted(&self) -> bool {
        self.get("IsDeleted").and_then(FieldValue::as_bool) == Some(true)
    }

    pub fn to_map(&self) -> Map<String, Value> {
        let records = self.records;
        (0..records.columns.len())
            .filter_map(|c| {
                let value = records.value(self.row, c)?;
                Some((records.columns[c].clone(), value.to_value()))
            })
            .collect()
    }
}

impl Records {
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The column of a field; resolve once per page, then read rows with [`RecordRef::at`].
    pub fn column(&self, field: &str) -> Option<usize> {
        self.index.get(field).copied()
    }

    pub fn row(&self, row: usize) -> Option<RecordRef<'_>> {
        (row < self.rows).then_some(RecordRef { records: self, row })
    }

    pub fn last(&self) -> Option<RecordRef<'_>> {
        self.rows.checked_sub(1).and_then(|r| self.row(r))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = RecordRef<'_>> + '_ {
        (0..self.rows).map(move |row| RecordRef { records: self, row })
    }

    pub fn to_maps(&self) -> Vec<Map<String, Value>> {
        self.iter().map(|r| r.to_map()).collect()
    }

    fn value(&self, row: usize, column: usize) -> Option<FieldValue<'_>> {
        if column >= self.columns.len() {
            return None;
        }
        let cell = *self.cells.get(row * self.columns.len() + column)?;
        Some(match cell {
            Cell::Missing => return None,
            Cell::Null => FieldValue::Null,
            Cell::Bool(b) => FieldValue::Bool(b),
            Cell::Int(i) => FieldValue::Int(i),
            Cell::UInt(u) => FieldValue::UInt(u),
            Cell::Float(f) => FieldValue::Float(f),
            Cell::Text { start, len } => {
                let start = start as usize;
                FieldValue::Text(self.text.get(start..start + len as usize)?)
            }
            Cell::Owned(i) => FieldValue::from(self.owned.get(i as usize)?),
        })
    }

    /// The first `rows` rows (a page cut where rows another reader reads begin).
    pub fn take_rows(self, rows: usize) -> Records {
        if rows >= self.rows {
            return self;
        }
        self.partition(|r| r.row < rows).0
    }

    /// Split into the rows that match and those that do not, sharing the page text.
    pub fn partition(self, matches: impl Fn(RecordRef<'_>) -> bool) -> (Records, Records) {
        let keep: Vec<bool> = self.iter().map(&matches).collect();
        let empty = || Records {
            text: self.text.clone(),
            columns: self.columns.clone(),
            index: self.index.clone(),
            stride: self.stride,
            ..Records::default()
        };
        // The usual page has no deleted rows: nothing to copy.
        if keep.iter().all(|k| !k) {
            return (empty(), self);
        }
        if keep.iter().all(|k| *k) {
            let none = empty();
            return (self, none);
        }
        let pick = |wanted: bool| {
            let mut out = empty();
            let width = self.columns.len();
            for (row, _) in keep.iter().enumerate().filter(|(_, k)| **k == wanted) {
                let cells = &self.cells[row * width..(row + 1) * width];
                for cell in cells {
                    let cell = match cell {
                        Cell::Owned(i) => out.push_owned(
                            self.owned.get(*i as usize).cloned().unwrap_or(Value::Null),
                        ),
                        other => *other,
                    };
                    out.cells.push(cell);
                }
                out.rows += 1;
            }
            out
        };
        (pick(true), pick(false))
    }

    /// Add fields to rows: `extra` holds (row, fields) pairs, new columns are added once
    /// (joins of split queries, which bring hundreds of columns per field group).
    pub fn merge_rows(&mut self, extra: Vec<(usize, Map<String, Value>)>) {
        let extra: Vec<_> = extra
            .into_iter()
            .filter(|(row, _)| *row < self.rows)
            .collect();
        let mut new_columns = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for key in extra.iter().flat_map(|(_, fields)| fields.keys()) {
            if key != "attributes" && !self.index.contains_key(key) && seen.insert(key) {
                new_columns.push(key.clone());
            }
        }
        self.add_columns(new_columns);
        let width = self.columns.len();
        for (row, fields) in extra {
            for (key, value) in fields {
                let Some(column) = self.column(&key) else {
                    continue;
                };
                let cell = self.push_owned(value);
                if let Some(slot) = self.cells.get_mut(row * width + column) {
                    *slot = cell;
                }
            }
        }
    }

    /// Records from maps (tests, and values built in code).
    pub fn from_maps(maps: Vec<Map<String, Value>>) -> Records {
        let mut records = Records::default();
        for _ in &maps {
            records.start_row();
        }
        records.merge_rows(maps.into_iter().enumerate().collect());
        records
    }

    /// Empty records whose text cells point into `text` (a response body being decoded).
    pub(crate) fn over_text(text: Arc<String>) -> Records {
        Records {
            text,
            ..Records::default()
        }
    }

    /// While decoding text that is written as the rows are read (a CSV page): the cells
    /// point into `text`, which is complete only once the page is.
    pub(crate) fn set_text(&mut self, text: Arc<String>) {
        self.text = text;
    }

    /// While decoding: store a cell of the current layout.
    pub(crate) fn set_cell(&mut self, row: usize, column: usize, cell: Cell) {
        if let Some(slot) = self.cells.get_mut(row * self.stride + column) {
            *slot = cell;
        }
    }

    /// While decoding: drop the spare room left for keys not seen yet.
    pub(crate) fn fit_columns(&mut self) {
        self.restride(self.columns.len());
    }

    /// While decoding: a new row of missing cells; returns its index.
    pub(crate) fn start_row(&mut self) -> usize {
        self.cells
            .extend(std::iter::repeat_n(Cell::Missing, self.stride));
        self.rows += 1;
        self.rows - 1
    }

    /// Widen every row at once: one copy of the cells however many columns are added.
    fn add_columns(&mut self, names: Vec<String>) {
        if names.is_empty() {
            return;
        }
        for name in names {
            self.index.insert(name.clone(), self.columns.len());
            self.columns.push(name);
        }
        self.restride(self.columns.len());
    }

    /// Lay rows `stride` cells apart (wider: new cells are missing; narrower: only ever
    /// drops unused room). One copy of the cells.
    fn restride(&mut self, stride: usize) {
        let old = self.stride;
        if stride == old {
            return;
        }
        let kept = old.min(stride);
        let mut cells = Vec::with_capacity(self.rows * stride);
        for row in 0..self.rows {
            cells.extend_from_slice(&self.cells[row * old..row * old + kept]);
            cells.extend(std::iter::repeat_n(Cell::Missing, stride - kept));
        }
        self.cells = cells;
        self.stride = stride;
    }

    /// A value as a cell: inline when it fits, else kept on the side.
    pub(crate) fn push_owned(&mut self, value: Value) -> Cell {
        match value {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(b),
            Value::Number(n) if n.is_i64() => Cell::Int(n.as_i64().unwrap_or_default()),
            Value::Number(n) if n.is_u64() => Cell::UInt(n.as_u64().unwrap_or_default()),
            Value::Number(n) if n.is_f64() => Cell::Float(n.as_f64().unwrap_or_default()),
            other => {
                self.owned.push(other);
                Cell::Owned((self.owned.len() - 1) as u32)
            }
        }
    }

    /// While parsing: the column of a key in the current row. `hint` is where the previous
    /// key's column was, since Salesforce writes every record's keys in the same order;
    /// otherwise one hash lookup. A new key beyond `max_columns` is an error: a page has
    /// no more distinct fields than its query selected.
    pub(crate) fn column_for(
        &mut self,
        key: &str,
        hint: usize,
        max_columns: usize,
    ) -> Result<usize, String> {
        if let Some(c) = self.columns.get(hint)
            && c == key
        {
            return Ok(hint);
        }
        if let Some(c) = self.column(key) {
            return Ok(c);
        }
        let column = self.columns.len();
        if column >= max_columns {
            return Err(format!(
                "a query page has more than {max_columns} distinct fields, more than its query selected; the response is not what Salesforce sends"
            ));
        }
        self.columns.push(key.to_string());
        self.index.insert(key.to_string(), column);
        if column >= self.stride {
            // Room doubles, so keys turning up late in a long page cost copies linear in
            // the page's final size, never one copy of every row per key.
            self.restride((self.stride * 2).max(column + 1).max(8));
        }
        Ok(column)
    }
}

impl PartialEq for Records {
    fn eq(&self, other: &Records) -> bool {
        self.rows == other.rows && self.to_maps() == other.to_maps()
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("rows", &self.rows)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn maps(v: Value) -> Vec<Map<String, Value>> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn records_from_maps_read_back_as_built() {
        let records = Records::from_maps(maps(json!([
            {"Id": "1", "Name": "n", "N": 3, "Big": 18446744073709551615u64, "F": 1.5,
             "Owner": {"Name": "Ann"}, "Fax": null},
            {"Id": "2", "Name": null, "IsDeleted": true}
        ])));
        assert_eq!(records.len(), 2);
        let a = records.row(0).unwrap();
        assert_eq!(a.id(), Some("1"));
        assert_eq!(a.get("N"), Some(FieldValue::Int(3)));
        assert_eq!(a.get("Big"), Some(FieldValue::UInt(u64::MAX)));
        assert_eq!(a.get("F"), Some(FieldValue::Float(1.5)));
        assert_eq!(
            a.get("Owner").map(FieldValue::to_value),
            Some(json!({"Name": "Ann"}))
        );
        assert_eq!(a.get("Fax"), Some(FieldValue::Null));
        assert_eq!(a.get("IsDeleted"), None, "a key the record does not have");
        assert!(!a.is_deleted());
        assert!(records.last().unwrap().is_deleted());
        assert!(records.row(2).is_none());
    }

    #[test]
    fn partition_splits_rows_and_keeps_owned_values() {
        let records = Records::from_maps(maps(json!([
            {"Id": "1", "IsDeleted": false, "Addr": {"City": "X"}},
            {"Id": "2", "IsDeleted": true, "Addr": null},
            {"Id": "3", "IsDeleted": false, "Addr": {"City": "Y"}}
        ])));
        let (deleted, live) = records.partition(|r| r.is_deleted());
        assert_eq!(
            deleted.iter().filter_map(|r| r.id()).collect::<Vec<_>>(),
            ["2"]
        );
        assert_eq!(
            live.row(1).unwrap().get("Addr").map(FieldValue::to_value),
            Some(json!({"City": "Y"}))
        );
        let (none, all) = live.partition(|r| r.is_deleted());
        assert!(none.is_empty());
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn merge_rows_adds_columns_once_and_ignores_rows_out_of_range() {
        let mut records = Records::from_maps(maps(json!([{"Id": "1"}, {"Id": "2"}])));
        let extra = |v: Value| v.as_object().cloned().unwrap();
        records.merge_rows(vec![
            (1, extra(json!({"Extra": "x", "attributes": {"type": "T"}}))),
            (5, extra(json!({"Ignored": "out of range"}))),
        ]);
        assert_eq!(records.columns(), ["Id", "Extra"]);
        assert_eq!(
            records.row(1).unwrap().get("Extra"),
            Some(FieldValue::Text("x"))
        );
        assert_eq!(records.row(0).unwrap().get("Extra"), None);
        assert_eq!(records.row(1).unwrap().get("attributes"), None);
    }
}
