//! `syncdeck schema SOURCE [--object NAME] [--json]`: the org's objects, or one object's
//! fields with type, label and flags, through the engine's describe cache in the store:
//! fresh for a day, then revalidated with If-Modified-Since.
//! While a daemon runs, the daemon describes the org (its quota guard counts the calls);
//! otherwise this command holds the engine lock and reserves its calls from the source's
//! quota guard, so two processes never spend one org's budget unseen.

use crate::sanitize::{eprintln, println};
use anyhow::Context;

use super::auth::find_source;
use super::fields::{describe_objects, detach, schema_from_daemon};
use crate::config::{self, Paths};
use crate::model::ObjectSchema;
use crate::remote;
use crate::sync::{LocalSource, SystemClock};

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
    runtime.block_on(async {
        let local = LocalSource::open(paths, &source, SystemClock::shared()).await?;
        let shown = show(&local, object, json).await;
        if let Err(e) = local.save_usage().await {
            tracing::warn!(source = %source_id, "API usage readings not saved: {e}");
        }
        shown
    })?;
    Ok(0)
}

async fn show(local: &LocalSource, object: Option<&str>, json: bool) -> anyhow::Result<()> {
    match object {
        None => print_objects(&local.objects().await?, json),
        Some(object) => print_object(&local.object(object).await?, json),
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
