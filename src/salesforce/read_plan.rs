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
/// Job-info polls an estimate assumes for a Bulk job (the first look comes at once, then
/// waits double from half a second: a job of a few hundred thousand rows needs about this
/// many). The one number of a Bulk read that is an estimate: the org's queue decides it.
pub const BULK_POLLS_ESTIMATE: u64 = 4;
/// `limits/recordCount` calls of a run with objects read from the start while Bulk is on:
/// one call counts them all, whichever route each then takes.
pub const RECORD_COUNT_CALLS: u64 = 1;

/// How an object read from the start goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ReadVia {
    Rest,
    Bulk,
}

/// Whether the run could read `selected` of `object` (as the schema shows it) through Bulk:
/// the run's own verdict (`bulk::BulkShape`), for Review to price the same route.
pub fn bulk_supports<'s>(
    object: &crate::model::ObjectSchema,
    selected: impl IntoIterator<Item = &'s str>,
) -> bool {
    super::bulk::BulkShape::check_schema(object, selected).is_ok()
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

/// API calls of one Bulk job reading `records` rows: its creation, its polls (estimated)
/// and one call per result set. The run's record count call comes on top, once
/// ([`RECORD_COUNT_CALLS`]).
pub fn bulk_job_calls(records: u64) -> u64 {
    1u64.saturating_add(BULK_POLLS_ESTIMATE)
        .saturating_add(records.div_ceil(BULK_SET_RECORDS).max(1))
}

/// The settings of a source that shape how its reads are sent, taken by the run and by
/// Review from the same source configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSettings {
    /// Reads from the start of more rows than this go through Bulk; 0 turns Bulk off.
    pub bulk_threshold: u64,
    /// Query cursors the source's sliced reads may hold at once (`query_cursors`).
    pub query_cursors: u8,
}

impl ReadSettings {
    pub fn of(source: &crate::config::SourceConfig) -> ReadSettings {
        ReadSettings {
            bulk_threshold: source.bulk_threshold,
            query_cursors: source.query_cursors,
        }
    }

    /// The cursor bound in force: `query_cursors` within 1 and the per-user maximum.
    pub fn cursors(&self) -> usize {
        usize::from(
            self.query_cursors
                .clamp(1, crate::config::defaults::MAX_QUERY_CURSORS),
        )
    }
}

impl Default for ReadSettings {
    /// A source that sets neither key.
    fn default() -> ReadSettings {
        ReadSettings {
            bulk_threshold: crate::config::defaults::BULK_THRESHOLD,
            query_cursors: crate::config::defaults::QUERY_CURSORS,
        }
    }
}

/// A REST read is sliced only when at least this many rows follow its first page (ten
/// pages): below that the COUNT calls would cost more than the parallelism saves.
pub const MIN_SLICED_ROWS: u64 = 10 * BATCH_SIZE as u64;
/// Each slice should have at least this many pages to read.
pub const MIN_PAGES_PER_SLICE: u64 = 2;
/// Equal time buckets counted to place the slice boundaries: four composite calls.
pub const COUNT_BUCKETS: usize = 4 * PAGES_PER_CALL;

/// Slices for a rest of `rows` rows under a bound of `cursors` query cursors: 0 when it
/// should not be sliced, else at least 2. The first query reads on as slice 0, so every
/// cursor reads; below three cursors a read is not sliced (two readers would not repay
/// the counting round trip on most objects).
pub fn slices_for(rows: u64, cursors: usize) -> usize {
    if rows < MIN_SLICED_ROWS || cursors < 3 {
        return 0;
    }
    let by_size = rows / (MIN_PAGES_PER_SLICE * u64::from(BATCH_SIZE));
    let n = usize::try_from(by_size).unwrap_or(usize::MAX).min(cursors);
    if n >= 2 { n } else { 0 }
}

/// A slice's rows are aimed at least this far inside its last page, so a bound a few rows
/// off (counts are interpolated within buckets) still gives the slice the pages priced.
pub const SLICE_MARGIN_ROWS: u64 = BATCH_SIZE as u64 / 4;

/// How the rest of a read is shared among its slices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceShares {
    /// Rows of each slice, slice 0 (the first query reading on) first. The last slice is
    /// open-ended: rows changed meanwhile are read there too.
    pub rows: Vec<u64>,
    /// Pages each slice reads; slice 0's last page is the one where its rows end.
    pub pages: Vec<u64>,
}

impl SliceShares {
    /// Rows before the start of each slice after the first: where the bounds are cut.
    pub fn cuts(&self) -> Vec<u64> {
        self.rows
            .iter()
            .scan(0u64, |sum, rows| {
                *sum = sum.saturating_add(*rows);
                Some(*sum)
            })
            .take(self.rows.len().saturating_sub(1))
            .collect()
    }

    pub fn total_pages(&self) -> u64 {
        self.pages.iter().fold(0, |a, p| a.saturating_add(*p))
    }
}

/// The shares of `rest` rows (those after the first page) among `slices` slices. Slice 0
/// is the first query, which fetches its next page while the counts are out, one round
/// trip before the other slices start: it may take one page more than they do, and the
/// run ends when the busiest slice does. Pages are the fewest that hold every slice's rows
/// with `SLICE_MARGIN_ROWS` to spare on either side of a page boundary; they are spread so
/// the read takes the fewest round trips, then the rows are spread over those pages.
pub fn slice_shares(rest: u64, slices: usize) -> SliceShares {
    let n = slices.max(1);
    let s = n as u64;
    let page = u64::from(BATCH_SIZE);
    let margin = SLICE_MARGIN_ROWS;
    let total = rest
        .saturating_add(s.saturating_mul(margin))
        .div_ceil(page)
        .max(s);
    // Round trips after the first page: slice 0 reads in rounds 1..=w, the others in
    // rounds 2..=w, so w pages for slice 0 and w - 1 for each other slice hold them all.
    let w = total.saturating_add(s - 1).div_ceil(s);
    let mut pages = vec![0u64; n];
    pages[0] = if n == 1 {
        total
    } else {
        w.min(total - (s - 1))
    };
    let others = total - pages[0];
    for (j, p) in pages.iter_mut().enumerate().skip(1) {
        let j = j as u64 - 1;
        *p = others / (s - 1) + u64::from(j < others % (s - 1));
    }
    // Each slice ends `margin` rows before its last page would be full; what the pages
    // hold beyond `rest` is taken from every slice alike (under a page in all, so each
    // keeps `margin` rows in its last page).
    let room: u64 = pages
        .iter()
        .map(|p| p.saturating_mul(page).saturating_sub(margin))
        .fold(0, u64::saturating_add);
    let excess = room.saturating_sub(rest);
    let rows = pages
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let j = j as u64;
            let take = excess / s + u64::from(j < excess % s);
            p.saturating_mul(page)
                .saturating_sub(margin)
                .saturating_sub(take)
        })
        .collect();
    SliceShares { rows, pages }
}

/// Buckets counted for a range of `span_ms` milliseconds: one per millisecond at most.
pub fn count_buckets(span_ms: i64) -> usize {
    COUNT_BUCKETS
        .min(usize::try_from(span_ms).unwrap_or(0))
        .max(1)
}

/// Calls that count `buckets` buckets: five COUNT() queries to a composite call.
pub fn count_calls(buckets: usize) -> u64 {
    buckets.div_ceil(PAGES_PER_CALL) as u64
}

/// Pages of `slices` slices sharing `rows` rows ([`slice_shares`]). A slice whose bound
/// lands more than `SLICE_MARGIN_ROWS` rows off its share (skewed rows within one counted
/// bucket) may take one page more or less than priced.
pub fn slice_pages(rows: u64, slices: usize) -> u64 {
    slice_shares(rows, slices).total_pages()
}

/// How a REST read of `records` rows from the start is sent, per field group of its query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestRead {
    /// Pages read through the first query, grouped with other objects' pages: all of
    /// them, or only the first when the rest is sliced.
    pub line_pages: u64,
    /// Parallel slices the rest is read in, the first query's own included (0: not
    /// sliced).
    pub slices: usize,
    /// Calls of the slicing itself: counting the buckets.
    pub count_calls: u64,
    /// Pages of the slices after the first page (the first query's own too), one call
    /// each.
    pub slice_pages: u64,
}

impl RestRead {
    /// The run's plan for `records` rows under `cursors` query cursors: the first page
    /// tells how many rows follow and the rest is sliced when `slices_for` says so.
    pub fn of(records: u64, cursors: usize) -> RestRead {
        let pages = ReadPlan::pages(records);
        let rest = records.saturating_sub(u64::from(BATCH_SIZE));
        // Below three cursors the first page is not even looked at for slicing.
        let slices = if pages > 1 && slices_for(u64::MAX, cursors) > 0 {
            slices_for(rest, cursors)
        } else {
            0
        };
        if slices == 0 {
            return RestRead {
                line_pages: pages,
                slices: 0,
                count_calls: 0,
                slice_pages: 0,
            };
        }
        RestRead {
            line_pages: 1,
            slices,
            count_calls: count_calls(COUNT_BUCKETS),
            slice_pages: slice_pages(rest, slices),
        }
    }

    /// Calls outside the grouped line: the counts and the slices' pages (each page of a
    /// query split into `field_groups` costs that many calls).
    pub fn sliced_calls(&self, field_groups: u64) -> u64 {
        self.slice_pages
            .saturating_mul(field_groups.max(1))
            .saturating_add(self.count_calls)
    }

    /// Every call of this read when it is read alone.
    pub fn calls(&self, field_groups: u64) -> u64 {
        self.line_pages
            .saturating_mul(field_groups.max(1))
            .saturating_add(self.sliced_calls(field_groups))
    }
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
        // A million rows: create, polls, ten sets; REST pages would take 500.
        assert_eq!(bulk_job_calls(1_000_000), 1 + BULK_POLLS_ESTIMATE + 10);
        assert_eq!(ReadPlan::pages(1_000_000), 500);
        assert_eq!(bulk_job_calls(0), 1 + BULK_POLLS_ESTIMATE + 1);
        assert!(bulk_job_calls(u64::MAX) > 0);
    }

    #[test]
    fn small_rests_are_not_sliced_and_the_first_query_is_one_of_the_slices() {
        assert_eq!(slices_for(MIN_SLICED_ROWS - 1, 8), 0);
        assert_eq!(slices_for(MIN_SLICED_ROWS, 8), 5);
        assert_eq!(slices_for(1_000_000, 8), 8);
        assert_eq!(slices_for(1_000_000, 2), 0);
        assert_eq!(slices_for(1_000_000, 3), 3);
        let many = ReadSettings {
            query_cursors: 200,
            ..ReadSettings::default()
        };
        assert_eq!(slices_for(1_000_000, many.cursors()), 10);
    }

    #[test]
    fn a_large_rest_read_costs_its_first_page_the_counts_and_the_slices_pages() {
        // 40 000 rows under 8 cursors: 38 000 follow the first page, 8 slices (the first
        // query's own included) in 21 pages, 4 round trips after the first page.
        let read = RestRead::of(40_000, 8);
        assert_eq!(read.line_pages, 1);
        assert_eq!(read.slices, 8);
        assert_eq!(read.count_calls, 4, "20 buckets, five to a composite call");
        assert_eq!(read.slice_pages, 21);
        assert_eq!(read.calls(1), 1 + 4 + 21);
        assert_eq!(
            read.calls(2),
            2 + 4 + 42,
            "each page of a split query per group"
        );
        // Sequential below the row bound or the cursor bound: what pages cost.
        assert_eq!(RestRead::of(21_999, 8).calls(1), ReadPlan::pages(21_999));
        assert_eq!(RestRead::of(40_000, 2).calls(1), 20);
        assert_eq!(RestRead::of(0, 8).calls(1), 1);
        // 200 000 rows, the default Bulk threshold: about one call per 2 000 rows.
        assert_eq!(RestRead::of(200_000, 8).calls(1), 1 + 4 + 101);
        assert!(RestRead::of(u64::MAX, 8).calls(u64::MAX) > 0);
    }

    /// Round trips after the first page: slice 0 reads from the first, the others from
    /// the second (after the counts).
    fn rounds(shares: &SliceShares) -> u64 {
        let first = shares.pages[0];
        let others = shares.pages[1..].iter().map(|p| p + 1).max().unwrap_or(0);
        first.max(others)
    }

    #[test]
    fn shares_hold_every_row_mid_page_in_the_fewest_round_trips() {
        let page = u64::from(BATCH_SIZE);
        for (rest, slices) in [
            (98_000, 8),
            (38_000, 8),
            (18_000, 3),
            (20_000, 5),
            (198_000, 8),
            (999_999, 10),
            (123_457, 7),
        ] {
            let shares = slice_shares(rest, slices);
            assert_eq!(shares.rows.len(), slices);
            assert_eq!(shares.rows.iter().sum::<u64>(), rest, "{rest} {slices}");
            for (rows, pages) in shares.rows.iter().zip(&shares.pages) {
                // Within `SLICE_MARGIN_ROWS` of neither end of its last page.
                assert!(
                    *rows >= (pages - 1) * page + SLICE_MARGIN_ROWS,
                    "{shares:?}"
                );
                assert!(*rows + SLICE_MARGIN_ROWS <= pages * page, "{shares:?}");
            }
            // No fewer round trips would hold the pages: slice 0 can read one page per
            // round, every other slice one fewer in all.
            let r = rounds(&shares);
            let s = slices as u64;
            assert!(r + (s - 1) * (r - 1) >= shares.total_pages());
            assert!(
                (r - 1) + (s - 1) * (r - 2) < shares.total_pages(),
                "{shares:?}"
            );
            let cuts = shares.cuts();
            assert_eq!(cuts.len(), slices - 1);
            assert!(cuts.windows(2).all(|w| w[0] < w[1]));
        }
        // 100 000 rows under 8 cursors: 9 round trips including the first page, where
        // 7 slices of 14 000 rows took 9 at best and 10 when one bound was a row late.
        let shares = slice_shares(98_000, 8);
        assert_eq!(rounds(&shares), 8);
        assert_eq!(shares.total_pages(), 51);
    }

    #[test]
    fn buckets_and_their_calls() {
        assert_eq!(count_buckets(i64::MAX), COUNT_BUCKETS);
        assert_eq!(count_buckets(3), 3);
        assert_eq!(count_buckets(-5), 1);
        assert_eq!(count_calls(COUNT_BUCKETS), 4);
        assert_eq!(count_calls(6), 2);
        assert_eq!(slice_pages(0, 3), 3, "an empty slice is still one page");
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
