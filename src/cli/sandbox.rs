//! `syncdeck sandbox`: runs a sandbox Salesforce org on loopback until Ctrl-C.

use crate::sanitize::println;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;

use crate::sandbox::{Sandbox, SandboxConfig, SchemaSource};

#[derive(Debug, Args)]
#[command(
    about = "Run a local Salesforce sandbox org (REST API + OAuth) for trying syncdeck without a real org",
    long_about = "Run a local Salesforce sandbox org: it speaks the Salesforce REST data API and OAuth \
(device flow, web-server flow with PKCE, refresh, revoke) on 127.0.0.1 with deterministic generated \
records, a daily API quota, optional live mutations and test controls under /__sandbox/.\n\n\
It prints its base URL, the connected app's client_id and consumer secret (client_secret) and a ready-made [[source]] snippet for config.toml, then runs \
until Ctrl-C. Approve logins at BASE_URL/setup/connect, or pass --auto-approve.",
    after_help = "Examples:\n  syncdeck sandbox --auto-approve\n  syncdeck sandbox --bind 127.0.0.1:8765 --records Account=50000,Contact=120000 --mutate-every 5s\n  syncdeck sandbox --schema-dir ~/recorded-describes   # a folder of describe_*.json files\n  syncdeck sandbox --synthetic-objects 800 --fields-per-object 60"
)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    pub bind: SocketAddr,
    /// Seed of the generated data (same seed, same records)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Records per object, e.g. Account=50000,Contact=120000 (others get 200)
    #[arg(long, value_name = "OBJ=N,...", value_parser = parse_records)]
    pub records: Option<BTreeMap<String, u64>>,
    /// Load the schema from a folder of recorded describe_*.json files instead of the built-in objects
    #[arg(long, value_name = "DIR", conflicts_with = "synthetic_objects")]
    pub schema_dir: Option<PathBuf>,
    /// Generate this many custom objects instead of the built-in ones (scale tests)
    #[arg(long, value_name = "N", requires = "fields_per_object")]
    pub synthetic_objects: Option<usize>,
    /// Fields per synthetic object
    #[arg(long, value_name = "M", requires = "synthetic_objects")]
    pub fields_per_object: Option<usize>,
    /// DailyApiRequests maximum (rolling 24 hours)
    #[arg(long, default_value_t = 15_000, value_name = "CALLS")]
    pub api_max: u64,
    /// Approve logins automatically as the admin user, optionally after a delay (e.g. 3s)
    #[arg(long, value_name = "DELAY", num_args = 0..=1, default_missing_value = "0s", value_parser = parse_duration)]
    pub auto_approve: Option<Duration>,
    /// Update and delete a few random records this often (e.g. 5s, 1m)
    #[arg(long, value_name = "INTERVAL", value_parser = parse_duration)]
    pub mutate_every: Option<Duration>,
    /// Access tokens idle this long expire (clients must refresh)
    #[arg(long, default_value = "2h", value_name = "DURATION", value_parser = parse_duration)]
    pub token_idle_timeout: Duration,
    /// Allow binding to a non-loopback address (the sandbox has no real security)
    #[arg(long)]
    pub allow_remote: bool,
}

fn parse_records(s: &str) -> Result<BTreeMap<String, u64>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("\"{pair}\" is not OBJECT=COUNT (e.g. Account=50000)"))?;
            let n = v
                .trim()
                .replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("\"{v}\" is not a record count in \"{pair}\""))?;
            Ok((k.trim().to_string(), n))
        })
        .collect()
}

/// "250ms", "5s", "2m", "1h" (a bare number means seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("\"{s}\" is not a duration; use e.g. 500ms, 5s, 2m, 1h"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("\"{s}\" has an unknown unit; use ms, s, m or h")),
    })
}

pub fn run(args: SandboxArgs) -> anyhow::Result<u8> {
    if !args.bind.ip().is_loopback() && !args.allow_remote {
        bail!(
            "refusing to listen on {}: not a loopback address; the sandbox has no real security, pass --allow-remote if you mean it",
            args.bind
        );
    }
    let schema = match (
        &args.schema_dir,
        args.synthetic_objects,
        args.fields_per_object,
    ) {
        (Some(dir), _, _) => SchemaSource::Dir(dir.clone()),
        (None, Some(objects), Some(fields_per_object)) => SchemaSource::Synthetic {
            objects,
            fields_per_object,
        },
        _ => SchemaSource::BuiltIn,
    };
    let config = SandboxConfig {
        bind: args.bind,
        seed: args.seed,
        records: args.records.unwrap_or_default(),
        schema,
        api_max: args.api_max,
        auto_approve: args.auto_approve,
        mutate_every: args.mutate_every,
        token_idle_timeout: args.token_idle_timeout,
        allow_remote: args.allow_remote,
        ..SandboxConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let handle = Sandbox::start(config).await?;
        let base = handle.base_url();
        let port = handle.local_addr().port();
        println!("syncdeck sandbox org listening on {base}");
        println!("  client_id:      {}", handle.client_id());
        // Clients that send a consumer secret (Singer taps, simple-salesforce) must send
        // this one; syncdeck itself needs none (device flow, PKCE).
        println!("  client_secret:  {}", handle.client_secret());
        println!(
            "  approve logins: {base}/setup/connect{}",
            if args.auto_approve.is_some() {
                " (auto-approve is on)"
            } else {
                ""
            }
        );
        println!("  controls:       {base}/__sandbox/");
        println!();
        println!("Add this to config.toml (syncdeck config path shows where it lives):");
        println!();
        println!("[[source]]");
        println!("id = \"sandbox-{port}\"");
        println!("name = \"Sandbox org {port}\"");
        println!("kind = \"salesforce\"");
        println!("login_url = \"{base}\"");
        println!("client_id = \"{}\"", handle.client_id());
        println!("frequency = \"15m\"");
        println!();
        println!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")?;
        println!("stopping sandbox org");
        handle.shutdown().await;
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_durations_parse() {
        let r = parse_records("Account=50000, Contact=1_000").unwrap();
        assert_eq!(r["Account"], 50_000);
        assert_eq!(r["Contact"], 1_000);
        assert!(parse_records("Account").is_err());
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("5 parsecs").is_err());
    }
}
