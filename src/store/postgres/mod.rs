//! The PostgreSQL store: one schema per source in a shared database (`[store] url`), one
//! table per object with PostgreSQL types ([`types`]), the bookkeeping tables beside them,
//! versioned migrations ([`migrations`]). Pages of new rows go in by binary COPY straight
//! into the object table ([`direct`]), others by binary COPY into a staging table and an
//! upsert; either way rows, deletions and cursor advance commit in one transaction ([`load`]).
//!
//! The store interface is synchronous (the engine calls it on tokio's blocking pool), so
//! this backend owns a small current-thread runtime that drives one tokio-postgres
//! connection. A call made from a thread inside another runtime (the CLI's startup, a
//! worker's `with_blocking`) runs the query on a scoped helper thread instead, since a
//! runtime cannot be blocked on from inside another one.
//!
//! A connection that dies (server restart, `pg_terminate_backend`, network loss) fails the
//! call in progress with [`PgError::ConnectionLost`]; its transaction never committed, so
//! the next call reconnects and the run resumes from the last committed page.

mod bookkeeping;
pub mod check;
mod direct;
pub mod lease;
mod load;
pub mod migrations;
mod numeric;
mod page_tx;
mod slices;
mod statements;
mod target;
pub mod testing;
mod tls;
pub mod types;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_direct;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::StoreError;
pub use target::{PgTarget, TlsMode, application_name};
use types::PgColumn;

/// What went wrong talking to PostgreSQL, each with what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PgError {
    #[error("store url is not a valid PostgreSQL URL: {0}")]
    BadUrl(String),
    #[error(
        "the store password is read from the environment variable {var}, which is not set; export it before starting syncdeck"
    )]
    PasswordMissing { var: String },
    #[error(
        "cannot reach PostgreSQL at {target}: {detail}; check that the server runs and the host, port and firewall allow the connection"
    )]
    Unreachable { target: String, detail: String },
    #[error(
        "PostgreSQL at {target} refused the login: {detail}; check the user in the store url and the password variable"
    )]
    AuthFailed { target: String, detail: String },
    #[error(
        "PostgreSQL at {target} has no database \"{database}\" ({detail}); create it (as a user allowed to: CREATE DATABASE \"{database}\"; or createdb) or name an existing database in the store url"
    )]
    NoDatabase {
        target: String,
        database: String,
        detail: String,
    },
    #[error(
        "PostgreSQL at {target} denied a privilege: {detail}; the store user needs CREATE on the database (for its schema) or ownership of the schema"
    )]
    NoPrivilege { target: String, detail: String },
    #[error(
        "lost the connection to PostgreSQL at {target}: {detail}; nothing of the page in progress was committed, the next run resumes from the last committed page"
    )]
    ConnectionLost { target: String, detail: String },
    #[error(
        "TLS to PostgreSQL at {target} failed: {detail}; check sslmode and the server's certificate"
    )]
    Tls { target: String, detail: String },
    #[error("PostgreSQL at {target}: {detail}")]
    Db { target: String, detail: String },
}

impl PgError {
    /// Down, unreachable or the session ended: the same call may work later unchanged.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PgError::Unreachable { .. } | PgError::ConnectionLost { .. }
        )
    }
}

/// One connection and the runtime that drives it.
struct Conn {
    /// Always `Some` until dropped (see `Drop`).
    rt: Option<tokio::runtime::Runtime>,
    client: Client,
    statements: statements::Statements,
}

impl Conn {
    /// Wait for `fut` on this connection's runtime.
    fn block_on<F, T>(&self, fut: F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send,
        T: Send,
    {
        match &self.rt {
            Some(rt) => block_on(rt, fut),
            None => Err(StoreError::Postgres(PgError::ConnectionLost {
                target: "PostgreSQL".into(),
                detail: "the connection was closed".into(),
            })),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime (a store can be
        // dropped from an async task); the connection task needs no orderly end.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

pub struct PgStore {
    target: PgTarget,
    conn: Option<Conn>,
    /// Each object's columns, as `object_columns` records them; filled on first use.
    columns: HashMap<String, Vec<PgColumn>>,
    /// Staging tables created on the current connection (temporary, so per connection).
    staged: HashSet<String>,
    /// Objects whose last page went in as new rows: their next page is tried the same way
    /// without looking its Ids up first (see `load::expect_new`).
    new_rows: HashSet<String>,
    counts: LoadCounts,
    fail_after: Option<usize>,
    /// Set while this daemon holds the source through a fleet lease: every commit checks it.
    fence: Option<lease::Fence>,
    /// The last failed connect: calls within [`RECONNECT_PAUSE`] of it fail with its error
    /// at once instead of each waiting out the connect timeout again.
    connect_failed: Option<(Instant, PgError)>,
}

/// How this store's pages went in: the tests' view of which loading path ran.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
struct LoadCounts {
    /// Pages whose Ids were looked up before choosing the path.
    lookups: u64,
    /// Pages COPYed straight into the object table.
    direct: u64,
    /// Pages tried that way that turned out not to be all new (nothing committed).
    declined: u64,
    /// Pages upserted through a staging table.
    staged: u64,
}

/// How long a failed connect answers for the calls after it. A worker reads several things
/// after a failed run; against a host that drops packets each would wait the full timeout.
const RECONNECT_PAUSE: Duration = Duration::from_secs(5);

impl PgStore {
    /// Connect, create the schema if needed and migrate it.
    pub fn connect(target: &PgTarget) -> Result<PgStore, StoreError> {
        let mut store = PgStore {
            target: target.clone(),
            conn: None,
            columns: HashMap::new(),
            staged: HashSet::new(),
            new_rows: HashSet::new(),
            counts: LoadCounts::default(),
            fail_after: None,
            fence: None,
            connect_failed: None,
        };
        let schema = store.target.schema().to_string();
        let display = store.target.display();
        store.run(|client| migrations::migrate(client, &schema, &display))?;
        Ok(store)
    }

    /// The live connection, reconnecting first when the last one died.
    fn connection(&mut self) -> Result<&mut Conn, StoreError> {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.conn = None;
        }
        if self.conn.is_none() {
            // Temporary staging tables died with the old connection.
            self.staged.clear();
        }
        if self.conn.is_none() {
            if let Some((at, e)) = &self.connect_failed
                && at.elapsed() < RECONNECT_PAUSE
            {
                return Err(StoreError::Postgres(e.clone()));
            }
            let failed = &mut self.connect_failed;
            let conn = target::open(&self.target).inspect_err(|e| {
                if let StoreError::Postgres(pg) = e {
                    *failed = Some((Instant::now(), pg.clone()));
                }
            })?;
            self.connect_failed = None;
            self.conn = Some(conn);
        }
        self.conn.as_mut().ok_or_else(|| {
            StoreError::Postgres(PgError::ConnectionLost {
                target: "PostgreSQL".into(),
                detail: "the connection was closed".into(),
            })
        })
    }

    /// Run `f` against the connection and wait for it.
    fn run<'c, T, F, Fut>(&'c mut self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&'c mut Client) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'c,
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

    /// [`PgStore::run`] with the connection's prepared statements at hand.
    fn run_prepared<'c, T, F, Fut>(&'c mut self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&'c mut Client, &'c mut statements::Statements) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'c,
        T: Send,
    {
        let Conn {
            rt,
            client,
            statements,
        } = self.connection()?;
        match rt {
            Some(rt) => block_on(rt, f(client, statements)),
            None => Err(StoreError::Postgres(PgError::ConnectionLost {
                target: "PostgreSQL".into(),
                detail: "the connection was closed".into(),
            })),
        }
    }

    fn schema(&self) -> &str {
        self.target.schema()
    }

    /// Turn a driver error into the store's error, naming the server.
    fn err(&self) -> impl Fn(tokio_postgres::Error) -> StoreError + Send + Sync + 'static {
        let target = self.target.display();
        move |e| StoreError::Postgres(classify(&target, e))
    }
}

/// Wait for `fut` on `rt`. Inside another runtime's thread, `Runtime::block_on` panics, so
/// the wait moves to a scoped thread that borrows everything it needs.
fn block_on<F>(rt: &tokio::runtime::Runtime, fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return rt.block_on(fut);
    }
    std::thread::scope(|s| match s.spawn(|| rt.block_on(fut)).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Sort a driver error into the operator-facing kinds.
pub(crate) fn classify(target: &str, e: tokio_postgres::Error) -> PgError {
    use tokio_postgres::error::SqlState;
    let target = target.to_string();
    if let Some(db) = e.as_db_error() {
        let detail = crate::sanitize::clean(&format!("{} ({})", db.message(), db.code().code()));
        let code = db.code();
        return if *code == SqlState::INVALID_CATALOG_NAME {
            // `display` ends with the database the url names.
            let database = target.rsplit_once('/').map_or("?", |(_, d)| d).to_string();
            PgError::NoDatabase {
                target,
                database,
                detail,
            }
        } else if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            PgError::AuthFailed { target, detail }
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            PgError::NoPrivilege { target, detail }
        } else if code.code().starts_with("57P") || code.code().starts_with("08") {
            // 57P01 admin shutdown (pg_terminate_backend), 08xxx connection exceptions.
            PgError::ConnectionLost { target, detail }
        } else {
            PgError::Db { target, detail }
        };
    }
    let detail = crate::sanitize::clean(&error_chain(&e));
    if e.is_closed() || detail.contains("connection closed") {
        PgError::ConnectionLost { target, detail }
    } else {
        PgError::Db { target, detail }
    }
}

/// The error and its sources on one line (the driver's own text is terse: "db error").
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
