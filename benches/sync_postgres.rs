//! Full sync of 200 000 Account records with ≥ 40 fields from a sandbox org on loopback into
//! PostgreSQL, next to the same sync into SQLite, in the same run and from the same org;
//! then an incremental run with no changes into each.
//!
//! Each sync runs as a child `syncdeck sync` process (peak RSS its own). The PostgreSQL
//! server comes from `SYNCDECK_TEST_POSTGRES_URL` (e.g.
//! postgres://postgres@127.0.0.1:5432/test); the bench uses a schema of its own and drops it.
//!
//! Run: `SYNCDECK_TEST_POSTGRES_URL=... cargo bench --bench sync_postgres` (release profile).

use syncdeck::config::{Config, ObjectSelection, StoreConfig};
use syncdeck::model::AuthFlow;
use syncdeck::salesforce::{Described, HttpClient, NoHooks, Timeouts};
use syncdeck::store::postgres::testing::TestSchema;
use syncdeck::sync::client_for;

mod support;
use support::{child, org};

use child::{ChildRun, api_calls, run_sync};

const DEFAULT_RECORDS: u64 = 200_000;
const DEFAULT_FIELDS: usize = 42;
const MIN_FIELDS: usize = 40;

fn report(name: &str, records: u64, full: &ChildRun, incremental: &ChildRun) -> f64 {
    let rate = records as f64 / full.secs;
    println!(
        "  {name:<10} full sync {rate:>8.0} records/s ({:.2}s wall, CPU {:.2}s sync + {:.2}s sandbox), peak RSS {} MiB; incremental with no changes {:.2}s, {} API calls",
        full.secs,
        full.cpu,
        full.sandbox_cpu,
        full.peak_kib / 1024,
        incremental.secs,
        api_calls(&incremental.summary)
    );
    rate
}

fn main() {
    let Some(ts) = TestSchema::new("bench_sync_postgres") else {
        return;
    };
    let records = org::records(DEFAULT_RECORDS);
    let runtime = support::runtime();
    let (_root, paths) = support::scratch_paths();
    runtime.block_on(async {
        let sandbox = org::account_sandbox(records).await;
        let http = HttpClient::new(Timeouts::default()).unwrap();
        let mut lite = org::source("lite", &sandbox);
        let mut pg = org::source("pg", &sandbox);
        for s in [&lite, &pg] {
            syncdeck::sync::authorize(&http, &paths, s, AuthFlow::Device, |_| {})
                .await
                .unwrap();
        }
        let creds = syncdeck::config::Credentials::load(&paths, "lite")
            .unwrap()
            .unwrap();
        let client = client_for(&http, &lite, &creds, std::sync::Arc::new(NoHooks));
        let Described::Fresh { describe, .. } = client.describe("Account", None).await.unwrap()
        else {
            unreachable!()
        };
        let fields = org::scalar_fields(&describe, DEFAULT_FIELDS);
        assert!(
            fields.len() >= MIN_FIELDS,
            "Account has only {} fields",
            fields.len()
        );
        for s in [&mut lite, &mut pg] {
            s.objects.insert(
                "Account".into(),
                ObjectSelection {
                    fields: fields.clone(),
                },
            );
        }
        pg.store = Some(StoreConfig {
            url: ts.url.clone(),
            password_env: None,
            schema: Some(ts.schema().to_string()),
        });
        std::fs::write(
            &paths.config_file,
            toml::to_string(&Config {
                sources: vec![lite, pg],
                ..Config::default()
            })
            .unwrap(),
        )
        .unwrap();

        let run = |id: &'static str| {
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || run_sync(&paths, id, false))
        };
        let lite_full = run("lite").await.unwrap();
        let pg_full = run("pg").await.unwrap();
        let lite_incremental = run("lite").await.unwrap();
        let pg_incremental = run("pg").await.unwrap();

        println!(
            "sync_postgres: {records} Account records x {} fields from the sandbox on loopback",
            fields.len() + 2
        );
        let lite_rate = report("SQLite", records, &lite_full, &lite_incremental);
        let pg_rate = report("PostgreSQL", records, &pg_full, &pg_incremental);
        println!("  PostgreSQL / SQLite rate: {:.2}x", pg_rate / lite_rate);
        println!("  SQLite child summary: {}", lite_full.summary);
        println!("  PostgreSQL child summary: {}", pg_full.summary);
        sandbox.shutdown().await;
    });
}
