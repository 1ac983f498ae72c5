//! The records of a query page in a compact layout: the response text, the page's field
//! names once, and one small cell per value that points into the text.
//!
//! Why: a sync reads millions of records. Parsing each into a map of owned strings cost
//! about half of a full sync's CPU (allocating and freeing keys, values and tree nodes).
//! Here a page costs one text buffer, one cell vector and a handful of owned values
//! (strings with escapes, nested objects).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
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
enum Cell {
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

/// Distinct fields a query page may have when the query's own field list is not known.
pub const MAX_PAGE_FIELDS: usize = 1024;

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

    /// Parse the `records` array of a query response held in `text`.
    fn parse_records<'de, A: SeqAccess<'de>>(
        &mut self,
        base: &str,
        max_columns: usize,
        seq: A,
    ) -> Result<(), A::Error> {
        let mut seq = seq;
        while seq
            .next_element_seed(RecordSeed {
                records: self,
                base,
                max_columns,
            })?
            .is_some()
        {
            if self.rows == 1 {
                // The first record shows the usual width: no spare room from here on.
                self.restride(self.columns.len());
            }
        }
        Ok(())
    }

    fn start_row(&mut self) {
        self.cells
            .extend(std::iter::repeat_n(Cell::Missing, self.stride));
        self.rows += 1;
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

    fn push_owned(&mut self, value: Value) -> Cell {
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
    fn column_for(&mut self, key: &str, hint: usize, max_columns: usize) -> Result<usize, String> {
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

/// A query response: `totalSize`, `done`, `nextRecordsUrl` and the records.
pub(crate) struct PageParts {
    pub total_size: u64,
    pub done: bool,
    pub next_records_url: Option<String>,
    pub records: Records,
}

/// Parse a query response. The text is kept by the records, which point into it.
/// A page with more distinct record keys than `max_columns` is an error.
pub(crate) fn parse_page(
    body: Vec<u8>,
    max_columns: usize,
) -> Result<PageParts, serde_json::Error> {
    let text = match String::from_utf8(body) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            return Err(de::Error::custom(format!(
                "the response is not UTF-8 ({})",
                e.utf8_error()
            )));
        }
    };
    let mut records = Records {
        text: text.clone(),
        ..Records::default()
    };
    let mut de = serde_json::Deserializer::from_str(&text);
    let (total_size, done, next_records_url) = PageSeed {
        records: &mut records,
        base: &text,
        max_columns,
    }
    .deserialize(&mut de)?;
    de.end()?;
    records.restride(records.columns.len());
    Ok(PageParts {
        total_size,
        done,
        next_records_url,
        records,
    })
}

struct PageSeed<'r, 'b> {
    records: &'r mut Records,
    base: &'b str,
    max_columns: usize,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_, '_> {
    type Value = (u64, bool, Option<String>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_, '_> {
    type Value = (u64, bool, Option<String>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a query result object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut total_size, mut done, mut next) = (None, None, None);
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.as_str() {
                "totalSize" => total_size = Some(map.next_value::<u64>()?),
                "done" => done = Some(map.next_value::<bool>()?),
                "nextRecordsUrl" => next = map.next_value::<Option<String>>()?,
                "records" => map.next_value_seed(RecordsSeed {
                    records: &mut *self.records,
                    base: self.base,
                    max_columns: self.max_columns,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let total_size = total_size.ok_or_else(|| de::Error::missing_field("totalSize"))?;
        let done = done.ok_or_else(|| de::Error::missing_field("done"))?;
        Ok((total_size, done, next))
    }
}

struct RecordsSeed<'r, 'b> {
    records: &'r mut Records,
    base: &'b str,
    max_columns: usize,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.records.parse_records(self.base, self.max_columns, seq)
    }
}

struct RecordSeed<'r, 'b> {
    records: &'r mut Records,
    base: &'b str,
    max_columns: usize,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let records = self.records;
        records.start_row();
        let row = records.rows - 1;
        let mut hint = 0;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if key.as_str() == "attributes" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let column = records
                .column_for(key.as_str(), hint, self.max_columns)
                .map_err(de::Error::custom)?;
            hint = column + 1;
            let cell = map.next_value_seed(CellSeed {
                records: &mut *records,
                base: self.base,
            })?;
            let stride = records.stride;
            if let Some(slot) = records.cells.get_mut(row * stride + column) {
                *slot = cell;
            }
        }
        Ok(())
    }
}

/// A record key, borrowed from the page unless it had escapes (serde's `Cow` always copies).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct CellSeed<'r, 'b> {
    records: &'r mut Records,
    base: &'b str,
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_, '_> {
    type Value = Cell;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cell, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_, '_> {
    type Value = Cell;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Cell, E> {
        Ok(Cell::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Cell, E> {
        Ok(Cell::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Cell, E> {
        Ok(Cell::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
        Ok(Cell::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
        Ok(i64::try_from(v).map_or(Cell::UInt(v), Cell::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
        Ok(Cell::Float(v))
    }

    /// Unescaped text is a slice of the page: record where it is.
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cell, E> {
        let base = self.base.as_ptr() as usize;
        let at = v.as_ptr() as usize;
        let inside = at >= base && at + v.len() <= base + self.base.len();
        match (
            inside,
            u32::try_from(at.wrapping_sub(base)),
            u32::try_from(v.len()),
        ) {
            (true, Ok(start), Ok(len)) => Ok(Cell::Text { start, len }),
            _ => self.visit_str(v),
        }
    }

    /// Text with escapes was decoded into a buffer of the parser's: keep a copy.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
        Ok(self.records.push_owned(Value::String(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Cell, E> {
        Ok(self.records.push_owned(Value::String(v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Cell, A::Error> {
        let value = Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(self.records.push_owned(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Cell, A::Error> {
        let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(self.records.push_owned(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> PageParts {
        parse_page(serde_json::to_vec(&v).unwrap(), MAX_PAGE_FIELDS).unwrap()
    }

    #[test]
    fn values_come_back_as_the_json_had_them() {
        let page = parse(json!({
            "totalSize": 2, "done": false, "nextRecordsUrl": "/services/data/v62.0/query/01g-2000",
            "records": [
                {"attributes": {"type": "Account"}, "Id": "001A", "Name": "Acme \"Inc\"\n",
                 "Employees": 12, "Big": 18446744073709551615u64, "Revenue": 1.5, "Active": true,
                 "Owner": {"Name": "Ann"}, "Tags": [1, 2], "Fax": null},
                {"Id": "001B", "Name": "Beta", "Employees": -3, "Revenue": 2.0, "Active": false,
                 "Owner": null, "Tags": [], "Fax": null, "Big": 0, "Extra": "late"}
            ]
        }));
        assert_eq!((page.total_size, page.done), (2, false));
        assert_eq!(
            page.next_records_url.as_deref(),
            Some("/services/data/v62.0/query/01g-2000")
        );
        let records = page.records;
        assert_eq!(records.len(), 2);
        let a = records.row(0).unwrap();
        assert_eq!(a.id(), Some("001A"));
        assert_eq!(a.get("Name"), Some(FieldValue::Text("Acme \"Inc\"\n")));
        assert_eq!(a.get("Employees"), Some(FieldValue::Int(12)));
        assert_eq!(a.get("Big"), Some(FieldValue::UInt(u64::MAX)));
        assert_eq!(a.get("Revenue"), Some(FieldValue::Float(1.5)));
        assert_eq!(a.get("Active"), Some(FieldValue::Bool(true)));
        assert_eq!(
            a.get("Owner").map(FieldValue::to_value),
            Some(json!({"Name": "Ann"}))
        );
        assert_eq!(a.get("Tags").map(FieldValue::to_value), Some(json!([1, 2])));
        assert_eq!(a.get("Fax"), Some(FieldValue::Null));
        assert_eq!(a.get("Extra"), None, "a key the record does not have");
        assert_eq!(a.get("attributes"), None);
        let b = records.last().unwrap();
        assert_eq!(b.get("Extra"), Some(FieldValue::Text("late")));
        assert_eq!(b.get("Employees"), Some(FieldValue::Int(-3)));
        assert_eq!(b.to_map()["Owner"], Value::Null);
        assert!(!a.is_deleted());
    }

    #[test]
    fn keys_in_another_order_land_in_their_columns() {
        let page = parse(json!({"totalSize": 2, "done": true, "records": [
            {"Id": "1", "A": "a1", "B": "b1"},
            {"B": "b2", "Id": "2", "A": "a2"}
        ]}));
        let maps = page.records.to_maps();
        assert_eq!(
            maps[1],
            json!({"Id": "2", "A": "a2", "B": "b2"})
                .as_object()
                .unwrap()
                .clone()
        );
    }

    #[test]
    fn an_empty_or_missing_records_array_is_no_rows() {
        assert!(
            parse(json!({"totalSize": 0, "done": true, "records": []}))
                .records
                .is_empty()
        );
        assert!(
            parse(json!({"totalSize": 7, "done": true}))
                .records
                .is_empty()
        );
    }

    #[test]
    fn malformed_pages_are_errors_not_panics() {
        for body in [
            &b"{\"done\": true, \"records\": []}"[..],
            b"{\"totalSize\": 1, \"done\": true, \"records\": [{\"Id\": }]}",
            b"{\"totalSize\": 1, \"done\": true, \"records\": [1]}",
            b"{\"totalSize\": 1, \"done\": true, \"records\": {}}",
            b"{\"totalSize\": 1, \"done\": true} trailing",
            b"\xff\xfe",
            b"[]",
        ] {
            assert!(
                parse_page(body.to_vec(), MAX_PAGE_FIELDS).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    /// A page of `rows` records whose keys all differ (`Id` aside).
    fn every_key_new(rows: usize) -> Vec<u8> {
        let records: Vec<Value> = (0..rows)
            .map(|i| json!({"Id": format!("r{i}"), (format!("F{i}__c")): i}))
            .collect();
        serde_json::to_vec(&json!({"totalSize": rows, "done": true, "records": records})).unwrap()
    }

    #[test]
    fn more_distinct_keys_than_asked_for_is_a_clear_error() {
        let err = match parse_page(every_key_new(4000), 20) {
            Ok(_) => panic!("4000 distinct keys accepted under a bound of 20"),
            Err(e) => e,
        };
        assert!(
            err.to_string()
                .contains("more than 20 distinct fields, more than its query selected"),
            "{err}"
        );
        assert!(!err.is_eof(), "not mistaken for a cut-off body");
    }

    #[test]
    fn keys_turning_up_late_land_in_their_columns() {
        let page = parse_page(every_key_new(3000), 4000).unwrap();
        let records = page.records;
        assert_eq!(records.columns().len(), 3001);
        let last = records.row(2999).unwrap();
        assert_eq!(last.get("F2999__c"), Some(FieldValue::Int(2999)));
        assert_eq!(last.get("F0__c"), None);
        assert_eq!(
            records.row(0).unwrap().get("F0__c"),
            Some(FieldValue::Int(0))
        );
        assert_eq!(records.row(1234).unwrap().id(), Some("r1234"));
        assert_eq!(last.to_map().len(), 2);
    }

    #[test]
    fn partition_keeps_values_on_both_sides() {
        let page = parse(json!({"totalSize": 3, "done": true, "records": [
            {"Id": "1", "IsDeleted": false, "Name": "esc\\aped", "Addr": {"City": "X"}},
            {"Id": "2", "IsDeleted": true, "Name": "gone", "Addr": null},
            {"Id": "3", "IsDeleted": false, "Name": "plain", "Addr": {"City": "Y"}}
        ]}));
        let (deleted, live) = page.records.partition(|r| r.is_deleted());
        assert_eq!(
            deleted.iter().filter_map(|r| r.id()).collect::<Vec<_>>(),
            ["2"]
        );
        assert_eq!(
            live.iter().filter_map(|r| r.id()).collect::<Vec<_>>(),
            ["1", "3"]
        );
        assert_eq!(
            live.row(0).unwrap().get("Name"),
            Some(FieldValue::Text("esc\\aped"))
        );
        assert_eq!(
            live.row(1).unwrap().get("Addr").map(FieldValue::to_value),
            Some(json!({"City": "Y"}))
        );
        let (none, all) = live.partition(|r| r.is_deleted());
        assert!(none.is_empty());
        assert_eq!(all.len(), 2);
        assert_eq!(
            all.row(0).unwrap().get("Name"),
            Some(FieldValue::Text("esc\\aped"))
        );
    }

    #[test]
    fn merge_rows_and_from_maps_build_the_same_records_as_parsing() {
        let value = json!([{"Id": "1", "Name": "n", "N": 3}, {"Id": "2", "Name": null}]);
        let maps: Vec<Map<String, Value>> = serde_json::from_value(value.clone()).unwrap();
        let built = Records::from_maps(maps);
        let parsed = parse(json!({"totalSize": 2, "done": true, "records": value})).records;
        assert_eq!(built, parsed);
        let mut joined = parsed;
        let extra = |v: Value| v.as_object().cloned().unwrap();
        joined.merge_rows(vec![
            (1, extra(json!({"Extra": "x", "attributes": {"type": "T"}}))),
            (5, extra(json!({"Ignored": "out of range"}))),
        ]);
        assert_eq!(
            joined.row(1).unwrap().get("Extra"),
            Some(FieldValue::Text("x"))
        );
        assert_eq!(joined.row(0).unwrap().get("Extra"), None);
        assert_eq!(joined.row(1).unwrap().get("attributes"), None);
        assert_eq!(
            joined.columns(),
            ["Id", "N", "Name", "Extra"],
            "json! sorts keys"
        );
    }
}
