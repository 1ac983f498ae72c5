//! Where `verify` reads the org's Ids from: REST query pages, or one Bulk API 2.0 query job
//! when the object holds more rows than the source's `bulk_threshold` (the run's rule,
//! `read_plan::backfill_via`, on the exact `COUNT()` verify makes anyway).
//!
//! Both send `SELECT Id FROM X ORDER BY Id ASC` and yield pages of Ids in that order, so the
//! merge against the store is the same. Bulk returns ordered rows when asked (ORDER BY only
//! turns PK chunking off), in result sets of 100 000 Ids per call instead of 2 000 per REST
//! page; its CSV is decoded a page at a time, so memory stays flat. Every call passes the
//! quota guard like any other. A job that cannot be created, fails, runs too long or whose
//! first result set is refused leaves a note and the Ids are read through REST instead;
//! quota vetoes, auth and network errors stop the verification as they stop a REST scan.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, BoxStream, StreamExt};

use crate::salesforce::bulk::{BulkPosition, BulkShape, DEFAULT_MAX_RECORDS, PollPolicy};
use crate::salesforce::read_plan::{ReadVia, backfill_via};
use crate::salesforce::soql::{Select, Soql};
use crate::salesforce::{Client, ErrorClass, QueryOptions};
use crate::sync::SyncError;
use crate::sync::object_sync::BATCH_SIZE;
use crate::sync::stop::StopSignal;

/// The org's Ids, a page at a time, in byte order.
pub type IdPages = BoxStream<'static, Result<Vec<String>, SyncError>>;

/// How one object's Ids were read, and why (shown by `verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRoute {
    pub via: ReadVia,
    pub reason: String,
    /// Why a Bulk scan went to REST after all.
    pub fallback: Option<String>,
}

impl Default for ScanRoute {
    fn default() -> ScanRoute {
        ScanRoute {
            via: ReadVia::Rest,
            reason: String::new(),
            fallback: None,
        }
    }
}

/// The route for `rows` rows (the object's COUNT()) under `threshold`.
pub fn route(rows: u64, threshold: u64) -> ScanRoute {
    let (via, reason) = match backfill_via(rows, threshold, true) {
        ReadVia::Bulk => (
            ReadVia::Bulk,
            format!("{rows} records, over bulk_threshold {threshold}"),
        ),
        ReadVia::Rest if threshold == 0 => {
            (ReadVia::Rest, "Bulk API off (bulk_threshold = 0)".into())
        }
        ReadVia::Rest => (
            ReadVia::Rest,
            format!("{rows} records, within bulk_threshold {threshold}"),
        ),
    };
    ScanRoute {
        via,
        reason,
        fallback: None,
    }
}

/// Sleep slices while a job is polled, so a stop is noticed soon.
const STOP_CHECK: Duration = Duration::from_millis(200);

/// Reads the org's Ids of one object.
pub struct IdSource<'a> {
    pub client: &'a Client,
    pub stop: &'a StopSignal,
    pub poll: PollPolicy,
    pub max_records: u64,
}

impl<'a> IdSource<'a> {
    pub fn new(client: &'a Client, stop: &'a StopSignal) -> IdSource<'a> {
        IdSource {
            client,
            stop,
            poll: PollPolicy::default(),
            max_records: DEFAULT_MAX_RECORDS,
        }
    }

    /// The Ids of `object` along `route` (updated when Bulk falls back to REST); `None`
    /// when a stop came while the Bulk job ran.
    pub async fn open(
        &self,
        object: &str,
        route: &mut ScanRoute,
    ) -> Result<Option<IdPages>, SyncError> {
        let soql = Select::new(object)
            .order_by_id()
            .build()
            .map_err(|e| SyncError::Config(e.to_string()))?;
        if route.via == ReadVia::Bulk {
            match self.bulk(object, &soql).await {
                Ok(Some(pages)) => return Ok(Some(pages)),
                Ok(None) => return Ok(None),
                Err(Scan::Stop(e)) => return Err(e),
                Err(Scan::Fallback(why)) => {
                    route.via = ReadVia::Rest;
                    route.fallback = Some(format!("{why}; comparing Ids through REST instead"));
                }
            }
        }
        Ok(Some(self.rest(&soql)))
    }

    fn rest(&self, soql: &Soql) -> IdPages {
        self.client
            .query_pages_with(
                soql,
                QueryOptions {
                    include_deleted: false,
                    batch_size: Some(BATCH_SIZE),
                },
            )
            .map(|page| {
                Ok(page?
                    .records
                    .iter()
                    .filter_map(|r| r.id().map(str::to_string))
                    .collect())
            })
            .boxed()
    }

    async fn bulk(&self, object: &str, soql: &Soql) -> Result<Option<IdPages>, Scan> {
        // `query`, not `queryAll`: deleted rows are not the org's rows, as over REST.
        let job = self
            .client
            .bulk_create(soql, false)
            .await
            .map_err(refused)?;
        let began = Instant::now();
        let mut polls = 0u32;
        let info = loop {
            let info = self.client.bulk_job(&job.id).await.map_err(refused)?;
            if info.state.is_terminal() {
                break info;
            }
            let wait = self.poll.wait(polls);
            polls = polls.saturating_add(1);
            if began.elapsed().saturating_add(wait) > self.poll.give_up_after {
                self.client.bulk_discard(&job.id).await;
                return Err(Scan::Fallback(format!(
                    "Bulk job {} did not finish within {} s",
                    job.id,
                    self.poll.give_up_after.as_secs()
                )));
            }
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if self.stop.is_stopped() {
                    return Ok(None);
                }
                tokio::time::sleep(STOP_CHECK.min(until - Instant::now())).await;
            }
        };
        if let Some(failure) = info.failure() {
            self.client.bulk_discard(&job.id).await;
            return Err(Scan::Fallback(failure));
        }
        let mut pages = self
            .client
            .bulk_pages(
                &job.id,
                Arc::new(BulkShape::ids(object)),
                BulkPosition::default(),
                self.max_records,
            )
            .map(|page| {
                Ok(page?
                    .records
                    .iter()
                    .filter_map(|r| r.id().map(str::to_string))
                    .collect::<Vec<String>>())
            });
        // A first set refused (or undecodable) still leaves REST; later failures stop the
        // scan like a failed REST page, since the merge has already acted on earlier Ids.
        let first = match pages.next().await {
            Some(Err(SyncError::Api(e))) => return Err(refused(e)),
            first => first,
        };
        Ok(Some(stream::iter(first).chain(pages).boxed()))
    }
}

/// Why a Bulk scan did not go on.
enum Scan {
    /// Read the Ids through REST instead (the note says why).
    Fallback(String),
    Stop(SyncError),
}

/// Refusals of the job or its results fall back to REST; quota, auth, permission and
/// network trouble stop the verification.
fn refused(e: crate::salesforce::Error) -> Scan {
    if e.class() == ErrorClass::Fatal {
        Scan::Fallback(e.to_string())
    } else {
        Scan::Stop(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_says_why() {
        assert_eq!(route(5_001, 5_000).via, ReadVia::Bulk);
        assert_eq!(
            route(5_001, 5_000).reason,
            "5001 records, over bulk_threshold 5000"
        );
        assert_eq!(
            route(5_000, 5_000).reason,
            "5000 records, within bulk_threshold 5000"
        );
        assert_eq!(route(u64::MAX, 0).via, ReadVia::Rest);
        assert_eq!(
            route(u64::MAX, 0).reason,
            "Bulk API off (bulk_threshold = 0)"
        );
    }
}
