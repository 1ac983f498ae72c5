//! `syncdeck fields` when no daemon runs: describe the org with the stored credentials,
//! as `syncdeck schema` does, through the store's describe cache (fresh for a day, shared
//! with the engine) and under the engine's quota guard.

use crate::sanitize::eprintln;
use std::sync::Arc;

use anyhow::Context;

use super::auth::find_source;
use super::fields::FieldsAction;
use crate::config::{self, Paths};
use crate::fields::{PatternSet, Preset};
use crate::model::OrgSchema;
use crate::sync::{LocalError, LocalSource, SystemClock};

/// The org schema for `action` on `source_id`: every object, with fields for the configured
/// objects and those the action names (patterns' objects, a preset's objects).
pub async fn describe_org(
    paths: &Paths,
    source_id: &str,
    action: &FieldsAction,
) -> anyhow::Result<Arc<OrgSchema>> {
    let config = config::load(&paths.config_file)?;
    let source = find_source(&config, source_id)?.clone();
    // This process talks to the org: it is the data dir's only engine meanwhile, so no
    // local engine spends the same budget unseen.
    let local = match LocalSource::open(paths, &source, SystemClock::shared()).await {
        Ok(local) => local,
        Err(LocalError::NotConnected(_)) => anyhow::bail!(
            "no org schema for \"{source_id}\": the source is not authorized yet; run `syncdeck auth {source_id}`, \
             or pass --schema FILE (e.g. the output of `syncdeck schema {source_id} --json`)"
        ),
        Err(e) => return Err(e.into()),
    };
    let schema = describe(&local, action).await;
    if let Err(e) = local.save_usage().await {
        tracing::warn!(source = %source_id, "API usage readings not saved: {e}");
    }
    schema.map(Arc::new)
}

async fn describe(local: &LocalSource, action: &FieldsAction) -> anyhow::Result<OrgSchema> {
    // Objects this org does not have are reported by the action, not described.
    let mut schema = local
        .schema(|bare| objects_named(action, bare))
        .await
        .context("cannot describe the org's objects")?;
    for o in &schema.objects {
        if let Some(e) = &o.load_error {
            eprintln!("note: the fields of {} could not be loaded: {e}", o.name);
        }
    }
    if matches!(action, FieldsAction::List { .. })
        && let Err(e) = local.record_counts(&mut schema).await
    {
        tracing::info!("record counts not read: {e}");
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
