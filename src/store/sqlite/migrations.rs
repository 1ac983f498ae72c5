//! Versioned schema: `PRAGMA user_version` counts the migrations applied. Append only.

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: bookkeeping tables; object tables (`sf_<Object>`) are created on demand.
    "
    CREATE TABLE runs (
        id        INTEGER PRIMARY KEY,
        kind      TEXT NOT NULL,
        started   TEXT NOT NULL,
        finished  TEXT,
        outcome   TEXT,
        upserted  INTEGER NOT NULL DEFAULT 0,
        deleted   INTEGER NOT NULL DEFAULT 0,
        api_calls INTEGER NOT NULL DEFAULT 0,
        error     TEXT
    );
    CREATE TABLE cursors (
        object          TEXT PRIMARY KEY,
        system_modstamp TEXT NOT NULL,
        last_id         TEXT NOT NULL,
        field_set_hash  TEXT NOT NULL,
        full_sync_done  INTEGER NOT NULL
    );
    CREATE TABLE api_usage (
        at   TEXT NOT NULL,
        used INTEGER NOT NULL,
        max  INTEGER NOT NULL
    );
    CREATE INDEX api_usage_at ON api_usage(at);
    CREATE TABLE schema_cache (
        object        TEXT PRIMARY KEY,
        json          TEXT NOT NULL,
        fetched_at    TEXT NOT NULL,
        etag          TEXT,
        last_modified TEXT
    );
    -- Which column holds which field (or compound component), and how to convert it.
    CREATE TABLE object_columns (
        object      TEXT NOT NULL,
        column_name TEXT NOT NULL,
        field       TEXT NOT NULL,
        component   TEXT,
        sf_type     TEXT NOT NULL,
        column_type TEXT NOT NULL,
        PRIMARY KEY (object, column_name)
    );
    ",
    // 2: how far each object's delete log is applied, and verification results.
    "
    CREATE TABLE delete_log_checks (
        object        TEXT PRIMARY KEY,
        covered_until TEXT NOT NULL
    );
    CREATE TABLE verify_results (
        id               INTEGER PRIMARY KEY,
        started          TEXT NOT NULL,
        finished         TEXT NOT NULL,
        outcome          TEXT NOT NULL,
        extra            INTEGER NOT NULL,
        missing          INTEGER NOT NULL,
        unfilled_fields  INTEGER NOT NULL,
        repaired_deleted INTEGER NOT NULL,
        repaired_fetched INTEGER NOT NULL,
        api_calls        INTEGER NOT NULL,
        error            TEXT
    );
    ",
    // 3: what each run did per object, for run history's breakdown.
    "
    CREATE TABLE run_objects (
        run_id   INTEGER NOT NULL,
        object   TEXT NOT NULL,
        upserted INTEGER NOT NULL,
        deleted  INTEGER NOT NULL,
        PRIMARY KEY (run_id, object)
    );
    ",
    // 4: checkpoints of sliced reads (parallel SystemModstamp ranges of one object).
    "
    CREATE TABLE slice_cursors (
        object         TEXT NOT NULL,
        slice          INTEGER NOT NULL,
        range_from     TEXT NOT NULL,
        range_until    TEXT,
        position       TEXT,
        done           INTEGER NOT NULL,
        field_set_hash TEXT NOT NULL,
        from_start     INTEGER NOT NULL,
        PRIMARY KEY (object, slice)
    );
    ",
    // 5: where an object's Bulk API read stands, committed with each of its pages.
    "
    CREATE TABLE bulk_checkpoints (
        object      TEXT PRIMARY KEY,
        job_id      TEXT NOT NULL,
        locator     TEXT,
        rows_done   INTEGER NOT NULL,
        job_started TEXT NOT NULL,
        field_set   TEXT NOT NULL
    );
    ",
];

/// Bring the database to the newest schema; refuse one written by a newer syncdeck.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::NewerSchema {
            found: version,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::debug!(version = i + 1, "store migrated");
    }
    Ok(())
}

pub(super) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}
