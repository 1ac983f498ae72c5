//! Shared setup for the engine tests: a sandbox org on 127.0.0.1, a data directory, a
//! connected source, and the org's truth read back through the REST API.

#![allow(dead_code)]

pub mod crash;
pub mod postgres;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use syncdeck::config::Frequency;
use syncdeck::config::{Config, Credentials, ObjectSelection, Paths, SourceConfig, defaults};
use syncdeck::model::AuthFlow;
use syncdeck::model::Snapshot;
use syncdeck::model::{Command, SourceSnapshot};
use syncdeck::notify::Notifier;
use syncdeck::salesforce::soql::Select;
use syncdeck::salesforce::{HttpClient, NoHooks, QueryOptions, Timeouts};
use syncdeck::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use syncdeck::store::{PageWrite, Store, StoreField};
use syncdeck::sync::client_for;
use syncdeck::sync::{Engine, EngineHandle};
use syncdeck::sync::{ManualClock, SharedClock};
use tokio::sync::watch;

/// Hang guard for waits in tests; never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(180);

pub struct Org {
    pub sandbox: SandboxHandle,
    pub root: tempfile::TempDir,
    pub paths: Paths,
    pub http: HttpClient,
}

pub fn sandbox_config(records: &[(&str, u64)]) -> SandboxConfig {
    SandboxConfig {
        records: records.iter().map(|(o, n)| (o.to_string(), *n)).collect(),
        auto_approve: Some(Duration::ZERO),
        device_poll_interval: Duration::ZERO,
        api_max: 1_000_000,
        ..SandboxConfig::default()
    }
}

pub async fn org(config: SandboxConfig) -> Org {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sandbox = Sandbox::start(config).await.unwrap();
    let root = tempfile::tempdir().unwrap();
    // The same layout `syncdeck --config ROOT/config.toml --data-dir ROOT/data` uses, so
    // child processes share it.
    let paths = Paths::resolve(
        Some(root.path().join("config.toml")),
        Some(root.path().join("data")),
    )
    .unwrap();
    Org {
        sandbox,
        root,
        paths,
        http: HttpClient::new(Timeouts::default()).unwrap(),
    }
}

/// Fields synced in most tests (Account has formula fields among them).
pub const ACCOUNT_FIELDS: &[&str] = &[
    "Name",
    "Industry",
    "AnnualRevenue",
    "NumberOfEmployees",
    "BillingAddress",
    "Revenue_Per_Employee__c",
    "LastModifiedDate",
];

pub const CONTACT_FIELDS: &[&str] = &["FirstName", "LastName", "Email", "AccountId"];

impl Org {
    pub fn source(&self, id: &str, objects: &[(&str, &[&str])]) -> SourceConfig {
        SourceConfig {
            id: id.to_string(),
            name: format!("{id} org"),
            kind: Default::default(),
            login_url: self.sandbox.base_url(),
            client_id: self.sandbox.client_id(),
            api_version: None,
            sync_enabled: true,
            frequency: defaults::FREQUENCY,
            quota_threshold_percent: defaults::QUOTA_THRESHOLD_PERCENT,
            run_quota_percent: 100,
            formula_policy: defaults::FORMULA_POLICY,
            query_cursors: defaults::QUERY_CURSORS,
            verify: syncdeck::config::VerifySchedule::Weekly,
            // Existing tests pin REST behaviour (call counts, composite grouping); Bulk tests set it.
            bulk_threshold: 0,
            objects: objects
                .iter()
                .map(|(o, f)| {
                    (
                        o.to_string(),
                        ObjectSelection {
                            fields: f.iter().map(|s| s.to_string()).collect(),
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
            store: None,
        }
    }

    /// Device flow against the sandbox (auto-approved as its admin); credentials saved.
    pub async fn connect(&self, source: &SourceConfig) -> Credentials {
        syncdeck::sync::authorize(&self.http, &self.paths, source, AuthFlow::Device, |_| {})
            .await
            .unwrap()
    }

    /// Write the config file (for child processes).
    pub fn write_config(&self, config: &Config) {
        std::fs::write(&self.paths.config_file, toml::to_string(config).unwrap()).unwrap();
    }

    /// Every live row of `object` as the org serves it, converted exactly like the engine
    /// stores rows, read back from a scratch store: comparable with `stored_rows`.
    pub async fn truth(
        &self,
        source: &SourceConfig,
        object: &str,
        fields: &[&str],
    ) -> Vec<Map<String, Value>> {
        let creds = Credentials::load(&self.paths, &source.id).unwrap().unwrap();
        let client = client_for(&self.http, source, &creds, Arc::new(NoHooks));
        let select = Select::new(object).fields(fields).order_by_id();
        let mut pages = client.select_pages(
            &select,
            QueryOptions {
                include_deleted: false,
                batch_size: Some(2000),
            },
        );
        let describe = match client.describe(object, None).await.unwrap() {
            syncdeck::salesforce::Described::Fresh { describe, .. } => describe,
            syncdeck::salesforce::Described::NotModified => unreachable!(),
        };
        let store_fields: Vec<StoreField> = fields
            .iter()
            .map(|f| StoreField::new(*f, describe.field(f).unwrap().field_type.clone()))
            .collect();
        let mut scratch = Store::open_in_memory().unwrap();
        scratch.ensure_object_table(object, &store_fields).unwrap();
        use futures::StreamExt;
        while let Some(page) = pages.next().await {
            let page = page.unwrap();
            scratch
                .apply_page(
                    object,
                    &PageWrite {
                        upserts: &page.records,
                        deletes: &[],
                        cursor: None,
                    },
                )
                .unwrap();
        }
        scratch.read_rows(object, usize::MAX).unwrap()
    }

    /// The engine's rows of `object`, limited to `fields` (plus Id).
    pub fn stored_rows(
        &self,
        source: &str,
        object: &str,
        fields: &[&str],
    ) -> Vec<Map<String, Value>> {
        let store = Store::open(&self.paths.store_file(source)).unwrap();
        project(store.read_rows(object, usize::MAX).unwrap(), fields)
    }

    pub fn stored_ids(&self, source: &str, object: &str) -> Vec<String> {
        Store::open(&self.paths.store_file(source))
            .unwrap()
            .all_ids(object)
            .unwrap()
    }
}

/// Keep `Id` and the columns of `fields` (compound fields: their `<Field>__*` columns).
pub fn project(rows: Vec<Map<String, Value>>, fields: &[&str]) -> Vec<Map<String, Value>> {
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .filter(|(k, _)| {
                    k == "Id"
                        || fields
                            .iter()
                            .any(|f| k == f || k.starts_with(&format!("{f}__")))
                })
                .collect()
        })
        .collect()
}

/// Wait until a snapshot satisfies `pred` (hang guard: PATIENCE).
pub async fn wait_for(
    rx: &mut watch::Receiver<Snapshot>,
    what: &str,
    pred: impl Fn(&Snapshot) -> bool,
) -> Snapshot {
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            {
                let snap = rx.borrow_and_update();
                if pred(&snap) {
                    return snap.clone();
                }
            }
            if rx.changed().await.is_err() {
                panic!("engine stopped while waiting for: {what}");
            }
        }
    })
    .await;
    match waited {
        Ok(s) => s,
        Err(_) => panic!(
            "gave up waiting for: {what}\nlast snapshot: {:#?}",
            rx.borrow().sources
        ),
    }
}

/// Run `f` with the hang guard.
pub async fn patiently<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for: {what}"))
}

pub fn start(org: &Org, sources: Vec<SourceConfig>, clock: SharedClock) -> EngineHandle {
    let config = Config {
        sources,
        ..Config::default()
    };
    Engine::start(
        org.paths.clone(),
        Arc::new(config),
        clock,
        Notifier::disabled(),
    )
    .unwrap()
}

pub fn src<'a>(s: &'a Snapshot, id: &str) -> &'a SourceSnapshot {
    s.source(id).unwrap()
}

/// Ask for a run and wait for a run newer than the last one to finish.
pub async fn sync_now(engine: &mut EngineHandle, clock: &ManualClock, id: &str) -> SourceSnapshot {
    let before = engine
        .snapshots
        .borrow()
        .source(id)
        .and_then(|s| s.last_run.as_ref().map(|r| r.started));
    // Runs are told apart by their start time.
    clock.advance(chrono::Duration::seconds(1));
    engine
        .commands
        .send(Command::SyncNow {
            source: id.into(),
            full: false,
        })
        .unwrap();
    let snap = wait_for(&mut engine.snapshots, "the requested run to finish", |s| {
        s.source(id).is_some_and(|s| {
            s.running.is_none()
                && s.last_run
                    .as_ref()
                    .is_some_and(|r| Some(r.started) != before)
        })
    })
    .await;
    src(&snap, id).clone()
}

pub fn manual(mut s: SourceConfig) -> SourceConfig {
    s.frequency = Frequency::Manual;
    s
}

/// An engine whose notifications go to `notifier`.
pub fn start_notifying(
    org: &Org,
    sources: Vec<SourceConfig>,
    clock: SharedClock,
    notifier: Notifier,
) -> EngineHandle {
    let config = Config {
        sources,
        ..Config::default()
    };
    Engine::start(org.paths.clone(), Arc::new(config), clock, notifier).unwrap()
}

/// An axum webhook receiver on 127.0.0.1 keeping every JSON body it gets.
pub async fn webhook_receiver() -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::routing::post;
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = bodies.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(body);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, bodies)
}

pub fn webhook_notifier(url: &str) -> Notifier {
    Notifier::new(
        &syncdeck::config::NotifyConfig {
            email: None,
            webhook: Some(syncdeck::config::WebhookConfig {
                url: url.to_string(),
            }),
        },
        syncdeck::notify::DeliveryRetry {
            attempts: 3,
            first_delay: Duration::from_millis(20),
        },
    )
    .unwrap()
}

/// `syncdeck` with this org's config and data dir.
pub fn syncdeck(org: &Org) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_syncdeck"));
    cmd.arg("--config")
        .arg(&org.paths.config_file)
        .arg("--data-dir")
        .arg(&org.paths.data_dir)
        .env_remove("SYNCDECK_CONFIG")
        .env_remove("SYNCDECK_DATA_DIR")
        .env("NO_COLOR", "1");
    cmd
}

/// Run `syncdeck ARGS` for this org (no stdin) without stalling the sandbox serving it on
/// this runtime: exit code, stdout, stderr.
pub async fn cli(org: &Org, args: &[&str]) -> (i32, String, String) {
    let mut cmd = syncdeck(org);
    cmd.args(args).stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn config_of(sources: Vec<SourceConfig>) -> Config {
    Config {
        sources,
        ..Config::default()
    }
}
