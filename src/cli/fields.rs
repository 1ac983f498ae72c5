//! `syncdeck fields SOURCE list|select|deselect|preset`: the scriptable twin of Edit Data
//! Sync, on the same selection model. Writes go through `config::Editor`.

use crate::sanitize::eprintln;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::config::{self, Config, Editor, Paths};
use crate::fields::{
    FieldRef, PatternSet, Preset, Selection, SelectionDiff, badges, is_locked, stage_selection,
};
use crate::model::Command;
use crate::model::{FieldSchema, ObjectSchema, OrgSchema};
use crate::remote::{self, AttachError, Attached};
use crate::sanitize::{clean, clean_text};

#[derive(Debug, Args)]
pub struct FieldsArgs {
    /// Source id, as in the configuration file
    pub source: String,
    /// Read the org schema from this JSON file (e.g. `syncdeck schema SOURCE --json` output)
    /// instead of asking the running daemon or the org
    #[arg(long, value_name = "PATH")]
    pub schema: Option<PathBuf>,
    #[command(subcommand)]
    pub action: FieldsAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum FieldsAction {
    /// List objects and fields with what is selected
    List {
        /// Only selected fields
        #[arg(long)]
        selected: bool,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Select fields: Account.*  *.Name  'Opportunity.*__c'  '!Account.Description'
    Select {
        #[arg(required = true, value_name = "PATTERN")]
        patterns: Vec<String>,
    },
    /// Deselect fields; a `!PATTERN` keeps what it names
    Deselect {
        #[arg(required = true, value_name = "PATTERN")]
        patterns: Vec<String>,
    },
    /// Replace the selection with a data preset (Sales, Marketing, Customer Success,
    /// Partnerships, Minimal)
    Preset {
        name: String,
        /// Print the diff without writing
        #[arg(long)]
        dry_run: bool,
    },
}

/// How long to wait for the daemon to describe the org when it has no schema yet.
const SCHEMA_WAIT: Duration = Duration::from_secs(120);
/// How long to wait for the daemon to take the reload and the detach.
const DETACH_WAIT: Duration = Duration::from_secs(5);

pub fn run(paths: &Paths, args: FieldsArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut out = std::io::stdout().lock();
    runtime.block_on(run_async(paths, &args, &mut out))
}

/// `run` inside a runtime: the schema comes from `--schema`, or from the daemon serving
/// this data dir (which also gets the saved configuration as a reload), or, with no daemon,
/// from the org itself through the stored credentials and the describe cache.
pub async fn run_async(
    paths: &Paths,
    args: &FieldsArgs,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let mut daemon = match remote::attach(&paths.socket_file()).await {
        Ok(attached) => Some(attached),
        Err(AttachError::NotRunning { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let schema = match (&args.schema, &mut daemon) {
        (Some(path), _) => Arc::new(schema_from_file(path)?),
        (None, Some(attached)) => {
            let schema = schema_from_daemon(attached, &args.source).await?;
            describe_named_objects(attached, &args.source, &args.action, schema).await?
        }
        (None, None) => {
            super::fields_offline::describe_org(paths, &args.source, &args.action).await?
        }
    };
    let code = run_with(&paths.config_file, &args.source, &args.action, &schema, out)?;
    if let Some(attached) = daemon {
        let writes = !matches!(
            args.action,
            FieldsAction::List { .. } | FieldsAction::Preset { dry_run: true, .. }
        );
        let reload = if writes {
            Some(config::load(&paths.config_file)?)
        } else {
            None
        };
        detach(attached, reload).await;
    }
    Ok(code)
}

pub(crate) async fn schema_from_daemon(
    attached: &mut Attached,
    source: &str,
) -> anyhow::Result<Arc<OrgSchema>> {
    if let Some(schema) = attached.schemas.fetch(source).await? {
        return Ok(schema);
    }
    if attached.snapshots.borrow().source(source).is_none() {
        bail!("the running daemon has no source \"{source}\"; check the id with `syncdeck status`");
    }
    attached.commands.send(Command::LoadSchema {
        source: source.to_string(),
        force: false,
    })?;
    let waited = tokio::time::timeout(
        SCHEMA_WAIT,
        attached
            .snapshots
            .wait_for(|s| s.source(source).is_some_and(|s| s.schema.is_some())),
    )
    .await
    .with_context(|| {
        format!(
            "the daemon did not describe \"{source}\" within {}s; see `syncdeck status`",
            SCHEMA_WAIT.as_secs()
        )
    })?
    .context("the daemon went away while describing the org")?
    .source(source)
    .and_then(|s| s.schema.clone());
    waited.context("the daemon published no schema")
}

/// Patterns naming objects whose fields the daemon has not described yet: ask it to, and
/// wait for a schema that has them (`*.Name` resolves against described objects only).
async fn describe_named_objects(
    attached: &mut Attached,
    source: &str,
    action: &FieldsAction,
    schema: Arc<OrgSchema>,
) -> anyhow::Result<Arc<OrgSchema>> {
    let (FieldsAction::Select { patterns } | FieldsAction::Deselect { patterns }) = action else {
        return Ok(schema);
    };
    // A bad pattern is reported, with its reason, when the action runs.
    let Ok(set) = PatternSet::parse(patterns) else {
        return Ok(schema);
    };
    describe_objects(attached, source, set.undescribed_objects(&schema), schema).await
}

/// Ask the daemon to describe `objects` (when not yet described) and wait for a schema
/// that has their fields.
pub(crate) async fn describe_objects(
    attached: &mut Attached,
    source: &str,
    objects: Vec<String>,
    schema: Arc<OrgSchema>,
) -> anyhow::Result<Arc<OrgSchema>> {
    if objects.is_empty() {
        return Ok(schema);
    }
    attached.commands.send(Command::DescribeObjects {
        source: source.to_string(),
        objects: objects.clone(),
    })?;
    let described = |s: &crate::model::Snapshot| {
        let schema = s.source(source).and_then(|s| s.schema.as_ref());
        schema.is_some_and(|schema| {
            objects.iter().all(|name| {
                schema
                    .objects
                    .iter()
                    .any(|o| o.name == *name && !o.fields.is_empty())
            })
        })
    };
    let waited = tokio::time::timeout(SCHEMA_WAIT, attached.snapshots.wait_for(described))
        .await
        .with_context(|| {
            format!(
                "the daemon did not describe {} within {}s; see `syncdeck status` for the reason",
                objects.join(", "),
                SCHEMA_WAIT.as_secs()
            )
        })?
        .context("the daemon went away while describing objects")?
        .source(source)
        .and_then(|s| s.schema.clone());
    waited.context("the daemon published no schema")
}

/// Tell the daemon about the saved configuration, then detach once it has the message.
pub(crate) async fn detach(attached: Attached, reload: Option<Config>) {
    let Attached {
        commands,
        mut disconnected,
        ..
    } = attached;
    if let Some(config) = reload {
        let _ = commands.send(Command::Reload(Arc::new(config)));
    }
    let _ = commands.send(Command::Shutdown);
    // Commands go out in order: once detached, the reload has been written.
    let _ = tokio::time::timeout(DETACH_WAIT, disconnected.wait_for(Option::is_some)).await;
}

/// What `--schema FILE` accepts: an org schema, or what `syncdeck schema SOURCE --json`
/// prints (the list of objects, or one object with `--object`).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SchemaFile {
    Org(OrgSchema),
    Objects(Vec<ObjectSchema>),
    Object(ObjectSchema),
}

fn schema_from_file(path: &Path) -> anyhow::Result<OrgSchema> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the schema file {}", path.display()))?;
    let parsed: SchemaFile = serde_json::from_str(&text).map_err(|_| {
        anyhow::anyhow!(
            "{} is not an org schema: expected the JSON that `syncdeck schema SOURCE --json` \
             (objects) or `syncdeck schema SOURCE --object NAME --json` (one object) prints",
            path.display()
        )
    })?;
    let mut schema = match parsed {
        SchemaFile::Org(schema) => schema,
        SchemaFile::Objects(objects) => OrgSchema { objects },
        SchemaFile::Object(object) => OrgSchema {
            objects: vec![object],
        },
    };
    schema.objects.sort_by(|a, b| a.name.cmp(&b.name));
    for o in &mut schema.objects {
        o.fields.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(schema)
}

/// Run `action` for `source` of the config at `config_path` against `schema`, writing the
/// report to `out`. Returns the exit code.
pub fn run_with(
    config_path: &Path,
    source: &str,
    action: &FieldsAction,
    schema: &OrgSchema,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let config = config::load(config_path)?;
    let Some(source_config) = config.source(source) else {
        let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        bail!(
            "no source \"{source}\" in {}; configured: {}",
            config_path.display(),
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        );
    };
    let saved = Selection::from_config(&source_config.objects);
    let (current, missing) = saved.split_missing(schema);
    // Bookkeeping fields are implied by their object, whether the file lists them or not.
    let current = current.normalized(schema);
    match action {
        FieldsAction::List { selected, json } => {
            list(schema, &current, *selected, *json, out)?;
            if !missing.is_empty() {
                eprintln!("{}", missing_note(&missing, "selected but not in this org"));
            }
            Ok(0)
        }
        FieldsAction::Select { patterns } | FieldsAction::Deselect { patterns } => {
            let set = PatternSet::parse(patterns)?;
            let next = if matches!(action, FieldsAction::Select { .. }) {
                set.select(&current, schema)?
            } else {
                set.deselect(&current, schema)?
            };
            let diff = SelectionDiff::between(&current, &next);
            // Fields this org lacks are not ours to drop here: they stay as they were.
            let keep = missing;
            write_selection(config_path, source, &current, &next, &keep)?;
            write!(out, "{}", clean_text(&diff.to_string()))?;
            if !keep.is_empty() {
                writeln!(
                    out,
                    "{}",
                    missing_note(&keep, "kept although not in this org")
                )?;
            }
            Ok(0)
        }
        FieldsAction::Preset { name, dry_run } => {
            let preset = Preset::find(name)?;
            let outcome = preset.apply(schema);
            let diff =
                SelectionDiff::between(&saved, &outcome.selection).with_missing(outcome.missing);
            if !*dry_run {
                write_selection(config_path, source, &saved, &outcome.selection, &[])?;
            }
            writeln!(
                out,
                "{} preset {}:",
                if *dry_run { "Would apply" } else { "Applied" },
                clean(&preset.name)
            )?;
            write!(out, "{}", clean_text(&diff.to_string()))?;
            Ok(0)
        }
    }
}

/// Write `next` over `before` through the Editor; `keep` stays in its objects' lists.
fn write_selection(
    config_path: &Path,
    source: &str,
    before: &Selection,
    next: &Selection,
    keep: &[FieldRef],
) -> anyhow::Result<()> {
    let mut editor = Editor::load(config_path)?;
    if stage_selection(&mut editor, source, before, next, keep)? > 0 {
        editor.save()?;
    }
    Ok(())
}

fn missing_note(missing: &[FieldRef], what: &str) -> String {
    let names: Vec<String> = missing.iter().map(|m| clean(&m.to_string())).collect();
    format!(
        "note: {} field(s) {what}: {}",
        names.len(),
        names.join(", ")
    )
}

#[derive(Serialize)]
struct ObjectListing<'a> {
    object: &'a str,
    label: &'a str,
    record_count: Option<u64>,
    selected: usize,
    /// False until the object is described: `total_fields` and `fields` are then empty.
    fields_loaded: bool,
    total_fields: usize,
    fields: Vec<FieldListing<'a>>,
}

#[derive(Serialize)]
struct FieldListing<'a> {
    #[serde(skip)]
    schema: &'a FieldSchema,
    name: &'a str,
    label: &'a str,
    #[serde(rename = "type")]
    field_type: &'a str,
    selected: bool,
    locked: bool,
    custom: bool,
    formula: bool,
    compound: bool,
    required: bool,
    filterable: bool,
}

fn list(
    schema: &OrgSchema,
    selection: &Selection,
    only_selected: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let listing: Vec<ObjectListing> = schema
        .objects
        .iter()
        .map(|o| {
            let fields: Vec<FieldListing> = o
                .fields
                .iter()
                .map(|f| FieldListing {
                    schema: f,
                    name: &f.name,
                    label: &f.label,
                    field_type: &f.field_type,
                    selected: selection.contains(&o.name, &f.name),
                    locked: is_locked(&f.name),
                    custom: f.custom,
                    formula: f.formula,
                    compound: f.compound,
                    required: f.required,
                    filterable: f.filterable,
                })
                .filter(|f| !only_selected || f.selected)
                .collect();
            ObjectListing {
                object: &o.name,
                label: &o.label,
                record_count: o.record_count,
                selected: selection.fields(&o.name).map_or(0, BTreeSet::len),
                fields_loaded: !o.fields.is_empty(),
                total_fields: o.fields.len(),
                fields,
            }
        })
        .filter(|o| !only_selected || o.selected > 0)
        .collect();
    if json {
        let text = serde_json::to_string_pretty(&listing)?;
        writeln!(out, "{}", crate::sanitize::json(&text))?;
        return Ok(());
    }
    for o in &listing {
        // Without a describe there is no total to count against: say so rather than "5/0".
        let selected = if o.fields_loaded {
            format!("{}/{} selected", o.selected, o.total_fields)
        } else {
            format!("{} selected · fields not loaded", o.selected)
        };
        writeln!(
            out,
            "{}  {}  {selected}{}",
            clean(o.object),
            clean(o.label),
            o.record_count
                .map(|r| format!("  {r} records"))
                .unwrap_or_default()
        )?;
        for f in &o.fields {
            writeln!(
                out,
                "  [{}] {:<32} {:<32} {:<10} {}",
                if f.selected { 'x' } else { ' ' },
                clean(f.name),
                clean(f.label),
                clean(f.field_type),
                badges(f.schema).join(", ")
            )?;
        }
    }
    Ok(())
}
