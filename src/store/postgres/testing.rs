//! Tests against a real PostgreSQL server: the server comes from
//! `SYNCDECK_TEST_POSTGRES_URL`; without it those tests are left out and say how to include
//! them (`.ci/run` sets it and `SYNCDECK_REQUIRE_POSTGRES=1`, which makes a missing server
//! a failure). Each test works in its own schema, dropped before and after.

use super::PgTarget;
use super::check::drop_schema;

/// The variable naming the test server, e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub const URL_ENV: &str = "SYNCDECK_TEST_POSTGRES_URL";
/// `1`: a missing test server fails instead of skipping.
pub const REQUIRE_ENV: &str = "SYNCDECK_REQUIRE_POSTGRES";

/// The test server's url, or `None` after printing how to include the tests.
pub fn url(test: &str) -> Option<String> {
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "{REQUIRE_ENV}=1 but {URL_ENV} is not set"
            );
            eprintln!(
                "note: {test} left out: it needs a PostgreSQL server; set {URL_ENV}=postgres://postgres@127.0.0.1:5432/test to include it"
            );
            None
        }
    }
}

/// End every store session working on `schema` (`pg_terminate_backend`, as an
/// administrator or a failover would) and wait until the server has closed them all.
pub async fn terminate_sessions(url: &str, schema: &str) {
    let (client, conn) = match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok(c) => c,
        Err(e) => panic!("cannot connect to {URL_ENV}: {e}"),
    };
    tokio::spawn(conn);
    let name = super::application_name(schema);
    let sessions = "FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()";
    let ended = client
        .query_one(
            &format!("SELECT count(pg_terminate_backend(pid)) {sessions}"),
            &[&name],
        )
        .await;
    assert!(
        ended.is_ok_and(|r| r.get::<_, i64>(0) > 0),
        "no session of {schema} to end"
    );
    // Termination is a signal: the sessions go away shortly after, not at once.
    for _ in 0..1_000 {
        let left = client
            .query_one(&format!("SELECT count(*) {sessions}"), &[&name])
            .await;
        if left.is_ok_and(|r| r.get::<_, i64>(0) == 0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the sessions of {schema} did not end");
}

/// A schema of its own for one test; dropped when this goes out of scope.
pub struct TestSchema {
    pub url: String,
    pub target: PgTarget,
}

impl TestSchema {
    /// `None` (with a printed note) when no test server is configured.
    pub fn new(test: &str) -> Option<TestSchema> {
        let url = url(test)?;
        let name: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let schema = format!("t_{name}_{}", std::process::id());
        let target = match PgTarget::parse(&url, None, &schema) {
            Ok(t) => t,
            Err(e) => panic!("{URL_ENV} is not usable: {e}"),
        };
        if let Err(e) = drop_schema(&target) {
            panic!("test PostgreSQL server at {URL_ENV} is not usable: {e}");
        }
        Some(TestSchema { url, target })
    }

    pub fn schema(&self) -> &str {
        self.target.schema()
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Err(e) = drop_schema(&self.target) {
            eprintln!("test schema {} not dropped: {e}", self.target.schema());
        }
    }
}
