//! [`Store`]: the one interface above the two store implementations. Callers never learn
//! which one they hold; each method forwards to the [`Backend`] chosen at open time.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::postgres::lease::Fence;
use super::postgres::{PgStore, PgTarget};
use super::sqlite::SqliteStore;
use super::{
    BulkCheckpoint, BulkMark, CachedSchema, Cursor, PageApplied, PageWrite, RunId, RunObjectRow,
    RunRecord, RunRow, SliceCursor, StoreError, StoreField, UsageSample, VerifyRecord,
};

/// What a store implementation provides; see [`Store`] for each method's contract.
pub(crate) trait Backend: Send {
    fn describe(&self) -> String;
    fn schema_version(&mut self) -> Result<i64, StoreError>;
    fn ensure_object_table(
        &mut self,
        object: &str,
        fields: &[StoreField],
    ) -> Result<(), StoreError>;
    fn apply_page(&mut self, object: &str, page: &PageWrite<'_>)
    -> Result<PageApplied, StoreError>;
    fn fail_page_after(&mut self, upserts: Option<usize>);
    /// Make every later page and deletion commit check this fleet lease (PostgreSQL only:
    /// a fleet shares sources through the database their rows go to).
    fn set_fence(&mut self, _fence: Option<Fence>) {}
    fn apply_bulk_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        mark: BulkMark<'_>,
    ) -> Result<PageApplied, StoreError>;
    fn bulk_checkpoint(&mut self, object: &str) -> Result<Option<BulkCheckpoint>, StoreError>;
    fn clear_bulk_checkpoint(&mut self, object: &str) -> Result<(), StoreError>;
    fn cursor(&mut self, object: &str) -> Result<Option<Cursor>, StoreError>;
    fn set_cursor(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError>;
    fn reset_cursor(&mut self, object: &str) -> Result<(), StoreError>;
    fn begin_run(&mut self, kind: &str, started: DateTime<Utc>) -> Result<RunId, StoreError>;
    fn finish_run(&mut self, id: RunId, run: &RunRecord) -> Result<(), StoreError>;
    fn record_run_object(
        &mut self,
        id: RunId,
        object: &str,
        upserted: u64,
        deleted: u64,
    ) -> Result<(), StoreError>;
    fn run_objects(&mut self, id: RunId) -> Result<Vec<RunObjectRow>, StoreError>;
    fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRow>, StoreError>;
    fn record_usage(&mut self, at: DateTime<Utc>, used: u64, max: u64) -> Result<(), StoreError>;
    fn usage_since(&mut self, since: DateTime<Utc>) -> Result<Vec<UsageSample>, StoreError>;
    fn prune_usage(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError>;
    fn put_schema(
        &mut self,
        object: &str,
        json: &str,
        fetched_at: DateTime<Utc>,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<(), StoreError>;
    fn get_schema(&mut self, object: &str) -> Result<Option<CachedSchema>, StoreError>;
    fn objects(&mut self) -> Result<Vec<String>, StoreError>;
    fn row_count(&mut self, object: &str) -> Result<u64, StoreError>;
    fn all_ids(&mut self, object: &str) -> Result<Vec<String>, StoreError>;
    fn read_rows(
        &mut self,
        object: &str,
        limit: usize,
    ) -> Result<Vec<Map<String, Value>>, StoreError>;
    fn delete_log_checked(&mut self, object: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn apply_deletions(
        &mut self,
        object: &str,
        ids: &[String],
        covered_until: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError>;
    fn ids_after(
        &mut self,
        object: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    fn stored_fields(&mut self, object: &str) -> Result<Vec<String>, StoreError>;
    fn first_run_started(&mut self) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn record_verify(&mut self, v: &VerifyRecord) -> Result<(), StoreError>;
    fn last_verify(&mut self) -> Result<Option<VerifyRecord>, StoreError>;
    fn slice_cursors(&mut self, object: &str) -> Result<Vec<SliceCursor>, StoreError>;
    fn put_slice_cursors(&mut self, object: &str, slices: &[SliceCursor])
    -> Result<(), StoreError>;
    fn apply_slice_page(
        &mut self,
        object: &str,
        page: &PageWrite<'_>,
        slice: &SliceCursor,
    ) -> Result<PageApplied, StoreError>;
    fn finish_slices(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError>;
}

/// One source's store. Reads take `&self` as they always did; a backend that needs to
/// reconnect or cache (PostgreSQL) gets exclusive access through the cell, which is never
/// borrowed across calls.
pub struct Store {
    backend: std::cell::RefCell<Box<dyn Backend>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend.borrow().describe())
            .finish()
    }
}

/// Forward a method to the backend.
macro_rules! forward {
    ($(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty) => {
        $(#[$doc])*
        pub fn $name(&self $(, $arg: $ty)*) -> $ret {
            self.backend.borrow_mut().$name($($arg),*)
        }
    };
    ($(#[$doc:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty) => {
        $(#[$doc])*
        pub fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            self.backend.get_mut().$name($($arg),*)
        }
    };
}

impl Store {
    fn with(backend: impl Backend + 'static) -> Store {
        Store {
            backend: std::cell::RefCell::new(Box::new(backend)),
        }
    }

    /// Open (creating if needed) the SQLite store at `path` and migrate it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store::with(SqliteStore::open(path)?))
    }

    /// A private in-memory SQLite store, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Ok(Store::with(SqliteStore::open_in_memory()?))
    }

    /// Connect to a PostgreSQL store, creating and migrating its schema.
    pub fn connect_postgres(target: &PgTarget) -> Result<Store, StoreError> {
        Ok(Store::with(PgStore::connect(target)?))
    }

    /// The store configured for `source`: its PostgreSQL destination when it has one,
    /// otherwise its SQLite file in the data directory.
    pub fn open_for(
        paths: &crate::config::Paths,
        source: &crate::config::SourceConfig,
    ) -> Result<Store, StoreError> {
        match &source.store {
            Some(cfg) => Store::connect_postgres(&PgTarget::from_config(&source.id, cfg)?),
            None => Store::open(&paths.store_file(&source.id)),
        }
    }

    /// Whether `source` keeps a store yet (a SQLite file that exists, or any PostgreSQL
    /// destination): read-only views skip sources that never synced.
    pub fn exists_for(paths: &crate::config::Paths, source: &crate::config::SourceConfig) -> bool {
        source.store.is_some() || paths.store_file(&source.id).exists()
    }

    /// Where the rows live, for messages (a file path, or the PostgreSQL host and schema;
    /// never a password).
    pub fn describe(&self) -> String {
        self.backend.borrow().describe()
    }

    pub fn latest_schema_version() -> i64 {
        super::sqlite::latest_schema_version()
    }

    forward!(fn schema_version(&self) -> Result<i64, StoreError>);
    forward!(
        /// Create the object's table, or add columns for newly selected fields. Columns of
        /// fields no longer selected are kept (see the module docs).
        fn ensure_object_table(&mut self, object: &str, fields: &[StoreField]) -> Result<(), StoreError>
    );
    forward!(
        /// Upsert `page.upserts`, delete `page.deletes` and store `page.cursor`, all in one
        /// transaction: on any error nothing of the page is visible and the cursor is unchanged.
        fn apply_page(&mut self, object: &str, page: &PageWrite<'_>) -> Result<PageApplied, StoreError>
    );
    forward!(
        /// Test hook: make the next `apply_page` calls fail after `upserts` records were
        /// written inside the transaction (`None` disables). Proves pages are atomic.
        fn fail_page_after(&self, upserts: Option<usize>) -> ()
    );
    forward!(
        /// Fence this source's commits with a fleet lease (`None`: no longer fenced).
        fn set_fence(&mut self, fence: Option<Fence>) -> ()
    );
    forward!(
        /// [`Store::apply_page`] that also saves or clears the object's Bulk checkpoint in
        /// the same transaction.
        fn apply_bulk_page(&mut self, object: &str, page: &PageWrite<'_>, mark: BulkMark<'_>) -> Result<PageApplied, StoreError>
    );
    forward!(
        /// Where the object's unfinished Bulk read stands, if it has one.
        fn bulk_checkpoint(&self, object: &str) -> Result<Option<BulkCheckpoint>, StoreError>
    );
    forward!(
        /// Forget the object's Bulk read (its job is gone or failed).
        fn clear_bulk_checkpoint(&mut self, object: &str) -> Result<(), StoreError>
    );
    forward!(fn cursor(&self, object: &str) -> Result<Option<Cursor>, StoreError>);
    forward!(fn set_cursor(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError>);
    forward!(
        /// Forget where sync was, so the next run re-reads the object from the start.
        fn reset_cursor(&mut self, object: &str) -> Result<(), StoreError>
    );
    forward!(fn begin_run(&mut self, kind: &str, started: DateTime<Utc>) -> Result<RunId, StoreError>);
    forward!(fn finish_run(&mut self, id: RunId, run: &RunRecord) -> Result<(), StoreError>);
    forward!(
        /// What run `id` did to `object` (recorded when the object's sync ends).
        fn record_run_object(&mut self, id: RunId, object: &str, upserted: u64, deleted: u64) -> Result<(), StoreError>
    );
    forward!(
        /// Per-object counts of run `id`, by object name.
        fn run_objects(&self, id: RunId) -> Result<Vec<RunObjectRow>, StoreError>
    );
    forward!(
        /// Newest first.
        fn recent_runs(&self, limit: usize) -> Result<Vec<RunRow>, StoreError>
    );

    pub fn last_run(&self) -> Result<Option<RunRow>, StoreError> {
        Ok(self.recent_runs(1)?.into_iter().next())
    }

    forward!(fn record_usage(&mut self, at: DateTime<Utc>, used: u64, max: u64) -> Result<(), StoreError>);
    forward!(
        /// Samples at or after `since`, oldest first.
        fn usage_since(&self, since: DateTime<Utc>) -> Result<Vec<UsageSample>, StoreError>
    );
    forward!(
        /// Drop samples older than `before`; returns how many went.
        fn prune_usage(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError>
    );
    forward!(
        fn put_schema(&mut self, object: &str, json: &str, fetched_at: DateTime<Utc>, etag: Option<&str>, last_modified: Option<&str>) -> Result<(), StoreError>
    );
    forward!(fn get_schema(&self, object: &str) -> Result<Option<CachedSchema>, StoreError>);
    forward!(
        /// Objects that have a table, sorted.
        fn objects(&self) -> Result<Vec<String>, StoreError>
    );
    forward!(
        /// Rows in the object's table; 0 when it has none yet.
        fn row_count(&self, object: &str) -> Result<u64, StoreError>
    );

    pub fn total_rows(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for o in self.objects()? {
            total = total.saturating_add(self.row_count(&o)?);
        }
        Ok(total)
    }

    forward!(
        /// Every Id in the object's table, sorted (byte order).
        fn all_ids(&self, object: &str) -> Result<Vec<String>, StoreError>
    );
    forward!(
        /// Up to `limit` rows ordered by Id, as column → JSON value (compound components
        /// under their column names, booleans as JSON booleans, datetimes as RFC 3339 UTC
        /// text with milliseconds): the same JSON whichever store holds them.
        fn read_rows(&self, object: &str, limit: usize) -> Result<Vec<Map<String, Value>>, StoreError>
    );
    forward!(
        /// Up to the instant the object's delete log was applied (`latestDateCovered`).
        fn delete_log_checked(&self, object: &str) -> Result<Option<DateTime<Utc>>, StoreError>
    );
    forward!(
        /// Deletes `ids` and records how far the delete log is applied, in one transaction:
        /// a crash never loses deletions nor applies them twice with a wrong checkpoint.
        /// Returns how many rows were deleted.
        fn apply_deletions(&mut self, object: &str, ids: &[String], covered_until: Option<DateTime<Utc>>) -> Result<u64, StoreError>
    );
    forward!(
        /// At most `limit` Ids greater than `after`, in byte order: a keyset cursor over the
        /// primary key whose memory does not grow with the table.
        fn ids_after(&self, object: &str, after: Option<&str>, limit: usize) -> Result<Vec<String>, StoreError>
    );
    forward!(
        /// Fields that have at least one column in the object's table.
        fn stored_fields(&self, object: &str) -> Result<Vec<String>, StoreError>
    );
    forward!(
        /// When the first run started: scheduled verifications count from there until the
        /// first one is recorded.
        fn first_run_started(&self) -> Result<Option<DateTime<Utc>>, StoreError>
    );
    forward!(fn record_verify(&mut self, v: &VerifyRecord) -> Result<(), StoreError>);
    forward!(fn last_verify(&self) -> Result<Option<VerifyRecord>, StoreError>);
    forward!(
        /// The object's slice checkpoints, by slice; empty when no sliced read is pending.
        fn slice_cursors(&self, object: &str) -> Result<Vec<SliceCursor>, StoreError>
    );
    forward!(
        /// Replace the object's slice checkpoints (a new plan, or `&[]` to drop them).
        fn put_slice_cursors(&mut self, object: &str, slices: &[SliceCursor]) -> Result<(), StoreError>
    );
    forward!(
        /// Like `apply_page`, storing `slice` (its position after the page) in the same
        /// transaction instead of the object's cursor.
        fn apply_slice_page(&mut self, object: &str, page: &PageWrite<'_>, slice: &SliceCursor) -> Result<PageApplied, StoreError>
    );
    forward!(
        /// Every slice is done: drop the slice checkpoints and store the object's cursor,
        /// in one transaction.
        fn finish_slices(&mut self, object: &str, cursor: &Cursor) -> Result<(), StoreError>
    );
}
