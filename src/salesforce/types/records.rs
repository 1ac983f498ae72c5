//! Decoding a query page straight into `model::Records`: record keys and unescaped text
//! stay where they are in the response body, each value becomes one small cell.
//!
//! Why: a sync reads millions of records. Parsing each into a map of owned strings cost
//! about half of a full sync's CPU (allocating and freeing keys, values and tree nodes).
//! Here a page costs one text buffer, one cell vector and a handful of owned values
//! (strings with escapes, nested objects).

use std::fmt;
use std::sync::Arc;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::model::{Cell, Records};

/// Distinct fields a query page may have when the query's own field list is not known.
pub const MAX_PAGE_FIELDS: usize = 1024;

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
    let mut records = Records::over_text(text.clone());
    let mut de = serde_json::Deserializer::from_str(&text);
    let (total_size, done, next_records_url) = PageSeed {
        records: &mut records,
        base: &text,
        max_columns,
    }
    .deserialize(&mut de)?;
    de.end()?;
    records.fit_columns();
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

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut rows = 0usize;
        while seq
            .next_element_seed(RecordSeed {
                records: &mut *self.records,
                base: self.base,
                max_columns: self.max_columns,
            })?
            .is_some()
        {
            rows += 1;
            if rows == 1 {
                // The first record shows the usual width: no spare room from here on.
                self.records.fit_columns();
            }
        }
        Ok(())
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
        let row = records.start_row();
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
            records.set_cell(row, column, cell);
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
    use crate::model::FieldValue;
    use serde_json::{Map, json};

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
