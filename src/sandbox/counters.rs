//! Call log and counters, readable through `/__sandbox/calls`, `/__sandbox/counters` and
//! the handle.

use std::collections::VecDeque;

use serde::Serialize;

const LOG_CAPACITY: usize = 2000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallRecord {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    pub method: String,
    /// Path only: query strings may carry codes and tokens.
    pub path: String,
    pub status: u16,
    pub counted: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub api_used: u64,
    pub api_max: u64,
    pub queries: u64,
    pub query_pages: u64,
    pub records_served: u64,
    pub tokens_issued: u64,
    pub faults_injected: u64,
    pub mutations: u64,
    pub limit_refusals: u64,
    /// Bulk API 2.0 query jobs created and result sets served.
    pub bulk_jobs: u64,
    pub bulk_result_sets: u64,
    /// Query cursors open now: served a first page with a `nextRecordsUrl` and not yet
    /// read to the end (nor released as the oldest). A cursor a client abandons stays open.
    pub open_query_cursors: u64,
    /// The most query cursors that were open at once.
    pub open_query_cursors_peak: u64,
}

#[derive(Debug, Default)]
pub struct CallLog {
    pub entries: VecDeque<CallRecord>,
    pub counters: Counters,
}

impl CallLog {
    pub fn push(&mut self, rec: CallRecord) {
        self.counters.requests += 1;
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(rec);
    }
}
