//! `syncdeck verify` of one large object against a sandbox org on loopback: API calls,
//! wall time and peak RSS of the verify process, at several sizes to show memory stays
//! flat in the number of records (the Id comparison streams both sides).
//!
//! Per size: a sandbox with N Accounts, a full `syncdeck sync` (Name only, to keep it
//! short), then `syncdeck verify bench --json` (exact), then N/1000 hard deletes and
//! `verify --repair`. Both commands run as child processes so their RSS is their own;
//! RSS is sampled from /proc.
//!
//! Run: `cargo bench --bench verify_full` (release). `BENCH_RECORDS=100000,1000000`
//! (the default) picks the sizes.

mod support;

use support::bench_source;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use syncdeck::config::{Config, ObjectSelection, Paths};
use syncdeck::model::AuthFlow;
use syncdeck::salesforce::{HttpClient, Timeouts};

fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Child {
    code: i32,
    secs: f64,
    peak_kib: u64,
    stdout: String,
}

fn run(paths: &Paths, args: &[&str]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncdeck"));
    cmd.arg("--config")
        .arg(&paths.config_file)
        .arg("--data-dir")
        .arg(&paths.data_dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn syncdeck");
    let pid = child.id();
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        if let Some(hwm) = peak_kib(pid) {
            peak = peak.max(hwm);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    Child {
        code: out.status.code().unwrap_or(-1),
        secs: started.elapsed().as_secs_f64(),
        peak_kib: peak,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

async fn measure(records: u64) {
    let (_root, paths) = support::scratch_paths();
    let sandbox = support::org::account_sandbox(records).await;
    let http = HttpClient::new(Timeouts::default()).unwrap();
    let mut source = bench_source(&sandbox);
    source.formula_policy = syncdeck::config::FormulaPolicy::Incremental;
    source.verify = syncdeck::config::VerifySchedule::Off;
    source.objects.insert(
        "Account".into(),
        ObjectSelection {
            fields: vec!["Name".into()],
        },
    );
    syncdeck::sync::authorize(&http, &paths, &source, AuthFlow::Device, |_| {})
        .await
        .unwrap();
    std::fs::write(
        &paths.config_file,
        toml::to_string(&Config {
            sources: vec![source],
            ..Config::default()
        })
        .unwrap(),
    )
    .unwrap();
    let blocking = |args: &'static [&'static str]| {
        let paths = paths.clone();
        tokio::task::spawn_blocking(move || run(&paths, args))
    };
    let sync = blocking(&["sync", "bench"]).await.unwrap();
    assert_eq!(sync.code, 0, "sync failed: {}", sync.stdout);

    let exact = blocking(&["verify", "bench", "--json"]).await.unwrap();
    let report: Value = serde_json::from_str(&exact.stdout).expect("verify --json");
    assert_eq!(exact.code, 0, "{report}");
    let deletes = (records / 1000).max(1);
    sandbox.hard_delete("Account", deletes);
    let repair = blocking(&["verify", "bench", "--repair", "--json"])
        .await
        .unwrap();
    let repaired: Value = serde_json::from_str(&repair.stdout).expect("verify --json");
    assert_eq!(repair.code, 0, "{repaired}");
    assert_eq!(repaired["objects"][0]["repaired_deleted"], deletes);

    println!("verify_full: {records} Account records in the store and the org (loopback sandbox)");
    println!(
        "  verify (exact)  : {:>6.2}s wall, peak RSS {:>3} MiB, {} API calls (1 COUNT() + {} Id pages)",
        exact.secs,
        exact.peak_kib / 1024,
        report["api_calls"],
        report["api_calls"].as_u64().unwrap_or(1).saturating_sub(1)
    );
    println!(
        "  verify --repair : {:>6.2}s wall, peak RSS {:>3} MiB, {} API calls ({deletes} hard deletes repaired, then verified again)",
        repair.secs,
        repair.peak_kib / 1024,
        repaired["api_calls"]
    );
    sandbox.shutdown().await;
}

fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_RECORDS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = support::runtime();
    for records in sizes {
        runtime.block_on(measure(records));
    }
}
