//! Parallel slices for REST reads: a large read (first sync, backfill, full run, or a long
//! incremental catch-up) of one object is split into SystemModstamp ranges, read by
//! several query cursors at once.
//!
//! - A read starts as it always did: its first page costs what it always cost, and says
//!   (`totalSize`) how many rows follow. Only when at least `read_plan::MIN_SLICED_ROWS`
//!   follow is the rest sliced, so small objects and quiet incremental runs cost exactly
//!   what they did. The numbers and decisions live in `read_plan`, which Review prices
//!   with (`read_plan::RestRead`, `read_plan::slice_shares`).
//! - A query that fits one URL asks, in the same composite call as its first page, for
//!   the object's newest SystemModstamp. The rest's range, from the last committed row to
//!   just past that newest row (or to now minus the clock skew), is counted in
//!   `read_plan::COUNT_BUCKETS` equal time buckets (`SELECT COUNT()`, five per composite
//!   call, the calls sent together) and cut where the running count reaches each slice's
//!   share. Shares are whole pages with room to spare at both ends of the last one, so a
//!   bound a few rows off does not cost a page. The last slice is open-ended, so rows
//!   changed meanwhile are read too.
//! - The first query reads on as slice 0: its next page is fetched while the buckets are
//!   counted, and it stops where the next slice's rows begin (its pages are fetched no
//!   further). The other slices are new queries bounded by their range.
//! - Each slice commits its position with its pages (`Store::apply_slice_page`), so a
//!   killed process resumes every slice from its last committed page (slice 0 as a new
//!   bounded query); when every slice is done the slices are dropped and the object's
//!   cursor moves to the last slice's position in one transaction (`Store::finish_slices`).
//! - Why no row is missed: slice boundaries lie before the planning time minus the clock
//!   skew, and every slice query but the first starts after planning, so a row changed
//!   after a bounded slice was read moves into the open last slice, or past the final
//!   cursor, which is capped at the open slice's query start minus the skew like every
//!   cursor. The first query serves a row changed after it was sent in its old place with
//!   its new SystemModstamp: slice 0 keeps it (its values are current), and only a row
//!   past its bound that was not changed meanwhile ends it, so the rows after that one
//!   are later slices' own.
//! - Cursors held at once are bounded per source by `QueryCursors` (`query_cursors` in
//!   the config; API v55.0 and earlier allow a user 10 and release the oldest beyond
//!   that, later versions list no limit); the first query, left unfinished after slice
//!   0, counts as one of them until its object's slices are done.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::model::{FieldValue, Records};
use crate::salesforce::ErrorClass;
use crate::salesforce::client::PageRequest;
use crate::salesforce::read_plan::{
    PAGES_PER_CALL, count_buckets, read_select, slice_shares, slices_for,
};
use crate::salesforce::soql::{Soql, count_between, newest_modstamp};
use crate::salesforce::types::QueryPage;
use crate::store::{Cursor, PageWrite, SliceCursor};
use crate::sync::SyncError;
use crate::sync::object_sync::{
    CLOCK_SKEW, Incremental, OVERLAP, ObjectOptions, ObjectOutcome, ObjectPlan, ObjectSync,
};
use crate::sync::page_feed::{Fed, PageFeed, Pages};

/// Expired-locator restarts one slice gets per run.
const SLICE_RESTARTS: u32 = 3;
/// Pages each slice fetches ahead of the writer (see [`PageFeed::start_with`]).
const SLICE_PAGES_AHEAD: usize = 1;

/// The query cursors one source's sliced reads may hold at once.
#[derive(Debug, Clone)]
pub struct QueryCursors {
    permits: Arc<Semaphore>,
    total: usize,
}

impl QueryCursors {
    pub fn new(total: u8) -> QueryCursors {
        let total = usize::from(total.clamp(1, crate::config::defaults::MAX_QUERY_CURSORS));
        QueryCursors {
            permits: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Slices for a rest of `rows` rows (`read_plan::slices_for`, which Review prices with).
    pub fn slices_for(&self, rows: u64) -> usize {
        slices_for(rows, self.total)
    }

    /// The first query's cursor and the first slice's, taken together or not at all: a
    /// sliced read always holds one to make progress with, so reads waiting for cursors
    /// never wait on each other.
    fn try_reserve(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_many_owned(2).ok()
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit, SyncError> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SyncError::Internal("the query cursor bound was closed".into()))
    }
}

/// What every slice of one object's read shares.
struct SlicedRead {
    object: String,
    fields: Vec<String>,
    field_set: String,
    done: AtomicU64,
    expected: Option<u64>,
    /// The first query's last committed row (SystemModstamp text, Id): the first slice
    /// starts at that SystemModstamp, and rows up to this one are not written twice.
    committed: Option<(String, String)>,
}

impl SlicedRead {
    /// Rows of `slice`'s page the first query already committed, unchanged since (same
    /// SystemModstamp), are dropped so a run counts each row once.
    fn fresh(&self, slice: &SliceCursor, records: Records) -> Records {
        let Some((stamp, id)) = self.committed.as_ref().filter(|_| slice.slice == 0) else {
            return records;
        };
        let (_, fresh) = records.partition(|r| {
            r.get("SystemModstamp").and_then(FieldValue::as_str) == Some(stamp.as_str())
                && r.id().is_some_and(|rid| rid <= id.as_str())
        });
        fresh
    }
}

/// What a read does after its first page.
pub enum AfterProbe {
    /// It was read to its end (or a stop) from there, in slices or on.
    Finished(ObjectOutcome),
    /// It goes on as it was, with its next pages untouched.
    ReadOn(Rest),
}

/// A read's pages after its first one.
pub enum Rest {
    /// A stream of them, not yet polled.
    Pages(Pages),
    /// At a `nextRecordsUrl` of a query that fits one URL (a grouped read, whose first
    /// page did not ask for the newest row): slicing asks for the next page and the
    /// newest row in one composite call.
    At { url: String, soql: Soql },
}

impl Rest {
    pub fn into_pages(self, client: &crate::salesforce::Client) -> Pages {
        match self {
            Rest::Pages(pages) => pages,
            Rest::At { url, soql } => client.query_pages_from(&url, &soql, Incremental::OPTIONS),
        }
    }
}

/// The first query, read on as slice 0: its pages from the second on, and when it was
/// sent (its rows' positions are capped there, like any query's).
struct Continuation {
    feed: PageFeed,
    started: DateTime<Utc>,
}

/// Where a slice's pages come from.
enum SliceSource {
    /// The first query, whose cursor the caller holds.
    ReadOn(Continuation),
    /// A query of its own, with a cursor already held or to wait for.
    Query(Option<OwnedSemaphorePermit>),
}

/// How one slice's read ended.
struct SliceEnd {
    upserted: u64,
    deleted: u64,
    slice: SliceCursor,
}

fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    crate::model::parse_datetime(s).ok()
}

fn stamp_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Where `from..end` is cut so that `cuts[i]` rows (ascending) lie before bound `i`, given
/// the row counts of equal time buckets of that range (linear within a bucket). Cuts past
/// the rows counted, or falling on the same millisecond, give no bound.
pub fn bounds_at(
    from: DateTime<Utc>,
    end: DateTime<Utc>,
    counts: &[u64],
    cuts: &[u64],
) -> Vec<DateTime<Utc>> {
    let total: u64 = counts.iter().fold(0u64, |a, c| a.saturating_add(*c));
    let span = (end - from).num_milliseconds();
    if total == 0 || cuts.is_empty() || counts.is_empty() || span <= 0 {
        return Vec::new();
    }
    let buckets = counts.len() as i64;
    let edge = |i: i64| from + Duration::milliseconds(span.saturating_mul(i) / buckets);
    let mut bounds: Vec<DateTime<Utc>> = Vec::with_capacity(cuts.len());
    let mut wanted = cuts.iter().copied().peekable();
    let mut before = 0u64;
    for (i, count) in counts.iter().enumerate() {
        let i = i as i64;
        let after = before.saturating_add(*count);
        while let Some(want) = wanted.next_if(|want| *want < after) {
            let (lo, hi) = (edge(i), edge(i + 1));
            let within = (want.saturating_sub(before)) as f64 / (*count).max(1) as f64;
            let at =
                lo + Duration::milliseconds(((hi - lo).num_milliseconds() as f64 * within) as i64);
            if bounds.last().is_none_or(|b| at > *b) && at > from && at < end {
                bounds.push(at);
            }
        }
        before = after;
    }
    bounds
}

/// The answer of `read_plan`'s newest-row query, when it has one.
fn newest_of(answer: Option<Result<QueryPage, crate::salesforce::Error>>) -> Option<DateTime<Utc>> {
    let page = answer?.ok()?;
    let row = page.records.row(0)?;
    parse_stamp(row.get("SystemModstamp")?.as_str()?)
}

/// The newest SystemModstamp of `records` not changed during their query (`cap` is its
/// start minus the clock skew; see [`cut_at`]).
fn newest_unchanged(records: &Records, cap: DateTime<Utc>) -> Option<DateTime<Utc>> {
    records
        .iter()
        .filter_map(|r| parse_stamp(r.get("SystemModstamp")?.as_str()?))
        .filter(|at| *at <= cap)
        .max()
}

/// `pages`, ending after the page where rows at or past `ends_at` begin once that is
/// set: the query read on as slice 0 is fetched ahead, and a page past its rows would be
/// a call spent on rows another slice reads.
fn fetch_until(pages: Pages, ends_at: Arc<OnceLock<DateTime<Utc>>>, cap: DateTime<Utc>) -> Pages {
    futures::stream::unfold((pages, None), move |(mut pages, newest)| {
        let ends_at = ends_at.clone();
        async move {
            if let (Some(newest), Some(end)) = (newest, ends_at.get())
                && newest >= *end
            {
                return None;
            }
            let page = pages.next().await?;
            let newest = page
                .as_ref()
                .ok()
                .and_then(|p| newest_unchanged(&p.records, cap));
            Some((page, (pages, newest)))
        }
    })
    .boxed()
}

/// The rows of a page of the query read on as slice 0 that belong to it, and whether its
/// rows ended there: they end at the first row at or past `until` that was not changed
/// during the query (`cap` is its start minus the clock skew). A row changed meanwhile
/// keeps its old place in the query but shows its new SystemModstamp, so it says nothing
/// about where the slice ends; it is kept (its new values are current).
fn cut_at(records: Records, until: DateTime<Utc>, cap: DateTime<Utc>) -> (Records, bool) {
    let beyond = records.iter().position(|r| {
        r.get("SystemModstamp")
            .and_then(FieldValue::as_str)
            .and_then(parse_stamp)
            .is_some_and(|at| at >= until && at <= cap)
    });
    match beyond {
        Some(row) => (records.take_rows(row), true),
        None => (records, false),
    }
}

/// The position after a slice's page: its last row's SystemModstamp, never past the
/// query's start minus the clock skew (rows changed during the query keep their place).
fn page_position(records: &Records, query_started: DateTime<Utc>) -> Option<String> {
    let last = records.last()?;
    let text = last.get("SystemModstamp").and_then(FieldValue::as_str)?;
    let at = parse_stamp(text)?;
    let cap = query_started - CLOCK_SKEW;
    Some(if at <= cap {
        text.to_string()
    } else {
        stamp_text(cap)
    })
}

impl ObjectSync<'_> {
    /// Read the first page of `read` before the rest streams, and slice the rest when it
    /// is large (see the module docs).
    /// `single` is the read's query when it fits one URL: the probe then asks for the
    /// newest SystemModstamp in the same call.
    pub async fn probe_then_stream(
        &self,
        read: &mut Incremental,
        mut pages: Pages,
        single: Option<&Soql>,
    ) -> Result<ObjectOutcome, SyncError> {
        if self.cursors.slices_for(u64::MAX) > 0 && !self.stop.is_stopped() {
            let first = match single {
                Some(soql) => {
                    let (first, rest) = self.probe_with_newest(read, soql, pages).await;
                    pages = rest;
                    first
                }
                None => pages.next().await,
            };
            match first {
                None => return self.finish_incremental(read).await,
                Some(Err(e)) => {
                    // The stream decides what an error means (restart or fail).
                    pages = futures::stream::once(futures::future::ready(Err(e)))
                        .chain(pages)
                        .boxed();
                }
                Some(Ok(page)) => {
                    let (done, total) = (page.done, page.total_size);
                    self.apply_page(read, page).await?;
                    if done {
                        return self.finish_incremental(read).await;
                    }
                    if self.stop.is_stopped() {
                        return Ok(read.outcome);
                    }
                    match self.slice_rest(read, total, Rest::Pages(pages)).await? {
                        AfterProbe::Finished(outcome) => return Ok(outcome),
                        AfterProbe::ReadOn(rest) => pages = rest.into_pages(self.client),
                    }
                }
            }
        }
        self.stream(read, pages).await
    }

    /// The first page of `soql` and the object's newest SystemModstamp, in one composite
    /// call (what the first page alone costs), and the pages after it. The newest row
    /// bounds the range the counts divide: counting up to now would spend most buckets
    /// on time after the last change. A failed newest query only leaves it unknown; a
    /// first page failing transiently inside the call is asked for again on its own.
    async fn probe_with_newest(
        &self,
        read: &mut Incremental,
        soql: &Soql,
        pages: Pages,
    ) -> (Option<Result<QueryPage, crate::salesforce::Error>>, Pages) {
        let newest = match newest_modstamp(&read.object) {
            Ok(q) => q,
            Err(_) => return self.plain_probe(pages).await,
        };
        let requests = [
            PageRequest::First {
                soql: soql.clone(),
                options: Incremental::OPTIONS,
            },
            PageRequest::First {
                soql: newest,
                options: Incremental::OPTIONS,
            },
        ];
        let answers = match self.client.composite_pages(&requests).await {
            Ok(answers) => answers,
            // The call failed as a whole after the client's retries: the read fails as
            // its first page would have.
            Err(e) => return (Some(Err(e)), futures::stream::empty().boxed()),
        };
        let mut answers = answers.into_iter();
        let (first, newest) = (answers.next(), answers.next());
        read.newest = newest_of(newest);
        match first {
            Some(Ok(page)) => {
                let rest = self.pages_after(&page, soql);
                (Some(Ok(page)), rest)
            }
            Some(Err(e)) if e.class() != ErrorClass::Retryable => {
                (Some(Err(e)), futures::stream::empty().boxed())
            }
            _ => self.plain_probe(pages).await,
        }
    }

    /// The pages of `soql` after `page`.
    fn pages_after(&self, page: &QueryPage, soql: &Soql) -> Pages {
        match (&page.next_records_url, page.done) {
            (_, true) => futures::stream::empty().boxed(),
            (Some(url), false) => self
                .client
                .query_pages_from(url, soql, Incremental::OPTIONS),
            (None, false) => futures::stream::once(futures::future::ready(Err(
                crate::salesforce::Error::fatal(
                    "BAD_RESPONSE",
                    "a page says more follow but has no nextRecordsUrl",
                ),
            )))
            .boxed(),
        }
    }

    /// The page at `url` and the object's newest SystemModstamp in one composite call
    /// (what the page alone costs), then the pages after it. Sent only once the rest is
    /// to be sliced, so a grouped read that is not sliced keeps its pages in the line.
    async fn next_with_newest(&self, read: &mut Incremental, url: String, soql: Soql) -> Pages {
        let plain = |client: &crate::salesforce::Client| {
            client.query_pages_from(&url, &soql, Incremental::OPTIONS)
        };
        let Ok(newest) = newest_modstamp(&read.object) else {
            return plain(self.client);
        };
        let requests = [
            PageRequest::More {
                url: url.clone(),
                soql: soql.clone(),
                options: Incremental::OPTIONS,
            },
            PageRequest::First {
                soql: newest,
                options: Incremental::OPTIONS,
            },
        ];
        let answers = match self.client.composite_pages(&requests).await {
            Ok(answers) => answers,
            // The call failed as a whole after the client's retries, as the page would.
            Err(e) => return futures::stream::once(futures::future::ready(Err(e))).boxed(),
        };
        let mut answers = answers.into_iter();
        let (page, newest) = (answers.next(), answers.next());
        read.newest = newest_of(newest);
        match page {
            Some(Ok(page)) => {
                let after = self.pages_after(&page, &soql);
                futures::stream::once(futures::future::ready(Ok(page)))
                    .chain(after)
                    .boxed()
            }
            // An expired locator or a lasting failure: the read decides, as on any page.
            Some(Err(e)) if e.class() != ErrorClass::Retryable => {
                futures::stream::once(futures::future::ready(Err(e))).boxed()
            }
            _ => plain(self.client),
        }
    }

    async fn plain_probe(
        &self,
        mut pages: Pages,
    ) -> (Option<Result<QueryPage, crate::salesforce::Error>>, Pages) {
        (pages.next().await, pages)
    }

    /// After a committed page of `read` whose query has `total` rows and `rest` for its
    /// next pages: read the rest in slices when it is large, the query reading on as
    /// slice 0 while the buckets are counted. `ReadOn` hands `rest` back untouched when
    /// the read goes on as it was.
    pub async fn slice_rest(
        &self,
        read: &mut Incremental,
        total: u64,
        rest: Rest,
    ) -> Result<AfterProbe, SyncError> {
        if !read.first_slice_check() {
            return Ok(AfterProbe::ReadOn(rest));
        }
        let rows = total.saturating_sub(read.done());
        let n = self.cursors.slices_for(rows);
        let Some(from) = read.committed_stamp() else {
            return Ok(AfterProbe::ReadOn(rest));
        };
        let cap = Utc::now() - CLOCK_SKEW;
        // Just past the newest row when the probe asked for it (rows changed since land
        // in the open last slice anyway).
        let end = read
            .newest
            .map_or(cap, |newest| (newest + Duration::milliseconds(1)).min(cap));
        if n == 0 || end <= from {
            return Ok(AfterProbe::ReadOn(rest));
        }
        let Some(mut reserved) = self.cursors.try_reserve() else {
            return Ok(AfterProbe::ReadOn(rest));
        };
        // Without the newest row the buckets would span up to now: ask for it with the
        // next page, a round trip before the counts (the same calls).
        let (rest, end) = match rest {
            Rest::At { url, soql } if read.newest.is_none() => {
                let rest = self.next_with_newest(read, url, soql).await;
                let end = read
                    .newest
                    .map_or(end, |newest| (newest + Duration::milliseconds(1)).min(cap));
                (rest, end)
            }
            rest => (rest.into_pages(self.client), end),
        };
        if end <= from {
            drop(reserved);
            let feed = PageFeed::start_with(rest, self.stop.clone(), SLICE_PAGES_AHEAD);
            return self.stream_feed(read, feed).await.map(AfterProbe::Finished);
        }
        // The query's next page is wanted whether or not the rest is then sliced: it is
        // fetched while the buckets are counted.
        let ends_at = Arc::new(OnceLock::new());
        let rest = fetch_until(rest, ends_at.clone(), read.query_started() - CLOCK_SKEW);
        let feed = PageFeed::start_with(rest, self.stop.clone(), SLICE_PAGES_AHEAD);
        let counts = match self.count_buckets(&read.object, from, end).await {
            Ok(counts) => counts,
            Err(e) => {
                // Slicing is an optimisation: the read goes on with its own cursor, which
                // meets a lasting problem (quota, permissions) on its next page anyway.
                tracing::warn!(object = %read.object, "slices not planned ({e}); reading on sequentially");
                drop(reserved);
                return self.stream_feed(read, feed).await.map(AfterProbe::Finished);
            }
        };
        let shares = slice_shares(rows, n);
        let bounds = bounds_at(from, end, &counts, &shares.cuts());
        if bounds.is_empty() {
            drop(reserved);
            return self.stream_feed(read, feed).await.map(AfterProbe::Finished);
        }
        // Set before slice 0 takes its next page, so no page past its rows is fetched.
        let _ = ends_at.set(bounds[0]);
        let field_set = read.field_set().to_string();
        let from_start = read.outcome.from_start;
        let edges: Vec<DateTime<Utc>> = std::iter::once(from).chain(bounds).collect();
        let slices: Vec<SliceCursor> = edges
            .iter()
            .enumerate()
            .map(|(i, at)| SliceCursor {
                slice: i as u32,
                from: stamp_text(*at),
                until: edges.get(i + 1).map(|b| stamp_text(*b)),
                position: None,
                done: false,
                field_set_hash: field_set.clone(),
                from_start,
            })
            .collect();
        tracing::info!(object = %read.object, slices = slices.len(), rows = total, "reading in parallel slices");
        let object = read.object.clone();
        let planned = slices.clone();
        self.store
            .with(move |s| s.put_slice_cursors(&object, &planned))
            .await?;
        let shared = SlicedRead {
            object: read.object.clone(),
            fields: read.fields().to_vec(),
            field_set,
            done: AtomicU64::new(read.done()),
            expected: read.expected(),
            committed: read
                .committed_row()
                .map(|(stamp, id)| (stamp.to_string(), id.to_string())),
        };
        // The query's cursor stays open on the server after slice 0 (until it expires or
        // is released as the oldest): it keeps its permit while this object's slices run.
        let second = reserved.split(1);
        let first = Continuation {
            feed,
            started: read.query_started(),
        };
        let outcome = self
            .read_slices(&shared, slices, second, read.outcome, Some(first))
            .await?;
        drop(reserved);
        Ok(AfterProbe::Finished(outcome))
    }

    /// Resume the pending slices of `plan`'s read, if any with its current fields; others
    /// (another field set, or a full run) are dropped first.
    pub async fn resume_slices(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
    ) -> Result<Option<ObjectOutcome>, SyncError> {
        let object = plan.object.clone();
        let slices = self.store.with(move |s| s.slice_cursors(&object)).await?;
        let mut slices = slices;
        // The open-ended slice is read again from its position: rows changed since it
        // ended (and rows moved out of unfinished slices) are there.
        if let Some(last) = slices.last_mut().filter(|s| s.until.is_none()) {
            last.done = false;
        }
        let Some(first) = slices.first() else {
            return Ok(None);
        };
        let field_set = plan.field_set();
        if options.full || slices.iter().any(|s| s.field_set_hash != field_set) {
            let object = plan.object.clone();
            self.store
                .with(move |s| s.put_slice_cursors(&object, &[]))
                .await?;
            return Ok(None);
        }
        let outcome = ObjectOutcome {
            from_start: first.from_start,
            ..ObjectOutcome::default()
        };
        tracing::info!(object = %plan.object, slices = slices.len(), "resuming parallel slices");
        let shared = SlicedRead {
            object: plan.object.clone(),
            fields: plan.fields.clone(),
            field_set,
            done: AtomicU64::new(0),
            expected: None,
            committed: None,
        };
        self.read_slices(&shared, slices, None, outcome, None)
            .await
            .map(Some)
    }

    /// Row counts of `read_plan::COUNT_BUCKETS` equal time buckets of `from..end`.
    async fn count_buckets(
        &self,
        object: &str,
        from: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<u64>, SyncError> {
        let span = (end - from).num_milliseconds();
        let buckets = count_buckets(span) as i64;
        let edge = |i: i64| from + Duration::milliseconds(span.saturating_mul(i) / buckets);
        let mut requests = Vec::with_capacity(buckets as usize);
        for i in 0..buckets {
            let soql = count_between(object, edge(i), edge(i + 1))
                .map_err(|e| SyncError::Internal(format!("slice count query: {e}")))?;
            requests.push(PageRequest::First {
                soql,
                options: Incremental::OPTIONS,
            });
        }
        let calls = requests
            .chunks(PAGES_PER_CALL)
            .map(|group| self.client.composite_pages(group));
        let answers = futures::future::join_all(calls).await;
        let mut counts = Vec::with_capacity(requests.len());
        for answer in answers {
            for page in answer? {
                counts.push(page?.total_size);
            }
        }
        Ok(counts)
    }

    /// Read the slices not yet done, at most as many at once as cursors allow, then hand
    /// over to the cursor. `first` is the query read on as slice 0 (its cursor held by
    /// the caller), `held` a cursor already held for the first slice without one.
    async fn read_slices(
        &self,
        shared: &SlicedRead,
        slices: Vec<SliceCursor>,
        mut held: Option<OwnedSemaphorePermit>,
        mut outcome: ObjectOutcome,
        mut first: Option<Continuation>,
    ) -> Result<ObjectOutcome, SyncError> {
        let mut ended: Vec<SliceCursor> = slices.iter().filter(|s| s.done).cloned().collect();
        let mut reads: FuturesUnordered<_> = slices
            .into_iter()
            .filter(|s| !s.done)
            .map(|s| {
                let source = match first.take_if(|_| s.slice == 0) {
                    Some(query) => SliceSource::ReadOn(query),
                    None => SliceSource::Query(held.take()),
                };
                self.read_slice(shared, s, source)
            })
            .collect();
        while let Some(end) = reads.next().await {
            let end = end?;
            outcome.upserted = outcome.upserted.saturating_add(end.upserted);
            outcome.deleted = outcome.deleted.saturating_add(end.deleted);
            ended.push(end.slice);
        }
        if self.stop.is_stopped() || ended.iter().any(|s| !s.done) {
            return Ok(outcome);
        }
        let Some(last) = ended.iter().max_by_key(|s| s.slice) else {
            return Ok(outcome);
        };
        let cursor = Cursor {
            system_modstamp: last.position.clone().unwrap_or_else(|| last.from.clone()),
            last_id: String::new(),
            field_set_hash: shared.field_set.clone(),
            full_sync_done: true,
        };
        let object = shared.object.clone();
        self.store
            .with(move |s| s.finish_slices(&object, &cursor))
            .await?;
        outcome.finished = true;
        Ok(outcome)
    }

    /// One slice from its committed position to its end (or a stop), each page committed
    /// with the slice's new position.
    async fn read_slice(
        &self,
        shared: &SlicedRead,
        mut slice: SliceCursor,
        source: SliceSource,
    ) -> Result<SliceEnd, SyncError> {
        let (_permit, mut reading) = match source {
            SliceSource::ReadOn(query) => (None, Some(query)),
            SliceSource::Query(Some(permit)) => (Some(permit), None),
            SliceSource::Query(None) => (Some(self.cursors.acquire().await?), None),
        };
        let mut end = SliceEnd {
            upserted: 0,
            deleted: 0,
            slice: slice.clone(),
        };
        let bad = |what: &str| SyncError::Internal(format!("slice {what} is not a timestamp"));
        let from = parse_stamp(&slice.from).ok_or_else(|| bad("start"))?;
        let until = match &slice.until {
            Some(u) => Some(parse_stamp(u).ok_or_else(|| bad("end"))?),
            None => None,
        };
        let mut restarts = 0;
        'query: loop {
            if self.stop.is_stopped() {
                return Ok(end);
            }
            // The query read on has no upper bound: its rows are cut where the next
            // slice's begin.
            let (mut feed, started, cut) = match reading.take() {
                Some(query) => (query.feed, query.started, until),
                None => {
                    let since = slice
                        .position
                        .as_deref()
                        .and_then(parse_stamp)
                        .map_or(from, |p| (p - OVERLAP).max(from));
                    let mut select = read_select(&shared.object, &shared.fields, true, Some(since));
                    if let Some(until) = until {
                        select = select.where_modstamp_from_until(since, until);
                    }
                    let started = Utc::now();
                    let pages = self.client.select_pages(&select, Incremental::OPTIONS);
                    let feed = PageFeed::start_with(pages, self.stop.clone(), SLICE_PAGES_AHEAD);
                    (feed, started, None)
                }
            };
            loop {
                match feed.next().await? {
                    Fed::End | Fed::Stopped => return Ok(end),
                    Fed::Page(Ok(page)) => {
                        let (records, reached) = match cut {
                            Some(until) => cut_at(page.records, until, started - CLOCK_SKEW),
                            None => (page.records, false),
                        };
                        if let Some(position) = page_position(&records, started) {
                            slice.position = Some(position);
                        }
                        slice.done = page.done || reached;
                        let records = shared.fresh(&slice, records);
                        let (up, del) = self.commit_slice(shared, records, &slice).await?;
                        end.upserted += up;
                        end.deleted += del;
                        end.slice = slice.clone();
                        let done = shared.done.fetch_add(up + del, Ordering::Relaxed) + up + del;
                        self.observer
                            .progress(&shared.object, done, shared.expected);
                        if slice.done || self.stop.is_stopped() {
                            return Ok(end);
                        }
                    }
                    Fed::Page(Err(e)) => {
                        if e.class() == ErrorClass::InvalidQueryLocator && restarts < SLICE_RESTARTS
                        {
                            restarts += 1;
                            tracing::warn!(object = %shared.object, slice = slice.slice, "query locator expired; restarting the slice from its position");
                            continue 'query;
                        }
                        return Err(e.into());
                    }
                }
            }
        }
    }

    /// Upsert live rows, delete deleted ones and store the slice's position, in one
    /// transaction.
    async fn commit_slice(
        &self,
        shared: &SlicedRead,
        records: Records,
        slice: &SliceCursor,
    ) -> Result<(u64, u64), SyncError> {
        let (deleted, live) = records.partition(|r| r.is_deleted());
        let deletes: Vec<String> = deleted
            .iter()
            .filter_map(|r| r.id().map(str::to_string))
            .collect();
        let counts = (live.len() as u64, deletes.len() as u64);
        let object = shared.object.clone();
        let slice = slice.clone();
        self.store
            .with(move |s| {
                s.apply_slice_page(
                    &object,
                    &PageWrite {
                        upserts: &live,
                        deletes: &deletes,
                        cursor: None,
                    },
                    &slice,
                )
            })
            .await?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_cursor_bound_is_clamped_as_review_prices_it() {
        use crate::salesforce::read_plan::{MIN_SLICED_ROWS, ReadSettings};
        for n in [0u8, 1, 2, 3, 8, 10, 200] {
            let settings = ReadSettings {
                query_cursors: n,
                ..ReadSettings::default()
            };
            for rows in [MIN_SLICED_ROWS - 1, MIN_SLICED_ROWS, 1_000_000] {
                assert_eq!(
                    QueryCursors::new(n).slices_for(rows),
                    slices_for(rows, settings.cursors()),
                    "{n} cursors, {rows} rows"
                );
            }
        }
    }

    /// Cuts for `n` equal shares of `total` rows.
    fn equal(total: u64, n: u64) -> Vec<u64> {
        (1..n).map(|k| total * k / n).collect()
    }

    #[test]
    fn bounds_follow_the_rows_not_the_clock() {
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let end = from + Duration::hours(10);
        // Uniform rows: equal time slices.
        let even = bounds_at(from, end, &[100; 10], &equal(1_000, 5));
        let hours: Vec<i64> = even.iter().map(|b| (*b - from).num_hours()).collect();
        assert_eq!(hours, vec![2, 4, 6, 8]);
        // Nearly all rows in the last hour: every bound falls inside it, in order.
        let mut skewed = vec![1; 10];
        skewed[9] = 991;
        let bounds = bounds_at(from, end, &skewed, &equal(1_000, 4));
        assert_eq!(bounds.len(), 3);
        assert!(bounds.iter().all(|b| *b >= from + Duration::hours(9)));
        assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        // Unequal shares: a quarter of the rows, then a half.
        let minutes: Vec<i64> = bounds_at(from, end, &[100; 10], &[250, 750])
            .iter()
            .map(|b| (*b - from).num_minutes())
            .collect();
        assert_eq!(minutes, vec![150, 450]);
        // Nothing to count, no cut, or cuts past the rows counted: no bounds.
        assert!(bounds_at(from, end, &[0; 10], &equal(0, 4)).is_empty());
        assert!(bounds_at(from, end, &[5; 10], &[]).is_empty());
        assert!(bounds_at(end, from, &[5; 10], &equal(50, 4)).is_empty());
        assert_eq!(bounds_at(from, end, &[5; 10], &[25, 50, 60]).len(), 1);
    }

    #[test]
    fn the_query_read_on_ends_at_the_first_unchanged_row_past_its_slice() {
        let until = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
        let cap = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let page = |stamps: &[&str]| {
            let rows: Vec<String> = stamps
                .iter()
                .enumerate()
                .map(|(i, s)| format!(r#"{{"Id":"001{i}","SystemModstamp":"{s}"}}"#))
                .collect();
            let body = format!(
                r#"{{"totalSize":9,"done":false,"records":[{}]}}"#,
                rows.join(",")
            );
            QueryPage::from_json(body.into_bytes()).unwrap().records
        };
        let ids = |records: &Records| -> Vec<String> {
            records
                .iter()
                .filter_map(|r| r.id().map(str::to_string))
                .collect()
        };
        // All before the bound: the slice goes on.
        let (kept, reached) = cut_at(
            page(&[
                "2026-06-01T09:00:00.000+0000",
                "2026-06-01T09:59:59.999+0000",
            ]),
            until,
            cap,
        );
        assert_eq!((ids(&kept).len(), reached), (2, false));
        // A row changed during the query (past the cap) says nothing and is kept; the
        // first unchanged row at the bound ends the slice, with everything after it.
        let (kept, reached) = cut_at(
            page(&[
                "2026-06-01T09:00:00.000+0000",
                "2026-06-01T12:00:01.000+0000",
                "2026-06-01T09:30:00.000+0000",
                "2026-06-01T10:00:00.000+0000",
                "2026-06-01T09:40:00.000+0000",
            ]),
            until,
            cap,
        );
        assert_eq!(ids(&kept), vec!["0010", "0011", "0012"]);
        assert!(reached);
    }

    #[test]
    fn a_position_is_never_past_the_query_start_minus_the_skew() {
        let started = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let page = |stamp: &str| {
            let body = format!(
                r#"{{"totalSize":1,"done":true,"records":[{{"Id":"001A","SystemModstamp":"{stamp}"}}]}}"#
            );
            QueryPage::from_json(body.into_bytes()).unwrap()
        };
        assert_eq!(
            page_position(&page("2026-06-01T10:00:00.000+0000").records, started).as_deref(),
            Some("2026-06-01T10:00:00.000+0000")
        );
        assert_eq!(
            page_position(&page("2026-06-01T11:59:00.000+0000").records, started).as_deref(),
            Some("2026-06-01T11:55:00.000Z")
        );
    }
}
