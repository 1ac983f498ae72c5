//! Bulk API 2.0 query jobs (SALESFORCE-API.md §6): create, poll with bounded backoff,
//! abort, delete, and results streamed set by set (`locator`, `maxRecords`) through the
//! CSV decoder into pages of `model::Records`. Every call passes the same hooks (quota
//! guard) and counter as REST calls.
//!
//! A download resumes from a [`BulkPosition`]: the locator of the set being read and how
//! many of its rows were handed out. A body cut mid-set is re-requested from there (its
//! rows before the cut are skipped, not repeated), a bounded number of times.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures::stream::{self, BoxStream, StreamExt};
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap};
use serde_json::{Value, json};

use super::{Call, Client, CountedCall, header_text, transport_error};
use crate::model::Records;
use crate::salesforce::body::{self, BodyClass};
use crate::salesforce::bulk::job::JobInfo;
use crate::salesforce::bulk::{BulkJob, BulkShape, CsvPages, PollPolicy};
use crate::salesforce::errors::{Error, Fault, classify};
use crate::salesforce::limit_info::LimitInfo;
use crate::salesforce::soql::{Soql, validate_record_id};

/// Rows asked for per result set: large sets keep the call count low (a million rows in
/// ten calls), and the decoder streams each set, so memory does not grow with them.
pub const DEFAULT_MAX_RECORDS: u64 = crate::salesforce::read_plan::BULK_SET_RECORDS;
/// Times one download re-requests a set after its body was cut.
const MAX_SET_RETRIES: u32 = 3;

/// Where a download is: the set being read (`None`: the first) and how many of its rows
/// were handed out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkPosition {
    pub locator: Option<String>,
    pub rows_done: u64,
}

/// One page of a Bulk download.
#[derive(Debug, Clone)]
pub struct BulkPage {
    pub records: Records,
    /// Where the download stands once this page is committed.
    pub after: BulkPosition,
    /// The job's last page.
    pub last: bool,
}

/// A set being read.
struct OpenSet {
    response: reqwest::Response,
    pages: CsvPages,
    /// The next set's locator; `None` on the last set.
    next: Option<String>,
    declared: Option<u64>,
}

/// A download in progress (see the module docs).
struct Download {
    client: Client,
    job: String,
    shape: Arc<BulkShape>,
    max_records: u64,
    position: BulkPosition,
    set: Option<OpenSet>,
    /// Pages decoded and not handed out yet, with the set's end (its next locator) once
    /// the set ended behind them.
    pending: VecDeque<Records>,
    ended: Option<Option<String>>,
    finished: bool,
    retries: u32,
}

fn job_path(id: &str) -> Result<&str, Error> {
    // Job ids are Salesforce ids (`750…`); anything else never reaches a URL.
    validate_record_id(id).map_err(|e| Error::fatal("BAD_RESPONSE", e.to_string()))
}

/// A number header read saturating; `None` when absent or not a number.
fn number_header(headers: &HeaderMap, name: &str) -> Option<u64> {
    let text = header_text(headers, name)?;
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

impl Client {
    /// `POST jobs/query`: a `query` (or `queryAll`, deleted rows too) job for `soql`.
    pub async fn bulk_create(&self, soql: &Soql, include_deleted: bool) -> Result<BulkJob, Error> {
        let body = json!({
            "operation": if include_deleted { "queryAll" } else { "query" },
            "query": soql.as_str(),
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        });
        let mut call = Call::get(
            self.data_url("jobs/query"),
            1,
            BodyClass::Small,
            "the creation of a Bulk query job",
        );
        call.method = Method::POST;
        call.body = Some(&body);
        let info: JobInfo = self.fetch(call).await?;
        Ok(info.into_job())
    }

    /// `GET jobs/query/{id}`.
    pub async fn bulk_job(&self, id: &str) -> Result<BulkJob, Error> {
        let id = job_path(id)?;
        let info: JobInfo = self
            .fetch(Call::get(
                self.data_url(&format!("jobs/query/{id}")),
                1,
                BodyClass::Small,
                "a Bulk job's info",
            ))
            .await?;
        Ok(info.into_job())
    }

    /// Poll `id` until it is complete, failed or aborted, waiting as `policy` says;
    /// `progress` sees every answer. A job still running after `give_up_after` is aborted
    /// and deleted, and the call fails saying so.
    pub async fn bulk_wait(
        &self,
        id: &str,
        policy: PollPolicy,
        progress: &(dyn Fn(&BulkJob) + Send + Sync),
    ) -> Result<BulkJob, Error> {
        let started = Instant::now();
        let mut polls = 0u32;
        loop {
            let wait = policy.wait(polls);
            if started.elapsed().saturating_add(wait) > policy.give_up_after {
                self.bulk_discard(id).await;
                return Err(Error::fatal(
                    "BULK_JOB_TIMEOUT",
                    format!(
                        "Bulk job {id} did not finish within {} s; it was aborted",
                        policy.give_up_after.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(wait).await;
            polls = polls.saturating_add(1);
            let job = self.bulk_job(id).await?;
            progress(&job);
            if job.state.is_terminal() {
                return Ok(job);
            }
        }
    }

    /// `PATCH jobs/query/{id}` to `Aborted`.
    pub async fn bulk_abort(&self, id: &str) -> Result<(), Error> {
        let id = job_path(id)?;
        let body = json!({"state": "Aborted"});
        let mut call = Call::get(
            self.data_url(&format!("jobs/query/{id}")),
            1,
            BodyClass::Small,
            "aborting a Bulk job",
        );
        call.method = Method::PATCH;
        call.body = Some(&body);
        let _: Value = self.fetch(call).await?;
        Ok(())
    }

    /// `DELETE jobs/query/{id}` (204, no body): the job and its results go.
    pub async fn bulk_delete(&self, id: &str) -> Result<(), Error> {
        let id = job_path(id)?;
        let mut call = Call::get(
            self.data_url(&format!("jobs/query/{id}")),
            1,
            BodyClass::Small,
            "deleting a Bulk job",
        );
        call.method = Method::DELETE;
        let token = self.access_token();
        let (status, _, body) = self.transmit(&call, &token).await?;
        match status {
            200..=299 => Ok(()),
            _ => Err(classify(body::error_fault(status, &body))),
        }
    }

    /// Abort (if still running) and delete a job we give up on; failures are only logged,
    /// since the job expires by itself within 7 days.
    pub async fn bulk_discard(&self, id: &str) {
        if let Ok(job) = self.bulk_job(id).await
            && !job.state.is_terminal()
            && let Err(e) = self.bulk_abort(id).await
        {
            tracing::warn!(job = %id, "Bulk job not aborted: {e}");
        }
        if let Err(e) = self.bulk_delete(id).await {
            tracing::debug!(job = %id, "Bulk job not deleted: {e}");
        }
    }

    /// The results of job `id` from `from` on, in pages decoded per `shape`, sets of
    /// `max_records` rows. The stream ends after the first error.
    pub fn bulk_pages(
        &self,
        id: &str,
        shape: Arc<BulkShape>,
        from: BulkPosition,
        max_records: u64,
    ) -> BoxStream<'static, Result<BulkPage, Error>> {
        let download = Download {
            client: self.clone(),
            job: id.to_string(),
            shape,
            max_records: max_records.max(1),
            position: from,
            set: None,
            pending: VecDeque::new(),
            ended: None,
            finished: false,
            retries: 0,
        };
        stream::unfold(download, |mut d| async move {
            let item = d.next().await?;
            if item.is_err() {
                d.finished = true;
            }
            Some((item, d))
        })
        .boxed()
    }

    /// `GET jobs/query/{id}/results` of one set: the response with its body unread.
    async fn open_set(
        &self,
        id: &str,
        position: &BulkPosition,
        max_records: u64,
    ) -> Result<(HeaderMap, reqwest::Response), Error> {
        let id = job_path(id)?;
        let mut call = Call::get(
            self.data_url(&format!("jobs/query/{id}/results")),
            1,
            BodyClass::QueryPage,
            "a Bulk result set",
        );
        call.query.push(("maxRecords", max_records.to_string()));
        if let Some(locator) = &position.locator {
            call.query.push(("locator", locator.clone()));
        }
        let policy = *super::read(&self.inner.retry);
        policy.run(|_| self.attempt_stream(&call)).await
    }

    /// One attempt at a streamed call, refreshing the token once on 401.
    async fn attempt_stream(
        &self,
        call: &Call<'_>,
    ) -> Result<(HeaderMap, reqwest::Response), Error> {
        let mut refreshed = false;
        loop {
            let token = self.access_token();
            let response = self.transmit_head(call, &token).await?;
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok((response.headers().clone(), response));
            }
            if status == 401 && !refreshed && self.has_refresh_token() {
                self.refresh_after_401(&token).await?;
                refreshed = true;
                continue;
            }
            let body = body::read_capped(response, BodyClass::Small.cap())
                .await
                .map_err(|e| transport_error(&e))?;
            let fault = body::error_fault(status, &body);
            if status == 401 {
                return Err(Error::auth_required("the session was rejected", fault));
            }
            return Err(classify(fault));
        }
    }

    /// Send one request through the hooks and the counter; the body is left unread.
    async fn transmit_head(
        &self,
        call: &Call<'_>,
        token: &crate::salesforce::auth::Secret,
    ) -> Result<reqwest::Response, Error> {
        let hooks = &*self.inner.hooks;
        hooks.before_call(call.counted).map_err(Error::Vetoed)?;
        self.inner
            .calls
            .fetch_add(u64::from(call.counted), Ordering::Relaxed);
        let counted = CountedCall { hooks };
        let mut request = self
            .inner
            .http
            .reqwest()
            .request(call.method.clone(), &call.url)
            .bearer_auth(token.expose())
            .header(ACCEPT, "text/csv");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        let response = request.send().await.map_err(|e| transport_error(&e))?;
        let usage = header_text(response.headers(), LimitInfo::HEADER)
            .as_deref()
            .and_then(LimitInfo::parse);
        counted.finish(usage);
        Ok(response)
    }
}

impl Download {
    async fn next(&mut self) -> Option<Result<BulkPage, Error>> {
        loop {
            // The last page of an open set waits for the set's end, so its position can
            // already point at the next set (no call to find an exhausted set empty).
            let held = self.set.is_some() && self.pending.len() == 1;
            if !held && let Some(records) = self.pending.pop_front() {
                return Some(Ok(self.hand_out(records)));
            }
            if self.pending.is_empty()
                && let Some(next) = self.ended.take()
            {
                // A set that ended with no rows left to hand out.
                self.position = BulkPosition {
                    locator: next.clone(),
                    rows_done: 0,
                };
                if next.is_none() {
                    self.finished = true;
                }
            }
            if self.finished {
                return None;
            }
            if let Err(e) = self.step().await {
                if e.class() == crate::salesforce::ErrorClass::Retryable
                    && self.retries < MAX_SET_RETRIES
                {
                    self.retries += 1;
                    tracing::warn!(job = %self.job, "Bulk result set cut short ({e}); reading it again from row {}", self.position.rows_done);
                    self.set = None;
                    continue;
                }
                self.finished = true;
                return Some(Err(e));
            }
        }
    }

    fn hand_out(&mut self, records: Records) -> BulkPage {
        self.position.rows_done = self.position.rows_done.saturating_add(records.len() as u64);
        let mut last = false;
        if self.pending.is_empty()
            && let Some(next) = self.ended.take()
        {
            last = next.is_none();
            self.finished = last;
            self.position = BulkPosition {
                locator: next,
                rows_done: 0,
            };
        }
        BulkPage {
            records,
            after: self.position.clone(),
            last,
        }
    }

    /// Open the set at the position, or read the next chunk of the open one.
    async fn step(&mut self) -> Result<(), Error> {
        let Some(set) = &mut self.set else {
            let (headers, response) = self
                .client
                .open_set(&self.job, &self.position, self.max_records)
                .await?;
            let declared = number_header(&headers, "sforce-numberofrecords");
            let next =
                header_text(&headers, "sforce-locator").filter(|l| !l.is_empty() && l != "null");
            if next.as_ref().is_some_and(|l| l.len() > 1024) {
                return Err(Error::bad_response(
                    "BAD_RESPONSE",
                    "a Bulk locator longer than 1 KiB",
                ));
            }
            let max_rows = declared.unwrap_or(self.max_records).min(self.max_records);
            self.set = Some(OpenSet {
                response,
                pages: CsvPages::new(self.shape.clone(), self.position.rows_done, max_rows),
                next,
                declared,
            });
            return Ok(());
        };
        let csv_error =
            |e: crate::salesforce::bulk::CsvError| Error::bad_response("BAD_CSV", e.to_string());
        match set.response.chunk().await {
            Ok(Some(bytes)) => {
                set.pages.feed(&bytes).map_err(csv_error)?;
                self.pending.extend(set.pages.take_pages());
                Ok(())
            }
            Ok(None) => {
                set.pages.finish().map_err(csv_error)?;
                let seen = set.pages.rows_seen();
                if let Some(declared) = set.declared
                    && seen < declared
                {
                    // Ended cleanly but short: as good as cut, so read again.
                    self.pending.extend(set.pages.take_pages());
                    return Err(Error::retryable(Fault::new(
                        None,
                        "TRUNCATED_BODY",
                        format!("a Bulk result set declared {declared} rows and held {seen}"),
                    )));
                }
                if seen == 0 && set.next.is_some() {
                    // Sets are never empty but the last: following such locators could
                    // spend calls without end.
                    return Err(Error::bad_response(
                        "BAD_RESPONSE",
                        "an empty Bulk result set that is not the last",
                    ));
                }
                self.pending.extend(set.pages.take_pages());
                self.ended = Some(set.next.clone());
                self.set = None;
                self.retries = 0;
                Ok(())
            }
            Err(e) => {
                // Rows decoded before the cut are whole: hand them out, read the rest again.
                self.pending.extend(set.pages.take_pages());
                Err(transport_error(&e))
            }
        }
    }
}
