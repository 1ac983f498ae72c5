//! A job's results, fixed when the job is created: the rows a REST query would return at
//! that moment (same evaluation, same generator, a copy of the mutation overlay), written
//! as Bulk CSV on demand. Only the overlay copy and a sparse row index are kept, so a
//! million-row job holds kilobytes, not a CSV.

use std::collections::HashMap;

use super::job::Dialect;
use crate::sandbox::datagen::{RowState, Val};
use crate::sandbox::query;
use crate::sandbox::soql::Query;
use crate::sandbox::state::State;
use crate::sandbox::wire::{number_text, push_date, push_datetime};

/// Unordered results keep the base row of every this-many-th result row.
const CHECKPOINT_EVERY: u64 = 1024;

enum Order {
    /// ORDER BY: the sorted rows themselves (as REST cursors hold them).
    Listed(Vec<u64>),
    /// Base-row order: result row k is found by scanning from `checkpoints[k / EVERY]`.
    Scanned { checkpoints: Vec<u64> },
}

pub struct Snapshot {
    obj: usize,
    fields: Vec<usize>,
    query: Query,
    all: bool,
    overlay: HashMap<u64, RowState>,
    order: Order,
    pub total: u64,
}

impl Snapshot {
    /// Runs `query` (fields resolved) over `obj` as it is now.
    pub fn take(state: &State, obj: usize, fields: Vec<usize>, query: Query, all: bool) -> Self {
        let overlay = state.data.overlay(obj);
        let mut snap = Snapshot {
            obj,
            fields,
            query,
            all,
            overlay,
            order: Order::Scanned {
                checkpoints: Vec::new(),
            },
            total: 0,
        };
        if snap.query.order_by.is_empty() {
            let limit = snap.query.limit.unwrap_or(u64::MAX);
            let mut checkpoints = Vec::new();
            let mut total = 0u64;
            for row in 0..state.data.count(obj) {
                if total >= limit {
                    break;
                }
                if snap.selected(state, row) {
                    if total % CHECKPOINT_EVERY == 0 {
                        checkpoints.push(row);
                    }
                    total += 1;
                }
            }
            snap.order = Order::Scanned { checkpoints };
            snap.total = total;
        } else {
            let rows = query::select_rows_in(state, obj, &snap.query, all, &snap.overlay);
            snap.total = rows.len() as u64;
            snap.order = Order::Listed(rows);
        }
        snap
    }

    fn selected(&self, state: &State, row: u64) -> bool {
        query::row_selected(
            state,
            self.obj,
            &self.query,
            self.all,
            row,
            self.overlay.get(&row),
        )
    }

    /// Base rows of result rows `offset..`, in result order.
    pub fn rows_from<'a>(
        &'a self,
        state: &'a State,
        offset: u64,
    ) -> Box<dyn Iterator<Item = u64> + 'a> {
        let left = self.total.saturating_sub(offset);
        match &self.order {
            Order::Listed(rows) => Box::new(
                rows.iter()
                    .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                    .copied(),
            ),
            Order::Scanned { checkpoints } => {
                let Some(&start) = usize::try_from(offset / CHECKPOINT_EVERY)
                    .ok()
                    .and_then(|i| checkpoints.get(i))
                else {
                    return Box::new(std::iter::empty());
                };
                Box::new(
                    (start..state.data.count(self.obj))
                        .filter(move |&row| self.selected(state, row))
                        .skip((offset % CHECKPOINT_EVERY) as usize)
                        .take(usize::try_from(left).unwrap_or(usize::MAX)),
                )
            }
        }
    }

    /// The header row: field API names in SELECT order.
    pub fn write_header(&self, state: &State, d: Dialect, out: &mut Vec<u8>) {
        let def = state.data.object(self.obj);
        for (i, &fi) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(d.delimiter);
            }
            quote(out, def.fields[fi].name.as_bytes());
        }
        end_line(d, out);
    }

    pub fn write_row(&self, state: &State, d: Dialect, row: u64, out: &mut Vec<u8>) {
        let st = self.overlay.get(&row);
        for (i, &fi) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(d.delimiter);
            }
            write_value(out, &state.data.value(self.obj, fi, row, st));
        }
        end_line(d, out);
    }
}

fn end_line(d: Dialect, out: &mut Vec<u8>) {
    if d.crlf {
        out.push(b'\r');
    }
    out.push(b'\n');
}

/// RFC 4180: always quoted, `"` doubled (values may hold delimiters and newlines).
fn quote(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// One value as Bulk CSV writes it: null is an empty field; datetimes end in `Z`, not
/// REST's `+0000`; booleans and numbers are plain text.
pub fn write_value(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Null => {}
        Val::Bool(b) => quote(out, if *b { b"true" } else { b"false" }),
        Val::Int(i) => quote(out, i.to_string().as_bytes()),
        Val::Num(f) => {
            if let Some(s) = number_text(*f) {
                quote(out, s.as_bytes());
            }
        }
        Val::Str(s) => quote(out, s.as_bytes()),
        Val::Date(days) => {
            out.push(b'"');
            push_date(out, *days);
            out.push(b'"');
        }
        Val::DateTime(ms) => {
            out.push(b'"');
            push_datetime(out, *ms);
            out.extend_from_slice(b"Z\"");
        }
        // Compound fields are refused when the job is created.
        Val::Object(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::wire::days_from_civil;

    fn csv(v: &Val) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_take_the_bulk_csv_forms() {
        let day = days_from_civil(2024, 1, 31);
        assert_eq!(csv(&Val::Null), "");
        assert_eq!(csv(&Val::Bool(true)), "\"true\"");
        assert_eq!(csv(&Val::Num(300.0)), "\"300.0\"");
        assert_eq!(csv(&Val::Int(-4)), "\"-4\"");
        assert_eq!(csv(&Val::Date(day)), "\"2024-01-31\"");
        assert_eq!(
            csv(&Val::DateTime(day * 86_400_000 + 12 * 3_600_000 + 7)),
            "\"2024-01-31T12:00:00.007Z\""
        );
        assert_eq!(csv(&Val::Str("a \"b\",\nc".into())), "\"a \"\"b\"\",\nc\"");
    }
}
