//! The store: where synced rows and the engine's bookkeeping live, behind one interface
//! ([`Store`]) with two implementations chosen by configuration:
//!
//! - [`sqlite`]: one database file per source (the embedded default, nothing to install);
//! - [`postgres`]: one schema per source in a PostgreSQL database, pages loaded by binary COPY.
//!
//! Both hold one table per synced object (`sf_<Object>`, primary key `Id`, one column per
//! selected field, compound fields split into components), the per-object sync cursor, run
//! history, API-usage samples, a describe cache, delete-log checkpoints and verification
//! results. [`Store::apply_page`] writes a page of upserts, deletes and the advanced cursor in
//! ONE transaction, so a killed process resumes from the last committed page with nothing lost
//! or duplicated.
//!
//! Removed fields keep their column: existing data stays readable and the column simply
//! stops being updated; re-adding the field resumes filling it (after the engine's
//! backfill). Nothing is ever dropped behind the operator's back.
//!
//! Every method is synchronous: the engine calls them on tokio's blocking pool
//! (`sync::shared_store`), the CLI on its own thread.

mod backend;
#[cfg(test)]
mod checkpoint_contract;
mod columns;
pub mod postgres;
mod slice_cursor;
pub mod sqlite;
pub mod types;

pub use backend::Store;
pub use columns::{PlannedColumn, plan_columns};
pub use slice_cursor::SliceCursor;

use std::path::PathBuf;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use crate::model::{Records, VerifySummary};

/// `put_schema`/`get_schema` key for the describeGlobal result.
pub const GLOBAL_SCHEMA: &str = "__global__";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open store {path}: {source}; check the data directory's permissions and free space"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot create the store file {path}: {source}; check the data directory's permissions"
    )]
    CreateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the store was written by a newer syncdeck (schema {found}, this build knows {supported}); upgrade syncdeck"
    )]
    NewerSchema { found: i64, supported: i64 },
    #[error("\"{0}\" is not a valid Salesforce API name: it {1}")]
    BadName(String, String),
    #[error("object {0} has no table yet; call ensure_object_table first")]
    UnknownObject(String),
    #[error("record in {object} cannot be stored: {reason}")]
    BadRecord { object: String, reason: String },
    #[error(transparent)]
    Postgres(#[from] postgres::PgError),
    #[error("injected failure (test hook)")]
    Injected,
    /// A fleet daemon's page for a source whose lease another daemon holds now: nothing of
    /// it was committed.
    #[error(
        "lease of {source_id} lost to {holder}: this daemon no longer syncs it; nothing of the page was committed"
    )]
    LeaseLost { source_id: String, holder: String },
}

impl StoreError {
    /// The store's server could not be reached or dropped the session: retrying later may
    /// succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Postgres(e) if e.is_transient())
    }
}

/// One selected field of an object, as describe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreField {
    pub name: String,
    /// Salesforce describe `type` (`string`, `boolean`, `address`, ...).
    pub sf_type: String,
    /// Components of a compound field; empty means the standard ones for `address`/`location`.
    pub compound_components: Vec<String>,
    /// Describe's `precision` and `scale` (currency, percent, double); stores with exact
    /// decimal types use them.
    pub precision: Option<u32>,
    pub scale: Option<u32>,
}

impl StoreField {
    pub fn new(name: impl Into<String>, sf_type: impl Into<String>) -> StoreField {
        StoreField {
            name: name.into(),
            sf_type: sf_type.into(),
            compound_components: Vec::new(),
            precision: None,
            scale: None,
        }
    }

    /// The same field with describe's precision and scale.
    pub fn with_digits(mut self, precision: Option<u32>, scale: Option<u32>) -> StoreField {
        self.precision = precision;
        self.scale = scale;
        self
    }
}

/// Where incremental sync of one object resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The last committed record's SystemModstamp, as Salesforce returned it.
    pub system_modstamp: String,
    /// The last committed record's Id (tie-break within one SystemModstamp).
    pub last_id: String,
    /// Hash of the selected field set the rows were synced with; a change means backfill.
    pub field_set_hash: String,
    pub full_sync_done: bool,
}

/// Where a Bulk API read of one object stands: committed in the same transaction as each
/// of its pages, so a killed process resumes the same job at the same set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkCheckpoint {
    pub job_id: String,
    /// The result set being read (`None`: the first).
    pub locator: Option<String>,
    /// Rows of that set already committed.
    pub rows_done: u64,
    /// When the job was created (RFC 3339 UTC): the read covers every change before it.
    pub job_started: String,
    /// The field set the job selected (`Cursor::field_set_hash` form).
    pub field_set: String,
}

/// What a page does to its object's Bulk checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMark<'a> {
    Save(&'a BulkCheckpoint),
    /// The read ended (its last page) or was abandoned.
    Clear,
}

/// What a page commits besides its rows and cursor, in the same transaction: the position
/// of a sliced read's slice, or a Bulk read's checkpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PageMark<'a> {
    Slice(&'a SliceCursor),
    Bulk(BulkMark<'a>),
}

/// One page of query results to commit atomically.
#[derive(Debug, Clone, Copy)]
pub struct PageWrite<'a> {
    /// Records as in Salesforce query JSON (compounds nested, relationships ignored).
    pub upserts: &'a Records,
    /// Ids to delete.
    pub deletes: &'a [String],
    /// The cursor after this page; `None` leaves it unchanged.
    pub cursor: Option<&'a Cursor>,
}

impl Default for PageWrite<'_> {
    fn default() -> Self {
        static NO_RECORDS: LazyLock<Records> = LazyLock::new(Records::default);
        PageWrite {
            upserts: &NO_RECORDS,
            deletes: &[],
            cursor: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageApplied {
    pub upserted: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub finished: DateTime<Utc>,
    /// e.g. "ok", "error", "cancelled", "quota".
    pub outcome: String,
    pub upserted: u64,
    pub deleted: u64,
    pub api_calls: u64,
    pub error: Option<String>,
}

/// One object's share of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunObjectRow {
    pub object: String,
    pub upserted: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: RunId,
    pub kind: String,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub upserted: u64,
    pub deleted: u64,
    pub api_calls: u64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSample {
    pub at: DateTime<Utc>,
    pub used: u64,
    pub max: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedSchema {
    pub json: String,
    pub fetched_at: DateTime<Utc>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A verification as stored (migration 2); what status screens show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRecord {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    /// "exact", "differs", "stopped" or "error".
    pub outcome: String,
    /// Rows the store has that the org does not, summed over objects.
    pub extra: u64,
    /// Rows the org has that the store lacks.
    pub missing: u64,
    /// Selected fields with no column or never backfilled.
    pub unfilled_fields: u64,
    /// Rows deleted / fetched by `--repair`.
    pub repaired_deleted: u64,
    pub repaired_fetched: u64,
    pub api_calls: u64,
    pub error: Option<String>,
}

impl VerifyRecord {
    /// What a snapshot shows of this verification.
    pub fn summary(&self) -> VerifySummary {
        VerifySummary {
            finished: self.finished,
            outcome: self.outcome.clone(),
            rows_differing: self.extra.saturating_add(self.missing),
            unfilled_fields: self.unfilled_fields,
            api_calls: self.api_calls,
        }
    }
}
