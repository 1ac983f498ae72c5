//! Source leases for a fleet of daemons sharing one PostgreSQL database: which daemon syncs
//! which source, with a heartbeat, an expiry and a fencing token.
//!
//! Why lease rows and not session advisory locks: an advisory lock dies with its
//! connection, which is convenient, but it carries no token a later commit could check
//! (a daemon paused past its turn and resumed still believes it holds the lock until its
//! next call fails, and a commit already in flight cannot tell), and nobody else can see
//! who holds it or since when. A lease row gives both: `token` grows on every acquisition
//! and every page commit checks it in its own transaction ([`check_fence`]), and the row
//! says which host owns the source and when it last renewed.
//!
//! Every decision is one SQL statement judged by the database clock (`now()`), never a
//! host's clock, so hosts whose clocks disagree still agree on who holds what.

use chrono::{DateTime, Utc};
use tokio_postgres::{Client, Transaction};

use super::{Conn, PgError, PgTarget, StoreError, block_on, classify, target};
use crate::config::{FleetConfig, StoreConfig};
use crate::store::types::quote_ident;

/// A held lease: what a commit of the source must find unchanged in the leases table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    table: String,
    source: String,
    daemon: String,
    token: i64,
    /// A commit stopped (SIGSTOP) between its check and its commit would keep the row
    /// locked; PostgreSQL ends such a session after this many milliseconds.
    idle_ms: String,
}

impl Fence {
    pub fn token(&self) -> i64 {
        self.token
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

/// One source's row, as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub source: String,
    /// The daemon holding it, while its lease has not expired.
    pub owner_daemon: Option<String>,
    pub owner_host: Option<String>,
    pub token: i64,
    pub heartbeat: Option<DateTime<Utc>>,
    /// The owner's lease is still valid by the database clock.
    pub live: bool,
    pub config_hash: String,
}

/// Why an acquisition did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another daemon holds a valid lease, or is committing a page right now.
    Held { host: Option<String> },
    /// This daemon's configuration of the source differs from the fleet's.
    ConfigDiffers { fleet_hash: String },
}

/// The leases of one fleet, through one connection of this daemon.
pub struct Leases {
    target: PgTarget,
    conn: Option<Conn>,
    leases: String,
    daemons: String,
    daemon: String,
    host: String,
    lease_seconds: f64,
}

impl Leases {
    /// Connect as daemon `daemon` on `host` and create the fleet's tables if needed.
    pub fn connect(cfg: &FleetConfig, daemon: &str, host: &str) -> Result<Leases, StoreError> {
        let schema = cfg.schema_name();
        let store = StoreConfig {
            url: cfg.url.clone(),
            password_env: cfg.password_env.clone(),
            schema: Some(schema.clone()),
        };
        let target = PgTarget::from_config("fleet", &store)?;
        let s = quote_ident(&schema);
        let mut leases = Leases {
            target,
            conn: None,
            leases: format!("{s}.leases"),
            daemons: format!("{s}.daemons"),
            daemon: daemon.to_string(),
            host: host.to_string(),
            lease_seconds: f64::from(cfg.lease_seconds.max(1)),
        };
        let ddl = format!(
            "CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {s}.leases (
               source_id text PRIMARY KEY,
               owner_daemon text,
               owner_host text,
               token bigint NOT NULL DEFAULT 0,
               heartbeat timestamptz,
               expires_at timestamptz,
               config_hash text NOT NULL);
             CREATE TABLE IF NOT EXISTS {s}.daemons (
               daemon_id text PRIMARY KEY,
               host text NOT NULL,
               heartbeat timestamptz NOT NULL,
               expires_at timestamptz NOT NULL);"
        );
        let err = leases.err();
        leases.run(|c| async move {
            let tx = c.transaction().await.map_err(&err)?;
            // Two daemons starting together would race on CREATE ... IF NOT EXISTS.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&schema])
                .await
                .map_err(&err)?;
            tx.batch_execute(&ddl).await.map_err(&err)?;
            tx.commit().await.map_err(&err)
        })?;
        Ok(leases)
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Say this daemon is alive; returns how many daemons are (itself included).
    pub fn heartbeat(&mut self) -> Result<u64, StoreError> {
        let (daemons, daemon, host, secs) = (
            self.daemons.clone(),
            self.daemon.clone(),
            self.host.clone(),
            self.lease_seconds,
        );
        let err = self.err();
        self.run(|c| async move {
            c.execute(
                &format!(
                    "INSERT INTO {daemons} (daemon_id, host, heartbeat, expires_at)
                     VALUES ($1, $2, now(), now() + make_interval(secs => $3))
                     ON CONFLICT (daemon_id) DO UPDATE SET
                       heartbeat = now(), expires_at = excluded.expires_at"
                ),
                &[&daemon, &host, &secs],
            )
            .await
            .map_err(&err)?;
            let live: i64 = c
                .query_one(
                    &format!("SELECT count(*) FROM {daemons} WHERE expires_at > now()"),
                    &[],
                )
                .await
                .map_err(&err)?
                .get(0);
            Ok(u64::try_from(live).unwrap_or(0).max(1))
        })
    }

    /// Put `source` in the fleet with this daemon's configuration hash, unless it is there.
    pub fn register(&mut self, source: &str, config_hash: &str) -> Result<(), StoreError> {
        let leases = self.leases.clone();
        let err = self.err();
        self.run(|c| async move {
            c.execute(
                &format!(
                    "INSERT INTO {leases} (source_id, config_hash) VALUES ($1, $2)
                     ON CONFLICT (source_id) DO NOTHING"
                ),
                &[&source, &config_hash],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    /// Take `source` when it is free or its owner's lease expired, and the fleet's
    /// configuration of it is this daemon's. A row locked by a commit in progress is
    /// skipped (`SKIP LOCKED`): the next tick tries again, nobody waits on it.
    pub fn acquire(
        &mut self,
        source: &str,
        config_hash: &str,
    ) -> Result<Result<Fence, Refusal>, StoreError> {
        let (leases, daemon, host, secs) = (
            self.leases.clone(),
            self.daemon.clone(),
            self.host.clone(),
            self.lease_seconds,
        );
        let err = self.err();
        let taken: Option<i64> = self.run(|c| async move {
            Ok(c.query_opt(
                &format!(
                    "UPDATE {leases} SET owner_daemon = $2, owner_host = $3, token = token + 1,
                       heartbeat = now(), expires_at = now() + make_interval(secs => $4)
                     WHERE source_id = (
                       SELECT source_id FROM {leases}
                       WHERE source_id = $1 AND config_hash = $5
                         AND (owner_daemon IS NULL OR expires_at <= now())
                       FOR UPDATE SKIP LOCKED)
                     RETURNING token"
                ),
                &[&source, &daemon, &host, &secs, &config_hash],
            )
            .await
            .map_err(&err)?
            .map(|r| r.get(0)))
        })?;
        if let Some(token) = taken {
            return Ok(Ok(self.fence(source, token)));
        }
        let row = self.row(source)?;
        Ok(Err(match row {
            Some(r) if r.config_hash != config_hash => Refusal::ConfigDiffers {
                fleet_hash: r.config_hash,
            },
            Some(r) => Refusal::Held { host: r.owner_host },
            None => Refusal::Held { host: None },
        }))
    }

    /// Extend a held lease (and record this daemon's configuration hash as the fleet's);
    /// `false` when the token changed: another daemon took the source.
    pub fn renew(&mut self, fence: &Fence, config_hash: &str) -> Result<bool, StoreError> {
        let (leases, secs) = (self.leases.clone(), self.lease_seconds);
        let err = self.err();
        let (source, daemon, token) = (fence.source.clone(), fence.daemon.clone(), fence.token);
        self.run(|c| async move {
            let n = c
                .execute(
                    &format!(
                        "UPDATE {leases} SET heartbeat = now(),
                           expires_at = now() + make_interval(secs => $4), config_hash = $5
                         WHERE source_id = $1 AND owner_daemon = $2 AND token = $3"
                    ),
                    &[&source, &daemon, &token, &secs, &config_hash],
                )
                .await
                .map_err(&err)?;
            Ok(n == 1)
        })
    }

    /// Give a held lease back at once (a clean stop, or balancing): the next daemon's
    /// tick takes it without waiting for it to expire.
    pub fn release(&mut self, fence: &Fence) -> Result<(), StoreError> {
        let leases = self.leases.clone();
        let err = self.err();
        let (source, daemon, token) = (fence.source.clone(), fence.daemon.clone(), fence.token);
        self.run(|c| async move {
            c.execute(
                &format!(
                    "UPDATE {leases} SET owner_daemon = NULL, owner_host = NULL, expires_at = now()
                     WHERE source_id = $1 AND owner_daemon = $2 AND token = $3"
                ),
                &[&source, &daemon, &token],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    /// This daemon leaves the fleet (after releasing its leases).
    pub fn leave(&mut self) -> Result<(), StoreError> {
        let (daemons, daemon) = (self.daemons.clone(), self.daemon.clone());
        let err = self.err();
        self.run(|c| async move {
            c.execute(
                &format!("DELETE FROM {daemons} WHERE daemon_id = $1"),
                &[&daemon],
            )
            .await
            .map_err(&err)?;
            Ok(())
        })
    }

    /// Every source of the fleet, by id.
    pub fn all(&mut self) -> Result<Vec<LeaseRow>, StoreError> {
        self.rows(None)
    }

    fn row(&mut self, source: &str) -> Result<Option<LeaseRow>, StoreError> {
        Ok(self.rows(Some(source))?.into_iter().next())
    }

    fn rows(&mut self, source: Option<&str>) -> Result<Vec<LeaseRow>, StoreError> {
        let leases = self.leases.clone();
        let err = self.err();
        let source = source.map(str::to_string);
        self.run(|c| async move {
            let rows = c
                .query(
                    &format!(
                        "SELECT source_id, owner_daemon, owner_host, token, heartbeat,
                           coalesce(owner_daemon IS NOT NULL AND expires_at > now(), false),
                           config_hash
                         FROM {leases} WHERE $1::text IS NULL OR source_id = $1
                         ORDER BY source_id"
                    ),
                    &[&source],
                )
                .await
                .map_err(&err)?;
            Ok(rows
                .iter()
                .map(|r| LeaseRow {
                    source: r.get(0),
                    owner_daemon: r.get(1),
                    owner_host: r.get(2),
                    token: r.get(3),
                    heartbeat: r.get(4),
                    live: r.get(5),
                    config_hash: r.get(6),
                })
                .collect())
        })
    }

    fn fence(&self, source: &str, token: i64) -> Fence {
        // Seconds to whole milliseconds; the lease time is validated to a small range.
        let idle_ms = (self.lease_seconds * 1000.0).round().clamp(1.0, 3.6e6) as u64;
        Fence {
            table: self.leases.clone(),
            source: source.to_string(),
            daemon: self.daemon.clone(),
            token,
            idle_ms: idle_ms.to_string(),
        }
    }

    fn connection(&mut self) -> Result<&mut Conn, StoreError> {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.conn = None;
        }
        match &mut self.conn {
            Some(c) => Ok(c),
            slot => Ok(slot.insert(target::open(&self.target)?)),
        }
    }

    fn run<'c, T, F, Fut>(&'c mut self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&'c mut Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'c,
        T: Send,
    {
        let Conn { rt, client, .. } = self.connection()?;
        match rt {
            Some(rt) => block_on(rt, f(client)),
            None => Err(StoreError::Postgres(PgError::ConnectionLost {
                target: "PostgreSQL".into(),
                detail: "the connection was closed".into(),
            })),
        }
    }

    fn err(&self) -> impl Fn(tokio_postgres::Error) -> StoreError + Send + Sync + 'static {
        let target = self.target.display();
        move |e| StoreError::Postgres(classify(&target, e))
    }
}

/// Inside a page's transaction, just before its commit: the source's lease must still
/// carry this daemon's token, else the transaction is abandoned (rolled back) with
/// [`StoreError::LeaseLost`]. The row stays share-locked until the commit, so a takeover
/// (`FOR UPDATE`) waits for or skips this commit and can never slip in between.
pub(super) async fn check_fence(
    tx: &Transaction<'_>,
    fence: &Fence,
    err: impl Fn(tokio_postgres::Error) -> StoreError,
) -> Result<(), StoreError> {
    let row = tx
        .query_opt(&fence_sql(fence), &fence_params(fence))
        .await
        .map_err(err)?;
    fence_verdict(fence, row)
}

/// The query [`check_fence`] sends (a page prepares it once and sends it with the rest
/// of its statements).
pub(super) fn fence_sql(fence: &Fence) -> String {
    format!(
        "SELECT owner_daemon IS NOT DISTINCT FROM $2 AND token = $3, owner_host,
           set_config('idle_in_transaction_session_timeout', $4, true)
         FROM {} WHERE source_id = $1 FOR KEY SHARE",
        fence.table
    )
}

pub(super) fn fence_params(fence: &Fence) -> [&(dyn tokio_postgres::types::ToSql + Sync); 4] {
    [&fence.source, &fence.daemon, &fence.token, &fence.idle_ms]
}

/// What the fence query's answer means: the lease still ours, or lost to its holder.
pub(super) fn fence_verdict(
    fence: &Fence,
    row: Option<tokio_postgres::Row>,
) -> Result<(), StoreError> {
    match row {
        Some(r) if r.get::<_, Option<bool>>(0) == Some(true) => Ok(()),
        other => Err(StoreError::LeaseLost {
            source_id: fence.source.clone(),
            holder: other
                .and_then(|r| r.get::<_, Option<String>>(1))
                .map(|h| crate::sanitize::clean(&h))
                .unwrap_or_else(|| "no daemon".into()),
        }),
    }
}
