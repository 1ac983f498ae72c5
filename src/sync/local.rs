//! The engine for one source inside a command that runs while no daemon does (`syncdeck
//! sync`, `verify`, `schema`, `fields`): the data dir's engine lock, the source's
//! credentials and store, and a client under the same quota guard a worker uses, seeded
//! from the store's newest usage reading. Front ends ask it for a run, a verification or
//! the org's schema; how those are wired exists here once, beside the worker's.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::config::{Credentials, CredentialsError, Paths, SourceConfig};
use crate::model::{ObjectSchema, OrgSchema};
use crate::salesforce::{self, Client, HttpClient, Timeouts};
use crate::store::{Store, StoreError};
use crate::sync::SyncError;
use crate::sync::clock::SharedClock;
use crate::sync::connect::{guarded_client, save_usage};
use crate::sync::describe_cache;
use crate::sync::hooks::EngineHooks;
use crate::sync::lock::{EngineLock, LockError};
use crate::sync::record_counts;
use crate::sync::run::{RunContext, RunObserver, RunReport, RunSpec};
use crate::sync::shared_store::SharedStore;
use crate::sync::stop::StopSignal;
use crate::sync::verify::{VerifyContext, VerifyObserver, VerifyReport, VerifySpec};

/// Why a source cannot be worked on from this process.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("source \"{0}\" is not connected yet; run `syncdeck auth {0}` first")]
    NotConnected(String),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up HTTP: {0}")]
    Http(String),
    #[error("cannot reach the org of \"{id}\": {error}")]
    Unreachable {
        id: String,
        error: salesforce::Error,
    },
}

/// One source, opened for work in this process (see the module comment). The engine lock
/// is held until this is dropped.
pub struct LocalSource {
    source: SourceConfig,
    creds: Credentials,
    store: SharedStore,
    client: Client,
    hooks: Arc<EngineHooks>,
    clock: SharedClock,
    _lock: EngineLock,
}

impl LocalSource {
    /// Take the engine lock, load the credentials and the store, and agree on an API
    /// version with the org (one uncounted call).
    pub async fn open(
        paths: &Paths,
        source: &SourceConfig,
        clock: SharedClock,
    ) -> Result<LocalSource, LocalError> {
        let lock = EngineLock::acquire(&paths.lock_file())?;
        let creds = Credentials::load(paths, &source.id)?
            .ok_or_else(|| LocalError::NotConnected(source.id.clone()))?;
        let store = SharedStore::new(Store::open_for(paths, source)?);
        let http =
            HttpClient::new(Timeouts::default()).map_err(|e| LocalError::Http(e.to_string()))?;
        let (client, hooks) = guarded_client(&http, paths, source, &creds, &store, &clock);
        client
            .negotiate_api_version(source.api_version.as_deref())
            .await
            .map_err(|error| LocalError::Unreachable {
                id: source.id.clone(),
                error,
            })?;
        Ok(LocalSource {
            source: source.clone(),
            creds,
            store,
            client,
            hooks,
            clock,
            _lock: lock,
        })
    }

    /// One run, as a worker runs it; its usage readings and history are stored.
    pub async fn run(
        &self,
        spec: &RunSpec,
        stop: &StopSignal,
        observer: &dyn RunObserver,
    ) -> RunReport {
        let ctx = RunContext {
            source: &self.source,
            client: &self.client,
            hooks: &self.hooks,
            store: &self.store,
            stop,
            clock: &self.clock,
            user_id: Some(self.creds.user_id.as_str()),
            authorized_at: Some(self.creds.authorized_at),
        };
        ctx.execute(spec, observer).await
    }

    /// One verification (and repair), as the daemon's schedule runs it; the result is stored.
    pub async fn verify(
        &self,
        spec: &VerifySpec,
        stop: &StopSignal,
        observer: &dyn VerifyObserver,
    ) -> VerifyReport {
        let ctx = VerifyContext {
            source: &self.source,
            client: &self.client,
            hooks: &self.hooks,
            store: &self.store,
            stop,
            clock: &self.clock,
        };
        ctx.execute(spec, observer).await
    }

    /// Every sync candidate of the org (describeGlobal through the describe cache), with
    /// fields for the selected objects and those `also` picks from the bare object list,
    /// when the org has them. Objects whose fields could not be loaded carry the reason
    /// (`ObjectSchema::load_error`).
    pub async fn schema(
        &self,
        also: impl FnOnce(&OrgSchema) -> Vec<String>,
    ) -> Result<OrgSchema, SyncError> {
        let now = self.clock.now();
        let global = describe_cache::global(&self.client, &self.store, now, false).await?;
        let bare = describe_cache::org_schema(&global, &[]);
        let mut wanted: BTreeSet<String> = self.source.objects.keys().cloned().collect();
        wanted.extend(also(&bare));
        let wanted: Vec<String> = wanted
            .into_iter()
            .filter(|name| bare.objects.iter().any(|o| o.name == *name))
            .collect();
        let results =
            describe_cache::describes(&self.client, &self.store, &wanted, now, false).await?;
        let mut described = Vec::with_capacity(results.len());
        let mut failed = Vec::new();
        for (object, result) in results {
            match result {
                Ok(d) => described.push(d),
                Err(e) => failed.push((object, e.to_string())),
            }
        }
        Ok(describe_cache::with_load_errors(
            &describe_cache::org_schema(&global, &described),
            &failed,
        ))
    }

    /// Fill the record counts of the objects `schema` has fields for (one call).
    pub async fn record_counts(&self, schema: &mut OrgSchema) -> Result<(), salesforce::Error> {
        let objects = schema
            .objects
            .iter()
            .filter(|o| !o.fields.is_empty())
            .map(|o| o.name.clone())
            .collect();
        record_counts::fill(&self.client, schema, objects).await
    }

    /// The org's sync candidates without fields (describeGlobal through the cache).
    pub async fn objects(&self) -> Result<Vec<ObjectSchema>, SyncError> {
        let global =
            describe_cache::global(&self.client, &self.store, self.clock.now(), false).await?;
        Ok(describe_cache::org_schema(&global, &[]).objects)
    }

    /// One object with its fields: the cached describe when fresh, else revalidated with
    /// the org.
    pub async fn object(&self, object: &str) -> Result<ObjectSchema, SyncError> {
        let describe =
            describe_cache::revalidated(&self.client, &self.store, object, self.clock.now())
                .await?;
        Ok(ObjectSchema {
            fields: describe_cache::object_fields(&describe),
            name: describe.name,
            label: describe.label,
            custom: describe.custom,
            record_count: None,
            load_error: None,
        })
    }

    /// Store the usage readings of the calls made since the last save (runs and
    /// verifications store their own; schema work calls this when done).
    pub async fn save_usage(&self) -> Result<(), SyncError> {
        save_usage(&self.hooks, &self.store).await
    }
}
