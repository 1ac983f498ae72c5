//! Where syncdeck keeps its files. XDG on Linux through `directories`, each overridable.

use std::path::{Path, PathBuf};

/// Resolved locations of every file syncdeck reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The TOML configuration (hand-editable, no secrets).
    pub config_file: PathBuf,
    /// Stores and credentials live under here.
    pub data_dir: PathBuf,
    /// Logs and other state.
    pub state_dir: PathBuf,
    /// Sockets (XDG_RUNTIME_DIR when set, else the state dir).
    pub runtime_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot determine your home directory to place syncdeck's files; pass --config and --data-dir (or set SYNCDECK_CONFIG and SYNCDECK_DATA_DIR)"
)]
pub struct NoHomeDir;

impl Paths {
    /// Resolve from explicit overrides (CLI flags or env), falling back to XDG locations.
    /// With `--data-dir` alone, state goes beside the data so one flag isolates everything.
    pub fn resolve(config: Option<PathBuf>, data_dir: Option<PathBuf>) -> Result<Paths, NoHomeDir> {
        let project = directories::ProjectDirs::from("", "", "syncdeck");
        let config_file = match config {
            Some(p) => p,
            None => project
                .as_ref()
                .ok_or(NoHomeDir)?
                .config_dir()
                .join("config.toml"),
        };
        let (data_dir, state_dir) = match data_dir {
            Some(d) => {
                let state = state_beside(&d);
                (d, state)
            }
            None => {
                let p = project.as_ref().ok_or(NoHomeDir)?;
                let state = p
                    .state_dir()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| p.data_local_dir().join("state"));
                (p.data_dir().to_path_buf(), state)
            }
        };
        let runtime_dir = project
            .as_ref()
            .and_then(|p| p.runtime_dir().map(Path::to_path_buf))
            .filter(|_| !data_dir_is_override(&data_dir, &project))
            .unwrap_or_else(|| state_dir.clone());
        Ok(Paths {
            config_file,
            data_dir,
            state_dir,
            runtime_dir,
        })
    }

    /// Everything in one directory, laid out as `--data-dir ROOT --config ROOT/config.toml`
    /// resolves it (so `syncdeck --data-dir ROOT config path` names the same files): demo
    /// runs and tests.
    pub fn under(root: &Path) -> Paths {
        let state_dir = state_beside(root);
        Paths {
            config_file: root.join("config.toml"),
            data_dir: root.to_path_buf(),
            runtime_dir: state_dir.clone(),
            state_dir,
        }
    }

    pub fn credentials_dir(&self) -> PathBuf {
        self.data_dir.join("credentials")
    }

    pub fn credentials_file(&self, source_id: &str) -> PathBuf {
        self.credentials_dir().join(format!("{source_id}.json"))
    }

    pub fn sources_dir(&self) -> PathBuf {
        self.data_dir.join("sources")
    }

    pub fn store_file(&self, source_id: &str) -> PathBuf {
        self.sources_dir().join(format!("{source_id}.sqlite3"))
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("syncdeck.log")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.data_dir.join("engine.lock")
    }

    pub fn socket_file(&self) -> PathBuf {
        self.runtime_dir.join("syncdeck.sock")
    }
}

/// With a custom data dir, logs and the socket go beside the data.
fn state_beside(data_dir: &Path) -> PathBuf {
    data_dir.join("state")
}

/// A custom data dir gets its own socket beside it, so two data dirs never share a daemon.
fn data_dir_is_override(data_dir: &Path, project: &Option<directories::ProjectDirs>) -> bool {
    project
        .as_ref()
        .map(|p| p.data_dir() != data_dir)
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_state_follows_data_dir() {
        let p = Paths::resolve(Some("/x/c.toml".into()), Some("/d".into())).unwrap();
        assert_eq!(p.config_file, PathBuf::from("/x/c.toml"));
        assert_eq!(
            p.credentials_file("acme"),
            PathBuf::from("/d/credentials/acme.json")
        );
        assert_eq!(
            p.store_file("acme"),
            PathBuf::from("/d/sources/acme.sqlite3")
        );
        assert_eq!(p.state_dir, PathBuf::from("/d/state"));
        assert_eq!(p.socket_file(), PathBuf::from("/d/state/syncdeck.sock"));
    }

    #[test]
    fn a_directory_of_its_own_is_laid_out_as_data_dir_resolves_it() {
        let root = PathBuf::from("/tmp/syncdeck-demo-x");
        let resolved = Paths::resolve(Some(root.join("config.toml")), Some(root.clone())).unwrap();
        assert_eq!(Paths::under(&root), resolved);
        assert_eq!(
            Paths::under(&root).store_file("acme"),
            PathBuf::from("/tmp/syncdeck-demo-x/sources/acme.sqlite3")
        );
    }
}
