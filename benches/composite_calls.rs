//! API calls of a source with 20 selected objects against the sandbox, now that pages and
//! describes are grouped into `/composite` calls (billed once each): the first sync's
//! describes, an incremental run with no changes, one in which every object has a few
//! changes, and that run's wall time with 300 ms of latency per call.
//!
//! Run: `cargo bench --bench composite_calls` (release profile).

mod support;

use support::bench_source;
use support::child::api_calls;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use syncdeck::config::{Config, Credentials, ObjectSelection, Paths};
use syncdeck::model::AuthFlow;
use syncdeck::salesforce::read_plan::{describe_calls, grouped_calls};
use syncdeck::salesforce::{HttpClient, NoHooks, Timeouts};
use syncdeck::sandbox::{FaultSpec, Sandbox, SandboxConfig, SandboxHandle, SchemaSource};
use syncdeck::store::Store;
use syncdeck::sync::client_for;

use syncdeck::sync::{SharedStore, describes};

const OBJECTS: usize = 20;
const RECORDS: u64 = 300;
const FIELDS: &[&str] = &["Name", "Field001__c", "Field002__c", "Field003__c"];

fn object(i: usize) -> String {
    format!("Synthetic{:04}__c", i + 1)
}

/// `syncdeck sync bench` in a child process: wall seconds and its summary line.
fn run_sync(paths: &Paths) -> (f64, String) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_syncdeck"))
        .arg("--config")
        .arg(&paths.config_file)
        .arg("--data-dir")
        .arg(&paths.data_dir)
        .args(["sync", "bench"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run syncdeck sync");
    let summary = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success(), "sync failed: {summary}");
    (started.elapsed().as_secs_f64(), summary)
}

/// Counted calls the sandbox saw while `f` ran.
async fn counted<T>(sandbox: &SandboxHandle, f: impl Future<Output = T>) -> (u64, T) {
    let before = sandbox.usage().used;
    let value = f.await;
    (sandbox.usage().used - before, value)
}

fn main() {
    let runtime = support::runtime();
    let (_root, paths) = support::scratch_paths();
    runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig {
            schema: SchemaSource::Synthetic { objects: OBJECTS, fields_per_object: 12 },
            records: (0..OBJECTS).map(|i| (object(i), RECORDS)).collect(),
            auto_approve: Some(Duration::ZERO),
            device_poll_interval: Duration::ZERO,
            api_max: 10_000_000,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let http = HttpClient::new(Timeouts::default()).unwrap();
        let mut source = bench_source(&sandbox);
        let names: Vec<String> = (0..OBJECTS).map(object).collect();
        for name in &names {
            let fields = FIELDS.iter().map(|f| f.to_string()).collect();
            source.objects.insert(name.clone(), ObjectSelection { fields });
        }
        syncdeck::sync::authorize(&http, &paths, &source, AuthFlow::Device, |_| {})
            .await
            .unwrap();
        std::fs::write(
            &paths.config_file,
            toml::to_string(&Config { sources: vec![source.clone()], ..Config::default() }).unwrap(),
        )
        .unwrap();

        // The describes a first sync makes, through the function the run calls, on an
        // empty cache.
        let creds = Credentials::load(&paths, "bench").unwrap().unwrap();
        let client = client_for(&http, &source, &creds, Arc::new(NoHooks));
        client.negotiate_api_version(None).await.unwrap();
        let scratch = SharedStore::new(Store::open_in_memory().unwrap());
        let now = chrono::Utc::now();
        let (describe_cost, described) = counted(
            &sandbox,
            describes(&client, &scratch, &names, now, false),
        )
        .await;
        assert!(described.unwrap().iter().all(|(_, d)| d.is_ok()));
        // A day later every copy is revalidated with If-Modified-Since, just as cheaply.
        let later = now + chrono::Duration::days(2);
        let (revalidate_cost, revalidated) = counted(
            &sandbox,
            describes(&client, &scratch, &names, later, false),
        )
        .await;
        assert!(revalidated.unwrap().iter().all(|(_, d)| d.is_ok()));

        let sync = |paths: &Paths| {
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || run_sync(&paths))
        };
        let (first_secs, first) = sync(&paths).await.unwrap();
        let (_, idle) = sync(&paths).await.unwrap();
        let changed = sandbox.mutate(200);
        let (busy_secs, busy) = sync(&paths).await.unwrap();
        sandbox.inject(&FaultSpec { latency_ms: Some(300), ..FaultSpec::default() });
        let changed_slow = sandbox.mutate(200);
        let (slow_secs, slow) = sync(&paths).await.unwrap();
        sandbox.inject(&FaultSpec { latency_ms: Some(0), ..FaultSpec::default() });

        let objects = OBJECTS as u64;
        println!("composite_calls: {OBJECTS} objects x {RECORDS} records, {} fields each, sandbox on loopback", FIELDS.len());
        println!(
            "  describes of the first sync : {describe_cost} call(s) (formula {}: 25 per composite call; composite/batch billed {objects})",
            describe_calls(objects)
        );
        println!("  revalidation a day later    : {revalidate_cost} call(s) (If-Modified-Since, 304 for each)");
        println!(
            "  first sync                  : {} calls in {first_secs:.2}s (1 describeGlobal + describes + {} page calls)",
            api_calls(&first),
            grouped_calls(&[1; OBJECTS])
        );
        println!(
            "  incremental, no changes     : {} calls (formula: ceil({OBJECTS}/5) = {})",
            api_calls(&idle),
            grouped_calls(&[1; OBJECTS])
        );
        println!(
            "  incremental, {} changes     : {} calls in {busy_secs:.2}s",
            changed.updated + changed.deleted,
            api_calls(&busy)
        );
        println!(
            "  same at 300 ms per call     : {} calls in {slow_secs:.2}s ({} changes; process start included)",
            api_calls(&slow),
            changed_slow.updated + changed_slow.deleted
        );
        println!("  summaries: first: {first} | idle: {idle} | busy: {busy} | slow: {slow}");
        sandbox.shutdown().await;
    });
}
