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

/// `'001xx000003DGb2AAG', ` form-urlencoded: quotes and comma are 3 bytes each.
const ENCODED_ID_LEN: usize = 18 + 3 * 3 + 1;
/// Split-query lookup groups keep room for this many ids in their by-id fallback.
const IDS_PER_FALLBACK_LOOKUP: usize = 20;

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

    /// Items of the select list: a record of the result has at most this many keys (a
    /// path like `Owner.Name` comes back as one nested `Owner`). `None` when the list
    /// cannot tell (`FIELDS(...)`, no `SELECT ... FROM`).
    pub fn select_width(&self) -> Option<usize> {
        let text = self.0.trim_start();
        let list = text
            .get(..7)
            .filter(|head| head.eq_ignore_ascii_case("SELECT "))
            .map(|_| &text[7..])?;
        if list.to_ascii_uppercase().contains("FIELDS(") {
            return None;
        }
        let (mut depth, mut items, mut quoted) = (0usize, 1usize, false);
        let bytes = list.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\'' => quoted = !quoted,
                _ if quoted => {}
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => items += 1,
                b' ' if depth == 0
                    && bytes
                        .get(i + 1..i + 6)
                        .is_some_and(|w| w.eq_ignore_ascii_case(b"FROM ")) =>
                {
                    return Some(items);
                }
                _ => {}
            }
        }
        None
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
    ModstampBetween(DateTime<Utc>, DateTime<Utc>),
    /// `from <= SystemModstamp < until`: one slice of a sliced read.
    ModstampFromUntil(DateTime<Utc>, DateTime<Utc>),
    IdBetween(String, String),
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

    /// Keep rows with `from <= SystemModstamp < until` (half-open, so adjacent slices
    /// never share a row).
    pub fn where_modstamp_from_until(
        mut self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Select {
        self.filter = Filter::ModstampFromUntil(from, until);
        self
    }

    pub fn order_by_modstamp_then_id(mut self) -> Select {
        self.order = Order::ModstampThenId;
        self
    }

    /// `WHERE Id IN ('…', …)`: specific records (each id is validated when built).
    pub fn where_id_in(mut self, ids: &[String]) -> Select {
        self.filter = Filter::IdIn(ids.to_vec());
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
    /// the encoded query (`https://host/services/data/vXX.X/queryAll/?q=`).
    ///
    /// Each driver page covers a contiguous key range (SystemModstamp for incremental reads,
    /// else Id, which the driver is then ordered by), so each lookup group costs one query
    /// per page: `SELECT Id, <group> FROM X WHERE <key> BETWEEN <page's first and last>`.
    pub fn plan(
        &self,
        url_prefix_len: usize,
        max_url_bytes: usize,
    ) -> Result<QueryPlan, SoqlError> {
        let key = match self.order {
            Order::ModstampThenId => PageKey::Modstamp,
            Order::Id | Order::None => PageKey::Id,
        };
        let fits = |select: &Select| -> Result<bool, SoqlError> {
            Ok(url_prefix_len + select.build()?.encoded_len() <= max_url_bytes)
        };
        if fits(self)? {
            return Ok(QueryPlan {
                driver: self.clone(),
                lookups: Vec::new(),
                key,
            });
        }
        let too_long = || SoqlError::TooLong {
            object: self.object.clone(),
        };
        // The driver keeps the key and system fields (cursor and delete handling need them)
        // and as many others as fit.
        let system = [ID, SYSTEM_MODSTAMP, IS_DELETED];
        let is_system = |f: &String| system.iter().any(|k| f.eq_ignore_ascii_case(k));
        let mut driver = Select {
            fields: self
                .fields
                .iter()
                .filter(|f| is_system(f))
                .cloned()
                .collect(),
            order: if self.order == Order::None {
                Order::Id
            } else {
                self.order
            },
            ..self.clone()
        };
        if key == PageKey::Modstamp {
            driver = driver.fields([SYSTEM_MODSTAMP]);
        }
        if !fits(&driver)? {
            return Err(too_long());
        }
        // Form-urlencoding works byte by byte, so a field adds the same length wherever it
        // goes: `, Name` is measured once instead of re-encoding the whole query per field.
        let added = |field: &str| encoded_len(&format!(", {field}"));
        let budget = max_url_bytes.saturating_sub(url_prefix_len);
        let mut len = driver.build()?.encoded_len();
        let mut rest = self.fields.iter().filter(|f| !is_system(f)).peekable();
        let mut kept = Vec::new();
        while let Some(field) = rest.next_if(|f| len + added(f) <= budget) {
            len += added(field);
            kept.push(field.as_str());
        }
        driver = driver.fields(kept);
        // Lookup groups leave room for the by-id fallback to fetch a few ids per query.
        let skeleton = lookup_select(&self.object, &[], &key.sample_bounds())
            .build()?
            .encoded_len()
            + IDS_PER_FALLBACK_LOOKUP * ENCODED_ID_LEN;
        let mut lookups: Vec<Vec<String>> = Vec::new();
        let mut group: Vec<String> = Vec::new();
        let mut len = skeleton;
        for field in rest {
            if skeleton + added(field) > budget {
                return Err(too_long());
            }
            if len + added(field) > budget {
                lookups.push(std::mem::take(&mut group));
                len = skeleton;
            }
            len += added(field);
            group.push(field.clone());
        }
        if !group.is_empty() {
            lookups.push(group);
        }
        Ok(QueryPlan {
            driver,
            lookups,
            key,
        })
    }
}

/// What a split query's pages are ordered by, hence how a page's range is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKey {
    Modstamp,
    Id,
}

impl PageKey {
    /// Literals have fixed lengths, so any bounds measure the same.
    fn sample_bounds(self) -> PageBounds {
        match self {
            PageKey::Modstamp => PageBounds::Modstamp(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH),
            PageKey::Id => PageBounds::Id("000000000000000AAA".into(), "000000000000000AAA".into()),
        }
    }
}

/// The key range one driver page covers (inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageBounds {
    Modstamp(DateTime<Utc>, DateTime<Utc>),
    Id(String, String),
}

/// How a wide query runs: the driver pages through the result; for each driver page, each
/// lookup group is fetched over the page's key range and joined by Id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPlan {
    pub driver: Select,
    pub lookups: Vec<Vec<String>>,
    pub key: PageKey,
}

impl QueryPlan {
    /// The lookup query of field group `group` for a page covering `bounds`.
    pub fn lookup(&self, group: usize, bounds: &PageBounds) -> Result<Soql, SoqlError> {
        lookup_select(self.driver.object(), self.group(group), bounds).build()
    }

    /// Lookups of field group `group` for specific ids (records that moved out of their
    /// page's range between the queries), as few queries as fit the URL budget.
    pub fn lookup_ids(
        &self,
        group: usize,
        ids: &[String],
        url_prefix_len: usize,
        max_url_bytes: usize,
    ) -> Result<Vec<Soql>, SoqlError> {
        let object = self.driver.object();
        let fields = self.group(group);
        let by_ids = |chunk: &[String]| {
            let mut select = Select::new(object).fields(fields);
            select.filter = Filter::IdIn(chunk.to_vec());
            select.build()
        };
        let skeleton = by_ids(&[])?.encoded_len();
        let room = max_url_bytes.saturating_sub(url_prefix_len + skeleton);
        let per_query = (room / ENCODED_ID_LEN).max(1);
        ids.chunks(per_query).map(by_ids).collect()
    }

    fn group(&self, group: usize) -> &[String] {
        self.lookups
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

fn lookup_select(object: &str, fields: &[String], bounds: &PageBounds) -> Select {
    let mut select = Select::new(object).fields(fields);
    select.filter = match bounds {
        PageBounds::Modstamp(from, to) => Filter::ModstampBetween(*from, *to),
        PageBounds::Id(from, to) => Filter::IdBetween(from.clone(), to.clone()),
    };
    select
}

fn render_filter(filter: &Filter) -> Result<String, SoqlError> {
    Ok(match filter {
        Filter::None => String::new(),
        Filter::ModstampAtOrAfter(at) => {
            format!(" WHERE SystemModstamp >= {}", format_soql_datetime(*at))
        }
        Filter::ModstampBetween(from, to) => format!(
            " WHERE SystemModstamp >= {} AND SystemModstamp <= {}",
            format_soql_datetime(*from),
            format_soql_datetime(*to)
        ),
        Filter::ModstampFromUntil(from, until) => format!(
            " WHERE SystemModstamp >= {} AND SystemModstamp < {}",
            format_soql_datetime(*from),
            format_soql_datetime(*until)
        ),
        Filter::IdIn(ids) => {
            let quoted = ids
                .iter()
                .map(|id| validate_record_id(id).map(|id| format!("'{id}'")))
                .collect::<Result<Vec<_>, _>>()?;
            format!(" WHERE Id IN ({})", quoted.join(", "))
        }
        Filter::IdBetween(from, to) => format!(
            " WHERE Id >= '{}' AND Id <= '{}'",
            validate_record_id(from)?,
            validate_record_id(to)?
        ),
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

/// `SELECT COUNT() FROM X WHERE SystemModstamp >= from AND SystemModstamp < until`.
pub fn count_between(
    object: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Soql, SoqlError> {
    validate_object(object)?;
    Ok(Soql(format!(
        "SELECT COUNT() FROM {object}{}",
        render_filter(&Filter::ModstampFromUntil(from, until))?
    )))
}

/// `SELECT Id, SystemModstamp FROM X ORDER BY SystemModstamp DESC LIMIT 1`: the newest
/// row's SystemModstamp, where the rows of a read from the start (or since a cursor) end.
pub fn newest_modstamp(object: &str) -> Result<Soql, SoqlError> {
    validate_object(object)?;
    Ok(Soql(format!(
        "SELECT Id, SystemModstamp FROM {object} ORDER BY SystemModstamp DESC LIMIT 1"
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
            newest_modstamp("Lead").unwrap().as_str(),
            "SELECT Id, SystemModstamp FROM Lead ORDER BY SystemModstamp DESC LIMIT 1"
        );
        assert!(newest_modstamp("Lead; DROP").is_err());
        let until = at + chrono::Duration::hours(1);
        assert_eq!(
            count_between("Lead", at, until).unwrap().as_str(),
            "SELECT COUNT() FROM Lead WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z AND SystemModstamp < 2024-01-02T04:04:05.000Z"
        );
        let q = Select::incremental("Lead", &["Name"], None)
            .where_modstamp_from_until(at, until)
            .build()
            .unwrap();
        assert!(q.as_str().ends_with("WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z AND SystemModstamp < 2024-01-02T04:04:05.000Z ORDER BY SystemModstamp ASC, Id ASC"), "{q:?}");
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
        let bounds = PageBounds::Id("001' OR Name != '".into(), "001000000000001AAA".into());
        let err = lookup_select("Account", &[], &bounds).build();
        assert!(matches!(err, Err(SoqlError::BadRecordId(_))));
        assert!(permission_assignments("005x00000012Q9P' OR Id != '").is_err());
        assert!(count("Account; DELETE", None).is_err());
    }

    #[test]
    fn select_width_counts_top_level_items() {
        let width = |q: &'static str| Soql::from_static(q).select_width();
        assert_eq!(width("SELECT Id, Name, Owner.Name FROM Account"), Some(3));
        assert_eq!(width("select COUNT() from Lead"), Some(1));
        assert_eq!(
            width("SELECT Id, (SELECT Id, Name FROM Contacts) FROM Account WHERE Name = 'a, b'"),
            Some(2)
        );
        assert_eq!(width("SELECT FIELDS(ALL) FROM Account LIMIT 200"), None);
        assert_eq!(width("DELETE everything"), None);
        let built = Select::incremental("Account", &["Name", "Phone"], None)
            .build()
            .unwrap();
        assert_eq!(built.select_width(), Some(5));
    }

    fn wide_fields(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("Synthetic_Field_Number_{i:04}__c"))
            .collect()
    }

    #[test]
    fn narrow_query_is_not_split() {
        let plan = Select::incremental("Account", &["Name"], None)
            .plan(80, MAX_URL_BYTES)
            .unwrap();
        assert!(plan.lookups.is_empty());
        assert_eq!(plan.driver, Select::incremental("Account", &["Name"], None));
    }

    #[test]
    fn wide_incremental_query_splits_by_modstamp_range() {
        let fields = wide_fields(700);
        let at = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let select = Select::incremental("Wide__c", &fields, Some(at));
        let prefix = "https://127.0.0.1:12345/services/data/v62.0/queryAll/?q=".len();
        assert!(prefix + select.build().unwrap().encoded_len() > MAX_URL_BYTES);
        let plan = select.plan(prefix, MAX_URL_BYTES).unwrap();
        assert_eq!(plan.key, PageKey::Modstamp);
        assert_eq!(plan.lookups.len(), 1);
        let driver = plan.driver.build().unwrap();
        assert!(prefix + driver.encoded_len() <= MAX_URL_BYTES);
        assert!(
            driver
                .as_str()
                .starts_with("SELECT Id, SystemModstamp, IsDeleted, Synthetic")
        );
        assert!(driver.as_str().ends_with(
            "WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z ORDER BY SystemModstamp ASC, Id ASC"
        ));
        let mut covered: Vec<String> = plan.driver.field_names()[3..].to_vec();
        let to = Utc.with_ymd_and_hms(2024, 1, 3, 0, 0, 0).unwrap();
        let bounds = PageBounds::Modstamp(at, to);
        for group in 0..plan.lookups.len() {
            covered.extend(plan.lookups[group].iter().cloned());
            let q = plan.lookup(group, &bounds).unwrap();
            assert!(
                prefix + q.encoded_len() <= MAX_URL_BYTES,
                "{}",
                q.encoded_len()
            );
            assert!(q.as_str().starts_with("SELECT Id, Synthetic"));
            assert!(q.as_str().ends_with(
                "FROM Wide__c WHERE SystemModstamp >= 2024-01-02T03:04:05.000Z AND SystemModstamp <= 2024-01-03T00:00:00.000Z"
            ));
        }
        assert_eq!(covered, fields);
    }

    #[test]
    fn wide_unordered_query_is_ordered_by_id_and_split_by_id_range() {
        let fields = wide_fields(1500);
        let plan = Select::new("Wide__c")
            .fields(&fields)
            .plan(60, MAX_URL_BYTES)
            .unwrap();
        assert_eq!(plan.key, PageKey::Id);
        assert!(plan.lookups.len() >= 2);
        assert!(
            plan.driver
                .build()
                .unwrap()
                .as_str()
                .ends_with("ORDER BY Id ASC")
        );
        let bounds = PageBounds::Id("a00000000000001AAA".into(), "a00000000000999AAA".into());
        let q = plan.lookup(1, &bounds).unwrap();
        assert!(
            q.as_str()
                .ends_with("WHERE Id >= 'a00000000000001AAA' AND Id <= 'a00000000000999AAA'")
        );
        assert!(60 + q.encoded_len() <= MAX_URL_BYTES);
        let total: usize =
            plan.driver.field_names().len() - 1 + plan.lookups.iter().map(Vec::len).sum::<usize>();
        assert_eq!(total, fields.len());
    }

    #[test]
    fn moved_records_are_looked_up_by_id_within_the_budget() {
        let plan = Select::new("Wide__c")
            .fields(wide_fields(1500))
            .plan(60, MAX_URL_BYTES)
            .unwrap();
        let ids: Vec<String> = (0..900).map(|i| format!("a0000000000{i:04}AAA")).collect();
        let queries = plan.lookup_ids(0, &ids, 60, MAX_URL_BYTES).unwrap();
        assert!(
            queries.len() >= 2 && queries.len() <= ids.len() / 20,
            "{}",
            queries.len()
        );
        let mut seen = 0;
        for q in &queries {
            assert!(60 + q.encoded_len() <= MAX_URL_BYTES);
            seen += q.as_str().matches("AAA'").count();
        }
        assert_eq!(seen, ids.len());
        let bad = plan.lookup_ids(0, &["x' OR Id != '".to_string()], 60, MAX_URL_BYTES);
        assert!(matches!(bad, Err(SoqlError::BadRecordId(_))));
    }

    #[test]
    fn a_name_too_long_for_any_url_is_an_error() {
        let select = Select::new("Wide__c").fields(["Some_Field__c"]);
        assert!(matches!(
            select.plan(15_990, MAX_URL_BYTES),
            Err(SoqlError::TooLong { .. })
        ));
    }
}
