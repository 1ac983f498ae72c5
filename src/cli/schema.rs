//! `syncdeck schema SOURCE [--object NAME] [--json]`: the org's objects, or one object's
//! fields with type, label and flags. Describes come from the store's schema cache when
//! fresh (under a day), are revalidated with If-Modified-Since when older, else fetched.
//! While a daemon runs, the daemon describes the org (its quota guard counts the calls);
//! otherwise this command holds the engine lock and reserves its calls from the source's
//! quota guard, so two processes never spend one org's budget unseen.

use crate::sanitize::{eprintln, println};
use anyhow::Context;
use chrono::{Duration, Utc};

use super::auth::find_source;
use super::fields::{describe_objects, detach, schema_from_daemon};
use crate::config::{self, Credentials, Paths, SourceConfig};
use crate::model::ObjectSchema;
use crate::remote;
use crate::salesforce::types::Describe;
use crate::salesforce::{Client, Described, HttpClient, Timeouts};
use crate::store::Store;
use crate::sync::clock::{SharedClock, SystemClock};
use crate::sync::connect::{guarded_client, save_usage};
use crate::sync::lock::EngineLock;
use crate::sync::shared_store::SharedStore;

const CACHE_FRESH_FOR: Duration = Duration::days(1);

pub fn run(paths: &Paths, source_id: &str, object: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let source = find_source(&config, source_id)?.clone();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // A running daemon owns this data dir's API budget: it describes the org, so its quota
    // guard counts the calls.
    match runtime.block_on(remote::attach(&paths.socket_file())) {
        Ok(attached) => {
            runtime.block_on(via_daemon(attached, source_id, object, json))?;
            return Ok(0);
        }
        Err(remote::AttachError::NotRunning { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    // Otherwise this process is the data dir's only engine while it runs, and reserves
    // every call from the source's quota guard like a sync does.
    let _lock = EngineLock::acquire(&paths.lock_file())?;
    let credentials = Credentials::load(paths, source_id)?.with_context(|| {
        format!("source \"{source_id}\" is not authorized yet; run `syncdeck auth {source_id}`")
    })?;
    let store = SharedStore::new(Store::open_for(paths, &source)?);
    let clock: SharedClock = SystemClock::shared();
    runtime.block_on(async {
        let http = HttpClient::new(Timeouts::default())?;
        let (client, hooks) = guarded_client(&http, paths, &source, &credentials, &store, &clock);
        let shown = show(&client, &store, &source, object, json).await;
        if let Err(e) = save_usage(&hooks, &store).await {
            tracing::warn!(source = %source_id, "API usage readings not saved: {e}");
        }
        shown
    })?;
    Ok(0)
}

async fn show(
    client: &Client,
    store: &SharedStore,
    source: &SourceConfig,
    object: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    client
        .negotiate_api_version(source.api_version.as_deref())
        .await?;
    match object {
        None => list_objects(client, json).await,
        Some(object) => {
            let describe = cached_describe(client, store, object).await?;
            let fields = crate::sync::describe_cache::object_fields(&describe);
            print_object(
                &ObjectSchema {
                    name: describe.name.clone(),
                    label: describe.label.clone(),
                    custom: describe.custom,
                    record_count: None,
                    fields,
                    load_error: None,
                },
                json,
            )
        }
    }
}

async fn via_daemon(
    mut attached: remote::Attached,
    source_id: &str,
    object: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    eprintln!(
        "reading the schema through the daemon (PID {})",
        attached.daemon_pid
    );
    let schema = schema_from_daemon(&mut attached, source_id).await?;
    let result = match object {
        None => {
            let objects: Vec<ObjectSchema> = schema
                .objects
                .iter()
                .map(|o| ObjectSchema {
                    fields: Vec::new(),
                    ..o.clone()
                })
                .collect();
            print_objects(&objects, json)
        }
        Some(name) => {
            let known = schema
                .objects
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(name))
                .map(|o| o.name.clone());
            let Some(api_name) = known else {
                detach(attached, None).await;
                anyhow::bail!("the org has no object \"{name}\" that can be synced");
            };
            let undescribed = schema
                .objects
                .iter()
                .any(|o| o.name == api_name && o.fields.is_empty());
            let wanted = if undescribed {
                vec![api_name.clone()]
            } else {
                Vec::new()
            };
            let schema = describe_objects(&mut attached, source_id, wanted, schema).await?;
            match schema.objects.iter().find(|o| o.name == api_name) {
                Some(o) => print_object(o, json),
                None => Err(anyhow::anyhow!("the daemon's schema lost \"{api_name}\"")),
            }
        }
    };
    detach(attached, None).await;
    result
}

async fn list_objects(client: &Client, json: bool) -> anyhow::Result<()> {
    let global = client.describe_global().await?;
    let objects = crate::sync::describe_cache::org_schema(&global, &[]).objects;
    print_objects(&objects, json)
}

fn print_objects(objects: &[ObjectSchema], json: bool) -> anyhow::Result<()> {
    if json {
        println!(
            "{}",
            crate::sanitize::json(&serde_json::to_string_pretty(objects)?)
        );
    } else {
        for o in objects {
            println!(
                "{:<40} {:<40} {}",
                o.name,
                o.label,
                if o.custom { "custom" } else { "" }
            );
        }
        println!("{} objects can be synced", objects.len());
    }
    Ok(())
}

async fn cached_describe(
    client: &Client,
    store: &SharedStore,
    object: &str,
) -> anyhow::Result<Describe> {
    let cached = store.with_blocking(|s| s.get_schema(object))?;
    let now = Utc::now();
    if let Some(c) = &cached
        && now - c.fetched_at < CACHE_FRESH_FOR
        && let Ok(describe) = serde_json::from_str(&c.json)
    {
        return Ok(describe);
    }
    let since = cached.as_ref().map(|c| c.fetched_at);
    match client.describe(object, since).await? {
        Described::Fresh {
            describe,
            last_modified,
        } => {
            let json = serde_json::to_string(&describe)?;
            store.with_blocking(|s| {
                s.put_schema(object, &json, now, None, last_modified.as_deref())
            })?;
            Ok(*describe)
        }
        Described::NotModified => {
            let c =
                cached.context("Salesforce answered 304 Not Modified without a cached describe")?;
            store.with_blocking(|s| {
                s.put_schema(
                    object,
                    &c.json,
                    now,
                    c.etag.as_deref(),
                    c.last_modified.as_deref(),
                )
            })?;
            Ok(serde_json::from_str(&c.json)?)
        }
    }
}

fn print_object(object: &ObjectSchema, json: bool) -> anyhow::Result<()> {
    if json {
        println!(
            "{}",
            crate::sanitize::json(&serde_json::to_string_pretty(object)?)
        );
        return Ok(());
    }
    println!(
        "{} ({}), {} fields",
        object.name,
        object.label,
        object.fields.len()
    );
    for f in &object.fields {
        let flags: Vec<&str> = [
            (f.custom, "custom"),
            (f.formula, "formula"),
            (f.compound, "compound"),
            (f.required, "required"),
            (f.filterable, "filterable"),
        ]
        .iter()
        .filter_map(|(on, name)| on.then_some(*name))
        .collect();
        println!(
            "  {:<40} {:<14} {:<40} {}",
            f.name,
            f.field_type,
            f.label,
            flags.join(" ")
        );
    }
    Ok(())
}
