//! A 100 000-record first sync with 300 ms of latency per call (the composite bench's
//! fault), read sequentially (`query_cursors = 1`) and in parallel slices (the default
//! bound): wall time, API calls, and the most query cursors open at once.
//!
//! Run: `cargo bench --bench sync_slices` (`BENCH_RECORDS=N` for another size,
//! `BENCH_CURSORS=N` for another bound than the default, `BENCH_TIMELINE=1` to list the
//! sliced run's calls as they were answered).

mod support;

use support::child::{api_calls, run_sync};
use support::org::{account_sandbox, records, source};

use syncdeck::config::{Config, ObjectSelection, Paths, SourceConfig};
use syncdeck::model::AuthFlow;
use syncdeck::salesforce::{HttpClient, Timeouts};
use syncdeck::sandbox::{FaultSpec, SandboxHandle};

const FIELDS: &[&str] = &[
    "Name",
    "Industry",
    "AnnualRevenue",
    "NumberOfEmployees",
    "Phone",
    "BillingAddress",
    "IsPartner",
    "LastModifiedDate",
];
const LATENCY_MS: u64 = 300;

async fn prepare(sandbox: &SandboxHandle, paths: &Paths, query_cursors: u8) -> SourceConfig {
    let mut source = source("bench", sandbox);
    source.query_cursors = query_cursors;
    let fields = FIELDS.iter().map(|f| f.to_string()).collect();
    source
        .objects
        .insert("Account".into(), ObjectSelection { fields });
    let http = HttpClient::new(Timeouts::default()).unwrap();
    syncdeck::sync::authorize(&http, paths, &source, AuthFlow::Device, |_| {})
        .await
        .unwrap();
    let config = Config {
        sources: vec![source.clone()],
        ..Config::default()
    };
    std::fs::write(&paths.config_file, toml::to_string(&config).unwrap()).unwrap();
    source
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn main() {
    let runtime = support::runtime();
    let (_seq_root, sequential) = support::scratch_paths();
    let (_sliced_root, sliced) = support::scratch_paths();
    let n = records(100_000);
    runtime.block_on(async {
        let sandbox = account_sandbox(n).await;
        prepare(&sandbox, &sequential, 1).await;
        let bound = std::env::var("BENCH_CURSORS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(syncdeck::config::defaults::QUERY_CURSORS);
        let default = prepare(&sandbox, &sliced, bound).await;
        sandbox.inject(&FaultSpec {
            latency_ms: Some(LATENCY_MS),
            ..FaultSpec::default()
        });
        let timed = |paths: &Paths| {
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || run_sync(&paths, "bench", false))
        };
        let one = timed(&sequential).await.unwrap();
        let peak_before = sandbox.counters().open_query_cursors_peak;
        let sliced_start = epoch_ms();
        let many = timed(&sliced).await.unwrap();
        let peak = sandbox.counters().open_query_cursors_peak;
        sandbox.inject(&FaultSpec {
            latency_ms: Some(0),
            ..FaultSpec::default()
        });
        println!(
            "sync_slices: first sync of {n} Accounts ({} fields), {LATENCY_MS} ms per call, sandbox on loopback; process start included",
            FIELDS.len()
        );
        println!(
            "  sequential (query_cursors = 1) : {:.2}s, {} API calls, {peak_before} cursor(s) open at most",
            one.secs,
            api_calls(&one.summary)
        );
        println!(
            "  sliced (query_cursors = {})     : {:.2}s, {} API calls, {peak} cursor(s) open at most",
            default.query_cursors,
            many.secs,
            api_calls(&many.summary)
        );
        println!("  summaries: sequential: {} | sliced: {}", one.summary, many.summary);
        if std::env::var_os("BENCH_TIMELINE").is_some() {
            // Each call as the sandbox answered it, from the sliced child's start: where
            // the wall time goes (the latency is spent before the answer).
            println!("  sliced timeline (ms after start, answered):");
            for call in sandbox.calls().iter().filter(|c| c.at_ms >= sliced_start) {
                println!(
                    "    {:>6} {} {} {}",
                    call.at_ms - sliced_start,
                    call.method,
                    call.status,
                    call.path
                );
            }
        }
        sandbox.shutdown().await;
    });
}
