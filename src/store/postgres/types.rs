//! Salesforce field type → PostgreSQL column type, and conversion of query-JSON values.
//!
//! | Salesforce describe `type`                  | PostgreSQL column                          |
//! |---------------------------------------------|--------------------------------------------|
//! | `boolean`                                   | `boolean`                                  |
//! | `int`, `long`                               | `bigint`                                   |
//! | `currency`, `percent` with precision/scale  | `numeric(precision, scale)`                |
//! | `double`; `currency`/`percent` without them | `double precision`                         |
//! | `date`                                      | `date`                                     |
//! | `time`                                      | `time` (read back as `HH:MM:SS.mmmZ`)      |
//! | `datetime`                                  | `timestamptz` (read back as RFC 3339 UTC)  |
//! | `address`, `location` (compound)            | one column per component, as in SQLite: `<Field>__city` `text`, `<Field>__latitude` `double precision`, ... |
//! | everything else (`id`, `string`, `reference`, `picklist`, `textarea`, ...) | `text` |
//!
//! `Id` is `text COLLATE "C"` and the primary key: byte order, the order Salesforce and the
//! SQLite store use, whatever the database's collation.

use std::borrow::Cow;

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::model::FieldValue;
use crate::store::types::normalize_datetime;

/// PostgreSQL's numeric precision limit.
const MAX_NUMERIC_PRECISION: u32 = 1000;

/// The type of one column of an object table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    Text,
    BigInt,
    Double,
    Numeric { precision: u32, scale: u32 },
    Boolean,
    Date,
    Time,
    Timestamptz,
}

impl PgType {
    /// The column type for a field (`component` set for a compound's component).
    pub fn for_field(
        sf_type: &str,
        component: Option<&str>,
        precision: Option<u32>,
        scale: Option<u32>,
    ) -> PgType {
        if let Some(c) = component {
            return match c {
                "latitude" | "longitude" => PgType::Double,
                _ => PgType::Text,
            };
        }
        match sf_type.to_ascii_lowercase().as_str() {
            "boolean" => PgType::Boolean,
            "int" | "long" => PgType::BigInt,
            "currency" | "percent" => match (precision, scale) {
                (Some(p), Some(s)) if p > 0 && p <= MAX_NUMERIC_PRECISION && s <= p => {
                    PgType::Numeric {
                        precision: p,
                        scale: s,
                    }
                }
                _ => PgType::Double,
            },
            "double" => PgType::Double,
            "date" => PgType::Date,
            "time" => PgType::Time,
            "datetime" => PgType::Timestamptz,
            _ => PgType::Text,
        }
    }

    /// The SQL type of the column.
    pub fn sql(self) -> String {
        match self {
            PgType::Text => "text".into(),
            PgType::BigInt => "bigint".into(),
            PgType::Double => "double precision".into(),
            PgType::Numeric { precision, scale } => format!("numeric({precision},{scale})"),
            PgType::Boolean => "boolean".into(),
            PgType::Date => "date".into(),
            PgType::Time => "time".into(),
            PgType::Timestamptz => "timestamptz".into(),
        }
    }

    /// Parse what [`PgType::sql`] wrote (as `object_columns` keeps it).
    pub fn parse(s: &str) -> PgType {
        match s {
            "bigint" => PgType::BigInt,
            "double precision" => PgType::Double,
            "boolean" => PgType::Boolean,
            "date" => PgType::Date,
            "time" => PgType::Time,
            "timestamptz" => PgType::Timestamptz,
            other => other
                .strip_prefix("numeric(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|r| r.split_once(','))
                .and_then(|(p, s)| Some((p.trim().parse().ok()?, s.trim().parse().ok()?)))
                .map_or(PgType::Text, |(precision, scale)| PgType::Numeric {
                    precision,
                    scale,
                }),
        }
    }

    /// The type values travel as in binary COPY: numerics go as text and are cast in the
    /// upsert, which keeps every digit the JSON number had.
    pub fn wire(self) -> Type {
        match self {
            PgType::Text | PgType::Numeric { .. } => Type::TEXT,
            PgType::BigInt => Type::INT8,
            PgType::Double => Type::FLOAT8,
            PgType::Boolean => Type::BOOL,
            PgType::Date => Type::DATE,
            PgType::Time => Type::TIME,
            PgType::Timestamptz => Type::TIMESTAMPTZ,
        }
    }

    /// The type values travel as when COPYed straight into the object table: numerics in
    /// binary `numeric` (see [`super::numeric`]).
    pub fn direct_wire(self) -> Type {
        match self {
            PgType::Numeric { .. } => Type::NUMERIC,
            other => other.wire(),
        }
    }

    /// The SQL type of the staging column ([`PgType::wire`] as SQL).
    pub fn staging_sql(self) -> String {
        match self {
            PgType::Numeric { .. } => "text".into(),
            other => other.sql(),
        }
    }
}

/// A column of an object table as `object_columns` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgColumn {
    pub name: String,
    pub field: String,
    pub component: Option<String>,
    pub ty: PgType,
}

impl crate::store::columns::ColumnSource for PgColumn {
    fn field(&self) -> &str {
        &self.field
    }
    fn component(&self) -> Option<&str> {
        self.component.as_deref()
    }
}

/// One value bound for binary COPY.
#[derive(Debug, Clone, PartialEq)]
pub enum PgValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Cow<'a, str>),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(DateTime<Utc>),
}

impl ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            PgValue::Null => Ok(IsNull::Yes),
            PgValue::Bool(b) => b.to_sql(ty, out),
            PgValue::Int(i) => i.to_sql(ty, out),
            PgValue::Float(f) => f.to_sql(ty, out),
            PgValue::Text(s) if *ty == Type::NUMERIC => match super::numeric::encode(s) {
                Some(bytes) => {
                    out.extend_from_slice(&bytes);
                    Ok(IsNull::No)
                }
                None => Err(format!("{s:?} is not a decimal number").into()),
            },
            PgValue::Text(s) => s.as_ref().to_sql(ty, out),
            PgValue::Date(d) => d.to_sql(ty, out),
            PgValue::Time(t) => t.to_sql(ty, out),
            PgValue::Timestamp(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::BOOL,
            Type::INT8,
            Type::FLOAT8,
            Type::TEXT,
            Type::NUMERIC,
            Type::DATE,
            Type::TIME,
            Type::TIMESTAMPTZ,
        ]
        .contains(ty)
    }

    to_sql_checked!();
}

/// [`to_pg`] for `column` of record `id`, a mismatch reported as that record's error.
pub(super) fn column_value<'v>(
    object: &str,
    id: &str,
    column: &PgColumn,
    value: FieldValue<'v>,
) -> Result<PgValue<'v>, crate::store::StoreError> {
    to_pg(value, column.ty).map_err(|expected| {
        crate::store::columns::bad_record(
            object,
            format!("{id}: {} should be {expected}, got {value}", column.name),
        )
    })
}

/// Convert a query-JSON value for a column of type `ty`; `Err` says what was expected.
/// Lenient where Salesforce is (`400.0` in an int field, `"true"`), never silently wrong.
pub fn to_pg(value: FieldValue<'_>, ty: PgType) -> Result<PgValue<'_>, &'static str> {
    if value.is_null() {
        return Ok(PgValue::Null);
    }
    match ty {
        PgType::Boolean => match value {
            FieldValue::Bool(b) => Ok(PgValue::Bool(b)),
            FieldValue::Text(s) if s.eq_ignore_ascii_case("true") => Ok(PgValue::Bool(true)),
            FieldValue::Text(s) if s.eq_ignore_ascii_case("false") => Ok(PgValue::Bool(false)),
            _ => Err("true or false"),
        },
        PgType::BigInt => match value {
            FieldValue::Int(i) => Ok(PgValue::Int(i)),
            FieldValue::UInt(u) => i64::try_from(u)
                .map(PgValue::Int)
                .map_err(|_| "a whole number"),
            FieldValue::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.2e18 => {
                Ok(PgValue::Int(f as i64))
            }
            FieldValue::Text(s) => s
                .trim()
                .parse()
                .map(PgValue::Int)
                .map_err(|_| "a whole number"),
            _ => Err("a whole number"),
        },
        PgType::Double => match value {
            FieldValue::Int(i) => Ok(PgValue::Float(i as f64)),
            FieldValue::UInt(u) => Ok(PgValue::Float(u as f64)),
            FieldValue::Float(f) => Ok(PgValue::Float(f)),
            FieldValue::Text(s) => s.trim().parse().map(PgValue::Float).map_err(|_| "a number"),
            _ => Err("a number"),
        },
        PgType::Numeric { .. } => match value {
            FieldValue::Int(i) => Ok(PgValue::Text(Cow::Owned(i.to_string()))),
            FieldValue::UInt(u) => Ok(PgValue::Text(Cow::Owned(u.to_string()))),
            FieldValue::Float(f) if f.is_finite() => Ok(PgValue::Text(Cow::Owned(f.to_string()))),
            FieldValue::Text(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                Ok(PgValue::Text(Cow::Borrowed(s.trim())))
            }
            _ => Err("a number"),
        },
        PgType::Date => match value {
            FieldValue::Text(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(PgValue::Date)
                .map_err(|_| "a date (YYYY-MM-DD)"),
            _ => Err("a date (YYYY-MM-DD)"),
        },
        PgType::Time => match value {
            FieldValue::Text(s) => {
                NaiveTime::parse_from_str(s.trim_end_matches('Z'), "%H:%M:%S%.f")
                    .map(PgValue::Time)
                    .map_err(|_| "a time (HH:MM:SS.sssZ)")
            }
            _ => Err("a time (HH:MM:SS.sssZ)"),
        },
        PgType::Timestamptz => match value {
            FieldValue::Text(s) => DateTime::parse_from_rfc3339(&normalize_datetime(s))
                .map(|d| PgValue::Timestamp(d.with_timezone(&Utc)))
                .map_err(|_| "a datetime"),
            _ => Err("a datetime"),
        },
        PgType::Text => match value {
            FieldValue::Text(s) => Ok(PgValue::Text(Cow::Borrowed(s))),
            other => Ok(PgValue::Text(Cow::Owned(other.to_string()))),
        },
    }
}

/// The select expression that reads a column back in the form [`from_row`] expects.
pub fn select_expr(quoted: &str, ty: PgType) -> String {
    match ty {
        // Back to the JSON number it came from: as the SQLite store reads REAL.
        PgType::Numeric { .. } => format!("{quoted}::double precision"),
        _ => quoted.to_string(),
    }
}

/// One read-back value as JSON, in the SQLite store's form: booleans as booleans,
/// datetimes as `2024-01-02T03:04:05.000Z`, dates and times as Salesforce writes them.
pub fn from_row(
    row: &tokio_postgres::Row,
    i: usize,
    ty: PgType,
) -> Result<Value, tokio_postgres::Error> {
    Ok(match ty {
        PgType::Text => row.try_get::<_, Option<String>>(i)?.map(Value::String),
        PgType::BigInt => row.try_get::<_, Option<i64>>(i)?.map(Value::from),
        PgType::Double | PgType::Numeric { .. } => {
            row.try_get::<_, Option<f64>>(i)?.map(Value::from)
        }
        PgType::Boolean => row.try_get::<_, Option<bool>>(i)?.map(Value::Bool),
        PgType::Date => row
            .try_get::<_, Option<NaiveDate>>(i)?
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string())),
        PgType::Time => row
            .try_get::<_, Option<NaiveTime>>(i)?
            .map(|t| Value::String(t.format("%H:%M:%S%.3fZ").to_string())),
        PgType::Timestamptz => row
            .try_get::<_, Option<DateTime<Utc>>>(i)?
            .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))),
    }
    .unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn salesforce_types_map_to_documented_columns() {
        let t = |sf: &str| PgType::for_field(sf, None, None, None).sql();
        assert_eq!(t("boolean"), "boolean");
        assert_eq!(t("int"), "bigint");
        assert_eq!(t("long"), "bigint");
        assert_eq!(t("double"), "double precision");
        assert_eq!(t("currency"), "double precision");
        assert_eq!(
            PgType::for_field("currency", None, Some(18), Some(2)).sql(),
            "numeric(18,2)"
        );
        assert_eq!(
            PgType::for_field("percent", None, Some(5), Some(9)).sql(),
            "double precision",
            "scale above precision is not a valid numeric"
        );
        assert_eq!(t("date"), "date");
        assert_eq!(t("time"), "time");
        assert_eq!(t("datetime"), "timestamptz");
        for text in [
            "id",
            "string",
            "reference",
            "picklist",
            "textarea",
            "email",
            "base64",
        ] {
            assert_eq!(t(text), "text", "{text}");
        }
        assert_eq!(
            PgType::for_field("address", Some("latitude"), None, None),
            PgType::Double
        );
        assert_eq!(
            PgType::for_field("address", Some("city"), None, None),
            PgType::Text
        );
        for ty in [
            PgType::Text,
            PgType::BigInt,
            PgType::Double,
            PgType::Numeric {
                precision: 18,
                scale: 2,
            },
            PgType::Boolean,
            PgType::Date,
            PgType::Time,
            PgType::Timestamptz,
        ] {
            assert_eq!(PgType::parse(&ty.sql()), ty);
        }
    }

    #[test]
    fn values_convert_leniently_but_never_silently_wrong() {
        let v = |j: Value, ty| to_pg(FieldValue::from(&j), ty).map(|v| format!("{v:?}"));
        assert_eq!(v(json!(400.0), PgType::BigInt), Ok("Int(400)".into()));
        assert!(v(json!(400.5), PgType::BigInt).is_err());
        assert!(v(json!("abc"), PgType::Double).is_err());
        assert_eq!(v(json!("true"), PgType::Boolean), Ok("Bool(true)".into()));
        let n = PgType::Numeric {
            precision: 18,
            scale: 2,
        };
        assert_eq!(v(json!(1234.5), n), Ok("Text(\"1234.5\")".into()));
        assert!(v(json!("NaN"), n).is_err());
        assert!(v(json!("2024-02-30"), PgType::Date).is_err());
        assert_eq!(
            to_pg(FieldValue::Text("13:45:00.250Z"), PgType::Time),
            Ok(PgValue::Time(
                NaiveTime::from_hms_milli_opt(13, 45, 0, 250).unwrap()
            ))
        );
        assert_eq!(
            to_pg(
                FieldValue::Text("2022-03-17T18:21:26.500+0200"),
                PgType::Timestamptz
            ),
            Ok(PgValue::Timestamp(
                DateTime::parse_from_rfc3339("2022-03-17T16:21:26.500Z")
                    .unwrap()
                    .with_timezone(&Utc)
            ))
        );
        assert!(v(json!("yesterday"), PgType::Timestamptz).is_err());
        assert_eq!(v(json!(null), PgType::Date), Ok("Null".into()));
        assert_eq!(v(json!(12), PgType::Text), Ok("Text(\"12\")".into()));
    }
}
