//! The pages of a query, fetched ahead by a background task while earlier pages are
//! written, so the network, the parser and SQLite work at the same time.

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::salesforce::Error;
use crate::salesforce::types::QueryPage;
use crate::sync::SyncError;
use crate::sync::stop::StopSignal;

/// Pages fetched and parsed ahead of the one being written. Two keep the writer busy
/// when a page's fetch and its write take about as long; each costs its API call even
/// when a pause then discards it, so a stop wastes at most this many calls plus the one
/// in flight.
pub const PAGES_AHEAD: usize = 2;

pub type Pages = BoxStream<'static, Result<QueryPage, Error>>;

/// What the feed gives next.
#[derive(Debug)]
pub enum Fed {
    Page(Result<QueryPage, Error>),
    /// The query has no more pages.
    End,
    /// The run was asked to stop; pages fetched ahead were dropped.
    Stopped,
}

pub struct PageFeed {
    pages: mpsc::Receiver<Option<Result<QueryPage, Error>>>,
    task: Option<JoinHandle<()>>,
    stop: StopSignal,
}

impl PageFeed {
    pub fn start(source: Pages, stop: StopSignal) -> PageFeed {
        PageFeed::start_with(source, stop, PAGES_AHEAD)
    }

    /// A feed keeping `ahead` pages (at least one) fetched ahead. Parallel slices take one
    /// each: several slices already keep the one writer busy, and every page held costs
    /// memory (about 1 MiB per 2 000 rows of 40 fields).
    pub fn start_with(mut source: Pages, stop: StopSignal, ahead: usize) -> PageFeed {
        let (tx, rx) = mpsc::channel(ahead.max(1));
        let task_stop = stop.clone();
        let task = tokio::spawn(async move {
            // Room first, then the fetch: no page is fetched that could not be queued.
            while let Ok(room) = tx.reserve().await {
                if task_stop.is_stopped() {
                    return;
                }
                let next = source.next().await;
                let end = next.as_ref().is_none_or(Result::is_err);
                room.send(next);
                if end {
                    return;
                }
            }
        });
        PageFeed {
            pages: rx,
            task: Some(task),
            stop,
        }
    }

    pub async fn next(&mut self) -> Result<Fed, SyncError> {
        match self.pages.recv().await {
            Some(Some(page)) => Ok(Fed::Page(page)),
            Some(None) => Ok(Fed::End),
            None => {
                // The task is gone (its sender dropped): a panic is an error even when a
                // stop was asked for meanwhile.
                let failed = match self.task.take() {
                    Some(task) => task.await.err().filter(|e| e.is_panic()),
                    None => None,
                };
                match failed {
                    None if self.stop.is_stopped() => Ok(Fed::Stopped),
                    failed => Err(SyncError::Internal(format!(
                        "the page fetch task ended early{}",
                        failed.map(|e| format!(": {e}")).unwrap_or_default()
                    ))),
                }
            }
        }
    }
}

/// A dropped feed (stop, error, restart) cancels its fetch at once: a request cut off
/// mid-flight is booked as spent by the client, and nothing of this query can reach the
/// wire after its run has ended.
impl Drop for PageFeed {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::types::QueryPage;
    use crate::sync::stop::StopReason;
    use futures::stream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn page(done: bool) -> QueryPage {
        let body = format!(r#"{{"totalSize": 3, "done": {done}, "records": []}}"#);
        QueryPage::from_json(body.into_bytes()).unwrap()
    }

    /// A query of `n` pages that counts how many were fetched.
    fn counted(n: usize, fetched: Arc<AtomicUsize>) -> Pages {
        stream::iter(0..n)
            .map(move |i| {
                fetched.fetch_add(1, Ordering::SeqCst);
                Ok(page(i + 1 == n))
            })
            .boxed()
    }

    #[tokio::test]
    async fn delivers_every_page_then_the_end() {
        let fetched = Arc::new(AtomicUsize::new(0));
        let mut feed = PageFeed::start(counted(5, fetched.clone()), StopSignal::new());
        let mut pages = 0;
        loop {
            match feed.next().await.unwrap() {
                Fed::Page(p) => {
                    p.unwrap();
                    pages += 1;
                }
                Fed::End => break,
                Fed::Stopped => panic!("not stopped"),
            }
        }
        assert_eq!((pages, fetched.load(Ordering::SeqCst)), (5, 5));
    }

    #[tokio::test]
    async fn fetches_at_most_pages_ahead_and_stops_when_asked() {
        let fetched = Arc::new(AtomicUsize::new(0));
        let stop = StopSignal::new();
        let mut feed = PageFeed::start(counted(50, fetched.clone()), stop.clone());
        assert!(matches!(feed.next().await.unwrap(), Fed::Page(Ok(_))));
        // One taken and PAGES_AHEAD queued: the task must get there, then wait for room.
        // The test runtime has one thread, so yielding is what lets the task run.
        let mut yields = 0;
        while fetched.load(Ordering::SeqCst) < 1 + PAGES_AHEAD {
            yields += 1;
            assert!(yields < 10_000, "the feed never fetched ahead");
            tokio::task::yield_now().await;
        }
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(fetched.load(Ordering::SeqCst), 1 + PAGES_AHEAD);
        stop.stop(StopReason::Pause);
        let mut rest = 0;
        loop {
            match feed.next().await.unwrap() {
                Fed::Page(_) => rest += 1,
                Fed::Stopped => break,
                Fed::End => panic!("the query has 50 pages"),
            }
        }
        assert!(rest <= PAGES_AHEAD + 1, "{rest} pages after the stop");
        assert!(fetched.load(Ordering::SeqCst) < 50);
    }

    #[tokio::test]
    async fn an_error_ends_the_feed_after_it_is_delivered() {
        let pages = stream::iter(vec![
            Ok(page(false)),
            Err(Error::fatal("BAD_RESPONSE", "broken")),
            Ok(page(true)),
        ])
        .boxed();
        let mut feed = PageFeed::start(pages, StopSignal::new());
        assert!(matches!(feed.next().await.unwrap(), Fed::Page(Ok(_))));
        assert!(matches!(feed.next().await.unwrap(), Fed::Page(Err(_))));
        assert!(feed.next().await.is_err(), "nothing after an error");
    }
}
