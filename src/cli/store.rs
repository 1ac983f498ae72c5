//! `syncdeck store check [SOURCE]`: can each source's store be used? For a PostgreSQL
//! destination: connect, log in, and check the privileges syncing needs, changing nothing.

use crate::config::{self, Paths, SourceConfig};
use crate::sanitize::{eprintln, println};
use crate::store::postgres::PgTarget;
use crate::store::postgres::check::{CheckReport, check as check_pg};

/// Exit 0 when every checked store is usable, 1 otherwise.
pub fn check(paths: &Paths, source: Option<&str>) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let sources: Vec<SourceConfig> = match source {
        Some(id) => vec![super::local_source::configured(&config, paths, id)?],
        None => config.sources.clone(),
    };
    if sources.is_empty() {
        println!("no sources configured; add a [[source]] table first");
        return Ok(0);
    }
    let mut failed = 0;
    for s in &sources {
        let Some(store) = &s.store else {
            println!(
                "{}: SQLite {} (embedded, nothing to check)",
                s.id,
                paths.store_file(&s.id).display()
            );
            continue;
        };
        let checked = PgTarget::from_config(&s.id, store)
            .map_err(crate::store::StoreError::from)
            .and_then(|target| check_pg(&target).map(|r| (target, r)));
        match checked {
            Ok((target, report)) => println!("{}: {}", s.id, describe(&target, &report)),
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e}", s.id);
            }
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn describe(target: &PgTarget, r: &CheckReport) -> String {
    let schema = match (r.schema_exists, r.schema_version) {
        (false, _) => format!("schema {} will be created on the first sync", r.schema),
        (true, Some(v)) => format!("schema {} (store version {v})", r.schema),
        (true, None) => format!("schema {} exists (no syncdeck tables yet)", r.schema),
    };
    format!(
        "PostgreSQL {} as {} ({}), server {}; {schema}; privileges OK",
        target.display(),
        r.user,
        if r.tls { "TLS" } else { "no TLS" },
        r.server_version,
    )
}
