//! jsforce's Bulk 2.0 query (`conn.bulk2.query`), a client nobody here wrote, unchanged and
//! with its defaults, against the sandbox org on 127.0.0.1: every row and value it reads
//! must equal what the REST API returns for the same SOQL at the same moment.
//!
//! jsforce is not vendored: the test looks for its `node_modules` in the folder
//! `SYNCDECK_NODE_MODULES` names, else in `target/node-clients/node_modules` (where `.ci/run`
//! installs it with `npm install --prefix target/node-clients jsforce@<JSFORCE_VERSION>`).
//! Without node or jsforce the test prints a note and passes, unless
//! `SYNCDECK_REQUIRE_NODE_CLIENTS` is set (CI sets it).

mod sandbox_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sandbox_support::Org;
use sandbox_support::bulk_form::rest_rows;
use serde_json::{Value, json};
use syncdeck::sandbox::{BulkModel, BulkSpec, SandboxConfig};

/// The version `.ci/run` installs, the one §6a of the Salesforce notes describes; later
/// 3.10 releases need Node 22.
const JSFORCE_VERSION: &str = "3.10.16";
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/sandbox_support/jsforce_bulk2.js"
);
/// More rows than one REST page (2,000) and than the 10,000 of a Bulk 1.0 batch: without
/// `maxRecords` the sandbox must still answer them in one set, the only one jsforce reads.
const LARGE: u64 = 12_000;
const ACCOUNT_FIELDS: &str = "Id, Name, IsDeleted, CreatedDate, SystemModstamp, AnnualRevenue, \
     NumberOfEmployees, Industry, Description, IsPartner, LastActivityDate, \
     NumberofLocations__c, Health_Score__c, Last_Review_Date__c, BillingCity";

fn node_modules() -> PathBuf {
    std::env::var_os("SYNCDECK_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/node-clients/node_modules")
        })
}

/// The installed jsforce's version, or why the test cannot run.
fn installed_jsforce(modules: &Path) -> Result<String, String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node is not on PATH".into());
    }
    let manifest = modules.join("jsforce/package.json");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let parsed: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    parsed["version"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} has no version", manifest.display()))
}

/// Runs the script on the blocking pool (the sandbox keeps serving while node waits for it)
/// and returns what jsforce read, one entry per job.
async fn run_jsforce(org: &Org, modules: PathBuf, jobs: Value) -> Vec<Value> {
    let (base, token) = (org.base.clone(), org.token.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .env("NODE_PATH", modules)
            .args([SCRIPT, &base, &token, &jobs.to_string()])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "jsforce failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

fn columns(soql: &str) -> Vec<String> {
    let select = soql
        .strip_prefix("SELECT ")
        .and_then(|s| s.split(" FROM ").next())
        .unwrap();
    select.split(',').map(|c| c.trim().to_string()).collect()
}

/// Where jsforce is, or `None` after a note when it is missing and not required.
fn jsforce_or_skip() -> Option<PathBuf> {
    let modules = node_modules();
    match installed_jsforce(&modules) {
        Ok(version) => {
            if version != JSFORCE_VERSION {
                eprintln!("note: jsforce {version} installed; CI pins {JSFORCE_VERSION}");
            }
            Some(modules)
        }
        Err(why) => {
            // CI installs jsforce and sets this, so there a missing client fails, not skips.
            assert!(
                std::env::var_os("SYNCDECK_REQUIRE_NODE_CLIENTS").is_none(),
                "SYNCDECK_REQUIRE_NODE_CLIENTS is set but jsforce is unavailable: {why}"
            );
            eprintln!(
                "note: skipped: needs node and jsforce ({why}); install with \
                 `npm install --prefix target/node-clients jsforce@{JSFORCE_VERSION}` \
                 or set SYNCDECK_NODE_MODULES"
            );
            None
        }
    }
}

fn jobs_spec(jobs: &[(&str, bool)]) -> Value {
    jobs.iter()
        .map(|(soql, all)| json!({"soql": soql, "scanAll": all}))
        .collect()
}

/// A model under which a job is complete as soon as it exists.
fn instant() -> BulkModel {
    BulkModel {
        queue_delay: Duration::ZERO,
        rows_per_sec: u64::MAX,
    }
}

#[tokio::test]
async fn jsforce_bulk2_query_reads_what_rest_returns() {
    let Some(modules) = jsforce_or_skip() else {
        return;
    };
    let org = Org::start(SandboxConfig {
        bulk: instant(),
        ..sandbox_support::config(&[("Account", LARGE), ("Contact", 900)])
    })
    .await;
    // Edits, soft deletes and a few records gone past the recycle bin give the jobs nulls,
    // changed values and rows that only queryAll returns.
    org.handle.mutate(600);
    org.handle.hard_delete("Account", 5);

    let account = format!("SELECT {ACCOUNT_FIELDS} FROM Account");
    let jobs = [
        (account.as_str(), false),
        (
            "SELECT Id, FirstName, LastName, Email, AccountId, Birthdate, SystemModstamp \
             FROM Contact WHERE LastName != null",
            false,
        ),
        (
            "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account WHERE IsDeleted = true",
            true,
        ),
        (
            "SELECT Id, Name FROM Contact WHERE LastName = 'nobody'",
            false,
        ),
    ];
    let before = org.handle.counters();
    let got = run_jsforce(&org, modules, jobs_spec(&jobs)).await;
    assert_eq!(got.len(), jobs.len());

    let after = org.handle.counters();
    assert_eq!(
        (
            after.bulk_jobs - before.bulk_jobs,
            after.bulk_result_sets - before.bulk_result_sets
        ),
        (jobs.len() as u64, jobs.len() as u64),
        "one job each, each read as a single result set"
    );

    let mut sizes = Vec::new();
    for ((soql, all), read) in jobs.iter().zip(&got) {
        assert!(read.get("error").is_none(), "{soql}: {read}");
        let header = columns(soql);
        let records = read["records"].as_array().unwrap();
        if !records.is_empty() {
            assert_eq!(
                read["columns"],
                json!(header),
                "{soql}: columns in SELECT order"
            );
        }
        let jsforce: std::collections::BTreeMap<String, Vec<String>> = records
            .iter()
            .map(|r| {
                let row: Vec<String> = header
                    .iter()
                    .map(|c| r[c.as_str()].as_str().unwrap().to_string())
                    .collect();
                (row[0].clone(), row)
            })
            .collect();
        assert_eq!(jsforce.len(), records.len(), "{soql}: no row twice");
        let endpoint = if *all { "queryAll" } else { "query" };
        let rest = rest_rows(&org, endpoint, soql, &header).await;
        assert_eq!(jsforce, rest, "{soql}: the same rows and values as REST");
        sizes.push(records.len());
    }
    assert!(sizes[0] > 10_000, "the large job has {} rows", sizes[0]);
    assert!(sizes[1] > 0 && sizes[2] > 0, "{sizes:?}");
    assert_eq!(sizes[3], 0, "a job without rows reads as no records");
    assert_eq!(got[0]["version"], "50.0", "jsforce's default API version");
    org.handle.shutdown().await;
}

/// jsforce's poll loop and error handling against the sandbox's states and error bodies:
/// a create error arrives as Salesforce's `errorCode` and message, a `Failed` job is
/// reported and deleted by jsforce, and a job that waits in the queue and then runs is
/// polled until `JobComplete` and read whole.
#[tokio::test]
async fn jsforce_waits_through_job_states_and_reports_salesforce_errors() {
    let Some(modules) = jsforce_or_skip() else {
        return;
    };
    // Two seconds queued, two running: jsforce polls at once and then every second.
    let org = Org::start(SandboxConfig {
        bulk: BulkModel {
            queue_delay: Duration::from_secs(2),
            rows_per_sec: 1_500,
        },
        ..sandbox_support::config(&[("Account", 3_000)])
    })
    .await;
    org.handle.bulk(&BulkSpec {
        fail_jobs: 1,
        ..BulkSpec::default()
    });
    let good = "SELECT Id, Name, SystemModstamp FROM Account";
    let jobs = [
        ("SELECT Id, Nme FROM Account", false),
        ("SELECT Id, Name FROM Account", false),
        (good, false),
    ];
    let got = run_jsforce(&org, modules, jobs_spec(&jobs)).await;

    let bad = &got[0]["error"];
    assert_eq!(bad["errorCode"], "INVALID_FIELD", "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("Nme"), "{bad}");
    assert_eq!(
        got[1]["error"]["message"], "Query job failed to complete",
        "{}",
        got[1]
    );

    let header = columns(good);
    let rows: std::collections::BTreeMap<String, Vec<String>> = got[2]["records"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", got[2]))
        .iter()
        .map(|r| {
            let row: Vec<String> = header
                .iter()
                .map(|c| r[c.as_str()].as_str().unwrap().to_string())
                .collect();
            (row[0].clone(), row)
        })
        .collect();
    assert_eq!(rows.len(), 3_000);
    assert_eq!(rows, rest_rows(&org, "query", good, &header).await);

    // Per job id: its polls, whether its results were read, whether jsforce deleted it.
    let mut seen: std::collections::BTreeMap<String, (usize, bool, Option<u16>)> =
        Default::default();
    for call in org.handle.calls() {
        let Some(rest) = call.path.split("/jobs/query/").nth(1) else {
            continue;
        };
        let (id, results) = match rest.strip_suffix("/results") {
            Some(id) => (id, true),
            None => (rest, false),
        };
        if !id.starts_with("750") {
            continue; // jsforce's delete of a job it never got an id for
        }
        let entry = seen.entry(id.to_string()).or_default();
        match (call.method.as_str(), results) {
            ("GET", false) => entry.0 += 1,
            ("GET", true) => entry.1 = true,
            ("DELETE", _) => entry.2 = Some(call.status),
            _ => {}
        }
    }
    let read: Vec<_> = seen.values().filter(|s| s.1).collect();
    let failed: Vec<_> = seen.values().filter(|s| !s.1).collect();
    assert_eq!((read.len(), failed.len()), (1, 1), "{seen:?}");
    assert!(
        read[0].0 >= 2 && read[0].2.is_none(),
        "polled until complete, then read and kept: {seen:?}"
    );
    assert_eq!(
        failed[0].2,
        Some(204),
        "jsforce deletes the failed job, and may: {seen:?}"
    );
    org.handle.shutdown().await;
}
