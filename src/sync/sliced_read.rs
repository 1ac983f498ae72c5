//! Parallel slices for REST reads: a large read (first sync, backfill, full run, or a long
//! incremental catch-up) of one object is split into SystemModstamp ranges holding about
//! as many rows each, read by several query cursors at once.
//!
//! - A read starts as it always did: its first page costs what it always cost, and says
//!   (`totalSize`) how many rows follow. Only when at least `read_plan::MIN_SLICED_ROWS`
//!   follow is the rest sliced, so small objects and quiet incremental runs cost exactly
//!   what they did. The numbers and decisions live in `read_plan`, which Review prices
//!   with (`read_plan::RestRead`).
//! - The rest's range, from the last committed row to now minus the clock skew, is
//!   counted in `read_plan::COUNT_BUCKETS` equal time buckets (`SELECT COUNT()`, five per composite
//!   call, the calls sent together: a bounded handful of calls) and cut where the running
//!   count crosses each share. The last slice is open-ended, so rows changed meanwhile are
//!   read too.
//! - Each slice commits its position with its pages (`Store::apply_slice_page`), so a
//!   killed process resumes every slice from its last committed page; when every slice is
//!   done the slices are dropped and the object's cursor moves to the last slice's
//!   position in one transaction (`Store::finish_slices`).
//! - Why no row is missed: slice boundaries lie before the planning time minus the clock
//!   skew, and every slice query starts after planning, so a row changed after a bounded
//!   slice was read moves into the open last slice, or past the final cursor, which is
//!   capped at the open slice's query start minus the skew like every cursor.
//! - Cursors held at once are bounded per source by `QueryCursors` (`query_cursors` in
//!   the config; API v55.0 and earlier allow a user 10 and release the oldest beyond
//!   that, later versions list no limit); the first query, left unfinished, counts
//!   as one of them while its object's slices run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::model::{FieldValue, Records};
use crate::salesforce::ErrorClass;
use crate::salesforce::client::PageRequest;
use crate::salesforce::read_plan::{PAGES_PER_CALL, count_buckets, read_select, slices_for};
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

/// Where `from..end` is cut so each of `n` slices holds about the same number of rows,
/// given the row counts of equal time buckets of that range (linear within a bucket).
pub fn balanced_bounds(
    from: DateTime<Utc>,
    end: DateTime<Utc>,
    counts: &[u64],
    n: usize,
) -> Vec<DateTime<Utc>> {
    let total: u64 = counts.iter().fold(0u64, |a, c| a.saturating_add(*c));
    let span = (end - from).num_milliseconds();
    if total == 0 || n < 2 || counts.is_empty() || span <= 0 {
        return Vec::new();
    }
    let buckets = counts.len() as i64;
    let edge = |i: i64| from + Duration::milliseconds(span.saturating_mul(i) / buckets);
    let mut bounds: Vec<DateTime<Utc>> = Vec::with_capacity(n - 1);
    let mut before = 0u64;
    let mut share = 1u64;
    for (i, count) in counts.iter().enumerate() {
        let i = i as i64;
        let after = before.saturating_add(*count);
        while share < n as u64 {
            // The row that starts share `share`, as a fraction of the total.
            let want = (u128::from(total) * u128::from(share) / n as u128) as u64;
            if want >= after {
                break;
            }
            let (lo, hi) = (edge(i), edge(i + 1));
            let within = (want.saturating_sub(before)) as f64 / (*count).max(1) as f64;
            let at =
                lo + Duration::milliseconds(((hi - lo).num_milliseconds() as f64 * within) as i64);
            if bounds.last().is_none_or(|b| at > *b) && at > from && at < end {
                bounds.push(at);
            }
            share += 1;
        }
        before = after;
    }
    bounds
}

/// The position after a slice's page: its last row's SystemModstamp, never past the
/// query's start minus the clock skew (rows changed during the query keep their place).
fn page_position(page: &QueryPage, query_started: DateTime<Utc>) -> Option<String> {
    let last = page.records.last()?;
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
                    if let Some(outcome) = self.slice_rest(read, total).await? {
                        return Ok(outcome);
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
        read.newest = newest.and_then(Result::ok).and_then(|page| {
            let row = page.records.row(0)?;
            parse_stamp(row.get("SystemModstamp")?.as_str()?)
        });
        match first {
            Some(Ok(page)) => {
                let rest = match (&page.next_records_url, page.done) {
                    (_, true) => futures::stream::empty().boxed(),
                    (Some(url), false) => {
                        self.client
                            .query_pages_from(url, soql, Incremental::OPTIONS)
                    }
                    (None, false) => futures::stream::once(futures::future::ready(Err(
                        crate::salesforce::Error::fatal(
                            "BAD_RESPONSE",
                            "a page says more follow but has no nextRecordsUrl",
                        ),
                    )))
                    .boxed(),
                };
                (Some(Ok(page)), rest)
            }
            Some(Err(e)) if e.class() != ErrorClass::Retryable => {
                (Some(Err(e)), futures::stream::empty().boxed())
            }
            _ => self.plain_probe(pages).await,
        }
    }

    async fn plain_probe(
        &self,
        mut pages: Pages,
    ) -> (Option<Result<QueryPage, crate::salesforce::Error>>, Pages) {
        (pages.next().await, pages)
    }

    /// After a committed page of `read` whose query has `total` rows: read the rest in
    /// slices when it is large; `None` when the read goes on as it was.
    pub async fn slice_rest(
        &self,
        read: &mut Incremental,
        total: u64,
    ) -> Result<Option<ObjectOutcome>, SyncError> {
        if !read.first_slice_check() {
            return Ok(None);
        }
        let n = self.cursors.slices_for(total.saturating_sub(read.done()));
        let Some(from) = read.committed_stamp() else {
            return Ok(None);
        };
        let cap = Utc::now() - CLOCK_SKEW;
        // Just past the newest row when the probe asked for it (rows changed since land
        // in the open last slice anyway).
        let end = read
            .newest
            .map_or(cap, |newest| (newest + Duration::milliseconds(1)).min(cap));
        if n == 0 || end <= from {
            return Ok(None);
        }
        let Some(mut reserved) = self.cursors.try_reserve() else {
            return Ok(None);
        };
        let counts = match self.count_buckets(&read.object, from, end).await {
            Ok(counts) => counts,
            Err(e) => {
                // Slicing is an optimisation: the read goes on with its own cursor, which
                // meets a lasting problem (quota, permissions) on its next page anyway.
                tracing::warn!(object = %read.object, "slices not planned ({e}); reading on sequentially");
                return Ok(None);
            }
        };
        let bounds = balanced_bounds(from, end, &counts, n);
        if bounds.is_empty() {
            return Ok(None);
        }
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
        // The first query's cursor stays open on the server until it expires or is
        // released as the oldest: it keeps its permit while this object's slices run.
        let first = reserved.split(1);
        let outcome = self
            .read_slices(&shared, slices, first, read.outcome)
            .await?;
        drop(reserved);
        Ok(Some(outcome))
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
        self.read_slices(&shared, slices, None, outcome)
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

    /// Read the slices not yet done, at most as many at once as cursors allow (`first`
    /// is a cursor already held for the first of them), then hand over to the cursor.
    async fn read_slices(
        &self,
        shared: &SlicedRead,
        slices: Vec<SliceCursor>,
        mut first: Option<OwnedSemaphorePermit>,
        mut outcome: ObjectOutcome,
    ) -> Result<ObjectOutcome, SyncError> {
        let mut ended: Vec<SliceCursor> = slices.iter().filter(|s| s.done).cloned().collect();
        let mut reads: FuturesUnordered<_> = slices
            .into_iter()
            .filter(|s| !s.done)
            .map(|s| self.read_slice(shared, s, first.take()))
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
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<SliceEnd, SyncError> {
        let _permit = match permit {
            Some(p) => p,
            None => self.cursors.acquire().await?,
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
            let mut feed = PageFeed::start_with(pages, self.stop.clone(), SLICE_PAGES_AHEAD);
            loop {
                match feed.next().await? {
                    Fed::End | Fed::Stopped => return Ok(end),
                    Fed::Page(Ok(page)) => {
                        if let Some(position) = page_position(&page, started) {
                            slice.position = Some(position);
                        }
                        slice.done = page.done;
                        let records = shared.fresh(&slice, page.records);
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

    #[test]
    fn bounds_follow_the_rows_not_the_clock() {
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let end = from + Duration::hours(10);
        // Uniform rows: equal time slices.
        let even = balanced_bounds(from, end, &[100; 10], 5);
        let hours: Vec<i64> = even.iter().map(|b| (*b - from).num_hours()).collect();
        assert_eq!(hours, vec![2, 4, 6, 8]);
        // Nearly all rows in the last hour: every bound falls inside it, in order.
        let mut skewed = vec![1; 10];
        skewed[9] = 991;
        let bounds = balanced_bounds(from, end, &skewed, 4);
        assert_eq!(bounds.len(), 3);
        assert!(bounds.iter().all(|b| *b >= from + Duration::hours(9)));
        assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        // Nothing to count, or one slice: no bounds.
        assert!(balanced_bounds(from, end, &[0; 10], 4).is_empty());
        assert!(balanced_bounds(from, end, &[5; 10], 1).is_empty());
        assert!(balanced_bounds(end, from, &[5; 10], 4).is_empty());
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
            page_position(&page("2026-06-01T10:00:00.000+0000"), started).as_deref(),
            Some("2026-06-01T10:00:00.000+0000")
        );
        assert_eq!(
            page_position(&page("2026-06-01T11:59:00.000+0000"), started).as_deref(),
            Some("2026-06-01T11:55:00.000Z")
        );
    }
}
