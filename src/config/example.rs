//! `syncdeck config init`: the commented example configuration, built into the binary so an
//! installed syncdeck (which has no source tree) can write it where the config belongs.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The reference configuration: every key, commented, with two example sources.
pub const EXAMPLE: &str = include_str!("../../config/syncdeck.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "{path} already exists and is left as it is; check it with `syncdeck config check`, or pass --config PATH to write the example elsewhere"
    )]
    Exists { path: PathBuf },
    #[error("cannot write the example configuration to {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Write `EXAMPLE` to `path`, creating its directory; never replaces an existing file (the
/// check and the creation are one step, so a file appearing meanwhile is not overwritten).
pub fn write_example(path: &Path) -> Result<(), InitError> {
    let io = |source| InitError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Owner-only: the operator may add webhook URLs with tokens in them later.
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            return Err(InitError::Exists {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io(e)),
    };
    file.write_all(EXAMPLE.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn writes_the_valid_example_into_a_new_directory_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/syncdeck/config.toml");
        write_example(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), EXAMPLE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(crate::config::load(&path).unwrap().sources.len(), 2);
    }

    #[test]
    fn never_overwrites_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "# mine\n").unwrap();
        let err = write_example(&path).unwrap_err();
        assert!(matches!(err, InitError::Exists { .. }));
        assert!(err.to_string().contains("already exists"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    }
}
