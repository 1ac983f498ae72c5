//! Bulk result sets (RFC 4180 CSV, the header repeated on every set) decoded chunk by
//! chunk as the body arrives, into pages of `model::Records` laid out like a REST page of
//! the same read. Memory holds one page and one record, whatever the size of the set.
//!
//! Hostile input is an error, never a panic or unbounded growth: a record longer than
//! [`MAX_RECORD_BYTES`], a row whose field count differs from the header's, text that is
//! not UTF-8, a value that is not of its field's type, a header missing a selected field,
//! more rows than the set declared. Columns nobody selected are ignored.

use std::sync::Arc;

use csv_core::{ReadRecordResult, Reader};
use serde_json::{Map, Value};

use super::shape::{BulkShape, Target, ValueKind};
use crate::model::{Cell, Records, parse_datetime};

/// Longest CSV record (one row, all fields) accepted.
pub const MAX_RECORD_BYTES: usize = 32 << 20;
/// Most columns a header may have.
pub const MAX_COLUMNS: usize = 4096;
/// Rows per page handed to the store (a REST page's size).
pub const PAGE_ROWS: usize = 2000;
/// Text per page before it is handed on early (wide rows).
const PAGE_TEXT_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Bulk results of {object}: {reason}")]
pub struct CsvError {
    pub object: String,
    pub reason: String,
}

/// A value decoded from CSV text, before it becomes a cell.
#[derive(Debug, Clone, PartialEq)]
enum Decoded<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
    /// Text rewritten into REST's form (datetimes).
    Rewritten(String),
}

/// One CSV field as REST would have returned it. Salesforce stores no empty strings, and
/// Bulk writes null as an empty field, so empty is null.
fn decode(kind: ValueKind, text: &str) -> Result<Decoded<'_>, String> {
    if text.is_empty() {
        return Ok(Decoded::Null);
    }
    let bad = |what: &str| format!("\"{}\" is not {what}", clip(text));
    match kind {
        ValueKind::Text => Ok(Decoded::Text(text)),
        ValueKind::Bool => match text {
            "true" => Ok(Decoded::Bool(true)),
            "false" => Ok(Decoded::Bool(false)),
            _ => Err(bad("true or false")),
        },
        ValueKind::Int => match text.parse::<i64>() {
            Ok(i) => Ok(Decoded::Int(i)),
            // Java prints some whole numbers as doubles (`1.0E3`).
            Err(_) => match text.parse::<f64>() {
                Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    Ok(Decoded::Int(f as i64))
                }
                _ => Err(bad("a whole number")),
            },
        },
        ValueKind::Float => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Decoded::Float(f)),
            _ => Err(bad("a number")),
        },
        ValueKind::DateTime => Ok(rest_datetime(text)
            .map(Decoded::Rewritten)
            .unwrap_or(Decoded::Text(text))),
    }
}

/// `2024-01-31T12:00:00.000Z` (Bulk) → `2024-01-31T12:00:00.000+0000` (REST). Text that is
/// no datetime is kept as sent, as the REST decoding and the store keep it.
fn rest_datetime(text: &str) -> Option<String> {
    if text.len() == 24 && text.ends_with('Z') && text.as_bytes().get(10) == Some(&b'T') {
        let head = text.get(..23)?;
        parse_datetime(text).ok()?;
        return Some(format!("{head}+0000"));
    }
    let at = parse_datetime(text).ok()?;
    Some(at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string())
}

fn clip(text: &str) -> String {
    let mut end = text.len().min(60);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut s = text[..end].to_string();
    if end < text.len() {
        s.push('…');
    }
    s
}

/// Field `i` of the record in `out` (field ends in `ends`), as text.
fn field_at<'a>(out: &'a [u8], ends: &[usize], i: usize) -> Result<&'a str, String> {
    let start = if i == 0 {
        0
    } else {
        ends.get(i - 1).copied().unwrap_or(0)
    };
    let end = ends.get(i).copied().unwrap_or(0);
    let bytes = out
        .get(start..end)
        .ok_or_else(|| "a CSV field out of range".to_string())?;
    std::str::from_utf8(bytes).map_err(|_| "a CSV field is not UTF-8".to_string())
}

/// `s` appended to the page text, as a cell pointing at it.
fn text_cell(text: &mut String, s: &str) -> Result<Cell, String> {
    let (Ok(start), Ok(len)) = (u32::try_from(text.len()), u32::try_from(s.len())) else {
        return Err("a page's text passed 4 GiB".to_string());
    };
    text.push_str(s);
    Ok(Cell::Text { start, len })
}

/// The page being filled.
struct PageBuilder {
    text: String,
    records: Records,
    rows: usize,
}

impl PageBuilder {
    fn new(shape: &BulkShape) -> PageBuilder {
        let mut records = Records::default();
        for (i, name) in shape.columns().iter().enumerate() {
            // Names are distinct (the shape deduplicates them), so this cannot fail.
            let _ = records.column_for(name, i, usize::MAX);
        }
        records.fit_columns();
        PageBuilder {
            text: String::new(),
            records,
            rows: 0,
        }
    }
}

/// Decodes one result set.
pub struct CsvPages {
    shape: Arc<BulkShape>,
    reader: Reader,
    out: Vec<u8>,
    out_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    /// Per CSV column, where its values go; `None` until the header is read.
    header: Option<Vec<Vec<Target>>>,
    page: PageBuilder,
    ready: Vec<Records>,
    /// Data rows seen in this set, skipped ones included.
    rows_seen: u64,
    /// Rows at the start of the set already committed (a resumed set).
    skip: u64,
    /// Rows the set may hold at most.
    max_rows: u64,
}

impl CsvPages {
    /// A set whose first `skip` rows were already committed and that may hold `max_rows`.
    pub fn new(shape: Arc<BulkShape>, skip: u64, max_rows: u64) -> CsvPages {
        let page = PageBuilder::new(&shape);
        CsvPages {
            shape,
            reader: Reader::new(),
            out: vec![0; 64 * 1024],
            out_len: 0,
            ends: vec![0; 64],
            ends_len: 0,
            header: None,
            page,
            ready: Vec::new(),
            rows_seen: 0,
            skip,
            max_rows,
        }
    }

    /// Data rows seen so far in this set (skipped ones included).
    pub fn rows_seen(&self) -> u64 {
        self.rows_seen
    }

    fn error(&self, reason: impl Into<String>) -> CsvError {
        CsvError {
            object: self.shape.object().to_string(),
            reason: reason.into(),
        }
    }

    /// Feed the next bytes of the body.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), CsvError> {
        loop {
            let (result, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.ends_len..],
            );
            input = &input[nin..];
            self.out_len += nout;
            self.ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => return Ok(()),
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        return Err(self.error(format!(
                            "a CSV record is longer than {} MiB",
                            MAX_RECORD_BYTES >> 20
                        )));
                    }
                    let grown = (self.out.len() * 2).min(MAX_RECORD_BYTES);
                    self.out.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() > MAX_COLUMNS {
                        return Err(
                            self.error(format!("a CSV record has more than {MAX_COLUMNS} fields"))
                        );
                    }
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    self.record()?;
                    self.out_len = 0;
                    self.ends_len = 0;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    /// The body ended: decode the last record and hand on the last page.
    pub fn finish(&mut self) -> Result<(), CsvError> {
        self.feed(&[])?;
        if self.header.is_none() {
            return Err(self.error("a result set has no header row"));
        }
        self.flush();
        Ok(())
    }

    /// Pages completed so far, oldest first.
    pub fn take_pages(&mut self) -> Vec<Records> {
        std::mem::take(&mut self.ready)
    }

    fn field(&self, i: usize) -> Result<&str, CsvError> {
        field_at(&self.out, &self.ends, i).map_err(|e| self.error(e))
    }

    fn record(&mut self) -> Result<(), CsvError> {
        let Some(header) = &self.header else {
            return self.read_header();
        };
        if self.ends_len != header.len() {
            return Err(self.error(format!(
                "row {} has {} fields, the header {}",
                self.rows_seen.saturating_add(1),
                self.ends_len,
                header.len()
            )));
        }
        self.rows_seen = self.rows_seen.saturating_add(1);
        if self.rows_seen > self.max_rows {
            return Err(self.error(format!(
                "a result set holds more than the {} rows it declared",
                self.max_rows
            )));
        }
        if self.rows_seen <= self.skip {
            return Ok(());
        }
        self.add_row()
    }

    fn read_header(&mut self) -> Result<(), CsvError> {
        let mut header = Vec::with_capacity(self.ends_len);
        let mut names = Vec::with_capacity(self.ends_len);
        for i in 0..self.ends_len {
            let name = self.field(i)?.to_string();
            header.push(self.shape.targets_of(&name));
            names.push(name);
        }
        if let Some(missing) = self
            .shape
            .selected()
            .iter()
            .find(|s| !names.iter().any(|n| n.eq_ignore_ascii_case(s)))
        {
            return Err(self.error(format!("the header lacks the selected field {missing}")));
        }
        self.header = Some(header);
        Ok(())
    }

    fn add_row(&mut self) -> Result<(), CsvError> {
        let Some(header) = self.header.take() else {
            return Err(self.error("a row before the header"));
        };
        let result = self.convert_row(&header);
        self.header = Some(header);
        result?;
        if self.page.rows >= PAGE_ROWS || self.page.text.len() >= PAGE_TEXT_BYTES {
            self.flush();
        }
        Ok(())
    }

    fn convert_row(&mut self, header: &[Vec<Target>]) -> Result<(), CsvError> {
        let object = self.shape.object().to_string();
        let error = |reason: String| CsvError {
            object: object.clone(),
            reason,
        };
        let CsvPages {
            shape,
            out,
            ends,
            page,
            ..
        } = self;
        let row = page.records.start_row();
        let mut compounds: Vec<(usize, Map<String, Value>)> = shape
            .compound_columns()
            .iter()
            .map(|c| (*c, Map::new()))
            .collect();
        for (i, targets) in header.iter().enumerate() {
            if targets.is_empty() {
                continue;
            }
            let text = field_at(out, ends, i).map_err(error)?;
            for target in targets {
                match *target {
                    Target::Field { column, kind } => {
                        let cell = match decode(kind, text).map_err(error)? {
                            Decoded::Null => Cell::Null,
                            Decoded::Bool(b) => Cell::Bool(b),
                            Decoded::Int(i) => Cell::Int(i),
                            Decoded::Float(f) => Cell::Float(f),
                            Decoded::Text(s) => text_cell(&mut page.text, s).map_err(error)?,
                            Decoded::Rewritten(s) => {
                                text_cell(&mut page.text, &s).map_err(error)?
                            }
                        };
                        page.records.set_cell(row, column, cell);
                    }
                    Target::Component { column, key, kind } => {
                        let value = match decode(kind, text).map_err(error)? {
                            Decoded::Null => Value::Null,
                            Decoded::Bool(b) => Value::Bool(b),
                            Decoded::Int(n) => Value::from(n),
                            Decoded::Float(f) => Value::from(f),
                            Decoded::Text(s) => Value::String(s.to_string()),
                            Decoded::Rewritten(s) => Value::String(s),
                        };
                        if let Some((_, parts)) = compounds.iter_mut().find(|(c, _)| *c == column) {
                            parts.insert(key.to_string(), value);
                        }
                    }
                }
            }
        }
        for (column, parts) in compounds {
            let cell = page.records.push_owned(Value::Object(parts));
            page.records.set_cell(row, column, cell);
        }
        page.rows += 1;
        Ok(())
    }

    fn flush(&mut self) {
        if self.page.rows == 0 {
            return;
        }
        let full = std::mem::replace(&mut self.page, PageBuilder::new(&self.shape));
        let mut records = full.records;
        records.set_text(Arc::new(full.text));
        self.ready.push(records);
    }
}

#[cfg(test)]
mod tests {
    use super::super::shape::tests::describe;
    use super::*;
    use crate::model::FieldValue;
    use serde_json::json;

    fn shape(fields: &[&str]) -> Arc<BulkShape> {
        let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        Arc::new(BulkShape::new(&describe(), &fields).unwrap())
    }

    fn decode_all(
        shape: Arc<BulkShape>,
        body: &[u8],
        chunk: usize,
    ) -> Result<Vec<Records>, CsvError> {
        let mut pages = CsvPages::new(shape, 0, u64::MAX);
        let mut out = Vec::new();
        for part in body.chunks(chunk.max(1)) {
            pages.feed(part)?;
            out.extend(pages.take_pages());
        }
        pages.finish()?;
        out.extend(pages.take_pages());
        Ok(out)
    }

    const HEADER: &str = "\"Id\",\"SystemModstamp\",\"IsDeleted\",\"Name\",\"NumberOfEmployees\",\"AnnualRevenue\",\"LastActivityDate\",\"BillingStreet\",\"BillingCity\",\"BillingStateCode\",\"BillingLatitude\"\n";

    fn all_fields() -> Arc<BulkShape> {
        shape(&[
            "Name",
            "NumberOfEmployees",
            "AnnualRevenue",
            "LastActivityDate",
            "BillingAddress",
        ])
    }

    #[test]
    fn values_decode_as_the_rest_page_has_them_whatever_the_chunking() {
        let body = format!(
            "{HEADER}\"001A\",\"2024-01-31T12:00:00.007Z\",\"false\",\"Acme \"\"Inc\"\",\nline\",\"12\",\"300.0\",\"2024-01-31\",\"1 Main\",\"Paris\",,\"48.85\"\r\n\
             \"001B\",\"2024-02-01T00:00:00.000Z\",\"true\",,,\"1.5E3\",,,,,\n"
        );
        for chunk in [1, 2, 7, 64, body.len()] {
            let pages = decode_all(all_fields(), body.as_bytes(), chunk).unwrap();
            assert_eq!(pages.len(), 1);
            let records = &pages[0];
            assert_eq!(records.len(), 2);
            let a = records.row(0).unwrap();
            assert_eq!(a.id(), Some("001A"));
            assert_eq!(
                a.get("SystemModstamp"),
                Some(FieldValue::Text("2024-01-31T12:00:00.007+0000"))
            );
            assert_eq!(a.get("IsDeleted"), Some(FieldValue::Bool(false)));
            assert_eq!(a.get("Name"), Some(FieldValue::Text("Acme \"Inc\",\nline")));
            assert_eq!(a.get("NumberOfEmployees"), Some(FieldValue::Int(12)));
            assert_eq!(a.get("AnnualRevenue"), Some(FieldValue::Float(300.0)));
            assert_eq!(
                a.get("LastActivityDate"),
                Some(FieldValue::Text("2024-01-31"))
            );
            assert_eq!(
                a.get("BillingAddress").map(FieldValue::to_value),
                Some(
                    json!({"street": "1 Main", "city": "Paris", "stateCode": null, "latitude": 48.85})
                )
            );
            let b = records.row(1).unwrap();
            assert!(b.is_deleted());
            assert_eq!(b.get("Name"), Some(FieldValue::Null), "empty is null");
            assert_eq!(b.get("NumberOfEmployees"), Some(FieldValue::Null));
            assert_eq!(b.get("AnnualRevenue"), Some(FieldValue::Float(1500.0)));
            assert_eq!(
                b.get("BillingAddress").map(FieldValue::to_value),
                Some(json!({"street": null, "city": null, "stateCode": null, "latitude": null}))
            );
        }
    }

    #[test]
    fn a_bulk_page_equals_the_rest_page_of_the_same_rows() {
        let body = format!(
            "{HEADER}\"001A\",\"2024-01-31T12:00:00.000Z\",\"false\",\"Acme\",\"3\",\"2.5\",,\"s\",\"c\",\"CA\",\"1.0\"\n"
        );
        let bulk = decode_all(all_fields(), body.as_bytes(), 5)
            .unwrap()
            .remove(0);
        let rest = crate::salesforce::types::QueryPage::from_json(
            json!({"totalSize": 1, "done": true, "records": [{
                "attributes": {"type": "Account"}, "Id": "001A",
                "SystemModstamp": "2024-01-31T12:00:00.000+0000", "IsDeleted": false,
                "Name": "Acme", "NumberOfEmployees": 3, "AnnualRevenue": 2.5,
                "LastActivityDate": null,
                "BillingAddress": {"street": "s", "city": "c", "stateCode": "CA", "latitude": 1.0}
            }]})
            .to_string()
            .into_bytes(),
        )
        .unwrap()
        .records;
        assert_eq!(bulk, rest);
    }

    #[test]
    fn pages_stay_small_and_skipped_rows_are_not_repeated() {
        let mut body = String::from("\"Id\",\"SystemModstamp\",\"IsDeleted\"\n");
        for i in 0..5000 {
            body.push_str(&format!("\"{i:018}\",,\"false\"\n"));
        }
        let mut pages = CsvPages::new(shape(&[]), 4500, 5000);
        pages.feed(body.as_bytes()).unwrap();
        pages.finish().unwrap();
        let got = pages.take_pages();
        assert_eq!(got.iter().map(Records::len).sum::<usize>(), 500);
        assert_eq!(got[0].row(0).unwrap().id(), Some("000000000000004500"));
        assert_eq!(pages.rows_seen(), 5000);

        let mut pages = CsvPages::new(shape(&[]), 0, 5000);
        pages.feed(body.as_bytes()).unwrap();
        pages.finish().unwrap();
        let sizes: Vec<usize> = pages.take_pages().iter().map(Records::len).collect();
        assert_eq!(sizes, [PAGE_ROWS, PAGE_ROWS, 1000]);
    }

    #[test]
    fn hostile_csv_is_an_error_not_a_panic() {
        let h = "\"Id\",\"SystemModstamp\",\"IsDeleted\"\n";
        let cases: Vec<(String, &str)> = vec![
            (format!("{h}\"1\",\"2\"\n"), "has 2 fields"),
            (format!("{h}\"1\",,\"false\",\"extra\"\n"), "has 4 fields"),
            (format!("{h}\"1\",,\"maybe\"\n"), "not true or false"),
            (
                "\"Id\",\"IsDeleted\"\n\"1\",\"false\"\n".into(),
                "lacks the selected field SystemModstamp",
            ),
            (String::new(), "no header row"),
            (format!("{h}\"1\",,\"\u{7f}\"\n"), "not true or false"),
        ];
        for (body, expected) in cases {
            let err = decode_all(shape(&[]), body.as_bytes(), 3).unwrap_err();
            assert!(err.to_string().contains(expected), "{body:?}: {err}");
        }
        let mut not_utf8 = h.as_bytes().to_vec();
        not_utf8.extend_from_slice(b"\"\xff\xfe\",,\"false\"\n");
        let err = decode_all(shape(&[]), &not_utf8, 4).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");

        let ints = shape(&["NumberOfEmployees"]);
        let body = "\"Id\",\"SystemModstamp\",\"IsDeleted\",\"NumberOfEmployees\"\n\"1\",,\"false\",\"1.5\"\n";
        let err = decode_all(ints, body.as_bytes(), 8).unwrap_err();
        assert!(err.to_string().contains("not a whole number"), "{err}");

        let mut declared = CsvPages::new(shape(&[]), 0, 1);
        let err = declared
            .feed(format!("{h}\"1\",,\"false\"\n\"2\",,\"false\"\n").as_bytes())
            .unwrap_err();
        assert!(err.to_string().contains("more than the 1 rows"), "{err}");
    }

    #[test]
    fn a_huge_field_stops_at_the_record_cap() {
        let mut pages = CsvPages::new(shape(&[]), 0, u64::MAX);
        pages
            .feed(b"\"Id\",\"SystemModstamp\",\"IsDeleted\"\n\"")
            .unwrap();
        let block = vec![b'x'; 1 << 20];
        let mut err = None;
        for _ in 0..(MAX_RECORD_BYTES >> 20) + 2 {
            if let Err(e) = pages.feed(&block) {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("a 34 MiB field was accepted");
        assert!(err.to_string().contains("longer than 32 MiB"), "{err}");
    }

    #[test]
    fn unknown_columns_and_control_characters_pass_through_safely() {
        let body = "\"Surprise\",\"Id\",\"SystemModstamp\",\"IsDeleted\"\n\"zzz\",\"1\u{1b}[2J\u{0}\",,\"false\"\n";
        let pages = decode_all(shape(&[]), body.as_bytes(), 2).unwrap();
        let row = pages[0].row(0).unwrap();
        assert_eq!(row.id(), Some("1\u{1b}[2J\u{0}"));
        assert_eq!(row.get("Surprise"), None);
    }
}
