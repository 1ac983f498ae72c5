//! SIGKILL machinery shared by the crash tests: `syncdeck sync acme` in child processes
//! killed at seeded random points until `KILLS` of them died mid-run, then one that finishes.

use std::process::{Child, Stdio};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Org, patiently, syncdeck};

/// Runs killed mid-run per test.
pub const KILLS: usize = 10;

/// Account fields the crash tests sync (a compound, a currency, a boolean, a datetime).
pub const FIELDS: &[&str] = &[
    "Name",
    "Industry",
    "AnnualRevenue",
    "NumberOfEmployees",
    "Phone",
    "BillingAddress",
    "IsPartner",
    "LastModifiedDate",
];

fn spawn(org: &Org, full: bool) -> Child {
    let mut cmd = syncdeck(org);
    cmd.args(["sync", "acme"]);
    if full {
        cmd.arg("--full");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Kill children at random points until `KILLS` of them died mid-run, then let one
/// finish. Returns the kill delays (ms) for the failure message.
pub async fn kill_repeatedly(org: &Org) -> Vec<u64> {
    let mut delays = Vec::new();
    let mut kill_points = seeded_rng();
    let mut previous_finished = false;
    let mut attempts = 0;
    while delays.len() < KILLS {
        attempts += 1;
        assert!(
            attempts < 60,
            "could not land {KILLS} kills mid-run: {delays:?}"
        );
        // After a completed run, a full re-read gives the next kill something to hit.
        let mut child = spawn(org, previous_finished);
        let delay = kill_points.random_range(150..1_800u64);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            delays.push(delay);
            previous_finished = false;
        } else {
            let status = tokio::task::spawn_blocking(move || child.wait())
                .await
                .unwrap()
                .unwrap();
            assert!(
                status.success(),
                "a run that was not killed failed: {status:?}"
            );
            previous_finished = true;
        }
    }
    delays
}

/// Kill points come from a seed, printed so a failure can be replayed with
/// `SYNCDECK_CRASH_SEED=N cargo test --test engine_crash`.
fn seeded_rng() -> StdRng {
    let seed = std::env::var("SYNCDECK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("kill points from SYNCDECK_CRASH_SEED={seed}");
    StdRng::seed_from_u64(seed)
}

pub async fn finish(org: &Org) {
    let mut child = spawn(org, false);
    let status = patiently("the final run", async {
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap()
    })
    .await;
    assert!(status.success(), "final run: {status:?}");
}
