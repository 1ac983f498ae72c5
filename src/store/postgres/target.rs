//! Where a PostgreSQL store lives: server (from the `[store] url`), password (from the
//! environment variable the config names), TLS mode and schema; and opening a connection.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};

use super::tls::{self, CertCheck};
use super::{Conn, PgError, StoreError, classify, error_chain};
use crate::config::StoreConfig;

/// How TLS is used, from the url's `sslmode`, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `disable`: plain TCP.
    Disable,
    /// `prefer` (the default), `allow`: TLS when the server offers it, certificate unchecked.
    Prefer,
    /// `require`: TLS or no connection, certificate unchecked.
    Require,
    /// `verify-ca`: TLS, the certificate chains to a trusted root.
    VerifyCa,
    /// `verify-full`: TLS, trusted chain and the certificate names the host.
    VerifyFull,
}

impl TlsMode {
    pub fn parse(s: &str) -> Option<TlsMode> {
        match s {
            "disable" => Some(TlsMode::Disable),
            "allow" | "prefer" => Some(TlsMode::Prefer),
            "require" => Some(TlsMode::Require),
            "verify-ca" => Some(TlsMode::VerifyCa),
            "verify-full" => Some(TlsMode::VerifyFull),
            _ => None,
        }
    }

    fn ssl_mode(self) -> SslMode {
        match self {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        }
    }

    fn cert_check(self) -> CertCheck {
        match self {
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => CertCheck::None,
            TlsMode::VerifyCa => CertCheck::Chain,
            TlsMode::VerifyFull => CertCheck::Full,
        }
    }
}

#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    tls: TlsMode,
    schema: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("PgTarget")
            .field("server", &self.display())
            .field("schema", &self.schema)
            .finish()
    }
}

impl PgTarget {
    /// From a source's store configuration; the password comes from the named variable.
    pub fn from_config(source_id: &str, cfg: &StoreConfig) -> Result<PgTarget, PgError> {
        let password = match &cfg.password_env {
            Some(var) => Some(
                std::env::var(var).map_err(|_| PgError::PasswordMissing { var: var.clone() })?,
            ),
            None => None,
        };
        PgTarget::parse(&cfg.url, password, &cfg.schema_for(source_id))
    }

    /// `url` is `postgres://user@host:port/database?sslmode=...`; it must not hold a
    /// password (the config check refuses one; here it is simply replaced).
    pub fn parse(url: &str, password: Option<String>, schema: &str) -> Result<PgTarget, PgError> {
        let (url, tls) = split_sslmode(url)?;
        let mut config =
            tokio_postgres::Config::from_str(&url).map_err(|e| PgError::BadUrl(error_chain(&e)))?;
        if let Some(p) = password {
            config.password(p);
        }
        config
            .ssl_mode(tls.ssl_mode())
            .application_name(application_name(schema))
            .connect_timeout(Duration::from_secs(10))
            .keepalives_idle(Duration::from_secs(60))
            // A peer that vanished (network cut, host down) is noticed within about two
            // minutes instead of the system default's eleven, and the call in progress fails.
            .keepalives_interval(Duration::from_secs(15))
            .keepalives_retries(4);
        Ok(PgTarget {
            config,
            tls,
            schema: schema.to_string(),
        })
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    /// `user@host:port/database`, for messages.
    pub fn display(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "{}@{host}:{port}/{}",
            self.config.get_user().unwrap_or("?"),
            self.config.get_dbname().unwrap_or("?")
        )
    }
}

/// `syncdeck <schema>`: which source a session in `pg_stat_activity` belongs to.
pub fn application_name(schema: &str) -> String {
    let mut name = format!("syncdeck {schema}");
    // PostgreSQL keeps 63 bytes; cut on a character boundary.
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// libpq accepts `verify-ca`/`verify-full`, tokio-postgres only disable/prefer/require:
/// take `sslmode` out of the url and keep it here.
fn split_sslmode(url: &str) -> Result<(String, TlsMode), PgError> {
    let mut parsed = url::Url::parse(url).map_err(|e| PgError::BadUrl(e.to_string()))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(PgError::BadUrl(format!(
            "scheme \"{}\" is not postgres:// or postgresql://",
            parsed.scheme()
        )));
    }
    let mut tls = TlsMode::Prefer;
    let mut kept = Vec::new();
    for (k, v) in parsed.query_pairs() {
        if k == "sslmode" {
            tls = TlsMode::parse(&v).ok_or_else(|| {
                PgError::BadUrl(format!(
                    "sslmode \"{v}\" is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ))
            })?;
        } else {
            kept.push((k.into_owned(), v.into_owned()));
        }
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((parsed.to_string(), tls))
}

/// Open a connection on a fresh current-thread runtime.
pub(super) fn open(target: &PgTarget) -> Result<Conn, StoreError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            StoreError::Postgres(PgError::Db {
                target: target.display(),
                detail: format!("cannot start the connection's runtime: {e}"),
            })
        })?;
    let client = match super::block_on(&rt, connect(target)) {
        Ok(client) => client,
        Err(e) => {
            // Like `Conn`'s drop: the caller may be inside another runtime (the daemon joining
            // a fleet), where dropping a runtime in place panics.
            rt.shutdown_background();
            return Err(e);
        }
    };
    Ok(Conn {
        rt: Some(rt),
        client,
        statements: Default::default(),
    })
}

async fn connect(target: &PgTarget) -> Result<tokio_postgres::Client, StoreError> {
    let connect_err = |e: tokio_postgres::Error| {
        let display = target.display();
        if e.as_db_error().is_some() {
            return StoreError::Postgres(classify(&display, e));
        }
        let detail = crate::sanitize::clean(&error_chain(&e));
        StoreError::Postgres(if detail.contains("password") {
            PgError::AuthFailed {
                target: display,
                detail,
            }
        } else if detail.to_ascii_lowercase().contains("tls") || detail.contains("certificate") {
            PgError::Tls {
                target: display,
                detail,
            }
        } else {
            PgError::Unreachable {
                target: display,
                detail,
            }
        })
    };
    let client = if target.tls == TlsMode::Disable {
        let (client, connection) = target
            .config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(connect_err)?;
        tokio::spawn(drive(connection));
        client
    } else {
        let (client, connection) = target
            .config
            .connect(tls::connector(target.tls.cert_check()).map_err(|e| {
                StoreError::Postgres(PgError::Tls {
                    target: target.display(),
                    detail: e.to_string(),
                })
            })?)
            .await
            .map_err(connect_err)?;
        tokio::spawn(drive(connection));
        client
    };
    Ok(client)
}

/// Poll the connection until it ends; errors surface on the client's next call.
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::debug!("PostgreSQL connection ended: {}", error_chain(&e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_taken_out_and_understood() {
        let (url, tls) = split_sslmode("postgres://u@db:5433/crm?sslmode=verify-full").unwrap();
        assert_eq!(url, "postgres://u@db:5433/crm");
        assert_eq!(tls, TlsMode::VerifyFull);
        let (url, tls) =
            split_sslmode("postgresql://u@db/crm?connect_timeout=3&sslmode=disable").unwrap();
        assert_eq!(url, "postgresql://u@db/crm?connect_timeout=3");
        assert_eq!(tls, TlsMode::Disable);
        assert_eq!(
            split_sslmode("postgres://u@db/crm").unwrap().1,
            TlsMode::Prefer
        );
        assert!(split_sslmode("postgres://u@db/crm?sslmode=sometimes").is_err());
        assert!(split_sslmode("mysql://u@db/crm").is_err());
    }

    #[test]
    fn the_display_names_the_server_never_the_password() {
        let t = PgTarget::parse(
            "postgres://sync@db.internal:6432/crm",
            Some("s3cret".into()),
            "acme",
        )
        .unwrap();
        assert_eq!(t.display(), "sync@db.internal:6432/crm");
        assert!(!format!("{t:?}").contains("s3cret"));
    }
}
