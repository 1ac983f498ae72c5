//! The `syncdeck` binary: parses the command line and dispatches. Logic lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use syncdeck::cli;
use syncdeck::config::Paths;

#[derive(Parser)]
#[command(name = "syncdeck", version, about = "Keep CRM data flowing: a terminal control panel for Salesforce syncs", long_about = None)]
struct Cli {
    /// Configuration file [default: $XDG_CONFIG_HOME/syncdeck/config.toml]
    #[arg(long, global = true, env = "SYNCDECK_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// Directory for stores, credentials and logs [default: $XDG_DATA_HOME/syncdeck]
    #[arg(long, global = true, env = "SYNCDECK_DATA_DIR", value_name = "PATH")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect and validate the configuration file
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Choose the objects and fields a source syncs (list, select, deselect, preset)
    Fields(cli::fields::FieldsArgs),
    /// Authorize a source with Salesforce (device flow; --web for browser + PKCE).
    /// Exit codes: 0 authorized, 3 denied or not an admin, 1 other error
    Auth {
        /// Source id from the config
        source: String,
        /// Use the web-server flow with a loopback redirect instead of the device flow
        #[arg(long)]
        web: bool,
        /// Loopback port for --web (must match the connected app's callback URL)
        #[arg(long, default_value_t = cli::auth::DEFAULT_WEB_PORT)]
        port: u16,
    },
    /// Show a source's objects, or one object's fields with type, label and flags
    Schema {
        /// Source id from the config
        source: String,
        /// Show this object's fields
        #[arg(long, value_name = "NAME")]
        object: Option<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Run one sync of a source in the foreground, with progress and a summary
    Sync {
        /// Source id from the config
        source: String,
        /// Discard cursors and re-read everything
        #[arg(long)]
        full: bool,
        /// Sync only this object
        #[arg(long, value_name = "NAME")]
        object: Option<String>,
    },
    /// Compare the store with the org row by row (Ids); exit 0 exact, 4 differences,
    /// 3 interrupted, 1 error
    Verify(cli::verify::VerifyArgs),
    /// Run every source on its schedule until SIGINT/SIGTERM (SIGHUP reloads the config)
    Daemon,
    /// Show each source's status, last and next run, records and API usage
    Status {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Run a local Salesforce sandbox org (REST API + OAuth) until Ctrl-C
    Sandbox(cli::sandbox::SandboxArgs),
    /// Try syncdeck: the TUI on four sandbox orgs on 127.0.0.1, with a temporary config
    /// and data dir (kept in --data-dir DIR when given)
    Demo,
    /// Check each source's store: for PostgreSQL, connection, login and privileges
    #[command(subcommand)]
    Store(StoreCommand),
    /// Print a shell completion script: `syncdeck completions bash > ~/.local/share/bash-completion/completions/syncdeck`
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `syncdeck man | man -l -`
    Man,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Connect to each source's PostgreSQL store (or SOURCE's) and check the privileges
    /// syncing needs, changing nothing. Exit 0 usable, 1 a problem (printed)
    Check {
        /// Source id from the config; all sources when omitted
        source: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print a summary of each source
    Check,
    /// Print where the config, data, credentials and logs live
    Path,
    /// Write a commented example configuration to the config path (never overwrites)
    Init,
}

fn main() -> ExitCode {
    // Before anything is created: stores, logs, locks and credentials are private.
    syncdeck::config::private::restrict_new_files();
    let cli = Cli::parse();
    let demo_dir = cli.data_dir.clone();
    let paths = match Paths::resolve(cli.config, cli.data_dir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", syncdeck::sanitize::clean_text(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let code = match cli.command {
        Some(Command::Config(ConfigCommand::Check)) => cli::config::check(&paths),
        Some(Command::Config(ConfigCommand::Path)) => cli::config::path(&paths),
        Some(Command::Config(ConfigCommand::Init)) => cli::config::init(&paths),
        Some(Command::Fields(args)) => cli::fields::run(&paths, args),
        Some(Command::Auth { source, web, port }) => cli::auth::run(&paths, &source, web, port),
        Some(Command::Schema {
            source,
            object,
            json,
        }) => cli::schema::run(&paths, &source, object.as_deref(), json),
        Some(Command::Sync {
            source,
            full,
            object,
        }) => cli::sync::sync(
            &paths,
            cli::sync::SyncArgs {
                source,
                full,
                object,
            },
        ),
        Some(Command::Verify(args)) => cli::verify::verify(&paths, args),
        Some(Command::Daemon) => cli::daemon::daemon(&paths),
        Some(Command::Status { json }) => cli::status::status(&paths, json),
        Some(Command::Store(StoreCommand::Check { source })) => {
            cli::store::check(&paths, source.as_deref())
        }
        Some(Command::Sandbox(args)) => cli::sandbox::run(args),
        Some(Command::Demo) => cli::demo::run(demo_dir),
        Some(Command::Completions { shell }) => {
            cli::completions::completions(shell, Cli::command(), &mut std::io::stdout().lock())
        }
        Some(Command::Man) => cli::completions::man(Cli::command(), &mut std::io::stdout().lock()),
        None => cli::tui::run(&paths),
    };
    match code {
        Ok(c) => ExitCode::from(c),
        Err(e) => {
            // Errors quote servers and files: cleaned like every other CLI output.
            eprintln!(
                "error: {}",
                syncdeck::sanitize::clean_text(&format!("{e:#}"))
            );
            ExitCode::from(1)
        }
    }
}
