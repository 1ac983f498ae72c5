//! Crash safety on a PostgreSQL store: `syncdeck sync` SIGKILLed at random points of a
//! 100 000-record sync (the SQLite test's machinery), restarted, and in the end the store
//! equals the org row by row. Needs a PostgreSQL server (`SYNCDECK_TEST_POSTGRES_URL`).

mod common;

use common::crash::{FIELDS, KILLS, finish, kill_repeatedly};
use common::postgres::{into_postgres, stored};
use common::*;
use syncdeck::sandbox::FaultSpec;
use syncdeck::store::postgres::testing::TestSchema;

const RECORDS: u64 = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_syncs_into_postgres_resume_and_end_equal_to_the_org() {
    let Some(ts) = TestSchema::new("killed_syncs_into_postgres") else {
        return;
    };
    let org = org(sandbox_config(&[("Account", RECORDS)])).await;
    let source = into_postgres(manual(org.source("acme", &[("Account", FIELDS)])), &ts);
    org.write_config(&config_of(vec![source.clone()]));
    org.connect(&source).await;
    // Slow pages a little so kills land inside runs on a fast machine too.
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(15),
        ..FaultSpec::default()
    });
    let delays = kill_repeatedly(&org).await;
    assert!(delays.len() >= KILLS);
    finish(&org).await;
    org.sandbox.inject(&FaultSpec {
        latency_ms: Some(0),
        ..FaultSpec::default()
    });
    let rows = stored(&org, &source, FIELDS);
    assert_eq!(rows.len() as u64, RECORDS, "kills at {delays:?} ms");
    assert!(
        rows == org.truth(&source, "Account", FIELDS).await,
        "store differs from the org after kills at {delays:?} ms"
    );
}
