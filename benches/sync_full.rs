//! Full sync of 200 000 Account records with ≥ 40 fields from a sandbox org on loopback,
//! next to a raw fetch of the same pages that discards them, in the same run.
//!
//! The sync runs as a child `syncdeck sync` process so its peak RSS is its own (the sandbox
//! lives in this process); RSS is sampled from /proc while it runs. Also measured: API
//! calls of the full run against pages + describes, and the cost of an incremental run with
//! no changes.
//!
//! Run: `cargo bench --bench sync_full` (release profile).

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use syncdeck::config::{Config, Credentials, ObjectSelection};
use syncdeck::model::AuthFlow;
use syncdeck::salesforce::soql::Select;
use syncdeck::salesforce::{Described, HttpClient, NoHooks, QueryOptions, Timeouts};
use syncdeck::sync::client_for;

/// Records of the synced object; `BENCH_RECORDS=400000` shows whether memory stays flat.
const DEFAULT_RECORDS: u64 = 200_000;
/// Selected fields (Id and SystemModstamp come on top); `BENCH_FIELDS=77` selects every
/// scalar Account field of the sandbox.
const DEFAULT_FIELDS: usize = 42;
const MIN_FIELDS: usize = 40;

mod support;
use support::{child, org};

use child::{api_calls, run_sync};

fn main() {
    let records = org::records(DEFAULT_RECORDS);
    let runtime = support::runtime();
    let (_root, paths) = support::scratch_paths();
    runtime.block_on(async {
        let sandbox = org::account_sandbox(records).await;
        let http = HttpClient::new(Timeouts::default()).unwrap();
        let mut source = org::source("bench", &sandbox);
        syncdeck::sync::authorize(&http, &paths, &source, AuthFlow::Device, |_| {})
            .await
            .unwrap();
        let creds = Credentials::load(&paths, "bench").unwrap().unwrap();
        let client = client_for(&http, &source, &creds, Arc::new(NoHooks));
        let Described::Fresh { describe, .. } = client.describe("Account", None).await.unwrap() else {
            unreachable!()
        };
        let fields = org::scalar_fields(&describe, DEFAULT_FIELDS);
        assert!(fields.len() >= MIN_FIELDS, "Account has only {} fields", fields.len());
        source
            .objects
            .insert("Account".into(), ObjectSelection { fields: fields.clone() });
        std::fs::write(
            &paths.config_file,
            toml::to_string(&Config { sources: vec![source.clone()], ..Config::default() }).unwrap(),
        )
        .unwrap();

        // Raw fetch: the same query and pages, parsed and discarded.
        let select = Select::incremental("Account", &fields, None);
        let started = Instant::now();
        let mut pages = client.select_pages(
            &select,
            QueryOptions { include_deleted: true, batch_size: Some(2000) },
        );
        let (mut raw_records, mut raw_pages) = (0u64, 0u64);
        while let Some(page) = pages.next().await {
            raw_records += page.unwrap().records.len() as u64;
            raw_pages += 1;
        }
        let raw_secs = started.elapsed().as_secs_f64();
        assert_eq!(raw_records, records);
        let raw_rate = raw_records as f64 / raw_secs;

        let full = tokio::task::spawn_blocking({
            let paths = paths.clone();
            move || run_sync(&paths, "bench", false)
        })
        .await
        .unwrap();
        let incremental = tokio::task::spawn_blocking({
            let paths = paths.clone();
            move || run_sync(&paths, "bench", false)
        })
        .await
        .unwrap();

        let sync_rate = records as f64 / full.secs;
        let calls = api_calls(&full.summary);
        let quarter = |q: usize| full.rss_kib.get(full.rss_kib.len() * q / 4).copied().unwrap_or(0) / 1024;
        println!("sync_full: {records} Account records x {} fields from the sandbox on loopback", fields.len() + 2);
        println!("  raw fetch : {raw_rate:>9.0} records/s ({raw_pages} pages in {raw_secs:.2}s, parsed and discarded)");
        println!(
            "  full sync : {sync_rate:>9.0} records/s ({:.2}s wall, process start included) = {:.0}% of raw",
            full.secs,
            sync_rate * 100.0 / raw_rate
        );
        println!(
            "  CPU       : sync process {:.2}s, sandbox {:.2}s (2 cores: {:.2}s of CPU per wall second)",
            full.cpu,
            full.sandbox_cpu,
            (full.cpu + full.sandbox_cpu) / full.secs
        );
        println!(
            "  peak RSS  : {} MiB (RSS at 25/50/75% of the run: {} / {} / {} MiB)",
            full.peak_kib / 1024,
            quarter(1),
            quarter(2),
            quarter(3)
        );
        // The plan Review prices with: the first page, then parallel slices and their counts.
        let read = syncdeck::salesforce::read_plan::RestRead::of(
            records,
            usize::from(syncdeck::config::defaults::QUERY_CURSORS),
        );
        println!(
            "  API calls : {calls} (Review's estimate {}: {} query pages in {} slices + {} COUNT calls + 1 describe + 1 describeGlobal; authorization checked the permissions)",
            read.calls(1) + 2,
            read.line_pages + read.slice_pages,
            read.slices,
            read.count_calls,
        );
        println!("  incremental run with no changes: {} API calls", api_calls(&incremental.summary));
        println!("  child summary: {}", full.summary);
        sandbox.shutdown().await;
    });
}
