use chrono::Utc;

use super::{Secret, Session};
use crate::config::{Credentials, Paths, TokenRefresh};
use crate::salesforce::client::CallHooks;

impl Session {
    /// The session stored credentials describe, for the source's connected app.
    pub fn from_credentials(credentials: &Credentials, client_id: &str) -> Session {
        Session {
            instance_url: credentials.instance_url.trim_end_matches('/').to_string(),
            access_token: credentials.access_token.clone(),
            refresh_token: credentials.refresh_token.clone(),
            login_url: credentials.login_url.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            identity_url: Some(credentials.identity_url.clone()),
        }
    }
}

/// Writes refreshed tokens back to the source's credentials file (0600, atomic), under the
/// credentials lock and only over the session they came from (see
/// [`Credentials::record_refresh`]): a process never saves the copy it loaded at start over
/// a reauthorization or a newer refresh. Use it as the client's hooks, or call
/// `tokens_refreshed` from your own.
#[derive(Debug)]
pub struct CredentialsWriter {
    paths: Paths,
    source_id: String,
}

impl CredentialsWriter {
    pub fn new(paths: Paths, source_id: &str) -> CredentialsWriter {
        CredentialsWriter {
            paths,
            source_id: source_id.to_string(),
        }
    }
}

impl CallHooks for CredentialsWriter {
    fn tokens_refreshed(
        &self,
        used_refresh_token: &Secret,
        access_token: &Secret,
        refresh_token: Option<&Secret>,
    ) {
        let refresh = TokenRefresh {
            used_refresh_token,
            access_token,
            rotated_refresh_token: refresh_token,
            received_at: Utc::now(),
        };
        match Credentials::record_refresh(&self.paths, &self.source_id, &refresh) {
            Ok(true) => {}
            Ok(false) => tracing::info!(
                source = %self.source_id,
                "refreshed token not saved: the stored credentials are newer"
            ),
            Err(e) => {
                tracing::warn!(source = %self.source_id, error = %e, "could not save the refreshed token");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshed_tokens_are_written_back() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        let at = Utc::now() - chrono::Duration::hours(3);
        let stored = Credentials {
            access_token: Secret::new("old-access"),
            refresh_token: Some(Secret::new("refresh")),
            instance_url: "https://acme.my.salesforce.com/".into(),
            identity_url: "https://login.salesforce.com/id/00D/005".into(),
            org_id: "00D".into(),
            user_id: "005".into(),
            username: "ops@acme.com".into(),
            authorized_at: at,
            issued_at: at,
            scope: "api refresh_token".into(),
            login_url: "https://login.salesforce.com".into(),
        };
        let session = Session::from_credentials(&stored, "cid");
        assert_eq!(session.instance_url, "https://acme.my.salesforce.com");
        assert_eq!(
            session.identity_url.as_deref(),
            Some("https://login.salesforce.com/id/00D/005")
        );
        stored.save(&paths, "acme").unwrap();
        let writer = CredentialsWriter::new(paths.clone(), "acme");
        writer.tokens_refreshed(&Secret::new("refresh"), &Secret::new("new-access"), None);
        let saved = Credentials::load(&paths, "acme").unwrap().unwrap();
        assert_eq!(saved.access_token.expose(), "new-access");
        assert_eq!(saved.refresh_token.unwrap().expose(), "refresh");
        assert!(saved.issued_at > at);
        assert_eq!(saved.authorized_at, at);
    }
}
