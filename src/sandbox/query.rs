//! Query execution, paging and query locators.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::http::StatusCode;

use super::datagen::{RowState, Val};
use super::error::ApiError;
use super::ids::make_id;
use super::permissions;
use super::schema::FieldType;
use super::soql::{self, Expr, FieldRef, Literal, Query, Select, SoqlError};
use super::state::{State, lock};
use super::wire::{write_str, write_val};

pub const MAX_BATCH: usize = 2000;
pub const MIN_BATCH: usize = 200;
const MAX_OPEN_CURSORS: usize = 512;
/// Rows all open cursors may hold together (8 bytes each); the oldest cursors are released
/// first, like Salesforce releasing old locators.
const MAX_CURSOR_ROWS: usize = 16_000_000;

/// An open query: the matching rows in order, served page by page.
pub struct Cursor {
    obj: usize,
    fields: Vec<usize>,
    rows: Vec<u64>,
    batch: usize,
}

#[derive(Default)]
pub struct Cursors {
    open: HashMap<String, Arc<Cursor>>,
    order: VecDeque<String>,
    held_rows: usize,
    pub seq: AtomicU64,
    /// Cursors not yet read to the end, and the most there were at once.
    unfinished: HashSet<String>,
    peak_unfinished: usize,
}

impl Cursors {
    fn insert(&mut self, id: String, c: Cursor) {
        self.insert_within(id, c, MAX_CURSOR_ROWS);
    }

    fn insert_within(&mut self, id: String, c: Cursor, row_budget: usize) {
        while self.order.len() >= MAX_OPEN_CURSORS
            || (self.held_rows + c.rows.len() > row_budget && !self.order.is_empty())
        {
            if let Some(old) = self.order.pop_front() {
                if let Some(gone) = self.open.remove(&old) {
                    self.held_rows -= gone.rows.len();
                }
                self.unfinished.remove(&old);
            }
        }
        self.unfinished.insert(id.clone());
        self.peak_unfinished = self.peak_unfinished.max(self.unfinished.len());
        self.held_rows += c.rows.len();
        self.order.push_back(id.clone());
        self.open.insert(id, Arc::new(c));
    }

    pub fn clear(&mut self) {
        self.open.clear();
        self.order.clear();
        self.held_rows = 0;
        self.unfinished.clear();
    }

    /// A page reaching `end` of `rows` rows of cursor `id` was served.
    fn served(&mut self, id: &str, end: usize, rows: usize) {
        if end >= rows {
            self.unfinished.remove(id);
        }
    }

    pub fn live(&self) -> usize {
        self.unfinished.len()
    }

    pub fn peak_live(&self) -> usize {
        self.peak_unfinished
    }
}

/// `Sforce-Query-Options: batchSize=N`, clamped to [200, 2000].
pub fn batch_size(header: Option<&str>) -> usize {
    header
        .and_then(|h| {
            h.split([',', ';'])
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        })
        .map(|n| n.clamp(MIN_BATCH, MAX_BATCH))
        .unwrap_or(MAX_BATCH)
}

pub(super) fn soql_error(e: SoqlError, soql: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, e.code, e.render(soql))
}

fn invalid_field(pos: usize, message: String) -> SoqlError {
    SoqlError {
        code: "INVALID_FIELD",
        pos,
        message,
    }
}

/// An injected failure of one object's query (see `FaultSpec::object`).
fn object_fault(status: u16, object: &str) -> ApiError {
    match status {
        400 => ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
            format!("No such column on entity '{object}' (sandbox fault injection)"),
        ),
        503 => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_UNAVAILABLE",
            "Server temporarily unavailable (sandbox fault injection)",
        ),
        _ => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred (sandbox fault injection)",
        ),
    }
}

/// Runs `GET query/?q=` (or `queryAll/` when `all`) and renders the first page.
pub fn run(
    state: &State,
    soql_text: &str,
    all: bool,
    version: &str,
    batch: usize,
) -> Result<Vec<u8>, ApiError> {
    let mut q = soql::parse(soql_text).map_err(|e| soql_error(e, soql_text))?;
    lock(&state.log).counters.queries += 1;
    if q.object.eq_ignore_ascii_case("PermissionSetAssignment") {
        return permissions::answer(state, &q, version).map_err(|e| soql_error(e, soql_text));
    }
    let obj = resolve(state, &mut q).map_err(|e| soql_error(e, soql_text))?;
    let fault = lock(&state.faults).take_object(&state.data.object(obj).name);
    if let Some(status) = fault {
        return Err(object_fault(status, &state.data.object(obj).name));
    }
    let rows = select_rows(state, obj, &q, all);
    let fields = match &q.select {
        Select::Count => {
            return Ok(format!(
                "{{\"totalSize\":{},\"done\":true,\"records\":[]}}",
                rows.len()
            )
            .into_bytes());
        }
        Select::Fields(f) => f.iter().map(|f| f.slot).collect(),
    };
    let cursor = Cursor {
        obj,
        fields,
        rows,
        batch,
    };
    let cursor = if cursor.rows.len() > batch {
        let id = {
            let mut cs = lock(&state.cursors);
            let n = cs.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = make_id("0r8", n + (state.data.seed % 1000) * 1_000_000);
            cs.insert(id.clone(), cursor);
            id
        };
        let c = lock(&state.cursors).open.get(&id).cloned();
        match c {
            Some(c) => (Some(id), c),
            None => return Err(ApiError::invalid_locator()),
        }
    } else {
        (None, Arc::new(cursor))
    };
    Ok(render_page(
        state,
        &cursor.1,
        cursor.0.as_deref(),
        0,
        batch,
        version,
    ))
}

/// Serves `query/{cursor}-{offset}`.
pub fn page(
    state: &State,
    locator: &str,
    version: &str,
    batch_header: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    let (id, offset) = locator
        .rsplit_once('-')
        .ok_or_else(ApiError::invalid_locator)?;
    let offset: usize = offset.parse().map_err(|_| ApiError::invalid_locator())?;
    let cursor = lock(&state.cursors)
        .open
        .get(id)
        .cloned()
        .ok_or_else(ApiError::invalid_locator)?;
    if offset >= cursor.rows.len() {
        return Err(ApiError::invalid_locator());
    }
    let batch = if batch_header.is_some() {
        batch_size(batch_header)
    } else {
        cursor.batch
    };
    lock(&state.cursors).served(id, offset.saturating_add(batch), cursor.rows.len());
    Ok(render_page(
        state,
        &cursor,
        Some(id),
        offset,
        batch,
        version,
    ))
}

fn render_page(
    state: &State,
    c: &Cursor,
    id: Option<&str>,
    offset: usize,
    batch: usize,
    version: &str,
) -> Vec<u8> {
    let end = (offset + batch).min(c.rows.len());
    let slice = &c.rows[offset..end];
    let obj = state.data.object(c.obj);
    let overlay = state.data.overlay(c.obj);
    let mut out = Vec::with_capacity(64 + slice.len() * (80 + c.fields.len() * 24));
    out.extend_from_slice(
        format!(
            "{{\"totalSize\":{},\"done\":{}",
            c.rows.len(),
            end == c.rows.len()
        )
        .as_bytes(),
    );
    if let (Some(id), true) = (id, end < c.rows.len()) {
        out.extend_from_slice(
            format!(",\"nextRecordsUrl\":\"/services/data/v{version}/query/{id}-{end}\"")
                .as_bytes(),
        );
    }
    out.extend_from_slice(b",\"records\":[");
    let url_prefix = format!(
        "{{\"attributes\":{{\"type\":\"{}\",\"url\":\"/services/data/v{version}/sobjects/{}/",
        obj.name, obj.name
    );
    let id_field = obj.field_index("Id");
    // `,"FieldName":` for each selected field, encoded once per page.
    let keys: Vec<Vec<u8>> = c
        .fields
        .iter()
        .map(|&fi| {
            let mut k = vec![b','];
            write_str(&mut k, &obj.fields[fi].name);
            k.push(b':');
            k
        })
        .collect();
    for (n, &row) in slice.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let st = overlay.get(&row);
        out.extend_from_slice(url_prefix.as_bytes());
        super::ids::write_id(&mut out, &obj.key_prefix, row);
        out.extend_from_slice(b"\"}");
        for (&fi, key) in c.fields.iter().zip(&keys) {
            out.extend_from_slice(key);
            if Some(fi) == id_field {
                out.push(b'"');
                super::ids::write_id(&mut out, &obj.key_prefix, row);
                out.push(b'"');
            } else {
                write_val(&mut out, &state.data.value(c.obj, fi, row, st));
            }
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    let mut log = lock(&state.log);
    log.counters.query_pages += 1;
    log.counters.records_served += slice.len() as u64;
    out
}

/// Checks the object and every field against the schema; fills in field slots.
pub(super) fn resolve(state: &State, q: &mut Query) -> Result<usize, SoqlError> {
    let schema = &state.data.schema;
    let obj = schema.index_of(&q.object).ok_or_else(|| SoqlError {
        code: "INVALID_TYPE",
        pos: q.object_pos,
        message: format!(
            "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
            q.object
        ),
    })?;
    let def = &schema.objects[obj];
    let lookup = |f: &mut FieldRef| -> Result<(), SoqlError> {
        if let Some((rel, _)) = f.path.split_once('.') {
            return Err(invalid_field(
                f.pos,
                format!(
                    "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        }
        f.slot = def.field_index(&f.path).ok_or_else(|| {
            invalid_field(
                f.pos,
                format!(
                    "No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                    f.path, def.name
                ),
            )
        })?;
        Ok(())
    };
    if let Select::Fields(fields) = &mut q.select {
        let mut seen = std::collections::HashSet::new();
        for f in fields.iter_mut() {
            lookup(f)?;
            if !seen.insert(f.slot) {
                return Err(SoqlError::malformed(
                    f.pos,
                    format!("duplicate field selected: {}", def.fields[f.slot].name),
                ));
            }
        }
    }
    if let Some(filter) = &mut q.filter {
        let mut err = None;
        filter.fields_mut(&mut |f| {
            if err.is_none() {
                err = lookup(f).err();
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        for leaf in filter.leaves() {
            check_filter(def, leaf)?;
        }
    }
    for item in &mut q.order_by {
        lookup(&mut item.field)?;
        let fd = &def.fields[item.field.slot];
        if matches!(fd.ftype, FieldType::Address | FieldType::Location)
            || (fd.ftype == FieldType::TextArea && fd.length > 255)
        {
            return Err(invalid_field(
                item.field.pos,
                format!("field '{}' can not be sorted in a query call", fd.name),
            ));
        }
    }
    Ok(obj)
}

fn check_filter(def: &super::schema::ObjectDef, leaf: &Expr) -> Result<(), SoqlError> {
    let (field, values, pos, like) = match leaf {
        Expr::Cmp {
            field,
            op,
            value,
            value_pos,
        } => (
            field,
            std::slice::from_ref(value),
            *value_pos,
            *op == soql::Op::Like,
        ),
        Expr::In {
            field,
            values,
            value_pos,
            ..
        } => (field, values.as_slice(), *value_pos, false),
        _ => return Ok(()),
    };
    let fd = &def.fields[field.slot];
    let t = fd.ftype;
    if matches!(t, FieldType::Address | FieldType::Location)
        || (t == FieldType::TextArea && fd.length > 255)
    {
        return Err(invalid_field(
            field.pos,
            format!("field '{}' can not be filtered in a query call", fd.name),
        ));
    }
    if like && !t.is_textual() {
        return Err(invalid_field(
            pos,
            format!(
                "invalid operator on field '{}': LIKE only applies to text",
                fd.name
            ),
        ));
    }
    let (expected, quoted) = match t {
        FieldType::DateTime => ("dateTime", false),
        FieldType::Date => ("date", false),
        FieldType::Boolean => ("boolean", false),
        FieldType::Int => ("integer", false),
        FieldType::Double | FieldType::Currency | FieldType::Percent => ("double", false),
        _ => ("string", true),
    };
    for v in values {
        let ok = match (v, t) {
            (Literal::Null, _) => true,
            (Literal::DateTime(_), FieldType::DateTime) => true,
            (Literal::Date(_), FieldType::Date) => true,
            (Literal::Bool(_), FieldType::Boolean) => true,
            (Literal::Number(_), tt) if tt.is_numeric() => true,
            (Literal::Str(_), tt) if tt.is_textual() => true,
            _ => false,
        };
        if !ok {
            let enclosed = if quoted {
                "should be enclosed in quotes"
            } else {
                "should not be enclosed in quotes"
            };
            return Err(invalid_field(
                pos,
                format!(
                    "value of filter criterion for field '{}' must be of type {expected} and {enclosed}",
                    fd.name
                ),
            ));
        }
    }
    Ok(())
}

fn select_rows(state: &State, obj: usize, q: &Query, all: bool) -> Vec<u64> {
    select_rows_in(state, obj, q, all, &state.data.overlay(obj))
}

/// Whether `row` (with overlay entry `st`) is a result row of `q`: queryAll (`all`) keeps
/// the recycle bin, neither keeps purged rows.
pub(super) fn row_selected(
    state: &State,
    obj: usize,
    q: &Query,
    all: bool,
    row: u64,
    st: Option<&RowState>,
) -> bool {
    if RowState::is_purged(st) || (!all && st.is_some_and(|s| s.deleted.is_some())) {
        return false;
    }
    q.filter.as_ref().is_none_or(|f| {
        let mut get = |fr: &FieldRef| state.data.value(obj, fr.slot, row, st);
        soql::matches(f, &mut get)
    })
}

/// The result rows of `q` in order, against one overlay snapshot.
pub(super) fn select_rows_in(
    state: &State,
    obj: usize,
    q: &Query,
    all: bool,
    overlay: &HashMap<u64, RowState>,
) -> Vec<u64> {
    let data = &state.data;
    let id_slot = data.object(obj).field_index("Id");
    let mut rows: Vec<u64> = (0..data.count(obj))
        .filter(|&row| row_selected(state, obj, q, all, row, overlay.get(&row)))
        .collect();
    if !q.order_by.is_empty() {
        // One flat key table (stride = number of sort fields) keeps a million-row sort to a
        // few allocations.
        let stride = q.order_by.len();
        let mut keys: Vec<Val> = Vec::with_capacity(rows.len() * stride);
        for &row in &rows {
            let st = overlay.get(&row);
            for o in &q.order_by {
                keys.push(if Some(o.field.slot) == id_slot {
                    Val::Int(row as i64)
                } else {
                    data.value(obj, o.field.slot, row, st)
                });
            }
        }
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| {
            for (i, o) in q.order_by.iter().enumerate() {
                let ord = match (&keys[a * stride + i], &keys[b * stride + i]) {
                    (Val::Null, Val::Null) => Ordering::Equal,
                    (Val::Null, _) if o.nulls_last => Ordering::Greater,
                    (Val::Null, _) => Ordering::Less,
                    (_, Val::Null) if o.nulls_last => Ordering::Less,
                    (_, Val::Null) => Ordering::Greater,
                    (x, y) => {
                        let c = soql::compare_vals(x, y);
                        if o.descending { c.reverse() } else { c }
                    }
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            rows[a].cmp(&rows[b])
        });
        rows = order.into_iter().map(|i| rows[i]).collect();
    }
    let offset = q.offset.unwrap_or(0) as usize;
    if offset > 0 {
        rows.drain(..offset.min(rows.len()));
    }
    if let Some(limit) = q.limit {
        rows.truncate(limit as usize);
    }
    rows
}

/// One record with every field, for `GET sobjects/{Object}/{Id}`.
pub fn record(state: &State, obj: usize, row: u64, version: &str) -> Option<Vec<u8>> {
    let overlay = state.data.overlay(obj);
    let st = overlay.get(&row);
    if row >= state.data.count(obj) || st.is_some_and(|s| s.deleted.is_some()) {
        return None;
    }
    let fields: Vec<usize> = (0..state.data.object(obj).fields.len()).collect();
    let c = Cursor {
        obj,
        fields,
        rows: vec![row],
        batch: 1,
    };
    let page = render_page(state, &c, None, 0, 1, version);
    let marker = b"\"records\":[";
    let start = page.windows(marker.len()).position(|w| w == marker)? + marker.len();
    page.get(start..page.len().checked_sub(2)?)
        .map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(rows: usize) -> Cursor {
        Cursor {
            obj: 0,
            fields: Vec::new(),
            rows: vec![0; rows],
            batch: MAX_BATCH,
        }
    }

    #[test]
    fn oldest_cursors_are_released_past_the_row_budget() {
        let mut cs = Cursors::default();
        cs.insert_within("a".into(), cursor(500), 1000);
        cs.insert_within("b".into(), cursor(500), 1000);
        cs.insert_within("c".into(), cursor(10), 1000);
        assert!(!cs.open.contains_key("a"));
        assert!(cs.open.contains_key("b") && cs.open.contains_key("c"));
        assert_eq!(cs.held_rows, 510);
    }

    #[test]
    fn a_cursor_is_open_until_read_to_the_end_or_released() {
        let mut cs = Cursors::default();
        cs.insert_within("a".into(), cursor(500), 1000);
        cs.insert_within("b".into(), cursor(500), 1000);
        assert_eq!((cs.live(), cs.peak_live()), (2, 2));
        cs.served("b", 200, 500);
        assert_eq!(cs.live(), 2, "b has pages left");
        cs.served("b", 500, 500);
        assert_eq!(cs.live(), 1);
        // Releasing the oldest (a) for room closes it too.
        cs.insert_within("c".into(), cursor(900), 1000);
        assert_eq!((cs.live(), cs.peak_live()), (1, 2));
        cs.clear();
        assert_eq!(cs.live(), 0);
    }

    #[test]
    fn batch_size_is_clamped() {
        assert_eq!(batch_size(None), 2000);
        assert_eq!(batch_size(Some("batchSize=10")), 200);
        assert_eq!(batch_size(Some("batchSize=500")), 500);
        assert_eq!(batch_size(Some("batchSize=99999")), 2000);
        assert_eq!(batch_size(Some("nonsense")), 2000);
    }
}
