//! `syncdeck store check`: can this PostgreSQL destination be used? Connects and reads
//! privileges without changing anything.

use super::{PgError, PgTarget, StoreError, classify, target};
use crate::store::types::quote_ident;

/// What a successful check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// `server_version`, e.g. "15.20 (Debian 15.20-0+deb12u1)".
    pub server_version: String,
    pub user: String,
    /// Whether the connection is encrypted.
    pub tls: bool,
    pub schema: String,
    /// The schema already exists (an earlier sync created it).
    pub schema_exists: bool,
    /// Its migration version when it exists and syncdeck created it.
    pub schema_version: Option<i64>,
}

/// Connect and check the privileges syncing needs: CREATE on the database when the schema
/// does not exist yet, else CREATE and USAGE on the schema.
pub fn check(target: &PgTarget) -> Result<CheckReport, StoreError> {
    let conn = target::open(target)?;
    let display = target.display();
    let schema = target.schema().to_string();
    conn.block_on(async {
        let err = |e| StoreError::Postgres(classify(&display, e));
        let row = conn
            .client
            .query_one(
                "SELECT current_setting('server_version'), current_user::text,
                        COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),
                        EXISTS(SELECT 1 FROM pg_namespace WHERE nspname = $1),
                        has_database_privilege(current_database(), 'CREATE')",
                &[&schema],
            )
            .await
            .map_err(err)?;
        let get_err = |e| StoreError::Postgres(classify(&display, e));
        let mut report = CheckReport {
            server_version: row.try_get(0).map_err(get_err)?,
            user: row.try_get(1).map_err(get_err)?,
            tls: row.try_get(2).map_err(get_err)?,
            schema: schema.clone(),
            schema_exists: row.try_get(3).map_err(get_err)?,
            schema_version: None,
        };
        let can_create_schema: bool = row.try_get(4).map_err(get_err)?;
        let denied = |detail: String| {
            Err(StoreError::Postgres(PgError::NoPrivilege {
                target: display.clone(),
                detail,
            }))
        };
        if !report.schema_exists {
            if !can_create_schema {
                return denied(format!(
                    "user {} has no CREATE privilege on the database, so it cannot create schema {schema} (GRANT CREATE ON DATABASE ... TO {}; or create the schema for it)",
                    report.user, report.user
                ));
            }
            return Ok(report);
        }
        let row = conn
            .client
            .query_one(
                "SELECT has_schema_privilege($1, 'CREATE'), has_schema_privilege($1, 'USAGE'),
                        to_regclass(format('%I.syncdeck_meta', $1::text)) IS NOT NULL",
                &[&schema],
            )
            .await
            .map_err(err)?;
        let (create, usage, ours): (bool, bool, bool) = (
            row.try_get(0).map_err(get_err)?,
            row.try_get(1).map_err(get_err)?,
            row.try_get(2).map_err(get_err)?,
        );
        if !(create && usage) {
            return denied(format!(
                "user {} lacks CREATE or USAGE on schema {schema} (GRANT CREATE, USAGE ON SCHEMA {schema} TO {};)",
                report.user, report.user
            ));
        }
        if ours {
            report.schema_version = Some(
                super::migrations::version(&conn.client, &schema, &display).await?,
            );
        }
        Ok(report)
    })
}

/// Drop the target's schema and everything in it (tests; retiring a source).
pub fn drop_schema(target: &PgTarget) -> Result<(), StoreError> {
    let conn = target::open(target)?;
    let display = target.display();
    let sql = format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        quote_ident(target.schema())
    );
    conn.block_on(async {
        conn.client
            .batch_execute(&sql)
            .await
            .map_err(|e| StoreError::Postgres(classify(&display, e)))
    })
}
