//! What `sync` and `verify` need before they talk to an org without a daemon: the source
//! named on the command line, the data dir's engine lock, its credentials and its store.

use crate::config::{Config, Credentials, Paths, SourceConfig};
use crate::store::Store;
use crate::sync::lock::EngineLock;

/// The configured source `id`, or an error naming the ones that exist.
pub(crate) fn configured(config: &Config, paths: &Paths, id: &str) -> anyhow::Result<SourceConfig> {
    match config.source(id) {
        Some(source) => Ok(source.clone()),
        None => {
            let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
            anyhow::bail!(
                "no source \"{id}\" in {}; configured sources: {}",
                paths.config_file.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )
        }
    }
}

/// The engine lock (held while the returned value lives), the source's credentials and store.
pub(crate) fn open(
    paths: &Paths,
    source: &SourceConfig,
) -> anyhow::Result<(EngineLock, Credentials, Store)> {
    let lock = EngineLock::acquire(&paths.lock_file())?;
    let Some(creds) = Credentials::load(paths, &source.id)? else {
        anyhow::bail!(
            "source \"{}\" is not connected yet; run `syncdeck auth {}` first",
            source.id,
            source.id
        );
    };
    let store = Store::open_for(paths, source)?;
    Ok((lock, creds, store))
}
