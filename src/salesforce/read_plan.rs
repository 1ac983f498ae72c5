//! How one object is read, and what that costs: the query text, its field groups (a query
//! too long for one URL is split into groups joined by Id), pages and API calls.
//!
//! The run builds its queries with [`read_select`] and the client splits them with
//! `Select::plan`; Review prices a selection with [`ReadPlan::of`], which calls the same
//! two functions. There is no second model of the query, so the cost shown before a sync is
//! the cost of the queries the sync sends.

use chrono::{DateTime, Utc};

use super::soql::{MAX_URL_BYTES, Select, SoqlError};

/// Records per query page asked for (Salesforce's maximum).
pub const BATCH_SIZE: u32 = 2000;

/// The request URL before the query text when the instance is not known (Review): a long
/// My Domain sandbox host, so the estimate splits no later than the real query would.
pub const TYPICAL_QUERY_URL_PREFIX: &str = "https://yourcompanyname--sandboxname.sandbox.my.salesforce.com/services/data/v62.0/queryAll/?q=";

/// The query that reads `object`: incremental (`queryAll` ordered by SystemModstamp, from
/// `since` when given) when the object has SystemModstamp, else a full read ordered by Id.
/// `fields` are the selected fields without the bookkeeping ones, which the query adds.
pub fn read_select<S: AsRef<str>>(
    object: &str,
    fields: &[S],
    has_modstamp: bool,
    since: Option<DateTime<Utc>>,
) -> Select {
    if has_modstamp {
        Select::incremental(object, fields, since)
    } else {
        Select::full_refresh(object, fields)
    }
}

/// A read as it will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPlan {
    /// The driver query (the whole query when it fits one URL).
    pub query: String,
    /// Queries per page: the driver plus one per lookup field group.
    pub field_groups: u64,
}

impl ReadPlan {
    /// Plan `select` for URLs of `url_prefix_len` bytes before the query, as the client does.
    pub fn of(select: &Select, url_prefix_len: usize) -> Result<ReadPlan, SoqlError> {
        let plan = select.plan(url_prefix_len, MAX_URL_BYTES)?;
        Ok(ReadPlan {
            query: plan.driver.build()?.as_str().to_string(),
            field_groups: 1 + plan.lookups.len() as u64,
        })
    }

    /// Pages for `records` rows; an empty result is still one page.
    pub fn pages(records: u64) -> u64 {
        records.div_ceil(u64::from(BATCH_SIZE)).max(1)
    }

    /// API calls to read `records` rows.
    pub fn calls(&self, records: u64) -> u64 {
        Self::pages(records).saturating_mul(self.field_groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_selection_is_one_query_per_page() {
        let select = read_select("Account", &["Name", "Industry"], true, None);
        let plan = ReadPlan::of(&select, TYPICAL_QUERY_URL_PREFIX.len()).unwrap();
        assert_eq!(
            plan.query,
            "SELECT Id, SystemModstamp, IsDeleted, Name, Industry FROM Account ORDER BY SystemModstamp ASC, Id ASC"
        );
        assert_eq!(plan.field_groups, 1);
        assert_eq!(plan.calls(0), 1);
        assert_eq!(plan.calls(4_500), 3);
    }

    #[test]
    fn without_system_modstamp_the_object_is_read_by_id() {
        let select = read_select("Thing__c", &["Name"], false, None);
        let plan = ReadPlan::of(&select, TYPICAL_QUERY_URL_PREFIX.len()).unwrap();
        assert_eq!(plan.query, "SELECT Id, Name FROM Thing__c ORDER BY Id ASC");
    }

    #[test]
    fn a_wide_selection_splits_exactly_as_the_client_splits_it() {
        let fields: Vec<String> = (0..1_000).map(|i| format!("F{i:0>36}__c")).collect();
        let select = read_select("Account", &fields, true, None);
        let prefix = TYPICAL_QUERY_URL_PREFIX.len();
        let plan = ReadPlan::of(&select, prefix).unwrap();
        let split = select.plan(prefix, MAX_URL_BYTES).unwrap();
        assert!(plan.field_groups > 1);
        assert_eq!(plan.field_groups, 1 + split.lookups.len() as u64);
        assert_eq!(plan.calls(4_001), 3 * plan.field_groups);
    }
}
