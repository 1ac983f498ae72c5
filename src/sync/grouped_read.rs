//! Many objects read together: the next page of up to five objects per composite call
//! (Salesforce bills the call once), in the order `read_plan::Line` gives.
//!
//! - Each object's pages are committed with its cursor exactly as when it is read alone
//!   (`ObjectSync::apply_page`), so a killed process resumes every object from its last
//!   committed page.
//! - A failed subrequest concerns only its object: an expired locator restarts that
//!   object's query from its cursor, a transient failure is retried in a later call (a
//!   few times), anything else fails that object; the others' pages are committed.
//! - A formula re-read that falls due joins the line after its object's read.
//! - The last object left is read alone as a stream, its next page fetched while the
//!   current one is written, since grouping no longer saves calls.

use futures::channel::mpsc::UnboundedSender;

use crate::salesforce::client::PageRequest;
use crate::salesforce::read_plan::Line;
use crate::salesforce::soql::Soql;
use crate::salesforce::types::QueryPage;
use crate::salesforce::{ErrorClass, QueryOptions};
use crate::sync::SyncError;
use crate::sync::object_sync::{
    FORMULA_OPTIONS, Incremental, ObjectOptions, ObjectOutcome, ObjectPlan, ObjectSync,
    formula_select, formulas_due,
};
use crate::sync::sliced_read::{AfterProbe, Rest};

/// Times a subrequest that failed transiently is sent again before its object fails.
const SUBREQUEST_RETRIES: u32 = 3;

/// An object's finished (or stopped) read, or why it failed.
pub type Finished = (ObjectPlan, Result<ObjectOutcome, SyncError>);

enum Work {
    Incremental(Box<Incremental>),
    /// Re-reading formula columns after the incremental read, whose outcome it carries.
    Formulas(ObjectOutcome),
}

struct Reader {
    plan: ObjectPlan,
    options: ObjectOptions,
    work: Work,
    soql: Soql,
    /// Where the next page is: `None` for the first page of `soql`.
    next: Option<String>,
    retries: u32,
}

impl Reader {
    fn query_options(&self) -> QueryOptions {
        match self.work {
            Work::Incremental(_) => Incremental::OPTIONS,
            Work::Formulas(_) => FORMULA_OPTIONS,
        }
    }

    fn request(&self) -> PageRequest {
        let (soql, options) = (self.soql.clone(), self.query_options());
        match &self.next {
            None => PageRequest::First { soql, options },
            Some(url) => PageRequest::More {
                url: url.clone(),
                soql,
                options,
            },
        }
    }

    fn outcome(&self) -> ObjectOutcome {
        match &self.work {
            Work::Incremental(read) => read.outcome,
            Work::Formulas(outcome) => *outcome,
        }
    }
}

/// What became of a reader after a page or an error.
enum Step {
    More(Reader),
    Done(Finished),
}

impl ObjectSync<'_> {
    /// Read `jobs` (objects with SystemModstamp whose query fits one URL) with grouped
    /// pages, sending each object's result to `finished` as soon as it has one.
    pub async fn read_grouped(
        &self,
        jobs: Vec<(ObjectPlan, ObjectOptions)>,
        finished: UnboundedSender<Finished>,
    ) {
        let mut readers = Vec::with_capacity(jobs.len());
        for (plan, options) in jobs {
            match self.resume_slices(&plan, options).await {
                Ok(Some(outcome)) => {
                    let result = self.with_formulas(&plan, options, outcome).await;
                    send(&finished, (plan, result));
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    send(&finished, (plan, Err(e)));
                    continue;
                }
            }
            match self.open_reader(&plan, options).await {
                Ok(reader) => readers.push(reader),
                Err(e) => send(&finished, (plan, Err(e))),
            }
        }
        let mut line = Line::new(readers);
        while !line.is_empty() {
            if self.stop.is_stopped() {
                // Stopped at a page boundary: committed work stays.
                for reader in line.drain() {
                    let outcome = reader.outcome();
                    send(&finished, (reader.plan, Ok(outcome)));
                }
                return;
            }
            if line.len() == 1 {
                for reader in line.drain() {
                    send(&finished, self.read_alone(reader).await);
                }
                return;
            }
            let group = line.next_call();
            let requests: Vec<PageRequest> = group.iter().map(Reader::request).collect();
            match self.client.composite_pages(&requests).await {
                Ok(pages) => {
                    for (reader, page) in group.into_iter().zip(pages) {
                        match self.step(reader, page).await {
                            Step::More(reader) => line.requeue(reader),
                            Step::Done(done) => send(&finished, done),
                        }
                    }
                }
                // The call failed as a whole, after the client's retries: so do its objects.
                Err(e) => {
                    for reader in group {
                        send(&finished, (reader.plan, Err(SyncError::from(e.clone()))));
                    }
                }
            }
        }
    }

    async fn open_reader(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
    ) -> Result<Reader, SyncError> {
        self.ensure_table(plan).await?;
        let mut read = self.begin_incremental(plan, options).await?;
        let soql = self.one_query(&read.query(), Incremental::OPTIONS)?;
        Ok(Reader {
            plan: plan.clone(),
            options,
            work: Work::Incremental(Box::new(read)),
            soql,
            next: None,
            retries: 0,
        })
    }

    fn one_query(
        &self,
        select: &crate::salesforce::soql::Select,
        options: QueryOptions,
    ) -> Result<Soql, SyncError> {
        self.client.single_query(select, options)?.ok_or_else(|| {
            SyncError::Internal(
                "a query too long for one URL was grouped; it must be read alone".into(),
            )
        })
    }

    /// Apply one subrequest's answer to its reader.
    async fn step(
        &self,
        mut reader: Reader,
        page: Result<QueryPage, crate::salesforce::Error>,
    ) -> Step {
        let page = match page {
            Ok(page) => page,
            Err(e) => return self.step_error(reader, e).await,
        };
        let more = page.next_records_url.clone().filter(|_| !page.done);
        let total = page.total_size;
        if !page.done && more.is_none() {
            let e = SyncError::from(crate::salesforce::Error::bad_response(
                "BAD_RESPONSE",
                "a page says more follow but has no nextRecordsUrl",
            ));
            return Step::Done((reader.plan, Err(e)));
        }
        let applied = match &mut reader.work {
            Work::Incremental(read) => self.apply_page(read, page).await,
            Work::Formulas(_) => self
                .commit(&reader.plan.object, page.records, None)
                .await
                .map(|_| ()),
        };
        if let Err(e) = applied {
            return Step::Done((reader.plan, Err(e)));
        }
        reader.retries = 0;
        if let (Work::Incremental(read), Some(url)) = (&mut reader.work, &more) {
            // A large rest is read in slices right here (the query reading on as the
            // first); the line waits meanwhile. Unsliced, the rest stays in the line.
            let rest = Rest::At {
                url: url.clone(),
                soql: reader.soql.clone(),
            };
            match self.slice_rest(read, total, rest).await {
                Ok(AfterProbe::Finished(outcome)) => {
                    let result = self
                        .with_formulas(&reader.plan, reader.options, outcome)
                        .await;
                    return Step::Done((reader.plan, result));
                }
                Ok(AfterProbe::ReadOn(_)) => {}
                Err(e) => return Step::Done((reader.plan, Err(e))),
            }
        }
        if let Some(url) = more {
            reader.next = Some(url);
            return Step::More(reader);
        }
        self.end_of_query(reader).await
    }

    /// The reader's query ended: finish the object, or queue its formula re-read.
    async fn end_of_query(&self, reader: Reader) -> Step {
        let Reader {
            plan,
            options,
            work,
            ..
        } = reader;
        let outcome = match work {
            Work::Formulas(mut outcome) => {
                outcome.formulas_reread = true;
                return Step::Done((plan, Ok(outcome)));
            }
            Work::Incremental(mut read) => match self.finish_incremental(&mut read).await {
                Ok(outcome) => outcome,
                Err(e) => return Step::Done((plan, Err(e))),
            },
        };
        if !formulas_due(&plan, options, &outcome) {
            return Step::Done((plan, Ok(outcome)));
        }
        match self.one_query(&formula_select(&plan), FORMULA_OPTIONS) {
            Ok(soql) => Step::More(Reader {
                plan,
                options,
                work: Work::Formulas(outcome),
                soql,
                next: None,
                retries: 0,
            }),
            Err(e) => Step::Done((plan, Err(e))),
        }
    }

    async fn step_error(&self, mut reader: Reader, error: crate::salesforce::Error) -> Step {
        if let Work::Incremental(read) = &mut reader.work {
            match self.may_restart(read, &error).await {
                Ok(true) => {
                    let soql = self.one_query(&read.query(), Incremental::OPTIONS);
                    return match soql {
                        Ok(soql) => {
                            reader.soql = soql;
                            reader.next = None;
                            Step::More(reader)
                        }
                        Err(e) => Step::Done((reader.plan, Err(e))),
                    };
                }
                Ok(false) => {}
                Err(e) => return Step::Done((reader.plan, Err(e))),
            }
        }
        if error.class() == ErrorClass::Retryable && reader.retries < SUBREQUEST_RETRIES {
            reader.retries += 1;
            tracing::warn!(object = %reader.plan.object, "a query page failed inside a composite call ({error}); asking again in the next call");
            return Step::More(reader);
        }
        Step::Done((reader.plan, Err(error.into())))
    }

    /// The last reader left: the rest of its pages as a stream (prefetching), then its
    /// formula re-read if due.
    async fn read_alone(&self, reader: Reader) -> Finished {
        let Reader {
            plan,
            options,
            work,
            soql,
            next,
            ..
        } = reader;
        let pages = |options: QueryOptions| match &next {
            None => self.client.query_pages_with(&soql, options),
            Some(url) => self.client.query_pages_from(url, &soql, options),
        };
        let result = match work {
            Work::Incremental(mut read) => {
                let rest = pages(Incremental::OPTIONS);
                let streamed = if next.is_none() {
                    self.probe_then_stream(&mut read, rest, Some(&soql)).await
                } else {
                    self.stream(&mut read, rest).await
                };
                match streamed {
                    Ok(mut outcome) if formulas_due(&plan, options, &outcome) => {
                        self.reread_formulas(&plan).await.map(|reread| {
                            outcome.formulas_reread = reread;
                            outcome
                        })
                    }
                    other => other,
                }
            }
            Work::Formulas(mut outcome) => self
                .commit_formula_pages(&plan, pages(FORMULA_OPTIONS))
                .await
                .map(|reread| {
                    outcome.formulas_reread = reread;
                    outcome
                }),
        };
        (plan, result)
    }
}

impl ObjectSync<'_> {
    /// A read that ended outside the line: its formula re-read, if due, follows.
    async fn with_formulas(
        &self,
        plan: &ObjectPlan,
        options: ObjectOptions,
        mut outcome: ObjectOutcome,
    ) -> Result<ObjectOutcome, SyncError> {
        if formulas_due(plan, options, &outcome) {
            outcome.formulas_reread = self.reread_formulas(plan).await?;
        }
        Ok(outcome)
    }
}

fn send(finished: &UnboundedSender<Finished>, done: Finished) {
    // The run stopped listening only when it is gone; nothing is left to tell.
    let _ = finished.unbounded_send(done);
}
