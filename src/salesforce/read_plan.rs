//! How one object is read, and what that costs: the query text, its field groups (a query
//! too long for one URL is split into groups joined by Id), pages and API calls.
//!
//! The run builds its queries with [`read_select`] and the client splits them with
//! `Select::plan`; Review prices a selection with [`ReadPlan::of`], which calls the same
//! two functions. There is no second model of the query, so the cost shown before a sync is
//! the cost of the queries the sync sends.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::client::{COMPOSITE_LIMIT, COMPOSITE_QUERY_LIMIT};
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

/// Query pages per composite call: Salesforce allows five query operations in one.
pub const PAGES_PER_CALL: usize = COMPOSITE_QUERY_LIMIT;
/// Describes (and their revalidations) per composite call.
pub const DESCRIBES_PER_CALL: usize = COMPOSITE_LIMIT;

/// The order in which reads share composite calls: each call carries the next page of the
/// first `PAGES_PER_CALL` reads in line, and a read with more pages goes to the back. The
/// run takes its calls from here and the estimates count them here, so a priced run and a
/// sent run group pages the same way.
#[derive(Debug)]
pub struct Line<T> {
    waiting: VecDeque<T>,
}

impl<T> Line<T> {
    pub fn new(reads: impl IntoIterator<Item = T>) -> Line<T> {
        Line {
            waiting: reads.into_iter().collect(),
        }
    }

    /// The reads whose next pages go into the next call.
    pub fn next_call(&mut self) -> Vec<T> {
        let n = self.waiting.len().min(PAGES_PER_CALL);
        self.waiting.drain(..n).collect()
    }

    /// A read with more pages to fetch.
    pub fn requeue(&mut self, read: T) {
        self.waiting.push_back(read);
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Everything still waiting (a stopped run).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.waiting.drain(..)
    }
}

/// API calls to read objects of `pages` pages each (an empty result is one page) when
/// their pages are grouped into composite calls as the run groups them.
pub fn grouped_calls(pages: &[u64]) -> u64 {
    let mut line = Line::new(pages.iter().map(|p| (*p).max(1)));
    let mut calls = 0u64;
    while !line.is_empty() {
        calls += 1;
        for left in line.next_call() {
            if left > 1 {
                line.requeue(left - 1);
            }
        }
    }
    calls
}

/// Records a Bulk read asks for per result set (`maxRecords`): one call each.
pub const BULK_SET_RECORDS: u64 = 100_000;
/// Job-info polls an estimate assumes for a Bulk job (the first look comes after half a
/// second, then waits double: a job of a few hundred thousand rows needs about this many).
pub const BULK_POLLS_ESTIMATE: u64 = 4;

/// How an object read from the start goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ReadVia {
    Rest,
    Bulk,
}

/// The route of a read from the start of `records` rows: Bulk API when there are more than
/// `threshold` (0: never) and Bulk can read the selection, else REST pages. The run and
/// Review decide with this one function.
pub fn backfill_via(records: u64, threshold: u64, bulk_possible: bool) -> ReadVia {
    if bulk_possible && threshold > 0 && records > threshold {
        ReadVia::Bulk
    } else {
        ReadVia::Rest
    }
}

/// API calls of a Bulk read of `records` rows: the record count, the job's creation, its
/// polls (estimated) and one call per result set.
pub fn bulk_calls(records: u64) -> u64 {
    2u64.saturating_add(BULK_POLLS_ESTIMATE)
        .saturating_add(records.div_ceil(BULK_SET_RECORDS).max(1))
}

/// API calls to describe (or revalidate) `objects` objects.
pub fn describe_calls(objects: u64) -> u64 {
    objects.div_ceil(DESCRIBES_PER_CALL as u64)
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
    fn large_reads_from_the_start_go_through_bulk_in_a_few_calls() {
        assert_eq!(backfill_via(10_001, 10_000, true), ReadVia::Bulk);
        assert_eq!(backfill_via(10_000, 10_000, true), ReadVia::Rest);
        assert_eq!(
            backfill_via(u64::MAX, 0, true),
            ReadVia::Rest,
            "0 turns Bulk off"
        );
        assert_eq!(backfill_via(1_000_000, 10, false), ReadVia::Rest);
        // A million rows: count, create, polls, ten sets; REST pages would take 500.
        assert_eq!(bulk_calls(1_000_000), 2 + BULK_POLLS_ESTIMATE + 10);
        assert_eq!(ReadPlan::pages(1_000_000), 500);
        assert_eq!(bulk_calls(0), 2 + BULK_POLLS_ESTIMATE + 1);
        assert!(bulk_calls(u64::MAX) > 0);
    }

    #[test]
    fn pages_share_calls_five_at_a_time() {
        assert_eq!(grouped_calls(&[]), 0);
        assert_eq!(grouped_calls(&[1; 20]), 4);
        assert_eq!(grouped_calls(&[0; 6]), 2, "an empty result is still a page");
        // Six objects with three pages each: 18 pages, five per call.
        assert_eq!(grouped_calls(&[3; 6]), 4);
        // One long object is read a page per call once the others are done.
        assert_eq!(grouped_calls(&[10, 1, 1, 1, 1]), 10);
        assert_eq!(describe_calls(20), 1);
        assert_eq!(describe_calls(26), 2);
    }

    #[test]
    fn the_line_takes_five_and_requeues_at_the_back() {
        let mut line = Line::new(1..=7);
        assert_eq!(line.next_call(), vec![1, 2, 3, 4, 5]);
        line.requeue(1);
        assert_eq!(line.next_call(), vec![6, 7, 1]);
        assert!(line.is_empty());
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
