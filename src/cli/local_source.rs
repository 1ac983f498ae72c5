//! The source named on the command line, for commands that work on one source.

use crate::config::{Config, Paths, SourceConfig};

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
