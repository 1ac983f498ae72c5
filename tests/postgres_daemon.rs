//! The running engine (the daemon's and the TUI's) on a PostgreSQL store: the live
//! snapshot, run history, Review's record counts and the scheduled verification work as on
//! SQLite; a store that cannot be reached or has no database shows as an Error that names
//! it, without holding up the engine, and the worker connects once the server can serve it.
//! Needs a PostgreSQL server (`SYNCDECK_TEST_POSTGRES_URL`); without one each test is left
//! out with a note.

mod common;

use std::time::Duration;

use chrono::SubsecRound;

use common::postgres::{into_postgres, stored};
use common::*;
use syncdeck::config::{StoreConfig, VerifySchedule};
use syncdeck::model::{Command, ErrorKind, RunOutcome, Status};
use syncdeck::store::postgres::testing::TestSchema;
use syncdeck::sync::{Clock, ManualClock};

const FIELDS: &[&str] = &["Name", "Industry", "AnnualRevenue", "BillingAddress"];
const RECORDS: u64 = 2_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_on_postgres_shows_status_history_counts_and_verifies_exact() {
    let Some(ts) = TestSchema::new("the_engine_on_postgres_shows_status") else {
        return;
    };
    let org = org(sandbox_config(&[("Account", RECORDS)])).await;
    let mut source = into_postgres(manual(org.source("acme", &[("Account", FIELDS)])), &ts);
    source.verify = VerifySchedule::Daily;
    org.connect(&source).await;
    let clock = ManualClock::new(chrono::Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());

    let snap = sync_now(&mut engine, &clock, "acme").await;
    let run = snap.last_run.clone().expect("a run");
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(run.upserted, RECORDS);
    assert_eq!(snap.records, RECORDS);
    assert_eq!(snap.status, Status::Active, "{:?}", snap.status);
    let newest = snap.history.first().expect("the run in the history");
    // PostgreSQL keeps microseconds: the history's times are the run's, to the microsecond.
    let mut in_memory = run.clone();
    in_memory.started = in_memory.started.trunc_subsecs(6);
    in_memory.finished = in_memory.finished.trunc_subsecs(6);
    assert_eq!(newest.summary, in_memory);
    assert_eq!(
        newest
            .objects
            .iter()
            .map(|o| (o.object.as_str(), o.upserted))
            .collect::<Vec<_>>(),
        [("Account", RECORDS)]
    );
    assert!(
        snap.events
            .iter()
            .any(|e| e.message.starts_with("store connected: PostgreSQL")),
        "{:?}",
        snap.events
    );

    // Review's record counts come with the schema.
    engine
        .commands
        .send(Command::LoadSchema {
            source: "acme".into(),
            force: false,
        })
        .unwrap();
    let snap = wait_for(&mut engine.snapshots, "the schema with counts", |s| {
        s.source("acme")
            .and_then(|s| s.schema.as_ref())
            .and_then(|s| s.objects.iter().find(|o| o.name == "Account"))
            .is_some_and(|o| o.record_count.is_some())
    })
    .await;
    let account = src(&snap, "acme")
        .schema
        .as_ref()
        .and_then(|s| s.objects.iter().find(|o| o.name == "Account"))
        .and_then(|o| o.record_count);
    assert_eq!(account, Some(RECORDS));

    // A day later the run verifies the store against the org: exact.
    clock.advance(chrono::Duration::hours(25));
    org.sandbox.mutate(40);
    let snap = sync_now(&mut engine, &clock, "acme").await;
    let verify = snap.verify.clone().expect("verified after a day");
    assert_eq!(
        (verify.outcome.as_str(), verify.rows_differing),
        ("exact", 0),
        "{verify:?}"
    );
    assert_eq!(snap.history.len(), 2);
    let truth = org.truth(&source, "Account", FIELDS).await;
    assert_eq!(snap.records, truth.len() as u64);
    assert!(stored(&org, &source, FIELDS) == truth);
    engine.shutdown().await;
}

/// `source`'s store on the test server's host, in database `database`, or at `port`.
fn store_at(url: &str, database: &str, port: Option<u16>) -> StoreConfig {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path(&format!("/{database}"));
    if let Some(port) = port {
        parsed.set_port(Some(port)).unwrap();
    }
    StoreConfig {
        url: parsed.to_string(),
        password_env: None,
        schema: None,
    }
}

async fn admin(url: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(conn);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = tokio::time::timeout(Duration::from_secs(5), driver).await;
}

/// The engine starts with one source whose server refuses connections and one whose
/// database does not exist yet: both show Error with what is wrong, and when the next
/// attempt is, and a Sync Now waits. Once the database exists, the next attempt connects,
/// the error clears and the waiting Sync Now runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_not_there_yet_shows_an_error_and_connects_when_it_appears() {
    let Some(url) = syncdeck::store::postgres::testing::url("a_store_not_there_yet") else {
        return;
    };
    let database = format!("syncdeck_t_late_{}", std::process::id());
    admin(&url, &format!("DROP DATABASE IF EXISTS {database}")).await;
    let org = org(sandbox_config(&[("Account", 1_200)])).await;
    let mut late = manual(org.source("late", &[("Account", FIELDS)]));
    late.store = Some(store_at(&url, &database, None));
    let mut down = manual(org.source("down", &[("Account", FIELDS)]));
    // Port 1 on loopback: nothing listens, the connect is refused.
    down.store = Some(store_at(&url, "test", Some(1)));
    org.connect(&late).await;
    org.connect(&down).await;
    let clock = ManualClock::new(chrono::Utc::now());
    let mut engine = start(&org, vec![late.clone(), down.clone()], clock.clone());

    let error_of = |s: &syncdeck::model::Snapshot, id: &str| match s.source(id).map(|s| &s.status) {
        Some(Status::Error(e)) => Some(e.clone()),
        _ => None,
    };
    let snap = wait_for(&mut engine.snapshots, "both stores to fail", |s| {
        error_of(s, "late").is_some() && error_of(s, "down").is_some()
    })
    .await;
    let missing = error_of(&snap, "late").unwrap();
    assert_eq!(missing.kind, ErrorKind::Config, "{missing:?}");
    assert!(
        missing
            .message
            .contains(&format!("has no database \"{database}\""))
            && missing.message.contains("CREATE DATABASE")
            && missing.message.contains("connecting again"),
        "{}",
        missing.message
    );
    assert!(missing.retry_at.is_some_and(|at| at > clock.now()));
    let refused = error_of(&snap, "down").unwrap();
    assert_eq!(refused.kind, ErrorKind::Network, "{refused:?}");
    assert!(
        refused.message.contains("cannot reach PostgreSQL at")
            && refused.message.contains(":1/test"),
        "{}",
        refused.message
    );

    // Asked before the store is there: the run waits for it.
    engine
        .commands
        .send(Command::SyncNow {
            source: "late".into(),
            full: false,
        })
        .unwrap();
    wait_for(&mut engine.snapshots, "the Sync Now to be queued", |s| {
        s.source("late").is_some_and(|s| {
            s.events
                .iter()
                .any(|e| e.message.contains("starts once the store is connected"))
        })
    })
    .await;

    admin(&url, &format!("CREATE DATABASE {database}")).await;
    clock.advance(chrono::Duration::minutes(1));
    let snap = wait_for(&mut engine.snapshots, "the late store's run", |s| {
        s.source("late")
            .is_some_and(|s| s.running.is_none() && s.last_run.is_some())
    })
    .await;
    let late_now = src(&snap, "late");
    let run = late_now.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert_eq!(late_now.records, 1_200);
    assert!(
        !matches!(late_now.status, Status::Error(_)),
        "{:?}",
        late_now.status
    );
    assert!(
        matches!(src(&snap, "down").status, Status::Error(_)),
        "the refused store still fails"
    );
    engine.shutdown().await;
    admin(
        &url,
        &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
    )
    .await;
}

/// In a fleet the lease usually comes before the PostgreSQL store has connected (it
/// connects in the worker's background). The lease's fence must still reach the store when
/// it connects: here another daemon takes the lease between the two, and the first run
/// after the store connects is refused with nothing committed, instead of writing pages
/// under a lease this daemon no longer holds. The store waits on a role that does not
/// exist yet, in the fleet's own database (a fleet requires that).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_taken_before_the_store_connects_still_fences_its_pages() {
    let (Some(fleet), Some(rows)) = (
        TestSchema::new("a_lease_before_the_store_fleet"),
        TestSchema::new("a_lease_before_the_store_rows"),
    ) else {
        return;
    };
    let role = format!("syncdeck_t_late_role_{}", std::process::id());
    admin(&rows.url, &format!("DROP ROLE IF EXISTS {role}")).await;
    let org = org(sandbox_config(&[("Account", 1_200)])).await;
    let mut source = into_postgres(manual(org.source("late", &[("Account", FIELDS)])), &rows);
    if let Some(store) = source.store.as_mut() {
        let mut url = url::Url::parse(&store.url).unwrap();
        url.set_username(&role).unwrap();
        store.url = url.to_string();
    }
    org.connect(&source).await;
    let clock = ManualClock::new(chrono::Utc::now());
    let config = syncdeck::config::Config {
        sources: vec![source.clone()],
        fleet: Some(syncdeck::config::FleetConfig {
            url: fleet.url.clone(),
            password_env: None,
            schema: Some(fleet.schema().to_string()),
            host: Some("host-a".into()),
            // Leases are taken on the second tick, 20 s in; the renewal that would notice
            // the loss comes 20 s after that, long after the run below, so only the fence
            // on the store can stop its pages.
            lease_seconds: 60,
        }),
        ..syncdeck::config::Config::default()
    };
    let mut engine = syncdeck::sync::Engine::start(
        org.paths.clone(),
        std::sync::Arc::new(config),
        clock.clone(),
        syncdeck::notify::Notifier::disabled(),
    )
    .unwrap();
    wait_for(
        &mut engine.snapshots,
        "the lease, with the store not connected",
        |s| {
            s.source("late").is_some_and(|s| {
                s.fleet.as_ref().is_some_and(|f| f.here)
                    && matches!(&s.status, Status::Error(e) if e.message.contains(&role))
            })
        },
    )
    .await;

    // Another daemon takes the lease (a newer token) before the store connects.
    admin(
        &fleet.url,
        &format!(
            "UPDATE {}.leases SET owner_daemon = 'thief', owner_host = 'host-b', token = token + 1
             WHERE source_id = 'late'",
            fleet.schema()
        ),
    )
    .await;
    admin(&rows.url, &format!("CREATE ROLE {role} LOGIN SUPERUSER")).await;
    clock.advance(chrono::Duration::minutes(1));
    wait_for(&mut engine.snapshots, "the store to connect", |s| {
        s.source("late").is_some_and(|s| {
            s.events
                .iter()
                .any(|e| e.message.starts_with("store connected"))
        })
    })
    .await;

    let snap = sync_now(&mut engine, &clock, "late").await;
    let run = snap.last_run.clone().expect("a run");
    assert_eq!(run.outcome, RunOutcome::Failed, "{run:?}");
    let said = format!("{:?} {:?}", run, snap.status);
    assert!(said.contains("lease of late lost to host-b"), "{said}");
    assert_eq!(snap.records, 0, "nothing committed under a lost lease");
    engine.shutdown().await;
    let admin_url = rows.url.clone();
    drop((fleet, rows));
    admin(
        &admin_url,
        &format!("DROP OWNED BY {role}; DROP ROLE {role}"),
    )
    .await;
}
