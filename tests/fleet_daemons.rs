//! Issue 18: several `syncdeck daemon` processes, each with its own config and data
//! directories, share sources through leases in one PostgreSQL (`SYNCDECK_TEST_POSTGRES_URL`)
//! against one sandbox org. Nine sources over three daemons, each synced by one; a SIGKILLed
//! daemon's sources go on elsewhere and the stores end equal to the org; a SIGSTOPped daemon
//! resumed after losing its lease cannot commit; a clean stop hands over at once; a daemon
//! whose configuration of a source differs does not take it. Takeover times are printed
//! (`--nocapture`), never asserted.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::postgres::into_postgres;
use common::*;
use serde_json::{Map, Value};
use syncdeck::config::{Config, Credentials, FleetConfig, Paths, SourceConfig};
use syncdeck::sandbox::FaultSpec;
use syncdeck::store::postgres::lease::{LeaseRow, Leases};
use syncdeck::store::postgres::testing::TestSchema;
use syncdeck::store::{RunRow, Store};

const FIELDS: &[&str] = &["Name", "Industry"];

/// A fleet under test: the org, the leases' schema, one schema per source.
struct Fleet {
    org: Org,
    leases: FleetConfig,
    sources: Vec<SourceConfig>,
    creds: Vec<Credentials>,
    _schemas: Vec<TestSchema>,
}

impl Fleet {
    /// `None` without a test PostgreSQL. `lease_seconds` short, so tests wait little.
    async fn new(test: &str, sources: usize, records: u64, lease_seconds: u32) -> Option<Fleet> {
        let fleet_schema = TestSchema::new(&format!("{test}_fleet"))?;
        let org = org(sandbox_config(&[("Account", records)])).await;
        let leases = FleetConfig {
            url: fleet_schema.url.clone(),
            password_env: None,
            schema: Some(fleet_schema.schema().to_string()),
            host: None,
            lease_seconds,
        };
        let mut schemas = vec![fleet_schema];
        let mut configs = Vec::new();
        let mut creds = Vec::new();
        for i in 0..sources {
            let ts = TestSchema::new(&format!("{test}_{i}"))?;
            // The default schedule: a source never synced runs as soon as it is taken.
            let source = into_postgres(org.source(&format!("s{i}"), &[("Account", FIELDS)]), &ts);
            creds.push(org.connect(&source).await);
            configs.push(source);
            schemas.push(ts);
        }
        Some(Fleet {
            org,
            leases,
            sources: configs,
            creds,
            _schemas: schemas,
        })
    }

    /// A daemon named `host` with `sources` (defaults: the fleet's), started.
    fn daemon(&self, host: &str, sources: Option<Vec<SourceConfig>>) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::resolve(
            Some(dir.path().join("config.toml")),
            Some(dir.path().join("data")),
        )
        .unwrap();
        let config = Config {
            sources: sources.unwrap_or_else(|| self.sources.clone()),
            fleet: Some(FleetConfig {
                host: Some(host.to_string()),
                ..self.leases.clone()
            }),
            ..Config::default()
        };
        std::fs::write(&paths.config_file, toml::to_string(&config).unwrap()).unwrap();
        for (source, creds) in self.sources.iter().zip(&self.creds) {
            creds.save(&paths, &source.id).unwrap();
        }
        let mut daemon = Daemon {
            host: host.to_string(),
            paths,
            child: None,
            _dir: dir,
        };
        daemon.start();
        daemon
    }

    /// The leases table, read as any daemon reads it.
    async fn leases(&self) -> Vec<LeaseRow> {
        let cfg = self.leases.clone();
        tokio::task::spawn_blocking(move || {
            Leases::connect(&cfg, "test", "test")
                .and_then(|mut l| l.all())
                .unwrap()
        })
        .await
        .unwrap()
    }

    /// Live owners by source id.
    async fn owners(&self) -> Vec<(String, Option<String>)> {
        self.leases()
            .await
            .into_iter()
            .map(|r| (r.source, r.owner_host.filter(|_| r.live)))
            .collect()
    }

    /// Runs of a source, newest first.
    async fn runs(&self, source: &SourceConfig) -> Vec<RunRow> {
        let (paths, source) = (self.org.paths.clone(), source.clone());
        tokio::task::spawn_blocking(move || {
            Store::open_for(&paths, &source)
                .unwrap()
                .recent_runs(100)
                .unwrap()
        })
        .await
        .unwrap()
    }

    async fn stored(&self, source: &SourceConfig) -> Vec<Map<String, Value>> {
        let (paths, source) = (self.org.paths.clone(), source.clone());
        let rows = tokio::task::spawn_blocking(move || {
            Store::open_for(&paths, &source)
                .unwrap()
                .read_rows("Account", usize::MAX)
                .unwrap()
        })
        .await
        .unwrap();
        project(rows, FIELDS)
    }

    /// Every store equals the org, row by row.
    async fn verify_exact(&self) {
        let truth = self.org.truth(&self.sources[0], "Account", FIELDS).await;
        for s in &self.sources {
            assert!(
                self.stored(s).await == truth,
                "{} differs from the org",
                s.id
            );
        }
    }

    async fn until(&self, what: &str, mut ok: impl AsyncFnMut(&Fleet) -> bool) {
        let started = Instant::now();
        while !ok(self).await {
            assert!(started.elapsed() < PATIENCE, "hang guard: never {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn slow(&self, latency_ms: u64) {
        self.org.sandbox.inject(&FaultSpec {
            latency_ms: Some(latency_ms),
            ..FaultSpec::default()
        });
    }
}

/// One `syncdeck daemon` process; killed if the test ends without stopping it.
struct Daemon {
    host: String,
    paths: Paths,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(&mut self) {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_syncdeck"))
            .arg("--config")
            .arg(&self.paths.config_file)
            .arg("--data-dir")
            .arg(&self.paths.data_dir)
            .arg("daemon")
            .env_remove("SYNCDECK_CONFIG")
            .env_remove("SYNCDECK_DATA_DIR")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// SIGKILL: no chance to release anything.
    fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM and wait for a clean exit.
    async fn stop(&mut self) {
        self.signal("-TERM");
        let mut child = self.child.take().unwrap();
        let status = patiently("the daemon to stop", async {
            tokio::task::spawn_blocking(move || child.wait().unwrap())
                .await
                .unwrap()
        })
        .await;
        assert!(status.success(), "{} stopped with {status:?}", self.host);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.paths.log_file()).unwrap_or_default()
    }

    async fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_syncdeck"));
        cmd.arg("--config")
            .arg(&self.paths.config_file)
            .arg("--data-dir")
            .arg(&self.paths.data_dir)
            .args(args)
            .env_remove("SYNCDECK_CONFIG")
            .env_remove("SYNCDECK_DATA_DIR")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `syncdeck status --json` through this daemon.
    async fn status(&self) -> Value {
        let (code, out, err) = self.cli(&["status", "--json"]).await;
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A stopped process must be continued to die of SIGKILL promptly everywhere.
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn held_by<'a>(owners: &'a [(String, Option<String>)], host: &str) -> Vec<&'a str> {
    owners
        .iter()
        .filter(|(_, h)| h.as_deref() == Some(host))
        .map(|(s, _)| s.as_str())
        .collect()
}

/// Whether the newest run of every source succeeded (a run refused by the fence, or killed,
/// never does; the run that replaces it is newer).
async fn all_succeeded(fleet: &Fleet, sources: &[SourceConfig]) -> bool {
    for s in sources {
        match fleet.runs(s).await.first() {
            Some(r) if r.outcome.as_deref() == Some("ok") => {}
            _ => return false,
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nine_sources_over_three_daemons_survive_a_killed_daemon() {
    // SYNCDECK_FLEET_LEASE_SECONDS=30 measures takeover with the default lease.
    let lease = std::env::var("SYNCDECK_FLEET_LEASE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let Some(fleet) = Fleet::new("fleet_nine", 9, 6_000, lease).await else {
        return;
    };
    let a = fleet.daemon("host-a", None);
    let b = fleet.daemon("host-b", None);
    let c = fleet.daemon("host-c", None);

    fleet
        .until("three sources per daemon, all synced once", async |f| {
            let owners = f.owners().await;
            ["host-a", "host-b", "host-c"]
                .iter()
                .all(|h| held_by(&owners, h).len() == 3)
                && all_succeeded(f, &f.sources).await
        })
        .await;
    for s in &fleet.sources {
        let runs = fleet.runs(s).await;
        assert_eq!(runs.len(), 1, "{} was synced {} times", s.id, runs.len());
        assert_eq!(runs[0].outcome.as_deref(), Some("ok"), "{runs:?}");
    }
    fleet.verify_exact().await;

    // host-a's sources re-read everything, slowly, and host-a dies mid-run.
    let owners = fleet.owners().await;
    let victims: Vec<SourceConfig> = fleet
        .sources
        .iter()
        .filter(|s| held_by(&owners, "host-a").contains(&s.id.as_str()))
        .cloned()
        .collect();
    fleet.slow(150);
    let mut requests = Vec::new();
    for s in &victims {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_syncdeck"));
        cmd.arg("--config")
            .arg(&a.paths.config_file)
            .arg("--data-dir")
            .arg(&a.paths.data_dir)
            .args(["sync", "--full", &s.id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        requests.push(cmd.spawn().unwrap());
    }
    fleet
        .until("a run of host-a in progress", async |f| {
            for s in &victims {
                if f.runs(s)
                    .await
                    .first()
                    .is_some_and(|r| r.finished.is_none())
                {
                    return true;
                }
            }
            false
        })
        .await;
    let mut a = a;
    a.kill();
    let killed = Instant::now();
    for mut r in requests {
        let _ = tokio::task::spawn_blocking(move || r.wait()).await;
    }
    let mut taken = Vec::new();
    fleet
        .until("host-a's sources taken over", async |f| {
            let owners = f.owners().await;
            for s in &victims {
                let new = owners.iter().any(|(id, h)| {
                    id == &s.id && matches!(h.as_deref(), Some("host-b" | "host-c"))
                });
                if new && !taken.iter().any(|(id, _)| id == &s.id) {
                    taken.push((s.id.clone(), killed.elapsed()));
                }
            }
            taken.len() == victims.len()
        })
        .await;
    eprintln!("takeover after SIGKILL (lease {lease} s), per source: {taken:?}");
    fleet.slow(0);
    fleet
        .until("the taken-over sources finished their runs", async |f| {
            all_succeeded(f, &victims).await
        })
        .await;
    fleet.verify_exact().await;
    drop((b, c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_paused_past_its_lease_cannot_commit() {
    let Some(fleet) = Fleet::new("fleet_paused", 1, 20_000, 3).await else {
        return;
    };
    fleet.slow(150);
    let a = fleet.daemon("host-a", None);
    fleet
        .until("host-a syncing s0", async |f| {
            held_by(&f.owners().await, "host-a") == ["s0"]
                && f.runs(&f.sources[0])
                    .await
                    .first()
                    .is_some_and(|r| r.finished.is_none())
        })
        .await;
    let b = fleet.daemon("host-b", None);
    a.signal("-STOP");
    let paused = Instant::now();
    fleet
        .until("host-b taking s0", async |f| {
            held_by(&f.owners().await, "host-b") == ["s0"]
        })
        .await;
    eprintln!(
        "takeover of a SIGSTOPped daemon's source (lease 3 s): {:?}",
        paused.elapsed()
    );
    a.signal("-CONT");
    fleet
        .until("host-a to notice it lost s0", async |_| {
            a.log().contains("lost to host-b")
        })
        .await;
    let status = a.status().await;
    let s0 = &status[0]["fleet"];
    assert_eq!(s0["here"], Value::Bool(false), "{status:#}");
    assert_eq!(s0["host"], "host-b", "{status:#}");
    fleet.slow(0);
    fleet
        .until("host-b finishing s0", async |f| {
            all_succeeded(f, &f.sources).await
        })
        .await;
    // Whatever host-a had in flight was refused: the store is the org, exactly.
    fleet.verify_exact().await;
    assert_eq!(
        held_by(&fleet.owners().await, "host-b"),
        ["s0"],
        "host-a took nothing back after it resumed"
    );
    // host-a's run ended without success: either its next commit was refused by the fence
    // or the lost lease stopped it first; either way none of its pages counted.
    let runs = fleet.runs(&fleet.sources[0]).await;
    let first = runs.last().unwrap();
    assert_ne!(first.outcome.as_deref(), Some("ok"), "{runs:?}");
    assert_eq!(runs.len(), 2, "one run each: {runs:?}");
    eprintln!(
        "host-a's run after SIGCONT: {:?} {:?}",
        first.outcome, first.error
    );
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_hands_over_at_once_and_a_differing_config_is_refused() {
    let Some(fleet) = Fleet::new("fleet_handover", 2, 500, 6).await else {
        return;
    };
    let a = fleet.daemon("host-a", None);
    fleet
        .until("host-a holding and syncing both", async |f| {
            held_by(&f.owners().await, "host-a").len() == 2 && all_succeeded(f, &f.sources).await
        })
        .await;
    // host-b's s1 differs (another threshold): it must never take s1.
    let mut differing = fleet.sources.clone();
    differing[1].quota_threshold_percent = 50;
    let b = fleet.daemon("host-b", Some(differing));
    fleet
        .until("host-b refusing s1", async |_| {
            b.log().contains("differs from the fleet's")
        })
        .await;
    let status = b.status().await;
    let s1 = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "s1")
        .unwrap();
    assert!(
        s1["fleet"]["note"]
            .as_str()
            .is_some_and(|n| n.contains("differs from the fleet's")),
        "{status:#}"
    );
    // A command for a source another daemon holds is refused, naming the owner.
    let owners = fleet.owners().await;
    let elsewhere = held_by(&owners, "host-a")[0];
    let (code, _, err) = b.cli(&["sync", elsewhere]).await;
    assert_ne!(code, 0);
    assert!(err.contains("synced by the daemon on host-a"), "{err}");
    let (_, table, _) = b.cli(&["status"]).await;
    assert!(table.contains("owner host-a, last heartbeat"), "{table}");

    // Whoever holds s0 now stops cleanly: it hands s0 over at once.
    let owners = fleet.owners().await;
    let leaving = if held_by(&owners, "host-a").contains(&"s0") {
        "host-a"
    } else {
        "host-b"
    };
    let staying = if leaving == "host-a" {
        "host-b"
    } else {
        "host-a"
    };
    let (mut leaving_daemon, staying_daemon) = if leaving == "host-a" { (a, b) } else { (b, a) };
    leaving_daemon.stop().await;
    let stopped = Instant::now();
    // Released, not left to expire (6 s): nothing is held by it a moment after it left.
    let owners = fleet.owners().await;
    assert!(held_by(&owners, leaving).is_empty(), "{owners:?}");
    fleet
        .until("the other daemon taking s0", async |f| {
            held_by(&f.owners().await, staying).contains(&"s0")
        })
        .await;
    eprintln!(
        "handover of s0 from {leaving} to {staying} after a clean stop (lease 6 s): {:?}",
        stopped.elapsed()
    );
    let rows = fleet.leases().await;
    let s1 = rows.iter().find(|r| r.source == "s1").unwrap();
    assert_ne!(s1.owner_host.as_deref(), Some("host-b"), "{rows:?}");
    if staying == "host-b" {
        assert!(!s1.live, "nobody left may take s1: {rows:?}");
    }
    drop(staying_daemon);
}
