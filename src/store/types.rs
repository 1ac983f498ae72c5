//! Salesforce field type → SQLite column mapping, and conversion of query-JSON values.
//!
//! | Salesforce describe `type`                         | SQLite column | stored value                      |
//! |----------------------------------------------------|---------------|-----------------------------------|
//! | `boolean`                                          | INTEGER       | 0 / 1                             |
//! | `int`, `long`                                      | INTEGER       | integer (`400.0` accepted)        |
//! | `double`, `currency`, `percent`                    | REAL          | floating point                    |
//! | `date`, `time`                                     | TEXT          | ISO-8601 as returned              |
//! | `datetime`                                         | TEXT          | RFC 3339 UTC, `2024-01-02T03:04:05.000Z` |
//! | `address` (compound)                               | one column per component: `<Field>__street`, `__city`, `__state`, `__postalCode`, `__country`, `__stateCode`, `__countryCode` TEXT; `__latitude`, `__longitude` REAL; `__geocodeAccuracy` TEXT |
//! | `location` (compound)                              | `<Field>__latitude`, `<Field>__longitude` REAL |
//! | everything else (`id`, `string`, `reference`, `picklist`, `multipicklist`, `textarea`, `email`, `url`, `phone`, `base64`, `anyType`, ...) | TEXT | the string; other JSON as JSON text |
//!
//! JSON `null` is SQL NULL. Component columns use a double underscore, which a Salesforce
//! field name can never end with, so they cannot collide with a real field.

use rusqlite::types::{FromSql, ToSqlOutput, Value as SqlValue, ValueRef};
use serde_json::Value;

use crate::model::{FieldValue, parse_datetime};

/// The storage class of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    Real,
    Boolean,
    DateTime,
}

impl ColumnType {
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Text | ColumnType::DateTime => "TEXT",
            ColumnType::Integer | ColumnType::Boolean => "INTEGER",
            ColumnType::Real => "REAL",
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Integer => "integer",
            ColumnType::Real => "real",
            ColumnType::Boolean => "boolean",
            ColumnType::DateTime => "datetime",
        }
    }

    pub(crate) fn parse(s: &str) -> ColumnType {
        match s {
            "integer" => ColumnType::Integer,
            "real" => ColumnType::Real,
            "boolean" => ColumnType::Boolean,
            "datetime" => ColumnType::DateTime,
            _ => ColumnType::Text,
        }
    }
}

/// Components of a standard address, as Salesforce returns them in query JSON.
pub const ADDRESS_COMPONENTS: &[&str] = &[
    "street",
    "city",
    "state",
    "postalCode",
    "country",
    "stateCode",
    "countryCode",
    "latitude",
    "longitude",
    "geocodeAccuracy",
];
/// Components of a geolocation field.
pub const LOCATION_COMPONENTS: &[&str] = &["latitude", "longitude"];

/// The column type for a scalar Salesforce field type.
pub fn column_type(sf_type: &str) -> ColumnType {
    match sf_type.to_ascii_lowercase().as_str() {
        "boolean" => ColumnType::Boolean,
        "int" | "long" => ColumnType::Integer,
        "double" | "currency" | "percent" => ColumnType::Real,
        "datetime" => ColumnType::DateTime,
        _ => ColumnType::Text,
    }
}

/// The components a compound type splits into, or `None` for a scalar type.
pub fn default_components(sf_type: &str) -> Option<&'static [&'static str]> {
    match sf_type.to_ascii_lowercase().as_str() {
        "address" => Some(ADDRESS_COMPONENTS),
        "location" => Some(LOCATION_COMPONENTS),
        _ => None,
    }
}

/// Column type of one component of a compound field.
pub fn component_type(component: &str) -> ColumnType {
    match component {
        "latitude" | "longitude" => ColumnType::Real,
        _ => ColumnType::Text,
    }
}

/// Column name of a compound field's component.
pub fn component_column(field: &str, component: &str) -> String {
    format!("{field}__{component}")
}

/// Convert a query-JSON value for a column of type `ty`; `Err` says what was expected.
pub fn to_sql(value: &Value, ty: ColumnType) -> Result<SqlValue, &'static str> {
    match to_sql_ref(FieldValue::from(value), ty)? {
        ToSqlOutput::Owned(v) => Ok(v),
        ToSqlOutput::Borrowed(v) => SqlValue::column_result(v).map_err(|_| "a storable value"),
        _ => Err("a storable value"),
    }
}

/// [`to_sql`] borrowing text from the page: the hot path binds every column of every
/// synced row, and SQLite copies bound text anyway.
pub fn to_sql_ref(value: FieldValue<'_>, ty: ColumnType) -> Result<ToSqlOutput<'_>, &'static str> {
    let owned = |v: SqlValue| Ok(ToSqlOutput::Owned(v));
    if value.is_null() {
        return owned(SqlValue::Null);
    }
    match ty {
        ColumnType::Boolean => match value {
            FieldValue::Bool(b) => owned(SqlValue::Integer(i64::from(b))),
            FieldValue::Text(s) if s.eq_ignore_ascii_case("true") => owned(SqlValue::Integer(1)),
            FieldValue::Text(s) if s.eq_ignore_ascii_case("false") => owned(SqlValue::Integer(0)),
            _ => Err("true or false"),
        },
        ColumnType::Integer => match value {
            FieldValue::Int(i) => owned(SqlValue::Integer(i)),
            FieldValue::UInt(u) => i64::try_from(u)
                .map(|i| ToSqlOutput::Owned(SqlValue::Integer(i)))
                .map_err(|_| "a whole number"),
            FieldValue::Float(f) if f.fract() == 0.0 && f.is_finite() => {
                owned(SqlValue::Integer(f as i64))
            }
            FieldValue::Text(s) => s
                .trim()
                .parse::<i64>()
                .map(|i| ToSqlOutput::Owned(SqlValue::Integer(i)))
                .map_err(|_| "a whole number"),
            _ => Err("a whole number"),
        },
        ColumnType::Real => match value {
            FieldValue::Int(i) => owned(SqlValue::Real(i as f64)),
            FieldValue::UInt(u) => owned(SqlValue::Real(u as f64)),
            FieldValue::Float(f) => owned(SqlValue::Real(f)),
            FieldValue::Text(s) => s
                .trim()
                .parse::<f64>()
                .map(|f| ToSqlOutput::Owned(SqlValue::Real(f)))
                .map_err(|_| "a number"),
            _ => Err("a number"),
        },
        ColumnType::DateTime => match value {
            FieldValue::Text(s) => owned(SqlValue::Text(normalize_datetime(s))),
            _ => Err("a datetime string"),
        },
        ColumnType::Text => match value {
            FieldValue::Text(s) => Ok(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
            other => owned(SqlValue::Text(other.to_string())),
        },
    }
}

/// Salesforce writes `2022-03-17T16:21:26.000+0000`; store RFC 3339 UTC so values sort and
/// parse everywhere. Unparseable text is kept as returned rather than lost.
pub fn normalize_datetime(s: &str) -> String {
    // Fast path for what Salesforce sends: `2022-03-17T16:21:26.000+0000` is already UTC
    // with milliseconds, so only the offset notation changes (a hot path: every datetime
    // column of every synced row). Anything else, or an impossible date, takes the parser.
    if let Some(fast) = utc_millis_fast(s) {
        return fast;
    }
    parse_datetime(s)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|_| s.to_string())
}

fn utc_millis_fast(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() != 28 || !s.ends_with("+0000") {
        return None;
    }
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    num(20, 23)?;
    chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut out = String::with_capacity(24);
    out.push_str(&s[..23]);
    out.push('Z');
    Some(out)
}

/// Back to JSON for `read_rows`.
pub fn from_sql(value: SqlValue, ty: ColumnType) -> Value {
    match (value, ty) {
        (SqlValue::Null, _) => Value::Null,
        (SqlValue::Integer(i), ColumnType::Boolean) => Value::Bool(i != 0),
        (SqlValue::Integer(i), _) => Value::from(i),
        (SqlValue::Real(f), _) => Value::from(f),
        (SqlValue::Text(s), _) => Value::String(s),
        (SqlValue::Blob(b), _) => Value::String(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// `"name"` with embedded quotes doubled: safe for any identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn salesforce_types_map_to_documented_columns() {
        assert_eq!(column_type("boolean"), ColumnType::Boolean);
        assert_eq!(column_type("int").sql(), "INTEGER");
        assert_eq!(column_type("long").sql(), "INTEGER");
        for real in ["double", "currency", "percent"] {
            assert_eq!(column_type(real).sql(), "REAL", "{real}");
        }
        for text in [
            "id",
            "string",
            "reference",
            "picklist",
            "date",
            "time",
            "textarea",
            "email",
        ] {
            assert_eq!(column_type(text).sql(), "TEXT", "{text}");
        }
        assert_eq!(column_type("datetime"), ColumnType::DateTime);
        assert_eq!(default_components("address").unwrap().len(), 10);
        assert_eq!(default_components("location").unwrap(), LOCATION_COMPONENTS);
        assert!(default_components("string").is_none());
        assert_eq!(component_type("latitude"), ColumnType::Real);
        assert_eq!(
            component_column("BillingAddress", "city"),
            "BillingAddress__city"
        );
    }

    #[test]
    fn datetime_fast_path_matches_the_general_parser() {
        let general = |s: &str| {
            parse_datetime(s)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_else(|_| s.to_string())
        };
        for s in [
            "2022-03-17T16:21:26.000+0000",
            "1999-12-31T23:59:59.999+0000",
            "2022-03-17T18:21:26.500+0200",
            "2022-03-17T16:21:26.000-0000",
            "2022-13-17T16:21:26.000+0000",
            "2023-02-29T10:00:00.000+0000",
            "2024-02-29T24:00:00.000+0000",
            "2024-02-29T23:59:59.123+0000",
            "2022-03-17X16:21:26.000+0000",
            "not a date at all, 28 chars",
        ] {
            assert_eq!(normalize_datetime(s), general(s), "{s}");
        }
    }

    #[test]
    fn values_convert_leniently_but_never_silently_wrong() {
        use SqlValue::*;
        assert_eq!(to_sql(&json!(true), ColumnType::Boolean), Ok(Integer(1)));
        assert_eq!(to_sql(&json!(false), ColumnType::Boolean), Ok(Integer(0)));
        assert_eq!(to_sql(&json!(400.0), ColumnType::Integer), Ok(Integer(400)));
        assert!(to_sql(&json!(400.5), ColumnType::Integer).is_err());
        assert!(to_sql(&json!("abc"), ColumnType::Real).is_err());
        assert_eq!(to_sql(&json!(300), ColumnType::Real), Ok(Real(300.0)));
        assert_eq!(to_sql(&json!(null), ColumnType::Integer), Ok(Null));
        assert_eq!(
            to_sql(&json!("2022-03-17T16:21:26.000+0000"), ColumnType::DateTime),
            Ok(Text("2022-03-17T16:21:26.000Z".into()))
        );
        assert_eq!(
            to_sql(&json!("2022-03-17T18:21:26.5+0200"), ColumnType::DateTime),
            Ok(Text("2022-03-17T16:21:26.500Z".into()))
        );
        assert_eq!(
            to_sql(&json!("2010-01-01"), ColumnType::Text),
            Ok(Text("2010-01-01".into()))
        );
        assert_eq!(to_sql(&json!(12), ColumnType::Text), Ok(Text("12".into())));
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
