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

    /// Store atomically (a new authorization replaces whatever is stored); creates the
    /// credentials directory (0700) and writes the file 0600, under the credentials lock.
    pub fn save(&self, paths: &Paths, source_id: &str) -> Result<(), CredentialsError> {
        let _lock = CredentialsLock::take(paths)?;
        self.write(paths, source_id)
    }

    fn write(&self, paths: &Paths, source_id: &str) -> Result<(), CredentialsError> {
        let path = paths.credentials_file(source_id);
        let write_err = |source| CredentialsError::Write {
            path: path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| write_err(io::Error::other(e.to_string())))?;
        write_atomic(&path, &json, FILE_MODE).map_err(write_err)
    }

    /// Record tokens a refresh returned, unless the stored credentials moved on meanwhile.
    ///
    /// Refreshes run in several processes (the engine, `schema`, `sync`), so this re-reads
    /// the file under the credentials lock and writes only when it still holds the session
    /// that was refreshed: the refresh token used is still the stored one. A reauthorization
    /// or a refresh token rotated by another process is never overwritten by an older copy.
    /// (The check is by token, not by time: `issued_at` comes from the server's clock.)
    /// Returns whether the file was written.
    pub fn record_refresh(
        paths: &Paths,
        source_id: &str,
        refresh: &TokenRefresh<'_>,
    ) -> Result<bool, CredentialsError> {
        let _lock = CredentialsLock::take(paths)?;
        let Some(mut stored) = load_file(&paths.credentials_file(source_id))? else {
            return Ok(false);
        };
        let same_session = stored.refresh_token.as_ref() == Some(refresh.used_refresh_token);
        if !same_session {
            return Ok(false);
        }
        stored.access_token = refresh.access_token.clone();
        if let Some(rotated) = refresh.rotated_refresh_token {
            stored.refresh_token = Some(rotated.clone());
        }
        stored.issued_at = refresh.received_at;
        stored.write(paths, source_id)?;
        Ok(true)
    }

    /// Forget the credentials (after revoke or source removal). Absent is fine.
    pub fn delete(paths: &Paths, source_id: &str) -> Result<(), CredentialsError> {
        let _lock = CredentialsLock::take(paths)?;
        let path = paths.credentials_file(source_id);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(CredentialsError::Write { path, source: e })
            }
            _ => Ok(()),
        }
    }
}

/// What a token refresh returned, and from which refresh token.
#[derive(Debug)]
pub struct TokenRefresh<'a> {
    /// The refresh token the refresh was made with.
    pub used_refresh_token: &'a Secret,
    pub access_token: &'a Secret,
    /// Set only when Salesforce rotated the refresh token.
    pub rotated_refresh_token: Option<&'a Secret>,
    /// When the new access token arrived.
    pub received_at: DateTime<Utc>,
}

/// An exclusive OS lock (`flock`) on the credentials directory, held while one process
/// reads-modifies-writes credentials; released on drop or when the process exits.
struct CredentialsLock {
    _dir: fs::File,
}

impl CredentialsLock {
    fn take(paths: &Paths) -> Result<CredentialsLock, CredentialsError> {
        let dir_path = paths.credentials_dir();
        let lock_err = |source| CredentialsError::Write {
            path: dir_path.clone(),
            source,
        };
        ensure_private_dir(&dir_path).map_err(lock_err)?;
        let dir = fs::File::open(&dir_path).map_err(lock_err)?;
        super::flock::lock_exclusive(&dir).map_err(lock_err)?;
        Ok(CredentialsLock { _dir: dir })
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

    fn refresh_of<'a>(
        used: &'a Secret,
        access: &'a Secret,
        rotated: Option<&'a Secret>,
        received_at: DateTime<Utc>,
    ) -> TokenRefresh<'a> {
        TokenRefresh {
            used_refresh_token: used,
            access_token: access,
            rotated_refresh_token: rotated,
            received_at,
        }
    }

    #[test]
    fn a_refresh_never_overwrites_a_reauthorization() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let loaded_at_start = sample();
        loaded_at_start.save(&paths, "acme").unwrap();
        // Meanwhile the operator reauthorizes, as another user.
        let mut reauthorized = sample();
        reauthorized.refresh_token = Some(Secret::new("new-refresh"));
        reauthorized.access_token = Secret::new("new-access");
        reauthorized.username = "admin@acme.com".into();
        reauthorized.authorized_at = Utc::now();
        reauthorized.issued_at = Utc::now();
        reauthorized.save(&paths, "acme").unwrap();
        // The process that loaded the old copy refreshes with its old refresh token.
        let old_refresh = loaded_at_start.refresh_token.clone().unwrap();
        let written = Credentials::record_refresh(
            &paths,
            "acme",
            &refresh_of(&old_refresh, &Secret::new("stale-access"), None, Utc::now()),
        )
        .unwrap();
        assert!(!written);
        assert_eq!(
            Credentials::load(&paths, "acme").unwrap(),
            Some(reauthorized)
        );
    }

    #[test]
    fn concurrent_rotating_refreshes_of_one_session_save_exactly_one_chain() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        for round in 0..20 {
            let start = sample();
            start.save(&paths, "acme").unwrap();
            let used = start.refresh_token.clone().unwrap();
            // Two clients refresh from the same stored session at once, each getting a
            // rotated refresh token; only one may be recorded, whole.
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let threads: Vec<_> = ["a", "b"]
                .map(|client| {
                    let (paths, used, barrier) = (paths.clone(), used.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        let access = Secret::new(format!("access-{client}-{round}"));
                        let rotated = Secret::new(format!("refresh-{client}-{round}"));
                        barrier.wait();
                        let refresh = refresh_of(&used, &access, Some(&rotated), Utc::now());
                        let written = Credentials::record_refresh(&paths, "acme", &refresh);
                        (client, written.unwrap())
                    })
                })
                .into_iter()
                .collect();
            let results: Vec<(&str, bool)> =
                threads.into_iter().map(|t| t.join().unwrap()).collect();
            let winners: Vec<&str> = results.iter().filter(|r| r.1).map(|r| r.0).collect();
            assert_eq!(winners.len(), 1, "round {round}: {results:?}");
            let stored = Credentials::load(&paths, "acme").unwrap().unwrap();
            let winner = winners[0];
            assert_eq!(
                stored.access_token.expose(),
                format!("access-{winner}-{round}")
            );
            assert_eq!(
                stored.refresh_token.unwrap().expose(),
                format!("refresh-{winner}-{round}")
            );
        }
    }

    #[test]
    fn a_rotated_refresh_token_is_kept_and_an_older_rotation_is_not_written_over_it() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let start = sample();
        start.save(&paths, "acme").unwrap();
        let used = start.refresh_token.clone().unwrap();
        let first = Secret::new("rotated-first");
        let t1 = Utc::now();
        assert!(
            Credentials::record_refresh(
                &paths,
                "acme",
                &refresh_of(&used, &Secret::new("a1"), Some(&first), t1)
            )
            .unwrap()
        );
        // A second client refreshed from the same old token; the file has moved on.
        let late = Secret::new("rotated-late");
        assert!(
            !Credentials::record_refresh(
                &paths,
                "acme",
                &refresh_of(&used, &Secret::new("a2"), Some(&late), t1)
            )
            .unwrap()
        );
        let stored = Credentials::load(&paths, "acme").unwrap().unwrap();
        assert_eq!(stored.refresh_token, Some(first));
        assert_eq!(stored.access_token.expose(), "a1");
    }
}
