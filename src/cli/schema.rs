//! `syncdeck schema SOURCE [--object NAME] [--json]`: the org's objects, or one object's
//! fields with type, label and flags. Describes come from the store's schema cache when
//! fresh (under a day), are revalidated with If-Modified-Since when older, else fetched.

use std::sync::Arc;

use anyhow::Context;
use chrono::{Duration, Utc};

use super::auth::find_source;
use crate::config::{self, Credentials, Paths};
use crate::salesforce::auth::CredentialsWriter;
use crate::salesforce::types::Describe;
use crate::salesforce::{Client, Described, HttpClient, Session, Timeouts};
use crate::store::Store;
use crate::sync::schema::ObjectSchema;

const CACHE_FRESH_FOR: Duration = Duration::days(1);

pub fn run(paths: &Paths, source_id: &str, object: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let source = find_source(&config, source_id)?.clone();
    let credentials = Credentials::load(paths, source_id)?.with_context(|| {
        format!("source \"{source_id}\" is not authorized yet; run `syncdeck auth {source_id}`")
    })?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let http = HttpClient::new(Timeouts::default())?;
        let session = Session::from_credentials(&credentials, &source.client_id);
        let hooks = Arc::new(CredentialsWriter::new(
            paths.clone(),
            source_id,
            credentials,
        ));
        let client = Client::new(http, session, hooks);
        client
            .negotiate_api_version(source.api_version.as_deref())
            .await?;
        match object {
            None => list_objects(&client, json).await,
            Some(object) => {
                let describe = cached_describe(&client, paths, source_id, object).await?;
                print_object(&describe, json)
            }
        }
    })?;
    Ok(0)
}

async fn list_objects(client: &Client, json: bool) -> anyhow::Result<()> {
    let global = client.describe_global().await?;
    let objects = crate::sync::describe_cache::org_schema(&global, &[]).objects;
    if json {
        println!("{}", serde_json::to_string_pretty(&objects)?);
    } else {
        for o in &objects {
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
    paths: &Paths,
    source_id: &str,
    object: &str,
) -> anyhow::Result<Describe> {
    let mut store = Store::open(&paths.store_file(source_id))?;
    let cached = store.get_schema(object)?;
    let now = Utc::now();
    if let Some(c) = &cached {
        if now - c.fetched_at < CACHE_FRESH_FOR {
            if let Ok(describe) = serde_json::from_str(&c.json) {
                return Ok(describe);
            }
        }
    }
    let since = cached.as_ref().map(|c| c.fetched_at);
    match client.describe(object, since).await? {
        Described::Fresh {
            describe,
            last_modified,
        } => {
            let json = serde_json::to_string(&describe)?;
            store.put_schema(object, &json, now, None, last_modified.as_deref())?;
            Ok(*describe)
        }
        Described::NotModified => {
            let c =
                cached.context("Salesforce answered 304 Not Modified without a cached describe")?;
            store.put_schema(
                object,
                &c.json,
                now,
                c.etag.as_deref(),
                c.last_modified.as_deref(),
            )?;
            Ok(serde_json::from_str(&c.json)?)
        }
    }
}

fn print_object(describe: &Describe, json: bool) -> anyhow::Result<()> {
    let fields = crate::sync::describe_cache::object_fields(describe);
    if json {
        let object = ObjectSchema {
            name: describe.name.clone(),
            label: describe.label.clone(),
            custom: describe.custom,
            record_count: None,
            fields,
            load_error: None,
        };
        println!("{}", serde_json::to_string_pretty(&object)?);
        return Ok(());
    }
    println!(
        "{} ({}), {} fields",
        describe.name,
        describe.label,
        fields.len()
    );
    for f in &fields {
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
