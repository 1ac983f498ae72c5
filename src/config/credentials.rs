//! OAuth credentials per source: `<data dir>/credentials/<source-id>.json`.
//!
//! Kept apart from the hand-edited config so no secret ever lands there. The directory is
//! 0700, each file 0600, and writes are atomic. Tokens are wrapped in [`Secret`], whose
//! `Debug`/`Display` print `***`, so logs and panics cannot leak them.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;
use super::paths::Paths;

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// A token or other secret. Only [`Secret::expose`] reveals it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it (an Authorization header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What an OAuth token response plus the identity call tell us about a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Base URL for REST calls, e.g. `https://acme.my.salesforce.com`.
    pub instance_url: String,
    /// The `id` URL of the token response (`.../id/<org>/<user>`).
    pub identity_url: String,
    pub org_id: String,
    pub user_id: String,
    pub username: String,
    /// When the operator completed authorization.
    pub authorized_at: DateTime<Utc>,
    /// When the current access token was issued (refreshes move it).
    pub issued_at: DateTime<Utc>,
    #[serde(default)]
    pub scope: String,
    /// The login host the tokens came from; a changed login_url means reauthorize.
    pub login_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read credentials file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("credentials file {path} is damaged ({reason}); reauthorize the source to replace it")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot write credentials file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl Credentials {
    /// The stored credentials of `source_id`, or `None` when it was never authorized.
    pub fn load(paths: &Paths, source_id: &str) -> Result<Option<Credentials>, CredentialsError> {
        load_file(&paths.credentials_file(source_id))
    }

    /// Store atomically; creates the credentials directory (0700) and writes the file 0600.
    pub fn save(&self, paths: &Paths, source_id: &str) -> Result<(), CredentialsError> {
        let path = paths.credentials_file(source_id);
        let write_err = |source| CredentialsError::Write {
            path: path.clone(),
            source,
        };
        ensure_private_dir(&paths.credentials_dir()).map_err(write_err)?;
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| write_err(io::Error::other(e.to_string())))?;
        write_atomic(&path, &json, FILE_MODE).map_err(write_err)
    }

    /// Forget the credentials (after revoke or source removal). Absent is fine.
    pub fn delete(paths: &Paths, source_id: &str) -> Result<(), CredentialsError> {
        let path = paths.credentials_file(source_id);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(CredentialsError::Write { path, source: e })
            }
            _ => Ok(()),
        }
    }
}

fn load_file(path: &Path) -> Result<Option<Credentials>, CredentialsError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CredentialsError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| CredentialsError::Corrupt {
            path: path.to_path_buf(),
            // serde_json errors name the position, never echo the input.
            reason: e.to_string(),
        })
}

fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    // An existing directory may be wider than we want; tighten it.
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> Credentials {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        Credentials {
            access_token: Secret::new("00Dxx!AQ.access-secret"),
            refresh_token: Some(Secret::new("5Aep-refresh-secret")),
            instance_url: "https://acme.my.salesforce.com".into(),
            identity_url: "https://login.salesforce.com/id/00Dxx/005xx".into(),
            org_id: "00Dxx".into(),
            user_id: "005xx".into(),
            username: "ops@acme.com".into(),
            authorized_at: t,
            issued_at: t,
            scope: "api refresh_token".into(),
            login_url: "https://login.salesforce.com".into(),
        }
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn saves_private_files_and_round_trips() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        assert_eq!(Credentials::load(&paths, "acme").unwrap(), None);
        let creds = sample();
        creds.save(&paths, "acme").unwrap();
        assert_eq!(mode(&paths.credentials_dir()), 0o700);
        assert_eq!(mode(&paths.credentials_file("acme")), 0o600);
        assert_eq!(
            Credentials::load(&paths, "acme").unwrap(),
            Some(creds.clone())
        );

        // A widened directory is tightened again on the next save.
        fs::set_permissions(paths.credentials_dir(), fs::Permissions::from_mode(0o755)).unwrap();
        creds.save(&paths, "acme").unwrap();
        assert_eq!(mode(&paths.credentials_dir()), 0o700);
        let leftovers: Vec<_> = fs::read_dir(paths.credentials_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("acme.json")]);

        Credentials::delete(&paths, "acme").unwrap();
        assert_eq!(Credentials::load(&paths, "acme").unwrap(), None);
        Credentials::delete(&paths, "acme").unwrap();
    }

    #[test]
    fn debug_and_display_never_show_tokens() {
        let creds = sample();
        let debug = format!("{creds:?}");
        assert!(!debug.contains("access-secret"), "{debug}");
        assert!(!debug.contains("refresh-secret"), "{debug}");
        assert!(debug.contains("Secret(\"***\")"));
        assert_eq!(creds.access_token.to_string(), "***");
        assert_eq!(creds.access_token.expose(), "00Dxx!AQ.access-secret");
    }

    #[test]
    fn corrupt_file_names_the_file_and_the_fix() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        sample().save(&paths, "acme").unwrap();
        fs::write(
            paths.credentials_file("acme"),
            "{\"access_token\": \"tok-secret\", ",
        )
        .unwrap();
        let err = Credentials::load(&paths, "acme").unwrap_err().to_string();
        assert!(err.contains("acme.json"), "{err}");
        assert!(err.contains("reauthorize"), "{err}");
        assert!(!err.contains("tok-secret"), "{err}");
    }
}
