//! Operator control against a sandbox org: pause at a page boundary, resume, expired
//! query locators, the schedule under an injected clock, reload, and authorization.

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::*;
use syncdeck::config::{Config, Frequency, SourceConfig};
use syncdeck::model::{AuthFlow, AuthPrompt, Command, ErrorKind, RunOutcome, Status};
use syncdeck::sandbox::FaultSpec;
use syncdeck::sync::EngineHandle;
use syncdeck::sync::ManualClock;

const FIELDS: &[&str] = &["Name", "Industry", "AnnualRevenue"];

fn latency(ms: u64) -> FaultSpec {
    FaultSpec {
        latency_ms: Some(ms),
        ..FaultSpec::default()
    }
}

fn done(s: &syncdeck::model::Snapshot, id: &str) -> u64 {
    s.source(id)
        .and_then(|s| s.running.as_ref())
        .map_or(0, |r| r.objects.iter().map(|o| o.done).sum())
}

fn run_finished(s: &syncdeck::model::Snapshot, id: &str) -> bool {
    s.source(id)
        .is_some_and(|s| s.running.is_none() && s.last_run.is_some())
}

fn request_sync(engine: &EngineHandle, id: &str) {
    engine
        .commands
        .send(Command::SyncNow {
            source: id.into(),
            full: false,
        })
        .unwrap();
}

/// A manual "acme" source over `accounts` Accounts, served with `latency_ms` per call so
/// the test can act between pages; returns once a Sync Now run has committed its first page.
async fn run_past_the_first_page(
    accounts: u64,
    latency_ms: u64,
) -> (Org, SourceConfig, Arc<ManualClock>, EngineHandle) {
    let org = org(sandbox_config(&[("Account", accounts)])).await;
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    org.connect(&source).await;
    org.sandbox.inject(&latency(latency_ms));
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    request_sync(&engine, "acme");
    wait_for(&mut engine.snapshots, "the first committed page", |s| {
        done(s, "acme") >= 2_000
    })
    .await;
    (org, source, clock, engine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_at_a_page_boundary_keeping_work_and_resume_finishes() {
    let (org, source, clock, mut engine) = run_past_the_first_page(20_000, 150).await;
    engine
        .commands
        .send(Command::Pause {
            source: "acme".into(),
        })
        .unwrap();
    let snap = wait_for(&mut engine.snapshots, "the paused run to stop", |s| {
        run_finished(s, "acme")
    })
    .await;
    let paused = src(&snap, "acme");
    assert_eq!(paused.status, Status::NotSyncing);
    assert!(!paused.sync_enabled);
    let run = paused.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Interrupted, "{run:?}");
    let kept = org.stored_ids("acme", "Account").len() as u64;
    assert_eq!(kept, run.upserted, "every reported row is committed");
    assert!(
        (2_000..20_000).contains(&kept),
        "stopped mid-object with work kept: {kept}"
    );

    // Sync Now is refused while paused; the reason is visible.
    request_sync(&engine, "acme");
    wait_for(&mut engine.snapshots, "the refusal event", |s| {
        s.source("acme")
            .is_some_and(|s| s.events.iter().any(|e| e.message.contains("paused")))
    })
    .await;

    org.sandbox.inject(&latency(0));
    engine
        .commands
        .send(Command::Resume {
            source: "acme".into(),
        })
        .unwrap();
    let resumed = sync_now(&mut engine, &clock, "acme").await;
    let run = resumed.last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert!(
        run.upserted <= 20_000 - kept + 2_000,
        "resumed from the cursor, not from scratch: {run:?}"
    );
    assert_eq!(resumed.status, Status::Active);
    assert_eq!(
        org.stored_rows("acme", "Account", FIELDS),
        org.truth(&source, "Account", FIELDS).await
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_query_locator_restarts_from_the_cursor() {
    let (org, source, _clock, mut engine) = run_past_the_first_page(12_000, 100).await;
    org.sandbox.inject(&FaultSpec {
        expire_locators: true,
        ..FaultSpec::default()
    });
    let snap = wait_for(&mut engine.snapshots, "the run to finish", |s| {
        run_finished(s, "acme")
    })
    .await;
    let run = src(&snap, "acme").last_run.clone().unwrap();
    assert_eq!(run.outcome, RunOutcome::Succeeded, "{run:?}");
    assert!(
        org.sandbox.calls().iter().any(|c| c.status == 400),
        "a page request met the expired locator"
    );
    org.sandbox.inject(&latency(0));
    assert_eq!(
        org.stored_rows("acme", "Account", FIELDS),
        org.truth(&source, "Account", FIELDS).await
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_follow_the_frequency_and_reload_changes_it() {
    let org = org(sandbox_config(&[("Account", 300)])).await;
    let mut source = org.source("acme", &[("Account", FIELDS)]);
    source.frequency = Frequency::M15;
    org.connect(&source).await;
    let t0 = Utc::now();
    let clock = ManualClock::new(t0);
    let mut engine = start(&org, vec![source.clone()], clock.clone());

    let snap = wait_for(&mut engine.snapshots, "the first run (due at once)", |s| {
        run_finished(s, "acme")
    })
    .await;
    let first = src(&snap, "acme").clone();
    assert_eq!(first.last_run.as_ref().unwrap().started, t0);
    assert_eq!(first.next_run, Some(t0 + chrono::Duration::minutes(15)));

    clock.advance(chrono::Duration::minutes(15));
    let snap = wait_for(&mut engine.snapshots, "the second scheduled run", |s| {
        s.source("acme").is_some_and(|s| {
            s.running.is_none() && s.last_run.as_ref().is_some_and(|r| r.started > t0)
        })
    })
    .await;
    let t1 = t0 + chrono::Duration::minutes(15);
    assert_eq!(src(&snap, "acme").last_run.as_ref().unwrap().started, t1);

    source.frequency = Frequency::H2;
    engine
        .commands
        .send(Command::Reload(Arc::new(Config {
            sources: vec![source.clone()],
            ..Config::default()
        })))
        .unwrap();
    wait_for(&mut engine.snapshots, "the new schedule", |s| {
        s.source("acme").is_some_and(|s| {
            s.frequency == Frequency::H2 && s.next_run == Some(t1 + chrono::Duration::hours(2))
        })
    })
    .await;

    source.frequency = Frequency::Manual;
    engine
        .commands
        .send(Command::Reload(Arc::new(Config {
            sources: vec![source],
            ..Config::default()
        })))
        .unwrap();
    wait_for(&mut engine.snapshots, "no next run when manual", |s| {
        s.source("acme")
            .is_some_and(|s| s.frequency == Frequency::Manual && s.next_run.is_none())
    })
    .await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_connected_until_authorized_and_reauthorize_after_revocation() {
    let org = org(sandbox_config(&[("Account", 300)])).await;
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    let snap = wait_for(&mut engine.snapshots, "the source", |s| {
        s.source("acme").is_some()
    })
    .await;
    assert_eq!(src(&snap, "acme").status, Status::NotConnected);

    let reauthorize = Command::Reauthorize {
        source: "acme".into(),
        flow: AuthFlow::Device,
    };
    engine.commands.send(reauthorize.clone()).unwrap();
    let snap = wait_for(&mut engine.snapshots, "authorization", |s| {
        s.source("acme")
            .is_some_and(|s| matches!(s.auth, Some(AuthPrompt::Succeeded { .. })))
    })
    .await;
    let connected = src(&snap, "acme");
    assert_eq!(connected.status, Status::SettingUp, "first sync pending");
    assert!(
        connected
            .connection
            .as_ref()
            .is_some_and(|c| !c.username.is_empty())
    );
    assert_eq!(
        sync_now(&mut engine, &clock, "acme").await.status,
        Status::Active
    );

    // Tokens revoked in the org: the source needs an admin to reauthorize.
    org.sandbox.revoke_all_tokens();
    let failed = sync_now(&mut engine, &clock, "acme").await;
    match &failed.status {
        Status::Error(e) => {
            assert_eq!(e.kind, ErrorKind::AuthRequired, "{e:?}");
            assert!(e.message.contains("Reauthorize"), "{}", e.message);
            assert_eq!(
                e.retry_at, None,
                "no automatic retries: only the operator can fix it"
            );
        }
        other => panic!("expected AuthRequired, got {other:?}"),
    }
    engine.commands.send(reauthorize).unwrap();
    let snap = wait_for(&mut engine.snapshots, "reauthorization", |s| {
        s.source("acme").is_some_and(|s| s.status == Status::Active)
    })
    .await;
    assert!(matches!(
        src(&snap, "acme").auth,
        Some(AuthPrompt::Succeeded { .. })
    ));
    assert_eq!(
        sync_now(&mut engine, &clock, "acme")
            .await
            .last_run
            .unwrap()
            .outcome,
        RunOutcome::Succeeded
    );
    engine.shutdown().await;
}

/// Credentials of the sandbox's Standard User (API Enabled, no View All Data), obtained
/// around the admin check the way a user who lost permissions after authorizing would look.
async fn standard_user_credentials(org: &Org, source: &syncdeck::config::SourceConfig) {
    use syncdeck::salesforce::auth::{DevicePoll, Session, poll_device_once, start_device_flow};
    let login = source.login_url.as_str();
    let device = start_device_flow(&org.http, login, &source.client_id)
        .await
        .unwrap();
    org.sandbox.approve(
        Some(&device.user_code),
        syncdeck::sandbox::SandboxUser::Standard,
    );
    let token = match poll_device_once(&org.http, login, &source.client_id, &device)
        .await
        .unwrap()
    {
        DevicePoll::Authorized(t) => *t,
        other => panic!("{other:?}"),
    };
    let session = Session::from_token(&token, login, &source.client_id);
    let client = syncdeck::salesforce::Client::new(
        org.http.clone(),
        session.clone(),
        Arc::new(syncdeck::salesforce::NoHooks),
    );
    let identity = client.identity().await.unwrap();
    syncdeck::config::Credentials {
        access_token: syncdeck::config::Secret::new(session.access_token.expose()),
        refresh_token: session
            .refresh_token
            .as_ref()
            .map(|t| syncdeck::config::Secret::new(t.expose())),
        instance_url: session.instance_url.clone(),
        identity_url: token.id.clone(),
        org_id: identity.organization_id,
        user_id: identity.user_id,
        username: identity.username,
        // Authorized two days ago (when the user still had the permissions): the daily
        // re-check is due at the first run.
        authorized_at: Utc::now() - chrono::Duration::days(2),
        issued_at: Utc::now(),
        scope: String::new(),
        login_url: source.login_url.clone(),
    }
    .save(&org.paths, &source.id)
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorizer_without_view_all_data_puts_the_source_in_permission_denied() {
    let mut config = sandbox_config(&[("Account", 100)]);
    config.auto_approve = None;
    let org = org(config).await;
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    standard_user_credentials(&org, &source).await;
    let clock = ManualClock::new(Utc::now());
    let mut engine = start(&org, vec![source.clone()], clock.clone());
    let failed = sync_now(&mut engine, &clock, "acme").await;
    match &failed.status {
        Status::Error(e) => {
            assert_eq!(e.kind, ErrorKind::PermissionDenied, "{e:?}");
            assert!(
                e.message.contains("View All Data") && e.message.contains("admin"),
                "{}",
                e.message
            );
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
    assert!(
        org.stored_ids("acme", "Account").is_empty(),
        "nothing synced with partial visibility"
    );
    engine.shutdown().await;
}

/// An engine for one connected source ("acme", 10 Accounts) whose org schema is loaded.
async fn engine_with_schema() -> (Org, EngineHandle, syncdeck::model::Snapshot) {
    let org = org(sandbox_config(&[("Account", 10)])).await;
    let source = manual(org.source("acme", &[("Account", FIELDS)]));
    org.connect(&source).await;
    let mut engine = start(&org, vec![source], ManualClock::new(Utc::now()));
    engine
        .commands
        .send(Command::LoadSchema {
            source: "acme".into(),
            force: false,
        })
        .unwrap();
    let snap = wait_for(&mut engine.snapshots, "the schema", |s| {
        s.source("acme").is_some_and(|s| s.schema.is_some())
    })
    .await;
    (org, engine, snap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_schema_publishes_the_org_schema() {
    let (_org, engine, snap) = engine_with_schema().await;
    let schema = src(&snap, "acme").schema.clone().unwrap();
    let account = schema
        .objects
        .iter()
        .find(|o| o.name == "Account")
        .expect("Account listed");
    assert!(
        account
            .fields
            .iter()
            .any(|f| f.name == "Revenue_Per_Employee__c" && f.formula)
    );
    assert!(
        account
            .fields
            .iter()
            .any(|f| f.name == "BillingAddress" && f.compound)
    );
    let contact = schema
        .objects
        .iter()
        .find(|o| o.name == "Contact")
        .expect("Contact listed");
    assert!(
        contact.fields.is_empty(),
        "unselected objects are listed without a describe call"
    );
    engine.shutdown().await;
}

fn fields_of(snap: &syncdeck::model::Snapshot, object: &str) -> usize {
    src(snap, "acme")
        .schema
        .as_ref()
        .and_then(|s| s.objects.iter().find(|o| o.name == object))
        .map_or(0, |o| o.fields.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_describe_that_fails_is_marked_on_the_object_so_nobody_waits_for_it() {
    let (org, mut engine, _) = engine_with_schema().await;
    // The user lost access meanwhile: the describe fails with AuthRequired.
    org.sandbox.revoke_all_tokens();
    engine
        .commands
        .send(Command::DescribeObjects {
            source: "acme".into(),
            objects: vec!["Contact".into()],
        })
        .unwrap();
    let failed = wait_for(&mut engine.snapshots, "the failure on Contact", |s| {
        s.source("acme")
            .and_then(|s| s.schema.as_ref())
            .and_then(|s| s.objects.iter().find(|o| o.name == "Contact"))
            .is_some_and(|o| o.load_error.is_some())
    })
    .await;
    let schema = src(&failed, "acme").schema.clone().unwrap();
    let contact = schema.objects.iter().find(|o| o.name == "Contact").unwrap();
    assert!(contact.fields.is_empty());
    let reason = contact.load_error.as_deref().unwrap();
    assert!(reason.contains("syncdeck auth"), "{reason}");
    let account = schema.objects.iter().find(|o| o.name == "Account").unwrap();
    assert!(
        account.load_error.is_none(),
        "only the asked-for object is marked"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_objects_adds_fields_in_one_composite_call_and_keeps_them() {
    let (org, mut engine, loaded) = engine_with_schema().await;
    let load = Command::LoadSchema {
        source: "acme".into(),
        force: false,
    };
    assert_eq!(fields_of(&loaded, "Contact"), 0);
    assert_eq!(fields_of(&loaded, "Opportunity"), 0);

    let before = org.sandbox.counters().requests;
    engine
        .commands
        .send(Command::DescribeObjects {
            source: "acme".into(),
            objects: vec!["Contact".into(), "Opportunity".into()],
        })
        .unwrap();
    let described = wait_for(&mut engine.snapshots, "the described fields", |s| {
        fields_of(s, "Contact") > 0 && fields_of(s, "Opportunity") > 0
    })
    .await;
    let calls = org.sandbox.calls();
    // The schema load already counted every object's records (also those not described),
    // so describing them costs one composite call alone.
    assert_eq!(
        org.sandbox.counters().requests - before,
        1,
        "one composite call for both objects: {calls:?}"
    );
    assert!(
        calls[calls.len() - 1].path.ends_with("/composite"),
        "{calls:?}"
    );
    let contact = src(&described, "acme").schema.clone().unwrap();
    let contact = contact
        .objects
        .iter()
        .find(|o| o.name == "Contact")
        .unwrap();
    assert!(contact.fields.iter().any(|f| f.name == "Email"));
    // The review prices a backfill from these.
    assert!(contact.record_count.is_some());
    assert_eq!(contact.record_count, org.sandbox.record_count("Contact"));

    // A later load keeps them, from the cache: no call at all.
    let previous = src(&described, "acme").schema.clone().unwrap();
    let before = org.sandbox.counters().requests;
    engine.commands.send(load).unwrap();
    let reloaded = wait_for(&mut engine.snapshots, "the reloaded schema", |s| {
        s.source("acme")
            .and_then(|s| s.schema.as_ref())
            .is_some_and(|s| !Arc::ptr_eq(s, &previous))
    })
    .await;
    assert_eq!(org.sandbox.counters().requests, before);
    assert_eq!(fields_of(&reloaded, "Contact"), contact.fields.len());
    assert!(fields_of(&reloaded, "Opportunity") > 0);
    assert!(fields_of(&reloaded, "Account") > 0);
    engine.shutdown().await;
}
