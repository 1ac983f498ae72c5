//! `syncdeck fields` when no daemon runs: describe the org with the stored credentials,
//! as `syncdeck schema` does, through the store's describe cache (fresh for a day, shared
//! with the engine) and under the engine's quota guard.

use crate::sanitize::eprintln;
use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::auth::find_source;
use super::fields::FieldsAction;
use crate::config::{self, Credentials, Paths, SourceConfig};
use crate::fields::{PatternSet, Preset};
use crate::model::OrgSchema;
use crate::salesforce::{Client, HttpClient, Timeouts};
use crate::store::Store;
use crate::sync::clock::{SharedClock, SystemClock};
use crate::sync::connect::{guarded_client, save_usage};
use crate::sync::describe_cache;
use crate::sync::lock::EngineLock;
use crate::sync::shared_store::SharedStore;

/// The org schema for `action` on `source_id`: every object, with fields for the configured
/// objects and those the action names (patterns' objects, a preset's objects).
pub async fn describe_org(
    paths: &Paths,
    source_id: &str,
    action: &FieldsAction,
) -> anyhow::Result<Arc<OrgSchema>> {
    let config = config::load(&paths.config_file)?;
    let source = find_source(&config, source_id)?.clone();
    let creds = Credentials::load(paths, source_id)?.with_context(|| {
        format!(
            "no org schema for \"{source_id}\": the source is not authorized yet; run `syncdeck auth {source_id}`, \
             or pass --schema FILE (e.g. the output of `syncdeck schema {source_id} --json`)"
        )
    })?;
    // This process talks to the org: it is the data dir's only engine meanwhile, so no
    // local engine spends the same budget unseen.
    let _lock = EngineLock::acquire(&paths.lock_file())?;
    let store = SharedStore::new(Store::open_for(paths, &source)?);
    let clock: SharedClock = SystemClock::shared();
    let http = HttpClient::new(Timeouts::default())?;
    let (client, hooks) = guarded_client(&http, paths, &source, &creds, &store, &clock);
    client
        .negotiate_api_version(source.api_version.as_deref())
        .await
        .with_context(|| format!("cannot reach the org of \"{source_id}\""))?;
    let schema = describe(&client, &store, &source, action, clock.now()).await;
    if let Err(e) = save_usage(&hooks, &store).await {
        tracing::warn!(source = %source_id, "API usage readings not saved: {e}");
    }
    schema.map(Arc::new)
}

async fn describe(
    client: &Client,
    store: &SharedStore,
    source: &SourceConfig,
    action: &FieldsAction,
    now: DateTime<Utc>,
) -> anyhow::Result<OrgSchema> {
    let global = describe_cache::global(client, store, now, false)
        .await
        .context("cannot list the org's objects")?;
    let bare = describe_cache::org_schema(&global, &[]);
    let mut wanted: BTreeSet<String> = source.objects.keys().cloned().collect();
    wanted.extend(objects_named(action, &bare));
    // Objects this org does not have are reported by the action, not described.
    let wanted: Vec<String> = wanted
        .into_iter()
        .filter(|name| bare.objects.iter().any(|o| o.name == *name))
        .collect();
    let results = describe_cache::describes(client, store, &wanted, now, false)
        .await
        .context("cannot describe the org's objects")?;
    let mut described = Vec::with_capacity(results.len());
    let mut failed = Vec::new();
    for (object, result) in results {
        match result {
            Ok(d) => described.push(d),
            Err(e) => {
                eprintln!("note: the fields of {object} could not be loaded: {e}");
                failed.push((object, e.to_string()));
            }
        }
    }
    let mut schema =
        describe_cache::with_load_errors(&describe_cache::org_schema(&global, &described), &failed);
    if matches!(action, FieldsAction::List { .. }) {
        fill_record_counts(client, &mut schema).await;
    }
    Ok(schema)
}

/// Objects a pattern names literally, or a preset draws from.
fn objects_named(action: &FieldsAction, schema: &OrgSchema) -> Vec<String> {
    match action {
        FieldsAction::Select { patterns } | FieldsAction::Deselect { patterns } => {
            // A bad pattern is reported, with its reason, when the action runs.
            PatternSet::parse(patterns)
                .map(|set| set.undescribed_objects(schema))
                .unwrap_or_default()
        }
        FieldsAction::Preset { name, .. } => Preset::find(name)
            .map(|p| p.fields.iter().map(|f| f.object().to_string()).collect())
            .unwrap_or_default(),
        FieldsAction::List { .. } => Vec::new(),
    }
}

/// Record counts of the described objects (one call); the listing shows them when known.
async fn fill_record_counts(client: &Client, schema: &mut OrgSchema) {
    let objects: Vec<String> = schema
        .objects
        .iter()
        .filter(|o| !o.fields.is_empty())
        .map(|o| o.name.clone())
        .collect();
    if objects.is_empty() {
        return;
    }
    match client.record_count(&objects).await {
        Ok(counts) => {
            for count in counts.sobjects {
                if let Some(o) = schema.objects.iter_mut().find(|o| o.name == count.name) {
                    o.record_count = Some(count.count);
                }
            }
        }
        Err(e) => tracing::info!("record counts not read: {e}"),
    }
}
