//! Bulk API 2.0 query jobs under `/services/data/vXX.X/jobs/query`: create, job info, list,
//! abort, delete and CSV results, in Salesforce's wire format. Jobs move through their
//! states on the org's clock following a settable processing model; every call is
//! authenticated and counted against the daily API allocation like a REST call.

mod create;
mod job;
mod results;
mod rows;
mod store;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use serde_json::Value;

pub use job::BulkModel;
pub use store::{BulkSpec, BulkUsage, Jobs, STORAGE_MAX_MB};

use super::Shared;
use super::error::ApiError;
use super::limits::Usage;
use super::reply::Reply;
use super::rest::{admit, authenticate, parse_version, query_param, unauthorized};
use super::state::{SandboxUser, State, lock};
use job::JobState;

/// Jobs listed per page of `GET jobs/query`.
const LIST_PAGE: usize = 1000;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/services/data/{version}/jobs/query", any(jobs))
        .route("/services/data/{version}/jobs/query/{id}", any(job))
        .route(
            "/services/data/{version}/jobs/query/{id}/results",
            any(results),
        )
}

/// Version, authentication and quota, in the order the REST handlers check them.
fn admit_call(
    st: &State,
    version: &str,
    headers: &HeaderMap,
) -> Result<(String, SandboxUser, Usage), Box<Response>> {
    let version = parse_version(version)
        .ok_or_else(|| Box::new(Reply::from(ApiError::not_found()).into_response(None)))?;
    let user = authenticate(st, headers).ok_or_else(|| Box::new(unauthorized()))?;
    let usage = admit(st)?;
    Ok((version, user, usage))
}

fn not_allowed(method: &Method, allowed: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
    )
}

fn answer(r: Result<String, ApiError>, usage: Usage) -> Response {
    match r {
        Ok(json) => Reply::ok(json.into_bytes()),
        Err(e) => Reply::from(e),
    }
    .into_response(Some(usage))
}

async fn jobs(
    AxState(st): AxState<Shared>,
    Path(version): Path<String>,
    method: Method,
    headers: HeaderMap,
    q: RawQuery,
    body: Bytes,
) -> Response {
    let (version, user, usage) = match admit_call(&st, &version, &headers) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    match method {
        // Creating a job runs its query over every row: CPU work for the blocking pool.
        Method::POST => {
            let task =
                tokio::task::spawn_blocking(move || create::create(&st, user, &version, &body));
            let r = task.await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "sandbox bulk job creation failed");
                Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred in the sandbox; see its log",
                ))
            });
            answer(r, usage)
        }
        Method::GET => answer(Ok(list(&st, &version, q.0.as_deref())), usage),
        m => answer(Err(not_allowed(&m, "GET,POST")), usage),
    }
}

/// `GET jobs/query`: job infos without counters, a page at a time.
fn list(st: &State, version: &str, q: Option<&str>) -> String {
    let from: usize = query_param(q, "queryLocator")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let now = st.org_now_ms();
    let jobs = lock(&st.bulk);
    let records: Vec<String> = jobs
        .jobs
        .values()
        .skip(from)
        .take(LIST_PAGE)
        .map(|j| j.info_json(now, false))
        .collect();
    let end = from.saturating_add(records.len());
    let next = if end < jobs.jobs.len() {
        Value::String(format!(
            "/services/data/v{version}/jobs/query?queryLocator={end}"
        ))
    } else {
        Value::Null
    };
    format!(
        "{{\"done\":{},\"records\":[{}],\"nextRecordsUrl\":{next}}}",
        next.is_null(),
        records.join(",")
    )
}

async fn job(
    AxState(st): AxState<Shared>,
    Path((version, id)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, _, usage) = match admit_call(&st, &version, &headers) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let now = st.org_now_ms();
    let r = match method {
        Method::GET => lock(&st.bulk)
            .jobs
            .get(&id)
            .map(|j| j.info_json(now, true))
            .ok_or_else(ApiError::not_found),
        Method::PATCH => abort(&st, &id, &body, now),
        Method::DELETE => match delete(&st, &id, now) {
            Ok(()) => {
                let mut r = Reply::ok(Vec::new());
                r.status = StatusCode::NO_CONTENT;
                return r.into_response(Some(usage));
            }
            Err(e) => Err(e),
        },
        m => Err(not_allowed(&m, "GET,PATCH,DELETE")),
    };
    answer(r, usage)
}

/// `PATCH {"state":"Aborted"}`: only a job still queued or running can be aborted.
fn abort(st: &State, id: &str, body: &[u8], now: i64) -> Result<String, ApiError> {
    let wanted = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("state").and_then(Value::as_str).map(str::to_string));
    let mut jobs = lock(&st.bulk);
    let job = jobs.jobs.get_mut(id).ok_or_else(ApiError::not_found)?;
    if wanted.as_deref() != Some("Aborted") {
        return Err(create::api_error(
            "A query job's state can only be set to Aborted: send {\"state\":\"Aborted\"}",
        ));
    }
    let state = job.state(now);
    if state.terminal() {
        let word = match state {
            JobState::JobComplete => "Completed",
            JobState::Failed => "Failed",
            _ => "Aborted",
        };
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALIDJOBSTATE",
            format!("Aborting already {word} Job not allowed"),
        ));
    }
    job.aborted_ms = Some(now);
    Ok(job.aborted_json(now))
}

/// `DELETE`: only a finished job can be deleted; its results go with it.
fn delete(st: &State, id: &str, now: i64) -> Result<(), ApiError> {
    let mut jobs = lock(&st.bulk);
    let job = jobs.jobs.get(id).ok_or_else(ApiError::not_found)?;
    if !job.state(now).terminal() {
        return Err(create::api_error(
            "Error encountered when deleting the job because the job is not terminated",
        ));
    }
    jobs.jobs.remove(id);
    Ok(())
}

async fn results(
    AxState(st): AxState<Shared>,
    Path((version, id)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    q: RawQuery,
) -> Response {
    let (version, _, usage) = match admit_call(&st, &version, &headers) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if method != Method::GET {
        return answer(Err(not_allowed(&method, "GET")), usage);
    }
    let q = q.0.as_deref();
    let req = results::SetRequest {
        id: &id,
        version: &version,
        locator: query_param(q, "locator"),
        max_records: query_param(q, "maxRecords"),
    };
    results::results(st.clone(), req, usage)
}

impl State {
    pub fn bulk_usage(&self) -> BulkUsage {
        let now = self.org_now_ms();
        lock(&self.bulk).usage(now)
    }

    pub fn bulk_control(&self, spec: &BulkSpec) {
        lock(&self.bulk).apply(spec);
    }
}
