//! Versioned schema of a PostgreSQL store: `syncdeck_meta.version` counts the migrations
//! applied to the source's schema. Append only. Object tables (`sf_<Object>`) are created
//! on demand, like in SQLite.

use tokio_postgres::Client;

use super::PgError;
use crate::store::StoreError;
use crate::store::types::quote_ident;

const MIGRATIONS: &[&str] = &[
    // 1: the bookkeeping tables of SQLite migrations 1–3, in PostgreSQL's types.
    "
    CREATE TABLE runs (
        id        bigserial PRIMARY KEY,
        kind      text NOT NULL,
        started   timestamptz NOT NULL,
        finished  timestamptz,
        outcome   text,
        upserted  bigint NOT NULL DEFAULT 0,
        deleted   bigint NOT NULL DEFAULT 0,
        api_calls bigint NOT NULL DEFAULT 0,
        error     text
    );
    CREATE TABLE cursors (
        object          text PRIMARY KEY,
        system_modstamp text NOT NULL,
        last_id         text NOT NULL,
        field_set_hash  text NOT NULL,
        full_sync_done  boolean NOT NULL
    );
    CREATE TABLE api_usage (
        id   bigserial PRIMARY KEY,
        at   timestamptz NOT NULL,
        used bigint NOT NULL,
        max  bigint NOT NULL
    );
    CREATE INDEX api_usage_at ON api_usage(at);
    CREATE TABLE schema_cache (
        object        text PRIMARY KEY,
        json          text NOT NULL,
        fetched_at    timestamptz NOT NULL,
        etag          text,
        last_modified text
    );
    -- Which column holds which field (or compound component), and its type.
    CREATE TABLE object_columns (
        ord         bigserial,
        object      text NOT NULL,
        column_name text NOT NULL,
        field       text NOT NULL,
        component   text,
        sf_type     text NOT NULL,
        column_type text NOT NULL,
        PRIMARY KEY (object, column_name)
    );
    CREATE TABLE delete_log_checks (
        object        text PRIMARY KEY,
        covered_until timestamptz NOT NULL
    );
    CREATE TABLE verify_results (
        id               bigserial PRIMARY KEY,
        started          timestamptz NOT NULL,
        finished         timestamptz NOT NULL,
        outcome          text NOT NULL,
        extra            bigint NOT NULL,
        missing          bigint NOT NULL,
        unfilled_fields  bigint NOT NULL,
        repaired_deleted bigint NOT NULL,
        repaired_fetched bigint NOT NULL,
        api_calls        bigint NOT NULL,
        error            text
    );
    CREATE TABLE run_objects (
        run_id   bigint NOT NULL,
        object   text NOT NULL,
        upserted bigint NOT NULL,
        deleted  bigint NOT NULL,
        PRIMARY KEY (run_id, object)
    );
    ",
    // 2: checkpoints of sliced reads (parallel SystemModstamp ranges of one object).
    "
    CREATE TABLE slice_cursors (
        object         text NOT NULL,
        slice          bigint NOT NULL,
        range_from     text NOT NULL,
        range_until    text,
        position       text,
        done           boolean NOT NULL,
        field_set_hash text NOT NULL,
        from_start     boolean NOT NULL,
        PRIMARY KEY (object, slice)
    );
    ",
    // 3: where an object's Bulk API read stands, committed with each of its pages.
    "
    CREATE TABLE bulk_checkpoints (
        object      text PRIMARY KEY,
        job_id      text NOT NULL,
        locator     text,
        rows_done   bigint NOT NULL,
        job_started text NOT NULL,
        field_set   text NOT NULL
    );
    ",
];

pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Create the schema if needed and bring it to the newest version, in one transaction
/// under an advisory lock (two processes starting at once migrate once); refuse a schema
/// written by a newer syncdeck.
pub(super) async fn migrate(
    client: &mut Client,
    schema: &str,
    target: &str,
) -> Result<(), StoreError> {
    let err = |e| StoreError::Postgres(super::classify(target, e));
    let s = quote_ident(schema);
    let tx = client.transaction().await.map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&schema])
        .await
        .map_err(err)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TABLE IF NOT EXISTS {s}.syncdeck_meta (version bigint NOT NULL);"
    ))
    .await
    .map_err(err)?;
    let version: i64 = tx
        .query_opt(&format!("SELECT version FROM {s}.syncdeck_meta"), &[])
        .await
        .map_err(err)?
        .map(|r| r.get(0))
        .unwrap_or(0);
    let supported = latest();
    if version > supported {
        return Err(StoreError::NewerSchema {
            found: version,
            supported,
        });
    }
    if version < supported {
        tx.batch_execute(&format!("SET LOCAL search_path TO {s}"))
            .await
            .map_err(err)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql).await.map_err(err)?;
            tracing::debug!(schema, version = i + 1, "PostgreSQL store migrated");
        }
        tx.execute(&format!("DELETE FROM {s}.syncdeck_meta"), &[])
            .await
            .map_err(err)?;
        tx.execute(
            &format!("INSERT INTO {s}.syncdeck_meta (version) VALUES ($1)"),
            &[&supported],
        )
        .await
        .map_err(err)?;
    }
    tx.commit().await.map_err(err)?;
    Ok(())
}

/// The schema's migration version.
pub(super) async fn version(client: &Client, schema: &str, target: &str) -> Result<i64, PgError> {
    let row = client
        .query_one(
            &format!("SELECT version FROM {}.syncdeck_meta", quote_ident(schema)),
            &[],
        )
        .await
        .map_err(|e| super::classify(target, e))?;
    Ok(row.get(0))
}
