//! `syncdeck config check`, `syncdeck config path` and `syncdeck config init`.

use crate::config::{self, ConfigError, Paths};
use crate::sanitize::{eprintln, println};

/// Validate the configuration; exit 0 when valid, 1 with diagnostics, 2 when missing.
pub fn check(paths: &Paths) -> anyhow::Result<u8> {
    let path = &paths.config_file;
    let config = match config::load(path) {
        Ok(c) => c,
        Err(e @ ConfigError::Missing { .. }) => {
            eprintln!("{e}");
            return Ok(2);
        }
        Err(e @ ConfigError::Invalid { .. }) => {
            eprintln!("{e}");
            if let ConfigError::Invalid { diagnostics, .. } = &e {
                eprintln!(
                    "{} problem{} found; the file was not changed",
                    diagnostics.len(),
                    if diagnostics.len() == 1 { "" } else { "s" }
                );
            }
            return Ok(1);
        }
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    println!("{}: valid", path.display());
    if config.sources.is_empty() {
        println!(
            "no sources configured yet; add a [[source]] table (`syncdeck config init --config OTHER.toml` writes a commented example of every key)"
        );
    }
    for s in &config.sources {
        let host = url::Url::parse(&s.login_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| {
                    format!(
                        "{h}{}",
                        u.port().map(|p| format!(":{p}")).unwrap_or_default()
                    )
                })
            })
            .unwrap_or_else(|| s.login_url.clone());
        let fields: usize = s.objects.values().map(|o| o.fields.len()).sum();
        println!(
            "  {id}  \"{name}\"  login host {host}  every {freq}  quota threshold {thr}%  run cap {run}%  sync {on}  {objs} object{os}, {fields} field{fs}",
            id = s.id,
            name = s.name,
            freq = s.frequency,
            thr = s.quota_threshold_percent,
            run = s.run_quota_percent,
            on = if s.sync_enabled { "on" } else { "off" },
            objs = s.objects.len(),
            os = if s.objects.len() == 1 { "" } else { "s" },
            fs = if fields == 1 { "" } else { "s" },
        );
        println!("      store {}", store_summary(paths, s));
    }
    if let Some(email) = &config.notify.email {
        println!(
            "  notify email via {}:{} to {}",
            email.smtp_host,
            email.smtp_port,
            email.to.join(", ")
        );
    }
    if let Some(webhook) = &config.notify.webhook {
        println!("  notify webhook {}", webhook.url);
    }
    Ok(0)
}

/// Where a source's rows go; a PostgreSQL password variable that is not set is named.
fn store_summary(paths: &Paths, s: &config::SourceConfig) -> String {
    let Some(store) = &s.store else {
        return format!("SQLite {}", paths.store_file(&s.id).display());
    };
    let target = url::Url::parse(&store.url)
        .map(|u| {
            format!(
                "{}@{}{}{}",
                u.username(),
                u.host_str().unwrap_or(""),
                u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                u.path()
            )
        })
        .unwrap_or_else(|_| store.url.clone());
    let password = match &store.password_env {
        None => String::new(),
        Some(var) if std::env::var_os(var).is_some() => format!(", password from ${var}"),
        Some(var) => format!(", password from ${var} (NOT SET in this environment)"),
    };
    format!(
        "PostgreSQL {target} schema {}{password}; `syncdeck store check {}` tests the connection",
        store.schema_for(&s.id),
        s.id
    )
}

/// Write the commented example configuration to the config path; exit 1 if a file is there.
pub fn init(paths: &Paths) -> anyhow::Result<u8> {
    let path = &paths.config_file;
    match config::write_example(path) {
        Ok(()) => {
            println!("wrote the example configuration to {}", path.display());
            println!(
                "next: edit its [[source]] tables (login_url, client_id), then run `syncdeck config check` and `syncdeck auth SOURCE`"
            );
            Ok(0)
        }
        Err(e @ config::InitError::Exists { .. }) => {
            eprintln!("{e}");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn path(paths: &Paths) -> anyhow::Result<u8> {
    println!("config       {}", paths.config_file.display());
    println!("data         {}", paths.data_dir.display());
    println!("credentials  {}", paths.credentials_dir().display());
    println!("stores       {}", paths.sources_dir().display());
    println!("logs         {}", paths.log_file().display());
    Ok(0)
}
