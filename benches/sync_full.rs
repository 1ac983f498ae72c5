//! Full sync of 200 000 Account records with ≥ 40 fields from a sandbox org on loopback,
//! next to a raw fetch of the same pages that discards them, in the same run.
//!
//! The sync runs as a child `syncdeck sync` process so its peak RSS is its own (the sandbox
//! lives in this process); RSS is sampled from /proc while it runs. Also measured: API
//! calls of the full run against pages + describes, and the cost of an incremental run with
//! no changes.
//!
//! Run: `cargo bench --bench sync_full` (release profile).

mod support;

use support::{api_calls, bench_source};

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use syncdeck::config::{Config, Credentials, ObjectSelection, Paths};
use syncdeck::model::AuthFlow;
use syncdeck::salesforce::soql::Select;
use syncdeck::salesforce::{Described, HttpClient, NoHooks, QueryOptions, Timeouts};
use syncdeck::sandbox::{Sandbox, SandboxConfig};
use syncdeck::sync::client_for;

/// Records of the synced object; `BENCH_RECORDS=400000` shows whether memory stays flat.
const DEFAULT_RECORDS: u64 = 200_000;
/// Selected fields (Id and SystemModstamp come on top); `BENCH_FIELDS=77` selects every
/// scalar Account field of the sandbox.
const DEFAULT_FIELDS: usize = 42;
const MIN_FIELDS: usize = 40;

fn rss_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// User + system CPU seconds of a process so far, from /proc.
fn cpu_secs(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, the 12th and 13th after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

struct ChildRun {
    secs: f64,
    /// CPU seconds of the sync process (last sample before it exited).
    cpu: f64,
    /// CPU seconds of this process (the sandbox) during the run.
    sandbox_cpu: f64,
    summary: String,
    peak_kib: u64,
    /// VmRSS samples over the run, for flatness.
    rss_kib: Vec<u64>,
}

fn run_sync(paths: &Paths, full: bool) -> ChildRun {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncdeck"));
    cmd.arg("--config")
        .arg(&paths.config_file)
        .arg("--data-dir")
        .arg(&paths.data_dir)
        .args(["sync", "bench"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if full {
        cmd.arg("--full");
    }
    let started = Instant::now();
    let sandbox_before = cpu_secs("self");
    let mut child = cmd.spawn().expect("spawn syncdeck sync");
    let pid = child.id();
    let (mut peak, mut samples, mut cpu) = (0, Vec::new(), 0.0);
    while child.try_wait().expect("wait").is_none() {
        cpu = f64::max(cpu, cpu_secs(&pid.to_string()));
        if let Some(hwm) = rss_kib(pid, "VmHWM:") {
            peak = peak.max(hwm);
        }
        if let Some(rss) = rss_kib(pid, "VmRSS:") {
            samples.push(rss);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let sandbox_cpu = cpu_secs("self") - sandbox_before;
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "sync failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    ChildRun {
        secs: started.elapsed().as_secs_f64(),
        cpu,
        sandbox_cpu,
        summary: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        peak_kib: peak,
        rss_kib: samples,
    }
}

fn main() {
    let records: u64 = std::env::var("BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RECORDS);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let paths = Paths::resolve(
        Some(root.path().join("config.toml")),
        Some(root.path().join("data")),
    )
    .unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig {
            records: [("Account".to_string(), records)].into_iter().collect(),
            auto_approve: Some(Duration::ZERO),
            device_poll_interval: Duration::ZERO,
            api_max: 10_000_000,
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let http = HttpClient::new(Timeouts::default()).unwrap();
        let mut source = bench_source(&sandbox);
        syncdeck::sync::authorize(&http, &paths, &source, AuthFlow::Device, |_| {})
            .await
            .unwrap();
        let creds = Credentials::load(&paths, "bench").unwrap().unwrap();
        let client = client_for(&http, &source, &creds, Arc::new(NoHooks));
        let Described::Fresh { describe, .. } = client.describe("Account", None).await.unwrap() else {
            unreachable!()
        };
        // Every scalar field a sync would pick (compound parents are read as components).
        let fields: Vec<String> = describe
            .fields
            .iter()
            .filter(|f| !f.is_compound() && !matches!(f.name.as_str(), "Id" | "SystemModstamp" | "IsDeleted"))
            .map(|f| f.name.clone())
            .take(
                std::env::var("BENCH_FIELDS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(DEFAULT_FIELDS),
            )
            .collect();
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
            move || run_sync(&paths, false)
        })
        .await
        .unwrap();
        let incremental = tokio::task::spawn_blocking({
            let paths = paths.clone();
            move || run_sync(&paths, false)
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
        let expected = raw_pages + 2;
        println!(
            "  API calls : {calls} ({} {raw_pages} query pages + 1 describe + 1 describeGlobal; authorization checked the permissions)",
            if calls == expected { "=" } else { "!= expected" }
        );
        println!("  incremental run with no changes: {} API calls", api_calls(&incremental.summary));
        println!("  child summary: {}", full.summary);
        sandbox.shutdown().await;
    });
}
