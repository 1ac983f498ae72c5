//! Test and demo controls, in process (on `State`, surfaced by `SandboxHandle`) and over
//! HTTP under `/__sandbox/`. None of them count against the API quota.

use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Shared;
use super::datagen::mix;
use super::faults::FaultSpec;
use super::oauth::Decision;
use super::state::{SandboxUser, State, lock};

/// What `mutate` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MutationSummary {
    pub updated: u64,
    pub deleted: u64,
}

impl State {
    /// Updates (about 4 in 5) or deletes `n` random live records; SystemModstamp moves to now.
    pub fn mutate(&self, n: u64) -> MutationSummary {
        let data = &self.data;
        let candidates: Vec<(usize, u64)> = data
            .schema
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.name != "User")
            .map(|(i, _)| (i, data.count(i)))
            .filter(|(_, c)| *c > 0)
            .collect();
        let total: u64 = candidates.iter().map(|c| c.1).sum();
        let mut summary = MutationSummary::default();
        if total == 0 {
            return summary;
        }
        for _ in 0..n {
            let h = mix(data.seed ^ 0x6d75_7461_7465 ^ self.next_seq());
            let mut pick = h % total;
            let Some(&(obj, _)) = candidates.iter().find(|(_, c)| {
                if pick < *c {
                    true
                } else {
                    pick -= c;
                    false
                }
            }) else {
                continue;
            };
            let delete = (h >> 40) % 5 == 0;
            match data.mutate_row(obj, pick, delete, self.org_now_ms()) {
                Some(at) => {
                    lock(&self.delete_log).record(obj, pick, at);
                    summary.deleted += 1;
                }
                None if !delete => summary.updated += 1,
                // The row was already deleted.
                None => {}
            }
        }
        lock(&self.log).counters.mutations += n;
        summary
    }

    pub fn expire_locators(&self) {
        lock(&self.cursors).clear();
    }

    pub fn inject(&self, spec: &FaultSpec) {
        lock(&self.faults).apply(spec);
        if spec.expire_locators {
            self.expire_locators();
        }
    }

    pub fn counters(&self) -> super::counters::Counters {
        let usage = lock(&self.quota).usage();
        let injected = lock(&self.faults).injected;
        let mut c = lock(&self.log).counters.clone();
        c.api_used = usage.used;
        c.api_max = usage.max;
        c.faults_injected = injected;
        let cursors = lock(&self.cursors);
        c.open_query_cursors = cursors.live() as u64;
        c.open_query_cursors_peak = cursors.peak_live() as u64;
        c
    }
}

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(index))
        .route("/counters", get(counters))
        .route("/calls", get(calls))
        .route("/quota", post(quota))
        .route("/mutate", post(mutate))
        .route("/hard-delete", post(hard_delete))
        .route("/purge-delete-log", post(purge_delete_log))
        .route("/clock", post(clock))
        .route("/approve", post(approve))
        .route("/deny", post(deny))
        .route("/pending", get(pending))
        .route("/revoke-all", post(revoke_all))
        .route("/faults", post(faults))
        .route("/faults/clear", post(clear_faults))
        .route("/bulk", post(bulk))
}

/// Every control: (method, path under `/__sandbox/`, JSON body, what it does).
const CONTROLS: &[(&str, &str, &str, &str)] = &[
    (
        "GET",
        "",
        "",
        "this list, with the org's ids and the connected app's credentials",
    ),
    (
        "GET",
        "counters",
        "",
        "API calls, records served, mutations and faults so far",
    ),
    (
        "GET",
        "calls",
        "",
        "the call log: method, path, status, counted or not",
    ),
    (
        "POST",
        "quota",
        "{\"used\":N,\"max\":M}",
        "set the API usage and/or the daily maximum",
    ),
    (
        "POST",
        "mutate",
        "{\"count\":N}",
        "update or delete N random records (SystemModstamp moves to now)",
    ),
    (
        "POST",
        "hard-delete",
        "{\"object\":\"Account\",\"count\":N}",
        "delete N records for good: no IsDeleted trace for queryAll, only the delete log knows",
    ),
    (
        "POST",
        "purge-delete-log",
        "",
        "empty the delete log; earliestDateAvailable moves to now",
    ),
    (
        "POST",
        "clock",
        "{\"advance_secs\":N}",
        "move the org's clock forward (delete-log windows, replication dates)",
    ),
    (
        "POST",
        "approve",
        "{\"user_code\":\"...\",\"user\":\"admin\"|\"standard\"}",
        "approve a pending device-flow login (the oldest without user_code)",
    ),
    (
        "POST",
        "deny",
        "{\"user_code\":\"...\"}",
        "deny a pending device-flow login",
    ),
    (
        "GET",
        "pending",
        "",
        "device-flow logins waiting for a decision",
    ),
    (
        "POST",
        "revoke-all",
        "",
        "revoke every access and refresh token",
    ),
    (
        "POST",
        "faults",
        "{\"status\":503,\"count\":2,\"latency_ms\":200,\"malformed\":1,\"drop_connection\":1,\"expire_locators\":true}",
        "fail, delay, truncate or cut off the next API responses (any subset of the keys)",
    ),
    ("POST", "faults/clear", "", "remove every injected fault"),
    (
        "POST",
        "bulk",
        "{\"queue_delay_ms\":1000,\"rows_per_sec\":35000,\"fail_jobs\":1,\"fail_message\":\"...\",\"cut_results\":1,\"forget_jobs\":true,\"jobs_max\":N}",
        "Bulk 2.0 query jobs: processing model, failed jobs, results cut mid-body, jobs that vanish, daily job maximum",
    ),
];

/// `GET /__sandbox/`: what can be controlled, and how.
pub async fn index(AxState(st): AxState<Shared>) -> Json<serde_json::Value> {
    let controls: Vec<serde_json::Value> = CONTROLS
        .iter()
        .map(|(method, path, body, description)| {
            json!({
                "method": method,
                "path": format!("/__sandbox/{path}"),
                "body": Some(body).filter(|b| !b.is_empty()),
                "description": description,
            })
        })
        .collect();
    Json(json!({
        "base_url": st.base_url, "client_id": st.client_id, "client_secret": st.client_secret,
        "org_id": st.org_id,
        "admin_user_id": st.user_id(SandboxUser::Admin), "standard_user_id": st.user_id(SandboxUser::Standard),
        "controls": controls,
    }))
}

async fn counters(AxState(st): AxState<Shared>) -> Json<super::counters::Counters> {
    Json(st.counters())
}

async fn calls(AxState(st): AxState<Shared>) -> Json<Vec<super::counters::CallRecord>> {
    Json(lock(&st.log).entries.iter().cloned().collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaBody {
    used: Option<u64>,
    max: Option<u64>,
}

async fn quota(AxState(st): AxState<Shared>, Json(b): Json<QuotaBody>) -> Json<serde_json::Value> {
    let mut q = lock(&st.quota);
    q.set(b.used, b.max);
    let u = q.usage();
    Json(json!({"used": u.used, "max": u.max}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MutateBody {
    count: u64,
}

async fn mutate(AxState(st): AxState<Shared>, Json(b): Json<MutateBody>) -> Json<MutationSummary> {
    Json(st.mutate(b.count))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HardDeleteBody {
    object: String,
    count: u64,
}

async fn hard_delete(AxState(st): AxState<Shared>, Json(b): Json<HardDeleteBody>) -> Response {
    let Some(obj) = st.data.schema.index_of(&b.object) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"message": format!("no object {} in this org", b.object)})),
        )
            .into_response();
    };
    Json(json!({"deleted": st.hard_delete(obj, b.count)})).into_response()
}

async fn purge_delete_log(AxState(st): AxState<Shared>) -> Json<serde_json::Value> {
    Json(json!({"purged": st.purge_delete_log()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    advance_secs: u64,
}

async fn clock(AxState(st): AxState<Shared>, Json(b): Json<ClockBody>) -> Json<serde_json::Value> {
    st.advance_clock(i64::try_from(b.advance_secs.saturating_mul(1000)).unwrap_or(i64::MAX));
    Json(json!({"org_now_ms": st.org_now_ms()}))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct DecideBody {
    user_code: Option<String>,
    user: SandboxUser,
}

fn decided(n: usize) -> Response {
    if n == 0 {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"decided": 0, "message": "no pending device code matched"})),
        )
            .into_response();
    }
    Json(json!({"decided": n})).into_response()
}

async fn approve(AxState(st): AxState<Shared>, body: Option<Json<DecideBody>>) -> Response {
    let b = body.map(|b| b.0).unwrap_or_default();
    decided(st.decide_device(b.user_code.as_deref(), Decision::Approved(b.user)))
}

async fn deny(AxState(st): AxState<Shared>, body: Option<Json<DecideBody>>) -> Response {
    let b = body.map(|b| b.0).unwrap_or_default();
    decided(st.decide_device(b.user_code.as_deref(), Decision::Denied))
}

async fn pending(AxState(st): AxState<Shared>) -> Json<Vec<super::oauth::PendingDevice>> {
    Json(st.pending_devices())
}

async fn revoke_all(AxState(st): AxState<Shared>) -> Json<serde_json::Value> {
    Json(json!({"revoked": st.revoke_all()}))
}

async fn faults(AxState(st): AxState<Shared>, Json(spec): Json<FaultSpec>) -> Response {
    if let Some(s) = spec.status {
        if !(400..=599).contains(&s) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"message": "status must be an HTTP error status such as 500 or 503"})),
            )
                .into_response();
        }
    }
    st.inject(&spec);
    Json(json!({"ok": true})).into_response()
}

async fn bulk(
    AxState(st): AxState<Shared>,
    Json(spec): Json<super::bulk::BulkSpec>,
) -> Json<serde_json::Value> {
    st.bulk_control(&spec);
    let model = lock(&st.bulk).model;
    Json(json!({
        "queue_delay_ms": model.queue_delay.as_millis() as u64,
        "rows_per_sec": model.rows_per_sec,
    }))
}

async fn clear_faults(AxState(st): AxState<Shared>) -> Json<serde_json::Value> {
    lock(&st.faults).clear();
    Json(json!({"ok": true}))
}
