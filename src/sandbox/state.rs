//! Everything one sandbox org holds, shared by its request handlers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::counters::CallLog;
use super::datagen::Dataset;
use super::faults::Faults;
use super::ids::make_id;
use super::limits::Quota;
use super::oauth::AuthState;
use super::query::Cursors;

/// The two users of every sandbox org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SandboxUser {
    /// System Administrator: API Enabled, View All Data, View Setup.
    #[default]
    Admin,
    /// Standard User: API Enabled only.
    Standard,
}

impl SandboxUser {
    pub fn row(self) -> u64 {
        match self {
            SandboxUser::Admin => 0,
            SandboxUser::Standard => 1,
        }
    }
}

pub struct State {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub org_id: String,
    pub data: Dataset,
    pub quota: Mutex<Quota>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<CallLog>,
    pub cursors: Mutex<Cursors>,
    pub auth: Mutex<AuthState>,
    pub token_idle_timeout: Duration,
    pub auto_approve: Option<Duration>,
    pub device_poll_interval: Duration,
    /// Last-Modified of every describe (the schema never changes while running).
    pub schema_modified: SystemTime,
    pub mutation_seq: AtomicU64,
    pub delete_log: Mutex<super::replication::DeleteLog>,
    /// Added to real time for the org's clock (tests move the org forward).
    pub clock_offset_ms: std::sync::atomic::AtomicI64,
    /// Bulk API 2.0 query jobs and their processing model.
    pub bulk: Mutex<super::bulk::Jobs>,
}

/// Locks ignoring poisoning: every critical section leaves its data consistent.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl State {
    pub fn user_id(&self, user: SandboxUser) -> String {
        match self.data.schema.index_of("User") {
            Some(u) if self.data.count(u) > user.row() => self.data.id(u, user.row()),
            _ => make_id("005", user.row()),
        }
    }

    pub fn user_for_id(&self, id: &str) -> Option<SandboxUser> {
        [SandboxUser::Admin, SandboxUser::Standard]
            .into_iter()
            .find(|u| self.user_id(*u).get(..15) == id.get(..15))
    }

    pub fn now_ms() -> i64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    pub fn next_seq(&self) -> u64 {
        self.mutation_seq.fetch_add(1, Ordering::Relaxed)
    }
}
