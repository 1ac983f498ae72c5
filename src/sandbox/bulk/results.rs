//! `GET jobs/query/{id}/results`: one result set as CSV, streamed in chunks from the job's
//! snapshot (memory stays flat however many rows), with `Sforce-Locator` (the literal
//! `null` on the last set) and `Sforce-NumberOfRecords`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::job::{Dialect, JobState};
use super::rows::Snapshot;
use crate::sandbox::Shared;
use crate::sandbox::error::ApiError;
use crate::sandbox::limits::Usage;
use crate::sandbox::state::lock;

pub const CSV_UTF8: &str = "text/csv; charset=UTF-8";
/// Bytes per body chunk handed to the connection.
const CHUNK: usize = 64 * 1024;

/// Opaque like Salesforce's (unpadded base64, `MTAwMDA` = row 10000) and URL-safe, since
/// jsforce sends it back without encoding.
pub fn encode_locator(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(offset.to_string())
}

fn decode_locator(locator: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(locator.trim_end_matches('=')).ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// What one results request asks for.
pub struct SetRequest<'a> {
    pub id: &'a str,
    pub version: &'a str,
    pub locator: Option<String>,
    pub max_records: Option<String>,
}

struct Set {
    snap: Arc<Snapshot>,
    dialect: Dialect,
    offset: u64,
    count: u64,
    next: Option<u64>,
    cut: bool,
}

fn plan(st: &Shared, req: &SetRequest) -> Result<Set, ApiError> {
    let max = match &req.max_records {
        None => u64::MAX,
        Some(m) => m
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| super::create::api_error("maxRecords must be a positive integer"))?,
    };
    let now = st.org_now_ms();
    let mut jobs = lock(&st.bulk);
    let job = jobs.jobs.get(req.id).ok_or_else(ApiError::not_found)?;
    if job.api_version != req.version {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "API_ERROR",
            format!(
                "This job was created with API version {}; read its results with the same version",
                job.api_version
            ),
        ));
    }
    let state = job.state(now);
    if state != JobState::JobComplete {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "JOB_NOT_COMPLETE",
            format!(
                "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: {}",
                state.shouting()
            ),
        ));
    }
    let max = max.min(jobs.max_set_rows.unwrap_or(u64::MAX));
    let total = job.rows.total;
    let offset = match &req.locator {
        None => 0,
        Some(l) => decode_locator(l)
            .filter(|o| *o < total)
            .ok_or_else(ApiError::invalid_locator)?,
    };
    let count = max.min(total - offset);
    let end = offset + count;
    let (snap, dialect) = (job.rows.clone(), job.dialect);
    Ok(Set {
        snap,
        dialect,
        offset,
        count,
        next: (end < total).then_some(end),
        cut: jobs.take_cut(),
    })
}

/// The results response (or the error) for one request, already admitted and counted.
pub fn results(st: Shared, req: SetRequest, usage: Usage) -> Response {
    let set = match plan(&st, &req) {
        Ok(s) => s,
        Err(e) => return crate::sandbox::reply::Reply::from(e).into_response(Some(usage)),
    };
    {
        let mut log = lock(&st.log);
        log.counters.bulk_result_sets += 1;
        log.counters.records_served += if set.cut { set.count / 2 } else { set.count };
    }
    let locator = set.next.map_or_else(|| "null".to_string(), encode_locator);
    let count = set.count;
    let body = stream(st, req.id.to_string(), set);
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CSV_UTF8));
    let pairs = [
        ("sforce-locator", locator),
        ("sforce-numberofrecords", count.to_string()),
        ("sforce-limit-info", usage.header()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    *r.status_mut() = StatusCode::OK;
    r
}

/// Writes the set on the blocking pool and hands it over chunk by chunk; a full channel
/// pauses the writer, so a slow reader never makes the sandbox buffer the set.
fn stream(st: Shared, id: String, set: Set) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let d = set.dialect;
        let rows = if set.cut { set.count / 2 } else { set.count };
        let mut out = Vec::with_capacity(CHUNK + 4096);
        let mut bytes = 0u64;
        set.snap.write_header(&st, d, &mut out);
        let take = usize::try_from(rows).unwrap_or(usize::MAX);
        for row in set.snap.rows_from(&st, set.offset).take(take) {
            set.snap.write_row(&st, d, row, &mut out);
            if out.len() >= CHUNK {
                bytes += out.len() as u64;
                let chunk = Bytes::from(std::mem::replace(
                    &mut out,
                    Vec::with_capacity(CHUNK + 4096),
                ));
                if tx.blocking_send(Ok(chunk)).is_err() {
                    return; // The client went away.
                }
            }
        }
        bytes += out.len() as u64;
        if !set.cut {
            // Before the last chunk, so a client holding the whole set sees it counted.
            lock(&st.bulk).store(&id, set.offset, bytes, st.org_now_ms());
        }
        if tx.blocking_send(Ok(Bytes::from(out))).is_err() {
            return;
        }
        if set.cut {
            // The pause lets the first half reach the client before the reset.
            std::thread::sleep(std::time::Duration::from_millis(30));
            let _ = tx.blocking_send(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "sandbox fault: results download cut",
            )));
        }
    });
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|c| (c, rx))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_look_like_salesforce_and_round_trip() {
        assert_eq!(encode_locator(10_000), "MTAwMDA");
        assert_eq!(decode_locator("MTAwMDA"), Some(10_000));
        assert_eq!(decode_locator("MTAwMDA="), Some(10_000));
        assert_eq!(decode_locator("null"), None);
        for n in [0, 1, 49_999, u64::MAX] {
            let l = encode_locator(n);
            assert!(l.bytes().all(|b| b.is_ascii_alphanumeric()), "{l}");
            assert_eq!(decode_locator(&l), Some(n));
        }
    }
}
