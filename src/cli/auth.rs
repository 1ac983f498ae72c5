//! `syncdeck auth SOURCE [--web] [--port N]`: authorize a source interactively, refuse
//! non-admins, store the credentials (0600) and print who authorized.
//! Exit codes: 0 authorized, 3 denied or not an admin, 1 any other failure.

use crate::sanitize::{eprintln, println};
use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

use crate::config::{self, Credentials, Paths, SourceConfig};
use crate::model::{AuthFlow, AuthPrompt, Command};
use crate::remote;
use crate::salesforce::auth::{self, AuthError, Authorization};
use crate::salesforce::{HttpClient, Timeouts};
use crate::tui::widgets::qr::QrCode;

/// How long the operator has to approve before we give up.
const APPROVAL_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Default loopback port of `--web` (the TUI's too).
pub use crate::model::WEB_FLOW_PORT as DEFAULT_WEB_PORT;

pub const EXIT_REFUSED: u8 = 3;

pub fn run(paths: &Paths, source_id: &str, web: bool, port: u16) -> anyhow::Result<u8> {
    let config = config::load(&paths.config_file)?;
    let source = find_source(&config, source_id)?.clone();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match runtime.block_on(remote::attach(&paths.socket_file())) {
        Ok(attached) => {
            let flow = if web {
                AuthFlow::Web { port }
            } else {
                AuthFlow::Device
            };
            return runtime.block_on(via_daemon(attached, &source, flow));
        }
        Err(remote::AttachError::NotRunning { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    match runtime.block_on(authorize(&source, web, port)) {
        Ok(authorization) => {
            store(paths, &source, &authorization)?;
            report(paths, &source, &authorization);
            Ok(0)
        }
        Err(e) if e.is_refusal() => {
            eprintln!("{e}");
            eprintln!("Nothing was stored for {source_id}.");
            Ok(EXIT_REFUSED)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn find_source<'a>(
    config: &'a config::Config,
    id: &str,
) -> anyhow::Result<&'a SourceConfig> {
    config.source(id).ok_or_else(|| {
        let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        anyhow::anyhow!(
            "no source \"{id}\" in the config (known: {}); add a [[source]] with id = \"{id}\"",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    })
}

async fn authorize(
    source: &SourceConfig,
    web: bool,
    port: u16,
) -> Result<Authorization, AuthError> {
    let http =
        HttpClient::new(Timeouts::default()).map_err(|e| AuthError::Callback(e.to_string()))?;
    let login_url = source.login_url.as_str();
    let client_id = source.client_id.as_str();
    let token = if web {
        let flow = auth::start_web_flow(login_url, client_id, port).await?;
        println!(
            "Open this URL in a browser to authorize syncdeck for \"{}\":\n",
            source.name
        );
        println!("  {}\n", flow.authorize_url());
        println!(
            "Salesforce will redirect to {}. Over SSH, forward the port first from your own machine:",
            flow.redirect_uri()
        );
        let port = flow.port();
        println!("  ssh -L {port}:127.0.0.1:{port} <this host>\n");
        println!(
            "Waiting up to {} minutes...",
            APPROVAL_WINDOW.as_secs() / 60
        );
        flow.finish(&http, APPROVAL_WINDOW).await?
    } else {
        let device = auth::start_device_flow(&http, login_url, client_id).await?;
        println!("To authorize syncdeck for \"{}\", open", source.name);
        println!("\n  {}\n", device.verification_uri);
        println!("on any device, sign in as a Salesforce admin, and enter the code\n");
        println!("  {}\n", device.user_code);
        let tty = std::io::stdout().is_terminal();
        if tty {
            print_qr_if_it_fits(&device.verification_uri);
        }
        let token = auth::poll_device_flow(
            &http,
            login_url,
            client_id,
            &device,
            APPROVAL_WINDOW,
            |left| {
                if tty {
                    let secs = left.as_secs();
                    // std's print!: the carriage return is ours, the text only numbers.
                    std::print!(
                        "\rWaiting for approval... {:>2}:{:02} left ",
                        secs / 60,
                        secs % 60
                    );
                    let _ = std::io::stdout().flush();
                }
            },
        )
        .await;
        if tty {
            println!();
        }
        token?
    };
    println!("Authorized; checking the user's permissions...");
    auth::authorize_admin(&http, login_url, client_id, token).await
}

/// A running daemon owns the source's worker, so it runs the flow and takes the new
/// credentials at once; this process only shows the prompts it publishes.
async fn via_daemon(
    mut attached: remote::Attached,
    source: &SourceConfig,
    flow: AuthFlow,
) -> anyhow::Result<u8> {
    eprintln!(
        "authorizing through the daemon (PID {})",
        attached.daemon_pid
    );
    attached.commands.send(Command::Reauthorize {
        source: source.id.clone(),
        flow,
    })?;
    // A finished prompt from an earlier attempt may still be in the first snapshots: only
    // an outcome that follows this attempt's own prompt (or a cleared one) counts.
    let mut started = false;
    let mut shown = None;
    let deadline = tokio::time::Instant::now() + APPROVAL_WINDOW + Duration::from_secs(60);
    loop {
        let prompt = attached
            .snapshots
            .borrow_and_update()
            .source(&source.id)
            .map(|s| s.auth.clone());
        match prompt.flatten() {
            None => started = true,
            Some(p @ (AuthPrompt::Device { .. } | AuthPrompt::Web { .. })) => {
                started = true;
                if shown.as_ref() != Some(&p) {
                    show_prompt(source, &p);
                    shown = Some(p);
                }
            }
            Some(AuthPrompt::Succeeded { username }) if started => {
                println!(
                    "Connected \"{}\" ({}) as {username}.",
                    source.name, source.id
                );
                let _ = attached.commands.send(Command::Shutdown); // detach only
                return Ok(0);
            }
            Some(AuthPrompt::Failed { message, refused }) if started => {
                eprintln!("{message}");
                let _ = attached.commands.send(Command::Shutdown); // detach only
                return Ok(if refused { EXIT_REFUSED } else { 1 });
            }
            Some(_) => {}
        }
        tokio::select! {
            changed = attached.snapshots.changed() => {
                if changed.is_err() {
                    let why = attached.disconnected.borrow().clone();
                    anyhow::bail!("the daemon went away during authorization ({why:?}); run `syncdeck auth {}` again", source.id);
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                anyhow::bail!("no answer from the daemon's authorization in time; run `syncdeck auth {}` again", source.id);
            }
        }
    }
}

fn show_prompt(source: &SourceConfig, prompt: &AuthPrompt) {
    match prompt {
        AuthPrompt::Device {
            verification_uri,
            user_code,
            ..
        } => {
            println!("To authorize syncdeck for \"{}\", open", source.name);
            println!("\n  {verification_uri}\n");
            println!("on any device, sign in as a Salesforce admin, and enter the code\n");
            println!("  {user_code}\n");
            if std::io::stdout().is_terminal() {
                print_qr_if_it_fits(verification_uri);
            }
            println!("Waiting for approval...");
        }
        AuthPrompt::Web { authorize_url } => {
            println!(
                "Open this URL in a browser to authorize syncdeck for \"{}\":\n",
                source.name
            );
            println!("  {authorize_url}\n");
            println!("Waiting for the browser to return to the daemon's loopback listener...");
        }
        AuthPrompt::Succeeded { .. } | AuthPrompt::Failed { .. } => {}
    }
}

/// A phone can scan the verification URL off the screen; printed only when the code fits
/// the terminal, since a wrapped QR code is unreadable and just clutters a small window.
fn print_qr_if_it_fits(url: &str) {
    let Some(code) = QrCode::encode(url.as_bytes()) else {
        return;
    };
    let lines = code.to_lines(2);
    let width = lines.first().map(|l| l.chars().count()).unwrap_or(0) + 2;
    let Ok((cols, rows)) = crossterm::terminal::size() else {
        return;
    };
    if width <= usize::from(cols) && lines.len() + 12 <= usize::from(rows) {
        println!("or scan:\n");
        for line in lines {
            println!("  {line}");
        }
        println!();
    }
}

fn store(paths: &Paths, source: &SourceConfig, a: &Authorization) -> anyhow::Result<()> {
    let now = Utc::now();
    let credentials = Credentials {
        access_token: a.session.access_token.clone(),
        refresh_token: a.session.refresh_token.clone(),
        instance_url: a.session.instance_url.clone(),
        identity_url: a.session.identity_url.clone().unwrap_or_default(),
        org_id: a.identity.organization_id.clone(),
        user_id: a.identity.user_id.clone(),
        username: a.identity.username.clone(),
        authorized_at: now,
        issued_at: a.issued_at,
        scope: a.scope.clone(),
        login_url: source.login_url.clone(),
    };
    credentials.save(paths, &source.id)?;
    Ok(())
}

fn report(paths: &Paths, source: &SourceConfig, a: &Authorization) {
    let yes = |b: bool| if b { "yes" } else { "no" };
    println!("Connected \"{}\" ({}).", source.name, source.id);
    println!(
        "  user          {} ({})",
        a.identity.username, a.identity.user_id
    );
    println!("  org           {}", a.identity.organization_id);
    println!("  instance      {}", a.session.instance_url);
    println!("  API Enabled   {}", yes(a.permissions.api_enabled));
    println!("  View All Data {}", yes(a.permissions.view_all_data));
    println!(
        "  View Setup    {}{}",
        yes(a.permissions.view_setup),
        if a.permissions.view_setup {
            ""
        } else {
            " (API usage is then read from response headers only)"
        }
    );
    if a.session.refresh_token.is_none() {
        println!(
            "  warning: no refresh token was issued; add the refresh_token scope to the connected app or syncs stop when the session expires"
        );
    }
    println!(
        "Credentials saved to {}",
        paths.credentials_file(&source.id).display()
    );
}
