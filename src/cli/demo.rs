//! `syncdeck demo`: the TUI on four sandbox orgs served in-process on 127.0.0.1, with a
//! throwaway config and data dir, so every status shows up within a minute:
//! Acme Corp (Setting Up, then Active with live changes), Globex (paused: Not Syncing),
//! Initech (a tiny daily API quota: Error at the threshold, with its resume time) and
//! Umbrella (Not Connected; Reauthorize is approved by the org after a few seconds).

use crate::sanitize::{eprint, eprintln};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::config::{self, Credentials, Paths};
use crate::model::AuthFlow;
use crate::salesforce::{HttpClient, Timeouts};
use crate::sandbox::{FaultSpec, Sandbox, SandboxConfig, SandboxHandle};
use crate::sync::authorize;

/// First line of every config the demo writes; the demo never overwrites a file without it.
const MARKER: &str = "# syncdeck demo configuration";

/// Initech's daily API allowance and its usage when the demo starts: a few calls short of
/// the 80 % threshold, so its first sync trips the guard.
const INITECH_API_MAX: u64 = 400;
const INITECH_API_USED: u64 = 305;

/// Response time of Acme's org (a real org takes about a second per 2 000-record page):
/// its 50 000 records take about fifteen seconds, long enough to watch Setting Up.
const ACME_PAGE_LATENCY_MS: u64 = 600;

struct Org {
    id: &'static str,
    name: &'static str,
    sandbox: SandboxHandle,
}

/// `dir`: the demo's own directory (`--data-dir`), else a temporary one removed on exit.
pub fn run(dir: Option<PathBuf>) -> anyhow::Result<u8> {
    let root = match dir {
        Some(dir) => DemoDir::kept(dir)?,
        None => DemoDir::temporary()?,
    };
    let paths = Paths::under(root.path());
    if let Some(code) = super::tui::refuse_without_terminal() {
        return Ok(code);
    }
    let log = super::tui::log_to_file(&paths)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Two workers are plenty for four small orgs and the engine; keeps the demo light.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let code = runtime.block_on(demo(&paths));
    drop(log);
    drop(runtime);
    // The TUI has given the terminal back: now it is safe to print.
    eprint!("{}", files_note(&paths, root.remove));
    drop(root);
    code
}

/// Where the demo's files are, said when it ends (and whether they are kept).
fn files_note(paths: &Paths, removed: bool) -> String {
    let dir = paths.data_dir.display();
    let mut note = format!(
        "syncdeck demo files{}:\n  config  {}\n  data    {dir} (stores in {}, credentials in {})\n  log     {}\n",
        if removed { " (removed now)" } else { "" },
        paths.config_file.display(),
        paths.sources_dir().display(),
        paths.credentials_dir().display(),
        paths.log_file().display(),
    );
    if removed {
        note.push_str("keep them next time with `syncdeck demo --data-dir DIR`\n");
    } else {
        note.push_str(&format!(
            "the same files for other commands: `syncdeck --data-dir {dir} --config {} config path`\n",
            paths.config_file.display()
        ));
    }
    note
}

async fn demo(paths: &Paths) -> anyhow::Result<u8> {
    eprintln!(
        "syncdeck demo: starting four sandbox orgs on 127.0.0.1 (files in {})...",
        paths.data_dir.display()
    );
    let orgs = start_orgs().await?;
    let result = prepare_and_run(paths, &orgs).await;
    for org in orgs {
        org.sandbox.shutdown().await;
    }
    result
}

async fn prepare_and_run(paths: &Paths, orgs: &[Org]) -> anyhow::Result<u8> {
    write_config(&paths.config_file, orgs)?;
    let config = Arc::new(config::load(&paths.config_file)?);
    let http = HttpClient::new(Timeouts::default()).context("cannot set up HTTP")?;
    // Umbrella starts without credentials, whatever an earlier demo in this dir left.
    Credentials::delete(paths, "umbrella").context("cannot reset Umbrella's credentials")?;
    let connect = ["acme", "globex", "initech"].map(|id| {
        let http = &http;
        let source = config.source(id).cloned();
        async move {
            let source = source.with_context(|| format!("demo source {id} missing"))?;
            authorize(http, paths, &source, AuthFlow::Device, |_| {})
                .await
                .with_context(|| format!("cannot authorize the demo org {}", source.name))
        }
    });
    for result in futures::future::join_all(connect).await {
        result?;
    }
    if let Some(initech) = orgs.iter().find(|o| o.id == "initech") {
        initech
            .sandbox
            .set_quota(Some(INITECH_API_USED), Some(INITECH_API_MAX));
    }
    if let Some(acme) = orgs.iter().find(|o| o.id == "acme") {
        // Loopback answers a page in milliseconds, so Acme's first sync would be over
        // before the table could show Setting Up; a real org takes about this long.
        acme.sandbox.inject(&FaultSpec {
            latency_ms: Some(ACME_PAGE_LATENCY_MS),
            ..FaultSpec::default()
        });
    }
    super::tui::run_local(paths, config).await
}

async fn start_orgs() -> anyhow::Result<Vec<Org>> {
    let base = |seed: u64| SandboxConfig {
        seed,
        auto_approve: Some(Duration::ZERO),
        device_poll_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    };
    let records = |list: &[(&str, u64)]| list.iter().map(|(o, n)| (o.to_string(), *n)).collect();
    let plans = [
        (
            "acme",
            "Acme Corp",
            SandboxConfig {
                records: records(&[("Account", 20_000), ("Contact", 30_000)]),
                mutate_every: Some(Duration::from_secs(4)),
                ..base(11)
            },
        ),
        (
            "globex",
            "Globex",
            SandboxConfig {
                records: records(&[("Account", 500), ("Opportunity", 800)]),
                ..base(22)
            },
        ),
        (
            "initech",
            "Initech",
            SandboxConfig {
                records: records(&[
                    ("Account", 3_000),
                    ("Contact", 3_000),
                    ("Lead", 3_000),
                    ("Opportunity", 3_000),
                    ("Case", 3_000),
                ]),
                api_max: INITECH_API_MAX,
                ..base(33)
            },
        ),
        (
            "umbrella",
            "Umbrella",
            SandboxConfig {
                records: records(&[("Account", 1_000), ("Contact", 2_000)]),
                // The operator sees the code for a few seconds, then the org approves it.
                auto_approve: Some(Duration::from_secs(6)),
                ..base(44)
            },
        ),
    ];
    let mut orgs = Vec::new();
    for (id, name, config) in plans {
        match Sandbox::start(config).await {
            Ok(sandbox) => orgs.push(Org { id, name, sandbox }),
            Err(e) => {
                for org in orgs {
                    org.sandbox.shutdown().await;
                }
                return Err(e).with_context(|| format!("cannot start the {name} sandbox org"));
            }
        }
    }
    Ok(orgs)
}

fn org<'a>(orgs: &'a [Org], id: &str) -> anyhow::Result<&'a Org> {
    orgs.iter()
        .find(|o| o.id == id)
        .with_context(|| format!("demo org {id} missing"))
}

/// The demo's config, commented like one a person would write.
fn config_text(orgs: &[Org]) -> anyhow::Result<String> {
    let source = |id: &str, extra: &str| -> anyhow::Result<String> {
        let o = org(orgs, id)?;
        Ok(format!(
            "[[source]]\nid = \"{id}\"\nname = \"{name}\"\nlogin_url = \"{url}\" # a sandbox org on this machine\nclient_id = \"{client}\"\n{extra}",
            name = o.name,
            url = o.sandbox.base_url(),
            client = o.sandbox.client_id(),
        ))
    };
    Ok(format!(
        "{MARKER}, written by `syncdeck demo`.\n\
         # Every org below is a sandbox on 127.0.0.1 that lives only while the demo runs.\n\
         # Edit settings in the TUI (s on a row): comments like these survive saves.\n\
         \n\
         {acme}frequency = \"15m\" # records change every few seconds; the next sync shows in the table\n\
         \n\
         [source.objects.Account]\n\
         fields = [\"Name\", \"Industry\", \"AnnualRevenue\", \"NumberOfEmployees\", \"BillingCity\"]\n\
         \n\
         [source.objects.Contact]\n\
         fields = [\"FirstName\", \"LastName\", \"Email\", \"AccountId\"]\n\
         \n\
         {globex}sync_enabled = false # paused by the operator: Not Syncing\n\
         frequency = \"1h\"\n\
         \n\
         [source.objects.Account]\n\
         fields = [\"Name\", \"Industry\"]\n\
         \n\
         [source.objects.Opportunity]\n\
         fields = [\"Name\", \"StageName\", \"Amount\", \"CloseDate\"]\n\
         \n\
         {initech}frequency = \"1h\"\n\
         quota_threshold_percent = 80 # this org allows only {INITECH_API_MAX} API calls a day\n\
         \n\
         [source.objects.Account]\n\
         fields = [\"Name\", \"Industry\"]\n\
         \n\
         [source.objects.Contact]\n\
         fields = [\"FirstName\", \"LastName\", \"Email\"]\n\
         \n\
         [source.objects.Lead]\n\
         fields = [\"FirstName\", \"LastName\", \"Company\", \"Status\"]\n\
         \n\
         [source.objects.Opportunity]\n\
         fields = [\"Name\", \"StageName\", \"Amount\"]\n\
         \n\
         [source.objects.Case]\n\
         fields = [\"Subject\", \"Status\", \"Priority\"]\n\
         \n\
         # Not authorized yet: press a on its row (Reauthorize) to connect it.\n\
         {umbrella}frequency = \"1h\"\n\
         \n\
         [source.objects.Account]\n\
         fields = [\"Name\", \"Industry\"]\n",
        acme = source("acme", "")?,
        globex = source("globex", "")?,
        initech = source("initech", "")?,
        umbrella = source("umbrella", "")?,
    ))
}

fn write_config(path: &Path, orgs: &[Org]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, config_text(orgs)?)
        .with_context(|| format!("cannot write the demo config {}", path.display()))
}

/// The demo's root directory; a temporary one is removed when dropped.
struct DemoDir {
    path: PathBuf,
    remove: bool,
}

impl DemoDir {
    fn temporary() -> anyhow::Result<DemoDir> {
        let path = std::env::temp_dir().join(format!(
            "syncdeck-demo-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot create the demo directory {}", path.display()))?;
        Ok(DemoDir { path, remove: true })
    }

    /// A directory the operator chose; refused if it holds a config the demo did not write.
    fn kept(path: PathBuf) -> anyhow::Result<DemoDir> {
        let config = Paths::under(&path).config_file;
        match std::fs::read_to_string(&config) {
            Ok(text) if !text.starts_with(MARKER) => anyhow::bail!(
                "{} is not a demo configuration; `syncdeck demo --data-dir` needs an empty directory or one an earlier demo used",
                config.display()
            ),
            _ => {}
        }
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create the demo directory {}", path.display()))?;
        Ok(DemoDir {
            path,
            remove: false,
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        if self.remove
            && let Err(e) = std::fs::remove_dir_all(&self.path)
        {
            eprintln!(
                "warning: could not remove the demo directory {}: {e}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_config_is_valid_and_has_four_sources() {
        let orgs = start_orgs().await.unwrap();
        let text = config_text(&orgs).unwrap();
        let config = config::parse_str(&text).unwrap();
        let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["acme", "globex", "initech", "umbrella"]);
        assert!(!config.source("globex").unwrap().sync_enabled);
        assert!(text.starts_with(MARKER));
        for org in orgs {
            org.sandbox.shutdown().await;
        }
    }

    #[test]
    fn a_foreign_config_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "# mine\n").unwrap();
        assert!(DemoDir::kept(dir.path().to_path_buf()).is_err());
        let fresh = tempfile::tempdir().unwrap();
        assert!(DemoDir::kept(fresh.path().to_path_buf()).is_ok());
    }

    #[test]
    fn the_files_note_names_what_config_path_shows_for_the_same_dir() {
        let root = PathBuf::from("/tmp/demo-here");
        let paths = Paths::under(&root);
        let note = files_note(&paths, false);
        assert!(
            note.contains("config  /tmp/demo-here/config.toml"),
            "{note}"
        );
        assert!(note.contains("stores in /tmp/demo-here/sources"), "{note}");
        assert!(
            note.contains("log     /tmp/demo-here/state/syncdeck.log"),
            "{note}"
        );
        assert!(note.contains("--data-dir /tmp/demo-here --config /tmp/demo-here/config.toml"));
        assert!(files_note(&paths, true).contains("(removed now)"));
    }

    #[test]
    fn a_temporary_demo_dir_is_removed_on_drop() {
        let dir = DemoDir::temporary().unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
