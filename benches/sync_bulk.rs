//! Initial sync of a large Account object through Bulk API 2.0 next to the same sync
//! through REST pages, against a sandbox answering every call after 300 ms (the latency
//! fault), the way a real org across the internet does. Each sync is a child
//! `syncdeck sync`, so its wall time, API calls and peak RSS are its own; the sandbox
//! processes Bulk jobs at its default pace (1 s queued, then 35 000 rows/s).
//!
//! Run: `cargo bench --bench sync_bulk` (`BENCH_RECORDS=1000000` for a million rows;
//! `BENCH_SKIP_REST=1` leaves out the REST sync, which pages 2 000 records per call).

use std::sync::Arc;

use syncdeck::config::{Config, ObjectSelection, SourceConfig};
use syncdeck::model::AuthFlow;
use syncdeck::salesforce::{Described, HttpClient, NoHooks, Timeouts};
use syncdeck::sandbox::FaultSpec;
use syncdeck::sync::client_for;

mod support;
use support::{child, org};

use child::{api_calls, run_sync};

const DEFAULT_RECORDS: u64 = 100_000;
const FIELDS: usize = 12;
const LATENCY_MS: u64 = 300;

fn main() {
    let records = org::records(DEFAULT_RECORDS);
    let skip_rest = std::env::var("BENCH_SKIP_REST").is_ok_and(|v| v == "1");
    let runtime = support::runtime();
    let (_root, paths) = support::scratch_paths();
    runtime.block_on(async {
        let sandbox = org::account_sandbox(records).await;
        let http = HttpClient::new(Timeouts::default()).unwrap();
        let mut sources: Vec<SourceConfig> = Vec::new();
        for (id, threshold) in [("rest", 0), ("bulk", 10_000)] {
            let mut source = org::source(id, &sandbox);
            source.bulk_threshold = threshold;
            syncdeck::sync::authorize(&http, &paths, &source, AuthFlow::Device, |_| {})
                .await
                .unwrap();
            sources.push(source);
        }
        let creds = syncdeck::config::Credentials::load(&paths, "bulk")
            .unwrap()
            .unwrap();
        let client = client_for(&http, &sources[1], &creds, Arc::new(NoHooks));
        let Described::Fresh { describe, .. } = client.describe("Account", None).await.unwrap()
        else {
            unreachable!()
        };
        let fields = org::scalar_fields(&describe, FIELDS);
        for source in &mut sources {
            source.objects.insert(
                "Account".into(),
                ObjectSelection {
                    fields: fields.clone(),
                },
            );
        }
        std::fs::write(
            &paths.config_file,
            toml::to_string(&Config {
                sources: sources.clone(),
                ..Config::default()
            })
            .unwrap(),
        )
        .unwrap();
        sandbox.inject(&FaultSpec {
            latency_ms: Some(LATENCY_MS),
            ..FaultSpec::default()
        });
        println!(
            "sync_bulk: initial sync of {records} Account records x {} fields, {LATENCY_MS} ms per call",
            fields.len() + 2
        );
        for id in ["rest", "bulk"] {
            if id == "rest" && skip_rest {
                continue;
            }
            let jobs_before = sandbox.counters().bulk_jobs;
            let run = tokio::task::spawn_blocking({
                let paths = paths.clone();
                move || run_sync(&paths, id, false)
            })
            .await
            .unwrap();
            println!(
                "  {id:<4}: {:>6.1} s wall ({:>7.0} records/s), {:>3} API calls, {} Bulk job(s), peak RSS {} MiB",
                run.secs,
                records as f64 / run.secs,
                api_calls(&run.summary),
                sandbox.counters().bulk_jobs - jobs_before,
                run.peak_kib / 1024
            );
            println!("        {}", run.summary);
        }
        sandbox.shutdown().await;
    });
}
