//! SOQL builder. Object and field names are validated against Salesforce's naming rules
//! and ids against the id alphabet before they reach a query, so nothing from the config or
//! from record data can change a query's meaning. Queries whose request URL would pass
//! `MAX_URL_BYTES` are planned as a driver query plus field groups looked up by Id.

use std::fmt;

use chrono::{DateTime, Utc};

use super::types::format_soql_datetime;
use crate::config::sfname;

/// Request-URL budget; Salesforce rejects GET URLs somewhat above 16 KiB with 414.
pub const MAX_URL_BYTES: usize = 16_000;

const SYSTEM_MODSTAMP: &str = "SystemModstamp";
const IS_DELETED: &str = "IsDeleted";
const ID: &str = "Id";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoqlError {
    #[error("\"{name}\" is not a valid Salesforce {kind} name: it {reason}; check the config")]
    BadIdentifier {
        name: String,
        kind: &'static str,
        reason: String,
    },
    #[error("\"{0}\" is not a Salesforce record id (15 or 18 letters and digits)")]
    BadRecordId(String),
    #[error("a query needs at least one field")]
    NoFields,
    #[error(
        "the query for {object} cannot fit a request URL even with one field per group; its name is too long"
    )]
    TooLong { object: String },
}

/// A SOQL statement that was built from validated parts (or is a constant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soql(String);

impl Soql {
    /// A constant query written in the source code.
    pub fn from_static(text: &'static str) -> Soql {
        Soql(text.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Bytes this query takes in a `?q=` query string (form-urlencoded).
    pub fn encoded_len(&self) -> usize {
        encoded_len(&self.0)
    }
}

impl fmt::Display for Soql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn encoded_len(text: &str) -> usize {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .map(str::len)
        .sum()
}

/// Check an object API name (rules in `config::sfname`, shared with config validation).
pub fn validate_object(name: &str) -> Result<&str, SoqlError> {
    sfname::check_object_name(name)
        .map(|()| name)
        .map_err(|reason| SoqlError::BadIdentifier {
            name: name.to_string(),
            kind: "object",
            reason,
        })
}

/// Check a field API name.
pub fn validate_field(name: &str) -> Result<&str, SoqlError> {
    sfname::check_field_name(name)
        .map(|()| name)
        .map_err(|reason| SoqlError::BadIdentifier {
            name: name.to_string(),
            kind: "field",
            reason,
        })
}

/// Check a record id before it goes into a literal.
pub fn validate_record_id(id: &str) -> Result<&str, SoqlError> {
    let ok = matches!(id.len(), 15 | 18) && id.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then_some(id)
        .ok_or_else(|| SoqlError::BadRecordId(id.to_string()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    None,
    ModstampAtOrAfter(DateTime<Utc>),
    IdIn(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    None,
    Id,
    ModstampThenId,
}

/// `SELECT <fields> FROM <object> [WHERE ...] [ORDER BY ...] [LIMIT n]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Select {
    object: String,
    /// In order, case-insensitively unique, `Id` first.
    fields: Vec<String>,
    filter: Filter,
    order: Order,
    limit: Option<u64>,
}

impl Select {
    /// A query of `Id` only; add fields with [`Select::fields`].
    pub fn new(object: &str) -> Select {
        Select {
            object: object.to_string(),
            fields: vec![ID.to_string()],
            filter: Filter::None,
            order: Order::None,
            limit: None,
        }
    }

    /// The engine's incremental read (run through queryAll so deletions arrive as
    /// `IsDeleted = true`): `SELECT Id, SystemModstamp, IsDeleted, <fields> FROM X
    /// [WHERE SystemModstamp >= since] ORDER BY SystemModstamp ASC, Id ASC`.
    pub fn incremental<S: AsRef<str>>(
        object: &str,
        fields: &[S],
        since: Option<DateTime<Utc>>,
    ) -> Select {
        let select = Select::new(object)
            .fields([SYSTEM_MODSTAMP, IS_DELETED])
            .fields(fields)
            .order_by_modstamp_then_id();
        match since {
            Some(at) => select.where_modstamp_at_or_after(at),
            None => select,
        }
    }

    /// Full refresh of an object without SystemModstamp: `SELECT Id, <fields> FROM X ORDER BY Id ASC`.
    pub fn full_refresh<S: AsRef<str>>(object: &str, fields: &[S]) -> Select {
        Select::new(object).fields(fields).order_by_id()
    }

    pub fn fields<I, S>(mut self, names: I) -> Select
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for name in names {
            let name = name.as_ref();
            if !self.fields.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                self.fields.push(name.to_string());
            }
        }
        self
    }

    pub fn where_modstamp_at_or_after(mut self, at: DateTime<Utc>) -> Select {
        self.filter = Filter::ModstampAtOrAfter(at);
        self
    }

    pub fn where_id_in<I, S>(mut self, ids: I) -> Select
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.filter = Filter::IdIn(ids.into_iter().map(Into::into).collect());
        self
    }

    pub fn order_by_modstamp_then_id(mut self) -> Select {
        self.order = Order::ModstampThenId;
        self
    }

    pub fn order_by_id(mut self) -> Select {
        self.order = Order::Id;
        self
    }

    pub fn limit(mut self, n: u64) -> Select {
        self.limit = Some(n);
        self
    }

    pub fn object(&self) -> &str {
        &self.object
    }

    pub fn field_names(&self) -> &[String] {
        &self.fields
    }

    /// Validate every identifier and id, then render.
    pub fn build(&self) -> Result<Soql, SoqlError> {
        validate_object(&self.object)?;
        if self.fields.is_empty() {
            return Err(SoqlError::NoFields);
        }
        for field in &self.fields {
            validate_field(field)?;
        }
        let mut text = format!("SELECT {} FROM {}", self.fields.join(", "), self.object);
        text.push_str(&render_filter(&self.filter)?);
        text.push_str(match self.order {
            Order::None => "",
            Order::Id => " ORDER BY Id ASC",
            Order::ModstampThenId => " ORDER BY SystemModstamp ASC, Id ASC",
        });
        if let Some(n) = self.limit {
            text.push_str(&format!(" LIMIT {n}"));
        }
        Ok(Soql(text))
    }

    /// Split into a driver query and lookup field groups so that every request URL stays
    /// within `max_url_bytes` (normally `MAX_URL_BYTES`), given the length of the URL before
    /// the encoded query (`https://host/services/data/vXX.X/queryAll/?q=`). Each lookup
    /// group leaves room for at least `min_ids_per_lookup` ids.
    pub fn plan(
        &self,
        url_prefix_len: usize,
        max_url_bytes: usize,
        min_ids_per_lookup: usize,
    ) -> Result<QueryPlan, SoqlError> {
        let whole = self.build()?;
        if url_prefix_len + whole.encoded_len() <= max_url_bytes {
            return Ok(QueryPlan {
                driver: self.clone(),
                lookups: Vec::new(),
            });
        }
        let too_long = || SoqlError::TooLong {
            object: self.object.clone(),
        };
        // The driver keeps the leading system fields (those the cursor and delete handling
        // need) and as many others as fit.
        let keep = self
            .fields
            .iter()
            .take_while(|f| {
                [ID, SYSTEM_MODSTAMP, IS_DELETED]
                    .iter()
                    .any(|k| f.eq_ignore_ascii_case(k))
            })
            .count();
        let mut driver = Select {
            fields: self.fields[..keep].to_vec(),
            ..self.clone()
        };
        let mut rest = self.fields[keep..].iter().peekable();
        while let Some(field) = rest.peek() {
            let mut candidate = driver.clone();
            candidate.fields.push((*field).clone());
            if url_prefix_len + candidate.build()?.encoded_len() > max_url_bytes {
                break;
            }
            driver = candidate;
            rest.next();
        }
        if url_prefix_len + driver.build()?.encoded_len() > max_url_bytes {
            return Err(too_long());
        }
        let id_reserve = min_ids_per_lookup * encoded_id_len();
        let mut lookups: Vec<Vec<String>> = Vec::new();
        let mut group: Vec<String> = Vec::new();
        for field in rest {
            let mut candidate = group.clone();
            candidate.push(field.clone());
            let len = lookup_skeleton(&self.object, &candidate).encoded_len();
            if url_prefix_len + len + id_reserve > max_url_bytes {
                if group.is_empty() {
                    return Err(too_long());
                }
                lookups.push(std::mem::replace(&mut group, vec![field.clone()]));
            } else {
                group = candidate;
            }
        }
        if !group.is_empty() {
            lookups.push(group);
        }
        Ok(QueryPlan { driver, lookups })
    }
}

/// How a wide query runs: the driver pages through the result; each lookup group is
/// fetched with `WHERE Id IN (...)` for the ids of each driver page and joined by Id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPlan {
    pub driver: Select,
    pub lookups: Vec<Vec<String>>,
}

impl QueryPlan {
    /// Lookup queries for one field group and a page's ids, as few as fit the URL budget.
    pub fn lookup_queries(
        object: &str,
        fields: &[String],
        ids: &[String],
        url_prefix_len: usize,
        max_url_bytes: usize,
    ) -> Result<Vec<Soql>, SoqlError> {
        let skeleton = lookup_skeleton(object, fields).encoded_len();
        let room = max_url_bytes.saturating_sub(url_prefix_len + skeleton);
        let per_query = (room / encoded_id_len()).max(1);
        ids.chunks(per_query)
            .map(|chunk| {
                Select::new(object)
                    .fields(fields)
                    .where_id_in(chunk.iter().cloned())
                    .build()
            })
            .collect()
    }
}

/// `SELECT Id, <fields> FROM X WHERE Id IN ()` without ids, to measure.
fn lookup_skeleton(object: &str, fields: &[String]) -> Soql {
    let fields: Vec<&str> = std::iter::once(ID)
        .chain(fields.iter().map(String::as_str))
        .collect();
    Soql(format!(
        "SELECT {} FROM {object} WHERE Id IN ()",
        fields.join(", ")
    ))
}

/// `'001xx000003DGb2AAG', ` form-urlencoded: quotes and comma are 3 bytes each.
fn encoded_id_len() -> usize {
    18 + 3 * 3 + 1
}

fn render_filter(filter: &Filter) -> Result<String, SoqlError> {
    Ok(match filter {
        Filter::None => String::new(),
        Filter::ModstampAtOrAfter(at) => {
            format!(" WHERE SystemModstamp >= {}", format_soql_datetime(*at))
        }
        Filter::IdIn(ids) => {
            let quoted = ids
                .iter()
                .map(|id| validate_record_id(id).map(|id| format!("'{id}'")))
                .collect::<Result<Vec<_>, _>>()?;
            format!(" WHERE Id IN ({})", quoted.join(", "))
        }
    })
}

/// `SELECT COUNT() FROM X [WHERE SystemModstamp >= ts]`.
pub fn count(object: &str, since: Option<DateTime<Utc>>) -> Result<Soql, SoqlError> {
    validate_object(object)?;
    let filter = since.map_or(Filter::None, Filter::ModstampAtOrAfter);
    Ok(Soql(format!(
        "SELECT COUNT() FROM {object}{}",
        render_filter(&filter)?
    )))
}

/// The permission check of SALESFORCE-API.md §7 for one user.
pub fn permission_assignments(user_id: &str) -> Result<Soql, SoqlError> {
    let user_id = validate_record_id(user_id)?;
    Ok(Soql(format!(
        "SELECT PermissionSet.Name, PermissionSet.PermissionsApiEnabled, \
         PermissionSet.PermissionsViewAllData, PermissionSet.PermissionsViewSetup \
         FROM PermissionSetAssignment WHERE AssigneeId = '{user_id}'"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn identifiers() {
        assert_eq!(validate_object("ns__Foo__c"), Ok("ns__Foo__c"));
        assert_eq!(validate_field("Loc__Latitude__s"), Ok("Loc__Latitude__s"));
        for bad in [
            "Name, (SELECT Id FROM Contacts)",
            "Id FROM User--",
            "Name'",
            "a.b",
            "Foo__zz",
        ] {
            assert!(validate_field(bad).is_err(), "{bad}");
            assert!(validate_object(bad).is_err(), "{bad}");
        }
        let err = validate_field("Foo__zz").unwrap_err().to_string();
        assert!(
            err.contains("unknown suffix") && err.contains("check the config"),
            "{err}"
        );
    }

    #[test]
    fn incremental_query_text() {
        let at = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let q = Select::incremental("Account", &["Name", "id", "SystemModstamp"], Some(at))
            .build()
            .unwrap();
        assert_eq!(
            q.as_str(),
            "SELECT Id, SystemModstamp, IsDeleted, Name FROM Account WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z ORDER BY SystemModstamp ASC, Id ASC"
        );
        let q = Select::incremental("Account", &["Name"], None)
            .build()
            .unwrap();
        assert!(!q.as_str().contains("WHERE"));
        let q = Select::full_refresh("Foo__c", &["Bar__c"])
            .limit(5)
            .build()
            .unwrap();
        assert_eq!(
            q.as_str(),
            "SELECT Id, Bar__c FROM Foo__c ORDER BY Id ASC LIMIT 5"
        );
        assert_eq!(
            count("Lead", Some(at)).unwrap().as_str(),
            "SELECT COUNT() FROM Lead WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z"
        );
    }

    #[test]
    fn injection_is_refused() {
        let err = Select::new("Account")
            .fields(["Name FROM User WHERE Id != null"])
            .build();
        assert!(matches!(err, Err(SoqlError::BadIdentifier { .. })));
        assert!(Select::new("Account WHERE").build().is_err());
        let err = Select::new("Account")
            .where_id_in(["001' OR Name != '"])
            .build();
        assert!(matches!(err, Err(SoqlError::BadRecordId(_))));
        assert!(permission_assignments("005x00000012Q9P' OR Id != '").is_err());
        assert!(count("Account; DELETE", None).is_err());
    }

    fn wide_fields(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("Synthetic_Field_Number_{i:04}__c"))
            .collect()
    }

    #[test]
    fn narrow_query_is_not_split() {
        let plan = Select::incremental("Account", &["Name"], None)
            .plan(80, MAX_URL_BYTES, 200)
            .unwrap();
        assert!(plan.lookups.is_empty());
    }

    #[test]
    fn wide_query_splits_into_groups_that_fit_and_cover_every_field() {
        let fields = wide_fields(700);
        let at = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let select = Select::incremental("Wide__c", &fields, Some(at));
        let prefix = "https://127.0.0.1:12345/services/data/v62.0/queryAll/?q=".len();
        let plan = select.plan(prefix, MAX_URL_BYTES, 200).unwrap();
        assert!(!plan.lookups.is_empty());
        let driver = plan.driver.build().unwrap();
        assert!(prefix + driver.encoded_len() <= MAX_URL_BYTES);
        assert!(
            driver
                .as_str()
                .starts_with("SELECT Id, SystemModstamp, IsDeleted, Synthetic")
        );
        assert!(
            driver
                .as_str()
                .ends_with("ORDER BY SystemModstamp ASC, Id ASC")
        );
        let mut covered: Vec<String> = plan.driver.field_names()[3..].to_vec();
        let ids: Vec<String> = (0..2000).map(|i| format!("a0000000000{i:04}AAA")).collect();
        for group in &plan.lookups {
            covered.extend(group.iter().cloned());
            let queries =
                QueryPlan::lookup_queries("Wide__c", group, &ids, prefix, MAX_URL_BYTES).unwrap();
            assert!(queries.len() <= 2000 / 200);
            for q in &queries {
                assert!(
                    prefix + q.encoded_len() <= MAX_URL_BYTES,
                    "{}",
                    q.encoded_len()
                );
                assert!(q.as_str().starts_with("SELECT Id, "));
            }
        }
        assert_eq!(covered, fields);
    }
}
