//! Reauthorize: the device code shown large with a countdown, the web-flow alternative,
//! then success or the exact failure. (No QR code: it would need a QR encoder crate.)

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::sync::{AuthFlow, AuthPrompt};
use crate::tui::app::{App, WEB_FLOW_PORT};
use crate::tui::format;
use crate::tui::screens::{modal, wrap};
use crate::tui::theme::Theme;

const MODAL_WIDTH: u16 = 76;

pub fn render(app: &App, frame: &mut Frame, area: Rect, source: &str, flow: AuthFlow) {
    let theme = &app.theme;
    let snapshot = app.source(source);
    let name = snapshot.map(|s| s.name.as_str()).unwrap_or(source);
    let title = Line::from(Span::styled(
        format!(" Reauthorize · {} ", format::truncate(name, 40)),
        theme.title,
    ));
    let width = area.width.min(MODAL_WIDTH).saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let text = |lines: &mut Vec<Line>, t: &str, style| {
        for l in wrap(t, width) {
            lines.push(Line::from(Span::styled(l, style)));
        }
    };
    match snapshot.and_then(|s| s.auth.as_ref()) {
        None => {
            let what = match flow {
                AuthFlow::Device => "Requesting a device code from Salesforce…",
                AuthFlow::Web { .. } => "Starting the browser sign-in…",
            };
            text(&mut lines, what, theme.label);
        }
        Some(AuthPrompt::Device {
            verification_uri,
            user_code,
            expires_at,
        }) => {
            text(
                &mut lines,
                "1. On any device with a browser, open:",
                theme.label,
            );
            text(&mut lines, verification_uri, theme.big);
            lines.push(Line::default());
            text(
                &mut lines,
                "2. Sign in as a Salesforce admin and enter this code:",
                theme.label,
            );
            lines.extend(big_code(user_code, theme));
            lines.push(Line::default());
            let left = format::countdown(app.now, *expires_at);
            let expired = *expires_at <= app.now;
            let style = if expired { theme.err } else { theme.warn };
            let msg = if expired {
                "The code has expired: press r for a new one.".to_string()
            } else {
                format!("Code expires in {left} · waiting for approval…")
            };
            text(&mut lines, &msg, style);
            text(
                &mut lines,
                &format!(
                    "No second device? Press w to sign in with a browser instead (loopback port {WEB_FLOW_PORT})."
                ),
                theme.dim,
            );
        }
        Some(AuthPrompt::Web { authorize_url }) => {
            text(
                &mut lines,
                "Open this address in a browser on this machine:",
                theme.label,
            );
            text(&mut lines, authorize_url, theme.big);
            lines.push(Line::default());
            text(
                &mut lines,
                &format!(
                    "Over SSH, forward the redirect first: ssh -L {WEB_FLOW_PORT}:127.0.0.1:{WEB_FLOW_PORT} <this host>. Waiting for the browser…"
                ),
                theme.label,
            );
            text(
                &mut lines,
                "Press d to use a device code instead.",
                theme.dim,
            );
        }
        Some(AuthPrompt::Succeeded { username }) => {
            text(
                &mut lines,
                &format!("✓ Authorized as {username}."),
                theme.ok,
            );
            text(
                &mut lines,
                "Syncing continues on schedule. Press enter to close.",
                theme.label,
            );
        }
        Some(AuthPrompt::Failed { message }) => {
            text(&mut lines, "✗ Authorization failed", theme.err);
            text(&mut lines, message, theme.err);
            lines.push(Line::default());
            text(
                &mut lines,
                "Press r to try again, w for the browser flow, d for a device code, esc to close.",
                theme.label,
            );
        }
    }
    let inner = modal(
        frame,
        area,
        MODAL_WIDTH,
        lines.len() as u16 + 2,
        title,
        theme,
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The user code letter-spaced in a double box, so it reads at a glance from across a desk.
fn big_code(code: &str, theme: &Theme) -> Vec<Line<'static>> {
    let spaced: String = code
        .chars()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let w = format::display_width(&spaced) + 4;
    vec![
        Line::from(Span::styled(
            format!("   ╔{}╗", "═".repeat(w)),
            theme.border_focus,
        )),
        Line::from(vec![
            Span::styled("   ║  ", theme.border_focus),
            Span::styled(spaced, theme.big),
            Span::styled("  ║", theme.border_focus),
        ]),
        Line::from(Span::styled(
            format!("   ╚{}╝", "═".repeat(w)),
            theme.border_focus,
        )),
    ]
}
